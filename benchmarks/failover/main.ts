/**
 * How long a partition answers no command after its owner dies (SIGKILL) or
 * stops gracefully (SIGTERM), and how long every partition stalls while a new
 * processor joins: command processors with their default group timing, and
 * projection runners (into PostgreSQL) likewise, against plain kafkajs
 * consumers with the same timing in the same run (the consumer group's own
 * failover, the floor Tributary's takeover adds to). Prints JSON.
 *
 *   npm run bench -- failover        (about 8 minutes; BENCH_ROUNDS=4 incidents of each kind,
 *                                     BENCH_SYSTEMS=baseline,tributary,projections)
 *
 * Uses KAFKA_BROKERS if set, otherwise starts the project's broker. README.md
 * in this folder says how to read the figures.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kafka, Producer, logLevel } from 'kafkajs';
import { GROUP_TIMING_DEFAULTS, KafkaCommandBus, partitionForKey, waitForPartitionLeaders } from '@tributary/kafka';
import { Account, Deposit, OpenAccount } from '../../packages/kafka/test/support/account';
import { Pool } from 'pg';
import { WorkerProcess } from '../../test-support/worker-process';
import { ShopEventWriter } from '../../packages/projections/test/support/event-writer';
import { PgOrderSummary, uniqueIdentifier } from '../../packages/projections/test/support/pg-order-summary';
import { checkQuietMachine } from '../quiet-machine';
import { saveResult } from '../results';

const PARTITIONS = 6;
const WORKERS = 3;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '4');
const { sessionTimeoutMs, heartbeatIntervalMs } = GROUP_TIMING_DEFAULTS;
/** A partition is steady when its answers came within this long, for STEADY_FOR_MS. */
const STEADY_LATENCY_MS = 1_000;
const STEADY_FOR_MS = 2_000;

interface Answer {
  readonly partition: number;
  readonly sentAt: number;
  readonly at: number;
}

/** One system under test: how to start a worker, the answers its probes got, and which partitions a worker holds. */
interface System {
  readonly name: string;
  readonly answers: Answer[];
  startWorker(): WorkerProcess;
  held(worker: WorkerProcess): number[];
  stop(): Promise<void>;
}

type Incident = 'kill' | 'stop' | 'join';

interface Measured {
  readonly incident: Incident;
  /** The longest any command on the partitions concerned waited because of the incident. */
  readonly windowMs: number;
  /** The same on the other partitions (an eager rebalance stalls them too). */
  readonly othersMs: number;
  /** For joins: from the worker's spawn to its processor being ready (group joined). */
  readonly readyMs?: number;
}

const now = () => Math.round(performance.timeOrigin + performance.now());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message: string) => console.error(`[bench:failover] ${message}`);

/** The longest wait, on `partitions`, of answers after `from` (up to `to`), counted from `from` for commands sent before it. */
function longestWait(answers: readonly Answer[], partitions: readonly number[], from: number, to: number): number {
  let longest = 0;
  for (const answer of answers) {
    if (!partitions.includes(answer.partition) || answer.at <= from || answer.at > to) continue;
    longest = Math.max(longest, answer.at - Math.max(answer.sentAt, from));
  }
  return longest;
}

async function until(condition: () => boolean, what: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Every partition answered commands sent since `since`, quickly, for STEADY_FOR_MS. */
async function steady(system: System, since: number): Promise<void> {
  let calmSince = Date.now();
  await until(() => {
    const recent = system.answers.filter((answer) => answer.sentAt >= since && answer.at >= Date.now() - STEADY_FOR_MS);
    const ok = Array.from({ length: PARTITIONS }, (_, partition) => recent.some((answer) => answer.partition === partition)) .every(Boolean) && recent.every((answer) => answer.at - answer.sentAt < STEADY_LATENCY_MS);
    if (!ok) calmSince = Date.now();
    return Date.now() - calmSince >= STEADY_FOR_MS;
  }, `${system.name} to answer steadily`);
}

/** The partitions a worker's latest group join gave it, for workers that report their joins. */
const lastJoined = (worker: WorkerProcess): number[] => (worker.reported('processor.group-joined').at(-1)?.partitions as number[] | undefined) ?? [];

async function measure(system: System): Promise<Measured[]> {
  const workers: WorkerProcess[] = [];
  const results: Measured[] = [];
  const join = async (): Promise<number> => {
    const spawned = now();
    const worker = system.startWorker();
    workers.push(worker);
    await worker.waitFor('ready', 120_000);
    return now() - spawned;
  };
  try {
    for (let index = 0; index < WORKERS; index += 1) await join();
    await steady(system, now());
    const incidents: Incident[] = Array.from({ length: ROUNDS * 2 }, (_, index) => (index % 2 === 0 ? 'kill' : 'stop'));
    for (const [round, incident] of incidents.entries()) {
      const victim = workers.find((worker) => system.held(worker).includes(round % PARTITIONS))!;
      const partitions = system.held(victim);
      const others = Array.from({ length: PARTITIONS }, (_, partition) => partition).filter((partition) => !partitions.includes(partition));
      const at = now();
      victim.kill(incident === 'kill' ? 'SIGKILL' : 'SIGTERM');
      workers.splice(workers.indexOf(victim), 1);
      await until(() => partitions.every((partition) => system.answers.some((answer) => answer.partition === partition && answer.sentAt >= at)), `${system.name} to answer on partitions ${partitions} again`);
      await steady(system, at);
      const over = now();
      results.push({ incident, windowMs: longestWait(system.answers, partitions, at, over), othersMs: longestWait(system.answers, others, at, over) });
      log(`${system.name} ${incident} #${round + 1}: partitions ${partitions.join(',')} answered nothing for ${results.at(-1)!.windowMs} ms (others ${results.at(-1)!.othersMs} ms)`);
      await victim.exited;

      const joinedAt = now();
      const readyMs = await join();
      await steady(system, joinedAt);
      const all = Array.from({ length: PARTITIONS }, (_, partition) => partition);
      results.push({ incident: 'join', windowMs: longestWait(system.answers, all, joinedAt, now()), othersMs: 0, readyMs });
      log(`${system.name} join #${round + 1}: ready in ${readyMs} ms; every partition stalled up to ${results.at(-1)!.windowMs} ms`);
    }
    return results;
  } finally {
    for (const worker of workers) worker.kill();
    await system.stop();
  }
}

/** Command processors, probed by a KafkaCommandBus: one deposit at a time per partition. */
async function tributary(brokers: string[]): Promise<System> {
  const app = `failover-${Date.now().toString(36)}`;
  const env = { KAFKA_BROKERS: brokers.join(','), TRIBUTARY_APP: app, PARTITIONS: String(PARTITIONS), SESSION_TIMEOUT_MS: String(sessionTimeoutMs) };
  const accounts: string[] = [];
  for (let candidate = 0; accounts.length < PARTITIONS; candidate += 1) if (partitionForKey(`acc-${candidate}`, PARTITIONS) === accounts.length) accounts.push(`acc-${candidate}`);
  const answers: Answer[] = [];
  let running = true;
  let bus: KafkaCommandBus | undefined;
  let probes: Promise<void>[] = [];
  const system: System = {
    name: 'tributary',
    answers,
    startWorker: () => {
      const worker = new WorkerProcess(join(__dirname, '..', '..', 'packages', 'kafka', 'test', 'support', 'processor-worker.ts'), env);
      if (!bus) {
        // The probes start with the first processor.
        bus = new KafkaCommandBus({ app, brokers, partitions: PARTITIONS, aggregates: [Account], commandTimeoutMs: 180_000 });
        const started = worker.waitFor('ready', 120_000).then(() => bus!.start());
        probes = accounts.map(async (account, partition) => {
          await started;
          await bus!.execute(new OpenAccount(account, 'failover'));
          while (running) {
            const sentAt = now();
            await bus!.execute(new Deposit(account, 1));
            answers.push({ partition, sentAt, at: now() });
            await sleep(20);
          }
        });
      }
      return worker;
    },
    held: lastJoined,
    stop: async () => {
      running = false;
      await Promise.allSettled(probes);
      await bus?.stop();
    },
  };
  return system;
}

/** Plain kafkajs consumers in a group, probed by a producer writing to every partition every 20 ms. */
async function baseline(brokers: string[]): Promise<System> {
  const kafka = new Kafka({ clientId: 'failover-probe', brokers, logLevel: logLevel.NOTHING });
  const topic = `failover-baseline-${Date.now().toString(36)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }] });
  await waitForPartitionLeaders(admin, [topic]);
  await admin.disconnect();
  const producer: Producer = kafka.producer();
  await producer.connect();
  const answers: Answer[] = [];
  const env = { KAFKA_BROKERS: brokers.join(','), TOPIC: topic, GROUP: `${topic}-group`, SESSION_TIMEOUT_MS: String(sessionTimeoutMs), HEARTBEAT_INTERVAL_MS: String(heartbeatIntervalMs) };
  let running = true;
  const probing = (async () => {
    while (running) {
      const sentAt = now();
      await producer.send({ topic, messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value: String(sentAt) })) });
      await sleep(20);
    }
  })();
  return {
    name: 'baseline',
    answers,
    startWorker: () => {
      const worker = new WorkerProcess(join(__dirname, 'plain-consumer.ts'), env);
      const seen = new Set<string>();
      // Reports arrive as lines; keep the consumed ones as answers (a message seen twice after a rebalance counts once).
      const collect = setInterval(() => {
        for (const report of worker.reported('consumed')) {
          const key = `${report.partition}:${report.sentAt}`;
          if (seen.has(key)) continue;
          seen.add(key);
          answers.push({ partition: report.partition as number, sentAt: report.sentAt as number, at: report.at as number });
        }
      }, 20);
      void worker.exited.then(() => clearInterval(collect));
      return worker;
    },
    held: lastJoined,
    stop: async () => {
      running = false;
      await probing;
      await producer.disconnect();
    },
  };
}

/**
 * Projection runners into PostgreSQL (the tests' order summary), probed by a
 * writer that appends an event to every partition every 20 ms: an event is
 * answered when a runner commits past its offset.
 */
async function projections(brokers: string[]): Promise<System> {
  const app = `failover-projection-${Date.now().toString(36)}`;
  const kafka = new Kafka({ clientId: 'failover-projection', brokers, logLevel: logLevel.NOTHING });
  const writer = new ShopEventWriter(kafka, app, PARTITIONS);
  const admin = kafka.admin();
  await admin.connect();
  await writer.createTopic(admin);
  await admin.disconnect();
  const pool = new Pool({ connectionString: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test', max: 2 });
  const model = new PgOrderSummary(pool, uniqueIdentifier('failover'));
  await model.createTable();
  const orders: string[] = [];
  for (let candidate = 0; orders.length < PARTITIONS; candidate += 1) if (partitionForKey(`o-${candidate}`, PARTITIONS) === orders.length) orders.push(`o-${candidate}`);
  await writer.write(orders.map((orderId) => ({ orderId, type: 'placed', customerId: 'c' })));
  const answers: Answer[] = [];
  /** Probe events not yet committed past, per partition, in offset order. */
  const pending = new Map<number, Array<{ offset: bigint; sentAt: number }>>();
  const env = {
    KAFKA_BROKERS: brokers.join(','),
    TRIBUTARY_APP: app,
    PARTITIONS: String(PARTITIONS),
    DATABASE_URL: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
    PROJECTION: model.name,
    TABLE: model.table,
    SESSION_TIMEOUT_MS: String(sessionTimeoutMs),
    HEARTBEAT_INTERVAL_MS: String(heartbeatIntervalMs),
    RUNNER_STOPS_ON_SIGNALS: '1',
  };
  let running = true;
  const probing = (async () => {
    while (running) {
      const sentAt = now();
      for (const { partition, baseOffset } of await writer.write(orders.map((orderId) => ({ orderId, type: 'item', sku: 'probe', cents: 1 })))) {
        const list = pending.get(partition) ?? [];
        list.push({ offset: BigInt(baseOffset), sentAt });
        pending.set(partition, list);
      }
      await sleep(20);
    }
  })();
  const workers: WorkerProcess[] = [];
  const read = new Map<WorkerProcess, number>();
  const collect = setInterval(() => {
    for (const worker of workers) {
      const commits = worker.reported('committed');
      for (const commit of commits.slice(read.get(worker) ?? 0)) {
        const list = pending.get(commit.partition as number) ?? [];
        while (list.length > 0 && list[0].offset < BigInt(commit.nextOffset as string)) {
          answers.push({ partition: commit.partition as number, sentAt: list.shift()!.sentAt, at: commit.at as number });
        }
      }
      read.set(worker, commits.length);
    }
  }, 20);
  return {
    name: 'projections',
    answers,
    startWorker: () => {
      const worker = new WorkerProcess(join(__dirname, '..', '..', 'packages', 'projections', 'test', 'support', 'projection-worker.ts'), env);
      workers.push(worker);
      return worker;
    },
    // Runners report no joins: a worker holds the partitions it committed in the last two seconds.
    held: (worker) => [...new Set(worker.reported('committed').filter((commit) => (commit.at as number) > now() - 2_000).map((commit) => commit.partition as number))],
    stop: async () => {
      running = false;
      await probing;
      clearInterval(collect);
      await writer.close();
      await pool.query(`DROP TABLE IF EXISTS ${model.liveTable}`).catch(() => undefined);
      await pool.end();
    },
  };
}

function summary(results: readonly Measured[], incident: Incident) {
  const of = results.filter((result) => result.incident === incident);
  const windows = of.map((result) => result.windowMs).sort((a, b) => a - b);
  const median = windows.length === 0 ? 0 : windows[Math.floor((windows.length - 1) / 2)];
  return {
    windowsMs: of.map((result) => result.windowMs),
    medianMs: median,
    maxMs: windows.at(-1) ?? 0,
    othersMaxMs: Math.max(0, ...of.map((result) => result.othersMs)),
    ...(incident === 'join' ? { readyMs: of.map((result) => result.readyMs) } : {}),
  };
}

async function main(): Promise<void> {
  const loadAverage = checkQuietMachine('failover');
  let brokersText = process.env.KAFKA_BROKERS;
  let stopServices: (() => Promise<void>) | undefined;
  if (!brokersText) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startServices } = require('../../scripts/services') as { startServices(options?: { env?: Record<string, string | undefined> }): Promise<{ kafkaBrokers: string; stop(): Promise<void> }> };
    const services = await startServices({ env: { ...process.env, SCHEMA_REGISTRY_URL: 'unused' } });
    brokersText = services.kafkaBrokers;
    process.env.KAFKA_BROKERS = brokersText;
    stopServices = () => services.stop();
  }
  const brokers = brokersText.split(',');
  try {
    const only = (process.env.BENCH_SYSTEMS ?? 'baseline,tributary,projections').split(',');
    const report = (results: Measured[]) => ({ kill: summary(results, 'kill'), stop: summary(results, 'stop'), join: summary(results, 'join') });
    const base = report(only.includes('baseline') ? await measure(await baseline(brokers)) : []);
    const tributaryReport = report(only.includes('tributary') ? await measure(await tributary(brokers)) : []);
    const projectionReport = report(only.includes('projections') ? await measure(await projections(brokers)) : []);
    const ratios = (of: ReturnType<typeof report>) =>
      Object.fromEntries((['kill', 'stop', 'join'] as const).map((incident) => [incident, base[incident].medianMs > 0 ? Math.round((of[incident].medianMs / base[incident].medianMs) * 100) / 100 : null]));
    const output = {
          benchmark: 'failover',
          loadAverage,
          partitions: PARTITIONS,
          workers: WORKERS,
          rounds: ROUNDS,
          sessionTimeoutMs,
          heartbeatIntervalMs,
          baseline: base,
          tributary: tributaryReport,
          projections: projectionReport,
          ratioOfMediansToBaseline: { tributary: ratios(tributaryReport), projections: ratios(projectionReport) },
        };
    console.log(JSON.stringify(output, null, 2));
    saveResult('failover', output, loadAverage);
  } finally {
    await stopServices?.();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
