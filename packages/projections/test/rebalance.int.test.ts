/**
 * Projection workers rebalancing (issue 6, acceptance test 2), on PostgreSQL,
 * with ProjectionRunners in this process and events written all along:
 *
 * - a third worker joins two and then leaves: partitions move to it and back,
 *   and the read model is the full replay's;
 * - a real zombie: a worker stalls just before committing (its commit held at
 *   a gate in front of the real store), its session times out, another worker
 *   takes the partition and commits further; let through, the zombie's commit
 *   fails its compare-and-set (`projection.conflict`) and runs no handler;
 * - a worker stalled inside its transaction (a latch in its handler, after its
 *   compare-and-set locked the offset row): the worker that takes the partition
 *   waits for that row; once the latch opens the stalled transaction commits,
 *   the other's compare-and-set fails, and nothing is applied twice.
 *
 * Every case ends with the read model equal to the full replay of what was
 * written: an event applied twice or missed changes a count.
 */
import { expect } from 'chai';
import { liveSlot } from '@tributary/core';
import { partitionForKey } from '@tributary/kafka';
import { PostgresWriter } from '@tributary/postgres';
import { ProjectionRunnerOptions } from '@tributary/projections';
import { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { createKafka, kafkaBrokers, postgresUrl, uniqueName } from '../../../test-support/integration';
import { caughtUp, eventually } from './support/catch-up';
import { EventFeed } from './support/event-feed';
import { ShopEventWriter } from './support/event-writer';
import { GatedStore } from './support/gated-store';
import { PgOrderSummary } from './support/pg-order-summary';
import { OrderHandlerBehaviour, handlerBehaviour } from './support/projected-order';
import { seedFrom } from './support/seeded-random';
import { ShopOrder, shopEvents } from './support/shop';
import { TrackedRunner } from './support/tracked-runner';

const partitions = 6;
/** Short, so a stalled worker loses its partitions within seconds (the test broker allows ≥ 1000 ms). */
const sessionTimeoutMs = 3000;

describe('Projection workers rebalancing (PostgreSQL)', function () {
  this.timeout(120_000);
  const seed = seedFrom('REBALANCE_SEED');
  let kafka: Kafka;
  let admin: Admin;
  let pool: Pool;
  const models: PgOrderSummary[] = [];
  const runners: TrackedRunner<PostgresWriter>[] = [];
  const pools: Pool[] = [];
  const writers: { feed: EventFeed; writer: ShopEventWriter }[] = [];

  before(async () => {
    kafka = createKafka();
    admin = kafka.admin();
    await admin.connect();
    pool = new Pool({ connectionString: postgresUrl(), max: 20 });
  });

  afterEach(async () => {
    for (const { feed, writer } of writers.splice(0)) {
      await feed.stop().catch(() => undefined);
      await writer.close().catch(() => undefined);
    }
    await Promise.all(runners.splice(0).map((runner) => runner.stop()));
    await Promise.all(pools.splice(0).map((extra) => extra.end()));
  });

  after(async () => {
    for (const model of models) await model.drop();
    await pool?.end();
    await admin?.disconnect();
  });

  /** A topic, a read model table and a feed of events for one case. */
  async function scenario(prefix: string) {
    const app = uniqueName(prefix);
    const model = new PgOrderSummary(pool);
    models.push(model);
    await model.createTable();
    const writer = new ShopEventWriter(kafka, app, partitions);
    await writer.createTopic(admin);
    const feed = new EventFeed(writer, shopEvents(seed, 8000, 2000), { batch: 12, intervalMs: 100 });
    writers.push({ feed, writer });
    const worker = (label: string, options: Partial<ProjectionRunnerOptions<PostgresWriter>> & { behaviour?: OrderHandlerBehaviour } = {}) => {
      const { behaviour, ...rest } = options;
      const runner = new TrackedRunner<PostgresWriter>(label, {
        app,
        brokers: kafkaBrokers(),
        partitions,
        aggregates: [ShopOrder],
        projection: model.projection(behaviour ?? handlerBehaviour({ delayMs: 1 })),
        store: model.store(),
        batchSize: 20,
        sessionTimeoutMs,
        heartbeatIntervalMs: 500,
        ...rest,
      });
      runners.push(runner);
      return runner;
    };
    /** Stops writing, waits for the workers to reach the end, and checks the read model against the full replay. */
    const finish = async () => {
      const written = await feed.stop();
      await caughtUp(admin, writer.topic, model.store(), liveSlot(model.name), 60_000);
      expect(await model.read()).to.deep.equal(model.expected(written));
    };
    return { app, model, writer, feed, worker, finish };
  }

  it('a third worker joins two and leaves while events flow: partitions move and back, and the read model is the replay\'s', async () => {
    const { feed, worker, finish } = await scenario('proj-rebalance');
    await feed.writeNow(600);
    feed.start();
    const a = worker('A');
    const b = worker('B');
    await Promise.all([a.start(), b.start()]);
    await eventually(() => new Set([...a.committedPartitions(), ...b.committedPartitions()]).size === partitions && a.commits.length > 0 && b.commits.length > 0);

    const c = worker('C');
    await c.start();
    await c.waitForCommit((commit) => commit.events > 0);
    await eventually(() => c.commits.filter((commit) => commit.events > 0).length >= 3);
    const taken = c.committedPartitions();
    await c.stop();
    const leftAt = Date.now();
    expect(c.runner.state).to.equal('stopped');

    // What C took had been A's or B's (they had committed in every partition), and goes back to them.
    expect(taken.size).to.be.greaterThan(0);
    await eventually(
      () => [...taken].every((partition) => a.committedPartitions(leftAt).has(partition) || b.committedPartitions(leftAt).has(partition)),
      30_000,
      () => `(after C left, nobody committed in ${[...taken].join(', ')})`,
    );
    await finish();
    expect([...a.describeFailures(), ...b.describeFailures(), ...c.describeFailures()]).to.deep.equal([]);
    expect([a.runner.state, b.runner.state]).to.deep.equal(['running', 'running']);
  });

  it('a zombie stalled before its commit loses the partition; let through, its compare-and-set fails and it writes nothing', async () => {
    const { model, writer, feed, worker, finish } = await scenario('proj-zombie');
    await feed.writeNow(600);
    feed.start();
    const gate = new GatedStore(model.store());
    const zombie = worker('zombie', { store: gate });
    const other = worker('other');
    await Promise.all([zombie.start(), other.start()]);
    await shared(zombie, other);

    const partition = zombie.partitions()[0];
    const held = gate.holdNext(partition);
    const batch = await within(held.entered, 30_000, `the zombie made no commit in partition ${partition}`);
    // Stalled in eachBatch, the zombie sends no heartbeat: its session ends and the other worker takes the partition.
    const overtaken = await other.waitForCommit(
      (commit) => commit.partition === partition && commit.events > 0 && BigInt(commit.nextOffset) > BigInt(batch.expected ?? '-1'),
      30_000,
    );
    held.release();
    const { outcome, workRan } = await held.outcome;
    await eventually(() => zombie.conflicts.length > 0, 10_000, () => '(the zombie reported no conflict)');

    expect(outcome.committed).to.equal(false);
    expect(workRan, 'the zombie ran handlers').to.equal(false);
    const stored = outcome.committed ? null : outcome.stored;
    expect(BigInt(stored ?? '-1') >= BigInt(overtaken.nextOffset)).to.equal(true);
    expect(zombie.conflicts.map(({ topic, partition: p, expected, stored: s }) => ({ topic, partition: p, expected, stored: s }))).to.deep.include({
      topic: writer.topic,
      partition,
      expected: batch.expected,
      stored,
    });

    await finish();
    expect([...zombie.describeFailures(), ...other.describeFailures()]).to.deep.equal([]);
  });

  it('a worker stalled inside its transaction keeps the offset row: the next owner waits, then its compare-and-set fails; nothing is applied twice', async () => {
    const { model, writer, feed, worker, finish } = await scenario('proj-stalled');
    await feed.writeNow(600);
    feed.start();
    let latch: { partition: number; entered: () => void; opened: Promise<void> } | undefined;
    let open: () => void = () => undefined;
    const stalledBehaviour = handlerBehaviour({
      delayMs: 1,
      beforeEvent: async (orderId) => {
        const armed = latch;
        if (!armed || partitionForKey(orderId, partitions) !== armed.partition) return;
        latch = undefined;
        armed.entered();
        await armed.opened;
      },
    });
    // The other worker's connections carry a name of their own, to see them wait for the row lock.
    const applicationName = uniqueName('proj-next-owner');
    const otherPool = new Pool({ connectionString: postgresUrl(), max: 4, application_name: applicationName });
    pools.push(otherPool);
    const stalled = worker('stalled', { behaviour: stalledBehaviour });
    const other = worker('other', { store: new PgOrderSummary(otherPool, model.name, model.table).store() });
    await Promise.all([stalled.start(), other.start()]);
    await shared(stalled, other);

    // A partition of the stalled worker whose offset it has stored already: the row its next transaction locks.
    let partition = -1;
    await eventually(
      () => (partition = stalled.partitions().find((candidate) => stalled.commits.some((commit) => commit.partition === candidate)) ?? -1) >= 0,
      30_000,
      () => `(the stalled worker holds ${stalled.partitions().join(', ')} and committed on ${[...new Set(stalled.commits.map((commit) => commit.partition))].join(', ')})`,
    );
    const entered = new Promise<void>((resolve) => {
      latch = { partition, entered: resolve, opened: new Promise<void>((resolve) => (open = resolve)) };
    });
    try {
      await within(entered, 30_000, `the stalled worker handled no event of partition ${partition}`);
      const before = (await model.store().readOffsets(liveSlot(model.name))).find((offset) => offset.partition === partition && offset.topic === writer.topic)!.nextOffset;
      // Its session ends; the other worker takes the partition and its compare-and-set waits for the stalled transaction's row lock.
      await eventually(() => other.partitions().includes(partition), 30_000, () => `(the other worker holds ${other.partitions().join(', ')})`);
      await eventually(
        async () => (await pool.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [applicationName])).rowCount! > 0,
        30_000,
        () => '(the other worker never waited for a lock)',
      );
      open();

      const landed = await stalled.waitForCommit((commit) => commit.partition === partition && BigInt(commit.nextOffset) > BigInt(before));
      await eventually(() => other.conflicts.some((conflict) => conflict.partition === partition));
      const refused = other.conflicts.find((conflict) => conflict.partition === partition)!;
      expect(refused).to.include({ topic: writer.topic, expected: before });
      expect(BigInt(refused.stored ?? '-1') >= BigInt(landed.nextOffset), `stored ${refused.stored}, the stalled commit moved to ${landed.nextOffset}`).to.equal(true);
    } finally {
      // Whatever failed above, the stalled handler must not hold its runner (and the run) forever.
      open();
    }

    await finish();
    expect([...stalled.describeFailures(), ...other.describeFailures()]).to.deep.equal([]);
  });
});

/** Waits until the two workers share the partitions between them, and both have committed. */
async function shared(first: TrackedRunner<PostgresWriter>, second: TrackedRunner<PostgresWriter>): Promise<void> {
  await eventually(
    () => first.partitions().length > 0 && second.partitions().length > 0 && first.partitions().length + second.partitions().length === partitions && first.commits.length > 0 && second.commits.length > 0,
    30_000,
    () => `(${first.label} holds ${first.partitions().join(', ')}; ${second.label} holds ${second.partitions().join(', ')})`,
  );
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
