/**
 * The registry subject of a record on a topic, after Confluent's
 * TopicRecordNameStrategy: `<topic>-<record full name>`. One topic carries
 * many event types, so the topic alone (TopicNameStrategy) would force every
 * type into one subject; the record name alone would share one subject across
 * topics with different histories.
 *
 * @example
 * ```ts
 * subjectFor('shop.Order.events', 'shop.OrderCreated'); // 'shop.Order.events-shop.OrderCreated'
 * ```
 */
export function subjectFor(topic: string, recordFullName: string): string {
  return `${topic}-${recordFullName}`;
}
