/**
 * A projection worker asked to end by its process manager (issue 11): the
 * runner stops on SIGTERM by itself (option stopOnSignals, on by default), so
 * the worker leaves its consumer group before the process ends and its
 * partitions are free at once, instead of after the session timeout. The
 * worker is a real child process that only starts a runner; SIGTERM comes
 * from outside, as systemd or Kubernetes send it.
 */
import { expect } from 'chai';
import { liveSlot } from '@tributary/core';
import { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { createKafka, kafkaBrokers, postgresUrl, uniqueName } from '../../../test-support/integration';
import { caughtUp } from './support/catch-up';
import { ShopEventWriter } from './support/event-writer';
import { PgOrderSummary } from './support/pg-order-summary';
import { ProjectionWorkerProcess } from './support/projection-worker-process';
import { shopEvents } from './support/shop';

const partitions = 3;
/** Long on purpose: a worker that left its group frees its partitions in far less; one that did not, only after this. */
const sessionTimeoutMs = 30_000;

describe('A projection worker on SIGTERM', function () {
  this.timeout(120_000);
  let kafka: Kafka;
  let admin: Admin;
  let pool: Pool;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    kafka = createKafka();
    admin = kafka.admin();
    await admin.connect();
    pool = new Pool({ connectionString: postgresUrl(), max: 4 });
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await admin?.disconnect();
    await pool?.end();
  });

  it('leaves its consumer group, then exits by the signal, well before the session timeout', async () => {
    const model = new PgOrderSummary(pool);
    await model.createTable();
    cleanups.push(() => model.drop());
    const app = uniqueName('proj-sigterm');
    const writer = new ShopEventWriter(kafka, app, partitions);
    cleanups.push(() => writer.close());
    await writer.createTopic(admin);
    await writer.write(shopEvents(5, 300, 30));

    const worker = new ProjectionWorkerProcess({
      KAFKA_BROKERS: kafkaBrokers().join(','),
      TRIBUTARY_APP: app,
      PARTITIONS: String(partitions),
      DATABASE_URL: postgresUrl(),
      PROJECTION: model.name,
      TABLE: model.table,
      SESSION_TIMEOUT_MS: String(sessionTimeoutMs),
      HEARTBEAT_INTERVAL_MS: '1000',
      RUNNER_STOPS_ON_SIGNALS: '1',
    });
    cleanups.push(async () => {
      worker.kill();
      await worker.exited;
    });
    await worker.waitFor('ready');
    await caughtUp(admin, writer.topic, model.store(), liveSlot(model.name));
    const groupId = `${app}.projection.${model.name}`;
    const membersOf = async () => (await admin.describeGroups([groupId])).groups[0].members.map((member) => member.memberId);
    expect(await membersOf()).to.have.length(1);

    const signalledAt = Date.now();
    worker.kill('SIGTERM');
    const exit = await worker.exited;
    const exitedAfterMs = Date.now() - signalledAt;
    // Right after the exit: a member that did not leave would stay in the group until its session timed out.
    const members = await membersOf();

    expect(members, 'members of the group once the worker exited').to.deep.equal([]);
    expect(exit, 'the process ends by the signal, once the runner stopped').to.deep.equal({ code: null, signal: 'SIGTERM' });
    expect(exitedAfterMs).to.be.below(sessionTimeoutMs / 2);
    expect(worker.reported('failed')).to.deep.equal([]);
  });
});
