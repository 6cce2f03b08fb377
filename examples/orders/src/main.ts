/**
 * The orders demo: `npm run demo`. Runs a short life of one order on the embedded
 * event store, shows the rules refusing bad commands, and prints the event log
 * and the state rebuilt from it.
 */
import { CommandBus, DomainError, EventStore, InMemoryEventStore } from '@tributary/core';
import { AddItem, CancelOrder, CreateOrder, LineItem, Order, RemoveItem, SubmitOrder } from './index';

async function main(): Promise<void> {
  const eventStore = chooseEventStore();
  const bus = new CommandBus({ aggregates: [Order], eventStore });
  const orderId = 'order-1001';

  const commands = [
    new CreateOrder(orderId, 'customer-7', [new LineItem('coffee-beans', 2, 1450)]),
    new AddItem(orderId, new LineItem('grinder', 1, 8900)),
    new AddItem(orderId, new LineItem('coffee-beans', 1, 1450)),
    new RemoveItem(orderId, 'filters'), // refused: not in the order
    new RemoveItem(orderId, 'grinder'),
    new SubmitOrder(orderId),
    new AddItem(orderId, new LineItem('mug', 1, 1200)), // refused: already submitted
    new CancelOrder(orderId, 'customer changed their mind'),
    new CancelOrder(orderId, 'clicked twice'), // refused: already cancelled
  ];

  console.log('Commands');
  for (const command of commands) {
    try {
      const result = await bus.execute(command);
      console.log(`  ✓ ${command.constructor.name} → ${result.events.map((e) => e.type).join(', ')} (version ${result.version})`);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      console.log(`  ✗ ${command.constructor.name} refused: ${error.code}: ${error.message}`);
    }
  }

  console.log('\nEvent log');
  for await (const event of eventStore.readAll()) {
    console.log(`  #${event.position} ${event.aggregateType}/${event.aggregateId} seq ${event.sequence} ${event.type} v${event.schemaVersion} ${JSON.stringify(event.payload)}`);
  }

  const order = await bus.repository(Order).load(orderId);
  console.log('\nState rebuilt from the log');
  console.log(
    JSON.stringify(
      {
        id: order.id,
        customerId: order.customerId,
        status: order.status,
        items: order.items,
        totalCents: order.totalCents,
        submittedAt: order.submittedAt,
        cancellationReason: order.cancellationReason,
        version: order.version,
      },
      null,
      2,
    ),
  );
}

function chooseEventStore(): EventStore {
  if (process.env.KAFKA_BROKERS) {
    // The Kafka event store is the subject of its own issue; until it lands the
    // demo says so rather than pretending to use the brokers.
    console.log(`KAFKA_BROKERS is set (${process.env.KAFKA_BROKERS}), but the Kafka event store is not built yet; using the embedded store.\n`);
  } else {
    console.log('Event store: embedded, in memory (set KAFKA_BROKERS to use Kafka)\n');
  }
  return new InMemoryEventStore();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
