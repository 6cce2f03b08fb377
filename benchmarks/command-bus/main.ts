/**
 * Command path on the embedded store: how much the bus (load by replay, handler,
 * conversion, conditional append) costs over a bare conditional append, measured
 * in one run. Prints one JSON object.
 *
 *   npm run bench -- command-bus
 */
import { randomUUID } from 'node:crypto';
import { CommandBus, InMemoryEventStore, NewEvent } from '@tributary/core';
import { AddItem, CreateOrder, LineItem, Order } from '@tributary/example-orders';

const ORDERS = 200;
const COMMANDS_PER_ORDER = 50;

async function measure(name: string, operations: number, run: () => Promise<void>) {
  const started = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { name, operations, seconds: Number(seconds.toFixed(3)), perSecond: Math.round(operations / seconds) };
}

function rawEvent(itemId: string): NewEvent {
  return {
    eventId: randomUUID(),
    type: 'ItemAdded',
    schemaVersion: 1,
    occurredAt: new Date(),
    correlationId: 'bench',
    causationId: 'bench',
    metadata: {},
    payload: { orderId: 'x', item: { itemId, quantity: 1, unitPriceCents: 100 } },
  };
}

async function main(): Promise<void> {
  const total = ORDERS * COMMANDS_PER_ORDER;

  const baseline = await measure('raw InMemoryEventStore.appendToStream', total, async () => {
    const store = new InMemoryEventStore();
    for (let round = 0; round < COMMANDS_PER_ORDER; round += 1) {
      for (let order = 0; order < ORDERS; order += 1) {
        await store.appendToStream({ aggregateType: 'Order', aggregateId: `o-${order}` }, round, [rawEvent(`i-${round}`)]);
      }
    }
  });

  const bus = new CommandBus({ aggregates: [Order] });
  for (let order = 0; order < ORDERS; order += 1) await bus.execute(new CreateOrder(`o-${order}`, 'c'));
  const commands = await measure('CommandBus.execute (load by full replay)', total, async () => {
    for (let round = 0; round < COMMANDS_PER_ORDER; round += 1) {
      for (let order = 0; order < ORDERS; order += 1) {
        await bus.execute(new AddItem(`o-${order}`, new LineItem(`i-${round}`, 1, 100)));
      }
    }
  });

  const repository = bus.repository(Order);
  const loads = await measure(`repository.load of a ${COMMANDS_PER_ORDER + 1}-event order`, ORDERS * 10, async () => {
    for (let pass = 0; pass < 10; pass += 1) for (let order = 0; order < ORDERS; order += 1) await repository.load(`o-${order}`);
  });

  console.log(
    JSON.stringify(
      {
        benchmark: 'command-bus',
        node: process.version,
        orders: ORDERS,
        commandsPerOrder: COMMANDS_PER_ORDER,
        baseline,
        results: [commands, loads],
        ratioToBaseline: { commands: Number((commands.perSecond / baseline.perSecond).toFixed(3)) },
      },
      null,
      2,
    ),
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
