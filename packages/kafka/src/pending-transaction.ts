import { Message, Producer, RecordMetadata } from 'kafkajs';
import { CommandReply } from './command-reply';
import { HEADER } from './record-headers';
import { partitionForKey } from './murmur2';
import { AggregateSnapshot, PartitionStateStore, splitKey, stateKey } from './partition-state-store';
import { TopicLayout } from './topic-layout';

/** One event record a request writes. */
export interface StagedEvent {
  readonly topic: string;
  readonly message: Message;
  /** Set on a stream's first event: the stream's state key, whose snapshot then records where the event landed. */
  readonly startsStream?: string;
}

/**
 * Everything one request writes, built whole before any of it joins the
 * transaction: its events, the new snapshots of the aggregates it changed (null
 * erases one), keyed by {@link stateKey}, and its reply.
 */
export interface StagedRequest {
  readonly events: readonly StagedEvent[];
  readonly snapshots: ReadonlyMap<string, AggregateSnapshot | null>;
  readonly reply?: { readonly to: string; readonly body: CommandReply };
}

/** What aggregates look like to a request: the partition's state with the changes of the requests before it in the transaction. */
export interface PartitionStateView {
  current(aggregateType: string, aggregateId: string): AggregateSnapshot | undefined;
}

/**
 * The records of one Kafka transaction of a command partition, gathered request
 * by request. A request joins only whole ({@link PendingTransaction.add} takes a
 * {@link StagedRequest} built in full), so a request that fails half-way, say on
 * its second event's serialization, leaves nothing behind: no orphan event, no
 * sequence number taken from the next command.
 *
 * Later requests of the batch see the changes of earlier ones through
 * {@link PendingTransaction.current}; the partition's store changes only after
 * the commit ({@link PendingTransaction.applyTo}).
 */
export class PendingTransaction implements PartitionStateView {
  /** Event records by topic, sent first so their offsets are known when the snapshots are written. */
  private readonly events = new Map<string, Message[]>();
  /** Replies, sent only after the commit, outside the transaction (see {@link PendingTransaction.replies}). */
  private readonly replyMessages: Message[] = [];
  private readonly overlay = new Map<string, AggregateSnapshot | null>();
  /** Streams that start in this transaction: where their first event sits in `events`. */
  private readonly firstEvents = new Map<string, { topic: string; index: number }>();
  private requestCount = 0;

  constructor(
    private readonly store: PartitionStateStore,
    private readonly layout: TopicLayout,
    readonly partition: number,
  ) {}

  /** Requests added so far. */
  get requests(): number {
    return this.requestCount;
  }

  current(aggregateType: string, aggregateId: string): AggregateSnapshot | undefined {
    const key = stateKey(aggregateType, aggregateId);
    return this.overlay.has(key) ? (this.overlay.get(key) ?? undefined) : this.store.get(aggregateType, aggregateId);
  }

  /** Adds one request's records, all of them. */
  add(request: StagedRequest): void {
    this.requestCount += 1;
    for (const { topic, message, startsStream } of request.events) {
      const list = this.events.get(topic) ?? [];
      if (startsStream !== undefined) this.firstEvents.set(startsStream, { topic, index: list.length });
      list.push(message);
      this.events.set(topic, list);
    }
    for (const [key, snapshot] of request.snapshots) this.overlay.set(key, snapshot);
    if (request.reply) {
      const { to, body } = request.reply;
      this.replyMessages.push({
        key: to,
        partition: partitionForKey(to, this.layout.partitions),
        value: JSON.stringify(body),
        headers: { [HEADER.commandId]: body.commandId },
      });
    }
  }

  /**
   * Writes the transaction and commits it: the events, then the snapshots and
   * the checkpoint `nextCommandOffset`. `beforeCommit` runs once everything is
   * sent, before the commit (the instrumentation point that crash tests stop at).
   * On failure the transaction is aborted and the error thrown as kafkajs gave it.
   */
  async commit(producer: Producer, nextCommandOffset: string, beforeCommit: () => void): Promise<void> {
    const transaction = await producer.transaction();
    try {
      if (this.firstEvents.size > 0) {
        // A stream starts here: its snapshot must record where its first event
        // landed, which only the broker's answer to the events' send tells.
        this.noteFirstOffsets(await transaction.sendBatch({ acks: -1, topicMessages: topicMessages(this.events) }));
        await transaction.sendBatch({ acks: -1, topicMessages: topicMessages(this.otherRecords(nextCommandOffset)) });
      } else {
        await transaction.sendBatch({ acks: -1, topicMessages: [...topicMessages(this.events), ...topicMessages(this.otherRecords(nextCommandOffset))] });
      }
      beforeCommit();
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  /** After the commit: the partition's store takes the transaction's changes. */
  applyTo(store: PartitionStateStore): void {
    for (const [key, snapshot] of this.overlay) {
      const [aggregateType, aggregateId] = splitKey(key);
      if (snapshot) store.set(aggregateType, aggregateId, snapshot);
      else store.delete(aggregateType, aggregateId);
    }
  }

  /**
   * The replies, to send once the transaction has committed, and only then: a
   * reply means its command's events are durably written. They stay out of the
   * transaction because callers read replies `read_committed`, and a reader
   * stops at the first open transaction in a partition: a processor killed with
   * a transaction open would hold back every reply behind it in that replies
   * partition, other partitions' included, until its own partition is taken
   * over. A reply lost in a crash right after the commit is not a lost command:
   * the caller's retry with the same command id is answered with the decision.
   */
  get replies(): readonly Message[] {
    return this.replyMessages;
  }

  /** Snapshots and the checkpoint, by topic. */
  private otherRecords(nextCommandOffset: string): Map<string, Message[]> {
    const records = new Map<string, Message[]>();
    for (const [key, snapshot] of this.overlay) {
      const [aggregateType, aggregateId] = splitKey(key);
      append(records, this.layout.snapshots(aggregateType), {
        key: aggregateId,
        partition: this.partition,
        value: snapshot === null ? null : JSON.stringify(snapshot),
        headers: { [HEADER.aggregateType]: aggregateType },
      });
    }
    append(records, this.layout.checkpoints, { key: String(this.partition), partition: this.partition, value: JSON.stringify({ nextCommandOffset }) });
    return records;
  }

  /** Every event of one partition's topic goes in one record batch, so offsets follow the batch's base offset. */
  private noteFirstOffsets(sent: RecordMetadata[]): void {
    const bases = new Map(sent.map((metadata) => [metadata.topicName, BigInt(metadata.baseOffset ?? '-1')]));
    for (const [key, { topic, index }] of this.firstEvents) {
      const snapshot = this.overlay.get(key);
      const base = bases.get(topic);
      if (snapshot && base !== undefined && base >= 0n) this.overlay.set(key, { ...snapshot, firstOffset: (base + BigInt(index)).toString() });
    }
  }
}

function append(records: Map<string, Message[]>, topic: string, message: Message): void {
  const list = records.get(topic) ?? [];
  list.push(message);
  records.set(topic, list);
}

function topicMessages(records: Map<string, Message[]>): Array<{ topic: string; messages: Message[] }> {
  return [...records].map(([topic, messages]) => ({ topic, messages }));
}
