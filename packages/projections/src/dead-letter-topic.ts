import { Admin, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { readHeader, readPartition, waitForPartitionLeaders } from '@tributary/kafka';

/** Headers a dead letter carries besides the original event's own. */
export const DLQ_HEADER = {
  projection: 'tributary.dlq.projection',
  topic: 'tributary.dlq.topic',
  partition: 'tributary.dlq.partition',
  offset: 'tributary.dlq.offset',
  /** `failed`: its handler (or decoding) failed; `parked`: it followed a failed event of the same aggregate. */
  reason: 'tributary.dlq.reason',
  error: 'tributary.dlq.error',
  errorCode: 'tributary.dlq.error-code',
  errorName: 'tributary.dlq.error-name',
  /** For `parked`: the offset of the failed event it waits behind, when that failed in the same transaction (the store knows the rest: `dlq list`). */
  parkedBehind: 'tributary.dlq.parked-behind',
  deadLetteredAt: 'tributary.dlq.dead-lettered-at',
  /** The original record's key: the dead letter's own key is its aggregate. */
  key: 'tributary.dlq.key',
} as const;

/** Why an event is a dead letter. */
export type DeadLetterReason = 'failed' | 'parked';

/** An event on its way to the dead-letter topic. */
export interface OutgoingDeadLetter {
  readonly projection: string;
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
  readonly aggregate: string;
  readonly reason: DeadLetterReason;
  readonly error?: unknown;
  readonly parkedBehind?: string;
}

/** A record read back from the dead-letter topic. */
export interface DeadLetterRecord {
  readonly projection: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly aggregate: string;
  readonly reason: DeadLetterReason;
  readonly error: string | undefined;
  readonly errorCode: string | undefined;
  readonly parkedBehind: string | undefined;
  readonly deadLetteredAt: string | undefined;
  /** The original event's key, value and headers, as they were in its events topic. */
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
}

/** The dead-letter topic of a projection: `<prefix>.projection.<name>.dlq`. */
export function deadLetterTopicName(prefix: string, projection: string): string {
  return `${prefix}.projection.${projection}.dlq`;
}

/**
 * A projection's dead-letter topic: one partition, so the dead letters read
 * back in the order they were written, and kept until deleted by hand. The
 * same event may be written twice (a worker that crashed after writing it but
 * before its batch committed writes it again): readers keep the last copy of
 * each original topic, partition and offset.
 */
export class DeadLetterTopic {
  constructor(
    readonly name: string,
    private readonly kafka: Kafka,
  ) {}

  /** Creates the topic if it is missing. */
  async ensure(admin: Admin): Promise<void> {
    const existing = await admin.listTopics();
    if (existing.includes(this.name)) return;
    await admin
      .createTopics({
        waitForLeaders: false,
        topics: [{ topic: this.name, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '-1' }, { name: 'retention.bytes', value: '-1' }] }],
      })
      .catch((error: { type?: string }) => {
        // Two workers starting together both try; the loser finds it made.
        if (error?.type !== 'TOPIC_ALREADY_EXISTS') throw error;
      });
    // kafkajs's own wait gives up while a busy broker still calls the new topic unknown.
    await waitForPartitionLeaders(admin, [this.name]);
  }

  /** Writes dead letters and waits until every in-sync replica has them. */
  async send(producer: Producer, letters: readonly OutgoingDeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const at = new Date().toISOString();
    await producer.send({
      topic: this.name,
      acks: -1,
      messages: letters.map((letter) => ({
        key: letter.aggregate,
        value: letter.message.value,
        headers: { ...copyHeaders(letter.message.headers), ...deadLetterHeaders(letter, at) },
      })),
    });
  }

  /** Every dead letter in the topic, the last copy of each, in the order first written. */
  async readAll(admin: Admin, groupPrefix: string, timeoutMs = 30_000): Promise<DeadLetterRecord[]> {
    const messages = await readPartition({ kafka: this.kafka, admin, groupPrefix, topic: this.name, partition: 0, fromOffset: '0', accept: () => true, timeoutMs });
    const byOrigin = new Map<string, DeadLetterRecord>();
    for (const message of messages) {
      const record = toRecord(message);
      if (record) byOrigin.set(originKey(record.topic, record.partition, record.offset), record);
    }
    return [...byOrigin.values()];
  }
}

/** The key of an original event's coordinates. */
export function originKey(topic: string, partition: number, offset: string): string {
  return `${topic}\u0000${partition}\u0000${offset}`;
}

function deadLetterHeaders(letter: OutgoingDeadLetter, at: string): IHeaders {
  const headers: IHeaders = {
    [DLQ_HEADER.projection]: letter.projection,
    [DLQ_HEADER.topic]: letter.topic,
    [DLQ_HEADER.partition]: String(letter.partition),
    [DLQ_HEADER.offset]: letter.message.offset,
    [DLQ_HEADER.reason]: letter.reason,
    [DLQ_HEADER.deadLetteredAt]: at,
  };
  if (letter.error !== undefined) {
    const error = letter.error as { message?: unknown; code?: unknown; name?: unknown };
    headers[DLQ_HEADER.error] = error instanceof Error ? error.message : String(letter.error);
    if (typeof error?.code === 'string') headers[DLQ_HEADER.errorCode] = error.code;
    if (typeof error?.name === 'string') headers[DLQ_HEADER.errorName] = error.name;
  }
  if (letter.parkedBehind !== undefined) headers[DLQ_HEADER.parkedBehind] = letter.parkedBehind;
  if (letter.message.key) headers[DLQ_HEADER.key] = letter.message.key;
  return headers;
}

function copyHeaders(headers: IHeaders | undefined): IHeaders {
  const copy: IHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined && !name.startsWith('tributary.dlq.')) copy[name] = value;
  }
  return copy;
}

function toRecord(message: KafkaMessage): DeadLetterRecord | undefined {
  const header = (name: string) => readHeader(message.headers, name);
  const projection = header(DLQ_HEADER.projection);
  const topic = header(DLQ_HEADER.topic);
  const partition = Number(header(DLQ_HEADER.partition));
  const offset = header(DLQ_HEADER.offset);
  if (projection === undefined || topic === undefined || !Number.isInteger(partition) || offset === undefined) return undefined;
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) if (!name.startsWith('tributary.dlq.') && value !== undefined) headers[name] = value;
  return {
    projection,
    topic,
    partition,
    offset,
    aggregate: message.key?.toString('utf8') ?? '',
    reason: header(DLQ_HEADER.reason) === 'parked' ? 'parked' : 'failed',
    error: header(DLQ_HEADER.error),
    errorCode: header(DLQ_HEADER.errorCode),
    parkedBehind: header(DLQ_HEADER.parkedBehind),
    deadLetteredAt: header(DLQ_HEADER.deadLetteredAt),
    key: readRawHeader(message.headers, DLQ_HEADER.key),
    value: message.value,
    headers,
  };
}

function readRawHeader(headers: IHeaders | undefined, name: string): Buffer | null {
  const value = headers?.[name];
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  return last === undefined ? null : Buffer.isBuffer(last) ? last : Buffer.from(String(last));
}
