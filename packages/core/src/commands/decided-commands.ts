import { CommandIdConflictError } from '../errors/command-id-conflict.error';
import { CommandOutcome, failureDecides, findDecision, rememberDecision } from './command-outcome';

/** The answer to a command whose id was decided already. */
export interface DeduplicatedResult {
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly version: number;
  readonly events: readonly [];
  readonly deduplicated: true;
}

/** What a decision led to; only what a retry of the same id is answered with. */
type Decision = (
  | { readonly id: string; readonly version: number; readonly eventCount: number }
  | { readonly id: string; readonly error: unknown }
) & {
  /** What the command was (`commandFingerprint`): the same id with another command is refused. */
  readonly fingerprint?: string;
};

/**
 * The decided command ids of a {@link CommandBus}, per aggregate, with their
 * outcomes: the last `limit` of each aggregate, in memory. A command whose id is
 * on record is answered from it and decides nothing; a command whose id is being
 * decided right now waits for that decision and is answered from it too, so one
 * id is never decided twice at once.
 *
 * @internal The bus's own record; the public face is `CommandBus.execute` and `CommandBus.outcome`.
 */
export class DecidedCommands {
  /** Kept decisions by aggregate, oldest first. */
  private readonly kept = new Map<string, Decision[]>();
  /** Decisions under way, by aggregate and command id; each settles after its outcome is kept. */
  private readonly running = new Map<string, Promise<unknown>>();

  /** @param limit decisions kept per aggregate; 0 keeps none and deduplicates nothing. */
  constructor(private readonly limit: number) {}

  /**
   * Decides a command on one aggregate at most once per command id: runs
   * `decide` unless the id was decided on that aggregate, and keeps the outcome,
   * a success, or a failure that {@link failureDecides}.
   *
   * @returns `decide`'s result, or the kept decision's: its version, with no events.
   * @throws `decide`'s error, or the error a kept failure was refused with, the same instance;
   *   {@link CommandIdConflictError} when the id was decided for another command (`fingerprint`).
   */
  async decideOnce<R extends { readonly version: number; readonly events: readonly unknown[] }>(
    aggregateType: string,
    aggregateId: string,
    commandId: string,
    fingerprint: string,
    decide: () => Promise<R>,
  ): Promise<R | DeduplicatedResult> {
    if (this.limit === 0) return decide();
    const key = JSON.stringify([aggregateType, aggregateId, commandId]);
    // A loop, not one wait: several waiters wake together and only the first may start a new decision.
    for (let earlier = this.running.get(key); earlier; earlier = this.running.get(key)) {
      await earlier.catch(() => undefined);
    }
    const decision = findDecision(this.kept.get(streamKey(aggregateType, aggregateId)), commandId);
    if (decision) {
      if (decision.fingerprint !== undefined && decision.fingerprint !== fingerprint) throw new CommandIdConflictError(commandId, aggregateType, aggregateId);
      if ('error' in decision) throw decision.error;
      return { aggregateType, aggregateId, version: decision.version, events: [], deduplicated: true };
    }
    const run = decide()
      .then(
        (result) => {
          this.rememberSuccess(aggregateType, aggregateId, commandId, fingerprint, result);
          return result;
        },
        (error: unknown) => {
          if (failureDecides(error)) this.remember(aggregateType, aggregateId, { id: commandId, error, fingerprint });
          throw error;
        },
      )
      .finally(() => this.running.delete(key));
    this.running.set(key, run);
    return run;
  }

  /**
   * Keeps a success decided without {@link DecidedCommands.decideOnce}: a
   * creation command that names its aggregate only once it has run.
   */
  rememberSuccess(
    aggregateType: string,
    aggregateId: string,
    commandId: string,
    fingerprint: string,
    result: { readonly version: number; readonly events: readonly unknown[] },
  ): void {
    this.remember(aggregateType, aggregateId, { id: commandId, version: result.version, eventCount: result.events.length, fingerprint });
  }

  /** What became of a command id on one aggregate, by the record. */
  outcome(aggregateType: string, aggregateId: string, commandId: string): CommandOutcome {
    const base = { commandId, aggregateType, aggregateId };
    const decision = findDecision(this.kept.get(streamKey(aggregateType, aggregateId)), commandId);
    if (!decision) return { status: 'unknown', ...base };
    if ('error' in decision) {
      const error = decision.error instanceof Error ? decision.error : new Error(String(decision.error));
      return { status: 'failed', ...base, error };
    }
    return { status: 'succeeded', ...base, version: decision.version, eventCount: decision.eventCount };
  }

  private remember(aggregateType: string, aggregateId: string, decision: Decision): void {
    if (this.limit === 0) return;
    const stream = streamKey(aggregateType, aggregateId);
    this.kept.set(stream, rememberDecision(this.kept.get(stream), decision, this.limit));
  }
}

function streamKey(aggregateType: string, aggregateId: string): string {
  return JSON.stringify([aggregateType, aggregateId]);
}
