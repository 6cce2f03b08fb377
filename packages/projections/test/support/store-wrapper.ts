import { BatchCommit, BatchContext, CommitOutcome, DeadLetterEntry, PartitionOffset, ReadModelSlot, ReadModelStore } from '@tributary/core';

/** A real store behind a wrapper: everything goes through to it, and a test's wrapper changes only what it must (usually commit). */
export class StoreWrapper<W> implements ReadModelStore<W> {
  constructor(protected readonly inner: ReadModelStore<W>) {}

  commit(batch: BatchCommit, work: (context: BatchContext<W>) => Promise<string>): Promise<CommitOutcome> {
    return this.inner.commit(batch, work);
  }
  prepare(): Promise<void> {
    return this.inner.prepare();
  }
  readOffsets(slot: ReadModelSlot): Promise<PartitionOffset[]> {
    return this.inner.readOffsets(slot);
  }
  deadLetters(slot: ReadModelSlot): Promise<DeadLetterEntry[]> {
    return this.inner.deadLetters(slot);
  }
  resolveDeadLetters(slot: ReadModelSlot, entries: readonly DeadLetterEntry[], work: (writer: W) => Promise<void>): Promise<boolean> {
    return this.inner.resolveDeadLetters(slot, entries, work);
  }
  createShadow(projection: string): Promise<void> {
    return this.inner.createShadow(projection);
  }
  swap(projection: string, catchUp: (live: readonly PartitionOffset[]) => Promise<void>): Promise<void> {
    return this.inner.swap(projection, catchUp);
  }
  dropShadow(projection: string): Promise<void> {
    return this.inner.dropShadow(projection);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  isTransient(error: unknown): boolean {
    return this.inner.isTransient?.(error) ?? false;
  }
}
