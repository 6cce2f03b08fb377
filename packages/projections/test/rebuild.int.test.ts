/**
 * Rebuild under load (issue 6, acceptance test 4): a live runner serves the
 * read model while ProjectionRebuild fills a shadow from the beginning of the
 * topic and swaps it in, and events keep being written all along. After the
 * swap the live runner carries on from the swapped-in offsets; once it has
 * reached the end, the live read model must be the full replay of everything
 * written. Readers querying the live read model all along never find it
 * missing. PostgreSQL (tables swapped by DROP + SET SCHEMA in one transaction),
 * then Redis (generations swapped by pointer), shorter.
 */
import { expect } from 'chai';
import { liveSlot, shadowSlot } from '@tributary/core';
import { PostgresWriter } from '@tributary/postgres';
import { ProjectionRebuild, ProjectionRebuildEvents } from '@tributary/projections';
import { RedisWriter } from '@tributary/redis';
import Redis from 'ioredis';
import { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { createKafka, kafkaBrokers, postgresUrl, redisUrl, uniqueName } from '../../../test-support/integration';
import { caughtUp, sleep } from './support/catch-up';
import { EventFeed } from './support/event-feed';
import { ShopEventWriter } from './support/event-writer';
import { PgOrderSummary } from './support/pg-order-summary';
import { handlerBehaviour } from './support/projected-order';
import { RedisCustomerOrders } from './support/redis-customer-orders';
import { seedFrom } from './support/seeded-random';
import { ShopOrder, shopEvents } from './support/shop';
import { TrackedRunner } from './support/tracked-runner';

const partitions = 3;

/** A loop of reads, from start to stop, recording each read's time span and any failure. */
class ReaderLoop {
  readonly reads: { startedAt: number; endedAt: number }[] = [];
  readonly errors: string[] = [];
  private stopped = false;
  private running?: Promise<void>;

  constructor(private readonly read: () => Promise<void>) {}

  start(): void {
    this.running = (async () => {
      while (!this.stopped) {
        const startedAt = Date.now();
        try {
          await this.read();
        } catch (error) {
          this.errors.push(String(error));
        }
        this.reads.push({ startedAt, endedAt: Date.now() });
        await sleep(2);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Reads that were under way at some moment of [from, to]. */
  during(from: number, to: number): number {
    return this.reads.filter((read) => read.endedAt >= from && read.startedAt <= to).length;
  }
}

describe('Rebuild of a projection under load', function () {
  this.timeout(120_000);
  const seed = seedFrom('REBUILD_SEED');
  let kafka: Kafka;
  let admin: Admin;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    kafka = createKafka();
    admin = kafka.admin();
    await admin.connect();
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await admin?.disconnect();
  });

  /** Times of the rebuild's instrumentation events. */
  function timeline(rebuild: ProjectionRebuild<unknown>): Partial<Record<keyof ProjectionRebuildEvents, number>> & { progress: number } {
    const seen: Partial<Record<keyof ProjectionRebuildEvents, number>> & { progress: number } = { progress: 0 };
    rebuild.on('rebuild.started', () => (seen['rebuild.started'] = Date.now()));
    rebuild.on('rebuild.progress', () => (seen.progress += 1));
    rebuild.on('rebuild.swapping', () => (seen['rebuild.swapping'] = Date.now()));
    rebuild.on('rebuild.swapped', () => (seen['rebuild.swapped'] = Date.now()));
    return seen;
  }

  it('PostgreSQL: rebuilt and swapped while serving and while events are written, the live table is the full replay\'s and never missing', async () => {
    const pool = new Pool({ connectionString: postgresUrl(), max: 10 });
    const readerPool = new Pool({ connectionString: postgresUrl(), max: 1 });
    cleanups.push(() => pool.end(), () => readerPool.end());
    const model = new PgOrderSummary(pool);
    cleanups.push(() => model.drop());
    await model.createTable();
    const app = uniqueName('proj-rebuild');
    const writer = new ShopEventWriter(kafka, app, partitions);
    cleanups.push(() => writer.close());
    await writer.createTopic(admin);
    const feed = new EventFeed(writer, shopEvents(seed, 12_000, 3000), { batch: 12, intervalMs: 50 });
    for (let written = 0; written < 4000; written += 500) await feed.writeNow(500);

    const options = { app, brokers: kafkaBrokers(), partitions, aggregates: [ShopOrder], store: model.store(), batchSize: 100 };
    const liveBehaviour = handlerBehaviour();
    const live = new TrackedRunner<PostgresWriter>('live', { ...options, projection: model.projection(liveBehaviour) });
    cleanups.push(() => live.stop());
    await live.start();
    await caughtUp(admin, writer.topic, model.store(), liveSlot(model.name));
    const tableBefore = await tableOid(pool, model.table);

    const reader = new ReaderLoop(async () => {
      await readerPool.query(`SELECT count(*)::int AS orders, coalesce(sum(events), 0)::int AS events FROM "${model.table}"`);
    });
    reader.start();
    feed.start();
    // Under load the live runner falls behind the writes (and so, at the swap, usually behind the shadow too).
    liveBehaviour.delayMs = 5;
    const rebuild = new ProjectionRebuild<PostgresWriter>({ ...options, projection: model.projection(handlerBehaviour()), swapLag: 50, progressIntervalMs: 200 });
    const seen = timeline(rebuild as ProjectionRebuild<unknown>);
    let result;
    try {
      result = await rebuild.run();
      liveBehaviour.delayMs = 0;
      // The live runner goes on after the swap, from the swapped-in offsets, while events keep coming.
      await live.waitForCommit((commit) => commit.at > seen['rebuild.swapped']! && commit.events > 0, 30_000);
    } finally {
      await feed.stop();
      await reader.stop();
    }
    await caughtUp(admin, writer.topic, model.store(), liveSlot(model.name), 60_000);

    expect(await model.read()).to.deep.equal(model.expected(feed.written));
    // A swap did happen: the live table is another table now, the shadow is gone, and the rebuild handled the whole history.
    expect(await tableOid(pool, model.table)).to.not.equal(tableBefore);
    expect((await pool.query(`SELECT to_regclass($1) AS shadow`, [model.store().shadowTable(model.name, model.table)])).rows[0].shadow).to.equal(null);
    expect(await model.store().readOffsets(shadowSlot(model.name))).to.deep.equal([]);
    expect(result.events).to.be.at.least(4000);
    expect(seen.progress).to.be.greaterThan(0);
    // Readers ran all along, through the swap, and never failed (a missing table would fail them).
    expect(reader.errors).to.deep.equal([]);
    expect(reader.during(seen['rebuild.swapping']!, seen['rebuild.swapped']!)).to.be.greaterThan(0);
    expect(reader.reads.length).to.be.greaterThan(20);
    expect(live.describeFailures()).to.deep.equal([]);
  });

  it('Redis: rebuilt and swapped while events are written, the live generation is the full replay\'s and the old one is gone', async () => {
    const redis = new Redis(redisUrl());
    const readerRedis = new Redis(redisUrl());
    cleanups.push(
      () => redis.quit().then(() => undefined),
      () => readerRedis.quit().then(() => undefined),
    );
    const model = new RedisCustomerOrders(redis);
    cleanups.push(() => model.drop());
    const app = uniqueName('proj-rebuild-redis');
    const writer = new ShopEventWriter(kafka, app, partitions);
    cleanups.push(() => writer.close());
    await writer.createTopic(admin);
    const events = shopEvents(seed + 1, 8000, 2000);
    const feed = new EventFeed(writer, events, { batch: 12, intervalMs: 100 });
    for (let written = 0; written < 3000; written += 500) await feed.writeNow(500);

    const options = { app, brokers: kafkaBrokers(), partitions, aggregates: [ShopOrder], store: model.store, batchSize: 100 };
    const liveBehaviour = handlerBehaviour();
    const live = new TrackedRunner<RedisWriter>('live', { ...options, projection: model.projection(liveBehaviour) });
    cleanups.push(() => live.stop());
    await live.start();
    await caughtUp(admin, writer.topic, model.store, liveSlot(model.name));
    const generationBefore = await model.store.liveKey(model.name, 'x');

    // Readers look the key up for each read, as the store asks; one placed before the rebuild must always be there.
    const known = `order:${events[0].orderId}`;
    let missing = 0;
    const reader = new ReaderLoop(async () => {
      const key = await model.store.liveKey(model.name, known);
      if ((await readerRedis.exists(key)) === 1) return;
      // Gone only if the generation changed in between (the old one is deleted after the swap): then look again.
      if ((await model.store.liveKey(model.name, known)) === key) missing += 1;
    });
    reader.start();
    feed.start();
    liveBehaviour.delayMs = 5;
    const rebuild = new ProjectionRebuild<RedisWriter>({ ...options, projection: model.projection(handlerBehaviour()), swapLag: 50, progressIntervalMs: 200 });
    const seen = timeline(rebuild as ProjectionRebuild<unknown>);
    try {
      await rebuild.run();
      liveBehaviour.delayMs = 0;
      await live.waitForCommit((commit) => commit.at > seen['rebuild.swapped']! && commit.events > 0, 30_000);
    } finally {
      await feed.stop();
      await reader.stop();
    }
    await caughtUp(admin, writer.topic, model.store, liveSlot(model.name), 60_000);

    expect(await model.read()).to.deep.equal(model.expected(feed.written));
    const generationAfter = await model.store.liveKey(model.name, 'x');
    expect(generationAfter).to.not.equal(generationBefore);
    // Every data key is of the live generation: the old one was deleted, and no shadow is left.
    const liveBase = generationAfter.slice(0, -'x'.length);
    const dataKeys = (await model.allKeys()).filter((key) => /:g\d+:/.test(key));
    expect(dataKeys.filter((key) => !key.startsWith(liveBase))).to.deep.equal([]);
    expect(await model.store.readOffsets(shadowSlot(model.name))).to.deep.equal([]);
    expect(reader.errors).to.deep.equal([]);
    expect(missing).to.equal(0);
    expect(reader.during(seen['rebuild.swapping']!, seen['rebuild.swapped']!)).to.be.greaterThan(0);
    expect(live.describeFailures()).to.deep.equal([]);
  });
});

async function tableOid(pool: Pool, table: string): Promise<string | null> {
  const { rows } = await pool.query<{ oid: string | null }>(`SELECT to_regclass($1)::oid::text AS oid`, [`"${table}"`]);
  return rows[0].oid;
}
