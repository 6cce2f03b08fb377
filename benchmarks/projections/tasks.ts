/**
 * What one child process of the benchmark measures: the raw kafkajs baseline
 * and BulkReplay (the replay benchmark's own tasks, on this benchmark's
 * topic), or a ProjectionRunner into one store, from start until the store's
 * offsets reach the end offsets of every partition, then checked row by row.
 */
import { performance } from 'node:perf_hooks';
import { InMemoryReadModelStore, ReadModelStore, liveSlot } from '@tributary/core';
import { ProjectionDefinition, ProjectionRunner } from '@tributary/projections';
import { Kafka, logLevel } from 'kafkajs';
import { DatasetSpec } from '../replay/dataset';
import { Order } from '../replay/domain';
import { ReadResult, baseline, replay } from '../replay/tasks';
import { OrderSummary, Verification, expectedSummaries, verify } from './dataset';
import { HandlerCalls, createTableSql, inMemoryOrderSummary, postgresOrderSummary, readInMemory, readPostgres, readRedis, redisOrderSummary } from './order-summary';

export type StoreKind = 'memory' | 'postgres' | 'redis';

export interface RunnerTask {
  readonly kind: 'runner';
  readonly spec: DatasetSpec;
  readonly brokers: string[];
  readonly store: StoreKind;
  readonly batchSize: number;
  readonly concurrency: number;
  /** Unique to the benchmark run: names the projection, its table or key prefix. */
  readonly runId: string;
  readonly postgresUrl: string;
  readonly redisUrl: string;
  /** Longest the runner may take to reach the end offsets. */
  readonly timeoutMs: number;
}

export type Task = { kind: 'baseline'; spec: DatasetSpec; brokers: string[] } | { kind: 'replay'; spec: DatasetSpec; brokers: string[]; registryUrl: string } | RunnerTask;

export interface Distribution {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly max: number;
}

export interface RunnerResult {
  readonly store: StoreKind;
  readonly projection: string;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly events: number;
  /** From `runner.start()` (connecting, preparing the store, creating the dead-letter topic, joining the group included) to the last partition's stored offset reaching its end offset. */
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
  /** From `start()` to the first commit. */
  readonly startupMs: number;
  /** From the first commit to the end: the rate once reading (the first commit's events left out). */
  readonly readingMs: number;
  readonly readingEventsPerSecond: number;
  readonly commits: number;
  /** Handler calls per event committed: 1 unless the store ran a batch's work again (the Redis store does after a WATCH conflict). */
  readonly handlerCallsPerEvent: number;
  /** Events per committed transaction (at most batchSize; a fetch's last chunk is smaller). */
  readonly eventsPerCommit: Distribution;
  /** `durationMs` of the 'projection.committed' events: store.commit, handlers included. */
  readonly commitLatencyMs: Distribution;
  /** Events of the runner besides commits: all should be 0. */
  readonly conflicts: number;
  readonly retries: number;
  readonly deadLettered: number;
  /** The stored offsets equal the end offsets in every partition. */
  readonly offsetsAtEnd: boolean;
  readonly verification: Verification;
  readonly verifyMs: number;
  readonly memory: { rssBeforeMb: number; peakRssMb: number };
  readonly cpuMs: number;
}

const mb = (kb: number) => Math.round(kb / 1024);
/** Store kinds in the names of projections and tables. */
const SHORT: Record<StoreKind, string> = { memory: 'mem', postgres: 'pg', redis: 'redis' };

export async function runTask(task: Task): Promise<ReadResult | RunnerResult> {
  if (task.kind === 'baseline') return baseline(task);
  if (task.kind === 'replay') return replay(task);
  return runner(task);
}

/** The projection's name in a leg: unique to the run, so groups, dead-letter topics, offsets and keys never mix. */
export function projectionName(task: Pick<RunnerTask, 'store' | 'concurrency' | 'runId'>): string {
  return `bench-order-summary-${SHORT[task.store]}-c${task.concurrency}-${task.runId}`;
}

/** What the names of the run's PostgreSQL tables begin with. */
export function tablePrefix(runId: string): string {
  return `bench_order_summary_${runId.replace(/[^a-z0-9]/g, '_')}`;
}

/** The PostgreSQL table of a leg. */
export function tableName(task: Pick<RunnerTask, 'concurrency' | 'runId'>): string {
  return `${tablePrefix(task.runId)}_c${task.concurrency}`;
}

/** The Redis prefix of the run's keys. */
export function redisPrefix(runId: string): string {
  return `bench-projections-${runId}`;
}

/** One store, its projection, how to read it back, and how to remove what the leg made. */
interface Leg<W> {
  readonly store: ReadModelStore<W>;
  readonly projection: ProjectionDefinition<W>;
  read(): Promise<Map<string, OrderSummary>>;
  cleanUp(): Promise<void>;
}

async function legFor(task: RunnerTask, name: string, counter: HandlerCalls): Promise<Leg<unknown>> {
  if (task.store === 'memory') {
    const store = new InMemoryReadModelStore();
    return { store, projection: inMemoryOrderSummary(name, counter) as ProjectionDefinition<unknown>, read: async () => readInMemory(store, name), cleanUp: async () => undefined };
  }
  if (task.store === 'postgres') {
    // Loaded here: a leg of another store runs without the PostgreSQL package.
    const { PostgresReadModelStore } = await import('@tributary/postgres');
    const { Pool } = await import('pg');
    const pool = new Pool({ connectionString: task.postgresUrl, max: Math.max(4, task.concurrency + 2) });
    const table = tableName(task);
    const store = new PostgresReadModelStore({ pool, tables: [table] });
    await pool.query(`DROP TABLE IF EXISTS ${store.liveTable(table)}`);
    await pool.query(createTableSql(store.liveTable(table)));
    return {
      store: store as ReadModelStore<unknown>,
      projection: postgresOrderSummary(name, table, counter) as ProjectionDefinition<unknown>,
      read: () => readPostgres(pool, store.liveTable(table)),
      cleanUp: async () => {
        await store.close().catch(() => undefined);
        await pool.query(`DROP TABLE IF EXISTS ${store.liveTable(table)}`).catch(() => undefined);
        // The bookkeeping tables are shared (other projections, other runs): only this projection's rows go.
        for (const bookkeeping of ['tributary_projection_offsets', 'tributary_projection_dead_letters']) {
          await pool.query(`DELETE FROM ${bookkeeping} WHERE projection = ANY($1)`, [[name, `${name}#shadow`]]).catch(() => undefined);
        }
        await pool.end().catch(() => undefined);
      },
    };
  }
  const { RedisReadModelStore } = await import('@tributary/redis');
  const { Redis } = await import('ioredis');
  const client = new Redis(task.redisUrl, { lazyConnect: true });
  await client.connect();
  const store = new RedisReadModelStore({ client, prefix: redisPrefix(task.runId) });
  return {
    store: store as ReadModelStore<unknown>,
    projection: redisOrderSummary(name, counter) as ProjectionDefinition<unknown>,
    read: async () => readRedis(client, await store.liveKey(name, 'order:')),
    cleanUp: async () => {
      await store.close().catch(() => undefined);
      await unlinkPrefixed(client, `${redisPrefix(task.runId)}:{${name}}:`).catch(() => undefined);
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/** Deletes the keys that begin with `prefix` (SCAN + UNLINK); resolves how many went. */
export async function unlinkPrefixed(client: { scanStream(options: { match: string; count: number }): AsyncIterable<unknown>; unlink(...keys: string[]): Promise<number> }, prefix: string): Promise<number> {
  let removed = 0;
  for await (const keys of client.scanStream({ match: `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, count: 1000 })) {
    const found = keys as string[];
    if (found.length > 0) removed += await client.unlink(...found);
  }
  return removed;
}

function distribution(values: number[]): Distribution {
  if (values.length === 0) return { p50: 0, p99: 0, mean: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  const round = (value: number) => Math.round(value * 10) / 10;
  return { p50: round(at(50)), p99: round(at(99)), mean: round(values.reduce((sum, value) => sum + value, 0) / values.length), max: round(sorted[sorted.length - 1]) };
}

/**
 * A ProjectionRunner of the order summary into one store, from the beginning
 * of the topic: timed from start() until the offsets it commits reach the end
 * offsets taken before it started, then stopped, its stored offsets read back
 * and the read model compared with the oracle, row by row.
 */
async function runner(task: RunnerTask): Promise<RunnerResult> {
  const { spec } = task;
  const name = projectionName(task);
  const kafka = new Kafka({ clientId: `${spec.app}-bench-admin`, brokers: task.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const counter: HandlerCalls = { calls: 0 };
  const leg = await legFor(task, name, counter);
  let projectionRunner: ProjectionRunner<unknown> | undefined;
  try {
    const ends = new Map((await admin.fetchTopicOffsets(spec.topic)).map(({ partition, low, high }) => [partition, { low: BigInt(low), high: BigInt(high) }]));
    const waiting = new Set([...ends].filter(([, { low, high }]) => high > low).map(([partition]) => partition));
    projectionRunner = new ProjectionRunner<unknown>({
      app: spec.app,
      brokers: task.brokers,
      partitions: spec.partitions,
      aggregates: [Order],
      projection: leg.projection,
      store: leg.store,
      batchSize: task.batchSize,
      concurrency: task.concurrency,
      kafkaConfig: { clientId: `${spec.app}-${name}`, logLevel: logLevel.NOTHING },
    });
    const latencies: number[] = [];
    const sizes: number[] = [];
    let events = 0;
    let firstCommitAt = 0;
    let firstCommitEvents = 0;
    let conflicts = 0;
    let retries = 0;
    let deadLettered = 0;
    let finish: (error?: unknown) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => (finish = (error) => (error === undefined ? resolve() : reject(error))));
    projectionRunner.on('projection.committed', ({ partition, events: handled, nextOffset, durationMs }) => {
      if (firstCommitAt === 0) {
        firstCommitAt = performance.now();
        firstCommitEvents = handled;
      }
      events += handled;
      latencies.push(durationMs);
      sizes.push(handled);
      if (BigInt(nextOffset) >= (ends.get(partition)?.high ?? 0n)) waiting.delete(partition);
      if (waiting.size === 0) finish();
    });
    projectionRunner.on('projection.conflict', () => (conflicts += 1));
    projectionRunner.on('projection.retry', () => (retries += 1));
    projectionRunner.on('projection.dead-lettered', ({ offsets }) => (deadLettered += offsets.length));
    projectionRunner.on('projection.failed', ({ error }) => finish(error));
    const timer = setTimeout(() => finish(new Error(`${name}: the stored offsets did not reach the end offsets within ${task.timeoutMs} ms (${waiting.size} partition(s) behind, ${events} events handled)`)), task.timeoutMs);

    const rssBefore = process.resourceUsage().maxRSS;
    const cpu = process.cpuUsage();
    const started = performance.now();
    await projectionRunner.start();
    if (waiting.size === 0) finish();
    try {
      await done;
    } finally {
      clearTimeout(timer);
    }
    const ended = performance.now();
    const used = process.cpuUsage(cpu);
    const peak = process.resourceUsage().maxRSS;
    await projectionRunner.stop();

    const stored = await leg.store.readOffsets(liveSlot(name));
    const offsetsAtEnd =
      stored.length === ends.size - [...ends.values()].filter(({ low, high }) => high === low).length &&
      stored.every((offset) => offset.topic === spec.topic && BigInt(offset.nextOffset) === ends.get(offset.partition)?.high);
    const verifyStarted = performance.now();
    // The oracle is folded only now, so its CPU stays out of the measurement (and of a profile's hot spots).
    const verification = verify(await leg.read(), expectedSummaries(spec));
    const verifyMs = Math.round(performance.now() - verifyStarted);

    const elapsedMs = ended - started;
    const readingMs = ended - firstCommitAt;
    return {
      store: task.store,
      projection: name,
      batchSize: task.batchSize,
      concurrency: task.concurrency,
      events,
      elapsedMs: Math.round(elapsedMs),
      eventsPerSecond: Math.round((events * 1000) / elapsedMs),
      startupMs: Math.round(firstCommitAt - started),
      readingMs: Math.round(readingMs),
      readingEventsPerSecond: Math.round(((events - firstCommitEvents) * 1000) / Math.max(1, readingMs)),
      commits: latencies.length,
      handlerCallsPerEvent: Math.round((counter.calls / Math.max(1, events)) * 1000) / 1000,
      eventsPerCommit: distribution(sizes),
      commitLatencyMs: distribution(latencies),
      conflicts,
      retries,
      deadLettered,
      offsetsAtEnd,
      verification,
      verifyMs,
      memory: { rssBeforeMb: mb(rssBefore), peakRssMb: mb(peak) },
      cpuMs: Math.round((used.user + used.system) / 1000),
    };
  } finally {
    await projectionRunner?.stop().catch(() => undefined);
    if (projectionRunner) {
      await admin.deleteTopics({ topics: [projectionRunner.deadLetterTopic.name] }).catch(() => undefined);
      await admin.deleteGroups([projectionRunner.groupId]).catch(() => undefined);
    }
    await leg.cleanUp();
    await admin.disconnect().catch(() => undefined);
  }
}
