/**
 * A processor frozen (SIGSTOP) past its session timeout loses its partitions;
 * another takes them and fences its producers. When it resumes it rejoins the
 * group, often to be handed some of the same partitions back, while it still
 * holds their old state and fenced producers. It must notice and take them over
 * anew by itself: commands to every partition succeed within the session
 * timeout plus 10 s of the resume, every time, with no other rebalance to help.
 */
import { expect } from 'chai';
import { KafkaCommandBus, partitionForKey } from '@tributary/kafka';
import { kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { Account, Deposit, OpenAccount } from './support/account';
import { WorkerProcess, WorkerReport } from './support/worker-process';

const partitions = 4;
const sessionTimeoutMs = 3000;
/** What the issue allows: commands answer within the session timeout plus 10 s of the resume. */
const deadlineMs = sessionTimeoutMs + 10_000;
const episodesWanted = 10;

/** One account id per partition, so a command to each reaches every partition. */
function accountPerPartition(): string[] {
  const ids: string[] = [];
  for (let candidate = 0; ids.length < partitions; candidate += 1) {
    const id = `frozen-${candidate}`;
    if (partitionForKey(id, partitions) === ids.length) ids.push(id);
  }
  return ids;
}

describe('A processor frozen past its session timeout', function () {
  // Episodes are retried until the frozen processor gets partitions back; bounded below.
  this.timeout(900_000);
  const workers: WorkerProcess[] = [];
  after(() => {
    for (const worker of workers) {
      worker.kill('SIGCONT');
      worker.kill();
    }
  });

  /** The partitions a worker's latest group join gave it, waiting for a join after `after` joins. */
  async function joined(worker: WorkerProcess, after: number): Promise<WorkerReport & { partitions: number[]; rejoined: boolean }> {
    const report = await worker.waitFor((seen) => seen.event === 'processor.group-joined' && (seen.occurrence as number) > after, 60_000);
    return report as WorkerReport & { partitions: number[]; rejoined: boolean };
  }
  const joins = (worker: WorkerProcess) => worker.reported('processor.group-joined').length;

  it(`gets its partitions back and answers on every partition within the session timeout + 10 s, ${episodesWanted} times`, async () => {
    const app = uniqueName('frozen');
    const env = { KAFKA_BROKERS: kafkaBrokers().join(','), TRIBUTARY_APP: app, PARTITIONS: String(partitions), SESSION_TIMEOUT_MS: String(sessionTimeoutMs) };
    const frozen = new WorkerProcess(env);
    workers.push(frozen);
    await frozen.waitFor('ready', 90_000);
    const other = new WorkerProcess(env);
    workers.push(other);
    await other.waitFor('ready', 90_000);
    const bus = new KafkaCommandBus({ app, brokers: kafkaBrokers(), partitions, aggregates: [Account], commandTimeoutMs: deadlineMs });
    await bus.start();
    const accounts = accountPerPartition();
    let expectedBalance = 0;
    const depositEverywhere = async () => {
      expectedBalance += 1;
      const started = Date.now();
      await Promise.all(accounts.map((account) => bus.execute(new Deposit(account, 1))));
      return Date.now() - started;
    };
    try {
      for (const account of accounts) await bus.execute(new OpenAccount(account, 'frozen-test'));
      let episodes = 0;
      let attempts = 0;
      const answeredWithinMs: number[] = [];
      while (episodes < episodesWanted) {
        attempts += 1;
        expect(attempts, `only ${episodes} of ${attempts - 1} freezes handed the frozen processor a partition back`).to.be.at.most(episodesWanted * 4);
        const frozenJoins = joins(frozen);
        const otherJoins = joins(other);
        const held = frozen.reported('processor.group-joined').at(-1)?.partitions as number[] | undefined;
        frozen.kill('SIGSTOP');
        // Past the session timeout the group drops it; the other processor gets every partition…
        for (let seen = otherJoins; ; seen += 1) {
          // A join of a first round of rebalancing may still leave it only its own; wait for the one with every partition.
          if ((await joined(other, seen)).partitions.length === partitions) break;
        }
        // …and takes them over at their first command, fencing the frozen processor's producers.
        await depositEverywhere();
        frozen.kill('SIGCONT');
        const back = await joined(frozen, frozenJoins);
        expect(back.rejoined, 'the frozen processor rejoined under a new member id').to.equal(true);
        // Commands must be answered on every partition, whoever owns it now, within the deadline.
        answeredWithinMs.push(await depositEverywhere());
        if ((held ?? []).some((partition) => back.partitions.includes(partition))) episodes += 1;
      }
      for (const account of accounts) expect(await bus.load(Account, account)).to.include({ balance: expectedBalance });
      console.log(`      ${episodes} episodes in ${attempts} freezes; answered on every partition after the resume within ${JSON.stringify(answeredWithinMs)} ms`);
    } finally {
      await bus.stop();
    }
  });
});
