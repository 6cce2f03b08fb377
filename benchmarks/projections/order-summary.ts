/**
 * The order-summary projection of the benchmark's orders, once per store,
 * each doing the work a real one would: one row (PostgreSQL: an upsert;
 * Redis: a hash) per order, counters incremented by every event.
 *
 * | event | in memory | PostgreSQL | Redis |
 * | --- | --- | --- | --- |
 * | every one | get + set of the row | one `INSERT … ON CONFLICT DO UPDATE` | 2 to 5 commands (HSET, HINCRBY) queued on the MULTI |
 *
 * And how to read each read model back, as {@link OrderSummary} rows by order id,
 * to check it against the oracle.
 */
import { EventEnvelope, InMemoryReadModelStore, InMemoryWriter } from '@tributary/core';
import { ProjectionDefinition, defineProjection } from '@tributary/projections';
import type { PostgresWriter } from '@tributary/postgres';
import type { RedisWriter } from '@tributary/redis';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { ItemAdded, ItemRemoved, OrderPlaced, OrderShipped } from '../replay/domain';
import { OrderSummary } from './dataset';

type Envelope = EventEnvelope<object>;

/**
 * Counts handler calls: a store that runs a batch's work more than once (the
 * Redis store after a WATCH conflict) makes more calls than events committed.
 */
export interface HandlerCalls {
  calls: number;
}

const EMPTY: OrderSummary = { customerId: '', channel: '', status: 'open', carrier: '', events: 0, itemsAdded: 0, itemsRemoved: 0, quantity: 0, totalCents: 0, lastSequence: 0 };

// ---- in memory ----

/** Rows under `order:<id>`, read and written whole. */
export function inMemoryOrderSummary(name: string, counter: HandlerCalls): ProjectionDefinition<InMemoryWriter> {
  const update = (model: InMemoryWriter, envelope: Envelope, change: (row: OrderSummary) => Partial<OrderSummary>) => {
    counter.calls += 1;
    const key = `order:${envelope.aggregateId}`;
    const row = model.get<OrderSummary>(key) ?? EMPTY;
    model.set(key, { ...row, ...change(row), events: row.events + 1, lastSequence: envelope.sequence });
  };
  return defineProjection<InMemoryWriter>(name)
    .on(OrderPlaced, (event, envelope, model) => update(model, envelope, () => ({ customerId: event.customerId, channel: event.channel })))
    .on(ItemAdded, (event, envelope, model) =>
      update(model, envelope, (row) => ({ itemsAdded: row.itemsAdded + 1, quantity: row.quantity + event.quantity, totalCents: row.totalCents + event.quantity * event.unitPriceCents })),
    )
    .on(ItemRemoved, (_event, envelope, model) => update(model, envelope, (row) => ({ itemsRemoved: row.itemsRemoved + 1 })))
    .on(OrderShipped, (event, envelope, model) => update(model, envelope, () => ({ status: 'shipped', carrier: event.carrier })));
}

export function readInMemory(store: InMemoryReadModelStore, name: string): Map<string, OrderSummary> {
  const rows = new Map<string, OrderSummary>();
  for (const [key, value] of store.read(name)) if (key.startsWith('order:')) rows.set(key.slice('order:'.length), value as OrderSummary);
  return rows;
}

// ---- PostgreSQL ----

/** The live table, as a migration would create it. */
export function createTableSql(qualifiedTable: string): string {
  return `CREATE TABLE ${qualifiedTable} (
    order_id text PRIMARY KEY,
    customer_id text NOT NULL DEFAULT '',
    channel text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'open',
    carrier text NOT NULL DEFAULT '',
    events integer NOT NULL DEFAULT 0,
    items_added integer NOT NULL DEFAULT 0,
    items_removed integer NOT NULL DEFAULT 0,
    quantity integer NOT NULL DEFAULT 0,
    total_cents bigint NOT NULL DEFAULT 0,
    last_sequence integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL
  )`;
}

/** One upsert per event into `table`, incrementing the row's counters. */
export function postgresOrderSummary(name: string, table: string, counter: HandlerCalls): ProjectionDefinition<PostgresWriter> {
  // The statement text of each event type, per target table (live or shadow), built once.
  const statements = new Map<string, string>();
  const upsert = (writer: PostgresWriter, columns: string[], values: unknown[], updates: string[]) => {
    counter.calls += 1;
    const target = writer.table(table);
    const cacheKey = `${target} ${columns.join(',')}`;
    let text = statements.get(cacheKey);
    if (text === undefined) {
      const named = ['order_id', ...columns, 'last_sequence', 'updated_at'];
      text = `INSERT INTO ${target} AS s (${named.join(', ')}, events) VALUES (${named.map((_, index) => `$${index + 1}`).join(', ')}, 1)
       ON CONFLICT (order_id) DO UPDATE SET ${[...updates, 'events = s.events + 1', 'last_sequence = excluded.last_sequence', 'updated_at = excluded.updated_at'].join(', ')}`;
      statements.set(cacheKey, text);
    }
    // A named prepared statement per text: parsed and planned once per connection, not per event.
    return writer.prepared(text, values);
  };
  return defineProjection<PostgresWriter>(name)
    .on(OrderPlaced, (event, envelope, writer) =>
      upsert(writer, ['customer_id', 'channel'], [envelope.aggregateId, event.customerId, event.channel, envelope.sequence, envelope.occurredAt], ['customer_id = excluded.customer_id', 'channel = excluded.channel']),
    )
    .on(ItemAdded, (event, envelope, writer) =>
      upsert(
        writer,
        ['items_added', 'quantity', 'total_cents'],
        [envelope.aggregateId, 1, event.quantity, event.quantity * event.unitPriceCents, envelope.sequence, envelope.occurredAt],
        ['items_added = s.items_added + 1', 'quantity = s.quantity + excluded.quantity', 'total_cents = s.total_cents + excluded.total_cents'],
      ),
    )
    .on(ItemRemoved, (_event, envelope, writer) => upsert(writer, ['items_removed'], [envelope.aggregateId, 1, envelope.sequence, envelope.occurredAt], ['items_removed = s.items_removed + 1']))
    .on(OrderShipped, (event, envelope, writer) =>
      upsert(writer, ['status', 'carrier'], [envelope.aggregateId, 'shipped', event.carrier, envelope.sequence, envelope.occurredAt], ["status = 'shipped'", 'carrier = excluded.carrier']),
    );
}

interface SummaryRow {
  order_id: string;
  customer_id: string;
  channel: string;
  status: 'open' | 'shipped';
  carrier: string;
  events: number;
  items_added: number;
  items_removed: number;
  quantity: number;
  total_cents: string;
  last_sequence: number;
}

export async function readPostgres(pool: Pool, qualifiedTable: string): Promise<Map<string, OrderSummary>> {
  const { rows } = await pool.query<SummaryRow>(`SELECT * FROM ${qualifiedTable}`);
  return new Map(
    rows.map((row) => [
      row.order_id,
      {
        customerId: row.customer_id,
        channel: row.channel,
        status: row.status,
        carrier: row.carrier,
        events: row.events,
        itemsAdded: row.items_added,
        itemsRemoved: row.items_removed,
        quantity: row.quantity,
        totalCents: Number(row.total_cents),
        lastSequence: row.last_sequence,
      },
    ]),
  );
}

// ---- Redis ----

/** A hash per order, `order:<id>`: HINCRBY for the counters, HSET for the rest. */
export function redisOrderSummary(name: string, counter: HandlerCalls): ProjectionDefinition<RedisWriter> {
  const key = (redis: RedisWriter, envelope: Envelope) => {
    counter.calls += 1;
    return redis.key(`order:${envelope.aggregateId}`);
  };
  return defineProjection<RedisWriter>(name)
    .on(OrderPlaced, (event, envelope, redis) => {
      const order = key(redis, envelope);
      redis.multi.hset(order, { customer_id: event.customerId, channel: event.channel, status: 'open', last_sequence: envelope.sequence }).hincrby(order, 'events', 1);
    })
    .on(ItemAdded, (event, envelope, redis) => {
      const order = key(redis, envelope);
      redis.multi
        .hincrby(order, 'events', 1)
        .hincrby(order, 'items_added', 1)
        .hincrby(order, 'quantity', event.quantity)
        .hincrby(order, 'total_cents', event.quantity * event.unitPriceCents)
        .hset(order, 'last_sequence', envelope.sequence);
    })
    .on(ItemRemoved, (_event, envelope, redis) => {
      const order = key(redis, envelope);
      redis.multi.hincrby(order, 'events', 1).hincrby(order, 'items_removed', 1).hset(order, 'last_sequence', envelope.sequence);
    })
    .on(OrderShipped, (event, envelope, redis) => {
      const order = key(redis, envelope);
      redis.multi.hset(order, { status: 'shipped', carrier: event.carrier, last_sequence: envelope.sequence }).hincrby(order, 'events', 1);
    });
}

/** Every `order:*` hash of the live version: `liveKeyOfOrders` is the live key of the name `order:` (the ids follow it). */
export async function readRedis(client: Redis, liveKeyOfOrders: string): Promise<Map<string, OrderSummary>> {
  const keys: string[] = [];
  for await (const found of client.scanStream({ match: `${liveKeyOfOrders.replace(/[*?[\]\\]/g, '\\$&')}*`, count: 1000 })) keys.push(...(found as string[]));
  const rows = new Map<string, OrderSummary>();
  for (let from = 0; from < keys.length; from += 1000) {
    const chunk = keys.slice(from, from + 1000);
    const pipeline = client.pipeline();
    for (const key of chunk) pipeline.hgetall(key);
    const results = (await pipeline.exec()) ?? [];
    results.forEach(([error, value], index) => {
      if (error) throw error;
      const hash = value as Record<string, string>;
      rows.set(chunk[index].slice(liveKeyOfOrders.length), {
        customerId: hash.customer_id ?? '',
        channel: hash.channel ?? '',
        status: (hash.status ?? 'open') as OrderSummary['status'],
        carrier: hash.carrier ?? '',
        events: Number(hash.events ?? 0),
        itemsAdded: Number(hash.items_added ?? 0),
        itemsRemoved: Number(hash.items_removed ?? 0),
        quantity: Number(hash.quantity ?? 0),
        totalCents: Number(hash.total_cents ?? 0),
        lastSequence: Number(hash.last_sequence ?? 0),
      });
    });
  }
  return rows;
}
