import { TributaryError, describeRecord } from '@tributary/core';

/** A record of an events topic lacks what every Tributary event record carries, so it cannot be replayed. */
export class UnreadableEventRecordError extends TributaryError {
  static readonly code = 'UNREADABLE_EVENT_RECORD';
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: string,
    problem: string,
  ) {
    super(
      `The record at ${describeRecord({ topic, partition, offset })} ${problem}; events topics hold only records written by ` +
        `Tributary's command processors (key '<aggregateId>:<sequence>', tributary.* headers). Remove what else was written there, ` +
        `or replay from a later offset with fromOffsets`,
      { code: UnreadableEventRecordError.code },
    );
  }
}
