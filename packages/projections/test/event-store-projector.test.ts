import { expect } from 'chai';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { InMemoryEventStore, InMemoryReadModelStore, InMemoryWriter, NewEvent } from '@tributary/core';
import { EventStoreProjector, ProjectionStoppedError } from '@tributary/projections';
import { InMemoryOrderSummary, handlerBehaviour, inMemoryRows } from './support/order-summary.projection';
import { ItemAdded, OrderPlaced, OrderShipped, ShopEvent, foldOrderSummaries, shopEvents } from './support/shop';

function newEvent(event: ShopEvent, poison = false): NewEvent {
  const [type, payload] =
    event.type === 'placed'
      ? ['ProjectionTest.OrderPlaced', { customerId: event.customerId }]
      : event.type === 'item'
        ? ['ProjectionTest.ItemAdded', { sku: event.sku, cents: event.cents }]
        : ['ProjectionTest.OrderShipped', {}];
  return {
    eventId: randomUUID(),
    type,
    schemaVersion: 1,
    occurredAt: new Date(),
    correlationId: 'c',
    causationId: 'c',
    metadata: {},
    payload: poison ? { ...payload, poison: true } : payload,
  };
}

async function append(eventStore: InMemoryEventStore, events: readonly ShopEvent[], poison = -1): Promise<void> {
  for (const [index, event] of events.entries()) {
    const stream = { aggregateType: 'ShopOrder', aggregateId: event.orderId };
    const version = (await eventStore.readStream(stream)).length;
    await eventStore.appendToStream(stream, version, [newEvent(event, index === poison)]);
  }
}

describe('EventStoreProjector', () => {
  afterEach(() => {
    handlerBehaviour.poisonRefused = true;
  });

  it('gives the read model of a full replay however catch-ups and batches split the log', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 10_000 }), fc.array(fc.integer({ min: 0, max: 120 }), { maxLength: 4 }), fc.integer({ min: 1, max: 40 }), async (seed, cuts, batchSize) => {
        const events = shopEvents(seed, 120, 15);
        const eventStore = new InMemoryEventStore();
        const store = new InMemoryReadModelStore();
        const projector = new EventStoreProjector<InMemoryWriter>({ projection: InMemoryOrderSummary, store, eventStore, events: [OrderPlaced, ItemAdded, OrderShipped], batchSize });
        let written = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          await append(eventStore, events.slice(written, cut));
          written = Math.max(written, cut);
          await projector.catchUp();
        }
        await append(eventStore, events.slice(written));
        await projector.catchUp();
        // A second catch-up with nothing new changes nothing.
        expect(await projector.catchUp()).to.equal(0);
        expect(Object.fromEntries(inMemoryRows(store.read('order-summary')))).to.deep.equal(Object.fromEntries(foldOrderSummaries(events)));
      }),
      { numRuns: 30 },
    );
  });

  it('stops on an event a handler refuses, keeping what came before and committing nothing of its batch', async () => {
    const events = shopEvents(3, 40, 5);
    const eventStore = new InMemoryEventStore();
    await append(eventStore, events, 25);
    const store = new InMemoryReadModelStore();
    const projector = new EventStoreProjector<InMemoryWriter>({ projection: InMemoryOrderSummary, store, eventStore, events: [OrderPlaced, ItemAdded, OrderShipped], batchSize: 10 });
    const error = await projector.catchUp().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).to.be.instanceOf(ProjectionStoppedError);
    expect((error as Error).message).to.match(/order-summary.*poison/);
    expect(Object.fromEntries(inMemoryRows(store.read('order-summary')))).to.deep.equal(Object.fromEntries(foldOrderSummaries(events.slice(0, 20))));
    handlerBehaviour.poisonRefused = false;
    await projector.catchUp();
    expect(Object.fromEntries(inMemoryRows(store.read('order-summary')))).to.deep.equal(Object.fromEntries(foldOrderSummaries(events)));
  });
});
