/**
 * Local state on disk (`stateDirectory`): a processor that gets back a partition
 * whose state it persisted, with nothing processed there since, restarts from
 * its files without reading the snapshots topics; when anyone processed a
 * command there since (the state on disk is stale), or the files are unusable,
 * it restores from the topics. Kafka stays the source of truth.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { AggregateNotFoundError } from '@tributary/core';
import { CommandProcessor, KafkaCommandBus, ProcessorEvents, partitionForKey } from '@tributary/kafka';
import { kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { Account, Deposit, InsufficientFundsError, OpenAccount, Withdraw } from './support/account';

type Assigned = ProcessorEvents['processor.partition-assigned'];

describe('Local state on disk (stateDirectory) on a real broker', function () {
  this.timeout(180_000);
  const app = uniqueName('local-state');
  const partitions = 4;
  // Two accounts on each of three partitions; the fourth partition gets none.
  const accounts: string[] = [];
  const byPartition = new Map<number, string[]>();
  for (let index = 0; accounts.length < 6; index += 1) {
    const id = `acc-${index}`;
    const partition = partitionForKey(id, partitions);
    const ids = byPartition.get(partition) ?? [];
    if (partition === 3 || ids.length === 2) continue;
    ids.push(id);
    byPartition.set(partition, ids);
    accounts.push(id);
  }
  const balances = new Map<string, number>();
  let directory: string;
  let bus: KafkaCommandBus;
  const running: CommandProcessor[] = [];

  const options = () => ({ app, brokers: kafkaBrokers(), aggregates: [Account], partitions, sessionTimeoutMs: 3000 });

  /** A started processor, with or without the state directory, and the assignments it reports. */
  async function startProcessor(withDirectory: boolean): Promise<{ processor: CommandProcessor; assigned: Assigned[] }> {
    const processor = new CommandProcessor({ ...options(), ...(withDirectory ? { stateDirectory: directory } : {}) });
    const assigned: Assigned[] = [];
    processor.on('processor.partition-assigned', (payload) => assigned.push(payload));
    running.push(processor);
    await processor.start();
    if (!bus) {
      // The processor creates the topics; the bus only checks them.
      bus = new KafkaCommandBus({ ...options(), domainErrors: [InsufficientFundsError] });
      await bus.start();
    }
    return { processor, assigned };
  }

  async function stopProcessor(processor: CommandProcessor): Promise<void> {
    await processor.stop();
    running.splice(running.indexOf(processor), 1);
  }

  /** Loads every account and checks it against the balances the test expects. */
  async function expectBalances(): Promise<void> {
    for (const id of accounts) {
      if (!balances.has(id)) {
        expect(await bus.load(Account, id).catch((error: unknown) => error), id).to.be.instanceOf(AggregateNotFoundError);
        continue;
      }
      const account = await bus.load(Account, id);
      expect({ id: account.id, balance: account.balance }).to.deep.equal({ id, balance: balances.get(id) });
    }
  }

  const sources = (assigned: Assigned[]) => Object.fromEntries(assigned.map((event) => [event.partition, event.source]));

  before(async () => {
    directory = fs.mkdtempSync(join(tmpdir(), 'tributary-local-state-'));
  });

  after(async () => {
    await bus?.stop();
    for (const processor of [...running]) await processor.stop();
    if (directory) fs.rmSync(directory, { recursive: true, force: true });
  });

  it('restarts from the state it persisted, without reading the snapshots topics', async () => {
    const first = await startProcessor(true);
    for (const [index, id] of accounts.entries()) {
      await bus.execute(new OpenAccount(id, `owner-${index}`));
      await bus.execute(new Deposit(id, 100 + index));
      await bus.execute(new Withdraw(id, index));
      balances.set(id, 100);
    }
    expect(sources(first.assigned)).to.deep.equal({ 0: 'topics', 1: 'topics', 2: 'topics' });
    await stopProcessor(first.processor);
    for (const partition of byPartition.keys()) {
      expect(fs.existsSync(join(directory, app, String(partition), 'checkpoint.json')), `partition ${partition} persisted`).to.equal(true);
    }

    const second = await startProcessor(true);
    await expectBalances();
    // Partition 3 had nothing persisted (and nothing in Kafka either).
    const nobody = Array.from({ length: 100 }, (_, index) => `nobody-${index}`).find((id) => partitionForKey(id, partitions) === 3)!;
    expect(await bus.load(Account, nobody).catch((error: unknown) => error)).to.be.instanceOf(AggregateNotFoundError);
    expect(sources(second.assigned)).to.deep.equal({ 0: 'local', 1: 'local', 2: 'local', 3: 'topics' });
    for (const event of second.assigned.filter((e) => e.source === 'local')) {
      expect(event.aggregates, `partition ${event.partition}`).to.equal(byPartition.get(event.partition)!.length);
    }

    // It goes on deciding on that state, and persists as it goes.
    const [id] = byPartition.get(0)!;
    const deposited = await bus.execute(new Deposit(id, 5));
    expect(deposited.version).to.equal(4);
    balances.set(id, 105);
    await stopProcessor(second.processor);

    const third = await startProcessor(true);
    await expectBalances();
    expect(sources(third.assigned)).to.deep.equal({ 0: 'local', 1: 'local', 2: 'local' });
    await stopProcessor(third.processor);
  });

  it('restores from the topics, not from stale files, when another processor changed the partition since', async () => {
    // B has no state directory and changes partitions 0 and 1; partition 2 it leaves alone.
    const other = await startProcessor(false);
    const [changed, erased] = byPartition.get(0)!;
    await bus.execute(new Withdraw(changed, 60));
    balances.set(changed, balances.get(changed)! - 60);
    await bus.eraseAggregate(Account, erased);
    balances.delete(erased);
    const [moved] = byPartition.get(1)!;
    await bus.execute(new Deposit(moved, 1000));
    balances.set(moved, balances.get(moved)! + 1000);
    expect(sources(other.assigned)).to.deep.equal({ 0: 'topics', 1: 'topics' });
    await stopProcessor(other.processor);

    const back = await startProcessor(true);
    await expectBalances();
    expect(sources(back.assigned)).to.deep.equal({ 0: 'topics', 1: 'topics', 2: 'local' });
    expect(back.assigned.find((event) => event.partition === 0)!.aggregates).to.equal(1);
    // A command decided on the restored state, not on the stale one.
    const refused = await bus.execute(new Withdraw(changed, 50)).catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(InsufficientFundsError).and.include({ balance: balances.get(changed) });
    await stopProcessor(back.processor);

    // What it restored from the topics is persisted in turn.
    const again = await startProcessor(true);
    await expectBalances();
    expect(sources(again.assigned)).to.deep.equal({ 0: 'local', 1: 'local', 2: 'local' });
    await stopProcessor(again.processor);
  });

  it('restores from the topics when the persisted files are unusable', async () => {
    const partitionDirectory = join(directory, app, '2');
    const log = fs.readdirSync(partitionDirectory).find((name) => name.endsWith('.jsonl'))!;
    const text = fs.readFileSync(join(partitionDirectory, log), 'utf8');
    fs.writeFileSync(join(partitionDirectory, log), text.replace(/"balance":100/g, '"balance":999'));

    const restarted = await startProcessor(true);
    await expectBalances();
    expect(sources(restarted.assigned)).to.deep.equal({ 0: 'local', 1: 'local', 2: 'topics' });
    await stopProcessor(restarted.processor);
  });
});
