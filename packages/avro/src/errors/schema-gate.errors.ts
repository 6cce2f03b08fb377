import { ConfigurationError } from '@tributary/core';

/** A version of an event in the registry has no path, by resolution or upcasters, to a current class. */
export class EventSchemaGapError extends ConfigurationError {
  static readonly code = 'EVENT_SCHEMA_GAP';
  constructor(readonly gaps: readonly string[]) {
    super(
      `${gaps.length} event schema version(s) in the registry cannot be read into today's classes; declare the missing ` +
        `class versions with their schemas, or upcasters from them:\n${gaps.map((gap) => `- ${gap}`).join('\n')}`,
      EventSchemaGapError.code,
    );
  }
}

/** A current event schema breaks its subject's compatibility rule; nothing was registered. */
export class IncompatibleEventSchemaError extends ConfigurationError {
  static readonly code = 'INCOMPATIBLE_EVENT_SCHEMA';
  constructor(readonly findings: readonly string[]) {
    super(
      `${findings.length} event schema(s) would break readers of the history, so none was registered:\n${findings.join('\n')}`,
      IncompatibleEventSchemaError.code,
    );
  }
}
