/**
 * A topic prefix other than the app's name is honoured by every component of
 * the app alike: processors and buses write and read under it, and replays
 * (like projection runners) read what they wrote.
 */
import { expect } from 'chai';
import { BulkReplay, CommandProcessor, KafkaCommandBus, KafkaEventStore } from '@tributary/kafka';
import { createKafka, kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { Account, Deposit, OpenAccount } from './support/account';

describe('A topic prefix on a real broker', function () {
  this.timeout(120_000);

  it('names the topics, the group and the transactional ids of processors and buses, and replays read them', async () => {
    const app = uniqueName('prefixed');
    const prefix = `team-a.${app}`;
    const options = { app, prefix, brokers: kafkaBrokers(), partitions: 2, aggregates: [Account] };
    const processor = new CommandProcessor({ ...options, stopOnSignals: false });
    await processor.start();
    const bus = new KafkaCommandBus(options);
    await bus.start();
    const store = new KafkaEventStore(options);
    await store.start();
    const admin = createKafka().admin();
    await admin.connect();
    try {
      await bus.execute(new OpenAccount('p-1', 'ada'));
      await bus.execute(new Deposit('p-1', 12));
      expect((await store.readStream({ aggregateType: 'Account', aggregateId: 'p-1' })).map((event) => event.type)).to.deep.equal(['KafkaTest.AccountOpened', 'KafkaTest.Deposited']);

      const topics = await admin.listTopics();
      expect(topics).to.include.members([`${prefix}.commands`, `${prefix}.replies`, `${prefix}.checkpoints`, `${prefix}.Account.events`, `${prefix}.Account.snapshots`]);
      expect(topics.filter((topic) => topic.startsWith(`${app}.`))).to.deep.equal([]);
      const groups = (await admin.listGroups()).groups.map((group) => group.groupId);
      expect(groups).to.include(`${prefix}-cmd`);
      expect(groups).to.not.include(`${app}-cmd`);

      const replayed = await new BulkReplay(options).run();
      expect(replayed.aggregates.get('Account')?.get('p-1')).to.include({ balance: 12, version: 2 });
    } finally {
      await admin.disconnect();
      await store.stop();
      await bus.stop();
      await processor.stop();
    }
  });
});
