import { getProjectionMetadataStorage } from '../metadata/projection-metadata-storage';

/**
 * Declares a projection: a class whose `@On` methods keep a read model up to
 * date from events. The name identifies it everywhere: its consumer group, its
 * stored offsets, its dead-letter topic and `tributary projection rebuild <name>`.
 * Renaming it starts a new projection from the beginning of history.
 *
 * @example
 * ```ts
 * @Projection('order-summary')
 * class OrderSummary {
 *   @On(OrderCreated)
 *   async created(event: OrderCreated, envelope: EventEnvelope<OrderCreated>, db: PostgresWriter) {
 *     await db.query(`INSERT INTO ${db.table('order_summary')} (id, customer) VALUES ($1, $2)`, [envelope.aggregateId, event.customerId]);
 *   }
 * }
 * ```
 */
export function Projection(name: string): ClassDecorator {
  return (target) => {
    getProjectionMetadataStorage().addProjection({ target, name });
  };
}
