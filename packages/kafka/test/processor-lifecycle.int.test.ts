/**
 * A processor's life at its edges, in real child processes: a start that
 * fails leaves nothing open behind it (the process can exit), and SIGTERM makes
 * it leave its group at once, so its partitions move without waiting out the
 * session timeout.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { TopicLayout } from '@tributary/kafka';
import { createKafka, createTopic, kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { WorkerProcess as ChildWorker } from '../../../test-support/worker-process';
import { WorkerProcess } from './support/worker-process';

describe('Command processor lifecycle (child processes)', function () {
  this.timeout(120_000);
  const workers: ChildWorker[] = [];
  afterEach(() => {
    for (const worker of workers.splice(0)) worker.kill();
  });

  for (const failAt of ['provision', 'prepare']) {
    it(`closes every client it opened when start fails at ${failAt}, so the process can end`, async () => {
      const app = uniqueName(`failed-start-${failAt}`);
      if (failAt === 'provision') {
        // The processor wants 3 partitions; a commands topic with 1 fails provisioning.
        const admin = createKafka().admin();
        await admin.connect();
        await createTopic(admin, new TopicLayout({ app, partitions: 3 }).commands, { partitions: 1 });
        await admin.disconnect();
      }
      const worker = new ChildWorker(join(__dirname, 'support', 'failed-start-worker.ts'), { KAFKA_BROKERS: kafkaBrokers().join(','), TRIBUTARY_APP: app, FAIL_AT: failAt });
      workers.push(worker);
      const failed = await worker.waitFor('start-failed', 60_000);
      if (failAt === 'provision') expect(failed.code).to.equal('PARTITION_COUNT_MISMATCH');
      else expect(failed.message).to.include('refuses to start');
      // Nothing but a leaked Kafka client could keep it alive now; kafkajs clients hold sockets and timers.
      const exited = await Promise.race([worker.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 30_000))]);
      expect(exited, 'the process should end on its own once start() has failed').to.not.equal('still running');
    });
  }

  for (const application of ['installs no handler', 'stops it too, then exits']) {
    it(`leaves its group on SIGTERM when the application ${application}, so another processor gets its partitions long before the session timeout`, async () => {
      const app = uniqueName('sigterm');
      // A session timeout far longer than the test waits: only a graceful leave can move the partitions in time.
      const env = { KAFKA_BROKERS: kafkaBrokers().join(','), TRIBUTARY_APP: app, PARTITIONS: '4', SESSION_TIMEOUT_MS: '90000' };
      const ownHandler = application !== 'installs no handler';
      const leaving = new WorkerProcess({ ...env, APP_STOPS_ON_SIGTERM: ownHandler ? '1' : '0' });
      workers.push(leaving);
      await leaving.waitFor('ready', 90_000);
      const staying = new WorkerProcess(env);
      workers.push(staying);
      await staying.waitFor('ready', 90_000);
      const joinsBefore = staying.reported('processor.group-joined').length;
      leaving.kill('SIGTERM');
      // Without a handler of the application's, the signal takes its default course after the graceful stop.
      expect(await leaving.exited).to.deep.equal(ownHandler ? { code: 0, signal: null } : { code: null, signal: 'SIGTERM' });
      const joined = await staying.waitFor(
        (report) => report.event === 'processor.group-joined' && (report.occurrence as number) > joinsBefore && (report.partitions as number[]).length === 4,
        45_000,
      );
      expect(joined.partitions).to.deep.equal([0, 1, 2, 3]);
    });
  }
});
