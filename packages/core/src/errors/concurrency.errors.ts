import { ConcurrencyError } from './tributary.error';

/**
 * An append expected the aggregate to be at one version and found it at another:
 * another writer got there first.
 */
export class WrongExpectedVersionError extends ConcurrencyError {
  static readonly code = 'WRONG_EXPECTED_VERSION';
  constructor(
    readonly aggregateType: string,
    readonly aggregateId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      `${aggregateType} '${aggregateId}' is at version ${actualVersion}, not the expected ${expectedVersion}; ` +
        `load it again and retry the command`,
      WrongExpectedVersionError.code,
    );
  }
}
