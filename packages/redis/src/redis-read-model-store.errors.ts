import { TributaryError } from '@tributary/core';

/**
 * Redis ran a batch's transaction but some of its commands failed (a handler
 * queued a command against a key holding another type, say). Redis does not
 * roll a MULTI back, so the other writes and the offset move stand: fix the
 * handler and rebuild the projection. Not retriable.
 */
export class PartialReadModelCommitError extends TributaryError {
  static readonly code = 'PARTIAL_READ_MODEL_COMMIT';
  constructor(
    readonly projection: string,
    readonly failures: readonly Error[],
  ) {
    super(
      `Redis applied the transaction of projection '${projection}' but ${failures.length} of its commands failed, first: ${failures[0]?.message}. ` +
        `Redis does not roll back a MULTI, so the other writes stand; fix the handler's commands and rebuild the projection`,
      { code: PartialReadModelCommitError.code, retriable: false, cause: failures[0] },
    );
  }
}

/**
 * A handler asked for a read-model key whose name the store keeps for its own
 * bookkeeping (first `:`-separated part `offset`, `offsets`, `dead` or
 * `partitions`), or for an empty name.
 */
export class ReservedReadModelKeyError extends TributaryError {
  static readonly code = 'RESERVED_READ_MODEL_KEY';
  constructor(readonly projection: string, readonly keyName: string) {
    super(
      `Read-model key name ${JSON.stringify(keyName)} of projection '${projection}' cannot be used: ` +
        `names whose first ':'-separated part is 'offset', 'offsets', 'dead' or 'partitions' hold the store's offsets, dead letters and list of partitions, ` +
        `and a name must not be empty; pick another name`,
      { code: ReservedReadModelKeyError.code, retriable: false },
    );
  }
}

const CONNECTION_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** Replies of a server that will answer again soon: loading its data set, busy with a script, failing over. */
const TRANSIENT_REPLIES = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY)\b/;
/** What ioredis rejects commands with when its connection is gone or not yet back. */
const CONNECTION_MESSAGES = /^(Connection is closed|Stream isn't writeable|Reached the max retries per request limit)/;

/** Whether `error` says Redis is out of reach for now, rather than that a command was wrong. */
export function isRedisConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, name } = error as { code?: unknown; message?: unknown; name?: unknown };
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  if (name === 'MaxRetriesPerRequestError') return true;
  return typeof message === 'string' && (CONNECTION_MESSAGES.test(message) || TRANSIENT_REPLIES.test(message));
}
