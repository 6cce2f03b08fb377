import { Aggregate, AggregateId, AggregateRoot, Apply, Command, CommandHandler, Event, TargetAggregateId } from '@tributary/core';

/** The shop of the projection tests: orders placed by customers, items added, orders shipped. */
@Event('ProjectionTest.OrderPlaced')
export class OrderPlaced {
  constructor(readonly customerId: string) {}
}

@Event('ProjectionTest.ItemAdded')
export class ItemAdded {
  constructor(
    readonly sku: string,
    readonly cents: number,
  ) {}
}

@Event('ProjectionTest.OrderShipped')
export class OrderShipped {
  constructor() {}
}

@Command('ProjectionTest.PlaceOrder')
export class PlaceOrder {
  @TargetAggregateId() readonly orderId: string;
  constructor(
    orderId: string,
    readonly customerId: string,
  ) {
    this.orderId = orderId;
  }
}

@Aggregate('ShopOrder')
export class ShopOrder extends AggregateRoot {
  @AggregateId() id = '';
  customerId = '';
  total = 0;
  shipped = false;

  @CommandHandler(PlaceOrder)
  static place(command: PlaceOrder): ShopOrder {
    const order = new ShopOrder();
    order.apply(new OrderPlaced(command.customerId));
    return order;
  }

  @Apply(OrderPlaced)
  onPlaced(event: OrderPlaced): void {
    this.customerId = event.customerId;
  }

  @Apply(ItemAdded)
  onItemAdded(event: ItemAdded): void {
    this.total += event.cents;
  }

  @Apply(OrderShipped)
  onShipped(): void {
    this.shipped = true;
  }
}

/** One event of the shop, as the tests write it. */
export type ShopEvent =
  | { readonly orderId: string; readonly type: 'placed'; readonly customerId: string }
  | { readonly orderId: string; readonly type: 'item'; readonly sku: string; readonly cents: number }
  | { readonly orderId: string; readonly type: 'shipped' };

/** What the order-summary read model holds per order, computed by a plain fold: the oracle of the tests. */
export interface OrderSummaryRow {
  readonly customerId: string;
  readonly items: number;
  readonly totalCents: number;
  readonly shipped: boolean;
}

/** The read model a full replay of `events` gives, by order id. */
export function foldOrderSummaries(events: readonly ShopEvent[]): Map<string, OrderSummaryRow> {
  const rows = new Map<string, OrderSummaryRow>();
  for (const event of events) {
    const row = rows.get(event.orderId);
    if (event.type === 'placed') rows.set(event.orderId, { customerId: event.customerId, items: 0, totalCents: 0, shipped: false });
    else if (row && event.type === 'item') rows.set(event.orderId, { ...row, items: row.items + 1, totalCents: row.totalCents + event.cents });
    else if (row && event.type === 'shipped') rows.set(event.orderId, { ...row, shipped: true });
  }
  return rows;
}

/** A seeded stream of shop events over `orders` orders: each order is placed first, then items and at most one shipment (for at most half of them). */
export function shopEvents(seed: number, count: number, orders: number, idPrefix = 'o'): ShopEvent[] {
  let state = seed >>> 0 || 1;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  const placed = new Set<string>();
  const shipped = new Set<string>();
  const events: ShopEvent[] = [];
  while (events.length < count) {
    const orderId = `${idPrefix}-${Math.floor(random() * orders)}`;
    if (!placed.has(orderId)) {
      placed.add(orderId);
      events.push({ orderId, type: 'placed', customerId: `c-${Math.floor(random() * Math.max(1, orders / 4))}` });
    } else if (!shipped.has(orderId) && random() < 0.1 && shipped.size < orders / 2) {
      // At most half the orders ship, so some always take items and the stream never runs dry.
      shipped.add(orderId);
      events.push({ orderId, type: 'shipped' });
    } else if (!shipped.has(orderId)) {
      events.push({ orderId, type: 'item', sku: `sku-${Math.floor(random() * 20)}`, cents: 1 + Math.floor(random() * 5000) });
    }
  }
  return events;
}
