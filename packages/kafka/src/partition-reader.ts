import { randomUUID } from 'node:crypto';
import { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { exactlyPartition } from './partition-restorer';
import { ReadTimeoutError } from './errors/processor.errors';
import { fetchTopicOffsets } from './topic-offsets';

export interface PartitionReadOptions {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly groupPrefix: string;
  readonly topic: string;
  readonly partition: number;
  /** First offset to read. */
  readonly fromOffset: string;
  /** Which records to keep. */
  readonly accept: (message: KafkaMessage) => boolean;
  /** Stop early once the kept records are enough. */
  readonly enough?: (kept: readonly KafkaMessage[]) => boolean;
  readonly timeoutMs: number;
}

/**
 * Reads one partition of a topic, `read_committed`, from an offset to the end it
 * had when called (or until `enough`). kafkajs has no manual assignment or
 * positioned reads, so a throwaway group with a fixed assigner and a seek stand
 * in for them.
 */
export async function readPartition(options: PartitionReadOptions): Promise<KafkaMessage[]> {
  const { kafka, admin, topic, partition } = options;
  const range = (await fetchTopicOffsets(admin, topic)).find((entry) => entry.partition === partition);
  const from = BigInt(options.fromOffset) > BigInt(range?.low ?? '0') ? BigInt(options.fromOffset) : BigInt(range?.low ?? '0');
  const end = BigInt(range?.high ?? '0') - 1n;
  const kept: KafkaMessage[] = [];
  if (end < from) return kept;

  const groupId = `${options.groupPrefix}-read-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false, partitionAssigners: [exactlyPartition(partition)], maxWaitTimeInMs: 50 });
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.partition === partition && BigInt(payload.lastOffset) >= end) finish();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          // A fetch that began before the seek below took effect starts at the partition's beginning.
          if (BigInt(message.offset) < from) continue;
          if (BigInt(message.offset) > end) return finish();
          if (options.accept(message)) kept.push(message);
          if (options.enough?.(kept)) return finish();
        }
      },
    });
    // admin.setOffsets would run a whole consumer of its own (seconds); a seek right after run is applied at the next fetch.
    consumer.seek({ topic, partition, offset: from.toString() });
    await Promise.race([
      done,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ReadTimeoutError(topic, partition, options.timeoutMs)), options.timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return kept;
}
