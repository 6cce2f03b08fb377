import { DomainError } from '@tributary/core';

export class OrderAlreadySubmittedError extends DomainError {
  constructor(orderId: string) {
    super(`Order ${orderId} is already submitted; its items can no longer change`, 'ORDER_ALREADY_SUBMITTED');
  }
}

export class OrderAlreadyCancelledError extends DomainError {
  constructor(orderId: string) {
    super(`Order ${orderId} is cancelled; a cancelled order cannot change`, 'ORDER_ALREADY_CANCELLED');
  }
}

export class EmptyOrderError extends DomainError {
  constructor(orderId: string) {
    super(`Order ${orderId} has no items; add at least one before submitting`, 'ORDER_EMPTY');
  }
}

export class ItemNotInOrderError extends DomainError {
  constructor(orderId: string, itemId: string) {
    super(`Order ${orderId} has no item '${itemId}' to remove`, 'ITEM_NOT_IN_ORDER');
  }
}

export class InvalidLineItemError extends DomainError {
  constructor(orderId: string, reason: string) {
    super(`Order ${orderId}: ${reason}`, 'INVALID_LINE_ITEM');
  }
}
