import type { ChainableCommander } from 'ioredis';

/**
 * What projection handlers write through with a {@link RedisReadModelStore}:
 * the transaction's MULTI, and the key names of the version being written.
 *
 * The MULTI is sent, with the offset move, only when the whole batch is
 * handled; so handlers queue write commands (`set`, `hset`, `incrby`, `del`,
 * `zadd` …) and never read through it: a queued read answers nothing before
 * the transaction runs. Do not call `exec` or `discard` on it: the store does.
 *
 * Always name keys with {@link RedisWriter.key}: the same name lives under
 * another key in the shadow a rebuild fills, and all of a projection's keys
 * share one hash tag, which a MULTI on a cluster needs.
 *
 * @example
 * ```ts
 * @Projection('order-summary')
 * class OrderSummary {
 *   @On(OrderPlaced)
 *   placed(event: OrderPlaced, envelope: EventEnvelope<OrderPlaced>, redis: RedisWriter) {
 *     redis.multi.hset(redis.key(`order:${envelope.aggregateId}`), { status: 'placed', total: event.total });
 *     redis.multi.incrby(redis.key('orders:placed'), 1);
 *   }
 * }
 * ```
 */
export interface RedisWriter {
  /** The batch's transaction: queue write commands on it. */
  readonly multi: ChainableCommander;
  /**
   * The Redis key of the read-model key `name` in the version being written,
   * `<prefix>:{<projection>}:g<generation>:<name>`.
   */
  key(name: string): string;
}
