import { expect } from 'chai';
import { Admin, Kafka } from 'kafkajs';
import { Event, InMemoryReadModelStore, InMemoryWriter, defineUpcaster } from '@tributary/core';
import { ProjectionRunner } from '@tributary/projections';
import { createKafka, kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { ShopEventWriter } from './support/event-writer';
import { InMemoryOrderSummary, handlerBehaviour, inMemoryRows } from './support/order-summary.projection';
import { ShopOrder, foldOrderSummaries, shopEvents } from './support/shop';

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('ProjectionRunner on Kafka (in-memory read model)', function () {
  this.timeout(120_000);
  let kafka: Kafka;
  let admin: Admin;

  before(async () => {
    kafka = createKafka();
    admin = kafka.admin();
    await admin.connect();
  });
  after(async () => admin.disconnect());
  afterEach(() => {
    handlerBehaviour.poisonRefused = true;
    handlerBehaviour.transientFailures = 0;
    handlerBehaviour.stillRefused.clear();
  });

  it('builds the read model a full replay gives, and resumes from the stored offsets after a restart', async () => {
    const app = uniqueName('proj');
    const writer = new ShopEventWriter(kafka, app, 3);
    await writer.createTopic(admin);
    const events = shopEvents(7, 600, 60);
    await writer.write(events.slice(0, 300));
    const store = new InMemoryReadModelStore();
    const options = { app, brokers: kafkaBrokers(), partitions: 3, aggregates: [ShopOrder], projection: InMemoryOrderSummary, store, batchSize: 50 };
    const first = new ProjectionRunner<InMemoryWriter>(options);
    await first.start();
    const expectedHalf = foldOrderSummaries(events.slice(0, 300));
    await eventually(() => JSON.stringify([...inMemoryRows(store.read('order-summary'))].sort()) === JSON.stringify([...expectedHalf].sort()));
    await first.stop();

    await writer.write(events.slice(300));
    const second = new ProjectionRunner<InMemoryWriter>(options);
    await second.start();
    const expected = foldOrderSummaries(events);
    try {
      await eventually(() => JSON.stringify([...inMemoryRows(store.read('order-summary'))].sort()) === JSON.stringify([...expected].sort()));
      // Every write ended with a transaction marker, which kafkajs never hands to eachBatch: the stored offsets still reach the end.
      const ends = (await admin.fetchTopicOffsets(writer.topic)).map(({ partition, high }) => ({ topic: writer.topic, partition, nextOffset: high })).sort((a, b) => a.partition - b.partition);
      await eventually(async () => JSON.stringify((await store.readOffsets({ projection: 'order-summary', version: 'live' })).sort((a, b) => a.partition - b.partition)) === JSON.stringify(ends));
    } finally {
      await second.stop();
      await writer.close();
    }
    expect(Object.fromEntries(inMemoryRows(store.read('order-summary')))).to.deep.equal(Object.fromEntries(expected));
  });

  it('sends a poison event and its aggregate\'s later events to the dead-letter topic, lets others flow, and redrives them after the fix', async () => {
    const app = uniqueName('proj');
    const writer = new ShopEventWriter(kafka, app, 3);
    await writer.createTopic(admin);
    const events = shopEvents(11, 400, 40);
    const poisonIndex = events.findIndex((event, index) => index > 50 && event.type === 'item');
    const poisoned = events[poisonIndex].orderId;
    await writer.write(events, (_, index) => index === poisonIndex);
    const store = new InMemoryReadModelStore();
    const runner = new ProjectionRunner<InMemoryWriter>({ app, brokers: kafkaBrokers(), partitions: 3, aggregates: [ShopOrder], projection: InMemoryOrderSummary, store, batchSize: 64 });
    const expected = foldOrderSummaries(events);
    const healthy = (rows: Map<string, unknown>) => [...expected].every(([id, row]) => id === poisoned || JSON.stringify(rows.get(id)) === JSON.stringify(row));
    await runner.start();
    try {
      await eventually(() => healthy(inMemoryRows(store.read('order-summary'))));
      const laterOfPoisoned = events.slice(poisonIndex).filter((event) => event.orderId === poisoned).length;
      await eventually(async () => (await runner.deadLetters().list()).length === laterOfPoisoned);
      const letters = await runner.deadLetters().list();
      expect(letters[0]).to.include({ aggregate: `ShopOrder:${poisoned}`, reason: 'failed', errorCode: 'TEST_POISON' });
      expect(letters.slice(1).every((letter) => letter.reason === 'parked')).to.equal(true);
      expect(inMemoryRows(store.read('order-summary')).get(poisoned)).to.not.deep.equal(expected.get(poisoned));

      handlerBehaviour.poisonRefused = false;
      const result = await runner.deadLetters().redrive();
      expect(result).to.include({ aggregates: 1, redriven: laterOfPoisoned, skipped: 0 });
      expect(await runner.deadLetters().list()).to.deep.equal([]);
      // Events of the aggregate written after the redrive flow straight through.
      await writer.write([{ orderId: poisoned, type: 'item', sku: 'late', cents: 5 }]);
      const withLate = foldOrderSummaries([...events, { orderId: poisoned, type: 'item', sku: 'late', cents: 5 }]);
      await eventually(() => JSON.stringify(inMemoryRows(store.read('order-summary')).get(poisoned)) === JSON.stringify(withLate.get(poisoned)));
      expect(Object.fromEntries(inMemoryRows(store.read('order-summary')))).to.deep.equal(Object.fromEntries(withLate));
    } finally {
      await runner.stop();
      await writer.close();
    }
  });

  it('redrives the aggregates whose handlers were fixed and keeps, and reports, those that fail again', async () => {
    const app = uniqueName('proj');
    const writer = new ShopEventWriter(kafka, app, 1);
    await writer.createTopic(admin);
    const events = [
      { orderId: 'p-10', type: 'placed', customerId: 'c' },
      { orderId: 'p-10', type: 'item', sku: 'a', cents: 1 },
      { orderId: 'p-1', type: 'placed', customerId: 'c' },
      { orderId: 'p-1', type: 'item', sku: 'b', cents: 2 },
      { orderId: 'p-1', type: 'item', sku: 'c', cents: 3 },
      { orderId: 'p-2', type: 'placed', customerId: 'd' },
    ] as const;
    await writer.write(events, (event) => event.type === 'item' && event.sku !== 'c');
    const store = new InMemoryReadModelStore();
    const runner = new ProjectionRunner<InMemoryWriter>({ app, brokers: kafkaBrokers(), partitions: 1, aggregates: [ShopOrder], projection: InMemoryOrderSummary, store, retry: { retries: 3, initialDelayMs: 10 } });
    const transient: unknown[] = [];
    runner.on('projection.retry', ({ error }) => transient.push(error));
    handlerBehaviour.transientFailures = 2;
    await runner.start();
    try {
      await eventually(async () => inMemoryRows(store.read('order-summary')).has('p-2') && (await runner.deadLetters().list()).length === 3);
      // The two transient failures were retried, not dead-lettered.
      expect(transient).to.have.length(2);
      const letters = await runner.deadLetters().list();
      expect(letters.map((letter) => [letter.aggregate, letter.reason])).to.deep.equal([
        ['ShopOrder:p-10', 'failed'],
        ['ShopOrder:p-1', 'failed'],
        ['ShopOrder:p-1', 'parked'],
      ]);
      handlerBehaviour.poisonRefused = false;
      handlerBehaviour.stillRefused.add('p-10');
      const result = await runner.deadLetters().redrive();
      expect(result).to.include({ aggregates: 1, redriven: 2 });
      expect(result.failed.map((error) => error.code)).to.deep.equal(['REDRIVE_FAILED']);
      expect(result.failed[0].message).to.contain('ShopOrder:p-10');
      expect((await runner.deadLetters().list()).map((letter) => letter.aggregate)).to.deep.equal(['ShopOrder:p-10']);
      expect(inMemoryRows(store.read('order-summary')).get('p-1')).to.deep.equal(foldOrderSummaries(events).get('p-1'));
    } finally {
      await runner.stop();
      await writer.close();
    }
  });

  it('hands handlers current-version events: past records go through the upcasters first', async () => {
    // History written before ItemAdded existed: a LineAdded whose price was in euros.
    @Event('ProjectionTest.LineAdded')
    class LineAdded {
      constructor(
        readonly sku: string,
        readonly euros: number,
      ) {}
    }
    const lineToItem = defineUpcaster('ProjectionTest.LineAdded', 1, ({ payload }) => ({
      type: 'ProjectionTest.ItemAdded',
      schemaVersion: 1,
      payload: { sku: payload.sku, cents: Math.round((payload.euros as number) * 100) },
    }));
    const app = uniqueName('proj');
    const writer = new ShopEventWriter(kafka, app, 2);
    await writer.createTopic(admin);
    const events = shopEvents(5, 200, 20);
    const past = (event: (typeof events)[number], index: number) =>
      event.type === 'item' && index % 2 === 0 ? { type: 'ProjectionTest.LineAdded', schemaVersion: 1, payload: { sku: event.sku, euros: event.cents / 100 } } : undefined;
    await writer.write(events, undefined, past);
    expect(events.filter((event, index) => past(event, index)).length).to.be.greaterThan(10);
    const store = new InMemoryReadModelStore();
    const runner = new ProjectionRunner<InMemoryWriter>({
      app,
      brokers: kafkaBrokers(),
      partitions: 2,
      aggregates: [ShopOrder],
      projection: InMemoryOrderSummary,
      store,
      events: [LineAdded],
      upcasters: [lineToItem],
    });
    const expected = foldOrderSummaries(events);
    await runner.start();
    try {
      await eventually(() => JSON.stringify([...inMemoryRows(store.read('order-summary'))].sort()) === JSON.stringify([...expected].sort()));
      expect(await runner.deadLetters().list()).to.deep.equal([]);
    } finally {
      await runner.stop();
      await writer.close();
    }
  });
});
