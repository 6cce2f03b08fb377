import { TributaryError } from './tributary.error';

/**
 * A rebuild tried to swap in a shadow version that has not caught up with the
 * live one: swapping would lose the events in between. The rebuild keeps the
 * shadow; run it again, or let it consume further first.
 */
export class ShadowBehindError extends TributaryError {
  static readonly code = 'SHADOW_BEHIND';
  constructor(
    readonly projection: string,
    readonly topic: string,
    readonly partition: number,
    readonly shadowOffset: string | null,
    readonly liveOffset: string,
  ) {
    super(
      `The shadow of projection '${projection}' is at offset ${shadowOffset ?? 'none'} of ${topic} partition ${partition}, ` +
        `behind the live version at ${liveOffset}; a swap now would lose the events in between. ` +
        `Let the rebuild consume up to the live offsets before swapping`,
      { code: ShadowBehindError.code, retriable: true },
    );
  }
}

/**
 * A read-model store could not reach its database, lost the connection, or had
 * its transaction aborted for a transient reason (serialization failure,
 * deadlock, shutdown, too many optimistic conflicts). Retriable: projection
 * runners back off and try the batch again. A retry is safe even when the
 * connection broke during a commit whose outcome is unknown: if it landed, the
 * retry's offset compare-and-set fails and the runner re-reads the offsets.
 */
export class ReadModelStoreUnavailableError extends TributaryError {
  static readonly code = 'READ_MODEL_STORE_UNAVAILABLE';
  constructor(
    /** Which store: `PostgreSQL`, `Redis` … */
    readonly store: string,
    /** What it was doing, e.g. `commit of order-summary (events/0)`. */
    readonly operation: string,
    reason: string,
    cause?: unknown,
  ) {
    super(
      `The ${store} read-model store failed transiently during the ${operation} (${reason}); nothing of it was written, or it landed and a retry will see so. ` +
        `Check that ${store} is reachable; the operation can be retried`,
      { code: ReadModelStoreUnavailableError.code, retriable: true, cause },
    );
  }
}
