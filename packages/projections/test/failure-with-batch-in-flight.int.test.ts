/**
 * A runner that fails while another partition's batch is retrying a store
 * that is down (issue 11). Once `projection.failed` is out, nothing may
 * commit any more: the failure reported is the runner's end. And `stop()`
 * must come back while the store is still down, rather than wait on a retry
 * loop that never ends.
 *
 * The store is a real PostgreSQL store in a schema of the test's own. The
 * batch in flight loses its database connection at every attempt (its backend
 * terminated, as a server restart would); the failure is a real error of the
 * database too: a check constraint that refuses the store's dead letters.
 */
import { expect } from 'chai';
import { PartitionOffset, liveSlot } from '@tributary/core';
import { partitionForKey } from '@tributary/kafka';
import { PostgresWriter } from '@tributary/postgres';
import { ProjectionRunner } from '@tributary/projections';
import { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { createKafka, kafkaBrokers, postgresUrl, uniqueName } from '../../../test-support/integration';
import { caughtUp, eventually } from './support/catch-up';
import { ConnectionCuttingStore } from './support/connection-cutting-store';
import { ShopEventWriter } from './support/event-writer';
import { PgOrderSummary, uniqueIdentifier } from './support/pg-order-summary';
import { handlerBehaviour } from './support/projected-order';
import { ShopEvent, ShopOrder } from './support/shop';

const partitions = 2;
const maxStoreBackoffMs = 1_000;
const sessionTimeoutMs = 10_000;
/**
 * How long stop() may take: the batch in flight gives up at once (at worst it
 * finishes the attempt under way), then the worker leaves its group, which
 * takes a round trip to the broker. A session timeout plus the longest
 * backoff is far more than either.
 */
const stopBoundMs = sessionTimeoutMs + maxStoreBackoffMs;

/** Rejects if `promise` has not settled in `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle in ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Order ids whose events land in `partition`. */
function ordersIn(partition: number, count: number, prefix: string): string[] {
  const ids: string[] = [];
  for (let n = 0; ids.length < count; n += 1) if (partitionForKey(`${prefix}-${n}`, partitions) === partition) ids.push(`${prefix}-${n}`);
  return ids;
}

/** Each order placed, then given two items. */
function ordersWithItems(ids: readonly string[]): ShopEvent[] {
  return ids.flatMap((orderId, index): ShopEvent[] => [
    { orderId, type: 'placed', customerId: `c-${index}` },
    { orderId, type: 'item', sku: 'sku-1', cents: 100 + index },
    { orderId, type: 'item', sku: 'sku-2', cents: 7 },
  ]);
}

describe('ProjectionRunner failing with a batch in flight against a store that is down', function () {
  this.timeout(120_000);
  let kafka: Kafka;
  let admin: Admin;
  let pool: Pool;
  let terminator: Pool;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    kafka = createKafka();
    admin = kafka.admin();
    await admin.connect();
    pool = new Pool({ connectionString: postgresUrl(), max: 6 });
    terminator = new Pool({ connectionString: postgresUrl(), max: 2 });
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  after(async () => {
    await admin?.disconnect();
    await pool?.end();
    await terminator?.end();
  });

  /**
   * Stopped means gone: once stop() resolved, the worker has left its group
   * (its consumer waits for the batch in hand to end before it leaves), so
   * nothing of it is still retrying.
   */
  async function expectLeftGroup(runner: ProjectionRunner<PostgresWriter>): Promise<void> {
    const { groups: [group] } = await admin.describeGroups([runner.groupId]);
    expect(group.members.map((member) => member.clientId), 'members of the group once stop() resolved').to.deep.equal([]);
  }

  /**
   * Projects orders into both partitions; then, in one fetch, a batch for each:
   * every commit of partition 0's loses its connection (the batch in flight,
   * retried), and partition 1's, once partition 0 has been retrying a while,
   * fails the runner. Resolves once `projection.failed` is out.
   */
  async function failWithBatchInFlight(onFailed: (store: ConnectionCuttingStore) => void = () => {}) {
    const schema = uniqueIdentifier('failing');
    await pool.query(`CREATE SCHEMA "${schema}"`);
    cleanups.push(() => pool.query(`DROP SCHEMA "${schema}" CASCADE`).then(() => undefined));
    const model = new PgOrderSummary(pool, uniqueIdentifier('order_summary'), 'order_summary', schema);
    await model.createTable();
    const store = new ConnectionCuttingStore(model.store(), terminator);
    const app = uniqueName('proj-fail-in-flight');
    const writer = new ShopEventWriter(kafka, app, partitions);
    cleanups.push(() => writer.close());
    await writer.createTopic(admin);

    // kafkajs fetches a broker's partitions together and waits for the whole fetch: the two batches must come in one.
    // Partition 1's handler holds its batch until partition 0's has been retried, so the failure meets it in flight.
    const [poisoned] = ordersIn(1, 1, 'poisoned');
    let letFailureHappen!: () => void;
    const failureHeld = new Promise<void>((resolve) => (letFailureHappen = resolve));
    const behaviour = handlerBehaviour({ beforeEvent: (orderId) => (orderId === poisoned ? failureHeld : undefined) });
    const runner = new ProjectionRunner<PostgresWriter>({
      app,
      brokers: kafkaBrokers(),
      partitions,
      aggregates: [ShopOrder],
      projection: model.projection(behaviour),
      store,
      concurrency: partitions,
      batchSize: 100,
      maxStoreBackoffMs,
      sessionTimeoutMs,
      heartbeatIntervalMs: 1_000,
      stopOnSignals: false,
    });
    // Whatever happens, the test must not leave a runner behind: let the store work, then stop it.
    cleanups.push(async () => {
      letFailureHappen();
      store.restore();
      await within(runner.stop(), 60_000, 'stop() at the end of the test');
    });
    const failures: unknown[] = [];
    let offsetsAtFailure: Promise<PartitionOffset[]> | undefined;
    runner.on('projection.failed', ({ error }) => {
      failures.push(error);
      offsetsAtFailure ??= model.store().readOffsets(liveSlot(model.name));
      onFailed(store);
    });
    let retriesOfFirst = 0;
    runner.on('projection.retry', (retry) => (retriesOfFirst += retry.partition === 0 ? 1 : 0));

    const projected = ordersWithItems([...ordersIn(0, 4, 'before'), ...ordersIn(1, 4, 'before')]);
    await writer.write(projected);
    await runner.start();
    await caughtUp(admin, writer.topic, store, liveSlot(model.name));
    const offsetsBefore = await store.readOffsets(liveSlot(model.name));

    store.cut(0);
    // Partition 1 will meet an error it cannot get past: its poison event's dead letter is refused by the database.
    await pool.query(`ALTER TABLE "${schema}".tributary_projection_dead_letters ADD CONSTRAINT refuse_dead_letters CHECK (false) NOT VALID`);
    await writer.write(
      [
        ...ordersWithItems(ordersIn(0, 5, 'in-flight')),
        { orderId: poisoned, type: 'placed', customerId: 'c-poison' },
        { orderId: poisoned, type: 'item', sku: 'sku-9', cents: 9 },
      ],
      (event) => event.orderId === poisoned && event.type === 'item',
    );
    await eventually(() => store.cuts >= 2 && retriesOfFirst >= 2, 30_000, () => `(cuts ${store.cuts}, retries ${retriesOfFirst})`);
    letFailureHappen();
    await eventually(() => failures.length > 0, 30_000, () => `(state ${runner.state})`);
    return { runner, model, store, projected, offsetsBefore, failures, offsetsAtFailure: offsetsAtFailure! };
  }

  it('stops within a bounded time while the store is still down, and nothing of the batch in flight lands, also once the store is back', async () => {
    const { runner, model, store, projected, offsetsBefore, failures, offsetsAtFailure } = await failWithBatchInFlight();

    await within(runner.stop(), stopBoundMs, 'stop() of a failed runner with a batch in flight against a store that is down');
    await expectLeftGroup(runner);
    const cutsAtStop = store.cuts;
    store.restore();

    expect(runner.state).to.equal('failed');
    expect(failures).to.have.length(1);
    expect(runner.error, 'the failure reported stays the failure').to.equal(failures[0]);
    expect((runner.error as { cause?: { code?: string } }).cause?.code).to.equal('23514');
    expect(await offsetsAtFailure).to.deep.equal(offsetsBefore);
    expect(await store.readOffsets(liveSlot(model.name)), 'no offset moved after projection.failed').to.deep.equal(offsetsBefore);
    expect(await model.read(), 'the read model holds only what committed before the failure').to.deep.equal(model.expected(projected));
    expect(store.cuts, 'no attempt after stop()').to.equal(cutsAtStop);
  });

  it('does not commit the batch in flight when the store comes back after the failure', async () => {
    const { runner, model, store, projected, offsetsBefore, failures, offsetsAtFailure } = await failWithBatchInFlight((cutting) => cutting.restore());

    // The store answers again from the moment projection.failed was out; stop() waits for the batch in hand to end.
    await within(runner.stop(), stopBoundMs, 'stop() of a failed runner with a batch in flight');
    await expectLeftGroup(runner);

    expect(runner.state).to.equal('failed');
    expect(failures).to.have.length(1);
    expect(runner.error).to.equal(failures[0]);
    expect(await offsetsAtFailure).to.deep.equal(offsetsBefore);
    expect(await store.readOffsets(liveSlot(model.name)), 'no offset moved after projection.failed').to.deep.equal(offsetsBefore);
    expect(await model.read(), 'the read model holds only what committed before the failure').to.deep.equal(model.expected(projected));
  });
});
