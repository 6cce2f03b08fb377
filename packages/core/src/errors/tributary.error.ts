/** Options shared by every {@link TributaryError}. */
export interface TributaryErrorOptions {
  /** Stable machine-readable code, e.g. `WRONG_EXPECTED_VERSION`. */
  code: string;
  /** Whether trying the same operation again may succeed. Defaults to `false`. */
  retriable?: boolean;
  /** The error that led to this one. */
  cause?: unknown;
}

/**
 * Root of every error Tributary throws.
 *
 * Catch this to handle all framework errors; switch on {@link TributaryError.code}
 * rather than on messages, which are written for people and may change.
 *
 * @example
 * ```ts
 * try {
 *   await commandBus.execute(new SubmitOrder('o-1'));
 * } catch (error) {
 *   if (error instanceof TributaryError && error.retriable) scheduleRetry();
 *   else throw error;
 * }
 * ```
 */
export class TributaryError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  override readonly cause?: unknown;

  constructor(message: string, options: TributaryErrorOptions) {
    super(message);
    // `name` survives minification and shows in stack traces; derive it from the concrete class.
    this.name = new.target.name;
    this.code = options.code;
    this.retriable = options.retriable ?? false;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * A misuse of the framework found when it starts: a decorator in the wrong place,
 * a missing or duplicate binding. Never retriable: the code must change.
 */
export class ConfigurationError extends TributaryError {
  constructor(message: string, code: string, cause?: unknown) {
    super(message, { code, retriable: false, cause });
  }
}

/**
 * Another writer changed the aggregate first. Retriable: loading the aggregate
 * again and re-running the command may succeed.
 */
export class ConcurrencyError extends TributaryError {
  constructor(message: string, code: string, cause?: unknown) {
    super(message, { code, retriable: true, cause });
  }
}

/**
 * Base class for the errors your command handlers throw when a command breaks a
 * business rule. Never retriable: the same command against the same state fails again.
 *
 * @example
 * ```ts
 * export class OrderAlreadySubmittedError extends DomainError {
 *   constructor(orderId: string) {
 *     super(`Order ${orderId} is already submitted; items can no longer change`, 'ORDER_ALREADY_SUBMITTED');
 *   }
 * }
 * ```
 */
export class DomainError extends TributaryError {
  constructor(message: string, code: string, cause?: unknown) {
    super(message, { code, retriable: false, cause });
  }
}
