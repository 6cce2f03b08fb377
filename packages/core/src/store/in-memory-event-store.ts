import { InvalidOptionError } from '../errors/configuration.errors';
import { WrongExpectedVersionError } from '../errors/concurrency.errors';
import { EventData, EventEnvelope, NewEvent, StoredEvent } from '../events/event-envelope';
import { EventStore, ReadAllOptions, ReadStreamOptions, StreamId } from './event-store';

/**
 * The embedded event store: everything in this process's memory, nothing on disk.
 * The default when no other store is configured, and the store of unit tests.
 *
 * It keeps the same promises as a durable store (conditional appends, contiguous
 * sequences, all-or-nothing writes, stored data frozen), so code that works on it
 * is not surprised elsewhere. It is not shared between processes and is lost on exit.
 */
export class InMemoryEventStore implements EventStore {
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly log: StoredEvent[] = [];

  async appendToStream(stream: StreamId, expectedVersion: number, events: readonly NewEvent[]): Promise<EventEnvelope<EventData>[]> {
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) {
      throw new InvalidOptionError(
        `expectedVersion must be an integer of 0 or more (0 for a new stream), got ${expectedVersion}`,
      );
    }
    const key = streamKey(stream);
    const existing = this.streams.get(key) ?? [];
    if (existing.length !== expectedVersion) {
      throw new WrongExpectedVersionError(stream.aggregateType, stream.aggregateId, expectedVersion, existing.length);
    }
    // Everything below is synchronous, so no other append can interleave: the
    // check above and the write below are one atomic step.
    const stored = events.map((event, index) =>
      deepFreeze<StoredEvent>({
        ...event,
        occurredAt: new Date(event.occurredAt),
        metadata: { ...event.metadata },
        payload: structuredClone(event.payload),
        aggregateType: stream.aggregateType,
        aggregateId: stream.aggregateId,
        sequence: expectedVersion + index + 1,
        position: this.log.length + index + 1,
      }),
    );
    if (stored.length > 0 && !this.streams.has(key)) this.streams.set(key, existing);
    existing.push(...stored);
    this.log.push(...stored);
    return stored;
  }

  async readStream(stream: StreamId, options: ReadStreamOptions = {}): Promise<EventEnvelope<EventData>[]> {
    const from = Math.max(1, options.fromSequence ?? 1);
    const events = this.streams.get(streamKey(stream)) ?? [];
    const to = Math.min(events.length, options.toSequence ?? events.length);
    return events.slice(from - 1, Math.max(from - 1, to));
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<StoredEvent> {
    // Index-based so events appended while the caller iterates are read too.
    for (let index = Math.max(0, (options.fromPosition ?? 1) - 1); index < this.log.length; index += 1) {
      yield this.log[index];
    }
  }
}

function streamKey(stream: StreamId): string {
  return `${stream.aggregateType}\u0000${stream.aggregateId}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
