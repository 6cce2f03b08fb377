import { TargetAggregateId } from '@tributary/core';
import { LineItem } from './line-item';

export class CreateOrder {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly items: LineItem[] = [],
  ) {}
}

export class AddItem {
  @TargetAggregateId()
  readonly orderId: string;

  constructor(
    orderId: string,
    readonly item: LineItem,
  ) {
    this.orderId = orderId;
  }
}

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

export class SubmitOrder {
  @TargetAggregateId()
  readonly orderId: string;

  constructor(orderId: string) {
    this.orderId = orderId;
  }
}

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
