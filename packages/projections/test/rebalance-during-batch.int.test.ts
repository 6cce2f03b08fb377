/**
 * Regression: a runner handling a batch when its group rebalances must rejoin,
 * not stop. kafkajs throws REBALANCE_IN_PROGRESS (or UNKNOWN_MEMBER_ID after a
 * session timeout) from payload.heartbeat() and expects it to leave eachBatch
 * so it can rejoin; the runner once caught it and stopped for good.
 */
import { expect } from 'chai';
import { InMemoryReadModelStore, InMemoryWriter } from '@tributary/core';
import { ProjectionRunner, defineProjection } from '@tributary/projections';
import { createKafka, kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { sleep } from './support/catch-up';
import { ShopEventWriter } from './support/event-writer';
import { ItemAdded, OrderPlaced, ShopOrder, shopEvents } from './support/shop';

describe('ProjectionRunner during a rebalance', function () {
  this.timeout(60_000);

  it('keeps both runners running when a second one joins while the first is handling a batch', async () => {
    const kafka = createKafka();
    const admin = kafka.admin();
    await admin.connect();
    const app = uniqueName('repro');
    const writer = new ShopEventWriter(kafka, app, 3);
    await writer.createTopic(admin);
    await writer.write(shopEvents(1, 2000, 400));
    const store = new InMemoryReadModelStore();
    const slow = defineProjection<InMemoryWriter>('repro-orders')
      .on(OrderPlaced, async (event, envelope, model) => {
        await sleep(2);
        model.set(envelope.aggregateId, 0);
      })
      .on(ItemAdded, async (event, envelope, model) => {
        await sleep(2);
        model.set(envelope.aggregateId, (model.get<number>(envelope.aggregateId) ?? 0) + 1);
      });
    const options = { app, brokers: kafkaBrokers(), partitions: 3, aggregates: [ShopOrder], projection: slow, store, batchSize: 10, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 };
    const first = new ProjectionRunner<InMemoryWriter>(options);
    const second = new ProjectionRunner<InMemoryWriter>(options);
    const failures: unknown[] = [];
    first.on('projection.failed', ({ error }) => failures.push(error));
    second.on('projection.failed', ({ error }) => failures.push(error));
    try {
      await first.start();
      await first.nextCommit(10_000);
      await second.start();
      await sleep(3_000);
      expect(failures.map((error) => String((error as { cause?: unknown }).cause ?? error))).to.deep.equal([]);
      expect([first.state, second.state]).to.deep.equal(['running', 'running']);
    } finally {
      await first.stop();
      await second.stop();
      await writer.close();
      await admin.disconnect();
    }
  });
});
