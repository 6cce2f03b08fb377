import { EventEnvelope, InMemoryWriter, TributaryError } from '@tributary/core';
import { On, Projection } from '@tributary/projections';
import { ItemAdded, OrderPlaced, OrderShipped, OrderSummaryRow } from './shop';

/** Refuses events written as poison while `poisonRefused` holds: a handler bug, fixed by flipping it. */
export const handlerBehaviour = { poisonRefused: true, transientFailures: 0, stillRefused: new Set<string>() };

export class PoisonEventError extends TributaryError {
  constructor(orderId: string) {
    super(`order ${orderId}: this event is poison`, { code: 'TEST_POISON' });
  }
}

export class FlakyStoreError extends TributaryError {
  constructor() {
    super('the read model is briefly unavailable', { code: 'TEST_FLAKY', retriable: true });
  }
}

/** The order summary read model in the in-memory store: one row per order, under `order:<id>`. */
@Projection('order-summary')
export class InMemoryOrderSummary {
  @On(OrderPlaced)
  placed(event: OrderPlaced, envelope: EventEnvelope<OrderPlaced>, model: InMemoryWriter): void {
    refuse(event, envelope);
    model.set(`order:${envelope.aggregateId}`, { customerId: event.customerId, items: 0, totalCents: 0, shipped: false } satisfies OrderSummaryRow);
  }

  @On(ItemAdded)
  itemAdded(event: ItemAdded, envelope: EventEnvelope<ItemAdded>, model: InMemoryWriter): void {
    refuse(event, envelope);
    const row = model.get<OrderSummaryRow>(`order:${envelope.aggregateId}`);
    if (row) model.set(`order:${envelope.aggregateId}`, { ...row, items: row.items + 1, totalCents: row.totalCents + event.cents });
  }

  @On(OrderShipped)
  shipped(event: OrderShipped, envelope: EventEnvelope<OrderShipped>, model: InMemoryWriter): void {
    refuse(event, envelope);
    const row = model.get<OrderSummaryRow>(`order:${envelope.aggregateId}`);
    if (row) model.set(`order:${envelope.aggregateId}`, { ...row, shipped: true });
  }
}

function refuse(event: object, envelope: EventEnvelope<object>): void {
  if (handlerBehaviour.transientFailures > 0) {
    handlerBehaviour.transientFailures -= 1;
    throw new FlakyStoreError();
  }
  const refused = handlerBehaviour.poisonRefused || handlerBehaviour.stillRefused.has(envelope.aggregateId);
  if (refused && (event as { poison?: boolean }).poison) throw new PoisonEventError(envelope.aggregateId);
}

/** The rows of an in-memory order summary, by order id. */
export function inMemoryRows(model: ReadonlyMap<string, unknown>): Map<string, OrderSummaryRow> {
  return new Map([...model].filter(([key]) => key.startsWith('order:')).map(([key, value]) => [key.slice('order:'.length), value as OrderSummaryRow]));
}
