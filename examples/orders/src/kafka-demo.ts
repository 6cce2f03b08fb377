import { CommandProcessor, KafkaCommandBus, envelopeFromHeaders } from '@tributary/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { demoCommands, printState, runCommands } from './demo-scenario';
import { EmptyOrderError, InvalidLineItemError, ItemNotInOrderError, Order, OrderAlreadyCancelledError, OrderAlreadySubmittedError } from './index';

/**
 * The demo on Kafka: two command processors share the partitions, a command bus
 * sends the commands, and the log is read back from the events topic.
 */
export async function runOnKafka(brokers: string[]): Promise<void> {
  // A fresh app per run, so every run starts from empty topics.
  const app = `orders-demo-${Date.now().toString(36)}`;
  const options = { app, brokers, aggregates: [Order], partitions: 4 };
  console.log(`Event store: Kafka at ${brokers.join(',')}, app '${app}' (topics ${app}.*)\n`);

  const processors = [new CommandProcessor(options), new CommandProcessor(options)];
  const bus = new KafkaCommandBus({
    ...options,
    domainErrors: [EmptyOrderError, InvalidLineItemError, ItemNotInOrderError, OrderAlreadyCancelledError, OrderAlreadySubmittedError],
  });
  try {
    await Promise.all(processors.map((processor) => processor.start()));
    await settled(processors, options.partitions);
    processors.forEach((processor, index) => console.log(`Processor ${index + 1} owns command partitions [${processor.ownedPartitions().join(', ')}]`));
    await bus.start();
    console.log('');

    const orderId = 'order-1001';
    await runCommands(demoCommands(orderId), (command) => bus.execute(command));

    const order = await bus.load(Order, orderId);
    console.log(`\nEvent log (${app}.Order.events, read_committed)`);
    for (const record of await readEvents(brokers, processors[0].layout.events('Order'), orderId, order.version)) {
      console.log(`  p${record.partition}@${record.offset} ${record.event.aggregateType}/${record.event.aggregateId} seq ${record.event.sequence} ${record.event.type} v${record.event.schemaVersion} ${JSON.stringify(record.event.payload)}`);
    }
    printState(order);
  } finally {
    await bus.stop();
    await Promise.all(processors.map((processor) => processor.stop()));
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
