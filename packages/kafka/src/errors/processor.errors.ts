import { TributaryError } from '@tributary/core';

/** A processor or bus did not get its partitions from the consumer group in time. */
export class GroupJoinTimeoutError extends TributaryError {
  static readonly code = 'GROUP_JOIN_TIMEOUT';
  constructor(groupId: string, waitedMs: number) {
    super(
      `Joining consumer group '${groupId}' took longer than ${waitedMs} ms; check that the broker is healthy ` +
        `and that the group's other members are not stuck in a rebalance`,
      { code: GroupJoinTimeoutError.code, retriable: true },
    );
  }
}

/** Restoring a partition's state from the snapshots topics did not finish in time. */
export class RestoreTimeoutError extends TributaryError {
  static readonly code = 'RESTORE_TIMEOUT';
  constructor(partition: number, waitedMs: number) {
    super(
      `Restoring the state of command partition ${partition} did not reach the end of the snapshots topics within ${waitedMs} ms; ` +
        `raise restoreTimeoutMs or check the broker`,
      { code: RestoreTimeoutError.code, retriable: true },
    );
  }
}

/**
 * No reply came for a command in time. Its outcome is unknown: the processor may
 * still apply it. Retrying may apply it twice unless the command is idempotent.
 */
export class CommandTimeoutError extends TributaryError {
  static readonly code = 'COMMAND_TIMEOUT';
  constructor(
    readonly commandId: string,
    commandName: string,
    waitedMs: number,
  ) {
    super(
      `No reply to ${commandName} (command id ${commandId}) within ${waitedMs} ms; its outcome is unknown. ` +
        `Check that a CommandProcessor is running for this app, or raise commandTimeoutMs`,
      { code: CommandTimeoutError.code, retriable: false },
    );
  }
}

/** Reading a partition did not reach its end in time. */
export class ReadTimeoutError extends TributaryError {
  static readonly code = 'READ_TIMEOUT';
  constructor(topic: string, partition: number, waitedMs: number) {
    super(`Reading ${topic} partition ${partition} did not reach its end within ${waitedMs} ms; raise readTimeoutMs or check the broker`, {
      code: ReadTimeoutError.code,
      retriable: true,
    });
  }
}
