/**
 * The throughput scenarios of the kafka-commands benchmark: many commands in
 * flight over many aggregates, with command processors as they are deployed
 * (processes of their own, 1 and 2 of them) and one KafkaCommandBus in this
 * process; and, as a peer on the same machine in the same run, Emmett's
 * `appendToStream` on PostgreSQL at the same concurrency over as many streams.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { KafkaCommandBus } from '@tributary/kafka';
import { Account, Deposit, OpenAccount } from '../../packages/kafka/test/support/account';
import { WorkerProcess } from '../../test-support/worker-process';

export interface ThroughputSpec {
  readonly commands: number;
  readonly inFlight: number;
  readonly aggregates: number;
  readonly partitions: number;
  /** The processors' maxCommandsPerTransaction. */
  readonly maxPerTransaction: number;
}

export interface ThroughputResult {
  readonly system: string;
  readonly commands: number;
  readonly perSecond: number;
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number };
  readonly transactions?: number;
  readonly commandsPerTransaction?: number;
  /** CPU per command: this process (the caller), the processors' processes, the broker's JVM, PostgreSQL's backends. */
  readonly cpuMsPerCommand: Record<string, number>;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** CPU (user + system) a process has used, ms, from /proc; undefined when it is not readable. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Runs `total` calls with `inFlight` at once; returns each call's latency and the seconds taken. */
async function load(total: number, inFlight: number, call: (index: number) => Promise<void>): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(inFlight, total) }, async () => {
      while (next < total) {
        const index = next++;
        const t0 = performance.now();
        await call(index);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

function summary(system: string, measured: { latencies: number[]; seconds: number }, cpu: Record<string, number>, transactions?: { count: number; commands: number }): ThroughputResult {
  const sorted = [...measured.latencies].sort((a, b) => a - b);
  const commands = sorted.length;
  return {
    system,
    commands,
    perSecond: Math.round(commands / measured.seconds),
    latencyMs: { p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), p99: round(percentile(sorted, 99)), max: round(sorted[commands - 1] ?? 0) },
    ...(transactions ? { transactions: transactions.count, commandsPerTransaction: round(transactions.commands / Math.max(1, transactions.count)) } : {}),
    cpuMsPerCommand: Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, round(ms / commands, 3)])),
  };
}

/** Tributary with `processors` command processors in processes of their own. */
export async function tributaryThroughput(brokers: string[], spec: ThroughputSpec, processors: number, brokerPid: number | undefined, runId: string): Promise<ThroughputResult> {
  const app = `bench-throughput-${processors}-${runId}`;
  const env = {
    KAFKA_BROKERS: brokers.join(','),
    TRIBUTARY_APP: app,
    PARTITIONS: String(spec.partitions),
    SESSION_TIMEOUT_MS: '10000',
    MAX_PER_TRANSACTION: String(spec.maxPerTransaction),
    QUIET: '1',
  };
  const workers: WorkerProcess[] = [];
  const bus = new KafkaCommandBus({ app, brokers, partitions: spec.partitions, aggregates: [Account], commandTimeoutMs: 120_000 });
  try {
    for (let index = 0; index < processors; index += 1) {
      const worker = new WorkerProcess(join(__dirname, '..', '..', 'packages', 'kafka', 'test', 'support', 'processor-worker.ts'), env);
      workers.push(worker);
      await worker.waitFor('ready', 120_000);
    }
    // Every processor holds its share before anything is measured.
    for (const worker of workers) {
      await worker.waitFor((report) => report.event === 'processor.group-joined' && (report.partitions as number[]).length < spec.partitions + (processors === 1 ? 1 : 0), 120_000);
    }
    await bus.start();
    const ids = Array.from({ length: spec.aggregates }, (_, index) => `acc-${index}`);
    await load(ids.length, spec.inFlight, (index) => bus.execute(new OpenAccount(ids[index], 'bench')).then(() => undefined));
    // Warm up: every partition's transactions, JIT.
    await load(Math.min(spec.commands / 5, 5_000), spec.inFlight, (index) => bus.execute(new Deposit(ids[index % ids.length], 1)).then(() => undefined));

    const committed = () => workers.flatMap((worker) => worker.reported('processor.transaction-committed')).reduce((sum, report) => ({ count: sum.count + 1, commands: sum.commands + (report.commands as number) }), { count: 0, commands: 0 });
    const before = committed();
    const cpuBefore = { caller: process.cpuUsage(), processors: workers.map((worker) => processCpuMs(worker.pid) ?? 0), broker: processCpuMs(brokerPid) };
    const measured = await load(spec.commands, spec.inFlight, (index) => bus.execute(new Deposit(ids[(index * 7919) % ids.length], 1)).then(() => undefined));
    const callerCpu = process.cpuUsage(cpuBefore.caller);
    const after = committed();
    const brokerAfter = processCpuMs(brokerPid);
    const cpu: Record<string, number> = {
      caller: (callerCpu.user + callerCpu.system) / 1000,
      processors: workers.reduce((sum, worker, index) => sum + ((processCpuMs(worker.pid) ?? 0) - cpuBefore.processors[index]), 0),
      ...(cpuBefore.broker !== undefined && brokerAfter !== undefined ? { broker: brokerAfter - cpuBefore.broker } : {}),
    };
    return summary(`tributary, ${processors} processor${processors === 1 ? '' : 's'}`, measured, cpu, { count: after.count - before.count, commands: after.commands - before.commands });
  } finally {
    await bus.stop();
    for (const worker of workers) await worker.stop().catch(() => worker.kill());
  }
}

/** Emmett's PostgreSQL event store: one event appended per call, in a database of its own, dropped afterwards. */
export async function emmettAppends(spec: ThroughputSpec, runId: string): Promise<ThroughputResult> {
  const server = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const database = `bench_emmett_${runId.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`;
  const admin = new Pool({ connectionString: server, max: 1 });
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(server);
  url.pathname = `/${database}`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { getPostgreSQLEventStore } = require('@event-driven-io/emmett-postgresql') as typeof import('@event-driven-io/emmett-postgresql');
  const store = getPostgreSQLEventStore(url.toString());
  try {
    const streams = Array.from({ length: spec.aggregates }, (_, index) => `account-${index}`);
    const append = (index: number) =>
      store.appendToStream(streams[index % streams.length], [{ type: 'Deposited', data: { amount: 1 } }]).then(() => undefined);
    await load(Math.min(spec.commands / 5, 5_000), spec.inFlight, append);
    const postgresCpu = () => postgresBackendsCpuMs(database, admin);
    const cpuBefore = { caller: process.cpuUsage(), postgres: await postgresCpu() };
    const measured = await load(spec.commands, spec.inFlight, (index) => append((index * 7919) % streams.length));
    const callerCpu = process.cpuUsage(cpuBefore.caller);
    const postgresAfter = await postgresCpu();
    return summary('emmett on postgresql, appendToStream', measured, {
      caller: (callerCpu.user + callerCpu.system) / 1000,
      ...(cpuBefore.postgres !== undefined && postgresAfter !== undefined ? { postgres: postgresAfter - cpuBefore.postgres } : {}),
    });
  } finally {
    await store.close();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

/** CPU of the PostgreSQL backends serving one database, ms, when they run on this machine. */
async function postgresBackendsCpuMs(database: string, admin: Pool): Promise<number | undefined> {
  try {
    const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
    let total = 0;
    for (const { pid } of rows) total += processCpuMs(pid) ?? 0;
    return total;
  } catch {
    return undefined;
  }
}
