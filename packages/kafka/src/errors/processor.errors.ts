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
 * still apply it. Retriable: sending it again with the same command id is safe,
 * since a processor decides each id once (see `decidedCommandsPerAggregate`);
 * `KafkaCommandBus.outcome` asks what became of it.
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
        `Send it again with the same commandId (it is decided once), ask bus.outcome(commandId, …), check that a ` +
        `CommandProcessor is running for this app, or raise the timeout`,
      { code: CommandTimeoutError.code, retriable: true },
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

/**
 * A request on the commands topic the processor cannot read: a body that is not
 * JSON, a header that is missing or malformed. Requests sent through
 * {@link KafkaCommandBus} and {@link KafkaEventStore} are always well formed;
 * this points at a producer writing to the commands topic by hand.
 */
export class MalformedRequestError extends TributaryError {
  static readonly code = 'MALFORMED_REQUEST';
  constructor(
    readonly where: string,
    problem: string,
  ) {
    super(`${where} cannot be read: ${problem}. Send commands through KafkaCommandBus and appends through KafkaEventStore.`, {
      code: MalformedRequestError.code,
    });
  }
}

/**
 * Rebuilding an aggregate from its events, because its state was written in
 * another shape, did not reach the version its state record holds: events the
 * record counts are missing from the events topic. The processor will not decide
 * commands on state it cannot rebuild; the partition is not served until this is
 * resolved.
 */
export class AggregateRebuildError extends TributaryError {
  static readonly code = 'AGGREGATE_REBUILD_FAILED';
  constructor(
    readonly aggregateType: string,
    readonly aggregateId: string,
    readonly recordedVersion: number,
    readonly rebuiltVersion: number,
    readonly topic: string,
  ) {
    super(
      `Rebuilding ${aggregateType} '${aggregateId}' from ${topic} (its state was written in another shape) reached version ` +
        `${rebuiltVersion}, but its state record says ${recordedVersion}: events are missing from the topic. Check the ` +
        `topic's cleanup.policy and retention (it must keep every event), or deploy the previous version of the aggregate.`,
      { code: AggregateRebuildError.code },
    );
  }
}

/**
 * What one command writes (its events and its aggregate's state record) is
 * larger than the broker accepts in one record batch (`message.max.bytes`,
 * 1 MB by default), even in a transaction of its own. The command is refused
 * and nothing of it is written. Keep aggregates' state smaller (move what grows
 * without bound into other aggregates or read models), or raise the topics'
 * `max.message.bytes`.
 */
export class CommandTooLargeError extends TributaryError {
  static readonly code = 'COMMAND_TOO_LARGE';
  constructor(
    readonly where: string,
    cause?: unknown,
  ) {
    super(
      `${where}: what the command writes (its events and its aggregate's state record) is larger than the broker accepts in one ` +
        `record batch, even alone in a transaction. Keep the aggregate's state smaller, or raise the topics' max.message.bytes.`,
      { code: CommandTooLargeError.code, cause },
    );
  }
}
