/**
 * A failed expectation of a test fixture. Carries `expected` and `actual` as
 * readable text, with `showDiff`, so mocha and other runners print a diff.
 */
export class FixtureAssertionError extends Error {
  readonly showDiff = true;

  constructor(
    message: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${message}\n\nExpected:\n${expected}\n\nActual:\n${actual}`);
    this.name = 'FixtureAssertionError';
  }
}
