import { expect } from 'chai';
import { createServer } from 'node:net';
import {
  Aggregate,
  AggregateId,
  AggregateRoot,
  Command,
  CommandHandler,
  InvalidOptionError,
  MissingTargetAggregateIdError,
  UndeclaredCommandError,
} from '@tributary/core';
import { BrokerUnreachableError, CommandProcessor, KafkaCommandBus, PartitionCountMismatchError, TopicLayout, TopicWouldLoseHistoryError } from '@tributary/kafka';
import { createKafka, createTopic, kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { Account } from './support/account';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('bad configuration of the Kafka store', function () {
  this.timeout(60_000);

  it('refuses to start a processor on an events topic that would drop history, saying what to change', async () => {
    const app = uniqueName('lossy');
    const admin = createKafka('lossy-admin').admin();
    await admin.connect();
    await createTopic(admin, new TopicLayout({ app, partitions: 2 }).events('Account'), {
      partitions: 2,
      config: { 'cleanup.policy': 'delete', 'retention.ms': '604800000' },
    });
    await admin.disconnect();
    const processor = new CommandProcessor({ app, brokers: kafkaBrokers(), aggregates: [Account], partitions: 2 });
    const error = await processor.start().catch((e: unknown) => e);
    await processor.stop();
    expect(error).to.be.instanceOf(TopicWouldLoseHistoryError);
    expect((error as Error).message).to.contain(`${app}.Account.events`).and.contain('cleanup.policy=compact');
  });

  it('refuses a topic whose partition count differs from the app’s', async () => {
    const app = uniqueName('skewed');
    const admin = createKafka('skewed-admin').admin();
    await admin.connect();
    await createTopic(admin, new TopicLayout({ app, partitions: 3 }).commands, { partitions: 5 });
    await admin.disconnect();
    const bus = new KafkaCommandBus({ app, brokers: kafkaBrokers(), aggregates: [Account], partitions: 3 });
    const processor = new CommandProcessor({ app, brokers: kafkaBrokers(), aggregates: [Account], partitions: 3 });
    const error = await processor.start().catch((e: unknown) => e);
    await processor.stop();
    await bus.stop();
    expect(error).to.be.instanceOf(PartitionCountMismatchError).and.include({ code: 'PARTITION_COUNT_MISMATCH' });
  });

  it('reports an unreachable broker as BrokerUnreachableError within the start-up bound', async () => {
    const brokers = [`127.0.0.1:${await closedPort()}`];
    for (const component of [
      new CommandProcessor({ app: 'nowhere', brokers, aggregates: [Account], startupTimeoutMs: 3000 }),
      new KafkaCommandBus({ app: 'nowhere', brokers, aggregates: [Account], startupTimeoutMs: 3000 }),
    ]) {
      const started = Date.now();
      const error = await component.start().catch((e: unknown) => e);
      expect(error).to.be.instanceOf(BrokerUnreachableError).and.include({ code: 'BROKER_UNREACHABLE', retriable: true });
      expect((error as Error).message).to.contain(brokers[0]);
      expect(Date.now() - started, 'bounded by startupTimeoutMs').to.be.lessThan(3000 + 3000);
      await component.stop();
    }
  });

  it('refuses options and commands it cannot route, before touching the broker', () => {
    expect(() => new CommandProcessor({ app: 'bad app!', brokers: ['localhost:9092'], aggregates: [Account] })).to.throw(InvalidOptionError, 'app');
    expect(() => new CommandProcessor({ app: 'ok', brokers: [], aggregates: [Account] })).to.throw(InvalidOptionError, 'brokers');
    expect(() => new KafkaCommandBus({ app: 'ok', brokers: ['localhost:9092'], aggregates: [Account], partitions: 0 })).to.throw(InvalidOptionError, 'partitions');

    class Unnamed {
      constructor(readonly id: string) {}
    }
    @Aggregate('KafkaTest.Untransportable')
    class Untransportable extends AggregateRoot {
      @AggregateId() id = '';
      @CommandHandler(Unnamed) static create(): Untransportable {
        return new Untransportable();
      }
    }
    expect(() => new KafkaCommandBus({ app: 'ok', brokers: ['localhost:9092'], aggregates: [Untransportable] })).to.throw(UndeclaredCommandError, 'Unnamed');

    // Kafka routes a command to its aggregate's partition before the handler runs, so even a creation command needs its id.
    @Command('KafkaTest.OpenSomewhere')
    class OpenSomewhere {}
    @Aggregate('KafkaTest.Unroutable')
    class Unroutable extends AggregateRoot {
      @AggregateId() id = '';
      @CommandHandler(OpenSomewhere) static create(): Unroutable {
        return new Unroutable();
      }
    }
    expect(() => new CommandProcessor({ app: 'ok', brokers: ['localhost:9092'], aggregates: [Unroutable] }))
      .to.throw(MissingTargetAggregateIdError, 'OpenSomewhere');
  });
});
