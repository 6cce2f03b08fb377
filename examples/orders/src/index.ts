export { LineItem } from './line-item';
export { Order, OrderStatus } from './order.aggregate';
export { AddItem, CancelOrder, CreateOrder, RemoveItem, SubmitOrder } from './order.commands';
export {
  EmptyOrderError,
  InvalidLineItemError,
  ItemNotInOrderError,
  OrderAlreadyCancelledError,
  OrderAlreadySubmittedError,
} from './order.errors';
export { ItemAdded, ItemRemoved, OrderCancelled, OrderCreated, OrderSubmitted } from './order.events';
