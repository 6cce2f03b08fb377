import { EventEnvelope } from '@tributary/core';
import { PostgresReadModelStore, PostgresWriter } from '@tributary/postgres';
import { On, Projection } from '@tributary/projections';
import { Pool } from 'pg';
import { LineItem } from './line-item';
import { ItemAdded, ItemRemoved, OrderCancelled, OrderCreated, OrderSubmitted } from './order.events';
import { OrderStatus } from './order.aggregate';

/**
 * The tables the order-summary projection owns; its `PostgresReadModelStore`
 * takes them as `tables`, so a rebuild fills a shadow copy of both.
 * `order_summary` is what readers query; `order_summary_item` holds the
 * lines, because `ItemRemoved` names the item but not what it cost.
 */
export const ORDER_SUMMARY_TABLES = ['order_summary', 'order_summary_item'] as const;

/**
 * Creates the order-summary tables in `schema` if missing: in an application,
 * this is a migration that runs before the projection does. Identity-free and
 * without views or foreign keys, as `PostgresReadModelStore`'s rebuilds need.
 *
 * @example
 * ```ts
 * await createOrderSummaryTables(pool);
 * const store = new PostgresReadModelStore({ pool, tables: ORDER_SUMMARY_TABLES });
 * ```
 */
export async function createOrderSummaryTables(pool: Pool, schema = 'public'): Promise<void> {
  const table = (name: string) => `"${schema}"."${name}"`;
  await pool.query(`
    CREATE TABLE IF NOT EXISTS ${table('order_summary')} (
      order_id     text PRIMARY KEY,
      customer_id  text NOT NULL,
      status       text NOT NULL,
      item_count   integer NOT NULL,
      total_cents  bigint NOT NULL,
      updated_at   timestamptz NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ${table('order_summary_item')} (
      order_id          text NOT NULL,
      item_id           text NOT NULL,
      quantity          integer NOT NULL,
      unit_price_cents  bigint NOT NULL,
      PRIMARY KEY (order_id, item_id)
    );`);
}

/**
 * One order at a glance, in PostgreSQL: its customer, status, number of
 * distinct items (as `order.items.length`), total and the time of its latest
 * change. The handlers write through the batch's {@link PostgresWriter}, in the
 * transaction that also moves the projection's offset, and always name tables
 * with `db.table(…)`, which is the shadow table during a rebuild.
 */
@Projection('order-summary')
export class OrderSummaryProjection {
  @On(OrderCreated)
  async created(event: OrderCreated, envelope: EventEnvelope<OrderCreated>, db: PostgresWriter): Promise<void> {
    await db.query(
      `INSERT INTO ${db.table('order_summary')} (order_id, customer_id, status, item_count, total_cents, updated_at)
       VALUES ($1, $2, 'open', 0, 0, $3)`,
      [envelope.aggregateId, event.customerId, envelope.occurredAt],
    );
    for (const item of event.items) await addLine(db, envelope.aggregateId, item);
    await recount(db, envelope);
  }

  @On(ItemAdded)
  async itemAdded(event: ItemAdded, envelope: EventEnvelope<ItemAdded>, db: PostgresWriter): Promise<void> {
    await addLine(db, envelope.aggregateId, event.item);
    await recount(db, envelope);
  }

  @On(ItemRemoved)
  async itemRemoved(event: ItemRemoved, envelope: EventEnvelope<ItemRemoved>, db: PostgresWriter): Promise<void> {
    await db.query(`DELETE FROM ${db.table('order_summary_item')} WHERE order_id = $1 AND item_id = $2`, [envelope.aggregateId, event.itemId]);
    await recount(db, envelope);
  }

  @On(OrderSubmitted)
  async submitted(_event: OrderSubmitted, envelope: EventEnvelope<OrderSubmitted>, db: PostgresWriter): Promise<void> {
    await setStatus(db, envelope, 'submitted');
  }

  @On(OrderCancelled)
  async cancelled(_event: OrderCancelled, envelope: EventEnvelope<OrderCancelled>, db: PostgresWriter): Promise<void> {
    await setStatus(db, envelope, 'cancelled');
  }
}

/** Adds a line, or adds to the quantity of the line already there at its first price, as the aggregate does. */
async function addLine(db: PostgresWriter, orderId: string, item: LineItem): Promise<void> {
  await db.query(
    `INSERT INTO ${db.table('order_summary_item')} AS line (order_id, item_id, quantity, unit_price_cents) VALUES ($1, $2, $3, $4)
     ON CONFLICT (order_id, item_id) DO UPDATE SET quantity = line.quantity + excluded.quantity`,
    [orderId, item.itemId, item.quantity, item.unitPriceCents],
  );
}

/** Recomputes the count and total from the lines; reads inside the transaction see its own writes. */
async function recount(db: PostgresWriter, envelope: EventEnvelope<unknown>): Promise<void> {
  await db.query(
    `UPDATE ${db.table('order_summary')}
     SET item_count = lines.count, total_cents = lines.cents, updated_at = $2
     FROM (SELECT count(*) AS count, coalesce(sum(quantity * unit_price_cents), 0) AS cents
           FROM ${db.table('order_summary_item')} WHERE order_id = $1) AS lines
     WHERE order_id = $1`,
    [envelope.aggregateId, envelope.occurredAt],
  );
}

async function setStatus(db: PostgresWriter, envelope: EventEnvelope<unknown>, status: OrderStatus): Promise<void> {
  await db.query(`UPDATE ${db.table('order_summary')} SET status = $2, updated_at = $3 WHERE order_id = $1`, [envelope.aggregateId, status, envelope.occurredAt]);
}

/** A row of the order-summary read model. */
export interface OrderSummary {
  readonly orderId: string;
  readonly customerId: string;
  readonly status: OrderStatus;
  readonly itemCount: number;
  readonly totalCents: number;
  readonly updatedAt: Date;
}

/** Reads one order's summary from the live table, as readers (an API, a page) do. */
export async function readOrderSummary(pool: Pool, store: PostgresReadModelStore, orderId: string): Promise<OrderSummary | undefined> {
  const { rows } = await pool.query<{ order_id: string; customer_id: string; status: OrderStatus; item_count: number; total_cents: string; updated_at: Date }>(
    `SELECT order_id, customer_id, status, item_count, total_cents, updated_at FROM ${store.liveTable('order_summary')} WHERE order_id = $1`,
    [orderId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { orderId: row.order_id, customerId: row.customer_id, status: row.status, itemCount: row.item_count, totalCents: Number(row.total_cents), updatedAt: row.updated_at };
}
