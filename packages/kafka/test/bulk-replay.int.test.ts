/**
 * BulkReplay on the real broker: events written by command processors replay to
 * the states the processors hold; aborted transactions never show; a replay
 * resumes from the offsets of a previous one; progress is reported; and a
 * record that cannot be decoded stops the replay naming where it is.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { AggregateNotFoundError, EventSequenceError, MalformedPayloadError } from '@tributary/core';
import { BulkReplay, BulkReplayResult, CommandProcessor, HEADER, KafkaCommandBus, ReplayEvents, TopicLayout, partitionForKey } from '@tributary/kafka';
import { IHeaders, Message, Producer } from 'kafkajs';
import { createKafka, createTopic, kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { Account, Deposit, InsufficientFundsError, OpenAccount, Withdraw } from './support/account';

/** Listens to every replay event, keeping them in order. */
function record(replay: BulkReplay) {
  const seen = {
    started: [] as ReplayEvents['replay.started'][],
    progress: [] as ReplayEvents['replay.progress'][],
    finished: [] as ReplayEvents['replay.finished'][],
  };
  replay.on('replay.started', (payload) => seen.started.push(payload));
  replay.on('replay.progress', (payload) => seen.progress.push(payload));
  replay.on('replay.finished', (payload) => seen.finished.push(payload));
  return seen;
}

function states(result: BulkReplayResult): Record<string, { owner: string; balance: number; version: number }> {
  const out: Record<string, { owner: string; balance: number; version: number }> = {};
  for (const [id, account] of result.aggregates.get('Account') ?? []) {
    const { owner, balance, version } = account as Account;
    out[id] = { owner, balance, version };
  }
  return out;
}

/** The headers a command processor writes with an Account event. */
function eventHeaders(type: string, aggregateId: string, sequence: number): IHeaders {
  return {
    [HEADER.eventId]: randomUUID(),
    [HEADER.type]: `KafkaTest.${type}`,
    [HEADER.schemaVersion]: '1',
    [HEADER.aggregateType]: 'Account',
    [HEADER.aggregateId]: aggregateId,
    [HEADER.sequence]: String(sequence),
    [HEADER.occurredAt]: new Date().toISOString(),
    [HEADER.correlationId]: randomUUID(),
    [HEADER.causationId]: randomUUID(),
    [HEADER.contentType]: 'application/json',
  };
}

describe('BulkReplay on a real broker', function () {
  this.timeout(120_000);

  describe('of events written by command processors', () => {
    const app = uniqueName('replay');
    const partitions = 3;
    const connection = () => ({ app, brokers: kafkaBrokers(), aggregates: [Account], partitions });
    const processors: CommandProcessor[] = [];
    let bus: KafkaCommandBus;
    const ids = Array.from({ length: 24 }, (_, index) => `acc-${index}`);
    let written = 0;

    /** Each account: opened, then deposits and withdrawals; accounts run side by side. */
    async function workload(rounds: number, seed: number): Promise<void> {
      await Promise.all(
        ids.map(async (id, index) => {
          for (let round = 0; round < rounds; round += 1) {
            await bus.execute(new Deposit(id, (index + round + seed) % 7 + 1));
            written += 1;
            if ((round + index) % 3 === 0) {
              await bus.execute(new Withdraw(id, 1));
              written += 1;
            }
          }
        }),
      );
    }

    before(async () => {
      // Two processors share the partitions: the events of each come from both.
      for (let index = 0; index < 2; index += 1) {
        const processor = new CommandProcessor(connection());
        await processor.start();
        processors.push(processor);
      }
      bus = new KafkaCommandBus({ ...connection(), domainErrors: [InsufficientFundsError] });
      await bus.start();
      await Promise.all(ids.map((id) => bus.execute(new OpenAccount(id, `owner of ${id}`))));
      written += ids.length;
      await workload(4, 0);
      // Erased: its tombstones follow its events, and the replay drops it.
      await bus.execute(new OpenAccount('erased', 'nobody'));
      await bus.execute(new Deposit('erased', 3));
      await bus.eraseAggregate(Account, 'erased');
    });

    after(async () => {
      await bus?.stop();
      for (const processor of processors) await processor.stop();
    });

    it('rebuilds every aggregate to the state the processors hold, over every partition', async () => {
      const replay = new BulkReplay({ ...connection(), progressIntervalMs: 0 });
      const seen = record(replay);
      const result = await replay.run();

      expect(result.events).to.equal(written + 2);
      // Events plus the erased account's two tombstones.
      expect(result.records).to.equal(written + 4);
      expect(result.aggregates.get('Account')!.size).to.equal(ids.length);
      for (const id of ids) {
        const loaded = await bus.load(Account, id);
        const replayed = result.get(Account, id)!;
        expect(replayed, id).to.be.instanceOf(Account);
        expect({ ...replayed }, id).to.deep.equal({ ...loaded });
        expect(replayed.version, id).to.equal(loaded.version);
      }
      expect(result.get(Account, 'erased')).to.equal(undefined);
      expect(await bus.load(Account, 'erased').catch((e: unknown) => e)).to.be.instanceOf(AggregateNotFoundError);
      const used = new Set(ids.map((id) => partitionForKey(id, partitions)));
      expect(used.size, 'the accounts cover every partition').to.equal(partitions);

      expect(seen.started).to.have.length(1);
      expect(seen.started[0].partitions).to.equal(partitions);
      expect(seen.started[0].topics).to.deep.equal([processors[0].layout.events('Account')]);
      // Markers take offsets too: the total is an upper bound.
      expect(seen.started[0].totalRecords).to.be.at.least(result.records);
      expect(seen.progress.length).to.be.at.least(2);
      const last = seen.progress[seen.progress.length - 1];
      expect(last).to.include({ records: result.records, events: result.events, remaining: 0, etaMs: 0 });
      for (let index = 1; index < seen.progress.length; index += 1) {
        expect(seen.progress[index].records).to.be.at.least(seen.progress[index - 1].records);
        expect(seen.progress[index].remaining).to.be.at.most(seen.progress[index - 1].remaining);
      }
      expect(seen.finished).to.deep.equal([
        { records: result.records, events: result.events, aggregates: ids.length, elapsedMs: result.elapsedMs, eventsPerSecond: result.eventsPerSecond },
      ]);
    });

    it('resumes from a previous replay’s offsets, applying only what came since', async () => {
      const first = await new BulkReplay(connection()).run();
      const before = written;
      await workload(2, 5);
      const since = written - before;

      const resumed = await new BulkReplay({ ...connection(), fromOffsets: first.nextOffsets, initialAggregates: first.aggregates }).run();
      expect(resumed.events).to.equal(since);
      const full = await new BulkReplay(connection()).run();
      expect(full.events).to.equal(written + 2);
      expect(states(resumed)).to.deep.equal(states(full));
      for (const id of ids.slice(0, 4)) expect(states(full)[id].version).to.equal((await bus.load(Account, id)).version);

      // Without the aggregates those offsets stand for, the sequence check refuses to start mid-history.
      const error = await new BulkReplay({ ...connection(), fromOffsets: first.nextOffsets }).run().catch((e: unknown) => e);
      expect(error).to.be.instanceOf(EventSequenceError);
    });

    it('rejects unknown instrumentation events', () => {
      expect(() => new BulkReplay(connection()).on('replay.nope' as never, () => undefined)).to.throw(/Unknown instrumentation event 'replay.nope'/);
    });
  });

  describe('of a topic with aborted transactions', () => {
    const app = uniqueName('replay-aborted');
    const partitions = 2;
    const layout = new TopicLayout({ app, partitions });
    const topic = layout.events('Account');
    let producer: Producer;
    // Two accounts on different partitions, so every partition has aborted transactions.
    const [a, b] = (() => {
      const found: string[] = [];
      for (let index = 0; found.length < 2; index += 1) {
        const id = `acct-${index}`;
        if (found.length === 0 || partitionForKey(id, partitions) !== partitionForKey(found[0], partitions)) found.push(id);
      }
      return found;
    })();

    const event = (id: string, sequence: number, type: string, payload: object): Message & { partition: number } => ({
      key: `${id}:${sequence}`,
      partition: partitionForKey(id, partitions),
      value: JSON.stringify(payload),
      headers: eventHeaders(type, id, sequence),
    });

    async function transaction(outcome: 'commit' | 'abort', messages: Array<Message & { partition: number }>): Promise<void> {
      const transaction = await producer.transaction();
      for (const message of messages) await transaction.send({ topic, messages: [message] });
      await (outcome === 'commit' ? transaction.commit() : transaction.abort());
    }

    before(async () => {
      const kafka = createKafka('replay-aborted');
      const admin = kafka.admin();
      await admin.connect();
      await createTopic(admin, topic, { partitions, config: { 'cleanup.policy': 'compact' } });
      await admin.disconnect();
      producer = kafka.producer({ transactionalId: uniqueName('replay-aborted-tx'), idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await transaction('commit', [
        event(a, 1, 'AccountOpened', { accountId: a, owner: 'ada' }),
        event(a, 2, 'Deposited', { amount: 10 }),
        event(b, 1, 'AccountOpened', { accountId: b, owner: 'bob' }),
      ]);
      await transaction('abort', [event(a, 3, 'Deposited', { amount: 1000 }), event(b, 2, 'Deposited', { amount: 1000 })]);
      await transaction('commit', [event(a, 3, 'Deposited', { amount: 5 }), event(b, 2, 'Deposited', { amount: 7 })]);
      await transaction('abort', [event(a, 4, 'Withdrawn', { amount: 999 })]);
      await transaction('commit', [event(b, 3, 'Withdrawn', { amount: 2 })]);
      // Both partitions end in an aborted transaction: their last offsets are abort markers, never seen by eachBatch.
      await transaction('abort', [event(a, 4, 'Deposited', { amount: 12345 }), event(b, 4, 'Deposited', { amount: 54321 })]);
      await producer.disconnect();
    });

    it('shows none of the aborted events', async () => {
      const replay = new BulkReplay({ app, brokers: kafkaBrokers(), partitions, aggregates: [Account] });
      const seen = record(replay);
      const result = await replay.run();
      expect(result.events).to.equal(6);
      expect(result.records).to.equal(6);
      expect(states(result)).to.deep.equal({
        [a]: { owner: 'ada', balance: 15, version: 3 },
        [b]: { owner: 'bob', balance: 5, version: 3 },
      });
      // 6 committed, 5 aborted, 10 markers (one per transaction and partition it wrote).
      expect(seen.started[0].totalRecords).to.equal(21);
      expect(seen.progress[seen.progress.length - 1]).to.include({ records: 6, events: 6, remaining: 0 });
    });

    it('resumes mid-topic, past aborted records, from given offsets', async () => {
      const first = await new BulkReplay({ app, brokers: kafkaBrokers(), partitions, aggregates: [Account] }).run();
      const again = await new BulkReplay({ app, brokers: kafkaBrokers(), partitions, aggregates: [Account], fromOffsets: first.nextOffsets, initialAggregates: first.aggregates }).run();
      expect(again.records).to.equal(0);
      expect(states(again)).to.deep.equal(states(first));
    });
  });

  describe('of records it cannot read', () => {
    it('stops with the pipeline’s error, naming topic, partition and offset', async () => {
      const app = uniqueName('replay-bad');
      const topic = new TopicLayout({ app, partitions: 1 }).events('Account');
      const kafka = createKafka('replay-bad');
      const admin = kafka.admin();
      await admin.connect();
      await createTopic(admin, topic, { partitions: 1 });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: [
          { key: 'x:1', partition: 0, value: JSON.stringify({ accountId: 'x', owner: 'o' }), headers: eventHeaders('AccountOpened', 'x', 1) },
          { key: 'x:2', partition: 0, value: '{not json', headers: eventHeaders('Deposited', 'x', 2) },
        ],
      });
      await producer.disconnect();
      const error = await new BulkReplay({ app, brokers: kafkaBrokers(), partitions: 1, aggregates: [Account] }).run().catch((e: unknown) => e);
      expect(error).to.be.instanceOf(MalformedPayloadError);
      expect((error as Error).message).to.include(`topic ${topic}, partition 0, offset 1`);
    });
  });

  describe('of a larger topic', () => {
    it('replays tens of thousands of events, reporting its rate', async () => {
      const app = uniqueName('replay-volume');
      const partitions = 3;
      const topic = new TopicLayout({ app, partitions }).events('Account');
      const kafka = createKafka('replay-volume');
      const admin = kafka.admin();
      await admin.connect();
      await createTopic(admin, topic, { partitions });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      const accounts = 2000;
      const perAccount = 10;
      for (let first = 0; first < accounts; first += 200) {
        const messages: Array<Message & { partition: number }> = [];
        for (let index = first; index < first + 200; index += 1) {
          const id = `v-${index}`;
          const partition = partitionForKey(id, partitions);
          messages.push({ key: `${id}:1`, partition, value: JSON.stringify({ accountId: id, owner: 'o' }), headers: eventHeaders('AccountOpened', id, 1) });
          for (let sequence = 2; sequence <= perAccount; sequence += 1) {
            messages.push({ key: `${id}:${sequence}`, partition, value: JSON.stringify({ amount: sequence }), headers: eventHeaders('Deposited', id, sequence) });
          }
        }
        await producer.send({ topic, messages });
      }
      await producer.disconnect();

      const result = await new BulkReplay({ app, brokers: kafkaBrokers(), partitions, aggregates: [Account] }).run();
      expect(result.events).to.equal(accounts * perAccount);
      expect(result.aggregates.get('Account')!.size).to.equal(accounts);
      expect(result.get(Account, 'v-7')).to.include({ balance: 54, version: perAccount });
      console.log(`      bulk replay: ${result.events} events, ${accounts} aggregates in ${result.elapsedMs} ms: ${result.eventsPerSecond} events/s`);
    });
  });
});
