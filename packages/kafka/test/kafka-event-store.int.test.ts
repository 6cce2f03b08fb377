import { expect } from 'chai';
import { InvalidOptionError } from '@tributary/core';
import { CommandProcessor, KafkaCommandBus, KafkaEventStore } from '@tributary/kafka';
import { eventStoreContract } from '@tributary/testing';
import { kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { Account, Deposit, InsufficientFundsError, OpenAccount } from './support/account';

describe('KafkaEventStore on a real broker', function () {
  this.timeout(180_000);
  const app = uniqueName('store');
  // One partition: the contract expects one commit order across streams, which Kafka keeps only within a partition.
  const connection = () => ({ app, brokers: kafkaBrokers(), aggregates: [Account], partitions: 1, streams: ['ContractTest'] });
  let processor: CommandProcessor;
  let store: KafkaEventStore;
  let bus: KafkaCommandBus;

  before(async () => {
    processor = new CommandProcessor(connection());
    await processor.start();
    store = new KafkaEventStore(connection());
    await store.start();
    bus = new KafkaCommandBus({ ...connection(), domainErrors: [InsufficientFundsError] });
    await bus.start();
  });

  after(async () => {
    await bus?.stop();
    await store?.stop();
    await processor?.stop();
  });

  eventStoreContract('KafkaEventStore', async () => store, { propertyRuns: 30 });

  it('reads an aggregate’s history written by commands, from its first event, by sequence range', async () => {
    await bus.execute(new OpenAccount('history-1', 'ada'));
    for (let amount = 1; amount <= 4; amount += 1) await bus.execute(new Deposit('history-1', amount));
    const history = await store.readStream({ aggregateType: 'Account', aggregateId: 'history-1' });
    expect(history.map((e) => [e.sequence, e.type])).to.deep.equal([
      [1, 'KafkaTest.AccountOpened'],
      [2, 'KafkaTest.Deposited'],
      [3, 'KafkaTest.Deposited'],
      [4, 'KafkaTest.Deposited'],
      [5, 'KafkaTest.Deposited'],
    ]);
    const middle = await store.readStream({ aggregateType: 'Account', aggregateId: 'history-1' }, { fromSequence: 3, toSequence: 4 });
    expect(middle.map((e) => e.payload)).to.deep.equal([{ amount: 2 }, { amount: 3 }]);
  });

  it('refuses raw appends to an aggregate’s stream: aggregates change through their commands', async () => {
    const error = await store.appendToStream({ aggregateType: 'Account', aggregateId: 'history-1' }, 5, []).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(InvalidOptionError);
  });
});
