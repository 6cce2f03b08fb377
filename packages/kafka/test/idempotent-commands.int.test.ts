/**
 * Commands sent again with the same id are decided once: after a timeout whose
 * command had in fact landed, after a processor crash between the commit and
 * the caller reading its reply, twice in one batch. Each test counts the events
 * in the topic, the only witness that cannot be fooled by a cached answer.
 */
import { expect } from 'chai';
import { CommandIdConflictError, CommandOutcome } from '@tributary/core';
import { CommandProcessor, CommandTimeoutError, HEADER, KafkaCommandBus, readHeader } from '@tributary/kafka';
import { KafkaMessage } from 'kafkajs';
import { kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { eventsOf as eventsOfAggregate, recordsOf as recordsOfAggregate } from './support/aggregate-records';
import { Account, Deposit, InsufficientFundsError, OpenAccount } from './support/account';
import { WorkerProcess } from './support/worker-process';
import { Credit, OpenWallet, Spend, Wallet, WalletEmptyError } from './support/wallet';

const partitions = 2;

const eventsOf = (topic: string, aggregateId: string) => eventsOfAggregate(topic, partitions, aggregateId);
const recordsOf = (topic: string, aggregateId: string, accept: (message: KafkaMessage) => boolean) => recordsOfAggregate(topic, partitions, aggregateId, accept);
const causedBy = (records: KafkaMessage[], commandId: string) => records.filter((record) => readHeader(record.headers, HEADER.causationId) === commandId);

describe('Idempotent commands on a real broker', function () {
  this.timeout(180_000);

  describe('with a processor in this process', () => {
    let processor: CommandProcessor;
    let bus: KafkaCommandBus;

    before(async () => {
      // Built here, not when the file loads: the services' addresses are set by then.
      const options = { app: uniqueName('idempotent'), brokers: kafkaBrokers(), partitions, aggregates: [Wallet] };
      processor = new CommandProcessor({ ...options, stopOnSignals: false, decidedCommandsPerAggregate: 4 });
      await processor.start();
      bus = new KafkaCommandBus({ ...options, domainErrors: [WalletEmptyError] });
      await bus.start();
    });

    after(async () => {
      await bus?.stop();
      await processor?.stop();
    });

    it('applies a command sent twice with one id once, and answers the repeat with the first decision', async () => {
      await bus.execute(new OpenWallet('w-once'));
      const first = await bus.execute(new Credit('w-once', 10), { commandId: 'credit-1' });
      const again = await bus.execute(new Credit('w-once', 10), { commandId: 'credit-1' });
      expect(first).to.include({ version: 2 });
      expect(first.deduplicated).to.equal(undefined);
      expect(again).to.include({ version: 2, deduplicated: true });
      expect(again.events).to.deep.equal([]);
      expect(await bus.load(Wallet, 'w-once')).to.include({ balance: 10, version: 2 });
      expect(causedBy(await eventsOf(processor.layout.events('Wallet'), 'w-once'), 'credit-1')).to.have.length(1);
    });

    it('refuses the same id with another command, and applies nothing of it', async () => {
      await bus.execute(new OpenWallet('w-reused'));
      await bus.execute(new Credit('w-reused', 10), { commandId: 'credit-reused' });
      const reused = await bus.execute(new Credit('w-reused', 99), { commandId: 'credit-reused' }).catch((error: unknown) => error);
      expect(reused).to.be.instanceOf(CommandIdConflictError).and.include({ code: 'COMMAND_ID_CONFLICT', commandId: 'credit-reused' });
      expect(await bus.load(Wallet, 'w-reused')).to.include({ balance: 10, version: 2 });
      expect(await bus.execute(new Credit('w-reused', 10), { commandId: 'credit-reused' })).to.include({ version: 2, deduplicated: true });
    });

    it('applies once when both copies arrive in one batch', async () => {
      await bus.execute(new OpenWallet('w-batch'));
      const results = await Promise.all([1, 2, 3].map(() => bus.execute(new Credit('w-batch', 5), { commandId: 'credit-batch' })));
      expect(results.map((result) => result.version)).to.deep.equal([2, 2, 2]);
      expect(results.filter((result) => result.deduplicated)).to.have.length.at.most(2);
      expect(await bus.load(Wallet, 'w-batch')).to.include({ balance: 5, version: 2 });
      expect(causedBy(await eventsOf(processor.layout.events('Wallet'), 'w-batch'), 'credit-batch')).to.have.length(1);
    });

    it('repeats a refusal even when the aggregate has changed so that the command would now pass', async () => {
      await bus.execute(new OpenWallet('w-refused'));
      const refused = await bus.execute(new Spend('w-refused', 3), { commandId: 'spend-1' }).catch((error: unknown) => error);
      expect(refused).to.be.instanceOf(WalletEmptyError);
      await bus.execute(new Credit('w-refused', 10));
      const repeated = await bus.execute(new Spend('w-refused', 3), { commandId: 'spend-1' }).catch((error: unknown) => error);
      expect(repeated).to.be.instanceOf(WalletEmptyError).and.include({ code: 'WALLET_EMPTY', balance: 0 });
      expect(await bus.load(Wallet, 'w-refused')).to.include({ balance: 10, version: 2 });
      // A refusal on an aggregate that does not exist is kept too, and the aggregate still does not exist.
      const missing = await bus.execute(new Credit('w-nobody', 1), { commandId: 'credit-nobody' }).catch((error: unknown) => error);
      expect((missing as Error).name).to.equal('AggregateNotFoundError');
      expect((await bus.outcome('credit-nobody', Wallet, 'w-nobody')).status).to.equal('failed');
      expect(await bus.load(Wallet, 'w-nobody').catch((error: unknown) => (error as Error).name)).to.equal('AggregateNotFoundError');
    });

    it('answers what became of a command id, and forgets it after decidedCommandsPerAggregate others', async () => {
      await bus.execute(new OpenWallet('w-outcome'), { commandId: 'open-outcome' });
      await bus.execute(new Spend('w-outcome', 1), { commandId: 'spend-outcome' }).catch(() => undefined);
      const succeeded = await bus.outcome('open-outcome', Wallet, 'w-outcome');
      expect(succeeded).to.deep.include({ status: 'succeeded', commandId: 'open-outcome', aggregateType: 'Wallet', aggregateId: 'w-outcome', version: 1, eventCount: 1 });
      const failed = (await bus.outcome('spend-outcome', Wallet, 'w-outcome')) as Extract<CommandOutcome, { status: 'failed' }>;
      expect(failed.status).to.equal('failed');
      expect(failed.error).to.be.instanceOf(WalletEmptyError);
      expect((await bus.outcome('never-sent', Wallet, 'w-outcome')).status).to.equal('unknown');
      // This processor keeps 4 decisions per aggregate: four more push 'open-outcome' out.
      for (let index = 0; index < 4; index += 1) await bus.execute(new Credit('w-outcome', 1));
      expect((await bus.outcome('open-outcome', Wallet, 'w-outcome')).status).to.equal('unknown');
      expect((await bus.outcome('spend-outcome', Wallet, 'w-outcome')).status).to.equal('unknown');
    });
  });

  describe('with a processor in a child process', () => {
    const workers: WorkerProcess[] = [];
    afterEach(() => {
      for (const worker of workers.splice(0)) worker.kill();
    });

    async function startWorker(app: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
      const worker = new WorkerProcess({ KAFKA_BROKERS: kafkaBrokers().join(','), TRIBUTARY_APP: app, PARTITIONS: String(partitions), SESSION_TIMEOUT_MS: '3000', ...env });
      workers.push(worker);
      await worker.waitFor('ready', 90_000);
      return worker;
    }

    /** A worker that freezes for 3 s before committing its second transaction (an account's first deposit), as a long GC pause would. */
    async function slowDeposit(): Promise<{ app: string; bus: KafkaCommandBus }> {
      const app = uniqueName('idempotent-timeout');
      await startWorker(app, { BLOCK_ON: 'processor.transaction-sent', BLOCK_AT: '2', BLOCK_MS: '3000' });
      const bus = new KafkaCommandBus({ app, brokers: kafkaBrokers(), partitions, aggregates: [Account], domainErrors: [InsufficientFundsError] });
      await bus.start();
      await bus.execute(new OpenAccount('a-1', 'ada'));
      return { app, bus };
    }

    it('applies once a command sent again by hand after a timeout whose first attempt had landed', async () => {
      const { app, bus } = await slowDeposit();
      try {
        const timedOut = await bus.execute(new Deposit('a-1', 50), { commandId: 'deposit-1', timeoutMs: 500 }).catch((error: unknown) => error);
        expect(timedOut).to.be.instanceOf(CommandTimeoutError).and.include({ retriable: true });
        const retried = await bus.execute(new Deposit('a-1', 50), { commandId: 'deposit-1' });
        expect(retried.version).to.equal(2);
        // A third copy after the dust settled is answered from the kept decision.
        expect(await bus.execute(new Deposit('a-1', 50), { commandId: 'deposit-1' })).to.include({ version: 2, deduplicated: true });
        expect(await bus.load(Account, 'a-1')).to.include({ balance: 50, version: 2 });
        const records = await eventsOf(`${app}.Account.events`, 'a-1');
        expect(causedBy(records, 'deposit-1')).to.have.length(1);
        expect(records.map((record) => readHeader(record.headers, HEADER.sequence))).to.deep.equal(['1', '2']);
      } finally {
        await bus.stop();
      }
    });

    it('applies once a command the bus retried by itself after timeouts', async () => {
      const { app, bus } = await slowDeposit();
      try {
        const result = await bus.execute(new Deposit('a-1', 25), { commandId: 'deposit-2', timeoutMs: 400, retry: { retries: 30, initialDelayMs: 50, maxDelayMs: 200 } });
        expect(result.version).to.equal(2);
        // Whatever attempts are still queued are decided as repeats; a load comes after all of them.
        expect(await bus.load(Account, 'a-1')).to.include({ balance: 25, version: 2 });
        expect(causedBy(await eventsOf(`${app}.Account.events`, 'a-1'), 'deposit-2')).to.have.length(1);
        // The bus did send the deposit more than once: the dedupe, not luck, kept it single.
        const sent = await recordsOf(`${app}.commands`, 'a-1', (record) => readHeader(record.headers, HEADER.commandId) === 'deposit-2');
        expect(sent.length).to.be.at.least(2);
      } finally {
        await bus.stop();
      }
    });

    it('applies once a command sent again after its processor died between commit and reply', async () => {
      const app = uniqueName('idempotent-crash');
      // The first worker kills itself right after committing the deposit, before it updates its state.
      const first = await startWorker(app, { KILL_ON: 'processor.transaction-committed', KILL_AT: '2' });
      const client = new KafkaCommandBus({ app, brokers: kafkaBrokers(), partitions, aggregates: [Account], domainErrors: [InsufficientFundsError] });
      await client.start();
      try {
        await client.execute(new OpenAccount('a-2', 'grace'));
        // The caller crashes too before reading the reply: its deposit is simply never awaited.
        void client.execute(new Deposit('a-2', 40), { commandId: 'deposit-crash', timeoutMs: 60_000 }).catch(() => undefined);
        await first.exited;
      } finally {
        await client.stop();
      }
      await startWorker(app);
      // A new caller sends the same command again, with the same id, to the new owner.
      const again = new KafkaCommandBus({ app, brokers: kafkaBrokers(), partitions, aggregates: [Account] });
      await again.start();
      try {
        const result = await again.execute(new Deposit('a-2', 40), { commandId: 'deposit-crash' });
        expect(result).to.include({ version: 2, deduplicated: true });
        expect(await again.load(Account, 'a-2')).to.include({ balance: 40, version: 2 });
        expect((await again.outcome('deposit-crash', Account, 'a-2')).status).to.equal('succeeded');
        expect(causedBy(await eventsOf(`${app}.Account.events`, 'a-2'), 'deposit-crash')).to.have.length(1);
      } finally {
        await again.stop();
      }
    });
  });
});
