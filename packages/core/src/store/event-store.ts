import { EventData, EventEnvelope, NewEvent, StoredEvent } from '../events/event-envelope';

/** Names one aggregate's stream of events. */
export interface StreamId {
  readonly aggregateType: string;
  readonly aggregateId: string;
}

/** A range of one stream, by sequence number, both ends inclusive. */
export interface ReadStreamOptions {
  /** First sequence to read; defaults to 1. */
  readonly fromSequence?: number;
  /** Last sequence to read; defaults to the end of the stream. */
  readonly toSequence?: number;
  /**
   * A hint: the events wanted come after this store position (e.g. the
   * position of a snapshot's last event). A store with positions may start
   * reading there instead of at the stream's first event; others ignore it.
   */
  readonly afterPosition?: number;
}

export interface ReadAllOptions {
  /** First global position to read; defaults to 1, the very first event. */
  readonly fromPosition?: number;
}

/**
 * Where events live. Every implementation passes the same contract suite:
 * appends are atomic and conditional on the expected version, a stream's
 * sequences run 1, 2, 3 … with no gaps, and a failed append writes nothing.
 */
export interface EventStore {
  /**
   * Appends events to a stream if, and only if, the stream is at `expectedVersion`
   * (0 for a stream that must not exist yet). All events are written or none.
   *
   * @returns the events as stored, with their sequences.
   * @throws {@link WrongExpectedVersionError} if the stream is at another version.
   */
  appendToStream(stream: StreamId, expectedVersion: number, events: readonly NewEvent[]): Promise<EventEnvelope<EventData>[]>;

  /** Reads one stream in sequence order; an unknown stream reads as empty. */
  readStream(stream: StreamId, options?: ReadStreamOptions): Promise<EventEnvelope<EventData>[]>;

  /** Reads every stream's events in the order they were committed. */
  readAll(options?: ReadAllOptions): AsyncIterable<StoredEvent>;
}
