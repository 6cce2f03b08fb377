/**
 * Command round trip on a real Kafka broker: what one CommandProcessor and one
 * KafkaCommandBus cost over the same request → transaction → reply round trip
 * written in plain kafkajs, measured in the same run. Prints one JSON object.
 *
 *   npm run bench -- kafka-commands
 *
 * Uses KAFKA_BROKERS if set, otherwise starts the project's own broker (and
 * stops it at the end). README.md in this folder says what is measured and how
 * to read the result.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  Admin,
  Consumer,
  ConsumerConfig,
  EachBatchPayload,
  Kafka,
  KafkaConfig,
  KafkaMessage,
  Partitioners,
  Producer,
  ProducerConfig,
  RetryOptions,
  logLevel,
} from 'kafkajs';
// The same stand-in for manual assignment that Tributary uses; the baseline is otherwise plain kafkajs.
import { CommandProcessor, KafkaCommandBus, exactlyPartition } from '@tributary/kafka';
import { checkQuietMachine } from '../quiet-machine';
import { saveResult } from '../results';
import { ThroughputResult, ThroughputSpec, emmettAppends, tributaryThroughput } from './throughput';
import { Account, Deposit, OpenAccount } from '../../packages/kafka/test/support/account';

const PARTITIONS = 6;
/** Scales every command count, e.g. BENCH_SCALE=0.2 for a quick try. */
const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const WARMUP = Math.max(10, Math.round(100 * SCALE));
const CONCURRENCY = 32;
const SPREAD_AGGREGATES = 1_000;
/** The CommandProcessor's default maxCommandsPerTransaction; the baseline chunks its batches the same way. */
const MAX_PER_TRANSACTION = 100;
const COMMAND_TIMEOUT_MS = 30_000;
/** The retry the CommandProcessor gives its transactional producers; the baseline's echo producers get the same. */
const PROCESSOR_PRODUCER_RETRY: RetryOptions = { initialRetryTime: 20, retries: 10 };
/** kafkajs's default first retry delay. */
const KAFKAJS_DEFAULT_RETRY_MS = 300;
/**
 * The first retry delay of the second pass (both systems alike), which takes
 * kafkajs's 300 ms wait after CONCURRENT_TRANSACTIONS out of the picture.
 * BENCH_SHORT_RETRY_MS=off skips that pass.
 */
const SHORT_RETRY_MS = process.env.BENCH_SHORT_RETRY_MS === 'off' ? undefined : Number(process.env.BENCH_SHORT_RETRY_MS ?? '20');

interface ScenarioSpec {
  readonly name: string;
  readonly commands: number;
  readonly concurrency: number;
  /** How many aggregates the commands go to, round robin. */
  readonly aggregates: number;
}

const SCENARIOS: readonly ScenarioSpec[] = [
  { name: 'single aggregate, sequential (1 in flight)', commands: Math.round(1_000 * SCALE), concurrency: 1, aggregates: 1 },
  { name: `single aggregate, ${CONCURRENCY} in flight`, commands: Math.round(3_000 * SCALE), concurrency: CONCURRENCY, aggregates: 1 },
  { name: `${SPREAD_AGGREGATES} aggregates, ${CONCURRENCY} in flight`, commands: Math.round(3_000 * SCALE), concurrency: CONCURRENCY, aggregates: SPREAD_AGGREGATES },
];

// ---------------------------------------------------------------------------
// Probe: watches every kafkajs producer and consumer made in this process, the
// benchmark's and Tributary's alike, through kafkajs's public instrumentation
// events. It counts the broker requests of the system being measured (told
// apart by kafkajs clientId) and, with one command in flight, timestamps the
// steps of each round trip.
// ---------------------------------------------------------------------------

type Role = 'client.producer' | 'client.replies' | 'processor.consumer' | 'processor.producer' | 'other';

interface Timeline {
  start: number;
  produced?: number; // the client's Produce request answered
  fetched?: number; // the processor's consumer starts the command's batch
  sent?: number; // records sent and offsets added, not committed yet
  committed?: number; // EndTxn answered
  replyFetched?: number; // the client's reply consumer starts the reply's batch
  done?: number; // execute resolved
}

type RequestTotals = Map<string, [count: number, durationMs: number, queuedMs: number]>;

class Probe {
  /** kafkajs clientId of the system being measured; nothing is recorded while unset. */
  activeClientId?: string;
  timeline?: Timeline;
  requests: RequestTotals = new Map();

  constructor(private readonly roleOf: (config: { groupId?: string; transactionalId?: string }, kind: 'producer' | 'consumer') => Role) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const probe = this;
    const proto = Kafka.prototype as unknown as {
      producer(config?: ProducerConfig): Producer;
      consumer(config: ConsumerConfig): Consumer;
    };
    const producer = proto.producer;
    const consumer = proto.consumer;
    proto.producer = function (this: Kafka, config?: ProducerConfig) {
      const created = producer.call(this, config);
      probe.watchProducer(created, probe.roleOf(config ?? {}, 'producer'));
      return created;
    };
    proto.consumer = function (this: Kafka, config: ConsumerConfig) {
      const created = consumer.call(this, config);
      probe.watchConsumer(created, probe.roleOf(config, 'consumer'));
      return created;
    };
  }

  mark(field: Exclude<keyof Timeline, 'start'>): void {
    if (this.activeClientId && this.timeline && this.timeline[field] === undefined) this.timeline[field] = performance.now();
  }

  private countRequest(role: Role, payload: { clientId: string; apiName: string; duration: number; pendingDuration: number }): boolean {
    if (payload.clientId !== this.activeClientId || role === 'other') return false;
    const key = `${role} ${payload.apiName}`;
    const entry = this.requests.get(key) ?? [0, 0, 0];
    entry[0] += 1;
    entry[1] += payload.duration;
    entry[2] += payload.pendingDuration;
    this.requests.set(key, entry);
    return true;
  }

  private watchProducer(producer: Producer, role: Role): void {
    producer.on(producer.events.REQUEST, ({ payload }) => {
      if (!this.countRequest(role, payload)) return;
      if (role === 'client.producer' && payload.apiName === 'Produce') this.mark('produced');
      if (role === 'processor.producer' && payload.apiName === 'EndTxn') this.mark('committed');
    });
  }

  private watchConsumer(consumer: Consumer, role: Role): void {
    consumer.on(consumer.events.REQUEST, ({ payload }) => this.countRequest(role, payload));
    // Only the measured system has commands moving, so only its batches arrive.
    consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) return;
      if (role === 'processor.consumer') this.mark('fetched');
      if (role === 'client.replies') this.mark('replyFetched');
    });
  }
}

// ---------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------

interface System {
  readonly label: string;
  /** kafkajs clientId of all of this system's clients. */
  readonly clientId: string;
  /** Transactions committed, the commands in them, and CONCURRENT_TRANSACTIONS answers, since start. */
  readonly transactions: { count: number; commands: number; concurrentRetries: number };
  readonly topics: string[];
  readonly groups: string[];
  start(): Promise<void>;
  /** Makes the aggregates exist. */
  prepare(aggregateIds: readonly string[]): Promise<void>;
  execute(aggregateId: string): Promise<void>;
  stop(): Promise<void>;
}

interface Measured {
  commands: number;
  seconds: number;
  perSecond: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  transactions: number;
  commandsPerTransaction: number;
  /**
   * Broker answers CONCURRENT_TRANSACTIONS (a transaction began while the
   * previous commit's markers were still being written), as kafkajs logs them.
   * kafkajs waits its retry delay before trying again, and the processor's whole
   * fetch loop, every partition, waits with it.
   */
  concurrentTransactionRetries: number;
  /** CPU time of this Node process (client, processor and kafkajs; not the broker) per command, ms. */
  cpuMsPerCommand: number;
  /**
   * CPU time of the broker's JVM per command, ms, when it runs on this machine
   * (read from /proc; includes whatever else uses the broker meanwhile).
   */
  brokerCpuMsPerCommand?: number;
}

interface Breakdown {
  /** Steps of one round trip, medians over the sequential scenario, ms. */
  medianMs?: Record<string, number>;
  /**
   * Broker requests by role and API: how many, per command, mean duration in ms
   * (a Fetch's includes its long-poll wait) and mean ms queued behind another
   * request on the same connection.
   */
  requests: Record<string, { count: number; perCommand: number; meanMs: number; meanQueuedMs: number }>;
}

interface Accumulated {
  seconds: number;
  latencies: number[];
  timelines: Timeline[];
  transactions: number;
  transactionCommands: number;
  concurrentRetries: number;
  cpuMicros: number;
  brokerCpuMs?: number;
  requests: RequestTotals;
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** The broker's JVM, when it runs on this machine. */
let brokerPid: number | undefined;

/** CPU time (user + system) the broker has used so far, ms; undefined if unknown. */
function brokerCpuMs(): number | undefined {
  if (brokerPid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${brokerPid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields, in clock ticks (100 per second on Linux).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Runs `total` calls with `concurrency` in flight; returns the seconds taken. */
async function runLoad(total: number, concurrency: number, call: (index: number) => Promise<void>, latencies?: number[]): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < total) {
      const index = next;
      next += 1;
      const t0 = performance.now();
      await call(index);
      latencies?.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return (performance.now() - started) / 1000;
}

/** One stretch of a scenario on one system, added to what that system has measured so far. */
async function runLeg(system: System, probe: Probe, spec: ScenarioSpec, ids: readonly string[], commands: number, into: Accumulated): Promise<void> {
  const before = { ...system.transactions };
  probe.requests = new Map();
  probe.activeClientId = system.clientId;
  const cpu = process.cpuUsage();
  const brokerCpu = brokerCpuMs();
  try {
    if (spec.concurrency === 1) {
      into.seconds += await runLoad(
        commands,
        1,
        async (index) => {
          const timeline: Timeline = { start: performance.now() };
          probe.timeline = timeline;
          await system.execute(ids[index % ids.length]);
          probe.mark('done');
          into.timelines.push(timeline);
        },
        into.latencies,
      );
    } else {
      into.seconds += await runLoad(commands, spec.concurrency, (index) => system.execute(ids[index % ids.length]), into.latencies);
    }
  } finally {
    probe.activeClientId = undefined;
    probe.timeline = undefined;
  }
  const used = process.cpuUsage(cpu);
  into.cpuMicros += used.user + used.system;
  const brokerCpuAfter = brokerCpuMs();
  if (brokerCpu !== undefined && brokerCpuAfter !== undefined) into.brokerCpuMs = (into.brokerCpuMs ?? 0) + brokerCpuAfter - brokerCpu;
  into.transactions += system.transactions.count - before.count;
  into.transactionCommands += system.transactions.commands - before.commands;
  into.concurrentRetries += system.transactions.concurrentRetries - before.concurrentRetries;
  for (const [key, [count, duration, queued]] of probe.requests) {
    const total = into.requests.get(key) ?? [0, 0, 0];
    into.requests.set(key, [total[0] + count, total[1] + duration, total[2] + queued]);
  }
}

function summarize(spec: ScenarioSpec, acc: Accumulated): { result: Measured; breakdown: Breakdown } {
  const sorted = [...acc.latencies].sort((a, b) => a - b);
  const commands = sorted.length;
  const result: Measured = {
    commands,
    seconds: round(acc.seconds, 3),
    perSecond: Math.round(commands / acc.seconds),
    latencyMs: {
      mean: round(sorted.reduce((sum, value) => sum + value, 0) / commands),
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted[commands - 1]),
    },
    transactions: acc.transactions,
    commandsPerTransaction: round(acc.transactionCommands / Math.max(1, acc.transactions)),
    concurrentTransactionRetries: acc.concurrentRetries,
    cpuMsPerCommand: round(acc.cpuMicros / 1000 / commands, 3),
    ...(acc.brokerCpuMs === undefined ? {} : { brokerCpuMsPerCommand: round(acc.brokerCpuMs / commands, 3) }),
  };
  const requests: Breakdown['requests'] = {};
  for (const [key, [count, duration, queued]] of [...acc.requests].sort(([a], [b]) => a.localeCompare(b))) {
    requests[key] = { count, perCommand: round(count / commands), meanMs: round(duration / count), meanQueuedMs: round(queued / count) };
  }
  if (spec.concurrency !== 1) return { result, breakdown: { requests } };

  const complete = acc.timelines.filter((t) => t.produced && t.fetched && t.sent && t.committed && t.replyFetched && t.done);
  const step = (from: keyof Timeline, to: keyof Timeline) => round(median(complete.map((t) => t[to]! - t[from]!)));
  return {
    result,
    breakdown: {
      medianMs: {
        'send command (Produce, acks=-1)': step('start', 'produced'),
        'until the processor consumer has it (Fetch)': step('produced', 'fetched'),
        'decide + sendBatch + sendOffsets': step('fetched', 'sent'),
        'commit (EndTxn)': step('sent', 'committed'),
        'until the reply consumer has it (Fetch, read_committed)': step('committed', 'replyFetched'),
        'resolve execute': step('replyFetched', 'done'),
        total: step('start', 'done'),
        sampled: complete.length,
      },
      requests,
    },
  };
}

interface ScenarioResult {
  name: string;
  inFlight: number;
  aggregates: number;
  baseline: Measured;
  tributary: Measured;
  ratio: number;
  breakdown: { baseline: Breakdown; tributary: Breakdown };
}

/**
 * Both systems run side by side; each scenario runs in four legs, baseline,
 * Tributary, Tributary, baseline, so drift in the shared broker and machine
 * falls on both alike. The idle system's consumers keep long-polling.
 */
async function runPass(baseline: System, tributary: System, probe: Probe): Promise<ScenarioResult[]> {
  const ids = new Map<System, { single: string[]; spread: string[] }>();
  for (const system of [baseline, tributary]) {
    const single = [`single-${randomUUID()}`];
    const spread = Array.from({ length: SPREAD_AGGREGATES }, (_, index) => `agg-${index}-${randomUUID().slice(0, 8)}`);
    ids.set(system, { single, spread });
    await system.prepare([...single, ...spread]);
    // Warm up: connections, metadata, JIT, every partition's producer.
    await runLoad(WARMUP, 1, () => system.execute(single[0]));
    await runLoad(WARMUP, CONCURRENCY, (index) => system.execute(spread[index % spread.length]));
  }
  const results: ScenarioResult[] = [];
  for (const spec of SCENARIOS) {
    const acc = new Map<System, Accumulated>(
      [baseline, tributary].map((system) => [system, { seconds: 0, latencies: [], timelines: [], transactions: 0, transactionCommands: 0, concurrentRetries: 0, cpuMicros: 0, requests: new Map() }]),
    );
    const halves = [Math.ceil(spec.commands / 2), Math.floor(spec.commands / 2)];
    for (const [leg, system] of [baseline, tributary, tributary, baseline].entries()) {
      const own = ids.get(system)!;
      const half = halves[leg < 2 ? 0 : 1];
      await runLeg(system, probe, spec, spec.aggregates === 1 ? own.single : own.spread, half, acc.get(system)!);
    }
    const b = summarize(spec, acc.get(baseline)!);
    const t = summarize(spec, acc.get(tributary)!);
    results.push({
      name: spec.name,
      inFlight: spec.concurrency,
      aggregates: spec.aggregates,
      baseline: b.result,
      tributary: t.result,
      ratio: round(t.result.perSecond / b.result.perSecond, 3),
      breakdown: { baseline: b.breakdown, tributary: t.breakdown },
    });
  }
  return results;
}

// ---------------------------------------------------------------------------
// Baseline: the same round trip in plain kafkajs, no framework.
// ---------------------------------------------------------------------------


function joinedGroup(consumer: Consumer): Promise<void> {
  return new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
}

/**
 * A client sends a request (idempotent producer); an echo service consumes the
 * requests and, per batch, in one transaction writes an event record and a
 * reply per request and commits its offsets; the client reads the replies
 * read_committed. Settings as Tributary's: 6 partitions, maxWaitTimeInMs 20 and
 * 10, one transactional producer per request partition, max 100 per transaction.
 */
class RawBaseline implements System {
  readonly label = 'plain kafkajs';
  readonly transactions = { count: 0, commands: 0, concurrentRetries: 0 };
  readonly requestsTopic: string;
  readonly repliesTopic: string;
  readonly eventsTopic: string;
  readonly echoGroup: string;
  readonly clientGroup: string;
  private readonly kafka: Kafka;
  private readonly replyKey = `client-${randomUUID()}`;
  private readonly replyPartition = Math.floor(Math.random() * PARTITIONS);
  private queued: Array<{ message: { key: string; value: string; headers: Record<string, string> }; resolve: () => void; reject: (error: unknown) => void }> = [];
  private sending?: Promise<void>;
  private readonly pending = new Map<string, () => void>();
  private readonly echoProducers = new Map<number, Producer>();
  private echoConsumer?: Consumer;
  private clientProducer?: Producer;
  private clientConsumer?: Consumer;

  constructor(
    brokers: string[],
    private readonly admin: Admin,
    readonly base: string,
    readonly clientId: string,
    retry: RetryOptions | undefined,
    private readonly probe: Probe,
  ) {
    this.kafka = new Kafka({ clientId, brokers, ...countingLogs(this.transactions), ...(retry ? { retry } : {}) });
    this.requestsTopic = `${base}.requests`;
    this.repliesTopic = `${base}.replies`;
    this.eventsTopic = `${base}.events`;
    this.echoGroup = `${base}-echo`;
    this.clientGroup = `${base}-client`;
  }

  get topics(): string[] {
    return [this.requestsTopic, this.repliesTopic, this.eventsTopic];
  }

  get groups(): string[] {
    return [this.echoGroup, this.clientGroup];
  }

  async start(): Promise<void> {
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: this.requestsTopic, numPartitions: PARTITIONS, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] },
        {
          topic: this.repliesTopic,
          numPartitions: PARTITIONS,
          configEntries: [
            { name: 'cleanup.policy', value: 'delete' },
            { name: 'retention.ms', value: '3600000' },
          ],
        },
        { topic: this.eventsTopic, numPartitions: PARTITIONS, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      ],
    });

    // Echo service.
    for (let partition = 0; partition < PARTITIONS; partition += 1) {
      const producer = this.kafka.producer({
        transactionalId: `${this.base}-echo-${partition}`,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        transactionTimeout: 30_000,
        createPartitioner: Partitioners.DefaultPartitioner,
        // As the CommandProcessor's transactional producers: see its takeOver.
        retry: PROCESSOR_PRODUCER_RETRY,
      });
      await producer.connect();
      await (await producer.transaction()).abort();
      this.echoProducers.set(partition, producer);
    }
    const echo = this.kafka.consumer({
      groupId: this.echoGroup,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 2_000,
      maxWaitTimeInMs: 20,
    });
    this.echoConsumer = echo;
    const echoJoined = joinedGroup(echo);
    await echo.connect();
    await echo.subscribe({ topic: this.requestsTopic, fromBeginning: true });
    await echo.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatch: (payload) => this.echoBatch(payload),
    });
    await echoJoined;

    // Client.
    this.clientProducer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await this.clientProducer.connect();
    const client = this.kafka.consumer({
      groupId: this.clientGroup,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      partitionAssigners: [exactlyPartition(this.replyPartition)],
      maxWaitTimeInMs: 10,
    });
    this.clientConsumer = client;
    const clientJoined = joinedGroup(client);
    await client.connect();
    await client.subscribe({ topic: this.repliesTopic, fromBeginning: true });
    await client.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (message.key?.toString('utf8') !== this.replyKey || !message.value) return;
        const reply = JSON.parse(message.value.toString('utf8')) as { requestId: string };
        this.pending.get(reply.requestId)?.();
      },
    });
    await clientJoined;
  }

  private async echoBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const producer = this.echoProducers.get(batch.partition)!;
    for (let start = 0; start < batch.messages.length; start += MAX_PER_TRANSACTION) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(start, start + MAX_PER_TRANSACTION);
      const last = chunk[chunk.length - 1].offset;
      const transaction = await producer.transaction();
      try {
        await transaction.sendBatch({
          acks: -1,
          topicMessages: [
            { topic: this.eventsTopic, messages: chunk.map((message) => ({ key: message.key, partition: batch.partition, value: message.value })) },
            { topic: this.repliesTopic, messages: chunk.map((message) => this.replyTo(message)) },
          ],
        });
        await transaction.sendOffsets({
          consumerGroupId: this.echoGroup,
          topics: [{ topic: this.requestsTopic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }],
        });
        this.probe.mark('sent');
        await transaction.commit();
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw error;
      }
      this.transactions.count += 1;
      this.transactions.commands += chunk.length;
      resolveOffset(last);
      await heartbeat();
    }
  }

  private replyTo(message: KafkaMessage) {
    const header = (name: string) => message.headers?.[name]?.toString() ?? '';
    return {
      key: header('reply-to'),
      partition: Number(header('reply-partition')),
      value: JSON.stringify({ requestId: header('request-id'), status: 'ok' }),
    };
  }

  async prepare(): Promise<void> {
    // Nothing to create: the echo answers for any id.
  }

  /**
   * Sends a request; requests made while a send is in flight go together in
   * the next send, as any client with many callers on one idempotent producer
   * (one request in flight) would do, and as KafkaCommandBus does.
   */
  private send(message: { key: string; value: string; headers: Record<string, string> }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ message, resolve, reject });
      this.sending ??= (async () => {
        while (this.queued.length > 0) {
          const batch = this.queued.splice(0);
          try {
            await this.clientProducer!.send({ topic: this.requestsTopic, acks: -1, messages: batch.map((each) => each.message) });
            for (const each of batch) each.resolve();
          } catch (error) {
            for (const each of batch) each.reject(error);
          }
        }
      })().finally(() => (this.sending = undefined));
    });
  }

  async execute(aggregateId: string): Promise<void> {
    const requestId = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const replied = new Promise<void>((resolve, reject) => {
      this.pending.set(requestId, resolve);
      timer = setTimeout(() => reject(new Error(`No reply to ${requestId} within ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS);
    });
    try {
      await this.send({
        key: aggregateId, // kafkajs's DefaultPartitioner: Java's murmur2, as Tributary routes
        value: JSON.stringify({ aggregateId, amount: 1 }),
        headers: { 'request-id': requestId, 'reply-to': this.replyKey, 'reply-partition': String(this.replyPartition) },
      });
      await replied;
    } finally {
      clearTimeout(timer);
      this.pending.delete(requestId);
    }
  }

  async stop(): Promise<void> {
    await this.clientConsumer?.disconnect().catch(() => undefined);
    await this.clientProducer?.disconnect().catch(() => undefined);
    await this.echoConsumer?.disconnect().catch(() => undefined);
    for (const producer of this.echoProducers.values()) await producer.disconnect().catch(() => undefined);
  }
}

/** kafkajs logging that prints nothing and counts the broker's CONCURRENT_TRANSACTIONS answers. */
function countingLogs(into: { concurrentRetries: number }): Pick<KafkaConfig, 'logLevel' | 'logCreator'> {
  return {
    logLevel: logLevel.ERROR,
    logCreator: () => (entry) => {
      if (entry.log.message.startsWith('Response ') && String(entry.log.error).includes('another concurrent operation')) into.concurrentRetries += 1;
    },
  };
}

async function untilOffsetsAnswer(admin: Admin, topic: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await admin.fetchTopicOffsets(topic);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

// ---------------------------------------------------------------------------
// Tributary: one CommandProcessor and one KafkaCommandBus in this process.
// ---------------------------------------------------------------------------

class TributarySystem implements System {
  readonly label = 'tributary';
  readonly transactions = { count: 0, commands: 0, concurrentRetries: 0 };
  readonly processor: CommandProcessor;
  readonly bus: KafkaCommandBus;
  private readonly opened = new Set<string>();

  constructor(
    brokers: string[],
    private readonly admin: Admin,
    readonly app: string,
    readonly clientId: string,
    retry: RetryOptions | undefined,
    probe: Probe,
  ) {
    const options = {
      app,
      brokers,
      aggregates: [Account],
      partitions: PARTITIONS,
      kafkaConfig: { clientId, ...countingLogs(this.transactions), ...(retry ? { retry } : {}) },
    };
    this.processor = new CommandProcessor(options);
    this.bus = new KafkaCommandBus({ ...options, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    this.processor.on('processor.transaction-sent', () => probe.mark('sent'));
    this.processor.on('processor.transaction-committed', ({ commands }) => {
      this.transactions.count += 1;
      this.transactions.commands += commands;
    });
  }

  get topics(): string[] {
    return this.processor.layout.topicsFor(['Account']).map((spec) => spec.name);
  }

  get groups(): string[] {
    return [this.processor.layout.commandGroupId];
  }

  async start(): Promise<void> {
    await this.processor.start(); // creates the topics the bus reads
    // Right after creation a partition can have a leader in the metadata that does
    // not lead yet: KafkaCommandBus.start's fetchTopicOffsets then fails at once
    // with NOT_LEADER_FOR_PARTITION (kafkajs retries only UNKNOWN_TOPIC_OR_PARTITION there).
    await untilOffsetsAnswer(this.admin, this.processor.layout.replies);
    await this.bus.start();
  }

  async prepare(aggregateIds: readonly string[]): Promise<void> {
    const missing = aggregateIds.filter((id) => !this.opened.has(id));
    await runLoad(missing.length, CONCURRENCY, async (index) => {
      await this.bus.execute(new OpenAccount(missing[index], 'bench'));
      this.opened.add(missing[index]);
    });
  }

  async execute(aggregateId: string): Promise<void> {
    await this.bus.execute(new Deposit(aggregateId, 1));
  }

  async stop(): Promise<void> {
    await this.bus.stop();
    await this.processor.stop();
  }
}

// ---------------------------------------------------------------------------

/** Version and pid of the broker, if this run or the project's CLI (`scripts/services/cli.js start`) started it. */
function brokerProcess(brokers: string, started?: { version?: string; pid?: number }): { version: string; pid?: number } {
  if (started?.version) return { version: started.version, pid: started.pid };
  try {
    const state = JSON.parse(readFileSync(join(__dirname, '..', '..', '.services', 'state.json'), 'utf8')) as {
      kafka?: { brokers?: string; version?: string; pid?: number };
    };
    if (state.kafka?.brokers === brokers && state.kafka.version) return { version: state.kafka.version, pid: state.kafka.pid };
  } catch {
    // not started by the project's CLI
  }
  return { version: 'unknown' };
}

/** The throughput scenario: BENCH_THROUGHPUT=off skips it. */
const THROUGHPUT: ThroughputSpec | undefined =
  process.env.BENCH_THROUGHPUT === 'off'
    ? undefined
    : { commands: Math.round(60_000 * SCALE), inFlight: 1_000, aggregates: 10_000, partitions: PARTITIONS, maxPerTransaction: Number(process.env.BENCH_MAX_PER_TRANSACTION ?? '500') };

async function throughput(brokers: string[], runId: string): Promise<{ spec: ThroughputSpec; results: ThroughputResult[] }> {
  const spec = THROUGHPUT!;
  const results = [
    await tributaryThroughput(brokers, spec, 1, brokerPid, runId),
    await tributaryThroughput(brokers, spec, 2, brokerPid, runId),
    await emmettAppends(spec, runId),
  ];
  return { spec, results };
}

async function main(): Promise<void> {
  const loadAverage = checkQuietMachine('kafka-commands');
  const runId = `${process.pid}-${Date.now().toString(36)}`;
  let stopServices: (() => Promise<void>) | undefined;
  let brokersText = process.env.KAFKA_BROKERS;
  let started: { version?: string; pid?: number } | undefined;
  if (!brokersText) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startServices } = require('../../scripts/services') as {
      startServices(options?: { env?: Record<string, string | undefined> }): Promise<{
        kafkaBrokers: string;
        started: { kafka?: { version?: string; pid?: number } };
        stop(): Promise<void>;
      }>;
    };
    // Kafka only: a set SCHEMA_REGISTRY_URL keeps startServices from starting the registry, which this benchmark does not use.
    const services = await startServices({ env: { ...process.env, SCHEMA_REGISTRY_URL: 'unused' } });
    stopServices = services.stop;
    brokersText = services.kafkaBrokers;
    started = services.started.kafka;
  }
  const broker = brokerProcess(brokersText, started);
  brokerPid = broker.pid;
  const brokers = brokersText
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);

  const probe = new Probe((config, kind) => {
    if (kind === 'producer') return config.transactionalId ? 'processor.producer' : 'client.producer';
    const group = config.groupId ?? '';
    if (group.endsWith('-cmd') || group.endsWith('-echo')) return 'processor.consumer';
    if (group.includes('-replies-') || group.endsWith('-client')) return 'client.replies';
    return 'other'; // Tributary's restore consumers
  });

  const admin = new Kafka({ clientId: `bench-admin-${runId}`, brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const startedAt = performance.now();
  const created: System[] = [];
  const pass = async (name: string, retry: RetryOptions | undefined) => {
    const baseline = new RawBaseline(brokers, admin, `bench-raw-${name}-${runId}`, `bench-raw-${name}-${runId}`, retry, probe);
    const tributary = new TributarySystem(brokers, admin, `bench-trib-${name}-${runId}`, `bench-trib-${name}-${runId}`, retry, probe);
    created.push(baseline, tributary);
    try {
      await baseline.start();
      await tributary.start();
      return await runPass(baseline, tributary, probe);
    } finally {
      await tributary.stop();
      await baseline.stop();
    }
  };
  try {
    const defaults = await pass('default', undefined);
    const shortRetry = SHORT_RETRY_MS === undefined ? undefined : await pass('retry', { initialRetryTime: SHORT_RETRY_MS });
    const throughputs = THROUGHPUT ? await throughput(brokers, runId) : undefined;

    const output = {
          benchmark: 'kafka-commands',
          loadAverage,
          node: process.version,
          kafka: broker.version,
          partitions: PARTITIONS,
          warmupCommands: WARMUP,
          kafkajsInitialRetryTimeMs: KAFKAJS_DEFAULT_RETRY_MS,
          scenarios: defaults,
          ...(shortRetry
            ? {
                withShortRetry: {
                  kafkajsInitialRetryTimeMs: SHORT_RETRY_MS,
                  note: "both systems with kafkaConfig.retry.initialRetryTime lowered, so a CONCURRENT_TRANSACTIONS retry waits ~20 ms instead of ~300 ms: the framework's own cost without that stall",
                  scenarios: shortRetry,
                },
              }
            : {}),
          ...(throughputs ? { throughput: throughputs } : {}),
          seconds: round((performance.now() - startedAt) / 1000, 1),
        };
    console.log(JSON.stringify(output, null, 2));
    saveResult('kafka-commands', output, loadAverage);
  } finally {
    // Leave the shared broker as we found it.
    await admin.deleteGroups(created.flatMap((system) => system.groups)).catch(() => undefined);
    await admin.deleteTopics({ topics: created.flatMap((system) => system.topics) }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await stopServices?.();
  }
}

main().then(
  // kafkajs can leave timers behind after disconnect; do not wait for them.
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
