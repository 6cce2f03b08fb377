import { expect } from 'chai';
import { AggregateAlreadyExistsError, AggregateNotFoundError, WrongExpectedVersionError } from '@tributary/core';
import { CommandProcessor, KafkaCommandBus, partitionForKey } from '@tributary/kafka';
import { createKafka, kafkaBrokers, readMessages, uniqueName } from '../../../test-support/integration';
import { Account, Deposit, Deposited, InsufficientFundsError, OpenAccount, Withdraw, Withdrawn } from './support/account';

describe('CommandProcessor and KafkaCommandBus on a real broker', function () {
  this.timeout(120_000);
  const app = uniqueName('bank');
  const partitions = 3;
  let processor: CommandProcessor;
  let bus: KafkaCommandBus;

  before(async () => {
    processor = new CommandProcessor({ app, brokers: kafkaBrokers(), aggregates: [Account], partitions });
    await processor.start();
    bus = new KafkaCommandBus({ app, brokers: kafkaBrokers(), aggregates: [Account], partitions, domainErrors: [InsufficientFundsError] });
    await bus.start();
  });

  after(async () => {
    await bus?.stop();
    await processor?.stop();
  });

  it('executes commands sent from another client, returning the committed events, with read-your-writes', async () => {
    const opened = await bus.execute(new OpenAccount('acc-1', 'ada'));
    expect(opened).to.include({ aggregateType: 'Account', aggregateId: 'acc-1', version: 1 });
    const deposited = await bus.execute(new Deposit('acc-1', 100), { correlationId: 'req-1', metadata: { user: 'ada' } });
    expect(deposited.version).to.equal(2);
    expect(deposited.events[0].payload).to.be.instanceOf(Deposited).and.deep.include({ amount: 100 });
    expect(deposited.events[0]).to.include({ sequence: 2, correlationId: 'req-1', type: 'KafkaTest.Deposited' });
    await bus.execute(new Withdraw('acc-1', 30));
    const account = await bus.load(Account, 'acc-1');
    expect(account).to.be.instanceOf(Account);
    expect(account).to.include({ id: 'acc-1', owner: 'ada', balance: 70, version: 3 });
  });

  it('throws the processor’s errors as their own classes', async () => {
    await bus.execute(new OpenAccount('acc-2', 'grace'));
    const overdraft = await bus.execute(new Withdraw('acc-2', 5)).catch((e: unknown) => e);
    expect(overdraft).to.be.instanceOf(InsufficientFundsError).and.include({ code: 'INSUFFICIENT_FUNDS', accountId: 'acc-2', balance: 0, requested: 5 });
    expect(await bus.execute(new Deposit('nobody', 1)).catch((e: unknown) => e)).to.be.instanceOf(AggregateNotFoundError);
    expect(await bus.execute(new OpenAccount('acc-2', 'again')).catch((e: unknown) => e)).to.be.instanceOf(AggregateAlreadyExistsError);
    const stale = await bus.execute(new Deposit('acc-2', 1), { expectedVersion: 7 }).catch((e: unknown) => e);
    expect(stale).to.be.instanceOf(WrongExpectedVersionError).and.include({ expectedVersion: 7, actualVersion: 1 });
    expect((await bus.load(Account, 'acc-2')).version).to.equal(1);
  });

  it('writes each event keyed <id>:<sequence> to the id’s murmur2 partition, envelope in headers', async () => {
    await bus.execute(new OpenAccount('acc-3', 'linus'));
    await bus.execute(new Deposit('acc-3', 10));
    await bus.execute(new Withdraw('acc-3', 4));
    const kafka = createKafka('events-reader');
    const records = await readMessages(kafka, processor.layout.events('Account'), {
      until: (messages) => messages.filter((m) => m.key?.toString().startsWith('acc-3:')).length >= 3,
    });
    const mine = records.filter((m) => m.key?.toString().startsWith('acc-3:'));
    expect(mine.map((m) => m.key!.toString())).to.deep.equal(['acc-3:1', 'acc-3:2', 'acc-3:3']);
    expect(mine.map((m) => m.headers!['tributary.type']!.toString())).to.deep.equal([
      'KafkaTest.AccountOpened',
      'KafkaTest.Deposited',
      'KafkaTest.Withdrawn',
    ]);
    expect(new Set(mine.map((m) => m.partition))).to.deep.equal(new Set([partitionForKey('acc-3', partitions)]));
    expect(JSON.parse(mine[2].value!.toString())).to.deep.equal({ amount: 4 });
    expect(new Withdrawn(4)).to.deep.equal(Object.assign(new Withdrawn(0), JSON.parse(mine[2].value!.toString())));
  });
});
