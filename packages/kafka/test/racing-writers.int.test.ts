/**
 * Racing writers (design tests 1 and 5): two processes, each a CommandProcessor
 * plus a KafkaCommandBus, send 1,000 commands each to the same 10 hot accounts
 * at the same time. They race twice: as callers on the same aggregates, and as
 * processors, since the second one's arrival moves partitions away from the
 * first while transactions are in flight (fencing, restore, resume).
 *
 * Single-writer ownership must make the result equal to the SERIAL result of
 * the commands topic: no lost update, no event written twice, versions
 * contiguous, and every answer a caller got true to what was committed.
 */
import { expect } from 'chai';
import { CommandProcessor, HEADER, KafkaCommandBus } from '@tributary/kafka';
import { createKafka, kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { Account, InsufficientFundsError } from './support/account';
import { accountIds } from './support/bank-workload';
import {
  SeenOutcome,
  TopicRecord,
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
import { WorkerProcess } from './support/worker-process';

describe('Racing writers (two processor processes, one set of hot accounts)', function () {
  this.timeout(180_000);
  const app = uniqueName('race');
  const partitions = 4;
  const accounts = accountIds(10);
  const perWorker = 1_000;
  const seeds = [101, 202];
  let bus: KafkaCommandBus;
  let workers: WorkerProcess[] = [];

  before(async () => {
    // Open the accounts with a processor of our own, then stop it so that the
    // two workers are the only members of the processors' group.
    const setup = new CommandProcessor({ app, brokers: kafkaBrokers(), aggregates: [Account], partitions, sessionTimeoutMs: 3000 });
    await setup.start();
    bus = new KafkaCommandBus({ app, brokers: kafkaBrokers(), aggregates: [Account], partitions, domainErrors: [InsufficientFundsError] });
    await bus.start();
    // A small first deposit, so the no-overdraft rule refuses some withdrawals
    // and the order in which commands are decided matters.
    await openAccounts(bus, accounts, 10);
    await setup.stop();
  });

  after(async () => {
    for (const worker of workers) worker.kill();
    await bus?.stop();
  });

  it('end in the serial result of the commands topic, with contiguous versions and truthful answers', async () => {
    const started = Date.now();
    const spawn = (seed: number) =>
      new WorkerProcess({
        KAFKA_BROKERS: kafkaBrokers().join(','),
        TRIBUTARY_APP: app,
        PARTITIONS: String(partitions),
        SESSION_TIMEOUT_MS: '3000',
        SEND_COUNT: String(perWorker),
        SEND_SEED: String(seed),
        ACCOUNTS: String(accounts.length),
        SEND_CONCURRENCY: '20',
      });
    // The second writer starts once the first owns every partition (and starts
    // sending), so its arrival always moves partitions away from the first,
    // possibly with a transaction in flight; from then on both send to the
    // same accounts and both process.
    workers = [spawn(seeds[0])];
    await workers[0].waitFor('ready', 60_000);
    workers.push(spawn(seeds[1]));
    // Each worker reports 'sent' once every one of its commands has an answer
    // (its commands time out after 60 s, far above what a rebalance takes).
    const sent = await Promise.all(workers.map((worker) => worker.waitFor('sent', 150_000)));
    await Promise.all(workers.map((worker) => worker.stop()));
    for (const worker of workers) expect(await worker.exited, `worker ${worker.pid} exit`).to.deep.equal({ code: 0, signal: null });
    const racedMs = Date.now() - started;

    // Load through a fresh processor in this process: it restores every
    // partition from the snapshots topic, so this also checks that restore.
    const processor = new CommandProcessor({ app, brokers: kafkaBrokers(), aggregates: [Account], partitions, sessionTimeoutMs: 3000 });
    await processor.start();
    let loaded: Awaited<ReturnType<typeof loadAccounts>>;
    try {
      loaded = await loadAccounts(bus, accounts);
    } finally {
      await processor.stop();
    }

    const kafka = createKafka('racing-writers-verify');
    const commandRecords = await readToEnd(kafka, processor.layout.commands);
    const events = await readToEnd(kafka, processor.layout.events('Account')); // read_committed
    const model = serialModel(commandRecords, partitions);
    const seen = sent.flatMap((report) => report.results as SeenOutcome[]);

    const counts = outcomeCounts(model);
    const interleaved = interleavings(commandRecords);
    console.log(
      `      raced ${racedMs} ms; ${seen.length} answers; model: ${JSON.stringify(counts)}; ` +
        `switches between the two writers' commands in the commands topic: ${interleaved}; ` +
        `per worker: ${workers.map((w) => JSON.stringify(eventCounts(w))).join(' and ')}`,
    );

    // Every command each worker sent got an answer and reached the commands topic once.
    expect(seen).to.have.length(perWorker * seeds.length);
    expect(new Set(seen.map((s) => s.commandId)).size).to.equal(perWorker * seeds.length);
    expect(model.commands.size).to.equal(perWorker * seeds.length + 2 * accounts.length);
    // The rule did bite (otherwise the order of decisions would not matter).
    expect(counts.refused).to.be.greaterThan(0);
    expect(counts['not-found'] + counts['already-exists']).to.equal(0);

    // (d) no worker saw an error other than the rule's refusal.
    expect(seen.filter((s) => s.outcome !== 'ok' && s.outcome !== 'refused')).to.deep.equal([]);
    // (c) 'ok' = accepted by the serial model, 'refused' = refused by it …
    expectNoProblems(outcomeProblems(model, seen), 'the answers the workers saw');
    // (b)+(c) … and the committed events are exactly the model's: per account
    // sequences 1..n without gap or duplicate, per command all its events once
    // (acknowledged ones included), none for refused commands.
    expectNoProblems(eventLogProblems(model, events), 'the committed events');
    // (a) loaded state (restored from snapshots) = serial result, and n = the loaded version.
    expectNoProblems(stateProblems(model, loaded), 'the loaded accounts');
    expect([...loaded.keys()].sort()).to.deep.equal([...accounts].sort());
  });
});

/** How many of each instrumentation event a worker reported, with the reasons of its partition releases. */
function eventCounts(worker: WorkerProcess): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const report of worker.reports) {
    if (!report.event.startsWith('processor.')) continue;
    const name = report.event.replace('processor.', '') + (report.reason ? `:${String(report.reason)}` : '');
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/**
 * How often, within a partition, consecutive commands come from different
 * writers (command ids `s<seed>-c<n>`): well above 0 means they really raced.
 * Logged, not asserted: it depends on timing.
 */
function interleavings(records: TopicRecord[]): number {
  let switches = 0;
  let previous: { partition: number; writer: string } | undefined;
  for (const record of records) {
    const id = header(record.headers, HEADER.commandId) ?? '';
    if (!/^s\d+-c\d+$/.test(id)) continue;
    const writer = id.split('-')[0];
    if (previous && previous.partition === record.partition && previous.writer !== writer) switches += 1;
    previous = { partition: record.partition, writer };
  }
  return switches;
}
