import { expect } from 'chai';
import { AggregateNotFoundError } from '@tributary/core';
import { CommandProcessor, KafkaCommandBus, TopicLayout } from '@tributary/kafka';
import { createKafka, createTopic, kafkaBrokers, readMessages, uniqueName } from '../../../test-support/integration';
import { Account, Deposit, InsufficientFundsError, OpenAccount } from './support/account';

// Compaction only cleans closed segments; these settings make the broker roll
// and clean within seconds, so the test can watch erasure actually happen.
const FAST_COMPACTION = {
  'cleanup.policy': 'compact',
  'segment.ms': '100',
  'min.cleanable.dirty.ratio': '0.01',
  'delete.retention.ms': '100',
  'min.compaction.lag.ms': '0',
};

describe('erasing an aggregate', function () {
  this.timeout(120_000);
  const app = uniqueName('erasure');
  // Read when the tests run: the services are started after the suites are defined.
  const brokers = (): string[] => kafkaBrokers();
  // One partition, so the neighbours' writes roll the segment holding the erased records.
  const partitions = 1;
  let processor: CommandProcessor;
  let bus: KafkaCommandBus;

  before(async () => {
    const layout = new TopicLayout({ app, partitions });
    const admin = createKafka('erasure-admin').admin();
    await admin.connect();
    for (const topic of [layout.events('Account'), layout.snapshots('Account')]) {
      await createTopic(admin, topic, { partitions, config: FAST_COMPACTION });
    }
    await admin.disconnect();
    processor = new CommandProcessor({ app, brokers: brokers(), aggregates: [Account], partitions });
    await processor.start();
    bus = new KafkaCommandBus({ app, brokers: brokers(), aggregates: [Account], partitions, domainErrors: [InsufficientFundsError] });
    await bus.start();
  });

  after(async () => {
    await bus?.stop();
    await processor?.stop();
  });

  it('tombstones the aggregate’s events and snapshot; after compaction they are gone and the neighbours’ are intact', async () => {
    const ids = ['keep-1', 'forget-me', 'keep-2'];
    for (const id of ids) {
      await bus.execute(new OpenAccount(id, id));
      for (let i = 1; i <= 3; i += 1) await bus.execute(new Deposit(id, i));
    }
    const kafka = createKafka('erasure-reader');
    const eventsTopic = processor.layout.events('Account');
    const before = await readMessages(kafka, eventsTopic, { until: (messages) => messages.length >= 12 });
    expect(before.filter((m) => m.key?.toString().startsWith('forget-me:'))).to.have.length(4);

    await bus.eraseAggregate(Account, 'forget-me');
    expect(await bus.load(Account, 'forget-me').catch((e: unknown) => e)).to.be.instanceOf(AggregateNotFoundError);

    // Tombstones linger for delete.retention.ms after a clean; the events themselves must be gone.
    const erasedKeys = (messages: { key: Buffer | null; value: Buffer | null }[]) =>
      messages.filter((m) => m.key?.toString().startsWith('forget-me:') && m.value !== null);
    // Keep writing elsewhere so segments roll and the cleaner gets to the old ones.
    let compacted = false;
    for (let attempt = 0; attempt < 40 && !compacted; attempt += 1) {
      await bus.execute(new Deposit('keep-1', 1));
      const records = await readMessages(kafka, eventsTopic, { until: (messages) => messages.filter((m) => m.key?.toString().startsWith('keep-2:')).length >= 4 });
      compacted = erasedKeys(records).length === 0;
      if (!compacted) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(compacted, 'the erased aggregate’s records were compacted away').to.equal(true);

    const records = await readMessages(kafka, eventsTopic, { until: (messages) => messages.filter((m) => m.key?.toString().startsWith('keep-2:')).length >= 4 });
    const keys = records.map((m) => m.key!.toString());
    for (const id of ['keep-1', 'keep-2']) {
      expect(keys.filter((key) => key.startsWith(`${id}:`)).slice(0, 4), `${id} keeps its history`).to.deep.equal([`${id}:1`, `${id}:2`, `${id}:3`, `${id}:4`]);
    }
    expect(erasedKeys(records)).to.deep.equal([]);
    expect(await bus.load(Account, 'keep-2')).to.include({ balance: 6, version: 4 });
  });
});
