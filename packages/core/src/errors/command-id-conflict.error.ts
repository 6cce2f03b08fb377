import { TributaryError } from './tributary.error';

/**
 * A command id came again with another command: a different type or different
 * data than the command it was decided for. Idempotency answers a repeat with
 * the first decision, so taking this one as a repeat would report a command as
 * done that never ran. Not retriable: give each command its own id, and reuse
 * an id only to send the very same command again.
 */
export class CommandIdConflictError extends TributaryError {
  static readonly code = 'COMMAND_ID_CONFLICT';
  constructor(
    readonly commandId: string,
    readonly aggregateType: string,
    readonly aggregateId: string,
  ) {
    super(
      `Command id '${commandId}' was already decided on ${aggregateType} '${aggregateId}' for another command (a different type or ` +
        `different data). A command id names one command: give each command its own id, and reuse an id only to send the very same command again.`,
      { code: CommandIdConflictError.code },
    );
  }
}
