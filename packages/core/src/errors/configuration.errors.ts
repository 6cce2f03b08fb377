import { ConfigurationError } from './tributary.error';

/** Two event classes claim the same type name and version. */
export class DuplicateEventTypeError extends ConfigurationError {
  static readonly code = 'DUPLICATE_EVENT_TYPE';
  constructor(type: string, version: number, first: string, second: string) {
    super(
      `Event type '${type}' version ${version} is declared by both ${first} and ${second}; ` +
        `give one of them another name or version in its @Event decorator`,
      DuplicateEventTypeError.code,
    );
  }
}

/** Two aggregate classes claim the same aggregate type name. */
export class DuplicateAggregateTypeError extends ConfigurationError {
  static readonly code = 'DUPLICATE_AGGREGATE_TYPE';
  constructor(type: string, first: string, second: string) {
    super(
      `Aggregate type '${type}' is declared by both ${first} and ${second}; give one of them another name in @Aggregate`,
      DuplicateAggregateTypeError.code,
    );
  }
}

/** A class is used as an aggregate but has no `@Aggregate` decorator. */
export class NotAnAggregateError extends ConfigurationError {
  static readonly code = 'NOT_AN_AGGREGATE';
  constructor(className: string) {
    super(
      `${className} is not an aggregate; decorate it with @Aggregate('<TypeName>') and extend AggregateRoot`,
      NotAnAggregateError.code,
    );
  }
}

/** An aggregate declares no property as its identity. */
export class MissingAggregateIdError extends ConfigurationError {
  static readonly code = 'MISSING_AGGREGATE_ID';
  constructor(className: string) {
    super(
      `Aggregate ${className} has no identity; decorate the property that holds its id with @AggregateId()`,
      MissingAggregateIdError.code,
    );
  }
}

/** An aggregate applies an event for which it has no `@Apply` method. */
export class MissingApplierError extends ConfigurationError {
  static readonly code = 'MISSING_APPLIER';
  constructor(className: string, eventName: string) {
    super(
      `Aggregate ${className} applies ${eventName} but has no method decorated with @Apply(${eventName}); ` +
        `add one that evolves the state from that event`,
      MissingApplierError.code,
    );
  }
}

/** Two methods of one aggregate apply the same event. */
export class DuplicateApplierError extends ConfigurationError {
  static readonly code = 'DUPLICATE_APPLIER';
  constructor(className: string, eventName: string, first: string, second: string) {
    super(
      `Aggregate ${className} has two appliers for ${eventName}: ${first} and ${second}; keep one`,
      DuplicateApplierError.code,
    );
  }
}

/** A command was sent for which no aggregate has a `@CommandHandler`. */
export class MissingCommandHandlerError extends ConfigurationError {
  static readonly code = 'MISSING_COMMAND_HANDLER';
  constructor(commandName: string) {
    super(
      `No command handler for ${commandName}; decorate an aggregate method with @CommandHandler(${commandName}) ` +
        `and register that aggregate with the CommandBus`,
      MissingCommandHandlerError.code,
    );
  }
}

/** Two handlers are bound to the same command class. */
export class DuplicateCommandHandlerError extends ConfigurationError {
  static readonly code = 'DUPLICATE_COMMAND_HANDLER';
  constructor(commandName: string, first: string, second: string) {
    super(
      `Command ${commandName} has two handlers: ${first} and ${second}; a command must have exactly one`,
      DuplicateCommandHandlerError.code,
    );
  }
}

/** A command handled by an existing aggregate does not say which aggregate it targets. */
export class MissingTargetAggregateIdError extends ConfigurationError {
  static readonly code = 'MISSING_TARGET_AGGREGATE_ID';
  constructor(commandName: string, handler: string) {
    super(
      `Command ${commandName} (handled by ${handler}) does not say which aggregate it targets; ` +
        `decorate its id property with @TargetAggregateId(), or make the handler static to create a new aggregate`,
      MissingTargetAggregateIdError.code,
    );
  }
}

/** An object that is not an instance of an `@Event` class was used as an event. */
export class UndeclaredEventError extends ConfigurationError {
  static readonly code = 'UNDECLARED_EVENT';
  constructor(eventName: string, usedBy: string) {
    super(
      `${usedBy} uses ${eventName}, which is not a declared event; ` +
        `decorate ${eventName} with @Event('<TypeName>', { version: 1 })`,
      UndeclaredEventError.code,
    );
  }
}

/** A decorator was given arguments it cannot accept. */
export class InvalidDecoratorError extends ConfigurationError {
  static readonly code = 'INVALID_DECORATOR';
  constructor(message: string) {
    super(message, InvalidDecoratorError.code);
  }
}

/** A configuration option given to a Tributary component is invalid. */
export class InvalidOptionError extends ConfigurationError {
  static readonly code = 'INVALID_OPTION';
  constructor(message: string) {
    super(message, InvalidOptionError.code);
  }
}

/** A command class that must travel between processes has no `@Command` name. */
export class UndeclaredCommandError extends ConfigurationError {
  static readonly code = 'UNDECLARED_COMMAND';
  constructor(commandName: string, usedBy: string) {
    super(
      `${usedBy} needs a persisted name for ${commandName}; decorate it with @Command('<Name>')`,
      UndeclaredCommandError.code,
    );
  }
}

/** Two command classes claim the same persisted name. */
export class DuplicateCommandTypeError extends ConfigurationError {
  static readonly code = 'DUPLICATE_COMMAND_TYPE';
  constructor(name: string, first: string, second: string) {
    super(
      `Command name '${name}' is declared by both ${first} and ${second}; give one of them another name in @Command`,
      DuplicateCommandTypeError.code,
    );
  }
}
