import { InvalidOptionError } from '@tributary/core';

/**
 * How a schema registry checks a new version of a subject against the ones it
 * has (the Confluent names). BACKWARD: the new schema reads data written with
 * the latest; FORWARD: the latest reads data written with the new one; FULL:
 * both. `_TRANSITIVE` checks against every earlier version, not only the latest.
 */
export type CompatibilityLevel =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

/** Every {@link CompatibilityLevel}, in the order the Confluent documentation lists them. */
export const COMPATIBILITY_LEVELS: readonly CompatibilityLevel[] = Object.freeze([
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
]);

/** Event history must stay readable by today's schema, all of it: hence transitive. */
export const DEFAULT_COMPATIBILITY_LEVEL: CompatibilityLevel = 'BACKWARD_TRANSITIVE';

export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

/** Guard for options: throws a message that lists the accepted levels. */
export function checkCompatibilityLevel(value: unknown, option: string): CompatibilityLevel {
  if (!isCompatibilityLevel(value)) {
    throw new InvalidOptionError(`${option} must be one of ${COMPATIBILITY_LEVELS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value;
}
