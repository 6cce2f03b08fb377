/**
 * A command processor in a process of its own, for the tests that kill, pause
 * or race processes. Configured by environment, it reports on stdout one JSON
 * object per line: `{"event":"ready"}`, each instrumentation event, and
 * `{"event":"sent", ...}` when its optional command workload is done.
 *
 *   KAFKA_BROKERS, TRIBUTARY_APP, PARTITIONS, SESSION_TIMEOUT_MS
 *   KILL_ON / KILL_AT      SIGKILL itself at the KILL_AT-th occurrence of instrumentation event KILL_ON
 *   BLOCK_ON / BLOCK_AT / BLOCK_MS   freeze its event loop there for BLOCK_MS, as a long GC pause would (BLOCK_AT may list occurrences: 2,4)
 *   SEND_COUNT, SEND_SEED, ACCOUNTS, SEND_CONCURRENCY   also send a seeded workload of bank commands
 *   MAX_PER_TRANSACTION, QUIET      maxCommandsPerTransaction; QUIET=1 reports no processor.transaction-sent
 *
 * It stops cleanly on SIGTERM or on a line `stop` on stdin (APP_STOPS_ON_SIGTERM=0 leaves SIGTERM to the processor).
 */
import { CommandProcessor, KafkaCommandBus } from '@tributary/kafka';
import { ProcessorEventName } from '@tributary/kafka';
import { Account, InsufficientFundsError } from './account';
import { workload } from './bank-workload';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`processor-worker needs ${name}`);
  return value;
};

function report(event: string, details: object = {}): void {
  process.stdout.write(`${JSON.stringify({ event, pid: process.pid, at: Date.now(), ...details })}\n`);
}

async function main(): Promise<void> {
  const brokers = env('KAFKA_BROKERS').split(',');
  const app = env('TRIBUTARY_APP');
  const partitions = Number(env('PARTITIONS', '3'));
  const sessionTimeoutMs = Number(env('SESSION_TIMEOUT_MS', '3000'));
  const maxCommandsPerTransaction = process.env.MAX_PER_TRANSACTION ? Number(process.env.MAX_PER_TRANSACTION) : undefined;
  const processor = new CommandProcessor({ app, brokers, aggregates: [Account], partitions, sessionTimeoutMs, restoreTimeoutMs: 30_000, maxCommandsPerTransaction });

  const counts = new Map<string, number>();
  const events: ProcessorEventName[] = [
    'processor.partition-assigned',
    'processor.partition-released',
    'processor.group-joined',
    'processor.takeover-failed',
    'processor.transaction-sent',
    'processor.transaction-committed',
    'processor.transaction-aborted',
  ];
  // QUIET=1 (benchmarks): no line per transaction sent, the one event nothing reads there.
  for (const name of events.filter((event) => process.env.QUIET !== '1' || event !== 'processor.transaction-sent')) {
    processor.on(name, (payload) => {
      const seen = (counts.get(name) ?? 0) + 1;
      counts.set(name, seen);
      const error = (payload as { error?: Error & { code?: string } }).error;
      report(name, { ...payload, ...(error ? { error: { name: error.name, code: error.code, message: error.message } } : {}), occurrence: seen });
      if (process.env.KILL_ON === name && Number(process.env.KILL_AT ?? '1') === seen) {
        process.kill(process.pid, 'SIGKILL');
      }
      if (process.env.BLOCK_ON === name && (process.env.BLOCK_AT ?? '1').split(',').map(Number).includes(seen)) {
        report('blocking', { ms: Number(env('BLOCK_MS')) });
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(env('BLOCK_MS')));
        report('unblocked');
      }
    });
  }

  await processor.start();
  report('ready', { partitions: processor.ownedPartitions() });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await processor.stop();
    report('stopped');
    process.exit(0);
  };
  // APP_STOPS_ON_SIGTERM=0: the application installs no handler; the processor's own stopOnSignals acts alone.
  if (process.env.APP_STOPS_ON_SIGTERM !== '0') process.on('SIGTERM', () => void stop());
  process.stdin.on('data', (chunk) => {
    if (chunk.toString().includes('stop')) void stop();
  });

  const sendCount = Number(process.env.SEND_COUNT ?? '0');
  if (sendCount > 0) {
    const bus = new KafkaCommandBus({ app, brokers, aggregates: [Account], partitions, domainErrors: [InsufficientFundsError], commandTimeoutMs: 60_000 });
    await bus.start();
    const accounts = Number(env('ACCOUNTS', '10'));
    const commands = workload(Number(env('SEND_SEED', '1')), sendCount, accounts);
    const results: Array<{ commandId: string; outcome: string }> = [];
    let next = 0;
    const concurrency = Number(env('SEND_CONCURRENCY', '20'));
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < commands.length) {
          const { commandId, command } = commands[next++];
          try {
            await bus.execute(command, { commandId });
            results.push({ commandId, outcome: 'ok' });
          } catch (error) {
            results.push({ commandId, outcome: error instanceof InsufficientFundsError ? 'refused' : `error:${(error as Error).name}` });
          }
        }
      }),
    );
    await bus.stop();
    report('sent', { results });
  }
}

main().catch((error) => {
  report('failed', { error: { name: error?.name, code: error?.code, message: error?.message } });
  process.exit(1);
});
