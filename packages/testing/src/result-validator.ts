import { isDeepStrictEqual } from 'node:util';
import { AggregateRoot, EventRegistry } from '@tributary/core';
import { FixtureAssertionError } from './fixture-assertion.error';
import { formatError, formatEvents } from './event-formatting';

/** What a command did in a fixture: the events it stored, or the error it threw. */
export type CommandOutcome = { readonly events: readonly object[] } | { readonly error: unknown };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * Checks the outcome of one `when(command)`. Each expectation is a promise: await
 * it, so a failure fails the test.
 *
 * @example
 * ```ts
 * const result = fixture.given(orderCreated).when(new SubmitOrder('o-1'));
 * await result.expectError(EmptyOrderError, /no items/);
 * ```
 */
export class ResultValidator<T extends AggregateRoot> {
  /** @internal */
  constructor(
    private readonly outcome: Promise<CommandOutcome>,
    private readonly loadState: () => Promise<T | undefined>,
    private readonly registry: EventRegistry,
  ) {}

  /** Expects the command to succeed and store exactly these events, in this order. */
  async expectEvents(...expected: object[]): Promise<this> {
    const outcome = await this.outcome;
    const wanted = formatEvents(expected, this.registry);
    if ('error' in outcome) {
      throw new FixtureAssertionError('Expected the command to store events, but it failed', wanted, formatError(outcome.error));
    }
    const same =
      outcome.events.length === expected.length &&
      outcome.events.every((event, index) => this.sameEvent(event, expected[index]));
    if (!same) {
      throw new FixtureAssertionError('The command stored other events than expected', wanted, formatEvents(outcome.events, this.registry));
    }
    return this;
  }

  /** Expects the command to succeed and change nothing. */
  async expectNoEvents(): Promise<this> {
    return this.expectEvents();
  }

  /**
   * Expects the command to fail with an error of this class, and, if given, a
   * message that contains the string or matches the pattern. Nothing is stored.
   */
  async expectError(errorClass: ErrorClass, message?: string | RegExp): Promise<this> {
    const outcome = await this.outcome;
    const wanted = `  ${errorClass.name}${message === undefined ? '' : `: ${String(message)}`}`;
    if (!('error' in outcome)) {
      throw new FixtureAssertionError(
        `Expected the command to fail with ${errorClass.name}, but it succeeded`,
        wanted,
        formatEvents(outcome.events, this.registry),
      );
    }
    const error = outcome.error;
    const messageMatches =
      message === undefined ||
      (error instanceof Error && (typeof message === 'string' ? error.message.includes(message) : message.test(error.message)));
    if (!(error instanceof errorClass) || !messageMatches) {
      throw new FixtureAssertionError(`Expected the command to fail with ${errorClass.name}`, wanted, formatError(error));
    }
    return this;
  }

  /**
   * Runs an assertion on the aggregate as loaded from the store after the command
   * (its given state if the command failed). The assertion throws to fail, as
   * chai's `expect` does, or returns `false`.
   */
  async expectState(assertion: (aggregate: T) => unknown): Promise<this> {
    await this.outcome;
    const aggregate = await this.loadState();
    if (!aggregate) {
      throw new FixtureAssertionError('Expected an aggregate to check, but none exists', '  an aggregate', '  (no events stored)');
    }
    if (assertion(aggregate) === false) {
      throw new FixtureAssertionError('The state assertion returned false', '  true', '  false');
    }
    return this;
  }

  private sameEvent(actual: object, expected: object): boolean {
    const actualType = this.registry.describe(actual);
    const expectedType = this.registry.describe(expected);
    return (
      actualType !== undefined &&
      actualType === expectedType &&
      isDeepStrictEqual(this.registry.toData(actual), this.registry.toData(expected))
    );
  }
}
