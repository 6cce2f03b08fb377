import { expect } from 'chai';
import { CommandProcessor, KafkaCommandBus } from '@tributary/kafka';
import { createKafka, kafkaBrokers, readMessages, uniqueName } from '../../../test-support/integration';
import { Account, Deposit, InsufficientFundsError, OpenAccount } from './support/account';
import { WorkerProcess } from './support/worker-process';

// A processor whose event loop freezes mid-transaction (a long GC pause, a
// stopped VM) loses its partition when its session expires. The new owner's
// producer, with the same transactional id, fences it: the frozen transaction is
// aborted, and when the zombie wakes up its commit fails and it writes nothing.
describe('fencing a zombie processor', function () {
  this.timeout(120_000);
  const app = uniqueName('fencing');
  // Read when the tests run: the services are started after the suites are defined.
  const brokers = (): string[] => kafkaBrokers();
  let zombie: WorkerProcess | undefined;
  let successor: CommandProcessor | undefined;
  let bus: KafkaCommandBus | undefined;

  after(async () => {
    zombie?.kill();
    await bus?.stop();
    await successor?.stop();
  });

  it('fences the first owner when a second process takes its transactional id, and the first never writes again', async () => {
    zombie = new WorkerProcess({
      TRIBUTARY_APP: app,
      PARTITIONS: '1',
      SESSION_TIMEOUT_MS: '2000',
      // Transaction 1 opens the account; transaction 2 (the deposit) freezes after its send.
      BLOCK_ON: 'processor.transaction-sent',
      BLOCK_AT: '2',
      BLOCK_MS: '12000',
    });
    await zombie.waitFor('ready');
    bus = new KafkaCommandBus({ app, brokers: brokers(), aggregates: [Account], partitions: 1, domainErrors: [InsufficientFundsError], commandTimeoutMs: 60_000 });
    await bus.start();
    await bus.execute(new OpenAccount('z-1', 'zed'));

    const deposit = bus.execute(new Deposit('z-1', 25), { commandId: 'deposit-once' });
    await zombie.waitFor('blocking');

    successor = new CommandProcessor({ app, brokers: brokers(), aggregates: [Account], partitions: 1, sessionTimeoutMs: 2000 });
    await successor.start();
    const result = await deposit;
    expect(result.version, 'the successor decided the deposit').to.equal(2);

    const fenced = await zombie.waitFor('processor.transaction-aborted');
    expect(fenced.error).to.include({ code: 'PRODUCER_FENCED' });
    const committedAfterFence = zombie.reports.filter(
      (report) => report.event === 'processor.transaction-committed' && zombie!.reports.indexOf(report) > zombie!.reports.indexOf(fenced),
    );
    expect(committedAfterFence).to.deep.equal([]);
    zombie.kill();

    const kafka = createKafka('fencing-reader');
    const topic = successor.layout.events('Account');
    const committed = await readMessages(kafka, topic, { until: (messages) => messages.length >= 2 });
    const deposits = committed.filter((m) => m.headers?.['tributary.causation-id']?.toString() === 'deposit-once');
    expect(deposits.map((m) => m.key?.toString()), 'exactly one committed copy of the deposit').to.deep.equal(['z-1:2']);

    // The zombie did send its copy into the frozen transaction; only aborted, it never became visible.
    const everything = await readMessages(kafka, topic, { readUncommitted: true, until: (messages) => messages.length >= 3 });
    expect(everything.filter((m) => m.headers?.['tributary.causation-id']?.toString() === 'deposit-once')).to.have.length(2);
    expect(await bus.load(Account, 'z-1')).to.include({ balance: 25, version: 2 });
  });
});
