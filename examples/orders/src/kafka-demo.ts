import { CommandProcessor, KafkaCommandBus, envelopeFromHeaders } from '@tributary/kafka';
import { ProjectionRunner } from '@tributary/projections';
import { Kafka, logLevel } from 'kafkajs';
import { DemoReadModels } from './demo-read-models';
import { DEMO_CUSTOMER, demoCommands, printState, runCommands } from './demo-scenario';
import { EmptyOrderError, InvalidLineItemError, ItemNotInOrderError, Order, OrderAlreadyCancelledError, OrderAlreadySubmittedError } from './index';

/**
 * The demo on Kafka: two command processors share the partitions, a command bus
 * sends the commands, the log is read back from the events topic, and
 * projection runners keep the read models (where PostgreSQL and Redis answer).
 */
export async function runOnKafka(brokers: string[]): Promise<void> {
  // A fresh app per run, so every run starts from empty topics.
  const run = Date.now().toString(36);
  const app = `orders-demo-${run}`;
  const options = { app, brokers, aggregates: [Order], partitions: 4 };
  console.log(`Event store: Kafka at ${brokers.join(',')}, app '${app}' (topics ${app}.*)\n`);

  const processors = [new CommandProcessor(options), new CommandProcessor(options)];
  const bus = new KafkaCommandBus({
    ...options,
    domainErrors: [EmptyOrderError, InvalidLineItemError, ItemNotInOrderError, OrderAlreadyCancelledError, OrderAlreadySubmittedError],
  });
  const readModels = await DemoReadModels.open(run);
  // One runner per projection, each its own consumer group; the topics must exist first, so they start after the processors.
  const runners = readModels.projections.map(({ projection, store }) => new ProjectionRunner({ ...options, projection, store }));
  try {
    await Promise.all(processors.map((processor) => processor.start()));
    await Promise.all([settled(processors, options.partitions), ...runners.map((runner) => runner.start())]);
    processors.forEach((processor, index) => console.log(`Processor ${index + 1} owns command partitions [${processor.ownedPartitions().join(', ')}]`));
    for (const runner of runners) console.log(`Projection ${runner.name} runs in consumer group ${runner.groupId}`);
    await bus.start();
    console.log('');

    const orderId = 'order-1001';
    await runCommands(demoCommands(orderId), (command) => bus.execute(command));

    const order = await bus.load(Order, orderId);
    const topic = processors[0].layout.events('Order');
    console.log(`\nEvent log (${topic}, read_committed)`);
    const records = await readEvents(brokers, topic, orderId, order.version);
    for (const record of records) {
      console.log(`  p${record.partition}@${record.offset} ${record.event.aggregateType}/${record.event.aggregateId} seq ${record.event.sequence} ${record.event.type} v${record.event.schemaVersion} ${JSON.stringify(record.event.payload)}`);
    }
    printState(order);

    const last = records[records.length - 1];
    await Promise.all(runners.map((runner) => caughtUp(runner, topic, last.partition, BigInt(last.offset) + 1n)));
    await Promise.all(runners.map((runner) => runner.stop()));
    await readModels.print(orderId, DEMO_CUSTOMER);
  } finally {
    await Promise.all(runners.map((runner) => runner.stop()));
    await readModels.close();
    await bus.stop();
    await Promise.all(processors.map((processor) => processor.stop()));
  }
}

/** Waits (30 s at most) until the runner has committed past `offset` of the partition: its read model shows those events. */
async function caughtUp(runner: ProjectionRunner<unknown>, topic: string, partition: number, offset: bigint): Promise<void> {
  const deadline = Date.now() + 30_000;
  const committed = () => runner.committedOffsets().find((entry) => entry.topic === topic && entry.partition === partition);
  for (;;) {
    if (runner.state === 'failed') throw runner.error;
    const position = committed();
    if (position && BigInt(position.nextOffset) >= offset) return;
    if (Date.now() > deadline) throw new Error(`Projection ${runner.name} did not reach offset ${offset} of ${topic}/${partition} in 30 s (it stands at ${position?.nextOffset ?? 'nothing'})`);
    await runner.nextCommit(500);
  }
}

/** Reads the order's events back from the events topic, from the beginning, until all `count` are in. */
async function readEvents(brokers: string[], topic: string, aggregateId: string, count: number) {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'orders-demo-reader' });
  const consumer = kafka.consumer({ groupId: `orders-demo-reader-${Date.now()}`, readUncommitted: false });
  const records: Array<{ partition: number; offset: string; event: ReturnType<typeof envelopeFromHeaders> }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${records.length} of ${count} events of ${aggregateId} from ${topic} in 15 s`)), 15_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const event = envelopeFromHeaders(message.headers, JSON.parse(message.value!.toString('utf8')));
          if (event.aggregateId === aggregateId) records.push({ partition, offset: message.offset, event });
          if (records.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.event.sequence - b.event.sequence);
}

/** Waits (a few seconds at most) until the group's rebalance has split the partitions between the processors. */
async function settled(processors: CommandProcessor[], partitions: number): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 100) {
    const owned = processors.flatMap((processor) => processor.ownedPartitions());
    if (owned.length === partitions && new Set(owned).size === partitions) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
