import { expect } from 'chai';
import fc from 'fast-check';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { DomainError, Rehydrator } from '@tributary/core';
import { CommandProcessor, KafkaCommandBus, KafkaEventStore } from '@tributary/kafka';
import { PostgresReadModelStore } from '@tributary/postgres';
import { ProjectionRunner } from '@tributary/projections';
import { RedisReadModelStore } from '@tributary/redis';
import { kafkaBrokers, postgresUrl, redisUrl, uniqueName } from '../../../test-support/integration';
import {
  AddItem,
  CancelOrder,
  CreateOrder,
  EmptyOrderError,
  InvalidLineItemError,
  ItemNotInOrderError,
  LineItem,
  ORDER_SUMMARY_TABLES,
  Order,
  OrderAlreadyCancelledError,
  OrderAlreadySubmittedError,
  OrderSummaryProjection,
  RemoveItem,
  SubmitOrder,
  createOrderSummaryTables,
  customerOrdersProjection,
  readCustomerOrders,
} from '../src';

const customers = ['c-1', 'c-2', 'c-3'];
const itemIds = ['beans', 'grinder', 'mug', 'filters'];
const lineItem = fc
  .record({ itemId: fc.constantFrom(...itemIds), quantity: fc.integer({ min: 1, max: 5 }), price: fc.integer({ min: 0, max: 10_000 }) })
  .map(({ itemId, quantity, price }) => new LineItem(itemId, quantity, price));

/** The life of one order: its creation, then commands the rules may accept or refuse (re-adding an item at another price included). */
function lifeOf(orderId: string): fc.Arbitrary<object[]> {
  const command = fc.oneof(
    { weight: 5, arbitrary: lineItem.map((item): object => new AddItem(orderId, item)) },
    { weight: 2, arbitrary: fc.constantFrom(...itemIds).map((itemId): object => new RemoveItem(orderId, itemId)) },
    { weight: 1, arbitrary: fc.constant<object>(new SubmitOrder(orderId)) },
    { weight: 1, arbitrary: fc.constant<object>(new CancelOrder(orderId, 'changed mind')) },
  );
  return fc
    .tuple(fc.constantFrom(...customers), fc.array(lineItem, { maxLength: 3 }), fc.array(command, { maxLength: 10 }))
    .map(([customer, firstItems, commands]) => [new CreateOrder(orderId, customer, firstItems), ...commands]);
}

/** Orders' lives, the same on every run. */
function scenario(firstOrder: number, orders: number, seed: number): object[][] {
  const ids = Array.from({ length: orders }, (_, index) => `order-${firstOrder + index}`);
  return fc.sample(fc.tuple(...ids.map(lifeOf)), { seed, numRuns: 1 })[0];
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the orders read models on Kafka, PostgreSQL and Redis', function () {
  this.timeout(180_000);

  it('order-summary and customer-orders equal what the Order aggregates, replayed from the events topic, say; also after a restart', async () => {
    const app = uniqueName('orders-rm');
    const options = { app, brokers: kafkaBrokers(), aggregates: [Order], partitions: 3 };
    const schema = app.toLowerCase().replace(/[^a-z0-9]/g, '_');
    const pool = new Pool({ connectionString: postgresUrl() });
    const redis = new Redis(redisUrl());
    await pool.query(`CREATE SCHEMA "${schema}"`);
    await createOrderSummaryTables(pool, schema);
    const summaryStore = new PostgresReadModelStore({ pool, tables: ORDER_SUMMARY_TABLES, schema });
    const customerStore = new RedisReadModelStore({ client: redis, prefix: app });
    const processor = new CommandProcessor(options);
    const bus = new KafkaCommandBus({
      ...options,
      domainErrors: [EmptyOrderError, InvalidLineItemError, ItemNotInOrderError, OrderAlreadyCancelledError, OrderAlreadySubmittedError],
    });
    const eventStore = new KafkaEventStore(options);
    const startRunners = async () => {
      const runners = [
        new ProjectionRunner({ ...options, projection: OrderSummaryProjection, store: summaryStore, batchSize: 7 }),
        new ProjectionRunner({ ...options, projection: customerOrdersProjection, store: customerStore, batchSize: 7 }),
      ];
      await Promise.all(runners.map((runner) => runner.start()));
      return runners;
    };
    const created = new Map<string, string>();
    /** Runs each order's commands in order, the orders side by side; the rules refuse some. */
    const execute = (lives: object[][]) =>
      Promise.all(
        lives.map(async (life) => {
          for (const command of life) {
            try {
              await bus.execute(command);
              if (command instanceof CreateOrder) created.set(command.orderId, command.customerId);
            } catch (error) {
              if (!(error instanceof DomainError)) throw error;
            }
          }
        }),
      );

    /** Both read models as their readers see them, next to what replaying each order's events gives. */
    const compare = async () => {
      const orderIds = [...created.keys()].sort();
      const replay = new Rehydrator({ aggregate: Order, eventStore });
      const expectedSummaries = [];
      for (const orderId of orderIds) {
        const order = (await replay.load(orderId))!;
        const history = await eventStore.readStream({ aggregateType: 'Order', aggregateId: orderId });
        expectedSummaries.push({
          order_id: orderId,
          customer_id: order.customerId,
          status: order.status,
          item_count: order.items.length,
          total_cents: String(order.totalCents),
          updated_at: history[history.length - 1].occurredAt.toISOString(),
        });
      }
      const { rows } = await pool.query(`SELECT * FROM ${summaryStore.liveTable('order_summary')} ORDER BY order_id`);
      const summaries = rows.map((row) => ({ ...row, updated_at: (row.updated_at as Date).toISOString() }));

      const expectedCustomers: Record<string, { orderId: string; totalCents: number }[]> = {};
      const customerOrders: typeof expectedCustomers = {};
      for (const customer of customers) {
        expectedCustomers[customer] = expectedSummaries.filter((row) => row.customer_id === customer).map((row) => ({ orderId: row.order_id, totalCents: Number(row.total_cents) }));
        customerOrders[customer] = await readCustomerOrders(redis, customerStore, customer);
      }
      return { actual: { summaries, customerOrders }, expected: { summaries: expectedSummaries, customerOrders: expectedCustomers } };
    };
    const caughtUp = async () => {
      await eventually(async () => {
        const { actual, expected } = await compare();
        return JSON.stringify(actual) === JSON.stringify(expected);
      });
      const { actual, expected } = await compare();
      expect(actual).to.deep.equal(expected);
    };

    let runners: ProjectionRunner<unknown>[] = [];
    try {
      await processor.start();
      await Promise.all([bus.start(), eventStore.start()]);
      // History written before the runners start, which they catch up on; then events while they run.
      await execute(scenario(1, 6, 20261127));
      runners = await startRunners();
      await execute(scenario(7, 6, 4242));
      await caughtUp();
      expect(created.size).to.equal(12);

      // A graceful stop, more events, and new runners resuming from the stored offsets: each event still counted once.
      await Promise.all(runners.map((runner) => runner.stop()));
      expect(runners.map((runner) => runner.state)).to.deep.equal(['stopped', 'stopped']);
      await execute([...scenario(13, 3, 7), [new AddItem('order-1', new LineItem('mug', 2, 1200))], [new AddItem('order-7', new LineItem('beans', 1, 999))]]);
      runners = await startRunners();
      await caughtUp();
      expect((await summaryStore.deadLetters({ projection: 'order-summary', version: 'live' })).length).to.equal(0);
      expect((await customerStore.deadLetters({ projection: 'customer-orders', version: 'live' })).length).to.equal(0);
    } finally {
      await Promise.all(runners.map((runner) => runner.stop()));
      await Promise.all([bus.stop(), eventStore.stop()]);
      await processor.stop();
      await customerStore.close();
      await summaryStore.close();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
      const keys = await redis.keys(`${app}:*`);
      if (keys.length > 0) await redis.unlink(...keys);
      await redis.quit();
    }
  });
});
