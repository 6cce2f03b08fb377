/**
 * Crash recovery of a projection worker (issue 6, acceptance test 1): a
 * ProjectionRunner on PostgreSQL in a child process is killed with SIGKILL 20
 * times while this process keeps writing events, and restarted each time.
 * Half the kills come from outside, at a seeded random delay after the worker
 * reported a commit (batches are slow, so most land mid-transaction); the
 * other half are the worker killing itself inside a handler, at a seeded
 * random event: mid-transaction for sure, with the batch's earlier writes
 * done but not committed. At the end a last worker runs to the end of the
 * topic, and the table must be the full replay's, row for row: an event
 * applied twice or missed changes an item count, a total or the per-order
 * count of applied events.
 *
 * Set CRASH_SEED to replay a run's kill points (the interleaving with the
 * writes still depends on timing, which is why the check is against the
 * replay of what was written, not fixed numbers).
 */
import { expect } from 'chai';
import { liveSlot } from '@tributary/core';
import { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { createKafka, kafkaBrokers, postgresUrl, uniqueName } from '../../../test-support/integration';
import { caughtUp, sleep } from './support/catch-up';
import { EventFeed } from './support/event-feed';
import { ShopEventWriter } from './support/event-writer';
import { PgOrderSummary } from './support/pg-order-summary';
import { ProjectionWorkerProcess } from './support/projection-worker-process';
import { seedFrom, seededRandom } from './support/seeded-random';
import { shopEvents } from './support/shop';

const partitions = 3;
const rounds = 20;
const batchSize = 10;
/** Per event: a batch takes ~batchSize × this, so a kill after a commit usually lands inside the next one. */
const delayMs = 3;
/** Short, so a killed worker's partitions are free again soon after its successor joins (the test broker allows ≥ 1000 ms). */
const sessionTimeoutMs = 2000;

describe('Crash recovery of a projection worker killed with SIGKILL (PostgreSQL)', function () {
  this.timeout(180_000);
  const seed = seedFrom('CRASH_SEED');
  let kafka: Kafka;
  let admin: Admin;
  let pool: Pool;
  let model: PgOrderSummary | undefined;
  let writer: ShopEventWriter | undefined;
  const running: ProjectionWorkerProcess[] = [];

  before(async () => {
    console.log(`      projection crash-recovery seed ${seed} (replay the kill points with CRASH_SEED=${seed})`);
    kafka = createKafka();
    admin = kafka.admin();
    await admin.connect();
    pool = new Pool({ connectionString: postgresUrl(), max: 4 });
  });

  after(async () => {
    for (const worker of running) worker.kill();
    await writer?.close();
    await model?.drop();
    await pool?.end();
    await admin?.disconnect();
  });

  it('after 20 kills at random points, the read model equals the full replay: no event lost, none applied twice', async () => {
    const random = seededRandom(seed);
    const app = uniqueName('proj-crash');
    let lastWorker: ProjectionWorkerProcess | undefined;
    model = new PgOrderSummary(pool);
    await model.createTable();
    writer = new ShopEventWriter(kafka, app, partitions);
    await writer.createTopic(admin);
    const feed = new EventFeed(writer, shopEvents(seed, 10_000, 2500), { batch: 12, intervalMs: 100 });
    const env = (extra: Record<string, string> = {}) => ({
      KAFKA_BROKERS: kafkaBrokers().join(','),
      TRIBUTARY_APP: app,
      PARTITIONS: String(partitions),
      DATABASE_URL: postgresUrl(),
      PROJECTION: model!.name,
      TABLE: model!.table,
      BATCH_SIZE: String(batchSize),
      DELAY_MS: String(delayMs),
      SESSION_TIMEOUT_MS: String(sessionTimeoutMs),
      HEARTBEAT_INTERVAL_MS: '400',
      ...extra,
    });
    /** Loads a worker (seconds of ts-node) ahead of its round; `go()` starts its runner. */
    const load = (extra: Record<string, string> = {}) => {
      const worker = new ProjectionWorkerProcess(env({ WAIT_FOR_GO: '1', ...extra }));
      running.push(worker);
      return worker;
    };
    // Even rounds: the worker kills itself in the handler of a random event of its first few batches.
    const killAtFor = (round: number) => (round % 2 === 0 ? String(1 + Math.floor(random() * batchSize * 4)) : '0');

    await feed.writeNow(300);
    feed.start();
    const kills: { round: number; how: string; exit: string; commitsBefore: number }[] = [];
    try {
      let next = load({ KILL_AT_EVENT: killAtFor(1) });
      for (let round = 1; round <= rounds; round += 1) {
        const worker = next;
        await worker.waitFor('loaded', 60_000);
        worker.go();
        next = load({ KILL_AT_EVENT: round < rounds ? killAtFor(round + 1) : '0' });
        let how: string;
        if (round % 2 === 0) {
          const killing = await worker.waitFor('killing', 60_000);
          how = `in the handler of its event ${killing.handled}`;
        } else {
          // From outside: SIGKILL at a random moment after a commit, most likely inside the next transaction.
          const waitMs = 100 + Math.floor(random() * 1400);
          await worker.waitFor('committed', 60_000);
          await sleep(waitMs);
          worker.kill('SIGKILL');
          how = `${waitMs} ms after its first commit`;
        }
        const { signal } = await worker.exited;
        kills.push({ round, how, exit: String(signal), commitsBefore: worker.reported('committed').length });
      }
      const last = next;
      await last.waitFor('loaded', 60_000);
      last.go();
      await last.waitFor('ready', 60_000);
      lastWorker = last;
    } finally {
      await feed.stop();
    }

    // A worker that stopped on an error of its own (not a kill) would hide behind its successor: none may.
    expect(running.flatMap((worker) => worker.reported('failed'))).to.deep.equal([]);
    expect(kills.map((kill) => kill.exit), JSON.stringify(kills)).to.deep.equal(Array(rounds).fill('SIGKILL'));
    // The workers did get work done between kills: the test is not 20 kills of a worker that never committed.
    expect(kills.reduce((sum, kill) => sum + kill.commitsBefore, 0)).to.be.greaterThan(rounds);

    const last = lastWorker!;
    try {
      await caughtUp(admin, writer.topic, model.store(), liveSlot(model.name), 60_000);
      expect(last.reported('failed')).to.deep.equal([]);
      const actual = await model.read();
      const expected = model.expected(feed.written);
      expect(Object.keys(actual.orders).length).to.equal(Object.keys(expected.orders).length);
      expect(actual).to.deep.equal(expected);
    } finally {
      await last.stop();
    }
  });
});
