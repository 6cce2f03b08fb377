import { randomUUID } from 'node:crypto';
import { Admin, AssignerProtocol, Kafka, KafkaMessage, PartitionAssigner } from 'kafkajs';
import { PartitionStateStore } from './partition-state-store';
import { HEADER, readHeader } from './record-headers';
import { RestoreTimeoutError } from './errors/processor.errors';
import { fetchTopicOffsets } from './topic-offsets';

/** Where a restored partition's state came from. */
export type RestoreSource = 'local' | 'topics';

/** What a restore found. */
export interface RestoredPartition {
  /** Offset of the next command to process on this partition; `'0'` if none was ever processed. */
  readonly nextCommandOffset: string;
  /** Checkpoint and snapshot records read. */
  readonly recordsRead: number;
  /**
   * `'local'`: the store's persisted state was exactly the partition's state in
   * Kafka, so the snapshots topics were not read; `'topics'`: the state was
   * rebuilt from the snapshots topics.
   */
  readonly source: RestoreSource;
}

export interface RestoreOptions {
  readonly kafka: Kafka;
  readonly admin: Admin;
  /** Starts the names of the throwaway consumer groups that read (the app's prefix). */
  readonly groupPrefix: string;
  readonly partition: number;
  readonly snapshotTopics: readonly string[];
  readonly checkpointTopic: string;
  readonly store: PartitionStateStore;
  /** Bound on each read phase (the checkpoint, then the snapshots). */
  readonly timeoutMs: number;
}

/** The checkpoint record of a command partition: the next command offset it has not processed. */
export interface Checkpoint {
  readonly nextCommandOffset: string;
}

/**
 * What a durable store persists with its state (through
 * {@link PartitionStateStore.commit}), as JSON: the next command offset the
 * state reflects, the snapshots topics it covers, and when it was made durable.
 */
interface StateCheckpoint {
  readonly nextCommandOffset: string;
  readonly snapshotTopics: readonly string[];
  /** Milliseconds since the epoch, taken after the Kafka transaction committed. */
  readonly at: number;
}

/**
 * The checkpoint a durable store persists with its state: the next command
 * offset it reflects, the snapshots topics it covers, and the time (after the
 * Kafka commit). Opaque to stores.
 */
export function stateCheckpoint(nextCommandOffset: string, snapshotTopics: readonly string[], at: number = Date.now()): string {
  const checkpoint: StateCheckpoint = { nextCommandOffset, snapshotTopics: [...snapshotTopics].sort(), at };
  return JSON.stringify(checkpoint);
}

/** How far back from a partition's end the checkpoint is looked for before reading all of it. */
const CHECKPOINT_TAIL = 256n;

/**
 * Restores one partition's local state and reads its checkpoint, `read_committed`,
 * up to the end offsets taken after the partition's producer fenced any previous
 * owner, so nothing can be written behind the read.
 *
 * A durable store that persisted a checkpoint is checked first: only the tail of
 * the checkpoints partition is read, and when the persisted checkpoint is the one
 * in Kafka (same next command offset, same snapshots topics, and not older than
 * the Kafka record) the persisted state is used as it is. Every write to a
 * partition's snapshots commits together with a new checkpoint, so an equal
 * checkpoint means nothing changed since. Otherwise the store is cleared and
 * rebuilt from the snapshots topics; Kafka stays the source of truth.
 *
 * kafkajs has no manual assignment, so throwaway consumer groups with an assigner
 * that hands out exactly this partition do the reading: one per phase.
 */
export async function restorePartition(options: RestoreOptions): Promise<RestoredPartition> {
  const { store, snapshotTopics } = options;
  const persisted = parseStateCheckpoint(store.persistedCheckpoint?.());
  if (persisted) {
    const found = await readCheckpoint(options);
    if (found && reusable(persisted, found, snapshotTopics)) {
      // Rewritten under this store's own files, with a fresh checkpoint.
      store.commit?.(stateCheckpoint(found.nextCommandOffset, snapshotTopics));
      return { nextCommandOffset: found.nextCommandOffset, recordsRead: found.recordsRead, source: 'local' };
    }
    store.clear?.();
    const snapshots = await readTopics(options, snapshotTopics);
    const nextCommandOffset = found?.nextCommandOffset ?? '0';
    store.commit?.(stateCheckpoint(nextCommandOffset, snapshotTopics));
    return { nextCommandOffset, recordsRead: (found?.recordsRead ?? 0) + snapshots.recordsRead, source: 'topics' };
  }
  store.clear?.();
  const restored = await readTopics(options, [...snapshotTopics, options.checkpointTopic]);
  store.commit?.(stateCheckpoint(restored.nextCommandOffset, snapshotTopics));
  return { ...restored, source: 'topics' };
}

function parseStateCheckpoint(text: string | undefined): StateCheckpoint | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<StateCheckpoint>;
    if (
      typeof parsed.nextCommandOffset === 'string' &&
      /^\d+$/.test(parsed.nextCommandOffset) &&
      Array.isArray(parsed.snapshotTopics) &&
      parsed.snapshotTopics.every((topic) => typeof topic === 'string') &&
      typeof parsed.at === 'number'
    ) {
      return parsed as StateCheckpoint;
    }
  } catch {
    // Not ours: unusable.
  }
  return undefined;
}

interface FoundCheckpoint {
  readonly nextCommandOffset: string;
  /** The Kafka record's timestamp, in ms. */
  readonly timestamp: number;
  readonly recordsRead: number;
}

/**
 * Persisted state is the partition's state in Kafka when it was saved at the
 * checkpoint Kafka holds now, for the same snapshots topics. The time check
 * guards against topics deleted and recreated under an old state directory,
 * whose offsets could meet the old ones again: the persisted state must not be
 * older than the checkpoint record (with a topic recreated since, it is).
 */
function reusable(persisted: StateCheckpoint, found: FoundCheckpoint, snapshotTopics: readonly string[]): boolean {
  const topics = [...snapshotTopics].sort();
  return (
    persisted.nextCommandOffset === found.nextCommandOffset &&
    persisted.snapshotTopics.length === topics.length &&
    persisted.snapshotTopics.every((topic, index) => topic === topics[index]) &&
    persisted.at >= found.timestamp
  );
}

/**
 * The partition's latest committed checkpoint, or undefined if it has none.
 * Reads only the tail of the checkpoints partition (each transaction adds a
 * record and a marker); all of it only if the tail holds no committed record.
 */
async function readCheckpoint(options: RestoreOptions): Promise<FoundCheckpoint | undefined> {
  const { admin, partition, checkpointTopic } = options;
  const range = await partitionRange(admin, checkpointTopic, partition);
  if (range.high <= range.low) return undefined;
  let found: FoundCheckpoint | undefined;
  let recordsRead = 0;
  const read = (from: bigint) =>
    readPartitions(options, [{ topic: checkpointTopic, from, end: range.high - 1n }], (_topic, message) => {
      recordsRead += 1;
      if (!message.value) return;
      const { nextCommandOffset } = JSON.parse(message.value.toString('utf8')) as Checkpoint;
      found = { nextCommandOffset, timestamp: Number(message.timestamp), recordsRead: 0 };
    });
  const tail = range.high - CHECKPOINT_TAIL > range.low ? range.high - CHECKPOINT_TAIL : range.low;
  await read(tail);
  if (!found && tail > range.low) await read(range.low);
  return found && { ...found, recordsRead };
}

/** Reads whole partitions of snapshots topics (and the checkpoints topic, if listed) into the store. */
async function readTopics(options: RestoreOptions, topics: readonly string[]): Promise<{ nextCommandOffset: string; recordsRead: number }> {
  const { admin, partition, store } = options;
  let nextCommandOffset = '0';
  let recordsRead = 0;
  const reads: PartitionRead[] = [];
  for (const topic of topics) {
    const range = await partitionRange(admin, topic, partition);
    if (range.high > range.low) reads.push({ topic, from: range.low, end: range.high - 1n });
  }
  await readPartitions(options, reads, (topic, message) => {
    recordsRead += 1;
    if (topic === options.checkpointTopic) {
      if (message.value) nextCommandOffset = (JSON.parse(message.value.toString('utf8')) as Checkpoint).nextCommandOffset;
      return;
    }
    const aggregateType = readHeader(message.headers, HEADER.aggregateType);
    const aggregateId = message.key?.toString('utf8');
    if (!aggregateType || aggregateId === undefined) return;
    if (message.value === null) store.delete(aggregateType, aggregateId);
    else store.set(aggregateType, aggregateId, JSON.parse(message.value.toString('utf8')));
  });
  return { nextCommandOffset, recordsRead };
}

interface PartitionRange {
  readonly low: bigint;
  /** The end offset: one past the last record or marker. */
  readonly high: bigint;
}

async function partitionRange(admin: Admin, topic: string, partition: number): Promise<PartitionRange> {
  const range = (await fetchTopicOffsets(admin, topic)).find((entry) => entry.partition === partition);
  return { low: BigInt(range?.low ?? '0'), high: BigInt(range?.high ?? '0') };
}

interface PartitionRead {
  readonly topic: string;
  /** First offset to read. */
  readonly from: bigint;
  /** Last offset to read (inclusive): the end offset taken before, minus one. */
  readonly end: bigint;
}

/**
 * Reads partition `options.partition` of each topic, `read_committed`, from
 * `from` to `end`, in offset order per topic, with one throwaway consumer group.
 */
async function readPartitions(
  options: RestoreOptions,
  reads: readonly PartitionRead[],
  onMessage: (topic: string, message: KafkaMessage) => void,
): Promise<void> {
  const { kafka, admin, partition } = options;
  const targets = new Map(reads.filter((read) => read.end >= read.from).map((read) => [read.topic, read]));
  if (targets.size === 0) return;

  const groupId = `${options.groupPrefix}-restore-${partition}-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    partitionAssigners: [exactlyPartition(partition)],
    maxWaitTimeInMs: 50,
  });
  const reached = new Map<string, bigint>();
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const progress = (topic: string, offset: string) => {
    const target = targets.get(topic);
    if (target === undefined || BigInt(offset) < (reached.get(topic) ?? -1n)) return;
    reached.set(topic, BigInt(offset));
    if ([...targets.values()].every(({ topic: name, end }) => (reached.get(name) ?? -1n) >= end)) finish();
  };
  // Batches of only aborted data or transaction markers never reach eachBatch;
  // the batch events still report how far the fetch got.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.partition === partition) progress(payload.topic, payload.lastOffset);
  });

  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...targets.keys()], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const target = targets.get(batch.topic);
        if (batch.partition !== partition || !target) return;
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          // A fetch that began before the seek below took effect starts at the partition's beginning.
          if (offset < target.from) continue;
          if (offset > target.end) break;
          onMessage(batch.topic, message);
        }
      },
    });
    // A seek right after run is applied at the next fetch (admin.setOffsets would run a consumer of its own).
    for (const target of targets.values()) {
      if (target.from > 0n) consumer.seek({ topic: target.topic, partition, offset: target.from.toString() });
    }
    await Promise.race([
      done,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RestoreTimeoutError(partition, options.timeoutMs)), options.timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
}

/**
 * An assigner that gives the (single) member exactly one partition of every
 * subscribed topic: kafkajs's stand-in for manual assignment.
 */
export function exactlyPartition(partition: number): PartitionAssigner {
  return () => ({
    name: 'TributaryRestoreAssigner',
    version: 1,
    async assign({ members, topics }) {
      return members.map((member, index) => ({
        memberId: member.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: index === 0 ? Object.fromEntries(topics.map((topic) => [topic, [partition]])) : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: 'TributaryRestoreAssigner',
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
}
