/** An event's payload as stored: plain JSON-safe data, no class instances, no Dates. */
export type EventData = Readonly<Record<string, unknown>>;

/**
 * One event with everything needed to store, route and trace it.
 *
 * `P` is the payload: an instance of the `@Event` class when you get it from the
 * command bus or a repository, plain {@link EventData} when it comes straight
 * from an {@link EventStore}.
 */
export interface EventEnvelope<P = unknown> {
  /** Unique id of this event (a UUID), stable across retries of the same write. */
  readonly eventId: string;
  /** Persisted type name from `@Event`, e.g. `OrderCreated`. */
  readonly type: string;
  /** Schema version of the payload from `@Event`. */
  readonly schemaVersion: number;
  /** Persisted type name from `@Aggregate`, e.g. `Order`. */
  readonly aggregateType: string;
  readonly aggregateId: string;
  /** Position in the aggregate's own history: 1, 2, 3 … with no gaps. */
  readonly sequence: number;
  readonly occurredAt: Date;
  /** Shared by every message caused, directly or not, by one original request. */
  readonly correlationId: string;
  /** Id of the message (command or event) that directly caused this event. */
  readonly causationId: string;
  /** Free-form string metadata: tenant, user, trace ids. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly payload: P;
}

/** An event handed to {@link EventStore.appendToStream}: the store assigns stream and sequence. */
export type NewEvent = Omit<EventEnvelope<EventData>, 'aggregateType' | 'aggregateId' | 'sequence'>;

/** An event read back from the store's global log, with its place in that log. */
export interface StoredEvent extends EventEnvelope<EventData> {
  /** Place in the store's commit order, starting at 1. */
  readonly position: number;
}
