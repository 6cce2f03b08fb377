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
export { ORDER_SUMMARY_TABLES, OrderSummaryProjection, createOrderSummaryTables, readOrderSummary } from './order-summary.projection';
export type { OrderSummary } from './order-summary.projection';
export { customerOrdersKeys, customerOrdersProjection, readCustomerOrders } from './customer-orders.projection';
export type { CustomerOrder } from './customer-orders.projection';
