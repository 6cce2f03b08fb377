/**
 * A command whose event carries a lone surrogate, through the command
 * processor, the real registry and the real broker: refused when the event is
 * written, so nothing reaches the events topic that Tributary could not read
 * back; the next command's event, with every other kind of character, reads
 * back exactly.
 */
import { expect } from 'chai';
import { AvroSerializer, ConfluentSchemaRegistry } from '@tributary/avro';
import { CommandProcessor, HEADER, KafkaCommandBus, TopicLayout } from '@tributary/kafka';
import { TributaryError } from '@tributary/core';
import { createKafka, kafkaBrokers, readMessages, schemaRegistryUrl, uniqueName } from '../../../test-support/integration';
import { CreateOrder, ItemAdded, OrderCreatedV1, OrderShipped, OrderStage1 } from './support/order-history';

describe('A lone surrogate in an Avro event, on the real registry and broker', function () {
  this.timeout(120_000);

  it('fails the command, writes nothing, and the next event reads back exactly as written', async () => {
    const app = uniqueName('unicode');
    const options = { app, brokers: kafkaBrokers(), partitions: 1, aggregates: [OrderStage1] };
    const events = [OrderCreatedV1, ItemAdded, OrderShipped];
    const serializer = () => new AvroSerializer({ registry: new ConfluentSchemaRegistry({ url: schemaRegistryUrl() }), events });
    const processor = new CommandProcessor({ ...options, serializer: serializer() });
    await processor.start();
    const bus = new KafkaCommandBus(options);
    await bus.start();
    // Astral, NUL, U+FFFD itself, and past 64 bytes, where avsc switches to Buffer's encoder.
    const wellFormed = `Ada 😀\u0000\ufffd ${'ü'.repeat(40)}`;
    let refused: unknown;
    try {
      refused = await bus.execute(new CreateOrder('o-1', 'Ada \ud800 Lovelace')).then(
        () => undefined,
        (error: unknown) => error,
      );
      await bus.execute(new CreateOrder('o-2', wellFormed));
    } finally {
      await bus.stop();
      await processor.stop();
    }

    const topic = new TopicLayout({ app, partitions: 1 }).events('Shop.Order');
    const aggregateOf = (message: { headers?: Record<string, unknown> }) => String(message.headers?.[HEADER.aggregateId]);
    const messages = await readMessages(createKafka(), topic, { until: (read) => read.some((message) => aggregateOf(message) === 'o-2') });
    const reader = serializer();
    const stored = [];
    for (const message of messages) {
      const context = { topic, partition: message.partition, offset: message.offset, type: 'Shop.OrderCreated', schemaVersion: 1 };
      stored.push({ aggregateId: aggregateOf(message), payload: await reader.deserialize(message.value!, context) });
    }

    expect(stored).to.deep.equal([{ aggregateId: 'o-2', payload: { orderId: 'o-2', customer: wellFormed } }]);
    expect(refused, 'the command with a lone surrogate').to.be.instanceOf(TributaryError);
    expect(refused).to.include({ code: 'AVRO_LONE_SURROGATE', retriable: false });
    expect((refused as Error).message).to.contain('Shop.OrderCreated').and.contain('the string at customer').and.contain('index 4');
  });
});
