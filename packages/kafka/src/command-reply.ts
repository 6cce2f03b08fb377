import * as core from '@tributary/core';
import * as kafkaErrors from './errors/kafka.errors';
import * as processorErrors from './errors/processor.errors';
import { DomainError, EventData, TributaryError } from '@tributary/core';
import type { AggregateSnapshot, DecidedCommand } from './partition-state-store';

/** An event as carried in a reply: the envelope fields the caller does not know already. */
export interface ReplyEvent {
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly sequence: number;
  readonly occurredAt: string;
  readonly payload: EventData;
}

/** An error as carried in a reply. */
export interface ReplyError {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly retriable: boolean;
  readonly domain: boolean;
  /** The error's own primitive fields, e.g. `aggregateId`, so the revived error has them too. */
  readonly fields: Readonly<Record<string, string | number | boolean>>;
}

/** What the owner of a command's partition answers, once the command's transaction is committed. */
export type CommandReply =
  | {
      readonly commandId: string;
      readonly status: 'ok';
      readonly aggregateType: string;
      readonly aggregateId: string;
      readonly version: number;
      readonly events: readonly ReplyEvent[];
      /** The aggregate's state, in answer to a `load` request. */
      readonly snapshot?: AggregateSnapshot;
      /** True when the command id had been decided before: this is that decision's outcome, and nothing was decided now. */
      readonly deduplicated?: boolean;
      /** In answer to an `outcome` request: the decision kept for the command id asked about, or null if none is. */
      readonly decision?: DecidedCommand | null;
    }
  | { readonly commandId: string; readonly status: 'error'; readonly error: ReplyError };

/** The processor failed a command with an error this process cannot rebuild as its own class. */
export class CommandFailedError extends TributaryError {
  static readonly code = 'COMMAND_FAILED';
  constructor(
    readonly remoteName: string,
    remoteCode: string,
    message: string,
    retriable: boolean,
  ) {
    super(`${remoteName} [${remoteCode}] in the command processor: ${message}`, { code: remoteCode || CommandFailedError.code, retriable });
  }
}

/** Describes an error for a reply. */
export function replyError(error: unknown): ReplyError {
  if (!(error instanceof Error)) {
    return { name: 'Error', code: 'UNKNOWN', message: String(error), retriable: false, domain: false, fields: {} };
  }
  const fields: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(error)) {
    if (['string', 'number', 'boolean'].includes(typeof value) && !['name', 'message', 'code', 'retriable', 'stack'].includes(key)) {
      fields[key] = value as string | number | boolean;
    }
  }
  const tributary = error instanceof TributaryError ? error : undefined;
  return {
    name: error.name,
    code: tributary?.code ?? 'UNKNOWN',
    message: error.message,
    retriable: tributary?.retriable ?? false,
    domain: error instanceof DomainError,
    fields,
  };
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Rebuilds errors from replies as instances of their own classes, so callers can
 * `catch (e) { if (e instanceof EmptyOrderError) … }` across processes. Knows
 * Tributary's errors (core's and this package's) and the domain errors it is given; others come back as
 * {@link DomainError} (for domain errors) or {@link CommandFailedError}.
 */
export class ErrorReviver {
  private readonly classes = new Map<string, ErrorClass>();

  constructor(domainErrors: readonly ErrorClass[] = []) {
    for (const candidate of [...Object.values(core), ...Object.values(processorErrors), ...Object.values(kafkaErrors)]) {
      if (typeof candidate === 'function' && candidate.prototype instanceof TributaryError) this.classes.set(candidate.name, candidate as ErrorClass);
    }
    for (const errorClass of domainErrors) this.classes.set(errorClass.name, errorClass);
  }

  revive(described: ReplyError): Error {
    const errorClass = this.classes.get(described.name);
    if (!errorClass) {
      return described.domain
        ? Object.assign(new DomainError(described.message, described.code), described.fields)
        : new CommandFailedError(described.name, described.code, described.message, described.retriable);
    }
    // Constructors take domain-specific arguments; rebuild the instance from its fields instead.
    const revived = Object.create(errorClass.prototype) as Error & Record<string, unknown>;
    Object.assign(revived, described.fields, {
      name: described.name,
      message: described.message,
      code: described.code,
      retriable: described.retriable,
    });
    revived.stack = `${described.name}: ${described.message}\n    at the command processor`;
    return revived;
  }
}
