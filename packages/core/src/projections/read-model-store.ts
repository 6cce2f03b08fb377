/**
 * One version of a projection's read model. `live` is what queries read;
 * `shadow` is the version a rebuild fills from the beginning of history while
 * the live one keeps serving, until {@link ReadModelStore.swap} makes it live.
 */
export interface ReadModelSlot {
  readonly projection: string;
  readonly version: 'live' | 'shadow';
}

/** Where a projection stands in one partition: the offset of the next record to handle. */
export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  /** Decimal string: Kafka offsets are 64-bit. */
  readonly nextOffset: string;
}

/**
 * An event a projection could not handle and sent to its dead-letter topic,
 * as the store remembers it: while one is outstanding, its aggregate is parked
 * and later events of that aggregate follow it to the dead-letter topic.
 */
export interface DeadLetterEntry {
  readonly topic: string;
  readonly partition: number;
  /** The event's offset in its events topic, a decimal string. */
  readonly offset: string;
  /** The parked aggregate: `<aggregateType>:<aggregateId>`. */
  readonly aggregate: string;
}

/** One transaction of a projection in one partition: handler writes and the offset move, together. */
export interface BatchCommit {
  readonly slot: ReadModelSlot;
  readonly topic: string;
  readonly partition: number;
  /**
   * The stored offset the batch continues from, as the runner last saw it;
   * `null` when the store holds none for the partition. The commit is a
   * compare-and-set on it: if the store holds anything else, nothing is written.
   */
  readonly expected: string | null;
}

/** What the work of a {@link BatchCommit} is given. */
export interface BatchContext<W> {
  /** Writes to the slot's read model, inside the transaction. */
  readonly writer: W;
  /** Aggregates of this partition parked behind outstanding dead letters, as committed when the transaction began. */
  readonly parked: ReadonlySet<string>;
  /** Records a dead letter in the transaction; its aggregate is parked from now on. */
  deadLetter(entry: DeadLetterEntry): void;
}

/** How a {@link ReadModelStore.commit} ended. */
export type CommitOutcome =
  | { readonly committed: true; readonly nextOffset: string }
  /** The stored offset was not the expected one: another worker moved it (or a rebuild swapped); nothing was written. */
  | { readonly committed: false; readonly stored: string | null };

/**
 * Where projections keep read models, with the offsets and dead letters that
 * make their effect exactly-once: in memory, PostgreSQL, Redis. Every
 * implementation passes `readModelStoreContract` from `@tributary/testing`.
 *
 * `W` is what handlers write through: a transaction's client for PostgreSQL,
 * a MULTI for Redis, a map for the in-memory store.
 */
export interface ReadModelStore<W = unknown> {
  /** Creates the store's bookkeeping (offsets, dead letters) if missing. Idempotent; runners call it at start. */
  prepare(): Promise<void>;

  /** The slot's stored offsets, for every partition it has handled. */
  readOffsets(slot: ReadModelSlot): Promise<PartitionOffset[]>;

  /**
   * Atomically: checks the partition's stored offset is `batch.expected`,
   * runs `work` (the handlers' writes and any dead letters), and stores the
   * offset `work` resolves with. If the check fails nothing runs and nothing
   * is written. If `work` rejects, nothing is written and the rejection passes on.
   */
  commit(batch: BatchCommit, work: (context: BatchContext<W>) => Promise<string>): Promise<CommitOutcome>;

  /** The slot's outstanding dead letters, by topic, partition and offset. */
  deadLetters(slot: ReadModelSlot): Promise<DeadLetterEntry[]>;

  /**
   * Atomically, with respect to commits of the slot: checks that `entries` are
   * exactly the outstanding dead letters of their aggregates, runs `work`
   * (the redriven events' writes; nothing for a skip) and forgets the entries,
   * unparking their aggregates. Resolves `false`, writing nothing, if the
   * outstanding dead letters of those aggregates are no longer `entries`.
   */
  resolveDeadLetters(slot: ReadModelSlot, entries: readonly DeadLetterEntry[], work: (writer: W) => Promise<void>): Promise<boolean>;

  /** Empties the projection's shadow version, creating it if needed, with no offsets and no dead letters. */
  createShadow(projection: string): Promise<void>;

  /**
   * Makes the shadow version live, atomically for readers and for live commits:
   * takes the live offsets, lets `catchUp` bring the shadow to (at least) them,
   * then replaces the live data, offsets and dead letters with the shadow's.
   * Live commits started before the swap that would land after it fail their
   * compare-and-set.
   *
   * @throws `ShadowBehindError` if after `catchUp` the shadow is behind the live version in some partition.
   */
  swap(projection: string, catchUp: (live: readonly PartitionOffset[]) => Promise<void>): Promise<void>;

  /** Deletes the projection's shadow version, if any. */
  dropShadow(projection: string): Promise<void>;

  /** Releases connections the store opened itself. */
  close(): Promise<void>;

  /**
   * Whether an error a handler's writes threw is transient (a lost connection,
   * a serialization failure), so the batch is retried rather than its event
   * dead-lettered. Errors with `retriable: true` count as transient anyway.
   */
  isTransient?(error: unknown): boolean;
}

/** The slot of a projection's live version. */
export function liveSlot(projection: string): ReadModelSlot {
  return { projection, version: 'live' };
}

/** The slot of a projection's shadow version, filled by a rebuild. */
export function shadowSlot(projection: string): ReadModelSlot {
  return { projection, version: 'shadow' };
}

/** A slot as one string, for stores that key rows by it: `order-summary` or `order-summary#shadow`. */
export function slotKey(slot: ReadModelSlot): string {
  return slot.version === 'live' ? slot.projection : `${slot.projection}#shadow`;
}

/** Orders dead letters (and offsets) by topic, partition, then offset as a number. */
export function compareDeadLetters(a: DeadLetterEntry, b: DeadLetterEntry): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.partition !== b.partition) return a.partition - b.partition;
  const x = BigInt(a.offset);
  const y = BigInt(b.offset);
  return x < y ? -1 : x > y ? 1 : 0;
}
