import { TributaryError } from './tributary.error';

/**
 * A retriable operation kept failing until its retry policy gave up; `cause`
 * holds the last error. Retriable as that error was: trying again later may
 * still succeed (a registry that was down for longer than the retries).
 */
export class RetriesExhaustedError extends TributaryError {
  static readonly code = 'RETRIES_EXHAUSTED';
  constructor(
    readonly operation: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`${operation} failed after ${attempts} attempts: ${cause instanceof Error ? cause.message : String(cause)}`, {
      code: RetriesExhaustedError.code,
      retriable: typeof cause === 'object' && cause !== null && (cause as { retriable?: unknown }).retriable === true,
      cause,
    });
  }
}
