/**
 * Rebalance (design tests 5 and 8): processors join and leave while commands
 * flow. Partitions move A → B when B joins and back B → A when B leaves, each
 * time with the new owner fencing, restoring and resuming from the checkpoint.
 * No command may be lost or decided twice, and when a partition comes back to
 * A, A must decide on the state B left, not on what A held before.
 */
import { expect } from 'chai';
import { CommandProcessor, KafkaCommandBus, ProcessorEvents } from '@tributary/kafka';
import { createKafka, kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { Account, InsufficientFundsError } from './support/account';
import { accountIds, workload } from './support/bank-workload';
import {
  SeenOutcome,
  eventLogProblems,
  expectNoProblems,
  loadAccounts,
  openAccounts,
  outcomeProblems,
  readToEnd,
  serialModel,
  stateProblems,
} from './support/bank-verification';

describe('Rebalance while commands flow', function () {
  this.timeout(180_000);
  const app = uniqueName('rebalance');
  const partitions = 4;
  const accounts = accountIds(10);
  // A getter: the services are started after the suites are defined.
  const options = { app, get brokers() { return kafkaBrokers(); }, aggregates: [Account], partitions, sessionTimeoutMs: 3000 };
  const processors: CommandProcessor[] = [];
  let bus: KafkaCommandBus;

  after(async () => {
    await bus?.stop();
    for (const processor of processors) await processor.stop();
  });

  it('loses no command and decides none twice as a processor joins and leaves; partitions moving A→B→A keep no stale state', async () => {
    const a = new CommandProcessor(options);
    processors.push(a);
    const aLog: Array<{ event: string; partition: number }> = [];
    const record = (event: keyof ProcessorEvents) => (payload: { partition: number }) => aLog.push({ event, partition: payload.partition });
    a.on('processor.partition-assigned', record('processor.partition-assigned'));
    a.on('processor.partition-released', record('processor.partition-released'));
    await a.start();
    bus = new KafkaCommandBus({ ...options, domainErrors: [InsufficientFundsError], commandTimeoutMs: 60_000 });
    await bus.start();
    await openAccounts(bus, accounts, 10);

    const commands = workload(7, 600, accounts.length);
    const seen: SeenOutcome[] = [];
    let next = 0;
    const senders = Array.from({ length: 8 }, async () => {
      while (next < commands.length) {
        const { commandId, command } = commands[next++];
        try {
          await bus.execute(command, { commandId });
          seen.push({ commandId, outcome: 'ok' });
        } catch (error) {
          seen.push({ commandId, outcome: error instanceof InsufficientFundsError ? 'refused' : `error:${(error as Error).name}` });
        }
      }
    });
    const answered = (count: number) => waitUntil(() => seen.length >= count, 90_000);

    await answered(150);
    const b = new CommandProcessor(options);
    processors.push(b);
    await b.start(); // joins: some partitions move A → B
    await answered(350);
    await b.stop(); // leaves: they move back B → A
    await Promise.all(senders);

    const loaded = await loadAccounts(bus, accounts);
    const kafka = createKafka('rebalance-verify');
    const model = serialModel(await readToEnd(kafka, a.layout.commands), partitions);
    const events = await readToEnd(kafka, a.layout.events('Account'));

    const movedAway = new Set(aLog.filter((e) => e.event === 'processor.partition-released').map((e) => e.partition));
    const cameBack = aLog.filter((e) => e.event === 'processor.partition-assigned' && movedAway.has(e.partition));
    expect(movedAway.size, 'B took partitions from A').to.be.greaterThan(0);
    expect(new Set(cameBack.map((e) => e.partition)), 'and gave them back').to.deep.equal(movedAway);

    expect(seen).to.have.length(commands.length);
    expect(seen.filter((s) => s.outcome.startsWith('error:'))).to.deep.equal([]);
    expectNoProblems(outcomeProblems(model, seen), 'the answers the caller saw');
    expectNoProblems(eventLogProblems(model, events), 'the committed events');
    // A decides on what B left: its state after the partitions came back equals the serial result.
    expectNoProblems(stateProblems(model, loaded), 'the state A holds');
  });
});

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
