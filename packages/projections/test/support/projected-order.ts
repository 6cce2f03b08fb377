import { EventEnvelope } from '@tributary/core';
import { PoisonEventError } from './order-summary.projection';
import { OrderSummaryRow, ShopEvent, foldOrderSummaries } from './shop';

/**
 * An order as the PostgreSQL and Redis test projections keep it: the order
 * summary plus `events`, how many of the order's events were applied (its
 * placement sets it to 1). `shipped` alone could not show a shipment applied
 * twice; `events` does, and so does any other event applied twice or missed.
 */
export interface ProjectedOrder extends OrderSummaryRow {
  readonly events: number;
}

/** What a read model of the tests holds: orders by id, and for the Redis one the orders of each customer. */
export interface ReadModelSnapshot {
  readonly orders: Record<string, ProjectedOrder>;
  readonly customers?: Record<string, string[]>;
}

/** The orders a full replay of `events` gives: {@link foldOrderSummaries} (the oracle), with each order's applied-event count. */
export function projectOrders(events: readonly ShopEvent[]): Record<string, ProjectedOrder> {
  const counts = new Map<string, number>();
  for (const event of events) {
    if (event.type === 'placed') counts.set(event.orderId, 1);
    else if (counts.has(event.orderId)) counts.set(event.orderId, counts.get(event.orderId)! + 1);
  }
  const orders: Record<string, ProjectedOrder> = {};
  for (const [orderId, row] of [...foldOrderSummaries(events)].sort(([a], [b]) => (a < b ? -1 : 1))) orders[orderId] = { ...row, events: counts.get(orderId)! };
  return orders;
}

/** The order ids of each customer, sorted, as a full replay gives them. */
export function customerOrdersOf(orders: Record<string, ProjectedOrder>): Record<string, string[]> {
  const customers: Record<string, string[]> = {};
  for (const [orderId, order] of Object.entries(orders)) (customers[order.customerId] ??= []).push(orderId);
  for (const ids of Object.values(customers)) ids.sort();
  return sortedRecord(customers);
}

/** A record with its keys in order, so two compare (and print) alike. */
export function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * How the test handlers behave, per projection instance (a worker's own):
 * refuse poison events until fixed, take their time, or wait at a hook.
 */
export interface OrderHandlerBehaviour {
  /** Refuse events written as poison (ShopEventWriter's `poison`), as a handler bug would; flip to false to 'fix' it. */
  poisonRefused: boolean;
  /** Milliseconds each event takes, to make batches slow. */
  delayMs: number;
  /** Runs before each event is applied (after the delay), e.g. to count or to kill the process mid-transaction. */
  beforeEvent?: (orderId: string) => void | Promise<void>;
}

export function handlerBehaviour(overrides: Partial<OrderHandlerBehaviour> = {}): OrderHandlerBehaviour {
  return { poisonRefused: true, delayMs: 0, ...overrides };
}

/** The common start of every test handler: delay, hook, then refuse a poison event while the bug is not fixed. */
export async function beforeApplying(behaviour: OrderHandlerBehaviour, event: object, envelope: EventEnvelope<object>): Promise<void> {
  if (behaviour.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
  await behaviour.beforeEvent?.(envelope.aggregateId);
  if (behaviour.poisonRefused && (event as { poison?: boolean }).poison) throw new PoisonEventError(envelope.aggregateId);
}
