/**
 * The processor's decisions, without Kafka: what each request stages for the
 * transaction, read back from a transaction that records what it is sent.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { DomainModel, JsonSerializer, Serializer, TributaryError, shapeVersionOf } from '@tributary/core';
import { KafkaMessage, Message, Producer } from 'kafkajs';
import { commandRegistryFor } from '../src/kafka-command-registry';
import { CommandReply } from '../src/command-reply';
import { InMemoryPartitionStateStore } from '../src/partition-state-store';
import { PendingTransaction } from '../src/pending-transaction';
import { HEADER } from '../src/record-headers';
import { RequestHandlers } from '../src/request-handlers';
import { TopicLayout } from '../src/topic-layout';
import { BonusRefusingSerializer, Credit, CreditWithBonus, OpenWallet, Spend, Wallet } from './support/wallet';

const layout = new TopicLayout({ app: 'unit', partitions: 1 });
const domain = new DomainModel([Wallet]);
const commands = commandRegistryFor(domain, 'test');

function handlers(serializer: Serializer = new JsonSerializer(), decidedCommandsPerAggregate = 8, streams: string[] = []): RequestHandlers {
  return new RequestHandlers(
    { layout, domain, commands, serializer, shapes: new Map([['Wallet', shapeVersionOf(domain.modelOfType('Wallet')!)]]), decidedCommandsPerAggregate },
    streams,
  );
}

let offset = 0;
function request(command: object | null, headers: Record<string, string> = {}, value?: string | null): KafkaMessage {
  offset += 1;
  return {
    key: Buffer.from('w-1'),
    value: value !== undefined ? (value === null ? null : Buffer.from(value)) : Buffer.from(JSON.stringify(command === null ? {} : commands.toData(command))),
    headers: {
      ...(command === null ? {} : { [HEADER.commandType]: commands.nameOf(command)! }),
      [HEADER.replyTo]: 'client-1',
      ...headers,
    },
    offset: String(offset),
    timestamp: '0',
    attributes: 0,
  } as unknown as KafkaMessage;
}

/** Everything a committed transaction was sent, by topic. */
class RecordingProducer {
  readonly sent = new Map<string, Message[]>();
  committed = false;
  transaction() {
    return Promise.resolve({
      sendBatch: async ({ topicMessages }: { topicMessages: Array<{ topic: string; messages: Message[] }> }) => {
        for (const { topic, messages } of topicMessages) this.sent.set(topic, [...(this.sent.get(topic) ?? []), ...messages]);
        return topicMessages.map(({ topic }) => ({ topicName: topic, partition: 0, errorCode: 0, baseOffset: '0' }));
      },
      sendOffsets: async () => undefined,
      commit: async () => {
        this.committed = true;
      },
      abort: async () => undefined,
    });
  }
  events(): Message[] {
    return this.sent.get(layout.events('Wallet')) ?? [];
  }
  /** The committed transaction's replies, which go out after the commit. */
  repliesAfterCommit: readonly Message[] = [];
  replies(): CommandReply[] {
    return this.repliesAfterCommit.map((message) => JSON.parse(message.value!.toString()) as CommandReply);
  }
}

async function run(requests: KafkaMessage[], using = handlers(), store = new InMemoryPartitionStateStore()): Promise<RecordingProducer> {
  const pending = new PendingTransaction(store, layout, 0);
  for (const message of requests) pending.add(await using.handle(0, message, pending));
  const producer = new RecordingProducer();
  await pending.commit(producer as unknown as Producer, String(offset + 1), () => undefined);
  // Replies are never part of the transaction: an open transaction would hold back every reply behind it.
  expect(producer.sent.has(layout.replies)).to.equal(false);
  producer.repliesAfterCommit = pending.replies;
  pending.applyTo(store);
  return producer;
}

const keys = (messages: Message[]) => messages.map((message) => String(message.key));

describe('RequestHandlers and PendingTransaction', () => {
  it('stage nothing of a command whose second event cannot be serialized, so later commands keep contiguous sequences', async () => {
    const sent = await run(
      [request(new OpenWallet('w-1')), request(new CreditWithBonus('w-1', 5), { [HEADER.commandId]: 'half' }), request(new Credit('w-1', 2))],
      handlers(new BonusRefusingSerializer()),
    );
    expect(keys(sent.events())).to.deep.equal(['w-1:1', 'w-1:2']);
    expect(sent.events().map((message) => String(message.headers![HEADER.causationId]))).to.not.include('half');
    const replies = sent.replies();
    expect(replies.map((reply) => reply.status)).to.deep.equal(['ok', 'error', 'ok']);
    expect(replies[2]).to.include({ version: 2 });
    const snapshot = JSON.parse(String((sent.sent.get(layout.snapshots('Wallet')) ?? []).at(-1)!.value));
    expect(snapshot).to.include({ version: 2 });
    expect(snapshot.state).to.include({ balance: 2, bonuses: 0 });
  });

  it('keep any sequence of commands, some failing half-way, contiguous and without orphans (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('credit', 'bonus', 'spend'), { maxLength: 30 }), async (kinds) => {
        const made = kinds.map((kind) => (kind === 'credit' ? new Credit('w-1', 3) : kind === 'bonus' ? new CreditWithBonus('w-1', 3) : new Spend('w-1', 4)));
        const sent = await run([request(new OpenWallet('w-1')), ...made.map((command) => request(command))], handlers(new BonusRefusingSerializer()));
        const sequences = sent.events().map((message) => Number(message.headers![HEADER.sequence]));
        expect(sequences).to.deep.equal(sequences.map((_, index) => index + 1));
        expect(new Set(keys(sent.events())).size).to.equal(sequences.length);
        const lastOk = sent.replies().filter((reply) => reply.status === 'ok').at(-1) as Extract<CommandReply, { status: 'ok' }>;
        expect(lastOk.version).to.equal(sequences.length);
      }),
      { numRuns: 60 },
    );
  });

  it('answer a command id decided before with its decision, and write nothing for it', async () => {
    const store = new InMemoryPartitionStateStore();
    await run([request(new OpenWallet('w-1'))], handlers(), store);
    const first = await run([request(new Credit('w-1', 7), { [HEADER.commandId]: 'c-1' }), request(new Credit('w-1', 7), { [HEADER.commandId]: 'c-1' })], handlers(), store);
    expect(keys(first.events())).to.deep.equal(['w-1:2']);
    expect(first.replies()[1]).to.include({ status: 'ok', version: 2, deduplicated: true });
    // In a later transaction, after a restore from what was written: the decision travelled in the snapshot record.
    const restored = new InMemoryPartitionStateStore();
    const [, , written] = [...store.entries()][0];
    restored.set('Wallet', 'w-1', JSON.parse(JSON.stringify(written)));
    const later = await run([request(new Credit('w-1', 7), { [HEADER.commandId]: 'c-1' })], handlers(), restored);
    expect(later.events()).to.deep.equal([]);
    expect(later.replies()[0]).to.include({ status: 'ok', version: 2, deduplicated: true });
  });

  it('keep a refusal as a decision, but not a failure that may pass when retried', async () => {
    const store = new InMemoryPartitionStateStore();
    await run([request(new OpenWallet('w-1')), request(new Spend('w-1', 1), { [HEADER.commandId]: 'spend' })], handlers(), store);
    expect(store.get('Wallet', 'w-1')!.decided!.map((decision) => decision.id)).to.include('spend');
    const flaky = new (class extends JsonSerializer {
      override serialize(): Uint8Array {
        throw new TributaryError('the registry is down', { code: 'REGISTRY_DOWN', retriable: true });
      }
    })();
    const failed = await run([request(new Credit('w-1', 1), { [HEADER.commandId]: 'flaky' })], handlers(flaky), store);
    expect((failed.replies()[0] as Extract<CommandReply, { status: 'error' }>).error).to.include({ code: 'REGISTRY_DOWN', retriable: true });
    expect(store.get('Wallet', 'w-1')!.decided!.map((decision) => decision.id)).to.not.include('flaky');
    // So the same id, sent again once the registry is back, is decided anew and applied.
    const retried = await run([request(new Credit('w-1', 1), { [HEADER.commandId]: 'flaky' })], handlers(), store);
    expect(retried.replies()[0]).to.include({ status: 'ok', version: 2 });
    expect(retried.replies()[0]).to.not.have.property('deduplicated');
  });

  it('refuse an append without a usable expected version, naming the header, instead of reading NaN', async () => {
    const using = handlers(new JsonSerializer(), 8, ['Log']);
    const append = (headers: Record<string, string>) =>
      request(null, { [HEADER.request]: 'append', [HEADER.aggregateType]: 'Log', ...headers }, JSON.stringify([{ eventId: 'e-1', type: 'Noted', schemaVersion: 1, payload: {}, occurredAt: new Date(0).toISOString(), correlationId: 'c', causationId: 'c', metadata: {} }]));
    const malformed: Array<Record<string, string>> = [{}, { [HEADER.expectedVersion]: 'abc' }, { [HEADER.expectedVersion]: '-1' }, { [HEADER.expectedVersion]: '1.5' }];
    for (const headers of malformed) {
      const sent = await run([append(headers)], using);
      expect(sent.sent.get(layout.events('Log')) ?? []).to.deep.equal([]);
      const reply = sent.replies()[0] as Extract<CommandReply, { status: 'error' }>;
      expect(reply.error.code).to.equal('MALFORMED_REQUEST');
      expect(reply.error.message).to.include(HEADER.expectedVersion);
    }
    const ok = await run([append({ [HEADER.expectedVersion]: '0' })], using);
    expect(keys(ok.sent.get(layout.events('Log')) ?? [])).to.deep.equal(['w-1:1']);
  });

  it('refuse a command whose body is not JSON with a typed error', async () => {
    const sent = await run([request(new OpenWallet('w-1'), {}, '{not json')]);
    const reply = sent.replies()[0] as Extract<CommandReply, { status: 'error' }>;
    expect(reply.error).to.include({ code: 'MALFORMED_REQUEST' });
  });
});
