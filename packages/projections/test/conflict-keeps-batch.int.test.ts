/**
 * Regression: after a commit loses its compare-and-set, no event of the batch
 * may be skipped. kafkajs announces the end of every batch, also one eachBatch
 * left early; the runner once took such a batch for one of only transaction
 * markers and stepped the stored offset over its unhandled events.
 *
 * One partition, 50 events in one transaction, batchSize 10: the runner's first
 * commit is held while "another worker" commits the first event; released, it
 * conflicts, seeks back, and every event must still be applied exactly once.
 */
import { expect } from 'chai';
import { InMemoryReadModelStore, InMemoryWriter, liveSlot } from '@tributary/core';
import { ProjectionRunner, defineProjection } from '@tributary/projections';
import { createKafka, kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { sleep } from './support/catch-up';
import { ShopEventWriter } from './support/event-writer';
import { GatedStore } from './support/gated-store';
import { ItemAdded, OrderPlaced, OrderShipped, ShopOrder, shopEvents } from './support/shop';

describe('ProjectionRunner after a lost compare-and-set', function () {
  this.timeout(60_000);

  it('applies every event once after losing a compare-and-set', async () => {
    const kafka = createKafka();
    const admin = kafka.admin();
    await admin.connect();
    const app = uniqueName('repro');
    const writer = new ShopEventWriter(kafka, app, 1);
    await writer.createTopic(admin);
    await writer.write(shopEvents(3, 50, 10));
    const count = (event: object, envelope: unknown, model: InMemoryWriter) => model.set('applied', (model.get<number>('applied') ?? 0) + 1);
    const projection = defineProjection<InMemoryWriter>('repro-count').on(OrderPlaced, count).on(ItemAdded, count).on(OrderShipped, count);
    const inner = new InMemoryReadModelStore();
    const store = new GatedStore(inner);
    const held = store.holdNext(0);
    const runner = new ProjectionRunner<InMemoryWriter>({ app, brokers: kafkaBrokers(), partitions: 1, aggregates: [ShopOrder], projection, store, batchSize: 10 });
    try {
      await runner.start();
      const batch = await held.entered;
      expect(batch.expected).to.equal(null);
      // Another worker handles the first event meanwhile.
      await inner.commit({ slot: liveSlot('repro-count'), topic: writer.topic, partition: 0, expected: null }, async ({ writer: model }) => {
        model.set('applied', 1);
        return '1';
      });
      held.release();
      expect((await held.outcome).outcome).to.deep.equal({ committed: false, stored: '1' });
      await sleep(3_000);
      const offsets = await inner.readOffsets(liveSlot('repro-count'));
      expect({ applied: inner.read('repro-count').get('applied'), offsets: offsets.map((offset) => offset.nextOffset) }).to.deep.equal({ applied: 50, offsets: ['51'] });
    } finally {
      await runner.stop();
      await writer.close();
      await admin.disconnect();
    }
  });
});
