/**
 * Projection throughput on a real broker, in one run on one events topic:
 * raw kafkajs `eachBatch` reading it (the baseline), BulkReplay rebuilding
 * its aggregates in memory, and a ProjectionRunner keeping an order summary
 * in memory, in PostgreSQL (an upsert per event) and in Redis (HINCRBY/HSET
 * per event), each with partitionsConsumedConcurrently 1 and 3. Every
 * projection is timed from start() until its stored offsets reach the end
 * offsets, then its read model is checked row by row against a fold of the
 * events written. Prints one JSON object, then markdown tables.
 *
 *   npm run bench -- projections [--events=N] [--aggregates=M] [--partitions=P] [--batch-size=B] [--concurrency=1,3] [--memory-concurrency=1] [--stores=memory,postgres,redis]
 *
 * The same settings as environment variables: BENCH_EVENTS (200 000),
 * BENCH_AGGREGATES (20 000), BENCH_PARTITIONS (6), BENCH_BATCH_SIZE (500),
 * BENCH_CONCURRENCY (1,3: PostgreSQL and Redis), BENCH_MEMORY_CONCURRENCY (1), BENCH_STORES (memory,postgres,redis); also
 * BENCH_KEEP=1 (keep the events topic, reuse it next run), BENCH_PROFILE
 * (legs to run once more under --cpu-prof, e.g. `postgres-c1,memory-c1`, or `all`),
 * BENCH_LEG_TIMEOUT_MS (240 000). KAFKA_BROKERS (started for the run if unset),
 * DATABASE_URL, REDIS_URL. README.md in this folder says more.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { JsonSerializer } from '@tributary/core';
import { TopicLayout } from '@tributary/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { childTasks } from '../child-tasks';
import { GenerationReport, ensureDataset } from '../replay/dataset';
import { AGGREGATE_TYPE } from '../replay/domain';
import { SelfTime, selfTimes } from '../replay/profile';
import { ReadResult } from '../replay/tasks';
import { projectionsDataset } from './dataset';
import { RunnerResult, RunnerTask, StoreKind, Task, projectionName, redisPrefix, runTask, tablePrefix, unlinkPrefixed } from './tasks';

// ---- settings: --name=value arguments, else BENCH_* variables ----

function setting(name: string, fallback: string): string {
  const args = process.argv.slice(3);
  for (let index = 0; index < args.length; index += 1) {
    if (args[index] === `--${name}` && index + 1 < args.length) return args[index + 1];
    if (args[index].startsWith(`--${name}=`)) return args[index].slice(name.length + 3);
  }
  return process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback;
}

function wholeNumber(name: string, fallback: string): number {
  const value = Number(setting(name, fallback));
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} (BENCH_${name.toUpperCase().replace(/-/g, '_')}) must be a whole number of at least 1, got ${setting(name, fallback)}`);
  return value;
}

const EVENTS = wholeNumber('events', '200000');
const AGGREGATES = wholeNumber('aggregates', '20000');
const PARTITIONS = wholeNumber('partitions', '6');
const BATCH_SIZE = wholeNumber('batch-size', '500');
const concurrencies = (name: string, fallback: string) =>
  setting(name, fallback)
    .split(',')
    .map((value) => Number(value.trim()));
/** partitionsConsumedConcurrently of the PostgreSQL and Redis legs. */
const CONCURRENCIES = concurrencies('concurrency', '1,3');
/** … and of the in-memory legs: its store runs one commit of a projection at a time, so more only adds waiting. */
const MEMORY_CONCURRENCIES = concurrencies('memory-concurrency', '1');
const STORES = setting('stores', 'memory,postgres,redis')
  .split(',')
  .map((value) => value.trim())
  .filter(Boolean) as StoreKind[];
const LEG_TIMEOUT_MS = Number(process.env.BENCH_LEG_TIMEOUT_MS ?? '240000');
const KEEP = process.env.BENCH_KEEP === '1';
const PROFILE = new Set((process.env.BENCH_PROFILE ?? '').split(',').map((value) => value.trim()).filter(Boolean));
const POSTGRES_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

for (const concurrency of [...CONCURRENCIES, ...MEMORY_CONCURRENCIES]) {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency and --memory-concurrency take whole numbers of at least 1, comma-separated, got ${concurrency}`);
}
for (const store of STORES) if (!['memory', 'postgres', 'redis'].includes(store)) throw new Error(`--stores takes memory, postgres and redis, comma-separated, got ${store}`);

// ---- child processes ----

const { inChild, start } = childTasks<Task>('projections', runTask);


// ---- the run ----

interface ProjectionReport extends Partial<RunnerResult> {
  readonly leg: string;
  readonly store: StoreKind;
  readonly concurrency: number;
  readonly ratioToBaseline?: number;
  readonly ratioToReplay?: number;
  /** The same ratios from the first read/commit on: connecting, joining and preparing left out. */
  readonly readingRatioToBaseline?: number;
  readonly readingRatioToReplay?: number;
  readonly error?: string;
  readonly profile?: Profile;
}

type Profile = { totalMs: number; byOwner: SelfTime[]; functions: SelfTime[] };

const ratio = (value: number, to: number) => (to > 0 ? Math.round((value / to) * 1000) / 1000 : undefined);
const readingRate = (result: ReadResult) => Math.round((result.events * 1000) / Math.max(1, result.readingMs));
const legName = (store: StoreKind, concurrency: number) => `${store}-c${concurrency}`;

/** Whether a store's package exports its ReadModelStore yet (the PostgreSQL and Redis ones were being written beside this benchmark). */
function storeMissing(store: StoreKind): string | undefined {
  if (store === 'memory') return undefined;
  const [pkg, exported] = store === 'postgres' ? ['@tributary/postgres', 'PostgresReadModelStore'] : ['@tributary/redis', 'RedisReadModelStore'];
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return typeof (require(pkg) as Record<string, unknown>)[exported] === 'function' ? undefined : `${pkg} does not export ${exported} (build it first: npm run build)`;
  } catch (error) {
    return `${pkg} does not load: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function main(): Promise<void> {
  let stopServices: (() => Promise<void>) | undefined;
  let brokersText = process.env.KAFKA_BROKERS;
  if (!brokersText) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startServices } = require('../../scripts/services') as {
      startServices(options?: { env?: Record<string, string | undefined> }): Promise<{ kafkaBrokers: string; stop(): Promise<void> }>;
    };
    // JSON payloads: no schema registry needed, so none is started.
    const services = await startServices({ env: { ...process.env, SCHEMA_REGISTRY_URL: 'unused' } });
    stopServices = services.stop;
    brokersText = services.kafkaBrokers;
    process.env.KAFKA_BROKERS = brokersText;
  }
  const brokers = brokersText.split(',').map((broker) => broker.trim()).filter(Boolean);
  const admin = new Kafka({ clientId: 'bench-projections-admin', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const spec = projectionsDataset(EVENTS, AGGREGATES, PARTITIONS);
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const startedAt = performance.now();
  const loadBefore = os.loadavg();
  const log = (message: string) => console.error(`[bench:projections ${Math.round((performance.now() - startedAt) / 1000)}s] ${message}`);

  try {
    log(`dataset: ${EVENTS} events over ${AGGREGATES} aggregates, ${PARTITIONS} partitions, to ${spec.topic}`);
    const generation = await ensureDataset(spec, brokers, admin, new JsonSerializer());
    log(`dataset: ${JSON.stringify(generation)}`);

    // 1. Baseline and BulkReplay; a second baseline at the end shows how much the machine drifted meanwhile.
    const baselines: ReadResult[] = [];
    const measureBaseline = async () => {
      log('baseline: raw kafkajs eachBatch');
      const result = await inChild<ReadResult>({ kind: 'baseline', spec, brokers });
      baselines.push(result);
      log(`baseline: ${result.eventsPerSecond} events/s (${readingRate(result)} events/s from the first batch)`);
    };
    await measureBaseline();
    let replayed: ReadResult | undefined;
    let replayError: string | undefined;
    log('BulkReplay');
    try {
      replayed = await inChild<ReadResult>({ kind: 'replay', spec, brokers, registryUrl: '' });
      log(`BulkReplay: ${replayed.eventsPerSecond} events/s, wrong versions ${replayed.wrongVersions}`);
    } catch (error) {
      replayError = error instanceof Error ? error.message : String(error);
      log(`BulkReplay failed: ${replayError}`);
    }

    // 2. The projections, one fresh process each.
    const results: Array<{ store: StoreKind; concurrency: number; result?: RunnerResult; error?: string; task?: RunnerTask }> = [];
    for (const store of STORES) {
      const missing = storeMissing(store);
      for (const concurrency of store === 'memory' ? MEMORY_CONCURRENCIES : CONCURRENCIES) {
        const leg = legName(store, concurrency);
        if (missing) {
          results.push({ store, concurrency, error: missing });
          log(`${leg}: skipped, ${missing}`);
          continue;
        }
        const task: RunnerTask = { kind: 'runner', spec, brokers, store, batchSize: BATCH_SIZE, concurrency, runId, postgresUrl: POSTGRES_URL, redisUrl: REDIS_URL, timeoutMs: LEG_TIMEOUT_MS };
        log(`${leg}: ProjectionRunner, batchSize ${BATCH_SIZE}, concurrency ${concurrency}`);
        try {
          const result = await inChild<RunnerResult>(task);
          results.push({ store, concurrency, result, task });
          log(
            `${leg}: ${result.eventsPerSecond} events/s (${result.readingEventsPerSecond} after the first commit), commit p50 ${result.commitLatencyMs.p50} ms p99 ${result.commitLatencyMs.p99} ms, ` +
              `${result.eventsPerCommit.mean} events/commit, ${result.handlerCallsPerEvent} handler calls/event, read model ${result.verification.correct ? 'correct' : 'WRONG'}, offsets at end ${result.offsetsAtEnd}`,
          );
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          results.push({ store, concurrency, error: message, task });
          log(`${leg} failed: ${message}`);
        }
      }
    }
    await measureBaseline();

    // 3. Where the time goes: the legs asked for, once more under --cpu-prof (not measured).
    const profiles = new Map<string, Profile>();
    for (const entry of results) {
      const leg = legName(entry.store, entry.concurrency);
      if (!entry.task || !(PROFILE.has('all') || PROFILE.has(leg))) continue;
      const dir = mkdtempSync(join(os.tmpdir(), 'bench-projections-prof-'));
      log(`profiling ${leg}`);
      try {
        await inChild<RunnerResult>({ ...entry.task, runId: `${runId}p` }, dir);
        const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
        if (file) profiles.set(leg, selfTimes(join(dir, file)));
      } catch (error) {
        log(`profiling ${leg} failed: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        if (!process.env.BENCH_KEEP_PROFILES) rmSync(dir, { recursive: true, force: true });
        else log(`profile kept in ${dir}`);
      }
    }

    // 4. The report.
    const base = Math.round(baselines.reduce((sum, result) => sum + result.eventsPerSecond, 0) / baselines.length);
    const baseReading = Math.round(baselines.reduce((sum, result) => sum + readingRate(result), 0) / baselines.length);
    const replayReading = replayed ? readingRate(replayed) : 0;
    const projections: ProjectionReport[] = results.map(({ store, concurrency, result, error }) => ({
      leg: legName(store, concurrency),
      ...(result ?? {}),
      store,
      concurrency,
      ...(result
        ? {
            ratioToBaseline: ratio(result.eventsPerSecond, base),
            ratioToReplay: replayed ? ratio(result.eventsPerSecond, replayed.eventsPerSecond) : undefined,
            readingRatioToBaseline: ratio(result.readingEventsPerSecond, baseReading),
            readingRatioToReplay: replayed ? ratio(result.readingEventsPerSecond, replayReading) : undefined,
          }
        : {}),
      ...(error ? { error } : {}),
      ...(profiles.has(legName(store, concurrency)) ? { profile: profiles.get(legName(store, concurrency)) } : {}),
    }));
    report({
      generation,
      baselines,
      base,
      baseReading,
      replayed,
      replayReading,
      replayError,
      projections,
      loadBefore,
      seconds: (performance.now() - startedAt) / 1000,
    });
  } finally {
    await cleanUp(admin, spec.app, runId, log);
    if (!KEEP) {
      const layout = new TopicLayout({ app: spec.app, partitions: PARTITIONS });
      const existing = new Set(await admin.listTopics().catch(() => [] as string[]));
      await admin.deleteTopics({ topics: layout.topicsFor([AGGREGATE_TYPE]).map((topic) => topic.name).filter((topic) => existing.has(topic)) }).catch(() => undefined);
    }
    await admin.disconnect().catch(() => undefined);
    await stopServices?.();
  }
}

/**
 * What the legs made, should a child have died before removing it: the
 * projections' dead-letter topics and consumer groups, PostgreSQL tables and
 * offset rows, Redis keys. Everything is named with the run id.
 */
async function cleanUp(admin: ReturnType<Kafka['admin']>, app: string, runId: string, log: (message: string) => void): Promise<void> {
  const ours = (name: string) => name.startsWith(`${app}.projection.bench-order-summary-`) && name.includes(runId);
  try {
    const topics = (await admin.listTopics()).filter(ours);
    if (topics.length > 0) await admin.deleteTopics({ topics });
    const groups = (await admin.listGroups()).groups.map((group) => group.groupId).filter(ours);
    if (groups.length > 0) await admin.deleteGroups(groups);
  } catch (error) {
    log(`could not remove every topic or group of run ${runId}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (STORES.includes('postgres')) {
    try {
      const { Pool } = await import('pg');
      const pool = new Pool({ connectionString: POSTGRES_URL, max: 1 });
      try {
        // The profiling runs' tables (run id + 'p') begin with the same prefix.
        const { rows } = await pool.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND starts_with(tablename, $1)`, [tablePrefix(runId)]);
        for (const { name } of rows) await pool.query(`DROP TABLE IF EXISTS public."${name}"`);
        const projections = CONCURRENCIES.flatMap((concurrency) => [runId, `${runId}p`].map((id) => projectionName({ store: 'postgres', concurrency, runId: id })));
        for (const table of ['tributary_projection_offsets', 'tributary_projection_dead_letters']) {
          await pool.query(`DELETE FROM public.${table} WHERE split_part(projection, '#', 1) = ANY($1)`, [projections]).catch(() => undefined);
        }
      } finally {
        await pool.end();
      }
    } catch (error) {
      log(`could not remove the PostgreSQL tables of run ${runId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (STORES.includes('redis')) {
    try {
      const { Redis } = await import('ioredis');
      const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await client.connect();
        // The profiling runs' prefix (run id + 'p') begins with this one.
        await unlinkPrefixed(client, redisPrefix(runId));
      } finally {
        client.disconnect();
      }
    } catch (error) {
      log(`could not remove the Redis keys of run ${runId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

interface ReportInput {
  generation: GenerationReport;
  baselines: ReadResult[];
  base: number;
  baseReading: number;
  replayed?: ReadResult;
  replayReading: number;
  replayError?: string;
  projections: ProjectionReport[];
  loadBefore: number[];
  seconds: number;
}

function report(input: ReportInput): void {
  const { baselines, base, replayed, projections } = input;
  const cpus = os.cpus();
  const round2 = (value: number) => Math.round(value * 100) / 100;
  const output = {
    benchmark: 'projections',
    node: process.version,
    machine: {
      platform: `${os.platform()} ${os.release()}`,
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      loadAverageBefore: input.loadBefore.map(round2),
      loadAverageAfter: os.loadavg().map(round2),
      note: 'shared machine: other work ran at the same time, so rates are noisy; compare the legs of one run, and the two baselines for drift',
    },
    events: EVENTS,
    aggregates: AGGREGATES,
    partitions: PARTITIONS,
    batchSize: BATCH_SIZE,
    concurrencies: { postgresAndRedis: CONCURRENCIES, memory: MEMORY_CONCURRENCIES },
    stores: STORES,
    dataset: input.generation,
    headline: headline(base, replayed, projections),
    baseline: {
      eventsPerSecond: base,
      readingEventsPerSecond: input.baseReading,
      runs: baselines.map((result) => ({ eventsPerSecond: result.eventsPerSecond, readingEventsPerSecond: readingRate(result), elapsedMs: result.elapsedMs, readingMs: result.readingMs, cpuMs: result.cpuMs, peakRssMb: result.memory.peakRssMb })),
    },
    replay: replayed
      ? { ...replayed, readingEventsPerSecond: input.replayReading, ratioToBaseline: ratio(replayed.eventsPerSecond, base), readingRatioToBaseline: ratio(input.replayReading, input.baseReading) }
      : { error: input.replayError },
    projections,
    seconds: Math.round(input.seconds),
  };
  console.log(JSON.stringify(output, null, 2));

  const n = (value: number | undefined) => (value === undefined ? '—' : value.toLocaleString('en'));
  console.log(`\n### Projections: ${n(EVENTS)} events over ${n(AGGREGATES)} aggregates, ${PARTITIONS} partitions, batchSize ${BATCH_SIZE}\n`);
  console.log('| leg | events/s | × baseline | × BulkReplay | events/s after 1st commit | × baseline | start-up ms | events/commit (mean) | handler calls/event | commit p50 ms | commit p99 ms | correct | peak RSS MB | CPU s |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: |');
  console.log(`| baseline (kafkajs eachBatch) | ${n(base)} | 1 | — | ${n(input.baseReading)} | 1 | — | — | — | — | — | — | ${Math.max(...baselines.map((result) => result.memory.peakRssMb))} | ${(baselines[0].cpuMs / 1000).toFixed(1)} |`);
  if (replayed) {
    console.log(
      `| BulkReplay | ${n(replayed.eventsPerSecond)} | ${ratio(replayed.eventsPerSecond, base)} | 1 | ${n(input.replayReading)} | ${ratio(input.replayReading, input.baseReading)} | — | — | — | — | — | ${replayed.wrongVersions === 0 ? 'yes' : 'no'} | ${replayed.memory.peakRssMb} | ${(replayed.cpuMs / 1000).toFixed(1)} |`,
    );
  } else {
    console.log(`| BulkReplay | failed: ${input.replayError} |`);
  }
  for (const leg of projections) {
    if (leg.eventsPerSecond === undefined) {
      console.log(`| ${leg.leg} | not measured: ${leg.error} |`);
      continue;
    }
    const correct = leg.verification?.correct && leg.offsetsAtEnd;
    console.log(
      `| ${leg.leg} | ${n(leg.eventsPerSecond)} | ${leg.ratioToBaseline ?? '—'} | ${leg.ratioToReplay ?? '—'} | ${n(leg.readingEventsPerSecond)} | ${leg.readingRatioToBaseline ?? '—'} | ${n(leg.startupMs)} | ${leg.eventsPerCommit?.mean} | ${leg.handlerCallsPerEvent} | ${leg.commitLatencyMs?.p50} | ${leg.commitLatencyMs?.p99} | ${correct ? 'yes' : 'NO'} | ${leg.memory?.peakRssMb} | ${((leg.cpuMs ?? 0) / 1000).toFixed(1)} |`,
    );
  }
  for (const leg of projections) {
    if (!leg.profile) continue;
    console.log(`\n### Where ${leg.leg} spends its time (self time, ${leg.profile.totalMs} ms profiled)\n`);
    console.log('| code | ms | % |');
    console.log('| --- | ---: | ---: |');
    for (const owner of leg.profile.byOwner.slice(0, 10)) console.log(`| ${owner.fn} | ${owner.ms} | ${owner.percent} |`);
    console.log('');
    console.log('| function | ms | % |');
    console.log('| --- | ---: | ---: |');
    for (const fn of leg.profile.functions.slice(0, 15)) console.log(`| \`${fn.fn}\` | ${fn.ms} | ${fn.percent} |`);
  }
}

function headline(base: number, replayed: ReadResult | undefined, projections: ProjectionReport[]): string {
  const parts = [`baseline ${base} events/s`];
  if (replayed) parts.push(`BulkReplay ${ratio(replayed.eventsPerSecond, base)}×`);
  for (const leg of projections) {
    if (leg.ratioToBaseline !== undefined) parts.push(`${leg.leg} ${leg.ratioToBaseline}×${leg.verification?.correct && leg.offsetsAtEnd ? '' : ' (WRONG read model)'}`);
  }
  return parts.join(', ');
}

start(main);
