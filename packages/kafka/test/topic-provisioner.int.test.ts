import { expect } from 'chai';
import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { Admin, ConfigResourceTypes } from 'kafkajs';
import { createKafka, createTopic, kafkaBrokers, uniqueName } from '../../../test-support/integration';
import {
  BrokerUnreachableError,
  PartitionCountMismatchError,
  TopicMissingError,
  TopicWouldLoseHistoryError,
} from '../src/errors/kafka.errors';
import { TopicLayout } from '../src/topic-layout';
import { connectAdmin, provisionTopics } from '../src/topic-provisioner';

const AGGREGATES = ['Order', 'Customer'];

describe('provisionTopics (real broker)', () => {
  let admin: Admin;

  before(async () => {
    admin = createKafka('topic-provisioner-test').admin();
    await admin.connect();
  });

  after(async () => {
    await admin?.disconnect();
  });

  function newLayout(partitions = 3): TopicLayout {
    // uniqueName keeps only topic-legal characters, so it is a valid app name.
    return new TopicLayout({ app: uniqueName('prov'), partitions });
  }

  async function configsOf(topics: string[]): Promise<Map<string, Record<string, string>>> {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['cleanup.policy', 'retention.ms', 'retention.bytes'] })),
    });
    return new Map(
      resources.map((resource) => [
        resource.resourceName,
        Object.fromEntries(resource.configEntries.map((entry) => [entry.configName, entry.configValue])),
      ]),
    );
  }

  async function partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
    return new Map(metadata.map((topic) => [topic.name, topic.partitions.length]));
  }

  async function existingTopics(layout: TopicLayout): Promise<string[]> {
    const all = new Set(await admin.listTopics());
    return layout.topicsFor(AGGREGATES).map((spec) => spec.name).filter((name) => all.has(name));
  }

  async function provisionError(layout: TopicLayout, options: { create?: boolean } = {}): Promise<Error> {
    try {
      await provisionTopics(admin, layout, AGGREGATES, options);
    } catch (error) {
      return error as Error;
    }
    throw new Error('provisionTopics succeeded; expected it to refuse');
  }

  it('creates every topic for two aggregate types with its partitions and configs', async () => {
    const layout = newLayout(3);
    await provisionTopics(admin, layout, AGGREGATES);

    const specs = layout.topicsFor(AGGREGATES);
    expect(specs).to.have.length(7);
    const names = specs.map((spec) => spec.name);
    const counts = await partitionCounts(names);
    const configs = await configsOf(names);
    for (const spec of specs) {
      expect(counts.get(spec.name), spec.name).to.equal(3);
      expect(configs.get(spec.name), spec.name).to.include(spec.config);
    }
    expect(configs.get(layout.events('Order'))!['cleanup.policy']).to.equal('compact');
    expect(configs.get(layout.snapshots('Customer'))!['cleanup.policy']).to.equal('compact');
    expect(configs.get(layout.checkpoints)!['cleanup.policy']).to.equal('compact');
    expect(configs.get(layout.replies)).to.include({ 'cleanup.policy': 'delete', 'retention.ms': '3600000' });
    expect(configs.get(layout.commands)!['cleanup.policy']).to.equal('delete');
  });

  it('runs again on its own topics without complaint, also twice at once', async () => {
    const layout = newLayout(2);
    await provisionTopics(admin, layout, AGGREGATES);
    await provisionTopics(admin, layout, AGGREGATES);

    // Two processes starting together race to create the same topics; both must succeed.
    const racing = newLayout(2);
    const second = createKafka('topic-provisioner-race').admin();
    await second.connect();
    try {
      await Promise.all([provisionTopics(admin, racing, AGGREGATES), provisionTopics(second, racing, AGGREGATES)]);
    } finally {
      await second.disconnect();
    }
    expect(await existingTopics(racing)).to.have.length(7);
  });

  it('refuses an events topic with cleanup.policy=delete and finite retention, naming topic and fix', async () => {
    const layout = newLayout(3);
    const events = layout.events('Order');
    await createTopic(admin, events, { partitions: 3, config: { 'cleanup.policy': 'delete', 'retention.ms': '604800000' } });

    const error = await provisionError(layout);
    expect(error).to.be.instanceOf(TopicWouldLoseHistoryError);
    expect((error as TopicWouldLoseHistoryError).code).to.equal('TOPIC_WOULD_LOSE_HISTORY');
    expect((error as TopicWouldLoseHistoryError).topic).to.equal(events);
    expect(error.message).to.contain(events).and.contain('cleanup.policy=compact').and.contain('retention.ms=604800000');
    // It checks what exists before creating anything, so a refused start leaves nothing behind.
    expect(await existingTopics(layout)).to.deep.equal([events]);
  });

  it('refuses compact,delete with finite retention, and accepts it with retention off', async () => {
    const finite = newLayout(3);
    const snapshots = finite.snapshots('Customer');
    await createTopic(admin, snapshots, { partitions: 3, config: { 'cleanup.policy': 'compact,delete', 'retention.ms': '86400000' } });
    const error = await provisionError(finite);
    expect(error).to.be.instanceOf(TopicWouldLoseHistoryError);
    expect(error.message).to.contain(snapshots).and.contain('cleanup.policy=compact').and.contain('retention.ms=-1');

    const unlimited = newLayout(3);
    await createTopic(admin, unlimited.events('Order'), {
      partitions: 3,
      config: { 'cleanup.policy': 'compact,delete', 'retention.ms': '-1', 'retention.bytes': '-1' },
    });
    await provisionTopics(admin, unlimited, AGGREGATES);
    expect(await existingTopics(unlimited)).to.have.length(7);
  });

  it('refuses a topic whose partition count differs, naming expected and actual', async () => {
    const layout = newLayout(3);
    await createTopic(admin, layout.commands, { partitions: 5, config: { 'cleanup.policy': 'delete' } });

    const error = await provisionError(layout);
    expect(error).to.be.instanceOf(PartitionCountMismatchError);
    const mismatch = error as PartitionCountMismatchError;
    expect([mismatch.topic, mismatch.expected, mismatch.actual]).to.deep.equal([layout.commands, 3, 5]);
    expect(error.message).to.contain(layout.commands).and.contain('5 partition(s)').and.contain('configured with 3').and.contain('cannot lower');
    expect(await existingTopics(layout)).to.deep.equal([layout.commands]);
  });

  it('checks topics it did not create even when none is missing', async () => {
    const layout = newLayout(2);
    await provisionTopics(admin, layout, ['Order']);
    // Someone else made the next aggregate type's topics, with the wrong count.
    for (const name of [layout.events('Customer'), layout.snapshots('Customer')]) {
      await createTopic(admin, name, { partitions: 4, config: { 'cleanup.policy': 'compact' } });
    }

    const error = await provisionError(layout);
    expect(error).to.be.instanceOf(PartitionCountMismatchError);
    expect((error as PartitionCountMismatchError).topic).to.equal(layout.events('Customer'));
  });

  it('with create: false, reports the first missing topic instead of creating it', async () => {
    const layout = newLayout(3);
    const error = await provisionError(layout, { create: false });
    expect(error).to.be.instanceOf(TopicMissingError);
    expect((error as TopicMissingError).topic).to.equal(layout.commands);
    expect(error.message).to.contain(layout.commands).and.contain('Create it');
    expect(await existingTopics(layout)).to.deep.equal([]);
  });

  it('with create: false, accepts topics that exist as required', async () => {
    const layout = newLayout(2);
    for (const spec of layout.topicsFor(AGGREGATES)) await createTopic(admin, spec.name, { partitions: spec.partitions, config: spec.config });
    await provisionTopics(admin, layout, AGGREGATES, { create: false });
  });
});

describe('connectAdmin (real sockets)', () => {
  it('connects to the running broker', async () => {
    const admin = await connectAdmin(kafkaBrokers(), { clientId: 'topic-provisioner-test' }, 10_000);
    try {
      const { brokers } = await admin.describeCluster();
      expect(brokers).to.have.length.greaterThan(0);
    } finally {
      await admin.disconnect();
    }
  });

  it('gives up on a port nothing listens on with BrokerUnreachableError within the bound', async () => {
    const port = await freePort();
    const broker = `127.0.0.1:${port}`;
    const boundMs = 10_000;
    const startedAt = Date.now();
    const error = await connectAdmin([broker], {}, boundMs).then(
      async (admin) => {
        await admin.disconnect();
        throw new Error(`connected to ${broker}, where nothing should listen`);
      },
      (rejection: unknown) => rejection,
    );
    const elapsed = Date.now() - startedAt;
    expect(error).to.be.instanceOf(BrokerUnreachableError);
    const unreachable = error as BrokerUnreachableError;
    expect(unreachable.code).to.equal('BROKER_UNREACHABLE');
    expect(unreachable.retriable).to.equal(true);
    expect(unreachable.brokers).to.deep.equal([broker]);
    expect(unreachable.message).to.contain(broker).and.contain('KAFKA_BROKERS');
    expect(unreachable.cause, 'the kafkajs error is kept').to.be.instanceOf(Error);
    expect(elapsed).to.be.lessThan(boundMs + 3_000);
  });

  it('gives up on a broker that accepts connections but never answers, when the bound runs out', async function () {
    this.timeout(20_000);
    const silent = await silentServer();
    const broker = `127.0.0.1:${silent.port}`;
    const boundMs = 3_000;
    const startedAt = Date.now();
    try {
      const error = await connectAdmin([broker], {}, boundMs).then(
        () => new Error(`connected to a server that never answers at ${broker}`),
        (rejection: unknown) => rejection,
      );
      const elapsed = Date.now() - startedAt;
      expect(error).to.be.instanceOf(BrokerUnreachableError);
      expect((error as BrokerUnreachableError).message).to.contain(broker);
      expect(elapsed).to.be.at.least(boundMs - 100).and.lessThan(boundMs + 3_000);
    } finally {
      await silent.close();
    }
  });
});

/** A port that was free a moment ago: bind to port 0, read the port, close. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server that accepts connections and never writes a byte. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
