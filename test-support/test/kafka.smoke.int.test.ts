import { expect } from 'chai';
import { Admin, ConfigResourceTypes, Kafka, Producer, ProducerConfig } from 'kafkajs';
import { createKafka, createTopic, readMessages, uniqueName } from '../integration';

// Proves that the broker the tests run against does what Tributary relies on
// through kafkajs: plain produce/consume, topic configs, and transactions.
describe('Kafka test broker (smoke)', function () {
  this.timeout(60_000);

  let kafka: Kafka;
  let admin: Admin;
  const producers: Producer[] = [];

  before(async () => {
    kafka = createKafka('kafka-smoke');
    admin = kafka.admin();
    await admin.connect();
  });

  afterEach(async () => {
    await Promise.all(producers.splice(0).map((producer) => producer.disconnect()));
  });

  after(async () => {
    await admin.disconnect();
  });

  async function connectedProducer(options: ProducerConfig = {}): Promise<Producer> {
    const producer = kafka.producer(options);
    producers.push(producer);
    await producer.connect();
    return producer;
  }

  it('produces a record and consumes it with its key, value and headers', async () => {
    const topic = uniqueName('smoke.plain');
    await createTopic(admin, topic);
    const producer = await connectedProducer();

    await producer.send({ topic, messages: [{ key: 'order-1', value: 'created', headers: { 'event-type': 'OrderCreated' } }] });

    const [message] = await readMessages(kafka, topic, { until: (messages) => messages.length === 1 });
    expect(message.key?.toString()).to.equal('order-1');
    expect(message.value?.toString()).to.equal('created');
    expect(message.headers?.['event-type']?.toString()).to.equal('OrderCreated');
  });

  it('creates a compacted topic and reports its configuration', async () => {
    const topic = uniqueName('smoke.compacted');
    await createTopic(admin, topic, { partitions: 3, config: { 'cleanup.policy': 'compact' } });

    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
    });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });

    expect(resources[0].configEntries.map((entry) => [entry.configName, entry.configValue])).to.deep.equal([
      ['cleanup.policy', 'compact'],
    ]);
    expect(metadata.topics[0].partitions).to.have.length(3);
    expect(await admin.createTopics({ topics: [{ topic }] }), 'kafkajs answers false for an existing topic').to.equal(false);
  });

  it('commits transactions atomically with consumer offsets, and hides aborted ones from read_committed', async () => {
    const input = uniqueName('smoke.tx.input');
    const output = uniqueName('smoke.tx.output');
    const groupId = uniqueName('smoke.tx.group');
    await createTopic(admin, input);
    await createTopic(admin, output);
    const plain = await connectedProducer();
    await plain.send({ topic: input, messages: [{ value: 'command-1' }] });
    const transactional = await connectedProducer({
      transactionalId: uniqueName('smoke.tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });

    const committed = await transactional.transaction();
    await committed.send({ topic: output, messages: [{ value: 'first' }] });
    await committed.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '1' }] }] });
    await committed.commit();
    const aborted = await transactional.transaction();
    await aborted.send({ topic: output, messages: [{ value: 'aborted' }] });
    await aborted.abort();
    const last = await transactional.transaction();
    await last.send({ topic: output, messages: [{ value: 'last' }] });
    await last.commit();

    const upToLast = { until: (messages: { value: Buffer | null }[]) => messages.some((m) => m.value?.toString() === 'last') };
    const readCommitted = await readMessages(kafka, output, upToLast);
    const readUncommitted = await readMessages(kafka, output, { ...upToLast, readUncommitted: true });
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [input] });

    expect(readCommitted.map((m) => m.value?.toString())).to.deep.equal(['first', 'last']);
    expect(readUncommitted.map((m) => m.value?.toString()), 'the aborted record was written').to.deep.equal([
      'first',
      'aborted',
      'last',
    ]);
    expect(offsets.partitions).to.deep.equal([{ partition: 0, offset: '1', metadata: null }]);
  });

  it('fences the older of two producers with one transactional id', async () => {
    const topic = uniqueName('smoke.fencing');
    const transactionalId = uniqueName('smoke.fencing');
    await createTopic(admin, topic);
    const options = { transactionalId, idempotent: true, maxInFlightRequests: 1 };
    const older = await connectedProducer(options);
    const first = await older.transaction();
    await first.send({ topic, messages: [{ value: 'older' }] });
    await first.commit();

    // kafkajs claims the transactional id (InitProducerId, bumping the epoch)
    // in the first transaction(), not in connect().
    const newer = await connectedProducer(options);
    await (await newer.transaction()).abort();

    const zombie = await older.transaction();
    const error = await zombie.send({ topic, messages: [{ value: 'zombie' }] }).then(
      () => undefined,
      (e: { type?: string }) => e,
    );
    const fresh = await newer.transaction();
    await fresh.send({ topic, messages: [{ value: 'newer' }] });
    await fresh.commit();

    expect(error?.type).to.be.oneOf(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);
    const messages = await readMessages(kafka, topic, { until: (ms) => ms.some((m) => m.value?.toString() === 'newer') });
    expect(messages.map((m) => m.value?.toString())).to.deep.equal(['older', 'newer']);
  });
});
