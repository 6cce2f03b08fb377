/**
 * The benchmark's Order: four event types with payloads of about 200 bytes,
 * and the history of two of them over three versions, so the legacy dataset
 * needs a two-step upcaster chain (v1 → v2 → v3) on every order placed and
 * every item added.
 *
 * - `Bench.OrderPlaced` v1 { orderId, customer, shipTo } → v2 renames `customer`
 *   to `customerId` and adds `channel` → v3 renames `shipTo` to
 *   `shippingAddress` and adds `currency`;
 * - `Bench.ItemAdded` v1 { sku, text, qty, price: "12.34" } → v2 { sku,
 *   description, quantity, priceCents } → v3 renames `priceCents` to
 *   `unitPriceCents` and adds `currency`;
 * - `Bench.ItemRemoved` v1 and `Bench.OrderShipped` v1 never changed.
 *
 * Renames are upcasters, not Avro aliases: Avro resolution alone cannot read
 * any of these old versions as the new one.
 *
 * The state stays bounded however long the history: lines are keyed by SKU,
 * from a catalogue of {@link SKUS} products.
 */
import { Aggregate, AggregateId, AggregateRoot, Apply, Command, CommandHandler, Event, TargetAggregateId, defineUpcaster } from '@tributary/core';
import { AvroSchema } from '@tributary/avro';

const NAMESPACE = 'bench.replay';
export const AGGREGATE_TYPE = 'Bench.Order';
/** Products an order's lines are drawn from. */
export const SKUS = 40;

// ---- current events ----

@Event('Bench.OrderPlaced', { version: 3 })
@AvroSchema({
  type: 'record',
  name: 'OrderPlaced',
  namespace: NAMESPACE,
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customerId', type: 'string' },
    { name: 'channel', type: 'string' },
    { name: 'currency', type: 'string' },
    { name: 'shippingAddress', type: 'string' },
  ],
})
export class OrderPlaced {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly channel: string,
    readonly currency: string,
    readonly shippingAddress: string,
  ) {}
}

@Event('Bench.ItemAdded', { version: 3 })
@AvroSchema({
  type: 'record',
  name: 'ItemAdded',
  namespace: NAMESPACE,
  fields: [
    { name: 'sku', type: 'string' },
    { name: 'description', type: 'string' },
    { name: 'quantity', type: 'int' },
    { name: 'unitPriceCents', type: 'long' },
    { name: 'currency', type: 'string' },
  ],
})
export class ItemAdded {
  constructor(
    readonly sku: string,
    readonly description: string,
    readonly quantity: number,
    readonly unitPriceCents: number,
    readonly currency: string,
  ) {}
}

@Event('Bench.ItemRemoved', { version: 1 })
@AvroSchema({
  type: 'record',
  name: 'ItemRemoved',
  namespace: NAMESPACE,
  fields: [
    { name: 'sku', type: 'string' },
    { name: 'reason', type: 'string' },
  ],
})
export class ItemRemoved {
  constructor(
    readonly sku: string,
    readonly reason: string,
  ) {}
}

@Event('Bench.OrderShipped', { version: 1 })
@AvroSchema({
  type: 'record',
  name: 'OrderShipped',
  namespace: NAMESPACE,
  fields: [
    { name: 'carrier', type: 'string' },
    { name: 'trackingCode', type: 'string' },
    { name: 'parcels', type: 'int' },
    { name: 'note', type: 'string' },
  ],
})
export class OrderShipped {
  constructor(
    readonly carrier: string,
    readonly trackingCode: string,
    readonly parcels: number,
    readonly note: string,
  ) {}
}

// ---- legacy events: the history the two-step chain reads ----

@Event('Bench.OrderPlaced', { version: 1 })
@AvroSchema({
  type: 'record',
  name: 'OrderPlaced',
  namespace: NAMESPACE,
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customer', type: 'string' },
    { name: 'shipTo', type: 'string' },
  ],
})
export class OrderPlacedV1 {
  constructor(
    readonly orderId: string,
    readonly customer: string,
    readonly shipTo: string,
  ) {}
}

@Event('Bench.OrderPlaced', { version: 2 })
@AvroSchema({
  type: 'record',
  name: 'OrderPlaced',
  namespace: NAMESPACE,
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customerId', type: 'string' },
    { name: 'channel', type: 'string' },
    { name: 'shipTo', type: 'string' },
  ],
})
export class OrderPlacedV2 {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly channel: string,
    readonly shipTo: string,
  ) {}
}

@Event('Bench.ItemAdded', { version: 1 })
@AvroSchema({
  type: 'record',
  name: 'ItemAdded',
  namespace: NAMESPACE,
  fields: [
    { name: 'sku', type: 'string' },
    { name: 'text', type: 'string' },
    { name: 'qty', type: 'int' },
    { name: 'price', type: 'string' },
  ],
})
export class ItemAddedV1 {
  constructor(
    readonly sku: string,
    readonly text: string,
    readonly qty: number,
    readonly price: string,
  ) {}
}

@Event('Bench.ItemAdded', { version: 2 })
@AvroSchema({
  type: 'record',
  name: 'ItemAdded',
  namespace: NAMESPACE,
  fields: [
    { name: 'sku', type: 'string' },
    { name: 'description', type: 'string' },
    { name: 'quantity', type: 'int' },
    { name: 'priceCents', type: 'long' },
  ],
})
export class ItemAddedV2 {
  constructor(
    readonly sku: string,
    readonly description: string,
    readonly quantity: number,
    readonly priceCents: number,
  ) {}
}

export const LEGACY_EVENT_CLASSES = [OrderPlacedV1, OrderPlacedV2, ItemAddedV1, ItemAddedV2];
export const CURRENT_EVENT_CLASSES = [OrderPlaced, ItemAdded, ItemRemoved, OrderShipped];
export const ALL_EVENT_CLASSES = [...LEGACY_EVENT_CLASSES, ...CURRENT_EVENT_CLASSES];

// ---- upcasters: two steps for each changed type ----

export const placedV1toV2 = defineUpcaster('Bench.OrderPlaced', 1, ({ payload }) => {
  const { orderId, customer, shipTo } = payload as unknown as OrderPlacedV1;
  // Before v2 every order came from the web shop.
  return { type: 'Bench.OrderPlaced', schemaVersion: 2, payload: { orderId, customerId: customer, channel: 'web', shipTo } };
});

export const placedV2toV3 = defineUpcaster('Bench.OrderPlaced', 2, ({ payload }) => {
  const { orderId, customerId, channel, shipTo } = payload as unknown as OrderPlacedV2;
  return { type: 'Bench.OrderPlaced', schemaVersion: 3, payload: { orderId, customerId, channel, currency: 'EUR', shippingAddress: shipTo } };
});

export const itemV1toV2 = defineUpcaster('Bench.ItemAdded', 1, ({ payload }) => {
  const { sku, text, qty, price } = payload as unknown as ItemAddedV1;
  return { type: 'Bench.ItemAdded', schemaVersion: 2, payload: { sku, description: text, quantity: qty, priceCents: Math.round(Number(price) * 100) } };
});

export const itemV2toV3 = defineUpcaster('Bench.ItemAdded', 2, ({ payload }) => {
  const { sku, description, quantity, priceCents } = payload as unknown as ItemAddedV2;
  return { type: 'Bench.ItemAdded', schemaVersion: 3, payload: { sku, description, quantity, unitPriceCents: priceCents, currency: 'EUR' } };
});

export const UPCASTERS = [placedV1toV2, placedV2toV3, itemV1toV2, itemV2toV3];

// ---- commands, for the aggregate the single-load phase builds through a CommandProcessor ----

@Command('Bench.PlaceOrder')
export class PlaceOrder {
  @TargetAggregateId() readonly orderId: string;
  constructor(
    orderId: string,
    readonly payload: OrderPlaced,
  ) {
    this.orderId = orderId;
  }
}

/** Adds or removes many lines at once: one command, many events, so a 10 000-event history takes few round trips. */
@Command('Bench.ChangeLines')
export class ChangeLines {
  @TargetAggregateId() readonly orderId: string;
  constructor(
    orderId: string,
    readonly changes: Array<{ added?: ItemAdded; removed?: ItemRemoved }>,
  ) {
    this.orderId = orderId;
  }
}

// ---- the aggregate ----

interface Line {
  quantity: number;
  unitPriceCents: number;
}

@Aggregate(AGGREGATE_TYPE)
export class Order extends AggregateRoot {
  @AggregateId() id = '';
  customerId = '';
  channel = '';
  currency = '';
  shippingAddress = '';
  /** By SKU. */
  lines: Record<string, Line> = {};
  itemsAdded = 0;
  itemsRemoved = 0;
  totalCents = 0;
  status: 'open' | 'shipped' = 'open';
  carrier = '';

  @CommandHandler(PlaceOrder) static place(command: PlaceOrder): Order {
    const order = new Order();
    const p = command.payload;
    order.apply(new OrderPlaced(p.orderId, p.customerId, p.channel, p.currency, p.shippingAddress));
    return order;
  }

  @CommandHandler(ChangeLines) change(command: ChangeLines): void {
    for (const { added, removed } of command.changes) {
      if (added) this.apply(new ItemAdded(added.sku, added.description, added.quantity, added.unitPriceCents, added.currency));
      if (removed) this.apply(new ItemRemoved(removed.sku, removed.reason));
    }
  }

  @Apply(OrderPlaced) placed(event: OrderPlaced): void {
    this.id = event.orderId;
    this.customerId = event.customerId;
    this.channel = event.channel;
    this.currency = event.currency;
    this.shippingAddress = event.shippingAddress;
  }

  @Apply(ItemAdded) added(event: ItemAdded): void {
    const line = this.lines[event.sku];
    if (line) line.quantity += event.quantity;
    else this.lines[event.sku] = { quantity: event.quantity, unitPriceCents: event.unitPriceCents };
    this.itemsAdded += event.quantity;
    this.totalCents += event.quantity * event.unitPriceCents;
  }

  @Apply(ItemRemoved) removed(event: ItemRemoved): void {
    const line = this.lines[event.sku];
    if (!line) return;
    delete this.lines[event.sku];
    this.itemsRemoved += line.quantity;
    this.totalCents -= line.quantity * line.unitPriceCents;
  }

  @Apply(OrderShipped) shipped(event: OrderShipped): void {
    this.status = 'shipped';
    this.carrier = event.carrier;
  }
}
