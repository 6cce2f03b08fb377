import { AggregateRoot, DomainModel, EventPipeline } from '@tributary/core';
import { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { AggregateRebuildError } from './errors/processor.errors';
import { AggregateSnapshot, PartitionStateStore, exists, stateKey } from './partition-state-store';
import { readPartition } from './partition-reader';
import { HEADER, readHeader } from './record-headers';
import { TopicLayout } from './topic-layout';

export interface StaleShapeRebuildOptions {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly layout: TopicLayout;
  readonly partition: number;
  /** The partition's restored state. */
  readonly store: PartitionStateStore;
  readonly domain: DomainModel;
  /** Reads stored events as today's classes: decode, resolve, upcast. */
  readonly pipeline: EventPipeline;
  /** The current shape version of each aggregate type. */
  readonly shapes: ReadonlyMap<string, string>;
  readonly timeoutMs: number;
}

/**
 * Rebuilds from their events the aggregates of a partition whose state was
 * written in another shape than today's code gives (or before shapes were
 * recorded): after a deploy that changed an aggregate's fields, appliers, event
 * versions or upcasters, state kept from before would otherwise decide commands
 * as the old code saw them.
 *
 * It runs when a processor takes the partition, after fencing every other
 * writer and restoring the state, so the events topic holds, `read_committed`,
 * every event the state records reflect and nothing can be appended behind the
 * read. Each stale aggregate is replayed through the {@link EventPipeline}, the
 * same way as the `Rehydrator` and projections read events, and must reach the
 * version its record holds.
 *
 * @returns the rebuilt snapshots by state key (none when every state has today's shape).
 * @throws {@link AggregateRebuildError} when an aggregate's events do not reach its recorded version.
 */
export async function rebuildStaleShapes(options: StaleShapeRebuildOptions): Promise<Map<string, AggregateSnapshot>> {
  const stale = new Map<string, Map<string, AggregateSnapshot>>();
  for (const [aggregateType, aggregateId, snapshot] of options.store.entries()) {
    const shape = options.shapes.get(aggregateType);
    // Plain streams keep no state, and records of version 0 only keep refused commands.
    if (shape === undefined || !exists(snapshot) || snapshot.shape === shape) continue;
    const ofType = stale.get(aggregateType) ?? new Map<string, AggregateSnapshot>();
    ofType.set(aggregateId, snapshot);
    stale.set(aggregateType, ofType);
  }
  const rebuilt = new Map<string, AggregateSnapshot>();
  for (const [aggregateType, snapshots] of stale) {
    for (const [aggregateId, snapshot] of await rebuildType(options, aggregateType, snapshots)) rebuilt.set(stateKey(aggregateType, aggregateId), snapshot);
  }
  return rebuilt;
}

async function rebuildType(options: StaleShapeRebuildOptions, aggregateType: string, snapshots: ReadonlyMap<string, AggregateSnapshot>): Promise<Map<string, AggregateSnapshot>> {
  const model = options.domain.modelOfType(aggregateType)!;
  const topic = options.layout.events(aggregateType);
  const { partition, pipeline } = options;
  // Streams recorded before snapshots kept their first offset are read from the partition's start.
  const firstOffsets = [...snapshots.values()].map((snapshot) => (snapshot.firstOffset === undefined ? 0n : BigInt(snapshot.firstOffset)));
  const fromOffset = firstOffsets.reduce((lowest, offset) => (offset < lowest ? offset : lowest));
  const records = await readPartition({
    kafka: options.kafka,
    admin: options.admin,
    groupPrefix: options.layout.prefix,
    topic,
    partition,
    fromOffset: fromOffset.toString(),
    accept: (message) => {
      const key = parseEventKey(message);
      return key !== undefined && snapshots.has(key.aggregateId);
    },
    timeoutMs: options.timeoutMs,
  });

  const aggregates = new Map<string, { aggregate?: AggregateRoot; firstOffset?: string }>();
  for (const record of records) {
    const { aggregateId, sequence } = parseEventKey(record)!;
    if (record.value === null) {
      // An erasure's tombstones: whatever came before belongs to a stream that no longer exists.
      aggregates.delete(aggregateId);
      continue;
    }
    const type = readHeader(record.headers, HEADER.type) ?? '';
    const schemaVersion = Number(readHeader(record.headers, HEADER.schemaVersion) ?? '1');
    const context = { topic, partition, offset: record.offset, type, schemaVersion };
    const payloads = (await pipeline.decode(record.value, context)).map((current) => pipeline.toInstance(current, context));
    const entry = aggregates.get(aggregateId) ?? { firstOffset: record.offset };
    entry.aggregate = model.replay(entry.aggregate, aggregateId, { sequence, payloads });
    aggregates.set(aggregateId, entry);
  }

  const rebuilt = new Map<string, AggregateSnapshot>();
  for (const [aggregateId, snapshot] of snapshots) {
    const entry = aggregates.get(aggregateId);
    const version = entry?.aggregate?.version ?? 0;
    if (!entry?.aggregate || version !== snapshot.version) {
      throw new AggregateRebuildError(aggregateType, aggregateId, snapshot.version, version, topic);
    }
    rebuilt.set(aggregateId, {
      ...snapshot,
      state: model.toSnapshot(entry.aggregate),
      shape: options.shapes.get(aggregateType),
      firstOffset: snapshot.firstOffset ?? entry.firstOffset,
    });
  }
  return rebuilt;
}

/** An event record's key, `<aggregateId>:<sequence>`; the id may itself hold colons. */
function parseEventKey(message: KafkaMessage): { aggregateId: string; sequence: number } | undefined {
  const key = message.key?.toString('utf8');
  const cut = key?.lastIndexOf(':') ?? -1;
  if (key === undefined || cut < 0) return undefined;
  const sequence = Number(key.slice(cut + 1));
  return Number.isSafeInteger(sequence) && sequence > 0 ? { aggregateId: key.slice(0, cut), sequence } : undefined;
}
