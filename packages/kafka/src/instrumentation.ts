import { InvalidOptionError } from '@tributary/core';

/** Payloads of the command processor's instrumentation events. */
export interface ProcessorEvents {
  /** A partition's producer fenced any previous owner and its state is restored. */
  'processor.partition-assigned': {
    partition: number;
    aggregates: number;
    nextCommandOffset: string;
    restoreMs: number;
    /** `'local'`: the state persisted on local disk was current, the snapshots topics were not read; `'topics'`: restored from them. */
    source: 'local' | 'topics';
    /** Aggregates rebuilt from their events because their state had another shape than today's code gives. */
    rebuilt: number;
  };
  /**
   * The partition left this processor: by a rebalance (or a rejoin after being
   * dropped from the group), because its producer was fenced, because a
   * transaction failed (it is taken over anew), or at stop.
   */
  'processor.partition-released': { partition: number; reason: 'rebalance' | 'fenced' | 'failed' | 'stop' };
  /**
   * The group gave this processor its partitions (taken over at their first
   * command). `rejoined`: with a new member id, after the group dropped this
   * processor (frozen past its session timeout): every partition it held was
   * let go, since another owner may have changed it.
   */
  'processor.group-joined': { memberId: string; partitions: number[]; rejoined: boolean };
  /** Taking over a partition failed; it is tried again after `retryInMs`. */
  'processor.takeover-failed': { partition: number; attempt: number; retryInMs: number; error: Error };
  /** A transaction's records are sent and its offsets added; it is not committed yet. */
  'processor.transaction-sent': { partition: number; commands: number; firstOffset: string; lastOffset: string };
  /** A transaction is committed; local state is not updated yet, no reply has been read. */
  'processor.transaction-committed': { partition: number; commands: number; nextCommandOffset: string };
  /** A committed transaction's replies could not be sent: their callers time out, and a retry with the same command id gets the decision. */
  'processor.reply-failed': { partition: number; replies: number; error: Error };
  /** A transaction failed and was aborted; its commands will be processed again. */
  'processor.transaction-aborted': { partition: number; error: Error };
}

export type ProcessorEventName = keyof ProcessorEvents;

const PROCESSOR_EVENT_NAMES: readonly ProcessorEventName[] = [
  'processor.partition-assigned',
  'processor.partition-released',
  'processor.group-joined',
  'processor.takeover-failed',
  'processor.transaction-sent',
  'processor.transaction-committed',
  'processor.transaction-aborted',
  'processor.reply-failed',
];

/**
 * Namespaced instrumentation events, emitted only when someone listens. Listeners
 * run synchronously at the point named, which is what lets a test stop the
 * process exactly between send and commit.
 *
 * One component's events: the processor's by default, or those of the names given.
 */
export class Instrumentation<Events extends object = ProcessorEvents> {
  private readonly listeners = new Map<keyof Events, Array<(payload: never) => void>>();

  constructor(private readonly names: readonly (keyof Events)[] = PROCESSOR_EVENT_NAMES as unknown as readonly (keyof Events)[]) {}

  /**
   * Subscribes a listener to one event.
   *
   * @returns a function that removes this subscription; calling it again does nothing.
   * @throws {@link InvalidOptionError} for an event name this component does not emit.
   */
  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): () => void {
    if (!this.names.includes(event)) {
      throw new InvalidOptionError(`Unknown instrumentation event '${String(event)}'; known events: ${this.names.map(String).join(', ')}`);
    }
    const list = this.listeners.get(event) ?? [];
    const subscribed = listener as (payload: never) => void;
    list.push(subscribed);
    this.listeners.set(event, list);
    let active = true;
    // Idempotent: a second call must not splice at indexOf -1, which is someone else's listener.
    return () => {
      if (!active) return;
      active = false;
      list.splice(list.indexOf(subscribed), 1);
    };
  }

  /** True when someone listens: lets a caller skip the work of keeping what only listeners read. */
  listened(event: keyof Events): boolean {
    return (this.listeners.get(event)?.length ?? 0) > 0;
  }

  emit<E extends keyof Events>(event: E, payload: () => Events[E]): void {
    const list = this.listeners.get(event);
    if (!list || list.length === 0) return;
    const built = payload();
    for (const listener of [...list]) (listener as (payload: Events[E]) => void)(built);
  }
}

/** Payloads of a {@link BulkReplay}'s instrumentation events. */
export interface ReplayEvents {
  /** The end offsets are taken; reading begins. */
  'replay.started': {
    topics: string[];
    /** Partitions read, across the topics. */
    partitions: number;
    /** End minus start offsets over every partition read: an upper bound on the records, since transaction markers and aborted records take offsets too. */
    totalRecords: number;
  };
  /** At most every `progressIntervalMs` while reading, and once more at the end (with `remaining` 0). */
  'replay.progress': {
    /** Records read so far, events and tombstones; markers and aborted records are never seen. */
    records: number;
    /** Stored events applied so far. */
    events: number;
    eventsPerSecond: number;
    /** Offsets still to read (an upper bound on the records left). */
    remaining: number;
    /** Estimated time left, from the rate offsets were read at so far. */
    etaMs: number;
  };
  /** Every partition reached the end offset taken at the start. */
  'replay.finished': { records: number; events: number; aggregates: number; elapsedMs: number; eventsPerSecond: number };
}

export type ReplayEventName = keyof ReplayEvents;

export const REPLAY_EVENT_NAMES: readonly ReplayEventName[] = ['replay.started', 'replay.progress', 'replay.finished'];
