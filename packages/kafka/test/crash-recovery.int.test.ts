/**
 * Crash recovery (design tests 3 and 4): a processor in a child process kills
 * itself with SIGKILL at a chosen instrumentation point, round after round,
 * while this process keeps sending commands. Each round's worker takes over
 * from the dead one (fencing its transactional id, which aborts its open
 * transaction; restoring state from the snapshots topic; resuming at the
 * checkpoint). At the end a clean processor drains what is left, and the
 * topics are checked against the SERIAL result of the commands topic:
 *
 * - no partial command and no duplicate: per command id either all of its
 *   events, once, with consecutive sequences, or none;
 * - per account, sequences 1..n without gap or duplicate;
 * - every acknowledged command's events are there, no refused command has any;
 * - the loaded state equals the serial result.
 *
 * The kill points are seeded: set CRASH_SEED to replay a run's choices (the
 * interleaving of commands with the kills still depends on timing, which is why
 * every assertion compares with the serial model instead of fixed numbers).
 */
import { expect } from 'chai';
import { CommandProcessor, CommandTimeoutError, HEADER, KafkaCommandBus, ProcessorEventName } from '@tributary/kafka';
import { createKafka, kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { Account, InsufficientFundsError } from './support/account';
import { WorkloadCommand, accountIds, workload } from './support/bank-workload';
import {
  BankModel,
  SeenOutcome,
  TopicRecord,
  abortedRecords,
  eventLogProblems,
  expectNoProblems,
  header,
  loadAccounts,
  openAccounts,
  outcomeCounts,
  outcomeProblems,
  readToEnd,
  serialModel,
  stateProblems,
} from './support/bank-verification';
import { WorkerProcess, WorkerReport } from './support/worker-process';

const partitions = 3;
const accounts = accountIds(10);
/** Short, so that a dead worker's partitions move quickly (the broker allows ≥ 1000 ms). */
const sessionTimeoutMs = 2000;
/** Short enough that senders move on while no processor is alive; a timeout means 'outcome unknown'. */
const commandTimeoutMs = 8000;
/** Concurrent callers: enough that transactions often hold several commands. */
const senderCount = 8;

describe('Crash recovery of command processors killed with SIGKILL', function () {
  this.timeout(200_000);
  const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 0x7fffffff) + 1);
  const running: WorkerProcess[] = [];

  before(() => console.log(`      crash-recovery seed ${seed} (replay the kill points with CRASH_SEED=${seed})`));
  after(() => {
    for (const worker of running) worker.kill();
  });

  it('Crash before commit: read_committed readers never see a killed transaction, and nothing is lost or doubled', async () => {
    const run = await crashRounds({ killOn: 'processor.transaction-sent', rounds: 20, random: seededRandom(seed), workloadSeed: seed, running });
    verifyRun(run);

    // The kill hit between send and commit every round: the worker died of
    // SIGKILL right after reporting transaction-sent (see crashRounds). Its
    // records reached the log, so read_uncommitted readers see them, while the
    // read_committed events above hold none of them. Per round: every command
    // the killed transaction had decided to accept left an aborted event.
    const aborted = abortedRecords(run.uncommittedEvents, run.events);
    const abortedCausations = new Set(aborted.map((record) => header(record.headers, HEADER.causationId)));
    let roundsWithAcceptedCommands = 0;
    const missing: string[] = [];
    for (const round of run.rounds) {
      const accepted = chunkCommands(run.model, round.killedAt).filter((command) => command.outcome === 'accepted');
      if (accepted.length > 0) roundsWithAcceptedCommands += 1;
      for (const command of accepted) {
        if (!abortedCausations.has(command.commandId)) missing.push(`round ${round.round}: no aborted event of ${command.commandId}`);
      }
    }
    console.log(`      ${aborted.length} aborted event record(s) seen read_uncommitted; ${roundsWithAcceptedCommands} of ${run.rounds.length} killed transactions held accepted commands`);
    expect(missing).to.deep.equal([]);
    expect(aborted.length, 'aborted event records visible to read_uncommitted').to.be.greaterThan(0);
    // A killed transaction with no accepted command (only refusals) writes no
    // event; with over half the workload deposits, 20 such rounds in a row do not happen.
    expect(roundsWithAcceptedCommands).to.be.greaterThan(0);
    // And the checks above are sharp: run on the read_uncommitted view, which
    // holds the aborted attempts next to their redone ones, they do fail.
    expect(eventLogProblems(run.model, run.uncommittedEvents), 'problems in the read_uncommitted view').to.not.be.empty;
  });

  it('Crash after commit: no duplicate after the restart, and the state is correct', async () => {
    const run = await crashRounds({ killOn: 'processor.transaction-committed', rounds: 4, random: seededRandom(seed + 1), workloadSeed: seed + 1, running });
    verifyRun(run);
    // The killed transactions were committed: all their commands' events are
    // there exactly once (verifyRun), and nobody processed them again, which
    // the resumed checkpoints (also in verifyRun) show directly.
    for (const round of run.rounds) {
      const committed = chunkCommands(run.model, round.killedAt);
      expect(committed.length, `round ${round.round}: commands of the killed transaction`).to.be.greaterThan(0);
    }
  });
});

interface RoundResult {
  readonly round: number;
  readonly killAt: number;
  readonly pid: number;
  readonly exit: { code: number | null; signal: NodeJS.Signals | null };
  /** The worker's last report: the instrumentation event at which it killed itself. */
  readonly last: WorkerReport | undefined;
  /** The partition, command offsets and checkpoint of the transaction it died in. */
  readonly killedAt: { partition: number; firstOffset: bigint; lastOffset: bigint; checkpointAfter?: bigint };
  readonly reports: readonly WorkerReport[];
  readonly ms: number;
}

interface CrashRun {
  readonly killOn: ProcessorEventName;
  readonly rounds: readonly RoundResult[];
  /** partition-assigned payloads of the drain processor, in order. */
  readonly drainAssigned: ReadonlyArray<{ partition: number; nextCommandOffset: string }>;
  readonly seen: readonly SeenOutcome[];
  readonly loaded: ReadonlyMap<string, { balance: number; version: number }>;
  readonly model: BankModel;
  readonly events: readonly TopicRecord[];
  readonly uncommittedEvents: readonly TopicRecord[];
}

/**
 * Opens the accounts, then runs `rounds` workers one after the other, each
 * killing itself at the `killAt`-th (random 1..4) occurrence of `killOn`, while
 * senders in this process keep commands coming. Then drains with a clean
 * processor, loads every account and reads the topics.
 */
async function crashRounds(options: {
  killOn: ProcessorEventName;
  rounds: number;
  random: () => number;
  workloadSeed: number;
  running: WorkerProcess[];
}): Promise<CrashRun> {
  const app = uniqueName('crash');
  const brokers = kafkaBrokers();
  const connection = { app, brokers, aggregates: [Account], partitions };
  const processorOptions = { ...connection, sessionTimeoutMs };

  const bus = new KafkaCommandBus({ ...connection, domainErrors: [InsufficientFundsError], commandTimeoutMs });
  const setup = new CommandProcessor(processorOptions);
  await setup.start();
  await bus.start();
  const rounds: RoundResult[] = [];
  const drainAssigned: Array<{ partition: number; nextCommandOffset: string }> = [];
  let loaded: Map<string, { balance: number; version: number }>;
  let senders: Senders | undefined;
  try {
    await openAccounts(bus, accounts, 10);
    // From here on the workers are the group's only members.
    await setup.stop();

    // Commands keep coming during all rounds, so every worker has work (the
    // commands of the transaction its predecessor died in, and new ones) and
    // reaches its kill point.
    senders = new Senders(bus, workload(options.workloadSeed, 50_000, accounts.length), senderCount);
    for (let round = 1; round <= options.rounds; round += 1) {
      const killAt = 1 + Math.floor(options.random() * 4);
      const started = Date.now();
      const worker = new WorkerProcess({
        KAFKA_BROKERS: brokers.join(','),
        TRIBUTARY_APP: app,
        PARTITIONS: String(partitions),
        SESSION_TIMEOUT_MS: String(sessionTimeoutMs),
        KILL_ON: options.killOn,
        KILL_AT: String(killAt),
      });
      options.running.push(worker);
      const exit = await within(worker.exited, 60_000, () => {
        worker.kill();
        return new Error(`round ${round}: worker ${worker.pid} did not reach ${options.killOn} #${killAt} in 60 s; last reports: ${JSON.stringify(worker.reports.slice(-5))}`);
      });
      const last = worker.reports[worker.reports.length - 1];
      // The worker writes each report to its stdout pipe synchronously before
      // acting on it, so its last line is the event it killed itself at.
      expect({ exit, last: last?.event, occurrence: last?.occurrence }, `round ${round} (worker ${worker.pid}) died at its kill point`).to.deep.equal({
        exit: { code: null, signal: 'SIGKILL' },
        last: options.killOn,
        occurrence: killAt,
      });
      rounds.push({ round, killAt, pid: worker.pid, exit, last, killedAt: killedTransaction(worker.reports, options.killOn, last), reports: [...worker.reports], ms: Date.now() - started });
    }

    // A clean processor drains: it takes over from the last dead worker, the
    // senders' last commands get their answers, and loading each account (a
    // request that queues behind all commands of its partition) waits for the
    // rest. Its restore from the snapshots topic gives the loaded state.
    senders.stop();
    const drain = new CommandProcessor(processorOptions);
    drain.on('processor.partition-assigned', ({ partition, nextCommandOffset }) => drainAssigned.push({ partition, nextCommandOffset }));
    await drain.start();
    try {
      await senders.finished;
      loaded = await loadAccounts(bus, accounts);
    } finally {
      await drain.stop();
    }
  } finally {
    senders?.stop();
    await senders?.finished.catch(() => undefined);
    await setup.stop();
    await bus.stop();
  }

  const kafka = createKafka('crash-recovery-verify');
  const layout = new CommandProcessor(processorOptions).layout;
  const model = serialModel(await readToEnd(kafka, layout.commands), partitions);
  const events = await readToEnd(kafka, layout.events('Account'));
  const uncommittedEvents = await readToEnd(kafka, layout.events('Account'), { readUncommitted: true });
  const seen = senders!.outcomes;
  const tally = (outcome: string) => seen.filter((s) => s.outcome === outcome).length;
  console.log(
    `      ${options.killOn}: ${rounds.length} rounds (kill at ${rounds.map((r) => r.killAt).join(',')}; ` +
      `${Math.round(rounds.reduce((sum, r) => sum + r.ms, 0) / rounds.length)} ms each on average); ` +
      `${seen.length} commands sent: ${tally('ok')} ok, ${tally('refused')} refused, ${tally('unknown')} timed out; ` +
      `model: ${JSON.stringify(outcomeCounts(model))}; ${events.length} committed event records`,
  );
  return { killOn: options.killOn, rounds, drainAssigned, seen, loaded: loaded!, model, events, uncommittedEvents };
}

/** The checks both crash tests share: see the file comment. */
function verifyRun(run: CrashRun): void {
  // Callers saw no error but refusals and timeouts (unknown outcome).
  expect(run.seen.filter((s) => !['ok', 'refused', 'unknown'].includes(s.outcome))).to.deep.equal([]);
  expect(run.seen.filter((s) => s.outcome === 'ok').length, 'acknowledged commands').to.be.greaterThan(0);
  expectNoProblems(outcomeProblems(run.model, run.seen), 'the answers the senders saw');
  expectNoProblems(eventLogProblems(run.model, run.events), 'the committed events');
  expectNoProblems(stateProblems(run.model, run.loaded), 'the loaded accounts');
  expect([...run.loaded.keys()].sort()).to.deep.equal([...accounts].sort());

  // Resume from the checkpoint: the first owner of a partition after a kill
  // restored exactly the checkpoint of the last committed transaction: the
  // start of the killed transaction (its commands are redone) when killed
  // before the commit, the end of it (nothing is redone) when killed after.
  const problems: string[] = [];
  run.rounds.forEach((round, index) => {
    const { partition, firstOffset, checkpointAfter } = round.killedAt;
    const expected = run.killOn === 'processor.transaction-committed' ? checkpointAfter! : firstOffset;
    const takeovers = [
      ...run.rounds.slice(index + 1).flatMap((later) => later.reports.filter((r) => r.event === 'processor.partition-assigned')),
      ...run.drainAssigned,
    ] as Array<{ partition: number; nextCommandOffset: string }>;
    const next = takeovers.find((takeover) => takeover.partition === partition);
    if (!next) problems.push(`round ${round.round}: nobody took partition ${partition} over after the kill`);
    else if (BigInt(next.nextCommandOffset) !== expected) {
      problems.push(`round ${round.round}: partition ${partition} resumed at ${next.nextCommandOffset}, expected the checkpoint ${expected}`);
    }
  });
  expectNoProblems(problems, 'the checkpoints resumed after each kill');
}

/** The transaction a worker died in, from its reports. */
function killedTransaction(reports: readonly WorkerReport[], killOn: ProcessorEventName, last: WorkerReport | undefined): RoundResult['killedAt'] {
  const partition = Number(last?.partition);
  // transaction-sent carries the command offsets; transaction-committed carries
  // the new checkpoint, and the offsets come from the same transaction's sent report.
  const sent = [...reports].reverse().find((r) => r.event === 'processor.transaction-sent' && r.partition === partition)!;
  return {
    partition,
    firstOffset: BigInt(String(sent.firstOffset)),
    lastOffset: BigInt(String(sent.lastOffset)),
    ...(killOn === 'processor.transaction-committed' ? { checkpointAfter: BigInt(String(last!.nextCommandOffset)) } : {}),
  };
}

/** The model's commands of a killed transaction (commands topic partition, offsets first..last). */
function chunkCommands(model: BankModel, killedAt: RoundResult['killedAt']) {
  return [...model.commands.values()].filter(
    (command) => command.partition === killedAt.partition && command.offset >= killedAt.firstOffset && command.offset <= killedAt.lastOffset,
  );
}

/**
 * A few concurrent callers that send the workload until stopped, recording
 * what each command's caller saw. A timeout is an unknown outcome, not an
 * error: the command stays in the commands topic and is decided later.
 */
class Senders {
  readonly outcomes: SeenOutcome[] = [];
  readonly finished: Promise<void>;
  private stopping = false;
  private next = 0;

  constructor(
    private readonly bus: KafkaCommandBus,
    private readonly commands: readonly WorkloadCommand[],
    concurrency: number,
  ) {
    this.finished = Promise.all(Array.from({ length: concurrency }, () => this.loop())).then(() => undefined);
  }

  stop(): void {
    this.stopping = true;
  }

  private async loop(): Promise<void> {
    while (!this.stopping && this.next < this.commands.length) {
      const { commandId, command } = this.commands[this.next++];
      let outcome: string;
      try {
        await this.bus.execute(command, { commandId });
        outcome = 'ok';
      } catch (error) {
        outcome = error instanceof InsufficientFundsError ? 'refused' : error instanceof CommandTimeoutError ? 'unknown' : `error:${(error as Error).name}`;
      }
      this.outcomes.push({ commandId, outcome });
    }
  }
}

/** xorshift32, seeded: the kill points of a run can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

async function within<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(onTimeout()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
