import { randomUUID } from 'node:crypto';
import { Admin, Kafka, Producer } from 'kafkajs';
import { TopicLayout, envelopeHeaders, partitionForKey } from '@tributary/kafka';
import { ShopEvent } from './shop';

/**
 * Writes shop events to the `ShopOrder` events topic exactly as the command
 * processors do (key `<orderId>:<sequence>`, envelope headers, JSON payload,
 * the partition of the aggregate id, in transactions), without commands:
 * the projection tests need many events quickly.
 */
export class ShopEventWriter {
  readonly layout: TopicLayout;
  readonly topic: string;
  private readonly sequences = new Map<string, number>();
  private producer?: Producer;

  constructor(
    private readonly kafka: Kafka,
    readonly app: string,
    readonly partitions = 3,
  ) {
    this.layout = new TopicLayout({ app, partitions });
    this.topic = this.layout.events('ShopOrder');
  }

  /** Creates the events topic (compacted, as the processors' is). */
  async createTopic(admin: Admin): Promise<void> {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: this.topic, numPartitions: this.partitions, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    });
  }

  /**
   * Writes the events in one transaction per call. `poison` marks payloads the
   * test projections refuse; `past` writes an event as a record of an earlier
   * schema (type, version, payload), as history written before a change would be.
   */
  async write(
    events: readonly ShopEvent[],
    poison: (event: ShopEvent, index: number) => boolean = () => false,
    past: (event: ShopEvent, index: number) => PastRecord | undefined = () => undefined,
  ): Promise<void> {
    if (events.length === 0) return;
    if (!this.producer) {
      this.producer = this.kafka.producer({ transactionalId: `${this.app}-writer-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
      await this.producer.connect();
    }
    const transaction = await this.producer.transaction();
    try {
      await transaction.send({
        topic: this.topic,
        messages: events.map((event, index) => {
          const sequence = (this.sequences.get(event.orderId) ?? 0) + 1;
          this.sequences.set(event.orderId, sequence);
          const { type, schemaVersion, payload } = past(event, index) ?? { ...toRecord(event), schemaVersion: 1 };
          const headers = envelopeHeaders(
            {
              eventId: randomUUID(),
              type,
              schemaVersion,
              aggregateType: 'ShopOrder',
              aggregateId: event.orderId,
              sequence,
              occurredAt: new Date(),
              correlationId: randomUUID(),
              causationId: randomUUID(),
              metadata: {},
            },
            'application/json',
          );
          return {
            key: `${event.orderId}:${sequence}`,
            partition: partitionForKey(event.orderId, this.partitions),
            // A poison payload: valid JSON the handler refuses (see the test projections).
            value: JSON.stringify(poison(event, index) ? { ...payload, poison: true } : payload),
            headers,
          };
        }),
      });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }
}

/** An event as a record of an earlier schema. */
export interface PastRecord {
  readonly type: string;
  readonly schemaVersion: number;
  readonly payload: Record<string, unknown>;
}

function toRecord(event: ShopEvent): { type: string; payload: Record<string, unknown> } {
  switch (event.type) {
    case 'placed':
      return { type: 'ProjectionTest.OrderPlaced', payload: { customerId: event.customerId } };
    case 'item':
      return { type: 'ProjectionTest.ItemAdded', payload: { sku: event.sku, cents: event.cents } };
    case 'shipped':
      return { type: 'ProjectionTest.OrderShipped', payload: {} };
  }
}
