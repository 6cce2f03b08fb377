/**
 * The replay datasets: N events over M aggregates of the benchmark's Order,
 * written straight to an events topic with kafkajs in the exact record format
 * a CommandProcessor writes (key `<aggregateId>:<sequence>`, the envelope in
 * `tributary.*` headers, the payload through the Serializer, the partition of
 * the aggregate id), only much faster: many records per send, one send in
 * flight per partition, so each aggregate's events stay in sequence order.
 *
 * The content is deterministic: the same N, M and partitions give the same
 * aggregates, events and interleaving in every dataset and every run (event
 * ids and times aside).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { EventData, Serializer } from '@tributary/core';
import { TopicLayout, partitionForKey, provisionTopics } from '@tributary/kafka';
import { Admin, Kafka, Message, logLevel } from 'kafkajs';
import { envelopeHeaders } from '../../packages/kafka/src/record-headers';
import { AGGREGATE_TYPE, SKUS } from './domain';

/** Which dataset: current events as JSON, as Avro, or Avro written as v1 (read through the two-step chain). */
export type DatasetFormat = 'json' | 'avro' | 'avro-v1';
export const FORMATS: readonly DatasetFormat[] = ['json', 'avro', 'avro-v1'];

export interface DatasetSpec {
  readonly format: DatasetFormat;
  readonly app: string;
  readonly topic: string;
  readonly events: number;
  readonly aggregates: number;
  readonly partitions: number;
}

export interface GenerationReport {
  readonly format: DatasetFormat;
  readonly topic: string;
  /** False when a complete dataset from an earlier run (BENCH_KEEP=1) was used as it was. */
  readonly generated: boolean;
  readonly seconds?: number;
  readonly recordsPerSecond?: number;
  /** Mean payload bytes, and mean bytes of key + headers + payload as written (Kafka's own framing aside). */
  readonly payloadBytes?: number;
  readonly recordBytes?: number;
}

/** Records per send: about 700 KB, under the broker's default 1 MB record batch. */
const BATCH = 1_000;

export function datasetSpec(format: DatasetFormat, events: number, aggregates: number, partitions: number): DatasetSpec {
  // The name says what is in it, so a kept dataset is reused only for the same numbers.
  const app = `bench-replay-${format}-${events}-${aggregates}-p${partitions}`;
  return { format, app, topic: new TopicLayout({ app, partitions }).events(AGGREGATE_TYPE), events, aggregates, partitions };
}

// ---- deterministic content ----

/** A hash of a few integers to [0, 1): event content is a function of (aggregate, sequence), whatever the write order. */
export function unit(a: number, b: number, salt: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35) ^ Math.imul(salt, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

export function aggregateId(index: number): string {
  return `order-${String(index).padStart(7, '0')}-${Math.floor(unit(index, 0, 1) * 0xffffffff).toString(16).padStart(8, '0')}`;
}

/** Events per aggregate: about N / M each, between 1 and twice that, summing to exactly N. */
export function eventCounts(events: number, aggregates: number): Uint32Array {
  if (events < aggregates) throw new Error(`BENCH_EVENTS (${events}) must be at least BENCH_AGGREGATES (${aggregates}): every aggregate has an OrderPlaced`);
  const base = Math.floor(events / aggregates);
  const counts = new Uint32Array(aggregates);
  for (let index = 0; index < aggregates; index += 1) counts[index] = base + (index < events - base * aggregates ? 1 : 0);
  for (let index = 0; index + 1 < aggregates; index += 2) {
    const shift = Math.floor(unit(index, 1, 2) * counts[index + 1]);
    counts[index] += shift;
    counts[index + 1] -= shift;
  }
  return counts;
}

const STREETS = ['Hauptstraße', 'Rue de la République', 'Calle Mayor', 'Via Roma', 'Kerkstraat', 'High Street', 'Storgatan'];
const CITIES = ['10115 Berlin, Germany', '69002 Lyon, France', '28013 Madrid, Spain', '00184 Roma, Italy', '1012 Amsterdam, Netherlands', 'EC1A 1BB London, United Kingdom'];
const CHANNELS = ['web', 'mobile-app', 'store', 'phone', 'partner-marketplace'];
const PRODUCTS = ['Organic cotton t-shirt', 'Merino wool sweater', 'Waterproof hiking jacket', 'Leather ankle boots', 'Linen summer shirt', 'Recycled denim jeans'];
const COLOURS = ['black', 'navy blue', 'forest green', 'off-white', 'burgundy'];
const SIZES = ['XS', 'S', 'M', 'L', 'XL'];
const REASONS = [
  'customer changed their mind before checkout and chose a different size of the same product line',
  'out of stock at the assigned warehouse; the customer was offered a replacement from the partner store',
  'duplicate line created by the mobile app after a network retry; removed by customer service',
];
const CARRIERS = ['DHL Express', 'UPS Standard', 'La Poste Colissimo', 'PostNL Pakket', 'GLS Europe'];

export interface GeneratedEvent {
  readonly type: string;
  readonly schemaVersion: number;
  readonly payload: EventData;
}

function sku(index: number, sequence: number): string {
  const product = Math.floor(unit(index, sequence, 11) * SKUS);
  return `SKU-${String(product).padStart(6, '0')}-${SIZES[product % SIZES.length]}`;
}

/**
 * Event `sequence` (from 1) of aggregate `index`, which has `count` events, in
 * the format's version: about 80% of the middle events add an item and 20%
 * remove one; most orders of 3 events or more end shipped.
 */
export function eventOf(format: DatasetFormat, index: number, sequence: number, count: number): GeneratedEvent {
  const legacy = format === 'avro-v1';
  if (sequence === 1) {
    const orderId = aggregateId(index);
    const customer = `customer-${String(Math.floor(unit(index, 1, 3) * 250_000)).padStart(6, '0')}-eu-west-retail`;
    const address = `${STREETS[index % STREETS.length]} ${1 + (index % 240)}, ${CITIES[index % CITIES.length]}, floor ${index % 7}, door ${'ABCD'[index % 4]}`;
    if (legacy) return { type: 'Bench.OrderPlaced', schemaVersion: 1, payload: { orderId, customer, shipTo: address } };
    return {
      type: 'Bench.OrderPlaced',
      schemaVersion: 3,
      payload: { orderId, customerId: customer, channel: CHANNELS[index % CHANNELS.length], currency: 'EUR', shippingAddress: address },
    };
  }
  const roll = unit(index, sequence, 5);
  if (sequence === count && count >= 3 && roll < 0.8) {
    return {
      type: 'Bench.OrderShipped',
      schemaVersion: 1,
      payload: {
        carrier: CARRIERS[index % CARRIERS.length],
        trackingCode: `JD${String(index).padStart(10, '0')}${String(Math.floor(roll * 1e8)).padStart(8, '0')}`,
        parcels: 1 + (index % 3),
        note: 'Leave at the reception desk if nobody answers; fragile items inside, handle with care',
      },
    };
  }
  const line = sku(index, sequence);
  if (roll < 0.2 && sequence > 2) {
    return { type: 'Bench.ItemRemoved', schemaVersion: 1, payload: { sku: line, reason: REASONS[sequence % REASONS.length] } };
  }
  const product = Number(line.slice(4, 10));
  const description = `${PRODUCTS[product % PRODUCTS.length]}, ${COLOURS[product % COLOURS.length]}, size ${SIZES[product % SIZES.length]}, fair-trade certified, ships in 2 days`;
  const quantity = 1 + Math.floor(unit(index, sequence, 7) * 4);
  const cents = 499 + product * 125;
  if (legacy) return { type: 'Bench.ItemAdded', schemaVersion: 1, payload: { sku: line, text: description, qty: quantity, price: (cents / 100).toFixed(2) } };
  return { type: 'Bench.ItemAdded', schemaVersion: 3, payload: { sku: line, description, quantity, unitPriceCents: cents, currency: 'EUR' } };
}

// ---- writing ----

/** Number of records in the topic, or undefined if it does not exist. */
export async function recordsIn(admin: Admin, topic: string): Promise<number | undefined> {
  if (!(await admin.listTopics()).includes(topic)) return undefined;
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, { low, high }) => sum + Number(high) - Number(low), 0);
}

/**
 * Makes the dataset exist: reuses a complete one left by an earlier run with
 * BENCH_KEEP=1, otherwise (re)creates the app's topics with `provisionTopics`
 * and writes every event.
 */
export async function ensureDataset(spec: DatasetSpec, brokers: string[], admin: Admin, serializer: Serializer): Promise<GenerationReport> {
  const layout = new TopicLayout({ app: spec.app, partitions: spec.partitions });
  const existing = await recordsIn(admin, spec.topic);
  if (existing === spec.events) return { format: spec.format, topic: spec.topic, generated: false };
  if (existing !== undefined) {
    await admin.deleteTopics({ topics: layout.topicsFor([AGGREGATE_TYPE]).map((topic) => topic.name) });
    await waitUntilGone(admin, spec.topic);
  }
  await provisionTopics(admin, layout, [AGGREGATE_TYPE]);

  const counts = eventCounts(spec.events, spec.aggregates);
  const byPartition: number[][] = Array.from({ length: spec.partitions }, () => []);
  for (let index = 0; index < spec.aggregates; index += 1) byPartition[partitionForKey(aggregateId(index), spec.partitions)].push(index);

  const kafka = new Kafka({ clientId: `${spec.app}-writer`, brokers, logLevel: logLevel.ERROR });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = performance.now();
  let payloadBytes = 0;
  let recordBytes = 0;
  const baseTime = Date.UTC(2024, 0, 1);
  let written = 0;
  try {
    // One writer per partition, each with one send in flight: several sends in flight in all, every partition in order.
    await Promise.all(
      byPartition.map(async (members, partition) => {
        const next = new Uint32Array(members.length).fill(1);
        // Aggregates with events still to write; picking among them at random interleaves histories as live traffic does.
        const active = members.map((_, slot) => slot);
        let draw = partition + 1;
        while (active.length > 0) {
          const messages: Message[] = [];
          while (messages.length < BATCH && active.length > 0) {
            draw += 1;
            const pick = Math.floor(unit(draw, partition, 13) * active.length);
            const slot = active[pick];
            const index = members[slot];
            const sequence = next[slot];
            const event = eventOf(spec.format, index, sequence, counts[index]);
            const id = aggregateId(index);
            const value = await serializer.serialize(event.payload, { topic: spec.topic, type: event.type, schemaVersion: event.schemaVersion });
            const commandId = randomUUID();
            const headers = envelopeHeaders(
              {
                eventId: randomUUID(),
                type: event.type,
                schemaVersion: event.schemaVersion,
                aggregateType: AGGREGATE_TYPE,
                aggregateId: id,
                sequence,
                occurredAt: new Date(baseTime + draw * 1000),
                correlationId: commandId,
                causationId: commandId,
                metadata: {},
              },
              serializer.contentType,
            );
            const key = `${id}:${sequence}`;
            messages.push({ key, partition, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength), headers });
            payloadBytes += value.byteLength;
            recordBytes += key.length + value.byteLength;
            for (const [name, header] of Object.entries(headers)) recordBytes += name.length + String(header).length;
            if (sequence === counts[index]) {
              active[pick] = active[active.length - 1];
              active.pop();
            } else {
              next[slot] = sequence + 1;
            }
          }
          await producer.send({ topic: spec.topic, messages, acks: -1 });
          written += messages.length;
        }
      }),
    );
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  const seconds = (performance.now() - started) / 1000;
  if (written !== spec.events) throw new Error(`wrote ${written} of ${spec.events} events to ${spec.topic}`);
  return {
    format: spec.format,
    topic: spec.topic,
    generated: true,
    seconds: Math.round(seconds * 10) / 10,
    recordsPerSecond: Math.round(spec.events / seconds),
    payloadBytes: Math.round(payloadBytes / spec.events),
    recordBytes: Math.round(recordBytes / spec.events),
  };
}

async function waitUntilGone(admin: Admin, topic: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (!(await admin.listTopics()).includes(topic)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
