/**
 * State as of a time and as of a position on Kafka: the time becomes a
 * position in the aggregate's partition with offsetsForTimes, and the
 * rehydrator applies the events up to it, from the nearest snapshot that is
 * not past it. Each answer must equal a full replay cut at that point.
 */
import { expect } from 'chai';
import { InMemorySnapshotStore, Rehydrator } from '@tributary/core';
import { CommandProcessor, KafkaCommandBus, KafkaEventStore } from '@tributary/kafka';
import { kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { Account, Deposit, InsufficientFundsError, OpenAccount, Withdraw } from './support/account';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const stateOf = (account: Account | undefined) => account && { balance: account.balance, version: account.version };

describe('Temporal queries on a real broker', function () {
  this.timeout(120_000);
  const app = uniqueName('temporal');
  const connection = () => ({ app, brokers: kafkaBrokers(), aggregates: [Account], partitions: 2 });
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

  it('answers as of a time (offsetsForTimes) and as of a position, equal to a full replay cut there', async () => {
    const stream = { aggregateType: 'Account', aggregateId: 'temporal-1' };
    const times: Date[] = [];
    const mark = async () => {
      await pause(25);
      times.push(new Date());
      await pause(25);
    };
    await mark(); // before anything
    await bus.execute(new OpenAccount('temporal-1', 'ada'));
    await bus.execute(new Deposit('temporal-1', 10));
    await mark(); // after version 2
    await bus.execute(new Deposit('temporal-1', 20));
    await bus.execute(new Withdraw('temporal-1', 5));
    await mark(); // after version 4
    await bus.execute(new Deposit('temporal-1', 100));

    const snapshots = new InMemorySnapshotStore();
    const accounts = new Rehydrator({ aggregate: Account, eventStore: store, snapshots });
    const replayOnly = new Rehydrator({ aggregate: Account, eventStore: store });
    // A snapshot of the newest state: past every point asked about below, so it must not be used for them.
    const now = (await accounts.load('temporal-1'))!;
    const history = await store.readStream(stream);
    await accounts.takeSnapshot(now, history.at(-1)!.occurredAt, String((history.at(-1) as { position?: number }).position));

    const expectations = [undefined, { balance: 10, version: 2 }, { balance: 25, version: 4 }];
    for (const [index, time] of times.entries()) {
      const position = await store.positionAt(stream, time);
      const cut = expectations[index];
      expect(stateOf(await accounts.load('temporal-1', { asOfPosition: position })), `as of position at mark ${index}`).to.deep.equal(cut);
      expect(stateOf(await accounts.load('temporal-1', { asOf: time })), `as of time at mark ${index}`).to.deep.equal(cut);
      if (cut) expect(stateOf(await replayOnly.load('temporal-1', { version: cut.version }))).to.deep.equal(cut);
    }
    expect(stateOf(await accounts.load('temporal-1', { asOfPosition: await store.positionAt(stream, new Date(Date.now() + 60_000)) }))).to.deep.equal({ balance: 125, version: 5 });
  });

  it('reads only the tail after a snapshot’s position, and distrusts a hint past the events asked for', async () => {
    const stream = { aggregateType: 'Account', aggregateId: 'tail-1' };
    await bus.execute(new OpenAccount('tail-1', 'grace'));
    for (let amount = 1; amount <= 6; amount += 1) await bus.execute(new Deposit('tail-1', amount));
    const all = (await store.readStream(stream)) as Array<{ sequence: number; position?: number }>;
    expect(all.map((event) => event.sequence)).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);

    const afterPosition = all[3].position!; // the position of sequence 4
    const tail = await store.readStream(stream, { fromSequence: 5, afterPosition });
    expect(tail.map((event) => event.sequence)).to.deep.equal([5, 6, 7]);
    // A hint past sequence 5 (a snapshot from another log) must not lose events.
    const misled = await store.readStream(stream, { fromSequence: 2, afterPosition: all[5].position! });
    expect(misled.map((event) => event.sequence)).to.deep.equal([2, 3, 4, 5, 6, 7]);

    // Through the rehydrator: a snapshot at sequence 4 with its position, then the tail.
    const snapshots = new InMemorySnapshotStore();
    const accounts = new Rehydrator({ aggregate: Account, eventStore: store, snapshots });
    await accounts.takeSnapshot((await accounts.load('tail-1', { version: 4 }))!, new Date(), String(afterPosition));
    expect(stateOf(await accounts.load('tail-1'))).to.deep.equal({ balance: 21, version: 7 });
  });
});
