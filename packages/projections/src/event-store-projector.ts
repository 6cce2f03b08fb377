import { AnyClass, EventPipeline, EventRegistry, EventStore, ReadModelSlot, ReadModelStore, StoredEvent, Upcaster } from '@tributary/core';
import { ProjectionStoppedError } from './errors/projection.errors';
import { ProjectionModel, ProjectionSource } from './projection-model';

/** Options of an {@link EventStoreProjector}. */
export interface EventStoreProjectorOptions<W> {
  /** An `@Projection` class (or instance), or a `defineProjection(…)` definition. */
  readonly projection: ProjectionSource<W>;
  /** Where the read model and its position live. */
  readonly store: ReadModelStore<W>;
  /** The event store whose global log is projected, e.g. the embedded `InMemoryEventStore`. */
  readonly eventStore: EventStore;
  /** Every event class stored (current and past versions), so records become instances. */
  readonly events: readonly AnyClass[];
  readonly upcasters?: Iterable<Upcaster>;
  /** Most events per transaction. Defaults to 500. */
  readonly batchSize?: number;
}

/** The pseudo-topic under which the position in an event store's global log is stored. */
const LOG = '$all';

/**
 * Runs a projection over an {@link EventStore}'s global log rather than Kafka:
 * the embedded default (the in-memory event store, the demo, tests). Writes
 * and the log position commit together, as with the Kafka runner, so
 * `catchUp()` can be called at any time and handles each event once.
 *
 * It has no dead-letter topic: an event a handler refuses stops the catch-up
 * with {@link ProjectionStoppedError}, its batch rolled back.
 *
 * @example
 * ```ts
 * const projector = new EventStoreProjector({ projection: OrderSummary, store: new InMemoryReadModelStore(), eventStore, events: [OrderCreated] });
 * await projector.catchUp();
 * ```
 */
export class EventStoreProjector<W = unknown> {
  readonly model: ProjectionModel<W>;
  private readonly pipeline: EventPipeline;
  private readonly slot: ReadModelSlot;
  private readonly batchSize: number;

  constructor(private readonly options: EventStoreProjectorOptions<W>) {
    this.model = ProjectionModel.of(options.projection);
    const registry = new EventRegistry();
    for (const eventClass of options.events) registry.register(eventClass, 'options.events');
    this.pipeline = new EventPipeline({ registry, upcasters: options.upcasters });
    this.slot = { projection: this.model.name, version: 'live' };
    this.batchSize = options.batchSize ?? 500;
  }

  /** Projects every event committed since the last call; resolves with how many were handled. */
  async catchUp(): Promise<number> {
    const { store, eventStore } = this.options;
    await store.prepare();
    const stored = (await store.readOffsets(this.slot)).find((offset) => offset.topic === LOG && offset.partition === 0);
    let expected = stored?.nextOffset ?? null;
    let handled = 0;
    let batch: StoredEvent[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const events = batch;
      batch = [];
      const next = String(events[events.length - 1].position + 1);
      const outcome = await store.commit({ slot: this.slot, topic: LOG, partition: 0, expected }, async ({ writer }) => {
        for (const stored of events) {
          const where = `Projecting ${stored.aggregateType} '${stored.aggregateId}' (event ${stored.sequence})`;
          try {
            for (const event of this.pipeline.instantiate({ type: stored.type, schemaVersion: stored.schemaVersion, payload: stored.payload }, where)) {
              if (!this.model.handles(event)) continue;
              await this.model.handle(event, { ...stored, payload: event }, writer);
            }
          } catch (error) {
            throw new ProjectionStoppedError(this.model.name, error);
          }
        }
        return next;
      });
      // Another projector of the same store moved first: it handled these events; continue from where it stands.
      if (!outcome.committed) throw new ProjectionStoppedError(this.model.name, new Error(`another projector moved the position to ${outcome.stored}`));
      expected = outcome.nextOffset;
      handled += events.length;
    };
    for await (const event of eventStore.readAll({ fromPosition: expected === null ? 1 : Number(expected) })) {
      batch.push(event);
      if (batch.length >= this.batchSize) await flush();
    }
    await flush();
    return handled;
  }
}
