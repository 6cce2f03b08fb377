/**
 * Events written over three stages of an Order's life, with Avro on the real
 * registry and the real broker, read back as today's classes through the one
 * pipeline: v1 resolved to v2 (a field with a default), upcast to v3 (a rename);
 * OrderShipped split into OrderPacked and OrderDispatched.
 */
import { expect } from 'chai';
import { AggregateRoot, AnyClass, Constructor, EventPipeline, EventRecord, EventRegistry, Upcaster, exploreAggregate } from '@tributary/core';
import { AvroSerializer, ConfluentSchemaRegistry, EventSchemaGapError } from '@tributary/avro';
import { CommandProcessor, HEADER, KafkaCommandBus, TopicLayout } from '@tributary/kafka';
import { createKafka, kafkaBrokers, readMessages, schemaRegistryUrl, uniqueName } from '../../../test-support/integration';
import {
  ALL_EVENT_CLASSES,
  AddItem,
  CreateOrder,
  ItemAdded,
  Order,
  OrderCreatedV1,
  OrderCreatedV2,
  OrderShipped,
  OrderStage1,
  OrderStage2,
  STAGE_3_UPCASTERS,
  ShipOrder,
  orderState,
} from './support/order-history';

describe('Schema evolution on the real registry and broker', function () {
  this.timeout(180_000);
  const app = uniqueName('evolution');
  const partitions = 2;
  const topic = new TopicLayout({ app, partitions }).events('Shop.Order');
  const registry = () => new ConfluentSchemaRegistry({ url: schemaRegistryUrl() });

  /** Runs one stage: a processor with that stage's classes, writing Avro, and a bus to send it commands. */
  async function stage(aggregate: Constructor<AggregateRoot>, events: readonly Function[], commands: readonly object[], upcasters: readonly Upcaster[] = []): Promise<void> {
    const options = { app, brokers: kafkaBrokers(), partitions, aggregates: [aggregate] };
    // Its start-up check refuses history the stage could not read.
    // The processor reads past events too, to rebuild state kept in an earlier stage's shape.
    const processor = new CommandProcessor({ ...options, events: events as AnyClass[], upcasters, serializer: new AvroSerializer({ registry: registry(), events, upcasters }) });
    await processor.start();
    const bus = new KafkaCommandBus(options);
    await bus.start();
    try {
      for (const command of commands) await bus.execute(command);
    } finally {
      await bus.stop();
      await processor.stop();
    }
  }

  it('reads the whole history back as v3, and rehydrates today’s aggregate from it', async () => {
    await stage(OrderStage1, [OrderCreatedV1, ItemAdded, OrderShipped], [
      new CreateOrder('o-1', 'ada'),
      new AddItem('o-1', 'tea', 2, 350),
      new ShipOrder('o-1', 'DHL', 'T-1'),
      new CreateOrder('o-2', 'grace'),
      new AddItem('o-2', 'cup', 1, 900),
    ]);
    await stage(OrderStage2, [OrderCreatedV1, OrderCreatedV2, ItemAdded, OrderShipped], [
      new CreateOrder('o-3', 'alan', 'store'),
      new AddItem('o-2', 'pot', 1, 2500),
      new ShipOrder('o-2', 'UPS', 'T-2'),
    ]);
    // Stage 3 without its upcasters does not start: the shipped orders' history would have no path.
    const refused = await stage(Order, ALL_EVENT_CLASSES, []).catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(EventSchemaGapError);
    expect((refused as Error).message).to.include('Shop.OrderShipped v1');
    await stage(Order, ALL_EVENT_CLASSES, [new CreateOrder('o-4', 'edsger', 'phone'), new ShipOrder('o-4', 'DHL', 'T-4')], STAGE_3_UPCASTERS);

    // Schemas went to one subject per event type, versions in order.
    const subjects = (await registry().subjects()).filter((subject) => subject.startsWith(`${topic}-`)).sort();
    expect(subjects).to.deep.equal(['OrderCreated', 'OrderDispatched', 'OrderPacked', 'ItemAdded', 'OrderShipped'].map((name) => `${topic}-shop.${name}`).sort());
    expect(await registry().versions(`${topic}-shop.OrderCreated`)).to.deep.equal([1, 2, 3]);

    const messages = await readMessages(createKafka(), topic, { until: (read) => read.length >= 11 });
    expect(messages).to.have.length(11);

    const pipeline = new EventPipeline({
      registry: new EventRegistry(ALL_EVENT_CLASSES),
      upcasters: STAGE_3_UPCASTERS,
      serializer: new AvroSerializer({ registry: registry(), events: ALL_EVENT_CLASSES }),
    });
    const history = new Map<string, Array<{ sequence: number; records: EventRecord[] }>>();
    for (const message of messages) {
      const header = (name: string) => message.headers?.[name]?.toString();
      const records = await pipeline.decode(message.value!, {
        topic,
        partition: message.partition,
        offset: message.offset,
        type: header(HEADER.type)!,
        schemaVersion: Number(header(HEADER.schemaVersion)),
      });
      const id = header(HEADER.aggregateId)!;
      history.set(id, [...(history.get(id) ?? []), { sequence: Number(header(HEADER.sequence)), records }]);
    }
    const asV3 = (id: string) =>
      history
        .get(id)!
        .sort((left, right) => left.sequence - right.sequence)
        .flatMap(({ records }) => records.map((record) => `${record.type} v${record.schemaVersion} ${JSON.stringify(record.payload)}`));

    expect(asV3('o-1')).to.deep.equal([
      'Shop.OrderCreated v3 {"orderId":"o-1","channel":"web","customerId":"ada"}',
      'Shop.ItemAdded v1 {"sku":"tea","quantity":2,"priceCents":350}',
      'Shop.OrderPacked v1 {"parcels":1}',
      'Shop.OrderDispatched v1 {"carrier":"DHL","trackingCode":"T-1"}',
    ]);
    expect(asV3('o-2')).to.deep.equal([
      'Shop.OrderCreated v3 {"orderId":"o-2","channel":"web","customerId":"grace"}',
      'Shop.ItemAdded v1 {"sku":"cup","quantity":1,"priceCents":900}',
      'Shop.ItemAdded v1 {"sku":"pot","quantity":1,"priceCents":2500}',
      'Shop.OrderPacked v1 {"parcels":1}',
      'Shop.OrderDispatched v1 {"carrier":"UPS","trackingCode":"T-2"}',
    ]);
    expect(asV3('o-3')).to.deep.equal(['Shop.OrderCreated v3 {"orderId":"o-3","channel":"store","customerId":"alan"}']);
    expect(asV3('o-4')).to.deep.equal([
      'Shop.OrderCreated v3 {"orderId":"o-4","customerId":"edsger","channel":"phone"}',
      'Shop.OrderPacked v1 {"parcels":1}',
      'Shop.OrderDispatched v1 {"carrier":"DHL","trackingCode":"T-4"}',
    ]);

    // Applied: today's aggregate, rehydrated from the upcast history.
    const model = exploreAggregate(Order);
    const o2 = model.rehydrate(
      'o-2',
      history.get('o-2')!.map(({ sequence, records }) => ({ sequence, payloads: records.map((record) => pipeline.toInstance(record)) })),
    )!;
    expect(orderState(o2)).to.deep.equal({ id: 'o-2', customer: 'grace', channel: 'web', items: 2, totalCents: 3400, status: 'shipped', carrier: 'UPS' });
    expect(o2.version, "the last stored sequence: a split adds events, not versions").to.equal(4);
  });
});
