/**
 * The orders demo: `npm run demo`. Runs a short life of one order, shows the
 * rules refusing bad commands, and prints the event log and the state rebuilt
 * from it. On the embedded store by default; on Kafka when KAFKA_BROKERS is set.
 */
import { CommandBus, InMemoryEventStore, Rehydrator } from '@tributary/core';
import { demoCommands, printState, runCommands } from './demo-scenario';
import { Order } from './index';
import { runOnKafka } from './kafka-demo';

async function runEmbedded(): Promise<void> {
  console.log('Event store: embedded, in memory (set KAFKA_BROKERS to use Kafka)\n');
  const eventStore = new InMemoryEventStore();
  const bus = new CommandBus({ aggregates: [Order], eventStore });
  const orderId = 'order-1001';
  await runCommands(demoCommands(orderId), (command) => bus.execute(command));

  console.log('\nEvent log');
  for await (const event of eventStore.readAll()) {
    console.log(`  #${event.position} ${event.aggregateType}/${event.aggregateId} seq ${event.sequence} ${event.type} v${event.schemaVersion} ${JSON.stringify(event.payload)}`);
  }
  // A temporal query: the order as it was before it was submitted.
  const earlier = (await new Rehydrator({ aggregate: Order, eventStore }).load(orderId, { version: 4 }))!;
  console.log(`\nAs of version 4: ${earlier.status}, ${earlier.items.length} item(s), ${earlier.totalCents} cents`);
  printState(await bus.repository(Order).load(orderId));
}

const brokers = process.env.KAFKA_BROKERS?.split(',').map((broker) => broker.trim()).filter(Boolean);
(brokers?.length ? runOnKafka(brokers) : runEmbedded()).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
