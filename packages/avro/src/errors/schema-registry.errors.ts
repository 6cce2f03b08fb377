import { TributaryError } from '@tributary/core';
import type { CompatibilityIssue } from '../schema-compatibility';

/**
 * The schema registry could not be reached, timed out or answered with a
 * server error (5xx, 408, 429). Retriable: registries restart and networks come
 * back. The registry client retries it itself with backoff, and still throws
 * it, retriable, when its retries run out: the command or read that needed the
 * registry may pass later.
 */
export class SchemaRegistryUnavailableError extends TributaryError {
  static readonly code = 'SCHEMA_REGISTRY_UNAVAILABLE';
  constructor(
    readonly url: string,
    readonly operation: string,
    /** The HTTP status, or undefined when no answer came. */
    readonly status: number | undefined,
    cause?: unknown,
    /** How many requests were made before giving up, when the client retried. */
    readonly attempts?: number,
  ) {
    const what = status === undefined ? `no answer (${describeCause(cause)})` : `HTTP ${status}${detailOf(cause)}`;
    super(
      `The schema registry at ${url} gave ${what} while ${operation}${attempts === undefined ? '' : `, after ${attempts} attempts`}. ` +
        `Check that SCHEMA_REGISTRY_URL (the url option) points at a running Confluent-compatible registry, ` +
        `e.g. http://host:8080/apis/ccompat/v7 for Apicurio.`,
      { code: SchemaRegistryUnavailableError.code, retriable: true, cause },
    );
  }
}

/** The registry refused a request for a reason that trying again will not fix (a 4xx other than the ones with their own class). */
export class SchemaRegistryRequestError extends TributaryError {
  static readonly code = 'SCHEMA_REGISTRY_REQUEST_FAILED';
  constructor(
    readonly operation: string,
    readonly status: number,
    /** The registry's `error_code`, e.g. 40401, when it sent one. */
    readonly registryErrorCode: number | undefined,
    readonly registryMessage: string,
  ) {
    super(
      `The schema registry refused ${operation} with HTTP ${status}` +
        `${registryErrorCode === undefined ? '' : ` (error_code ${registryErrorCode})`}: ${registryMessage}`,
      { code: SchemaRegistryRequestError.code, retriable: false },
    );
  }
}

/**
 * The registry refused to register a schema under a subject because it breaks
 * the subject's compatibility level. `issues` names the fields and rules, as
 * found by {@link schemaCompatibilityIssues} (registries do not say which field).
 *
 * @example
 * ```ts
 * try {
 *   await serializer.serialize(payload, context);
 * } catch (error) {
 *   if (error instanceof IncompatibleSchemaError) for (const issue of error.issues) console.error(issue.path, issue.rule);
 *   throw error;
 * }
 * ```
 */
export class IncompatibleSchemaError extends TributaryError {
  static readonly code = 'SCHEMA_INCOMPATIBLE';
  constructor(
    readonly subject: string,
    readonly level: string | undefined,
    readonly issues: readonly CompatibilityIssue[],
    /** What the registry said, when it was a remote one. */
    readonly registryMessage?: string,
  ) {
    const found =
      issues.length > 0
        ? issues.map((issue) => `${issue.path || '(record)'}: ${issue.message} [${issue.rule}]`).join('; ')
        : (registryMessage ?? 'the registry gave no details');
    super(
      `The schema is not ${level ?? 'compatible'}-compatible with subject ${subject}: ${found}. ` +
        `Keep a resolvable shape (add fields with defaults, remove only fields that had defaults) or declare a new ` +
        `event type and an upcaster.`,
      { code: IncompatibleSchemaError.code, retriable: false },
    );
  }
}

/**
 * Two clients set a new subject's compatibility at the same moment, to
 * different levels. Apicurio keeps the first and refuses the second (HTTP 409);
 * overwriting it would hide that writers of one subject disagree on its rule.
 * Not retriable: the configuration must agree first.
 */
export class CompatibilityLevelConflictError extends TributaryError {
  static readonly code = 'SCHEMA_COMPATIBILITY_CONFLICT';
  constructor(
    readonly subject: string,
    /** The level this client tried to set. */
    readonly requested: string,
    /** The level the subject has: the other client's. */
    readonly current: string,
  ) {
    super(
      `Subject ${subject} got compatibility ${current} from another client at the moment this one set ${requested}. ` +
        `Every writer of a subject must use one level: give all AvroSerializers (the compatibility option) and ` +
        `\`tributary schemas register\` the same one, or set the subject's level once before its first write.`,
      { code: CompatibilityLevelConflictError.code, retriable: false },
    );
  }
}

/** The registry could not parse a schema sent to it (HTTP 422). */
export class InvalidSchemaError extends TributaryError {
  static readonly code = 'SCHEMA_INVALID';
  constructor(
    readonly subject: string,
    readonly reason: string,
  ) {
    super(`The schema sent for subject ${subject} is not a valid Avro schema: ${reason}`, {
      code: InvalidSchemaError.code,
      retriable: false,
    });
  }
}

/** No schema has this id in the registry. */
export class SchemaIdNotFoundError extends TributaryError {
  static readonly code = 'SCHEMA_ID_NOT_FOUND';
  constructor(readonly id: number) {
    super(
      `The schema registry has no schema with id ${id}. Was the data written against another registry? ` +
        `Schema ids are only meaningful in the registry that issued them.`,
      { code: SchemaIdNotFoundError.code, retriable: false },
    );
  }
}

/** A subject, or the given version of it, does not exist. */
export class SchemaVersionNotFoundError extends TributaryError {
  static readonly code = 'SCHEMA_VERSION_NOT_FOUND';
  constructor(
    readonly subject: string,
    readonly version: number,
  ) {
    super(`Subject ${subject} has no version ${version}; list its versions with versions(subject)`, {
      code: SchemaVersionNotFoundError.code,
      retriable: false,
    });
  }
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${cause.message}: ${code}` : cause.message;
}

function detailOf(cause: unknown): string {
  return cause === undefined ? '' : `: ${cause instanceof Error ? cause.message : String(cause)}`;
}
