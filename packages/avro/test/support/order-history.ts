/**
 * An Order whose events evolve in three stages, as a team's would over years:
 *
 * - stage 1: `Shop.OrderCreated` v1 { orderId, customer }, `Shop.ItemAdded` v1, `Shop.OrderShipped` v1;
 * - stage 2: `Shop.OrderCreated` v2 adds `channel` with a default: Avro resolution suffices;
 * - stage 3: `Shop.OrderCreated` v3 renames `customer` to `customerId` (an upcaster
 *   from v2), and `Shop.OrderShipped` is split into `Shop.OrderPacked` and
 *   `Shop.OrderDispatched` (an upcaster from v1).
 *
 * Each stage has its own aggregate class, as the code base had at the time. The
 * event classes of earlier versions stay declared, with their schemas: they are
 * the history the repository must keep readable.
 */
import { Aggregate, AggregateId, AggregateRoot, Apply, Command, CommandHandler, Event, TargetAggregateId, defineUpcaster } from '@tributary/core';
import { AvroSchema } from '@tributary/avro';

const NAMESPACE = 'shop';

// ---- events, every version ever written ----

@Event('Shop.OrderCreated', { version: 1 })
@AvroSchema({
  type: 'record',
  name: 'OrderCreated',
  namespace: NAMESPACE,
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customer', type: 'string' },
  ],
})
export class OrderCreatedV1 {
  constructor(
    readonly orderId: string,
    readonly customer: string,
  ) {}
}

@Event('Shop.OrderCreated', { version: 2 })
@AvroSchema({
  type: 'record',
  name: 'OrderCreated',
  namespace: NAMESPACE,
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customer', type: 'string' },
    // Orders before stage 2 all came from the web shop.
    { name: 'channel', type: 'string', default: 'web' },
  ],
})
export class OrderCreatedV2 {
  constructor(
    readonly orderId: string,
    readonly customer: string,
    readonly channel: string,
  ) {}
}

@Event('Shop.OrderCreated', { version: 3 })
@AvroSchema({
  type: 'record',
  name: 'OrderCreated',
  namespace: NAMESPACE,
  fields: [
    { name: 'orderId', type: 'string' },
    // The default keeps the subject BACKWARD_TRANSITIVE; the upcaster from v2 fills it.
    { name: 'customerId', type: 'string', default: '' },
    { name: 'channel', type: 'string', default: 'web' },
  ],
})
export class OrderCreated {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly channel: string,
  ) {}
}

@Event('Shop.ItemAdded', { version: 1 })
@AvroSchema({
  type: 'record',
  name: 'ItemAdded',
  namespace: NAMESPACE,
  fields: [
    { name: 'sku', type: 'string' },
    { name: 'quantity', type: 'int' },
    { name: 'priceCents', type: 'long' },
  ],
})
export class ItemAdded {
  constructor(
    readonly sku: string,
    readonly quantity: number,
    readonly priceCents: number,
  ) {}
}

@Event('Shop.OrderShipped', { version: 1 })
@AvroSchema({
  type: 'record',
  name: 'OrderShipped',
  namespace: NAMESPACE,
  fields: [
    { name: 'carrier', type: 'string' },
    { name: 'trackingCode', type: 'string' },
  ],
})
export class OrderShipped {
  constructor(
    readonly carrier: string,
    readonly trackingCode: string,
  ) {}
}

@Event('Shop.OrderPacked', { version: 1 })
@AvroSchema({ type: 'record', name: 'OrderPacked', namespace: NAMESPACE, fields: [{ name: 'parcels', type: 'int', default: 1 }] })
export class OrderPacked {
  constructor(readonly parcels: number) {}
}

@Event('Shop.OrderDispatched', { version: 1 })
@AvroSchema({
  type: 'record',
  name: 'OrderDispatched',
  namespace: NAMESPACE,
  fields: [
    { name: 'carrier', type: 'string' },
    { name: 'trackingCode', type: 'string' },
  ],
})
export class OrderDispatched {
  constructor(
    readonly carrier: string,
    readonly trackingCode: string,
  ) {}
}

/** Every event class of every stage: what a stage-3 code base keeps declared. */
export const ALL_EVENT_CLASSES = [OrderCreatedV1, OrderCreatedV2, OrderCreated, ItemAdded, OrderShipped, OrderPacked, OrderDispatched];

// ---- upcasters of stage 3 ----

/** v2 → v3: `customer` is now `customerId`; same value, new name Avro cannot resolve without an alias we chose not to keep. */
export const renameCustomer = defineUpcaster('Shop.OrderCreated', 2, ({ payload }) => {
  const { customer, ...rest } = payload as { customer: string; orderId: string; channel: string };
  return { type: 'Shop.OrderCreated', schemaVersion: 3, payload: { ...rest, customerId: customer } };
});

/** OrderShipped was two facts: packing, then handing the parcel to a carrier. */
export const splitShipped = defineUpcaster('Shop.OrderShipped', 1, ({ payload }) => [
  { type: 'Shop.OrderPacked', schemaVersion: 1, payload: { parcels: 1 } },
  { type: 'Shop.OrderDispatched', schemaVersion: 1, payload: { carrier: payload.carrier, trackingCode: payload.trackingCode } },
]);

export const STAGE_3_UPCASTERS = [renameCustomer, splitShipped];

// ---- commands ----

@Command('Shop.CreateOrder')
export class CreateOrder {
  @TargetAggregateId() readonly orderId: string;
  constructor(
    orderId: string,
    readonly customer: string,
    readonly channel = 'web',
  ) {
    this.orderId = orderId;
  }
}

@Command('Shop.AddItem')
export class AddItem {
  @TargetAggregateId() readonly orderId: string;
  constructor(
    orderId: string,
    readonly sku: string,
    readonly quantity: number,
    readonly priceCents: number,
  ) {
    this.orderId = orderId;
  }
}

@Command('Shop.ShipOrder')
export class ShipOrder {
  @TargetAggregateId() readonly orderId: string;
  constructor(
    orderId: string,
    readonly carrier: string,
    readonly trackingCode: string,
  ) {
    this.orderId = orderId;
  }
}

// ---- the aggregate at each stage ----

interface OrderState {
  id: string;
  customer: string;
  channel: string;
  items: number;
  totalCents: number;
  status: 'open' | 'packed' | 'shipped';
  carrier: string;
}

@Aggregate('Shop.Order')
export class OrderStage1 extends AggregateRoot implements Omit<OrderState, 'channel'> {
  @AggregateId() id = '';
  customer = '';
  items = 0;
  totalCents = 0;
  status: OrderState['status'] = 'open';
  carrier = '';

  @CommandHandler(CreateOrder) static create(command: CreateOrder): OrderStage1 {
    const order = new OrderStage1();
    order.apply(new OrderCreatedV1(command.orderId, command.customer));
    return order;
  }
  @CommandHandler(AddItem) add(command: AddItem): void {
    this.apply(new ItemAdded(command.sku, command.quantity, command.priceCents));
  }
  @CommandHandler(ShipOrder) ship(command: ShipOrder): void {
    this.apply(new OrderShipped(command.carrier, command.trackingCode));
  }
  @Apply(OrderCreatedV1) created(event: OrderCreatedV1): void {
    this.id = event.orderId;
    this.customer = event.customer;
  }
  @Apply(ItemAdded) added(event: ItemAdded): void {
    this.items += event.quantity;
    this.totalCents += event.quantity * event.priceCents;
  }
  @Apply(OrderShipped) shipped(event: OrderShipped): void {
    this.status = 'shipped';
    this.carrier = event.carrier;
  }
}

@Aggregate('Shop.Order')
export class OrderStage2 extends AggregateRoot implements OrderState {
  @AggregateId() id = '';
  customer = '';
  channel = '';
  items = 0;
  totalCents = 0;
  status: OrderState['status'] = 'open';
  carrier = '';

  @CommandHandler(CreateOrder) static create(command: CreateOrder): OrderStage2 {
    const order = new OrderStage2();
    order.apply(new OrderCreatedV2(command.orderId, command.customer, command.channel));
    return order;
  }
  @CommandHandler(AddItem) add(command: AddItem): void {
    this.apply(new ItemAdded(command.sku, command.quantity, command.priceCents));
  }
  @CommandHandler(ShipOrder) ship(command: ShipOrder): void {
    this.apply(new OrderShipped(command.carrier, command.trackingCode));
  }
  @Apply(OrderCreatedV2) created(event: OrderCreatedV2): void {
    this.id = event.orderId;
    this.customer = event.customer;
    this.channel = event.channel;
  }
  @Apply(ItemAdded) added(event: ItemAdded): void {
    this.items += event.quantity;
    this.totalCents += event.quantity * event.priceCents;
  }
  @Apply(OrderShipped) shipped(event: OrderShipped): void {
    this.status = 'shipped';
    this.carrier = event.carrier;
  }
}

@Aggregate('Shop.Order')
export class Order extends AggregateRoot implements OrderState {
  @AggregateId() id = '';
  customer = '';
  channel = '';
  items = 0;
  totalCents = 0;
  status: OrderState['status'] = 'open';
  carrier = '';

  @CommandHandler(CreateOrder) static create(command: CreateOrder): Order {
    const order = new Order();
    order.apply(new OrderCreated(command.orderId, command.customer, command.channel));
    return order;
  }
  @CommandHandler(AddItem) add(command: AddItem): void {
    this.apply(new ItemAdded(command.sku, command.quantity, command.priceCents));
  }
  @CommandHandler(ShipOrder) ship(command: ShipOrder): void {
    this.apply(new OrderPacked(1));
    this.apply(new OrderDispatched(command.carrier, command.trackingCode));
  }
  @Apply(OrderCreated) created(event: OrderCreated): void {
    this.id = event.orderId;
    this.customer = event.customerId;
    this.channel = event.channel;
  }
  @Apply(ItemAdded) added(event: ItemAdded): void {
    this.items += event.quantity;
    this.totalCents += event.quantity * event.priceCents;
  }
  @Apply(OrderPacked) packed(): void {
    this.status = 'packed';
  }
  @Apply(OrderDispatched) dispatched(event: OrderDispatched): void {
    this.status = 'shipped';
    this.carrier = event.carrier;
  }
}

/** The state a user reads, the same shape at every stage. */
export function orderState(order: OrderStage1 | OrderStage2 | Order): OrderState {
  return {
    id: order.id,
    customer: order.customer,
    channel: 'channel' in order ? order.channel : 'web',
    items: order.items,
    totalCents: order.totalCents,
    status: order.status,
    carrier: order.carrier,
  };
}
