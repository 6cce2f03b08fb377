/**
 * The orders demo: `npm run demo`. Runs a short life of one order, shows the
 * rules refusing bad commands, prints the event log and the state rebuilt
 * from it, and projects the events into two read models (PostgreSQL and
 * Redis, when they answer). On the embedded store by default; on Kafka when
 * KAFKA_BROKERS is set.
 */
import { CommandBus, EventStore, InMemoryEventStore, Rehydrator, exploreAggregate } from '@tributary/core';
import { EventStoreProjector } from '@tributary/projections';
import { DEMO_CUSTOMER, demoCommands, printState, runCommands } from './demo-scenario';
import { DemoReadModels } from './demo-read-models';
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
  await projectEmbedded(eventStore, orderId);
}

/** Projects the embedded store's log into the read models that answer, and prints them. */
async function projectEmbedded(eventStore: EventStore, orderId: string): Promise<void> {
  const readModels = await DemoReadModels.open(`${Date.now().toString(36)}${process.pid.toString(36)}`);
  try {
    for (const { projection, store } of readModels.projections) {
      // The same projections the Kafka runners run, over the in-memory store's global log.
      await new EventStoreProjector({ projection, store, eventStore, events: exploreAggregate(Order).eventClasses }).catchUp();
    }
    await readModels.print(orderId, DEMO_CUSTOMER);
  } finally {
    await readModels.close();
  }
}

const brokers = process.env.KAFKA_BROKERS?.split(',').map((broker) => broker.trim()).filter(Boolean);
(brokers?.length ? runOnKafka(brokers) : runEmbedded()).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
