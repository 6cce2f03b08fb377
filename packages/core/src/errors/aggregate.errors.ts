import { TributaryError } from './tributary.error';

/** A command targeted an aggregate that has no events. */
export class AggregateNotFoundError extends TributaryError {
  static readonly code = 'AGGREGATE_NOT_FOUND';
  constructor(
    readonly aggregateType: string,
    readonly aggregateId: string,
  ) {
    super(`${aggregateType} '${aggregateId}' does not exist; create it before sending it commands`, {
      code: AggregateNotFoundError.code,
    });
  }
}

/** A creation command targeted an id that already has events. */
export class AggregateAlreadyExistsError extends TributaryError {
  static readonly code = 'AGGREGATE_ALREADY_EXISTS';
  constructor(
    readonly aggregateType: string,
    readonly aggregateId: string,
  ) {
    super(`${aggregateType} '${aggregateId}' already exists; choose a new id, or send it a command that changes it`, {
      code: AggregateAlreadyExistsError.code,
    });
  }
}

/** A creation handler returned an aggregate whose `@AggregateId` property is empty. */
export class MissingAggregateIdValueError extends TributaryError {
  static readonly code = 'MISSING_AGGREGATE_ID_VALUE';
  constructor(handler: string, idProperty: string) {
    super(
      `${handler} created an aggregate whose id property '${idProperty}' is empty; ` +
        `set it in the applier of the creation event`,
      { code: MissingAggregateIdValueError.code },
    );
  }
}

/** Stored events of one aggregate are not numbered 1, 2, 3 … without gaps. */
export class EventSequenceError extends TributaryError {
  static readonly code = 'EVENT_SEQUENCE_BROKEN';
  constructor(aggregateType: string, aggregateId: string, expected: number, actual: number) {
    super(
      `${aggregateType} '${aggregateId}': expected event sequence ${expected} but read ${actual}; ` +
        `the stream has a gap or a duplicate and cannot be loaded safely`,
      { code: EventSequenceError.code },
    );
  }
}

/**
 * A stored event names a type and version no registered event class declares,
 * and no upcaster reads. `context` says where it was met, e.g.
 * `Reading topic shop.Order.events, partition 2, offset 41`.
 */
export class UnknownEventTypeError extends TributaryError {
  static readonly code = 'UNKNOWN_EVENT_TYPE';
  constructor(
    readonly type: string,
    readonly version: number,
    context: string,
  ) {
    super(
      `${context}: no event class is declared for type '${type}' version ${version}; ` +
        `declare it with @Event('${type}', { version: ${version} }) and register the aggregate that applies it, ` +
        `or add an upcaster for it with defineUpcaster('${type}', ${version}, …)`,
      { code: UnknownEventTypeError.code },
    );
  }
}

/** A command lacks the id of the aggregate it targets. */
export class MissingTargetIdValueError extends TributaryError {
  static readonly code = 'MISSING_TARGET_ID_VALUE';
  constructor(commandName: string, property: string, aggregateType: string) {
    super(`${commandName}.${property} is empty; set it to the id of the ${aggregateType} the command is for`, {
      code: MissingTargetIdValueError.code,
    });
  }
}

/** A command handler gave back something the framework cannot use. */
export class InvalidHandlerResultError extends TributaryError {
  static readonly code = 'INVALID_HANDLER_RESULT';
  constructor(handler: string, expectation: string) {
    super(`${handler} ${expectation}`, { code: InvalidHandlerResultError.code });
  }
}

/** A received command names a type no registered command class declares. */
export class UnknownCommandTypeError extends TributaryError {
  static readonly code = 'UNKNOWN_COMMAND_TYPE';
  constructor(name: string, context: string) {
    super(`${context}: no command class is declared as '${name}'; declare it with @Command('${name}') and register its aggregate`, {
      code: UnknownCommandTypeError.code,
    });
  }
}
