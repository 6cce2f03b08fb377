import { expect } from 'chai';
import { EventData, InvalidOptionError, JsonSerializer, SerializationContext } from '@tributary/core';
import { CommandProcessor, KafkaCommandBus, KafkaEventStore } from '@tributary/kafka';
import { eventStoreContract } from '@tributary/testing';
import { kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { Account, Deposit, InsufficientFundsError, OpenAccount } from './support/account';

/** JSON, remembering what each read was told, to check that records are named by partition and offset. */
class RecordingSerializer extends JsonSerializer {
  readonly reads: SerializationContext[] = [];
  override deserialize(bytes: Uint8Array, context: SerializationContext): EventData {
    this.reads.push(context);
    return super.deserialize(bytes, context);
  }
}

describe('KafkaEventStore on a real broker', function () {
  this.timeout(180_000);
  const app = uniqueName('store');
  // One partition: the contract expects one commit order across streams, which Kafka keeps only within a partition.
  const connection = () => ({ app, brokers: kafkaBrokers(), aggregates: [Account], partitions: 1, streams: ['ContractTest'] });
  let processor: CommandProcessor;
  let store: KafkaEventStore;
  let bus: KafkaCommandBus;
  const serializer = new RecordingSerializer();

  before(async () => {
    processor = new CommandProcessor(connection());
    await processor.start();
    store = new KafkaEventStore({ ...connection(), serializer });
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
    // Every read names its record, so a decoding error can say which one it failed on.
    const read = serializer.reads.filter((context) => context.type === 'KafkaTest.Deposited');
    expect(read).to.have.length.greaterThan(0);
    for (const context of read) {
      expect(context.partition).to.equal(0);
      expect(context.offset).to.match(/^\d+$/);
    }
  });

  it('refuses raw appends to an aggregate’s stream: aggregates change through their commands', async () => {
    const error = await store.appendToStream({ aggregateType: 'Account', aggregateId: 'history-1' }, 5, []).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(InvalidOptionError);
  });
});
