import { randomBytes } from 'node:crypto';
import { PostgresReadModelStore, PostgresWriter } from '@tributary/postgres';
import { ProjectionDefinition, defineProjection } from '@tributary/projections';
import { Pool } from 'pg';
import { OrderHandlerBehaviour, ProjectedOrder, ReadModelSnapshot, beforeApplying, handlerBehaviour, projectOrders, sortedRecord } from './projected-order';
import { ItemAdded, OrderPlaced, OrderShipped, ShopEvent } from './shop';

/** A name no other test uses, of the characters PostgreSQL identifiers and projection names both allow. */
export function uniqueIdentifier(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/**
 * The order summary projection on PostgreSQL: one row per order in a table of
 * its own, written through {@link PostgresWriter} so a rebuild writes the same
 * code into the shadow table. Each test makes its own (unique projection name
 * and table: the bookkeeping tables are shared by everyone using the database).
 */
export class PgOrderSummary {
  constructor(
    readonly pool: Pool,
    /** The projection's name (also its row key in the shared bookkeeping tables). */
    readonly name = uniqueIdentifier('order_summary'),
    readonly table = name,
    /** The schema of the table and of the store's bookkeeping. */
    readonly schema = 'public',
  ) {}

  /** The live table, schema-qualified, for readers. */
  get liveTable(): string {
    return `"${this.schema}"."${this.table}"`;
  }

  /** The live table, as the application's migration creates it. */
  async createTable(): Promise<void> {
    await this.pool.query(
      `CREATE TABLE ${this.liveTable} (
         order_id text PRIMARY KEY,
         customer_id text NOT NULL,
         items integer NOT NULL,
         total_cents integer NOT NULL,
         shipped boolean NOT NULL,
         events integer NOT NULL
       )`,
    );
  }

  /** A store over the test's pool (which the test ends). */
  store(): PostgresReadModelStore {
    return new PostgresReadModelStore({ pool: this.pool, tables: [this.table], schema: this.schema });
  }

  /**
   * The projection; each worker takes its own, with its own behaviour. Writes
   * are the fold's: a placement (re)sets the row, an item adds to it, a
   * shipment marks it; each also counts itself in `events`.
   */
  projection(behaviour: OrderHandlerBehaviour = handlerBehaviour()): ProjectionDefinition<PostgresWriter> {
    const table = this.table;
    return defineProjection<PostgresWriter>(this.name)
      .on(OrderPlaced, async (event, envelope, writer) => {
        await beforeApplying(behaviour, event, envelope);
        await writer.query(
          `INSERT INTO ${writer.table(table)} (order_id, customer_id, items, total_cents, shipped, events) VALUES ($1, $2, 0, 0, false, 1)
           ON CONFLICT (order_id) DO UPDATE SET customer_id = excluded.customer_id, items = 0, total_cents = 0, shipped = false, events = 1`,
          [envelope.aggregateId, event.customerId],
        );
      })
      .on(ItemAdded, async (event, envelope, writer) => {
        await beforeApplying(behaviour, event, envelope);
        await writer.query(`UPDATE ${writer.table(table)} SET items = items + 1, total_cents = total_cents + $2, events = events + 1 WHERE order_id = $1`, [
          envelope.aggregateId,
          event.cents,
        ]);
      })
      .on(OrderShipped, async (event, envelope, writer) => {
        await beforeApplying(behaviour, event, envelope);
        await writer.query(`UPDATE ${writer.table(table)} SET shipped = true, events = events + 1 WHERE order_id = $1`, [envelope.aggregateId]);
      });
  }

  /** The live table's rows, by order id. */
  async read(): Promise<ReadModelSnapshot> {
    const { rows } = await this.pool.query<{ order_id: string; customer_id: string; items: number; total_cents: number; shipped: boolean; events: number }>(
      `SELECT order_id, customer_id, items, total_cents, shipped, events FROM ${this.liveTable}`,
    );
    const orders: Record<string, ProjectedOrder> = {};
    for (const row of rows) orders[row.order_id] = { customerId: row.customer_id, items: row.items, totalCents: row.total_cents, shipped: row.shipped, events: row.events };
    return { orders: sortedRecord(orders) };
  }

  /** What {@link read} must give after a full replay of `events`. */
  expected(events: readonly ShopEvent[]): ReadModelSnapshot {
    return { orders: projectOrders(events) };
  }

  /** Drops the tables (live and shadow) and forgets the projection's offsets and dead letters. */
  async drop(): Promise<void> {
    await this.store().dropShadow(this.name).catch(() => undefined);
    await this.pool.query(`DROP TABLE IF EXISTS ${this.liveTable}`);
    for (const bookkeeping of ['tributary_projection_offsets', 'tributary_projection_dead_letters']) {
      await this.pool.query(`DELETE FROM "${this.schema}".${bookkeeping} WHERE projection = ANY($1::text[])`, [[this.name, `${this.name}#shadow`]]).catch(() => undefined);
    }
  }
}
