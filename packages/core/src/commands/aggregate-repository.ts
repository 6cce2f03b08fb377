import { randomUUID } from 'node:crypto';
import { AggregateNotFoundError } from '../errors/aggregate.errors';
import { UndeclaredEventError } from '../errors/configuration.errors';
import { EventEnvelope } from '../events/event-envelope';
import { EventRegistry } from '../events/event-registry';
import { EventPipeline } from '../upcasting/event-pipeline';
import { AggregateModel } from '../aggregate/aggregate-model';
import { AggregateRoot, markCommitted, persistedVersion } from '../aggregate/aggregate-root';
import { EventStore } from '../store/event-store';
import { Rehydrator } from '../snapshots/rehydrator';

/** Tracing fields written into every event a command produces. */
export interface MessageContext {
  readonly correlationId: string;
  readonly causationId: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Loads aggregates of one type from their events and saves their new events,
 * on the condition that nobody else saved in between.
 *
 * Get one from {@link CommandBus.repository}.
 */
export class AggregateRepository<T extends AggregateRoot> {
  private readonly registry: EventRegistry;

  /** @internal */
  constructor(
    private readonly model: AggregateModel<T>,
    private readonly eventStore: EventStore,
    private readonly pipeline: EventPipeline,
    private readonly rehydrator?: Rehydrator<T>,
  ) {
    this.registry = pipeline.registry;
  }

  /**
   * The aggregate with that id, or `undefined` if it has no events. Each stored
   * event goes through the {@link EventPipeline}: upcast, then made an instance.
   */
  async find(aggregateId: string): Promise<T | undefined> {
    // With snapshots, the rehydrator starts from the newest one (and takes new ones off this path).
    if (this.rehydrator) return this.rehydrator.load(aggregateId);
    const stream = { aggregateType: this.model.type, aggregateId };
    const history = await this.eventStore.readStream(stream);
    return this.model.rehydrate(
      aggregateId,
      history.map((event) => ({
        sequence: event.sequence,
        payloads: this.pipeline.instantiate(event, `Loading ${this.model.type} '${aggregateId}' (event ${event.sequence})`),
      })),
    );
  }

  /**
   * The aggregate with that id.
   * @throws {@link AggregateNotFoundError} if it has no events.
   */
  async load(aggregateId: string): Promise<T> {
    const aggregate = await this.find(aggregateId);
    if (!aggregate) throw new AggregateNotFoundError(this.model.type, aggregateId);
    return aggregate;
  }

  /**
   * Appends the aggregate's uncommitted events, expecting the stream to be at the
   * version the aggregate was loaded at.
   *
   * @returns the stored events, with their payloads as instances.
   * @throws {@link WrongExpectedVersionError} if another writer saved first.
   */
  async save(aggregate: T, context: MessageContext): Promise<EventEnvelope<object>[]> {
    const events = aggregate.getUncommittedEvents();
    if (events.length === 0) return [];
    const aggregateId = this.model.idOf(aggregate)!;
    const occurredAt = new Date();
    const stored = await this.eventStore.appendToStream(
      { aggregateType: this.model.type, aggregateId },
      persistedVersion(aggregate),
      events.map((event) => {
        const declared = this.registry.describe(event);
        if (!declared) throw new UndeclaredEventError(event.constructor.name, `Saving ${this.model.type} '${aggregateId}'`);
        return {
          eventId: randomUUID(),
          type: declared.type,
          schemaVersion: declared.version,
          occurredAt,
          correlationId: context.correlationId,
          causationId: context.causationId,
          metadata: context.metadata,
          payload: this.registry.toData(event),
        };
      }),
    );
    markCommitted(aggregate);
    return stored.map((envelope, index) => ({ ...envelope, payload: events[index] }));
  }
}
