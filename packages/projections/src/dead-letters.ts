import { DeadLetterEntry, ReadModelSlot, ReadModelStore, compareDeadLetters } from '@tributary/core';
import { connectAdmin } from '@tributary/kafka';
import { KafkaConfig, KafkaMessage } from 'kafkajs';
import { DeadLetterRecord, DeadLetterTopic, originKey } from './dead-letter-topic';
import { DeadLetterNotFoundError, RedriveFailedError, UnknownDeadLetterError } from './errors/projection.errors';
import { DecodedRecord } from './record-decoder';

/** An outstanding dead letter, with what the dead-letter topic says about it. */
export interface DeadLetterView extends DeadLetterEntry {
  /** `failed`: its handler (or decoding) failed; `parked`: it waits behind a failed event of its aggregate. */
  readonly reason: 'failed' | 'parked';
  /** The event type, from its headers, when known. */
  readonly type: string | undefined;
  readonly error: string | undefined;
  readonly errorCode: string | undefined;
  readonly deadLetteredAt: string | undefined;
}

/** What a redrive or skip did. */
export interface RedriveResult {
  /** Aggregates unparked. */
  readonly aggregates: number;
  /** Dead letters handled again. */
  readonly redriven: number;
  /** Dead letters dropped by a skip. */
  readonly skipped: number;
  /** Aggregates whose redrive failed again; their dead letters stay. */
  readonly failed: readonly RedriveFailedError[];
}

/** @internal what {@link DeadLetters} needs of its runner. */
export interface DeadLettersContext<W> {
  readonly name: string;
  readonly slot: ReadModelSlot;
  readonly store: ReadModelStore<W>;
  readonly topic: DeadLetterTopic;
  readonly brokers: readonly string[];
  readonly kafkaConfig: Omit<KafkaConfig, 'brokers'>;
  readonly startupTimeoutMs: number;
  readonly groupPrefix: string;
  decode(topic: string, partition: number, message: KafkaMessage): Promise<DecodedRecord>;
  apply(record: DecodedRecord, writer: W): Promise<number>;
}

/**
 * A projection's dead letters: listed from the store (which knows which are
 * outstanding) and the dead-letter topic (which holds the events and their
 * errors), redriven through the handlers once fixed, or skipped.
 *
 * A redrive handles an aggregate's dead letters in order in one transaction
 * of the store and unparks the aggregate in the same transaction, so the
 * live workers, which park its later events until then, lose none and
 * apply none twice. Get one with `runner.deadLetters()`.
 *
 * @example
 * ```ts
 * const letters = new ProjectionRunner({ …options }).deadLetters();
 * for (const letter of await letters.list()) console.log(letter.aggregate, letter.error);
 * await letters.redrive();
 * ```
 */
export class DeadLetters<W = unknown> {
  /** @internal use `runner.deadLetters()`. */
  constructor(private readonly context: DeadLettersContext<W>) {}

  /** The outstanding dead letters, by topic, partition and offset. */
  async list(): Promise<DeadLetterView[]> {
    const { entries, records } = await this.load();
    return entries.map((entry) => {
      const record = records.get(originKey(entry.topic, entry.partition, entry.offset));
      const type = record?.headers['tributary.type'];
      return {
        ...entry,
        reason: record?.reason ?? 'failed',
        type: type === undefined ? undefined : String(Array.isArray(type) ? type[type.length - 1] : type),
        error: record?.error,
        errorCode: record?.errorCode,
        deadLetteredAt: record?.deadLetteredAt,
      };
    });
  }

  /** Handles the dead letters again, every aggregate's (or one's: `Order:o-1`), and unparks those that succeed. */
  async redrive(aggregate?: string): Promise<RedriveResult> {
    return this.resolve(aggregate === undefined ? () => true : (entry) => entry.aggregate === aggregate, new Set());
  }

  /**
   * Drops one dead letter (`topic`, `partition`, `offset`) without handling it,
   * and redrives the rest of its aggregate's, which were parked behind it.
   * @throws {@link UnknownDeadLetterError} if it is not outstanding.
   */
  async skip(topic: string, partition: number, offset: string): Promise<RedriveResult> {
    const { entries } = await this.load();
    const target = entries.find((entry) => entry.topic === topic && entry.partition === partition && entry.offset === offset);
    if (!target) throw new UnknownDeadLetterError(this.context.name, `${topic}:${partition}:${offset}`);
    return this.resolve((entry) => entry.aggregate === target.aggregate, new Set([originKey(topic, partition, offset)]));
  }

  private async resolve(select: (entry: DeadLetterEntry) => boolean, skip: ReadonlySet<string>): Promise<RedriveResult> {
    let aggregates = 0;
    let redriven = 0;
    let skipped = 0;
    const failed: RedriveFailedError[] = [];
    const failedAggregates = new Set<string>();
    for (let attempt = 1; ; attempt += 1) {
      const { entries, records } = await this.load();
      const byAggregate = new Map<string, DeadLetterEntry[]>();
      for (const entry of entries.filter(select)) byAggregate.set(entry.aggregate, [...(byAggregate.get(entry.aggregate) ?? []), entry]);
      let raced = false;
      for (const [aggregate, letters] of byAggregate) {
        if (failedAggregates.has(aggregate)) continue;
        try {
          const decoded = await Promise.all(
            letters.map(async (entry) => {
              const record = records.get(originKey(entry.topic, entry.partition, entry.offset));
              if (skip.has(originKey(entry.topic, entry.partition, entry.offset))) return undefined;
              if (!record) throw new DeadLetterNotFoundError(this.context.name, this.context.topic.name, entry.topic, entry.partition, entry.offset);
              return { entry, record: await this.context.decode(entry.topic, entry.partition, toMessage(record)) };
            }),
          );
          const resolved = await this.context.store.resolveDeadLetters(this.context.slot, letters, async (writer) => {
            for (const item of decoded) {
              if (!item) continue;
              const where = `${item.entry.topic}:${item.entry.partition}:${item.entry.offset}`;
              if (item.record.kind === 'unreadable') throw new RedriveFailedError(this.context.name, aggregate, where, item.record.error);
              try {
                await this.context.apply(item.record, writer);
              } catch (error) {
                throw new RedriveFailedError(this.context.name, aggregate, where, error);
              }
            }
          });
          if (!resolved) {
            raced = true;
            continue;
          }
          aggregates += 1;
          redriven += decoded.filter((item) => item !== undefined).length;
          skipped += decoded.filter((item) => item === undefined).length;
        } catch (error) {
          if (!(error instanceof RedriveFailedError)) throw error;
          failed.push(error);
          failedAggregates.add(aggregate);
        }
      }
      // A live worker parked another event of an aggregate meanwhile: read again and take it too.
      if (!raced || attempt >= 5) return { aggregates, redriven, skipped, failed };
    }
  }

  private async load(): Promise<{ entries: DeadLetterEntry[]; records: Map<string, DeadLetterRecord> }> {
    const entries = (await this.context.store.deadLetters(this.context.slot)).sort(compareDeadLetters);
    if (entries.length === 0) return { entries, records: new Map() };
    const admin = await connectAdmin(this.context.brokers, this.context.kafkaConfig, this.context.startupTimeoutMs);
    try {
      await this.context.topic.ensure(admin);
      const all = await this.context.topic.readAll(admin, this.context.groupPrefix);
      return { entries, records: new Map(all.map((record) => [originKey(record.topic, record.partition, record.offset), record])) };
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

function toMessage(record: DeadLetterRecord): KafkaMessage {
  return { key: record.key, value: record.value, headers: record.headers, offset: record.offset, timestamp: '0', attributes: 0 } as unknown as KafkaMessage;
}
