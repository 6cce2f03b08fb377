import { Command, TargetAggregateId } from '@tributary/core';
import { Type } from 'class-transformer';
import { LineItem } from './line-item';

@Command('CreateOrder')
export class CreateOrder {
  @TargetAggregateId()
  readonly orderId: string;
  @Type(() => LineItem)
  readonly items: LineItem[];

  constructor(
    orderId: string,
    readonly customerId: string,
    items: LineItem[] = [],
  ) {
    this.orderId = orderId;
    this.items = items;
  }
}

@Command('AddItem')
export class AddItem {
  @TargetAggregateId()
  readonly orderId: string;
  @Type(() => LineItem)
  readonly item: LineItem;

  constructor(orderId: string, item: LineItem) {
    this.orderId = orderId;
    this.item = item;
  }
}

@Command('RemoveItem')
export class RemoveItem {
  @TargetAggregateId()
  readonly orderId: string;

  constructor(
    orderId: string,
    readonly itemId: string,
  ) {
    this.orderId = orderId;
  }
}

@Command('SubmitOrder')
export class SubmitOrder {
  @TargetAggregateId()
  readonly orderId: string;

  constructor(orderId: string) {
    this.orderId = orderId;
  }
}

@Command('CancelOrder')
export class CancelOrder {
  @TargetAggregateId()
  readonly orderId: string;

  constructor(
    orderId: string,
    readonly reason: string,
  ) {
    this.orderId = orderId;
  }
}
