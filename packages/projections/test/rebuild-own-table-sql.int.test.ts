/**
 * A PostgreSQL projection whose SQL names its own table, rebuilt (issue 11).
 * An upsert that adds to what a row holds names the table in its SET clause:
 * `… DO UPDATE SET total_cents = order_summary.total_cents + EXCLUDED.total_cents`.
 * The same statement must work live and while a rebuild fills the shadow;
 * otherwise PostgreSQL refuses every event of the rebuild, and each becomes a
 * dead letter. The tables live in a schema of the application's choosing.
 */
import { expect } from 'chai';
import { liveSlot } from '@tributary/core';
import { PostgresReadModelStore, PostgresWriter } from '@tributary/postgres';
import { ProjectionDefinition, ProjectionRebuild, ProjectionRunner, defineProjection } from '@tributary/projections';
import { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { createKafka, kafkaBrokers, postgresUrl, uniqueName } from '../../../test-support/integration';
import { caughtUp } from './support/catch-up';
import { ShopEventWriter } from './support/event-writer';
import { uniqueIdentifier } from './support/pg-order-summary';
import { ItemAdded, OrderPlaced, OrderShipped, OrderSummaryRow, ShopOrder, foldOrderSummaries, shopEvents } from './support/shop';

const partitions = 3;

/**
 * The order summary, its SQL naming the table `order_summary` as written
 * (`plain`), or through `writer.table('order_summary')` as the
 * `PostgresWriter.query` example does (`writer.table`); self-references are
 * `order_summary.<column>` either way.
 */
function orderSummary(name: string, naming: 'plain' | 'writer.table'): ProjectionDefinition<PostgresWriter> {
  const table = (writer: PostgresWriter) => (naming === 'plain' ? 'order_summary' : writer.table('order_summary'));
  return defineProjection<PostgresWriter>(name)
    .on(OrderPlaced, async (event, envelope, writer) => {
      await writer.query(
        `INSERT INTO ${table(writer)} (order_id, customer_id, items, total_cents, shipped) VALUES ($1, $2, 0, 0, false)
         ON CONFLICT (order_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, items = 0, total_cents = 0, shipped = false`,
        [envelope.aggregateId, event.customerId],
      );
    })
    .on(ItemAdded, async (event, envelope, writer) => {
      // Prepared: one text for the live and the shadow version.
      await writer.prepared(
        `INSERT INTO ${table(writer)} (order_id, customer_id, items, total_cents, shipped) VALUES ($1, '', 1, $2, false)
         ON CONFLICT (order_id) DO UPDATE SET items = order_summary.items + 1, total_cents = order_summary.total_cents + EXCLUDED.total_cents`,
        [envelope.aggregateId, event.cents],
      );
    })
    .on(OrderShipped, async (_event, envelope, writer) => {
      await writer.query(`UPDATE ${table(writer)} SET shipped = true WHERE order_summary.order_id = $1`, [envelope.aggregateId]);
    });
}

describe('Rebuild of a PostgreSQL projection whose SQL names its own table', function () {
  this.timeout(120_000);
  let kafka: Kafka;
  let admin: Admin;
  let pool: Pool;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    kafka = createKafka();
    admin = kafka.admin();
    await admin.connect();
    pool = new Pool({ connectionString: postgresUrl(), max: 8 });
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  after(async () => {
    await admin?.disconnect();
    await pool?.end();
  });

  for (const naming of ['writer.table', 'plain'] as const) {
    it(`swaps in the full replay's read model, without dead letters, and goes on live after the swap (tables named ${naming === 'plain' ? 'plainly' : 'through writer.table'})`, async () => {
      const schema = uniqueIdentifier('own_table');
      await pool.query(`CREATE SCHEMA "${schema}"`);
      cleanups.push(() => pool.query(`DROP SCHEMA "${schema}" CASCADE`).then(() => undefined));
      await pool.query(
        `CREATE TABLE "${schema}".order_summary (
           id bigint GENERATED ALWAYS AS IDENTITY,
           order_id text PRIMARY KEY,
           customer_id text NOT NULL,
           items integer NOT NULL,
           total_cents integer NOT NULL,
           shipped boolean NOT NULL
         )`,
      );
      const store = new PostgresReadModelStore({ pool, schema, tables: ['order_summary'] });
      const name = uniqueIdentifier('own_table_summary');
      cleanups.push(() => store.dropShadow(name));
      const read = async () => {
        const { rows } = await pool.query<{ order_id: string; customer_id: string; items: number; total_cents: number; shipped: boolean }>(
          `SELECT order_id, customer_id, items, total_cents, shipped FROM ${store.liveTable('order_summary')} ORDER BY order_id`,
        );
        return Object.fromEntries(rows.map((row) => [row.order_id, { customerId: row.customer_id, items: row.items, totalCents: row.total_cents, shipped: row.shipped }]));
      };
      const replayOf = (written: Parameters<typeof foldOrderSummaries>[0]) =>
        Object.fromEntries([...foldOrderSummaries(written)].sort(([a], [b]) => (a < b ? -1 : 1))) as Record<string, OrderSummaryRow>;

      const app = uniqueName('proj-own-table');
      const writer = new ShopEventWriter(kafka, app, partitions);
      cleanups.push(() => writer.close());
      await writer.createTopic(admin);
      const events = shopEvents(31, 900, 60);
      const [history, later] = [events.slice(0, 700), events.slice(700)];
      await writer.write(history);

      const options = { app, brokers: kafkaBrokers(), partitions, aggregates: [ShopOrder], store, batchSize: 50, stopOnSignals: false };
      const live = new ProjectionRunner<PostgresWriter>({ ...options, projection: orderSummary(name, naming) });
      const liveDeadLetters: unknown[] = [];
      live.on('projection.dead-lettered', (letters) => liveDeadLetters.push(letters));
      cleanups.push(() => live.stop());
      await live.start();
      await caughtUp(admin, writer.topic, store, liveSlot(name));
      expect(await read(), 'the live read model').to.deep.equal(replayOf(history));

      // The rebuild runs the same SQL into the shadow, while the live runner goes on serving.
      const rebuild = new ProjectionRebuild<PostgresWriter>({ ...options, projection: orderSummary(name, naming), swapLag: 0 });
      const rebuilt = await rebuild.run();

      expect(await store.deadLetters(liveSlot(name)), 'dead letters after the swap').to.have.length(0);
      expect(rebuilt.events, 'events the rebuild handled').to.equal(history.length);
      expect(await read(), 'the swapped-in read model').to.deep.equal(replayOf(history));

      // The live runner carries on after the swap, into the table that was the shadow.
      await writer.write(later);
      await caughtUp(admin, writer.topic, store, liveSlot(name));
      expect(await read(), 'the live read model after the swap').to.deep.equal(replayOf(events));
      expect(liveDeadLetters).to.deep.equal([]);
      expect(live.state).to.equal('running');
    });
  }
});
