/**
 * A processor killed with a transaction open must stall only its own
 * partitions. Callers read replies `read_committed`, which stops at the first
 * open transaction of a partition: were replies written inside the processors'
 * transactions, the dead one's open transaction would hold back every reply
 * behind it, the living processors' included, until its partitions are taken
 * over a session timeout later.
 */
import { expect } from 'chai';
import { KafkaCommandBus, partitionForKey } from '@tributary/kafka';
import { kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { Account, Deposit, OpenAccount } from './support/account';
import { WorkerProcess, WorkerReport } from './support/worker-process';

const partitions = 4;
/** Long, so that the dead processor's partitions stay dead for the whole test. */
const sessionTimeoutMs = 60_000;

describe('A processor killed with a transaction open', function () {
  this.timeout(180_000);
  const workers: WorkerProcess[] = [];
  after(() => {
    for (const worker of workers) worker.kill();
  });

  it('stalls only its own partitions: the others answer at once, their replies not held behind its transaction', async () => {
    const app = uniqueName('killed-open');
    const env = { KAFKA_BROKERS: kafkaBrokers().join(','), TRIBUTARY_APP: app, PARTITIONS: String(partitions), SESSION_TIMEOUT_MS: String(sessionTimeoutMs) };
    const accounts = Array.from({ length: partitions }, (_, partition) => {
      for (let candidate = 0; ; candidate += 1) if (partitionForKey(`k-${partition}-${candidate}`, partitions) === partition) return `k-${partition}-${candidate}`;
    });
    const first = new WorkerProcess(env);
    workers.push(first);
    await first.waitFor('ready', 90_000);
    const bus = new KafkaCommandBus({ app, brokers: kafkaBrokers(), partitions, aggregates: [Account], commandTimeoutMs: 120_000 });
    await bus.start();
    try {
      for (const account of accounts) await bus.execute(new OpenAccount(account, 'k'));
      // The second worker dies in its first transaction, after sending its records, before committing.
      const dying = new WorkerProcess({ ...env, KILL_ON: 'processor.transaction-sent', KILL_AT: '1' });
      workers.push(dying);
      const joined = (worker: WorkerProcess) => worker.reported('processor.group-joined').at(-1) as (WorkerReport & { partitions: number[] }) | undefined;
      await dying.waitFor('ready', 90_000);
      await first.waitFor((report) => report.event === 'processor.group-joined' && (report.partitions as number[]).length < partitions, 60_000);
      const doomed = joined(dying)!.partitions;
      const living = joined(first)!.partitions;
      expect(doomed.length).to.be.greaterThan(0);
      expect(living.length).to.be.greaterThan(0);

      // A deposit to one of its partitions opens the transaction it dies in.
      void bus.execute(new Deposit(accounts[doomed[0]], 1)).catch(() => undefined);
      await dying.exited;
      // The living processor's partitions answer, through the same replies partition, long before the dead one's session ends.
      const started = Date.now();
      const answered = await Promise.all(living.map((partition) => bus.execute(new Deposit(accounts[partition], 1), { timeoutMs: sessionTimeoutMs / 2 })));
      expect(answered.map((result) => result.version)).to.deep.equal(living.map(() => 2));
      expect(Date.now() - started, 'answered while the dead processor still held its partitions').to.be.below(sessionTimeoutMs / 2);
    } finally {
      await bus.stop();
    }
  });
});
