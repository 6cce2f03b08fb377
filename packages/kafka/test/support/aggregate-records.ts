import { partitionForKey, readPartition } from '@tributary/kafka';
import { KafkaMessage } from 'kafkajs';
import { createKafka, uniqueName } from '../../../../test-support/integration';

/** The committed records of `topic` that `accept` keeps, in the partition of `aggregateId`, read to its end. */
export async function recordsOf(topic: string, partitions: number, aggregateId: string, accept: (message: KafkaMessage) => boolean): Promise<KafkaMessage[]> {
  const kafka = createKafka('aggregate-records');
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await readPartition({
      kafka,
      admin,
      groupPrefix: uniqueName('aggregate-records'),
      topic,
      partition: partitionForKey(aggregateId, partitions),
      fromOffset: '0',
      accept,
      timeoutMs: 30_000,
    });
  } finally {
    await admin.disconnect();
  }
}

/** Every committed event record of one aggregate (keys `<id>:<sequence>`), read to the end of its partition. */
export function eventsOf(topic: string, partitions: number, aggregateId: string): Promise<KafkaMessage[]> {
  return recordsOf(topic, partitions, aggregateId, (message) => message.key?.toString().startsWith(`${aggregateId}:`) ?? false);
}
