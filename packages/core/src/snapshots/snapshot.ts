import { EventData } from '../events/event-envelope';

/**
 * An aggregate's state at one version, kept so a load need not replay every
 * event. A cache of the events: a snapshot can always be thrown away and
 * rebuilt from them, so a store may lose one without losing anything.
 */
export interface Snapshot {
  readonly aggregateType: string;
  readonly aggregateId: string;
  /** The version (last stored sequence) the state reflects; the tail starts after it. */
  readonly version: number;
  /**
   * The event store position of the event at `version`, when the store gives
   * positions (Kafka: its offset + 1, as `KafkaEventStore` reports it), as a
   * decimal string. Lets a query "as of a position" use the snapshot.
   */
  readonly position?: string;
  /** The state as plain JSON-safe data (`AggregateModel.toSnapshot`). */
  readonly state: EventData;
  /**
   * The state-shape version the state was written with. A snapshot of another
   * shape is never used: the aggregate is loaded from events and the snapshot replaced.
   */
  readonly shapeVersion: string;
  /** When the event at `version` occurred: what "state as of time T" compares against. */
  readonly occurredAt: Date;
}
