import { setTimeout as sleep } from 'node:timers/promises';

/** Thrown inside a transaction's work once its run was abandoned, so the store rolls it back. */
export class RunAbandonedError extends Error {
  constructor() {
    super('the projection runner failed: the transaction in hand is rolled back');
    this.name = 'RunAbandonedError';
  }
}

/**
 * How one run of a runner (from `start()` to its end) comes to an end.
 *
 * Halted, by `stop()` or a failure: no transaction starts again and waits
 * between retries end at once. Abandoned, by a failure only: besides, the work
 * in hand is dropped. Its transaction rolls back rather than commit after the
 * failure was reported, and nobody waits for it (a store that is down may keep
 * it for long), so the consumer can leave its group at once.
 */
export class RunHalt {
  private readonly halting = new AbortController();
  private readonly abandoning = new AbortController();

  get halted(): boolean {
    return this.halting.signal.aborted;
  }

  get abandoned(): boolean {
    return this.abandoning.signal.aborted;
  }

  halt(): void {
    this.halting.abort();
  }

  abandon(): void {
    this.abandoning.abort();
    this.halting.abort();
  }

  /** Waits `ms`, or less if the run halts meanwhile. */
  async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.halting.signal }).catch(() => undefined);
  }

  /** Throws {@link RunAbandonedError} once the run is abandoned: call it inside a transaction's work, before it may commit. */
  throwIfAbandoned(): void {
    if (this.abandoned) throw new RunAbandonedError();
  }

  /**
   * Runs `work` and settles as it does, unless the run is abandoned first:
   * then resolves undefined at once, and `work` goes on unobserved (it meets
   * {@link throwIfAbandoned} before it can commit). Not started at all once abandoned.
   */
  unlessAbandoned<T>(work: () => Promise<T>): Promise<T | undefined> {
    if (this.abandoned) return Promise.resolve(undefined);
    const signal = this.abandoning.signal;
    return new Promise<T | undefined>((resolve, reject) => {
      const onAbandon = () => resolve(undefined);
      signal.addEventListener('abort', onAbandon, { once: true });
      work().then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbandon));
    });
  }
}
