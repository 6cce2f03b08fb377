import { DomainModel, EventPipeline, RetryPolicy, retryDelayMs, retryPolicy } from '@tributary/core';
import { Admin, Kafka, Producer } from 'kafkajs';
import { toTributaryError } from './broker-error-map';
import { Instrumentation } from './instrumentation';
import { PartitionStateStore } from './partition-state-store';
import { restorePartition, stateCheckpoint } from './partition-restorer';
import { PendingTransaction } from './pending-transaction';
import { rebuildStaleShapes } from './stale-shape-rebuild';
import { TopicLayout } from './topic-layout';
import { transactionalProducer } from './transactional-producer';

/** A command partition this processor owns: its fencing producer, its state and where its commands resume. */
export interface PartitionOwner {
  readonly partition: number;
  readonly producer: Producer;
  readonly store: PartitionStateStore;
  nextOffset: bigint;
}

/** Why a partition's owner was let go. */
export type ReleaseReason = 'rebalance' | 'fenced' | 'failed' | 'stop';

export interface PartitionOwnersOptions {
  readonly kafka: Kafka;
  readonly admin: () => Admin;
  readonly layout: TopicLayout;
  readonly domain: DomainModel;
  readonly pipeline: EventPipeline;
  readonly shapes: ReadonlyMap<string, string>;
  /** Every snapshots topic the processor writes, aggregates' and plain streams'. */
  readonly snapshotTopics: readonly string[];
  readonly stateStore: (partition: number) => PartitionStateStore;
  readonly restoreTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly instrumentation: Instrumentation;
}

/** Backoff between attempts to take a partition over, after one failed (a broker that is down, a restore that timed out). */
const TAKEOVER_RETRY: RetryPolicy = retryPolicy({ retries: Number.MAX_SAFE_INTEGER, initialDelayMs: 200, maxDelayMs: 5_000, multiplier: 2 });

/**
 * Which command partitions this processor owns, and taking them over.
 *
 * Ownership follows the consumer group, but a processor can lose a partition
 * without the group telling it in time: frozen past its session timeout, it is
 * dropped from the group, another member takes the partition and fences its
 * producer. So:
 *
 * - a new member id at a group join means this processor was dropped and
 *   rejoined: whatever it held may have changed under another owner, so every
 *   partition is taken over anew (fence, restore), even one handed back to it;
 * - a commit refused as fenced while the group still gives the partition to this
 *   processor drops the partition's state and producer; once a heartbeat
 *   confirms this processor is still a member of the current generation (a
 *   failed one makes kafkajs rejoin), the partition is taken over anew. No
 *   outside event (another rebalance) is needed for it to serve again.
 */
export class PartitionOwners {
  private readonly owners = new Map<number, Promise<PartitionOwner>>();
  /** The owners whose takeover completed, by partition. */
  private readonly current = new Map<number, PartitionOwner>();
  /** Partitions whose producer was fenced, and when. */
  private readonly fencedAt = new Map<number, number>();
  private readonly failures = new Map<number, number>();
  /** The last takeover error written to stderr per partition, so a failure that repeats is written once. */
  private readonly lastWarning = new Map<number, string>();
  private assigned = new Set<number>();
  private memberId?: string;

  constructor(private readonly options: PartitionOwnersOptions) {}

  /** The partitions this processor owns now: assigned by the group, and not fenced. */
  owned(): number[] {
    return [...this.assigned].filter((partition) => !this.fencedAt.has(partition)).sort((a, b) => a - b);
  }

  /**
   * A group join gave this processor `partitions`, as member `memberId`.
   * @returns whether it rejoined under a new member id (see the class comment).
   */
  assign(memberId: string, partitions: readonly number[]): boolean {
    const next = new Set(partitions);
    const rejoined = this.memberId !== undefined && this.memberId !== memberId;
    for (const partition of this.owners.keys()) {
      if (rejoined || !next.has(partition)) void this.release(partition, 'rebalance');
    }
    this.memberId = memberId;
    this.assigned = next;
    this.fencedAt.clear();
    return rejoined;
  }

  isFenced(partition: number): boolean {
    return this.fencedAt.has(partition);
  }

  /**
   * The owner of an assigned partition, taking it over first if needed;
   * undefined if the partition is not this processor's (or fenced).
   * @throws what taking it over threw; see {@link PartitionOwners.failed}.
   */
  async acquire(partition: number): Promise<PartitionOwner | undefined> {
    if (!this.assigned.has(partition) || this.fencedAt.has(partition)) return undefined;
    let owner = this.owners.get(partition);
    if (!owner) {
      owner = this.takeOver(partition);
      this.owners.set(partition, owner);
      owner.then(
        (taken) => {
          if (this.owners.get(partition) === owner) this.current.set(partition, taken);
          this.failures.delete(partition);
          this.lastWarning.delete(partition);
        },
        () => {
          if (this.owners.get(partition) === owner) this.owners.delete(partition);
        },
      );
    }
    return owner;
  }

  /**
   * Counts a failed takeover and says how long to wait before the next. Told
   * through `processor.takeover-failed`; with nobody listening, each new error
   * of a partition is written to stderr, since the partition answers no command
   * until it is taken over.
   */
  failed(partition: number, error: unknown): number {
    const attempt = (this.failures.get(partition) ?? 0) + 1;
    this.failures.set(partition, attempt);
    const retryInMs = Math.round(retryDelayMs(TAKEOVER_RETRY, attempt) + TAKEOVER_RETRY.initialDelayMs);
    const { instrumentation } = this.options;
    if (instrumentation.listened('processor.takeover-failed')) {
      instrumentation.emit('processor.takeover-failed', () => ({ partition, attempt, retryInMs, error: error as Error }));
    } else {
      const described = error instanceof Error ? `${error.name} [${(error as { code?: string }).code ?? 'UNKNOWN'}] ${error.message}` : String(error);
      if (this.lastWarning.get(partition) !== described) {
        this.lastWarning.set(partition, described);
        console.error(`[tributary] cannot take over command partition ${partition} (attempt ${attempt}; trying again, next in ${retryInMs} ms): ${described}`);
      }
    }
    return retryInMs;
  }

  /** The partition's producer was fenced: drop its state and producer until membership is confirmed. */
  async fenced(partition: number): Promise<void> {
    this.fencedAt.set(partition, Date.now());
    await this.release(partition, 'fenced');
  }

  /**
   * Lets a fenced partition be taken over again once a heartbeat since the
   * fencing proves this processor still a member of the group's current
   * generation. kafkajs heartbeats at most once per interval, so the first
   * heartbeat sent after waiting one interval is one sent after the fencing.
   * A heartbeat that fails (a rebalance began, the member is unknown) throws,
   * and kafkajs rejoins the group.
   */
  async recover(partition: number, heartbeat: () => Promise<void>, isRunning: () => boolean): Promise<void> {
    const since = this.fencedAt.get(partition);
    if (since === undefined) return;
    const wait = since + this.options.heartbeatIntervalMs - Date.now();
    if (wait > 0) await sleep(wait);
    if (!isRunning()) return;
    await heartbeat();
    // A join during the wait cleared the mark and decided afresh.
    if (this.fencedAt.get(partition) === since) this.fencedAt.delete(partition);
  }

  /** Drops a partition's state and closes its producer. */
  async release(partition: number, reason: ReleaseReason): Promise<void> {
    const owner = this.owners.get(partition);
    if (!owner) return;
    this.owners.delete(partition);
    this.current.delete(partition);
    const resolved = await owner.catch(() => undefined);
    await resolved?.producer.disconnect().catch(() => undefined);
    if (resolved) this.options.instrumentation.emit('processor.partition-released', () => ({ partition, reason }));
  }

  async releaseAll(reason: ReleaseReason): Promise<void> {
    await Promise.all([...this.owners.keys()].map((partition) => this.release(partition, reason)));
  }

  /** The owner of a partition if it is held (or being taken over), without taking it. */
  peek(partition: number): Promise<PartitionOwner> | undefined {
    return this.owners.get(partition);
  }

  /** Whether `owner` is still the partition's owner: not released, fenced or superseded since. */
  holds(owner: PartitionOwner): boolean {
    return this.current.get(owner.partition) === owner;
  }

  private async takeOver(partition: number): Promise<PartitionOwner> {
    const started = Date.now();
    const { kafka, layout } = this.options;
    const transactionalId = layout.transactionalId(partition);
    const producer = transactionalProducer(kafka, {
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      transactionTimeout: 30_000,
      // The coordinator answers CONCURRENT_TRANSACTIONS while the previous
      // transaction's markers are still being written (a few ms); kafkajs's default
      // first retry after 300 ms would stall every back-to-back transaction by that much; partitions
      // commit back to back (their queues fill while a transaction is in flight), so the first retry is soon.
      retry: { initialRetryTime: 5, retries: 15 },
    });
    try {
      await producer.connect();
      // kafkajs claims the transactional id only when a transaction begins, so
      // begin and abort one now: that bumps the epoch, fences the previous owner
      // and aborts its open transaction before we read what it left.
      const fence = await producer.transaction();
      await fence.abort();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw toTributaryError(error, { operation: `taking over command partition ${partition}`, transactionalId });
    }
    try {
      const store = this.options.stateStore(partition);
      const restored = await restorePartition({
        kafka,
        admin: this.options.admin(),
        groupPrefix: layout.prefix,
        partition,
        snapshotTopics: this.options.snapshotTopics,
        checkpointTopic: layout.checkpoints,
        store,
        timeoutMs: this.options.restoreTimeoutMs,
      });
      const rebuilt = await this.rebuildStaleShapes(partition, producer, store, restored.nextCommandOffset);
      this.options.instrumentation.emit('processor.partition-assigned', () => ({
        partition,
        aggregates: store.size,
        nextCommandOffset: restored.nextCommandOffset,
        restoreMs: Date.now() - started,
        source: restored.source,
        rebuilt,
      }));
      return { partition, producer, store, nextOffset: BigInt(restored.nextCommandOffset) };
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Rebuilds the aggregates whose state has another shape than today's, and
   * commits their new snapshots (with the unchanged checkpoint) before any
   * command is decided on them. @returns how many were rebuilt.
   */
  private async rebuildStaleShapes(partition: number, producer: Producer, store: PartitionStateStore, nextCommandOffset: string): Promise<number> {
    const { kafka, layout, domain, pipeline, shapes, restoreTimeoutMs } = this.options;
    const rebuilt = await rebuildStaleShapes({ kafka, admin: this.options.admin(), layout, partition, store, domain, pipeline, shapes, timeoutMs: restoreTimeoutMs });
    if (rebuilt.size === 0) return 0;
    const pending = new PendingTransaction(store, layout, partition);
    pending.add({ events: [], snapshots: rebuilt });
    try {
      await pending.commit(producer, nextCommandOffset, () => undefined);
    } catch (error) {
      throw toTributaryError(error, { operation: `writing the rebuilt state of command partition ${partition}`, transactionalId: layout.transactionalId(partition) });
    }
    pending.applyTo(store);
    store.commit?.(stateCheckpoint(nextCommandOffset, this.options.snapshotTopics));
    return rebuilt.size;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
