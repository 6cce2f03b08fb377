import { ShadowBehindError } from '../errors/projection.errors';
import {
  BatchCommit,
  BatchContext,
  CommitOutcome,
  DeadLetterEntry,
  PartitionOffset,
  ReadModelSlot,
  ReadModelStore,
  compareDeadLetters,
  liveSlot,
  shadowSlot,
  slotKey,
} from './read-model-store';

/**
 * What in-memory projection handlers write through: a key-value map of the
 * version being written. Reads see the transaction's own writes.
 */
export interface InMemoryWriter {
  get<T = unknown>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  delete(key: string): void;
  /** Keys beginning with `prefix` (all keys without one), in insertion order. */
  keys(prefix?: string): string[];
}

interface SlotState {
  data: Map<string, unknown>;
  offsets: Map<string, PartitionOffset>;
  deadLetters: DeadLetterEntry[];
  /** Serialises transactions of the slot, as row locks would. */
  lock: Promise<unknown>;
}

/**
 * A {@link ReadModelStore} in memory: for tests and the embedded demo. It has
 * the same transactional semantics as the database stores (compare-and-set
 * offsets, parked aggregates, atomic swap); values are copied in and out, so
 * nothing a handler keeps a reference to changes the model behind its back.
 *
 * @example
 * ```ts
 * const store = new InMemoryReadModelStore();
 * // … run a projection with it, then:
 * store.read('order-summary').get('o-1');
 * ```
 */
export class InMemoryReadModelStore implements ReadModelStore<InMemoryWriter> {
  private readonly slots = new Map<string, SlotState>();

  async prepare(): Promise<void> {}

  /** The live read model of a projection, as last committed. */
  read(projection: string): ReadonlyMap<string, unknown> {
    return new Map([...this.slot(liveSlot(projection)).data].map(([key, value]) => [key, structuredClone(value)]));
  }

  async readOffsets(slot: ReadModelSlot): Promise<PartitionOffset[]> {
    return [...this.slot(slot).offsets.values()].map((offset) => ({ ...offset }));
  }

  async commit(batch: BatchCommit, work: (context: BatchContext<InMemoryWriter>) => Promise<string>): Promise<CommitOutcome> {
    return this.exclusive(batch.slot, async (state) => {
      const key = `${batch.topic}\u0000${batch.partition}`;
      const stored = state.offsets.get(key)?.nextOffset ?? null;
      if (stored !== batch.expected) return { committed: false, stored };
      const staged = new StagedWrites(state.data);
      const parked = new Set(state.deadLetters.filter((entry) => entry.topic === batch.topic && entry.partition === batch.partition).map((entry) => entry.aggregate));
      const added: DeadLetterEntry[] = [];
      const nextOffset = await work({
        writer: staged,
        parked,
        deadLetter: (entry) => {
          added.push({ ...entry });
          parked.add(entry.aggregate);
        },
      });
      staged.applyTo(state.data);
      state.offsets.set(key, { topic: batch.topic, partition: batch.partition, nextOffset });
      state.deadLetters = dedupe([...state.deadLetters, ...added]);
      return { committed: true, nextOffset };
    });
  }

  async deadLetters(slot: ReadModelSlot): Promise<DeadLetterEntry[]> {
    return this.slot(slot).deadLetters.map((entry) => ({ ...entry }));
  }

  async resolveDeadLetters(slot: ReadModelSlot, entries: readonly DeadLetterEntry[], work: (writer: InMemoryWriter) => Promise<void>): Promise<boolean> {
    return this.exclusive(slot, async (state) => {
      const aggregates = new Set(entries.map((entry) => entry.aggregate));
      const outstanding = state.deadLetters.filter((entry) => aggregates.has(entry.aggregate));
      if (!sameEntries(outstanding, entries)) return false;
      const staged = new StagedWrites(state.data);
      await work(staged);
      staged.applyTo(state.data);
      state.deadLetters = state.deadLetters.filter((entry) => !aggregates.has(entry.aggregate));
      return true;
    });
  }

  async createShadow(projection: string): Promise<void> {
    await this.exclusive(shadowSlot(projection), async (state) => {
      state.data.clear();
      state.offsets.clear();
      state.deadLetters = [];
    });
  }

  async swap(projection: string, catchUp: (live: readonly PartitionOffset[]) => Promise<void>): Promise<void> {
    await this.exclusive(liveSlot(projection), async (live) => {
      const liveOffsets = [...live.offsets.values()].map((offset) => ({ ...offset }));
      await catchUp(liveOffsets);
      await this.exclusive(shadowSlot(projection), async (shadow) => {
        for (const offset of liveOffsets) {
          const ahead = shadow.offsets.get(`${offset.topic}\u0000${offset.partition}`)?.nextOffset ?? null;
          if (ahead === null || BigInt(ahead) < BigInt(offset.nextOffset)) {
            throw new ShadowBehindError(projection, offset.topic, offset.partition, ahead, offset.nextOffset);
          }
        }
        live.data = shadow.data;
        live.offsets = shadow.offsets;
        live.deadLetters = shadow.deadLetters;
        shadow.data = new Map();
        shadow.offsets = new Map();
        shadow.deadLetters = [];
      });
    });
  }

  async dropShadow(projection: string): Promise<void> {
    this.slots.delete(slotKey(shadowSlot(projection)));
  }

  async close(): Promise<void> {}

  private slot(slot: ReadModelSlot): SlotState {
    const key = slotKey(slot);
    let state = this.slots.get(key);
    if (!state) {
      state = { data: new Map(), offsets: new Map(), deadLetters: [], lock: Promise.resolve() };
      this.slots.set(key, state);
    }
    return state;
  }

  private exclusive<T>(slot: ReadModelSlot, action: (state: SlotState) => Promise<T>): Promise<T> {
    const state = this.slot(slot);
    const run = state.lock.then(() => action(state));
    state.lock = run.catch(() => undefined);
    return run;
  }
}

/** Writes kept aside until the transaction commits; reads see them first. */
class StagedWrites implements InMemoryWriter {
  private readonly writes = new Map<string, { value: unknown } | null>();

  constructor(private readonly base: ReadonlyMap<string, unknown>) {}

  get<T>(key: string): T | undefined {
    const staged = this.writes.get(key);
    if (staged === null) return undefined;
    const value = staged ? staged.value : this.base.get(key);
    return value === undefined ? undefined : (structuredClone(value) as T);
  }

  set(key: string, value: unknown): void {
    this.writes.set(key, { value: structuredClone(value) });
  }

  delete(key: string): void {
    this.writes.set(key, null);
  }

  keys(prefix = ''): string[] {
    const keys = new Set([...this.base.keys(), ...this.writes.keys()]);
    return [...keys].filter((key) => key.startsWith(prefix) && this.writes.get(key) !== null);
  }

  applyTo(target: Map<string, unknown>): void {
    for (const [key, write] of this.writes) {
      if (write === null) target.delete(key);
      else target.set(key, write.value);
    }
  }
}

function dedupe(entries: DeadLetterEntry[]): DeadLetterEntry[] {
  const seen = new Map(entries.map((entry) => [`${entry.topic}\u0000${entry.partition}\u0000${entry.offset}`, entry]));
  return [...seen.values()].sort(compareDeadLetters);
}

function sameEntries(a: readonly DeadLetterEntry[], b: readonly DeadLetterEntry[]): boolean {
  const key = (entry: DeadLetterEntry) => `${entry.topic}\u0000${entry.partition}\u0000${entry.offset}`;
  const left = new Set(a.map(key));
  const right = new Set(b.map(key));
  return left.size === right.size && [...left].every((entry) => right.has(entry));
}
