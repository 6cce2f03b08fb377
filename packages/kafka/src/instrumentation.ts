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
  };
  /** The partition left this processor, by rebalance, fencing or stop. */
  'processor.partition-released': { partition: number; reason: 'rebalance' | 'fenced' | 'stop' };
  /** A transaction's records are sent and its offsets added; it is not committed yet. */
  'processor.transaction-sent': { partition: number; commands: number; firstOffset: string; lastOffset: string };
  /** A transaction is committed; local state is not updated yet, no reply has been read. */
  'processor.transaction-committed': { partition: number; commands: number; nextCommandOffset: string };
  /** A transaction failed and was aborted; its commands will be processed again. */
  'processor.transaction-aborted': { partition: number; error: Error };
}

export type ProcessorEventName = keyof ProcessorEvents;

const EVENT_NAMES: readonly ProcessorEventName[] = [
  'processor.partition-assigned',
  'processor.partition-released',
  'processor.transaction-sent',
  'processor.transaction-committed',
  'processor.transaction-aborted',
];

/**
 * Namespaced instrumentation events, emitted only when someone listens. Listeners
 * run synchronously at the point named, which is what lets a test stop the
 * process exactly between send and commit.
 */
export class Instrumentation {
  private readonly listeners = new Map<ProcessorEventName, Array<(payload: never) => void>>();

  on<E extends ProcessorEventName>(event: E, listener: (payload: ProcessorEvents[E]) => void): () => void {
    if (!EVENT_NAMES.includes(event)) {
      throw new InvalidOptionError(`Unknown instrumentation event '${String(event)}'; known events: ${EVENT_NAMES.join(', ')}`);
    }
    const list = this.listeners.get(event) ?? [];
    list.push(listener as (payload: never) => void);
    this.listeners.set(event, list);
    return () => list.splice(list.indexOf(listener as (payload: never) => void), 1);
  }

  emit<E extends ProcessorEventName>(event: E, payload: () => ProcessorEvents[E]): void {
    const list = this.listeners.get(event);
    if (!list || list.length === 0) return;
    const built = payload();
    for (const listener of [...list]) (listener as (payload: ProcessorEvents[E]) => void)(built);
  }
}
