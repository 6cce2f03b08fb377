import { TributaryError } from './tributary.error';

/** A retriable operation kept failing until its retry policy gave up; `cause` holds the last error. */
export class RetriesExhaustedError extends TributaryError {
  static readonly code = 'RETRIES_EXHAUSTED';
  constructor(
    readonly operation: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`${operation} failed after ${attempts} attempts: ${cause instanceof Error ? cause.message : String(cause)}`, {
      code: RetriesExhaustedError.code,
      cause,
    });
  }
}
