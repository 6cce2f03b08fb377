import { ProjectionDefinition, defineProjection } from '@tributary/projections';
import { RedisReadModelStore, RedisWriter } from '@tributary/redis';
import Redis from 'ioredis';
import { uniqueIdentifier } from './pg-order-summary';
import { OrderHandlerBehaviour, ProjectedOrder, ReadModelSnapshot, beforeApplying, customerOrdersOf, handlerBehaviour, projectOrders, sortedRecord } from './projected-order';
import { ItemAdded, OrderPlaced, OrderShipped, ShopEvent } from './shop';

/**
 * A customer-orders projection on Redis: a hash per order (`order:<id>`, with
 * HINCRBY counters, so an event applied twice shows) and a set of order ids
 * per customer (`customer:<id>`). Handlers only queue writes on the batch's
 * MULTI, as a {@link RedisWriter} requires. Each test makes its own, under a
 * key prefix of its own.
 */
export class RedisCustomerOrders {
  readonly store: RedisReadModelStore;

  constructor(
    readonly redis: Redis,
    readonly name = uniqueIdentifier('customer-orders'),
    readonly prefix = uniqueIdentifier('tributary-test'),
  ) {
    this.store = new RedisReadModelStore({ client: redis, prefix });
  }

  projection(behaviour: OrderHandlerBehaviour = handlerBehaviour()): ProjectionDefinition<RedisWriter> {
    return defineProjection<RedisWriter>(this.name)
      .on(OrderPlaced, async (event, envelope, redis) => {
        await beforeApplying(behaviour, event, envelope);
        redis.multi.hset(redis.key(`order:${envelope.aggregateId}`), { customerId: event.customerId, items: 0, totalCents: 0, shipped: 0, events: 1 });
        redis.multi.sadd(redis.key(`customer:${event.customerId}`), envelope.aggregateId);
      })
      .on(ItemAdded, async (event, envelope, redis) => {
        await beforeApplying(behaviour, event, envelope);
        const order = redis.key(`order:${envelope.aggregateId}`);
        redis.multi.hincrby(order, 'items', 1).hincrby(order, 'totalCents', event.cents).hincrby(order, 'events', 1);
      })
      .on(OrderShipped, async (event, envelope, redis) => {
        await beforeApplying(behaviour, event, envelope);
        const order = redis.key(`order:${envelope.aggregateId}`);
        redis.multi.hset(order, 'shipped', 1).hincrby(order, 'events', 1);
      });
  }

  /** The keys of the live generation whose read-model names start with `name` (as a reader finds them now). */
  async liveKeys(name: string): Promise<string[]> {
    const base = await this.store.liveKey(this.name, name);
    const keys: string[] = [];
    for await (const batch of this.redis.scanStream({ match: `${escapeGlob(base)}*`, count: 500 })) keys.push(...(batch as string[]));
    return keys;
  }

  /** The live read model: every order hash and every customer set. */
  async read(): Promise<ReadModelSnapshot> {
    const orderPrefix = await this.store.liveKey(this.name, 'order:');
    const customerPrefix = await this.store.liveKey(this.name, 'customer:');
    const orders: Record<string, ProjectedOrder> = {};
    for (const key of await this.liveKeys('order:')) {
      const hash = await this.redis.hgetall(key);
      orders[key.slice(orderPrefix.length)] = {
        customerId: hash.customerId,
        items: Number(hash.items),
        totalCents: Number(hash.totalCents),
        shipped: hash.shipped === '1',
        events: Number(hash.events),
      };
    }
    const customers: Record<string, string[]> = {};
    for (const key of await this.liveKeys('customer:')) customers[key.slice(customerPrefix.length)] = (await this.redis.smembers(key)).sort();
    return { orders: sortedRecord(orders), customers: sortedRecord(customers) };
  }

  /** What {@link read} must give after a full replay of `events`. */
  expected(events: readonly ShopEvent[]): ReadModelSnapshot {
    const orders = projectOrders(events);
    return { orders, customers: customerOrdersOf(orders) };
  }

  /** Every key under the test's prefix. */
  async allKeys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const batch of this.redis.scanStream({ match: `${escapeGlob(this.prefix)}:*`, count: 500 })) keys.push(...(batch as string[]));
    return keys.sort();
  }

  /** Deletes every key of the test's prefix and closes the store's connections (the client is the test's). */
  async drop(): Promise<void> {
    await this.store.close().catch(() => undefined);
    const keys = await this.allKeys();
    if (keys.length > 0) await this.redis.unlink(...keys);
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (character) => `\\${character}`);
}
