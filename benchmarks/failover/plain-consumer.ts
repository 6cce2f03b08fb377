/**
 * The baseline of the failover benchmark: a plain kafkajs consumer in a group,
 * with the same session timeout and heartbeat as Tributary's processors, that
 * only reports what it consumed. Its failover is the consumer group's own
 * (session timeout, rebalance), with nothing of Tributary's takeover on top.
 *
 *   KAFKA_BROKERS, TOPIC, GROUP, SESSION_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS
 *
 * Reports `ready`, then `consumed` lines `{ partition, sentAt, at }` (sentAt is
 * the message's value). Stops gracefully (leaving the group) on SIGTERM.
 */
import { Kafka, logLevel } from 'kafkajs';

function report(event: string, details: object = {}): void {
  process.stdout.write(`${JSON.stringify({ event, pid: process.pid, at: Date.now(), ...details })}\n`);
}

async function main(): Promise<void> {
  const kafka = new Kafka({ clientId: 'failover-baseline', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: process.env.GROUP!,
    sessionTimeout: Number(process.env.SESSION_TIMEOUT_MS),
    heartbeatInterval: Number(process.env.HEARTBEAT_INTERVAL_MS),
    maxWaitTimeInMs: 20,
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => report('processor.group-joined', { partitions: payload.memberAssignment[process.env.TOPIC!] ?? [] }));
  await consumer.connect();
  await consumer.subscribe({ topic: process.env.TOPIC!, fromBeginning: false });
  await consumer.run({
    partitionsConsumedConcurrently: 6,
    eachMessage: async ({ partition, message }) => report('consumed', { partition, sentAt: Number(message.value!.toString()) }),
  });
  report('ready');
  process.on('SIGTERM', () => {
    void consumer.disconnect().finally(() => process.exit(0));
  });
}

main().catch((error) => {
  report('failed', { message: (error as Error).message });
  process.exit(1);
});
