import { Event } from '@tributary/core';
import { Type } from 'class-transformer';
import { LineItem } from './line-item';

@Event('OrderCreated', { version: 1 })
export class OrderCreated {
  @Type(() => LineItem)
  readonly items: LineItem[];

  constructor(
    readonly orderId: string,
    readonly customerId: string,
    items: LineItem[] = [],
  ) {
    this.items = items;
  }
}

@Event('ItemAdded', { version: 1 })
export class ItemAdded {
  @Type(() => LineItem)
  readonly item: LineItem;

  constructor(
    readonly orderId: string,
    item: LineItem,
  ) {
    this.item = item;
  }
}

@Event('ItemRemoved', { version: 1 })
export class ItemRemoved {
  constructor(
    readonly orderId: string,
    readonly itemId: string,
  ) {}
}

@Event('OrderSubmitted', { version: 1 })
export class OrderSubmitted {
  @Type(() => Date)
  readonly submittedAt: Date;

  constructor(
    readonly orderId: string,
    submittedAt: Date,
  ) {
    this.submittedAt = submittedAt;
  }
}

@Event('OrderCancelled', { version: 1 })
export class OrderCancelled {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {}
}
