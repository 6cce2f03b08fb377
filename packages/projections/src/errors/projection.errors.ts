import { ConfigurationError, TributaryError, describeRecord } from '@tributary/core';

/** A class given as a projection has no `@Projection(name)`. */
export class NotAProjectionError extends ConfigurationError {
  static readonly code = 'NOT_A_PROJECTION';
  constructor(className: string) {
    super(`${className} is not a projection: decorate it with @Projection('<name>'), or build one with defineProjection('<name>')`, NotAProjectionError.code);
  }
}

/** A projection name that cannot name a consumer group, a topic or a key. */
export class InvalidProjectionNameError extends ConfigurationError {
  static readonly code = 'INVALID_PROJECTION_NAME';
  constructor(name: unknown) {
    super(`Projection name ${JSON.stringify(name)} is not usable: use letters, digits, '.', '_' and '-' (it names a consumer group and a topic)`, InvalidProjectionNameError.code);
  }
}

/** `@On` was given something that is not an `@Event` class, or a handler is bound twice. */
export class InvalidProjectionHandlerError extends ConfigurationError {
  static readonly code = 'INVALID_PROJECTION_HANDLER';
  constructor(message: string) {
    super(message, InvalidProjectionHandlerError.code);
  }
}

/** The projection handles no event of the aggregates it was given, so it has no topic to read. */
export class NoProjectedEventsError extends ConfigurationError {
  static readonly code = 'NO_PROJECTED_EVENTS';
  constructor(projection: string, handled: readonly string[], aggregates: readonly string[]) {
    super(
      `Projection '${projection}' handles ${handled.length === 0 ? 'no event' : handled.join(', ')}, which none of the aggregates ${aggregates.join(', ') || '(none)'} apply; ` +
        `give the runner the aggregates whose events it projects`,
      NoProjectedEventsError.code,
    );
  }
}

/** A dead letter the store remembers is not in the dead-letter topic, so it cannot be redriven. */
export class DeadLetterNotFoundError extends TributaryError {
  static readonly code = 'DEAD_LETTER_NOT_FOUND';
  constructor(projection: string, dlqTopic: string, topic: string, partition: number, offset: string) {
    super(
      `Projection '${projection}' has an outstanding dead letter for ${describeRecord({ topic, partition, offset })} that is not in ${dlqTopic}; ` +
        `the topic lost it (retention?). Skip it with 'tributary dlq skip ${projection} ${topic}:${partition}:${offset}' or rebuild the projection`,
      { code: DeadLetterNotFoundError.code },
    );
  }
}

/** `dlq skip` named an event that is not an outstanding dead letter of the projection. */
export class UnknownDeadLetterError extends TributaryError {
  static readonly code = 'UNKNOWN_DEAD_LETTER';
  constructor(projection: string, what: string) {
    super(`Projection '${projection}' has no outstanding dead letter ${what}; 'tributary dlq list ${projection}' shows them`, { code: UnknownDeadLetterError.code });
  }
}

/** A redrive ran the handlers again and one still failed; the dead letters stay. */
export class RedriveFailedError extends TributaryError {
  static readonly code = 'REDRIVE_FAILED';
  constructor(projection: string, aggregate: string, where: string, cause: unknown) {
    super(
      `Redriving ${aggregate} into projection '${projection}' failed again at ${where}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        `Its dead letters stay; fix the handler (or skip the event) and redrive again`,
      { code: RedriveFailedError.code, cause },
    );
  }
}

/** The runner stopped because of an error it cannot get past. */
export class ProjectionStoppedError extends TributaryError {
  static readonly code = 'PROJECTION_STOPPED';
  constructor(projection: string, cause: unknown) {
    super(`Projection '${projection}' stopped: ${cause instanceof Error ? cause.message : String(cause)}`, { code: ProjectionStoppedError.code, cause });
  }
}

/** A handler kept failing with a retriable error: its event became a dead letter with this error. */
export class RetriesSpentError extends TributaryError {
  static readonly code = 'PROJECTION_RETRIES_SPENT';
  constructor(retries: number, cause: unknown) {
    super(`The handler failed ${retries + 1} times with a retriable error; last: ${cause instanceof Error ? cause.message : String(cause)}`, { code: RetriesSpentError.code, cause });
  }
}
