import { BatchCommit, BatchContext, CommitOutcome } from '@tributary/core';
import { StoreWrapper } from './store-wrapper';

/** What became of a held commit once let through. */
export interface HeldCommitOutcome {
  readonly outcome: CommitOutcome;
  /** Whether the store ran the batch's work (the handlers' writes) at all. */
  readonly workRan: boolean;
}

/** A commit held at the gate. */
export interface HeldCommit {
  /** Resolves with the batch once the runner has handed it to the store. */
  readonly entered: Promise<BatchCommit>;
  /** Lets it through to the real store. */
  release(): void;
  readonly outcome: Promise<HeldCommitOutcome>;
}

/**
 * A real store (everything goes through to it) with a gate in front of
 * commit: the next commit of a chosen partition waits there, before it
 * reaches the store, as a worker stalled between reading its batch and
 * committing it (a GC pause, a slow network) would. Meanwhile the runner's
 * consumer sends no heartbeats, so its group session runs out: the zombie.
 */
export class GatedStore<W> extends StoreWrapper<W> {
  private gate?: { partition: number; entered: (batch: BatchCommit) => void; released: Promise<void>; settle: (outcome: HeldCommitOutcome) => void };

  /** Holds the next live commit of `partition`. */
  holdNext(partition: number): HeldCommit {
    let entered!: (batch: BatchCommit) => void;
    let release!: () => void;
    let settle!: (outcome: HeldCommitOutcome) => void;
    const held: HeldCommit = {
      entered: new Promise<BatchCommit>((resolve) => (entered = resolve)),
      release: () => release(),
      outcome: new Promise<HeldCommitOutcome>((resolve) => (settle = resolve)),
    };
    this.gate = { partition, entered, released: new Promise<void>((resolve) => (release = resolve)), settle };
    return held;
  }

  override async commit(batch: BatchCommit, work: (context: BatchContext<W>) => Promise<string>): Promise<CommitOutcome> {
    const gate = this.gate;
    if (!gate || batch.slot.version !== 'live' || batch.partition !== gate.partition) return this.inner.commit(batch, work);
    this.gate = undefined;
    gate.entered(batch);
    await gate.released;
    let workRan = false;
    const outcome = await this.inner.commit(batch, (context) => {
      workRan = true;
      return work(context);
    });
    gate.settle({ outcome, workRan });
    return outcome;
  }
}
