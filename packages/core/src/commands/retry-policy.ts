import { InvalidOptionError } from '../errors/configuration.errors';
import { RetriesExhaustedError } from '../errors/retries-exhausted.error';

/** How often and how patiently to retry an operation that failed with a retriable error. */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 disables retrying. */
  readonly retries: number;
  /** Delay before the first retry, in milliseconds. */
  readonly initialDelayMs: number;
  /** Upper bound of any one delay, in milliseconds. */
  readonly maxDelayMs: number;
  /** Growth of the delay from one retry to the next. */
  readonly multiplier: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  retries: 5,
  initialDelayMs: 5,
  maxDelayMs: 500,
  multiplier: 2,
});

/** Fills in and checks a partial policy. */
export function retryPolicy(options: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options };
  const check = (name: keyof RetryPolicy, ok: boolean, rule: string) => {
    if (!ok) throw new InvalidOptionError(`retry.${name} must be ${rule}, got ${String(policy[name])}`);
  };
  check('retries', Number.isInteger(policy.retries) && policy.retries >= 0, 'an integer of 0 or more');
  check('initialDelayMs', policy.initialDelayMs >= 0, 'a number of 0 or more');
  check('maxDelayMs', policy.maxDelayMs >= policy.initialDelayMs, 'at least initialDelayMs');
  check('multiplier', policy.multiplier >= 1, 'a number of 1 or more');
  return policy;
}

/**
 * Runs `attempt` until it succeeds, retrying errors marked `retriable` with
 * exponential backoff and full jitter. Non-retriable errors pass through at once;
 * when retries run out, a {@link RetriesExhaustedError} wraps the last error.
 *
 * Jitter matters here: writers that collided once would otherwise collide again
 * on every retry, at the same moments.
 */
export async function withRetry<T>(operation: string, policy: RetryPolicy, attempt: (attemptNumber: number) => Promise<T>): Promise<T> {
  for (let attemptNumber = 1; ; attemptNumber += 1) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (!isRetriable(error)) throw error;
      if (attemptNumber > policy.retries) throw new RetriesExhaustedError(operation, attemptNumber, error);
      await sleep(retryDelayMs(policy, attemptNumber));
    }
  }
}

/**
 * The wait before retry number `retryNumber` (1 for the first retry):
 * exponential backoff with full jitter, for loops that cannot use
 * {@link withRetry} as it is (a consumer that must return to its poll loop
 * between attempts).
 */
export function retryDelayMs(policy: RetryPolicy, retryNumber: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** (Math.max(1, retryNumber) - 1));
  return Math.random() * ceiling;
}

function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
