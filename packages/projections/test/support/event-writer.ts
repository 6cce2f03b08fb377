import { randomUUID } from 'node:crypto';
import { Admin, Kafka, Producer } from 'kafkajs';
import { TopicLayout, envelopeHeaders, partitionForKey, waitForPartitionLeaders } from '@tributary/kafka';
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
      waitForLeaders: false,
      topics: [{ topic: this.topic, numPartitions: this.partitions, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    });
    // kafkajs's own wait gives up while a busy broker still calls the new topic unknown.
    await waitForPartitionLeaders(admin, [this.topic], 60_000);
  }

  /**
   * Writes the events in one transaction per call. `poison` marks payloads the
   * test projections refuse; `past` writes an event as a record of an earlier
   * schema (type, version, payload), as history written before a change would be.
   *
   * @returns where each partition's first event of the call landed.
   */
  async write(
    events: readonly ShopEvent[],
    poison: (event: ShopEvent, index: number) => boolean = () => false,
    past: (event: ShopEvent, index: number) => PastRecord | undefined = () => undefined,
  ): Promise<Array<{ partition: number; baseOffset: string }>> {
    if (events.length === 0) return [];
    if (!this.producer) {
      this.producer = this.kafka.producer({ transactionalId: `${this.app}-writer-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
      await this.producer.connect();
    }
    const transaction = await this.producer.transaction();
    let written: { partition: number; baseOffset?: string }[];
    try {
      written = await transaction.send({
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
    await this.visible(written, events);
    return written.map(({ partition, baseOffset }) => ({ partition, baseOffset: baseOffset ?? '0' }));
  }

  /**
   * Waits until read_committed readers can see what was written: commit()
   * returns before the commit markers reach the partitions, and until then the
   * partition's end as a read_committed reader sees it (kafkajs's
   * fetchTopicOffsets) stops before the transaction, so a test comparing stored
   * offsets with it would think a projection caught up too soon.
   */
  private async visible(written: readonly { partition: number; baseOffset?: string }[], events: readonly ShopEvent[]): Promise<void> {
    const counts = new Map<number, number>();
    for (const event of events) {
      const partition = partitionForKey(event.orderId, this.partitions);
      counts.set(partition, (counts.get(partition) ?? 0) + 1);
    }
    const lastOffsets = written.map(({ partition, baseOffset }) => ({ partition, last: BigInt(baseOffset ?? '0') + BigInt(counts.get(partition) ?? 1) - 1n }));
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ends = new Map((await admin.fetchTopicOffsets(this.topic)).map(({ partition, high }) => [partition, BigInt(high)]));
        if (lastOffsets.every(({ partition, last }) => (ends.get(partition) ?? 0n) > last)) return;
        if (Date.now() > deadline) throw new Error(`the transaction written to ${this.topic} did not become visible in 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await admin.disconnect();
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
