import { randomUUID } from 'node:crypto';
import { Admin, AssignerProtocol, Kafka, PartitionAssigner } from 'kafkajs';
import { PartitionStateStore } from './partition-state-store';
import { HEADER, readHeader } from './record-headers';
import { RestoreTimeoutError } from './errors/processor.errors';

/** What a restore found. */
export interface RestoredPartition {
  /** Offset of the next command to process on this partition; `'0'` if none was ever processed. */
  readonly nextCommandOffset: string;
  /** Snapshot records read. */
  readonly recordsRead: number;
}

export interface RestoreOptions {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly app: string;
  readonly partition: number;
  readonly snapshotTopics: readonly string[];
  readonly checkpointTopic: string;
  readonly store: PartitionStateStore;
  readonly timeoutMs: number;
}

/** The checkpoint record of a command partition: the next command offset it has not processed. */
export interface Checkpoint {
  readonly nextCommandOffset: string;
}

/**
 * Rebuilds one partition's local state from the snapshots topics and reads its
 * checkpoint, `read_committed`, up to the end offsets taken after the partition's
 * producer fenced any previous owner, so nothing can be written behind the read.
 *
 * kafkajs has no manual assignment, so a throwaway consumer group with an
 * assigner that hands out exactly this partition does the reading.
 */
export async function restorePartition(options: RestoreOptions): Promise<RestoredPartition> {
  const { kafka, admin, partition, store } = options;
  const topics = [...options.snapshotTopics, options.checkpointTopic];
  const targets = new Map<string, bigint>();
  for (const topic of topics) {
    const offsets = await admin.fetchTopicOffsets(topic);
    const range = offsets.find((entry) => entry.partition === partition);
    if (range && BigInt(range.high) > BigInt(range.low)) targets.set(topic, BigInt(range.high) - 1n);
  }
  let nextCommandOffset = '0';
  let recordsRead = 0;
  if (targets.size === 0) return { nextCommandOffset, recordsRead };

  const groupId = `${options.app}-restore-${partition}-${randomUUID()}`;
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
    if ([...targets].every(([name, end]) => (reached.get(name) ?? -1n) >= end)) finish();
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
        if (batch.partition !== partition) return;
        for (const message of batch.messages) {
          if (BigInt(message.offset) > targets.get(batch.topic)!) break;
          recordsRead += 1;
          if (batch.topic === options.checkpointTopic) {
            if (message.value) nextCommandOffset = (JSON.parse(message.value.toString('utf8')) as Checkpoint).nextCommandOffset;
            continue;
          }
          const aggregateType = readHeader(message.headers, HEADER.aggregateType);
          const aggregateId = message.key?.toString('utf8');
          if (!aggregateType || aggregateId === undefined) continue;
          if (message.value === null) store.delete(aggregateType, aggregateId);
          else store.set(aggregateType, aggregateId, JSON.parse(message.value.toString('utf8')));
        }
      },
    });
    await Promise.race([
      done,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new RestoreTimeoutError(partition, options.timeoutMs)),
          options.timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return { nextCommandOffset, recordsRead };
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
