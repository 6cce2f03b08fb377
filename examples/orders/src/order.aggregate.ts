import { Aggregate, AggregateId, AggregateRoot, Apply, CommandHandler } from '@tributary/core';
import { Type } from 'class-transformer';
import { LineItem } from './line-item';
import { AddItem, CancelOrder, CreateOrder, RemoveItem, SubmitOrder } from './order.commands';
import {
  EmptyOrderError,
  InvalidLineItemError,
  ItemNotInOrderError,
  OrderAlreadyCancelledError,
  OrderAlreadySubmittedError,
} from './order.errors';
import { ItemAdded, ItemRemoved, OrderCancelled, OrderCreated, OrderSubmitted } from './order.events';

export type OrderStatus = 'open' | 'submitted' | 'cancelled';

@Aggregate('Order')
export class Order extends AggregateRoot {
  @AggregateId()
  id = '';
  customerId = '';
  status: OrderStatus = 'open';
  /** One line per item id; adding an item already there adds to its quantity. */
  @Type(() => LineItem)
  items: LineItem[] = [];
  @Type(() => Date)
  submittedAt?: Date;
  cancellationReason?: string;

  get totalCents(): number {
    return this.items.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  }

  @CommandHandler(CreateOrder)
  static create(command: CreateOrder): Order {
    command.items.forEach((item) => checkLineItem(command.orderId, item));
    const order = new Order();
    order.apply(new OrderCreated(command.orderId, command.customerId, command.items));
    return order;
  }

  @CommandHandler(AddItem)
  addItem(command: AddItem): void {
    this.ensureOpen();
    checkLineItem(this.id, command.item);
    this.apply(new ItemAdded(this.id, command.item));
  }

  @CommandHandler(RemoveItem)
  removeItem(command: RemoveItem): void {
    this.ensureOpen();
    if (!this.items.some((line) => line.itemId === command.itemId)) throw new ItemNotInOrderError(this.id, command.itemId);
    this.apply(new ItemRemoved(this.id, command.itemId));
  }

  @CommandHandler(SubmitOrder)
  submit(): void {
    this.ensureOpen();
    if (this.items.length === 0) throw new EmptyOrderError(this.id);
    this.apply(new OrderSubmitted(this.id, new Date()));
  }

  @CommandHandler(CancelOrder)
  cancel(command: CancelOrder): void {
    if (this.status === 'cancelled') throw new OrderAlreadyCancelledError(this.id);
    this.apply(new OrderCancelled(this.id, command.reason));
  }

  @Apply(OrderCreated)
  onCreated(event: OrderCreated): void {
    this.id = event.orderId;
    this.customerId = event.customerId;
    this.items = [];
    event.items.forEach((item) => this.addLine(item));
  }

  @Apply(ItemAdded)
  onItemAdded(event: ItemAdded): void {
    this.addLine(event.item);
  }

  @Apply(ItemRemoved)
  onItemRemoved(event: ItemRemoved): void {
    this.items = this.items.filter((line) => line.itemId !== event.itemId);
  }

  @Apply(OrderSubmitted)
  onSubmitted(event: OrderSubmitted): void {
    this.status = 'submitted';
    this.submittedAt = event.submittedAt;
  }

  @Apply(OrderCancelled)
  onCancelled(event: OrderCancelled): void {
    this.status = 'cancelled';
    this.cancellationReason = event.reason;
  }

  private ensureOpen(): void {
    if (this.status === 'submitted') throw new OrderAlreadySubmittedError(this.id);
    if (this.status === 'cancelled') throw new OrderAlreadyCancelledError(this.id);
  }

  private addLine(item: LineItem): void {
    const existing = this.items.find((line) => line.itemId === item.itemId);
    this.items = existing
      ? this.items.map((line) =>
          line === existing ? new LineItem(line.itemId, line.quantity + item.quantity, line.unitPriceCents) : line,
        )
      : [...this.items, new LineItem(item.itemId, item.quantity, item.unitPriceCents)];
  }
}

function checkLineItem(orderId: string, item: LineItem): void {
  if (!Number.isInteger(item.quantity) || item.quantity < 1) {
    throw new InvalidLineItemError(orderId, `quantity of '${item.itemId}' must be a whole number of at least 1, got ${item.quantity}`);
  }
  if (!Number.isInteger(item.unitPriceCents) || item.unitPriceCents < 0) {
    throw new InvalidLineItemError(orderId, `price of '${item.itemId}' must be whole cents of 0 or more, got ${item.unitPriceCents}`);
  }
}
