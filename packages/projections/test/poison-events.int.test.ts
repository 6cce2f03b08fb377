/**
 * Poison events (issue 6, acceptance test 3), on Redis and on PostgreSQL: an
 * event its handler refuses goes to the dead-letter topic, with its error, and
 * the later events of its aggregate follow it there (parked), including ones
 * written after it was parked, while every other aggregate stays up to date.
 * Then either the handler is fixed and a redrive brings the read model to the
 * full replay's, or the poison event is skipped and the parked ones applied,
 * which gives the replay without that one event.
 */
import { expect } from 'chai';
import { ReadModelStore, liveSlot } from '@tributary/core';
import { partitionForKey } from '@tributary/kafka';
import { DLQ_HEADER, ProjectionDefinition } from '@tributary/projections';
import Redis from 'ioredis';
import { Admin, IHeaders, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { createKafka, kafkaBrokers, postgresUrl, readMessages, redisUrl, uniqueName } from '../../../test-support/integration';
import { caughtUp } from './support/catch-up';
import { ShopEventWriter } from './support/event-writer';
import { PgOrderSummary } from './support/pg-order-summary';
import { OrderHandlerBehaviour, ReadModelSnapshot, handlerBehaviour } from './support/projected-order';
import { RedisCustomerOrders } from './support/redis-customer-orders';
import { seedFrom } from './support/seeded-random';
import { ShopEvent, ShopOrder, shopEvents } from './support/shop';
import { TrackedRunner } from './support/tracked-runner';

const partitions = 3;
const TYPE_OF: Record<ShopEvent['type'], string> = { placed: 'ProjectionTest.OrderPlaced', item: 'ProjectionTest.ItemAdded', shipped: 'ProjectionTest.OrderShipped' };

/** What the cases need of a read model, on either store. */
interface OrderReadModel {
  readonly name: string;
  store(): ReadModelStore<unknown>;
  projection(behaviour: OrderHandlerBehaviour): ProjectionDefinition<unknown>;
  read(): Promise<ReadModelSnapshot>;
  expected(events: readonly ShopEvent[]): ReadModelSnapshot;
}

describe('Poison events: dead letters, parked aggregates, redrive and skip', function () {
  this.timeout(90_000);
  const seed = seedFrom('POISON_SEED');
  let kafka: Kafka;
  let admin: Admin;
  let pool: Pool;
  let redis: Redis;
  const cleanups: (() => Promise<void>)[] = [];
  const runners: TrackedRunner<unknown>[] = [];

  before(async () => {
    kafka = createKafka();
    admin = kafka.admin();
    await admin.connect();
    pool = new Pool({ connectionString: postgresUrl(), max: 8 });
    redis = new Redis(redisUrl());
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop()));
  });

  after(async () => {
    for (const cleanup of cleanups) await cleanup();
    await pool?.end();
    await redis?.quit();
    await admin?.disconnect();
  });

  const stores: { label: string; make: () => Promise<OrderReadModel> }[] = [
    {
      label: 'Redis',
      make: async () => {
        const model = new RedisCustomerOrders(redis);
        cleanups.push(() => model.drop());
        return { name: model.name, store: () => model.store as ReadModelStore<unknown>, projection: (b) => model.projection(b) as ProjectionDefinition<unknown>, read: () => model.read(), expected: (e) => model.expected(e) };
      },
    },
    {
      label: 'PostgreSQL',
      make: async () => {
        const model = new PgOrderSummary(pool);
        await model.createTable();
        cleanups.push(() => model.drop());
        return { name: model.name, store: () => model.store() as ReadModelStore<unknown>, projection: (b) => model.projection(b) as ProjectionDefinition<unknown>, read: () => model.read(), expected: (e) => model.expected(e) };
      },
    },
  ];

  /**
   * Writes a history with one poison event, runs a worker to the end, writes
   * more (with a later event of the poisoned order), and checks what is
   * parked: in the store, in the dead-letter topic, and in the read model.
   */
  async function poisonedRun(model: OrderReadModel) {
    const app = uniqueName('proj-poison');
    const writer = new ShopEventWriter(kafka, app, partitions);
    cleanups.push(() => writer.close());
    await writer.createTopic(admin);
    const history = shopEvents(seed, 400, 40);
    // An item of an order with more events after it, so some are parked behind it.
    const poisonIndex = history.findIndex(
      (event, index) => index > 60 && index < 250 && event.type === 'item' && history.slice(index + 1, 300).filter((later) => later.orderId === event.orderId).length >= 2,
    );
    expect(poisonIndex, 'a poison candidate in the history').to.be.greaterThan(0);
    const poisoned = history[poisonIndex].orderId;
    const aggregate = `ShopOrder:${poisoned}`;
    await writer.write(history.slice(0, 300), (_, index) => index === poisonIndex);

    const behaviour = handlerBehaviour();
    const worker = new TrackedRunner<unknown>('worker', { app, brokers: kafkaBrokers(), partitions, aggregates: [ShopOrder], projection: model.projection(behaviour), store: model.store(), batchSize: 50 });
    runners.push(worker);
    await worker.start();
    await caughtUp(admin, writer.topic, model.store(), liveSlot(model.name));
    // Written while the order is parked: its later event follows the others to the dead letters.
    const all: ShopEvent[] = [...history, { orderId: poisoned, type: 'item', sku: 'late', cents: 7 }];
    await writer.write(all.slice(300));
    await caughtUp(admin, writer.topic, model.store(), liveSlot(model.name));
    const ofPoisoned = all.map((event, index) => ({ event, index })).filter(({ event, index }) => event.orderId === poisoned && index >= poisonIndex);

    // The store: the poison event and every later event of its order, nothing else.
    const entries = await model.store().deadLetters(liveSlot(model.name));
    expect(entries.map((entry) => ({ topic: entry.topic, partition: entry.partition, aggregate: entry.aggregate }))).to.deep.equal(
      ofPoisoned.map(() => ({ topic: writer.topic, partition: partitionForKey(poisoned, partitions), aggregate })),
    );

    // The dead-letter topic: the same offsets, in order; the first failed with the handler's error, the others parked behind it.
    const records = await readMessages(kafka, worker.runner.deadLetterTopic.name, { until: (messages) => messages.length >= entries.length });
    expect(records.length).to.equal(entries.length);
    const header = (headers: IHeaders | undefined, name: string) => headers?.[name]?.toString();
    expect(records.map((record) => header(record.headers, DLQ_HEADER.offset))).to.deep.equal(entries.map((entry) => entry.offset));
    expect(records.map((record) => header(record.headers, DLQ_HEADER.reason))).to.deep.equal(['failed', ...Array(entries.length - 1).fill('parked')]);
    expect(records.map((record) => header(record.headers, 'tributary.type'))).to.deep.equal(ofPoisoned.map(({ event }) => TYPE_OF[event.type]));
    for (const record of records) {
      expect(header(record.headers, DLQ_HEADER.projection)).to.equal(model.name);
      expect(header(record.headers, DLQ_HEADER.topic)).to.equal(writer.topic);
      expect(header(record.headers, DLQ_HEADER.partition)).to.equal(String(partitionForKey(poisoned, partitions)));
      expect(record.key?.toString()).to.equal(aggregate);
    }
    const [failed, ...parked] = records;
    expect(header(failed.headers, DLQ_HEADER.error)).to.equal(`order ${poisoned}: this event is poison`);
    expect(header(failed.headers, DLQ_HEADER.errorCode)).to.equal('TEST_POISON');
    expect(JSON.parse(failed.value!.toString())).to.include({ poison: true });
    for (const record of parked) {
      expect(header(record.headers, DLQ_HEADER.error)).to.equal(undefined);
      // Only set when the failure was in the same transaction (the runner knows no more in a later one).
      expect(header(record.headers, DLQ_HEADER.parkedBehind) ?? entries[0].offset).to.equal(entries[0].offset);
    }

    // The read model: every other order up to date; the poisoned one as it stood before its poison event.
    const expected = model.expected(all);
    const before = model.expected(history.slice(0, poisonIndex));
    const actual = await model.read();
    expect(actual.orders[poisoned]).to.deep.equal(before.orders[poisoned]);
    expect(withoutOrder(actual, poisoned)).to.deep.equal(withoutOrder(expected, poisoned));
    expect(actual.orders[poisoned]).to.not.deep.equal(expected.orders[poisoned]);

    return { writer, worker, behaviour, all, poisonIndex, poisoned, entries };
  }

  for (const { label, make } of stores) {
    describe(label, () => {
      it('parks the poison event and its order\'s later events; after the fix a redrive gives the full replay', async () => {
        const model = await make();
        const { writer, worker, behaviour, all, poisoned, entries } = await poisonedRun(model);

        // Still refused: a redrive fails again and changes nothing.
        const refused = await worker.runner.deadLetters().redrive();
        expect(refused).to.include({ aggregates: 0, redriven: 0, skipped: 0 });
        expect(refused.failed.length).to.equal(1);
        expect(await model.store().deadLetters(liveSlot(model.name))).to.deep.equal(entries);

        behaviour.poisonRefused = false;
        const result = await worker.runner.deadLetters().redrive();
        expect(result).to.deep.equal({ aggregates: 1, redriven: entries.length, skipped: 0, failed: [] });
        expect(await model.store().deadLetters(liveSlot(model.name))).to.deep.equal([]);
        expect(await model.read()).to.deep.equal(model.expected(all));

        // Unparked: its next event flows straight through.
        const next: ShopEvent = { orderId: poisoned, type: 'item', sku: 'after', cents: 11 };
        await writer.write([next]);
        await caughtUp(admin, writer.topic, model.store(), liveSlot(model.name));
        expect(await model.read()).to.deep.equal(model.expected([...all, next]));
        expect(await model.store().deadLetters(liveSlot(model.name))).to.deep.equal([]);
        expect(worker.describeFailures()).to.deep.equal([]);
      });

      it('skips the poison event: the parked ones are applied, giving the replay without it', async () => {
        const model = await make();
        const { writer, worker, all, poisonIndex, entries } = await poisonedRun(model);

        // The handler still refuses poison; the skip drops that event and redrives the rest, which are not.
        const result = await worker.runner.deadLetters().skip(entries[0].topic, entries[0].partition, entries[0].offset);
        expect(result).to.deep.equal({ aggregates: 1, redriven: entries.length - 1, skipped: 1, failed: [] });
        expect(await model.store().deadLetters(liveSlot(model.name))).to.deep.equal([]);
        expect(await model.read()).to.deep.equal(model.expected(all.filter((_, index) => index !== poisonIndex)));
        expect(worker.describeFailures()).to.deep.equal([]);
      });
    });
  }
});

function withoutOrder(snapshot: ReadModelSnapshot, orderId: string): ReadModelSnapshot {
  const orders = { ...snapshot.orders };
  delete orders[orderId];
  return { ...snapshot, orders };
}
