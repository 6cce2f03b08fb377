import { RedisReadModelStore, RedisWriter } from '@tributary/redis';
import { defineProjection } from '@tributary/projections';
import type Redis from 'ioredis';
import { LineItem } from './line-item';
import { ItemAdded, ItemRemoved, OrderCreated } from './order.events';

/** The read-model key names of customer-orders (each becomes a Redis key through `writer.key` or `store.liveKey`). */
export const customerOrdersKeys = {
  /** A set: the ids of the customer's orders. */
  orders: (customerId: string) => `customer:${customerId}:orders`,
  /** A hash: order id → total in cents, for every order. */
  totals: 'order-totals',
  /** Hashes: item id → quantity, and item id → unit price, of one order's lines. */
  quantities: (orderId: string) => `order:${orderId}:quantities`,
  prices: (orderId: string) => `order:${orderId}:prices`,
} as const;

/**
 * Sets an order's field in the totals hash to Σ quantity × price of its lines.
 * A script, because a handler cannot read inside the MULTI it writes to
 * (queued commands answer nothing until EXEC): queued after the line writes,
 * it runs at EXEC, after them, and reads what they wrote. Its keys are all
 * declared and share the projection's hash tag, so it runs on a cluster too.
 */
const SET_TOTAL = `
local lines = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #lines, 2 do
  total = total + tonumber(lines[i + 1]) * tonumber(redis.call('HGET', KEYS[2], lines[i]))
end
redis.call('HSET', KEYS[3], ARGV[1], string.format('%d', total))
return 0`;

/**
 * Per customer, the ids of their orders and each order's total, in Redis.
 * The functional form of a projection: handlers only queue write commands
 * (and a script) on the batch's MULTI, which the store runs with the
 * offset move as one transaction.
 */
export const customerOrdersProjection = defineProjection<RedisWriter>('customer-orders')
  .on(OrderCreated, (event, envelope, redis) => {
    redis.multi.sadd(redis.key(customerOrdersKeys.orders(event.customerId)), envelope.aggregateId);
    for (const item of event.items) addLine(redis, envelope.aggregateId, item);
    setTotal(redis, envelope.aggregateId);
  })
  .on(ItemAdded, (event, envelope, redis) => {
    addLine(redis, envelope.aggregateId, event.item);
    setTotal(redis, envelope.aggregateId);
  })
  .on(ItemRemoved, (event, envelope, redis) => {
    redis.multi.hdel(redis.key(customerOrdersKeys.quantities(envelope.aggregateId)), event.itemId);
    redis.multi.hdel(redis.key(customerOrdersKeys.prices(envelope.aggregateId)), event.itemId);
    setTotal(redis, envelope.aggregateId);
  });

/** Adds a line, or adds to the quantity of the line already there, keeping its first price (HSETNX), as the aggregate does. */
function addLine(redis: RedisWriter, orderId: string, item: LineItem): void {
  redis.multi.hincrby(redis.key(customerOrdersKeys.quantities(orderId)), item.itemId, item.quantity);
  redis.multi.hsetnx(redis.key(customerOrdersKeys.prices(orderId)), item.itemId, item.unitPriceCents);
}

function setTotal(redis: RedisWriter, orderId: string): void {
  const keys = [customerOrdersKeys.quantities(orderId), customerOrdersKeys.prices(orderId), customerOrdersKeys.totals].map((name) => redis.key(name));
  redis.multi.eval(SET_TOTAL, keys.length, ...keys, orderId);
}

/** One of a customer's orders, as the customer-orders read model has it. */
export interface CustomerOrder {
  readonly orderId: string;
  readonly totalCents: number;
}

/**
 * Reads a customer's orders from the live version, as readers do: the keys
 * come from `store.liveKey`, asked each time, since a rebuild moves them.
 */
export async function readCustomerOrders(redis: Redis, store: RedisReadModelStore, customerId: string): Promise<CustomerOrder[]> {
  const projection = customerOrdersProjection.name;
  const orderIds = (await redis.smembers(await store.liveKey(projection, customerOrdersKeys.orders(customerId)))).sort();
  if (orderIds.length === 0) return [];
  const totals = await redis.hmget(await store.liveKey(projection, customerOrdersKeys.totals), ...orderIds);
  return orderIds.map((orderId, index) => ({ orderId, totalCents: Number(totals[index] ?? 0) }));
}
