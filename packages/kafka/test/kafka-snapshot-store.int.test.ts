import { CorruptSnapshotError } from '@tributary/core';
import { expect } from 'chai';
import { InvalidOptionError, Snapshot } from '@tributary/core';
import { KafkaSnapshotStore, TopicLayout, TopicMissingError, TopicWouldLoseHistoryError } from '@tributary/kafka';
import { snapshotRehydrationContract, snapshotStoreContract } from '@tributary/testing';
import { Admin, Producer } from 'kafkajs';
import { createKafka, createTopic, kafkaBrokers, uniqueName } from '../../../test-support/integration';

describe('KafkaSnapshotStore on a real broker', function () {
  this.timeout(60_000);
  const topic = uniqueName('snapshot-store');
  const stores: KafkaSnapshotStore[] = [];
  const topics: string[] = [topic];
  let admin: Admin;
  let producer: Producer;

  /** A store on this run's topic, stopped after the suite. */
  function storeOn(name: string, options: Partial<ConstructorParameters<typeof KafkaSnapshotStore>[0]> = {}): KafkaSnapshotStore {
    const store = new KafkaSnapshotStore({ brokers: kafkaBrokers(), topic: name, ...options });
    stores.push(store);
    return store;
  }

  before(async () => {
    const kafka = createKafka();
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
  });

  after(async () => {
    await Promise.all(stores.map((store) => store.stop()));
    await producer?.disconnect();
    await admin?.deleteTopics({ topics }).catch(() => undefined);
    await admin?.disconnect();
  });

  snapshotStoreContract('KafkaSnapshotStore', async () => {
    const store = storeOn(topic);
    await store.start();
    return store;
  });
  snapshotRehydrationContract(
    'KafkaSnapshotStore',
    async () => {
      const store = storeOn(topic);
      await store.start();
      return store;
    },
    { propertyRuns: 20 },
  );

  it('creates its topic compacted', async () => {
    await storeOn(topic).start();
    const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic, configNames: ['cleanup.policy'] }] });
    expect(resources[0].configEntries[0].configValue).to.equal('compact');
  });

  it('restores what earlier stores saved and deleted when a new one starts', async () => {
    const writer = storeOn(topic);
    await writer.start();
    const kept = snapshotOf('restored', 5);
    await writer.save(snapshotOf('restored', 2));
    await writer.save(kept);
    await writer.save(snapshotOf('restored', 3));
    await writer.save(snapshotOf('deleted', 4));
    await writer.delete('Damaged', 'deleted');
    await writer.save({ ...snapshotOf('other-type', 7), aggregateType: 'Other' });

    const reader = storeOn(topic);
    await reader.start();
    const loaded = await reader.load('Damaged', 'restored');
    expect(loaded?.version).to.equal(5);
    expect(loaded?.state).to.deep.equal(kept.state);
    expect(loaded?.occurredAt.getTime()).to.equal(kept.occurredAt.getTime());
    expect(await reader.load('Damaged', 'deleted')).to.equal(undefined);
    expect((await reader.load('Other', 'other-type'))?.version).to.equal(7);
    expect(await reader.load('Damaged', 'other-type')).to.equal(undefined);
    // The restored version still guards against older saves.
    await reader.save(snapshotOf('restored', 4));
    expect((await reader.load('Damaged', 'restored'))?.version).to.equal(5);
  });

  it('loads corrupt records as undefined, reports each, and lets a save replace them', async () => {
    const damagedTopic = uniqueName('snapshot-store-damaged');
    topics.push(damagedTopic);
    await createTopic(admin, damagedTopic, { config: { 'cleanup.policy': 'compact' } });
    const at = new Date().toISOString();
    const damages: Record<string, string> = {
      'not-json': '{"version":3,"state":{',
      'not-an-object': '[1,2,3]',
      'no-state': JSON.stringify({ version: 3, shapeVersion: 's1', occurredAt: at }),
      'state-is-text': JSON.stringify({ version: 3, state: 'garbage', shapeVersion: 's1', occurredAt: at }),
      'bad-date': JSON.stringify({ version: 3, state: {}, shapeVersion: 's1', occurredAt: 'yesterday' }),
      'someone-else': JSON.stringify({ version: 3, aggregateId: 'another', state: {}, shapeVersion: 's1', occurredAt: at }),
    };
    await producer.send({ topic: damagedTopic, messages: Object.entries(damages).map(([id, value]) => ({ key: `Damaged:${id}`, value })) });

    const reported: Array<{ error: CorruptSnapshotError; aggregateType: string; aggregateId: string }> = [];
    const store = storeOn(damagedTopic, { onCorrupt: (error, aggregateType, aggregateId) => reported.push({ error, aggregateType, aggregateId }) });
    await store.start();
    for (const id of Object.keys(damages)) {
      expect(await store.load('Damaged', id), id).to.equal(undefined);
    }
    expect(reported.map((each) => each.aggregateId)).to.deep.equal(Object.keys(damages));
    for (const each of reported) {
      expect(each.aggregateType).to.equal('Damaged');
      expect(each.error).to.be.instanceOf(CorruptSnapshotError);
      expect(each.error.message).to.include(damagedTopic);
    }
    // A record with a readable version keeps it; one without is replaced by any save.
    await store.save(snapshotOf('not-an-object', 1));
    expect((await store.load('Damaged', 'not-an-object'))?.version).to.equal(1);
    await store.save(snapshotOf('no-state', 3));
    expect((await store.load('Damaged', 'no-state'))?.version).to.equal(3);
  });

  it('refuses an existing topic that would delete old records, and a missing one when told not to create it', async () => {
    const deleting = uniqueName('snapshot-store-delete');
    topics.push(deleting);
    await createTopic(admin, deleting, { config: { 'cleanup.policy': 'delete' } });
    try {
      await storeOn(deleting).start();
      expect.fail('started on a topic with cleanup.policy=delete');
    } catch (error) {
      expect(error).to.be.instanceOf(TopicWouldLoseHistoryError);
    }
    try {
      await storeOn(uniqueName('snapshot-store-missing'), { createTopic: false }).start();
      expect.fail('started on a missing topic');
    } catch (error) {
      expect(error).to.be.instanceOf(TopicMissingError);
    }
  });

  it('names its topic through the layout, apart from the processors’ snapshots topics', () => {
    const layout = new TopicLayout({ app: 'shop', partitions: 6 });
    expect(layout.snapshotStore).to.equal('shop.snapshot-store');
    expect(layout.topicsFor(['snapshot-store']).map((spec) => spec.name)).to.not.include(layout.snapshotStore);
    expect(new KafkaSnapshotStore({ brokers: kafkaBrokers(), app: 'shop', prefix: 'acme.shop' }).topic).to.equal('acme.shop.snapshot-store');
    expect(() => new KafkaSnapshotStore({ brokers: kafkaBrokers() })).to.throw(InvalidOptionError, /app/);
    expect(() => new KafkaSnapshotStore({ brokers: kafkaBrokers(), app: 'shop', topic: 'x' })).to.throw(InvalidOptionError, /either/);
    expect(() => new KafkaSnapshotStore({ brokers: kafkaBrokers(), topic: 'bad topic' })).to.throw(InvalidOptionError, /topic/);
    expect(() => new KafkaSnapshotStore({ brokers: [], topic: 't' })).to.throw(InvalidOptionError, /brokers/);
  });
});

function snapshotOf(aggregateId: string, version: number): Snapshot {
  return { aggregateType: 'Damaged', aggregateId, version, state: { id: aggregateId, version }, shapeVersion: 's1', occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, version)) };
}
