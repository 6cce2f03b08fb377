/**
 * What one child process of the benchmark measures: a baseline read, a bulk
 * replay, or the single loads. Each runs in a process of its own so that its
 * peak RSS is its own.
 */
import { performance } from 'node:perf_hooks';
import {
  EventData,
  EventEnvelope,
  EventStore,
  InMemoryEventStore,
  InMemorySnapshotStore,
  JsonSerializer,
  Rehydrator,
  Serializer,
} from '@tributary/core';
import { AvroSerializer, ConfluentSchemaRegistry } from '@tributary/avro';
import { BulkReplay, CommandProcessor, KafkaCommandBus, KafkaEventStore } from '@tributary/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { DatasetFormat, DatasetSpec, aggregateId, eventCounts } from './dataset';
import { ALL_EVENT_CLASSES, AGGREGATE_TYPE, ChangeLines, ItemAdded, ItemRemoved, LEGACY_EVENT_CLASSES, Order, OrderPlaced, PlaceOrder, UPCASTERS } from './domain';

export type Task =
  | { kind: 'baseline'; spec: DatasetSpec; brokers: string[] }
  | { kind: 'replay'; spec: DatasetSpec; brokers: string[]; registryUrl: string }
  | { kind: 'loads'; app: string; partitions: number; brokers: string[]; events: number; loads: number };

/** Peak and current memory of this process, MB. */
export interface Memory {
  /** process.resourceUsage().maxRSS when the measured work began: Node, ts-node, the modules. */
  readonly rssBeforeMb: number;
  /** process.resourceUsage().maxRSS after it: the process's peak. */
  readonly peakRssMb: number;
  readonly heapUsedAfterMb: number;
}

export interface ReadResult {
  readonly records: number;
  readonly events: number;
  readonly aggregates?: number;
  /** From the end offsets being taken (before connecting) to the last partition reaching them. */
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
  /** From the first batch to the end: the read itself, without connecting and joining the group. */
  readonly readingMs: number;
  readonly memory: Memory;
  /** Aggregates whose replayed version differs from the events written for them (should be 0). */
  readonly wrongVersions?: number;
  readonly cpuMs: number;
}

const mb = (kb: number) => Math.round(kb / 1024);

export function serializerFor(format: DatasetFormat, registryUrl: string): Serializer {
  if (format === 'json') return new JsonSerializer();
  return new AvroSerializer({ registry: new ConfluentSchemaRegistry({ url: registryUrl }), events: ALL_EVENT_CLASSES, upcasters: UPCASTERS });
}

/**
 * Raw kafkajs: one consumer, the same consumer settings as BulkReplay (one
 * throwaway group, read_committed, kafkajs's fetch defaults, maxWaitTimeInMs
 * 50), `eachBatch` counting records and doing nothing else, to the end offsets
 * taken first.
 */
export async function baseline(task: Extract<Task, { kind: 'baseline' }>): Promise<ReadResult> {
  const rssBefore = process.resourceUsage().maxRSS;
  const cpu = process.cpuUsage();
  const kafka = new Kafka({ clientId: `${task.spec.app}-baseline`, brokers: task.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `${task.spec.app}-baseline-${process.pid}-${Date.now()}`;
  const started = performance.now();
  const ends = new Map((await admin.fetchTopicOffsets(task.spec.topic)).map(({ partition, high }) => [partition, BigInt(high) - 1n]));
  for (const [partition, last] of ends) if (last < 0n) ends.delete(partition);
  const consumer = kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false, maxWaitTimeInMs: 50 });
  let records = 0;
  let firstBatchAt = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const last = ends.get(payload.partition);
    if (last !== undefined && BigInt(payload.lastOffset) >= last) ends.delete(payload.partition);
    if (ends.size === 0) finish();
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: task.spec.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (firstBatchAt === 0) firstBatchAt = performance.now();
        records += batch.messages.length;
      },
    });
    await done;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  const ended = performance.now();
  const used = process.cpuUsage(cpu);
  const elapsedMs = ended - started;
  return {
    records,
    events: records,
    elapsedMs: Math.round(elapsedMs),
    eventsPerSecond: Math.round((records * 1000) / elapsedMs),
    readingMs: Math.round(ended - firstBatchAt),
    memory: { rssBeforeMb: mb(rssBefore), peakRssMb: mb(process.resourceUsage().maxRSS), heapUsedAfterMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20) },
    cpuMs: Math.round((used.user + used.system) / 1000),
  };
}

/** BulkReplay of the dataset into in-memory Orders, checked against what was written. */
export async function replay(task: Extract<Task, { kind: 'replay' }>): Promise<ReadResult> {
  const { spec } = task;
  const serializer = serializerFor(spec.format, task.registryUrl);
  const bulk = new BulkReplay({
    brokers: task.brokers,
    app: spec.app,
    partitions: spec.partitions,
    aggregates: [Order],
    serializer,
    ...(spec.format === 'avro-v1' ? { upcasters: UPCASTERS, events: LEGACY_EVENT_CLASSES } : {}),
    kafkaConfig: { clientId: `${spec.app}-replay`, logLevel: logLevel.NOTHING },
  });
  let firstProgressAt = 0;
  let lastProgress = '';
  bulk.on('replay.progress', (progress) => {
    if (firstProgressAt === 0) firstProgressAt = performance.now();
    lastProgress = `${progress.events} events, ${progress.eventsPerSecond} events/s`;
    if (process.env.BENCH_VERBOSE) console.error(`[replay ${spec.format}] ${lastProgress}`);
  });
  const rssBefore = process.resourceUsage().maxRSS;
  const cpu = process.cpuUsage();
  const result = await bulk.run();
  const ended = performance.now();
  const used = process.cpuUsage(cpu);
  const peak = process.resourceUsage().maxRSS;
  const heapUsed = process.memoryUsage().heapUsed;

  // Every aggregate at the version of the events written for it.
  const counts = eventCounts(spec.events, spec.aggregates);
  let wrongVersions = 0;
  for (let index = 0; index < spec.aggregates; index += 1) {
    if (result.get(Order, aggregateId(index))?.version !== counts[index]) wrongVersions += 1;
  }
  return {
    records: result.records,
    events: result.events,
    aggregates: result.aggregates.get(AGGREGATE_TYPE)?.size ?? 0,
    elapsedMs: result.elapsedMs,
    eventsPerSecond: result.eventsPerSecond,
    // The first progress event comes at the first applied record at the earliest; an approximation of the first batch.
    readingMs: firstProgressAt === 0 ? result.elapsedMs : Math.round(ended - Math.min(firstProgressAt, ended)),
    memory: { rssBeforeMb: mb(rssBefore), peakRssMb: mb(peak), heapUsedAfterMb: Math.round(heapUsed / 2 ** 20) },
    wrongVersions,
    cpuMs: Math.round((used.user + used.system) / 1000),
  };
}

// ---- single loads ----

export interface LoadStats {
  readonly name: string;
  readonly what: string;
  readonly loads: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly minMs: number;
}

export interface LoadsResult {
  readonly aggregateId: string;
  readonly events: number;
  /** Seconds to write the aggregate's history through the CommandProcessor, when this run wrote it. */
  readonly builtInSeconds?: number;
  readonly stats: LoadStats[];
}

const LOAD_ID = 'big-order-1';
/** Events per ChangeLines command while building the big aggregate. */
const EVENTS_PER_COMMAND = 100;
const WARMUP_LOADS = 5;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function timeLoads(name: string, what: string, loads: number, load: () => Promise<Order | undefined>, expectedVersion: number): Promise<LoadStats> {
  const times: number[] = [];
  for (let round = 0; round < WARMUP_LOADS + loads; round += 1) {
    const started = performance.now();
    const order = await load();
    const elapsed = performance.now() - started;
    if (order?.version !== expectedVersion) throw new Error(`${name}: loaded version ${order?.version}, expected ${expectedVersion}`);
    if (round >= WARMUP_LOADS) times.push(elapsed);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const round3 = (value: number) => Math.round(value * 1000) / 1000;
  return {
    name,
    what,
    loads,
    p50Ms: round3(percentile(sorted, 50)),
    p99Ms: round3(percentile(sorted, 99)),
    meanMs: round3(times.reduce((sum, time) => sum + time, 0) / times.length),
    minMs: round3(sorted[0]),
  };
}

/**
 * One Order of `events` events, written through a real CommandProcessor (JSON),
 * loaded again and again by the Rehydrator over KafkaEventStore, with and
 * without a snapshot, and, to tell the framework's CPU cost from the broker
 * round trips, over an InMemoryEventStore holding the same events.
 */
export async function singleLoads(task: Extract<Task, { kind: 'loads' }>): Promise<LoadsResult> {
  const options = {
    app: task.app,
    brokers: task.brokers,
    aggregates: [Order],
    partitions: task.partitions,
    kafkaConfig: { clientId: `${task.app}-loads`, logLevel: logLevel.NOTHING },
  };
  const processor = new CommandProcessor(options);
  await processor.start();
  const bus = new KafkaCommandBus(options);
  const store = new KafkaEventStore(options);
  const quiet = () => undefined;
  try {
    await startWithRetry(() => bus.start());
    await startWithRetry(() => store.start());
    const builtInSeconds = await buildBigOrder(bus, task.events);

    const stats: LoadStats[] = [];
    const fromKafka = new Rehydrator({ aggregate: Order, eventStore: store, onWarning: quiet });
    stats.push(
      await timeLoads(
        'kafka, no snapshot',
        `Rehydrator over KafkaEventStore: a load request to the owner, then all ${task.events} events read from the aggregate's first offset in its partition (a throwaway consumer group), decoded and applied`,
        task.loads,
        () => fromKafka.load(LOAD_ID),
        task.events,
      ),
    );

    const latest = new InMemorySnapshotStore();
    const full = (await fromKafka.load(LOAD_ID))!;
    await new Rehydrator({ aggregate: Order, eventStore: store, snapshots: latest, onWarning: quiet }).takeSnapshot(full);
    const withLatest = new Rehydrator({ aggregate: Order, eventStore: store, snapshots: latest, onWarning: quiet });
    stats.push(
      await timeLoads(
        'kafka, snapshot at the last event',
        'Rehydrator over KafkaEventStore + InMemorySnapshotStore holding a snapshot at the newest version: the snapshot, then readStream(from newest + 1), which still asks the owner for the stream version (one command-bus round trip) and reads no events',
        task.loads,
        () => withLatest.load(LOAD_ID),
        task.events,
      ),
    );

    const tail = Math.min(100, task.events - 1);
    const older = new InMemorySnapshotStore();
    const atOlder = (await fromKafka.load(LOAD_ID, { version: task.events - tail }))!;
    await new Rehydrator({ aggregate: Order, eventStore: store, snapshots: older, onWarning: quiet }).takeSnapshot(atOlder);
    const withOlder = new Rehydrator({ aggregate: Order, eventStore: store, snapshots: older, onWarning: quiet });
    stats.push(
      await timeLoads(
        `kafka, snapshot ${tail} events back`,
        `as above with the snapshot at version ${task.events - tail}: readStream(from ${task.events - tail + 1}) reads the partition from the aggregate's first offset, so it reads the whole history and decodes it to return the ${tail}-event tail`,
        task.loads,
        () => withOlder.load(LOAD_ID),
        task.events,
      ),
    );

    // The same events in memory: the framework's own cost, no broker.
    const history = await store.readStream({ aggregateType: AGGREGATE_TYPE, aggregateId: LOAD_ID });
    const memory = new InMemoryEventStore();
    await memory.appendToStream({ aggregateType: AGGREGATE_TYPE, aggregateId: LOAD_ID }, 0, history.map(toNewEvent));
    stats.push(await timeLoads('in memory, no snapshot', `Rehydrator over an InMemoryEventStore holding the same ${task.events} events: instantiate and apply each`, task.loads, () => new Rehydrator({ aggregate: Order, eventStore: memory, onWarning: quiet }).load(LOAD_ID), task.events));
    const memorySnapshots = new InMemorySnapshotStore();
    await memorySnapshots.save((await latest.load(AGGREGATE_TYPE, LOAD_ID))!);
    const memoryWithSnapshot = new Rehydrator({ aggregate: Order, eventStore: memory, snapshots: memorySnapshots, onWarning: quiet });
    stats.push(
      await timeLoads('in memory, snapshot at the last event', 'Rehydrator over an InMemoryEventStore + InMemorySnapshotStore (snapshot at the newest version): snapshot copy, fromSnapshot, an empty tail', task.loads, () => memoryWithSnapshot.load(LOAD_ID), task.events),
    );
    stats.push(
      await timeLoads('KafkaCommandBus.load', "for reference: the owner's in-memory state over one request/reply round trip through Kafka, no Rehydrator", task.loads, () => bus.load(Order, LOAD_ID), task.events),
    );
    return { aggregateId: LOAD_ID, events: task.events, ...(builtInSeconds === undefined ? {} : { builtInSeconds }), stats };
  } finally {
    await store.stop().catch(() => undefined);
    await bus.stop().catch(() => undefined);
    await processor.stop().catch(() => undefined);
  }
}

function toNewEvent(event: EventEnvelope<EventData>) {
  const { aggregateType: _type, aggregateId: _id, sequence: _sequence, ...rest } = event;
  return rest;
}

/** Right after the topics are created a partition may have a leader in the metadata that does not lead yet. */
async function startWithRetry(start: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Writes the big order through the processor unless an earlier run (BENCH_KEEP=1) left it complete. */
async function buildBigOrder(bus: KafkaCommandBus, events: number): Promise<number | undefined> {
  const current = await bus.load(Order, LOAD_ID).catch(() => undefined);
  if (current?.version === events) return undefined;
  if (current) throw new Error(`${LOAD_ID} exists at version ${current.version}, not ${events}: delete the topics of the loads app (or run without BENCH_KEEP)`);
  const started = performance.now();
  await bus.execute(
    new PlaceOrder(LOAD_ID, new OrderPlaced(LOAD_ID, 'customer-000042-eu-west-retail', 'web', 'EUR', 'Hauptstraße 1, 10115 Berlin, Germany, floor 3, door B')),
  );
  for (let sequence = 2; sequence <= events; sequence += EVENTS_PER_COMMAND) {
    const changes: Array<{ added?: ItemAdded; removed?: ItemRemoved }> = [];
    for (let at = sequence; at < Math.min(events + 1, sequence + EVENTS_PER_COMMAND); at += 1) {
      const product = at % 40;
      const sku = `SKU-${String(product).padStart(6, '0')}-M`;
      changes.push(
        at % 5 === 0
          ? { removed: new ItemRemoved(sku, 'customer changed their mind before checkout and chose a different size of the same product line') }
          : { added: new ItemAdded(sku, 'Organic cotton t-shirt, black, size M, fair-trade certified, ships in 2 days', 1 + (at % 3), 499 + product * 125, 'EUR') },
      );
    }
    await bus.execute(new ChangeLines(LOAD_ID, changes));
  }
  return Math.round((performance.now() - started) / 100) / 10;
}
