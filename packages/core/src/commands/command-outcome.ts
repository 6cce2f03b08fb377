import { createHash } from 'node:crypto';
import { TributaryError } from '../errors/tributary.error';
import { RetriesExhaustedError } from '../errors/retries-exhausted.error';
import { InvalidOptionError } from '../errors/configuration.errors';

/**
 * What happened to a command, by its id: answered by `outcome(commandId, …)` on
 * the command buses, for a caller that lost the reply (a timeout, a crash) and
 * must not guess.
 *
 * - `succeeded`: it was decided and its events are durably written; `version`
 *   is the aggregate's version right after it, `eventCount` how many it wrote.
 * - `failed`: it was decided and refused; `error` is the error it was refused
 *   with (rebuilt as its class where the bus knows it).
 * - `unknown`: no decision is on record: it was never received, is still on its
 *   way, or was decided so long ago that the aggregate no longer keeps it (see
 *   `decidedCommandsPerAggregate`).
 */
export type CommandOutcome =
  | {
      readonly status: 'succeeded';
      readonly commandId: string;
      readonly aggregateType: string;
      readonly aggregateId: string;
      readonly version: number;
      readonly eventCount: number;
    }
  | {
      readonly status: 'failed';
      readonly commandId: string;
      readonly aggregateType: string;
      readonly aggregateId: string;
      readonly error: Error;
    }
  | { readonly status: 'unknown'; readonly commandId: string; readonly aggregateType: string; readonly aggregateId: string };

/**
 * How many decided command ids each aggregate keeps, with their outcomes, by
 * default. A command sent again with the same id is answered from this record
 * instead of being decided again, as long as fewer than this many other
 * commands were decided on the same aggregate since.
 */
export const DEFAULT_DECIDED_COMMANDS_PER_AGGREGATE = 64;

/**
 * Whether a failure is a decision, to be kept and given again to a retry of the
 * same command id. A retriable failure (a registry that is down, a broker that
 * timed out, conflicts that outlasted the retries) decided nothing: the command
 * wrote nothing, and a retry decides it anew.
 */
export function failureDecides(error: unknown): boolean {
  if (error instanceof RetriesExhaustedError) return false;
  return !(error instanceof TributaryError && error.retriable);
}

/**
 * The kept decisions of one aggregate after one more: `decision` appended, the
 * oldest dropped beyond `limit`. A new array; the one given is not changed.
 */
export function rememberDecision<T extends { readonly id: string }>(kept: readonly T[] | undefined, decision: T, limit: number): T[] {
  const next = (kept ?? []).filter((entry) => entry.id !== decision.id);
  next.push(decision);
  return next.length > limit ? next.slice(next.length - limit) : next;
}

/** The kept decision of a command id, if any. */
export function findDecision<T extends { readonly id: string }>(kept: readonly T[] | undefined, commandId: string): T | undefined {
  if (!kept) return undefined;
  // Newest last: a retry usually follows its first attempt closely.
  for (let index = kept.length - 1; index >= 0; index -= 1) if (kept[index].id === commandId) return kept[index];
  return undefined;
}

/** Checks the `decidedCommandsPerAggregate` option of a bus or processor. */
export function decidedCommandsLimit(value: number | undefined, component: string): number {
  const limit = value ?? DEFAULT_DECIDED_COMMANDS_PER_AGGREGATE;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new InvalidOptionError(`${component} option decidedCommandsPerAggregate must be a whole number of 0 or more (0 turns deduplication off), got ${JSON.stringify(value)}`);
  }
  return limit;
}

/**
 * What a command is, in a few characters: its type and its data, hashed. Kept
 * with each decision, so that a command id that comes again with another
 * command is refused ({@link CommandIdConflictError}) instead of being answered
 * with a decision that was not about it.
 */
export function commandFingerprint(commandType: string, data: string | Uint8Array | null | undefined): string {
  const hash = createHash('sha256').update(commandType).update('\u0000');
  if (data !== null && data !== undefined) hash.update(data);
  return hash.digest('base64url').slice(0, 16);
}
