import { expect } from 'chai';
import {
  AggregateAlreadyExistsError,
  AggregateNotFoundError,
  CommandBus,
  EventData,
  EventEnvelope,
  EventStore,
  InMemoryEventStore,
  InvalidHandlerResultError,
  NewEvent,
  RetriesExhaustedError,
  StreamId,
  WrongExpectedVersionError,
} from '@tributary/core';
import { Counter, CounterLimitReached, CounterOpened, Increment, OpenCounter, OpenCounterAs, OpenNamedCounter } from './support/counter';

/** Wraps a store so that the next `conflicts` appends lose a race to a sneaky writer. */
class ContendedStore implements EventStore {
  appends = 0;
  constructor(
    private readonly inner: EventStore,
    private conflicts: number,
  ) {}
  async appendToStream(stream: StreamId, expectedVersion: number, events: readonly NewEvent[]): Promise<EventEnvelope<EventData>[]> {
    this.appends += 1;
    if (this.conflicts > 0 && expectedVersion > 0) {
      this.conflicts -= 1;
      // Another writer appends first, for real, so the retry must reload to succeed.
      await this.inner.appendToStream(stream, expectedVersion, [{ ...events[0], eventId: `sneaky-${this.appends}`, payload: { by: 10 } }]);
    }
    return this.inner.appendToStream(stream, expectedVersion, events);
  }
  readStream = (stream: StreamId, options?: { fromSequence?: number; toSequence?: number }) => this.inner.readStream(stream, options);
  readAll = (options?: { fromPosition?: number }) => this.inner.readAll(options);
}

describe('CommandBus', () => {
  it('creates an aggregate, acts on it, and returns the stored events with their envelopes', async () => {
    const bus = new CommandBus({ aggregates: [Counter] });
    const created = await bus.execute(new OpenCounter('c-1'));
    expect(created).to.include({ aggregateType: 'CoreTest.Counter', aggregateId: 'c-1', version: 1 });
    expect(created.events[0].payload).to.be.instanceOf(CounterOpened);

    const incremented = await bus.execute(new Increment('c-1', 2), { correlationId: 'request-9', metadata: { user: 'ada' } });
    expect(incremented.version).to.equal(3);
    expect(incremented.events.map((e) => [e.type, e.sequence, e.schemaVersion])).to.deep.equal([
      ['CoreTest.Incremented', 2, 1],
      ['CoreTest.Incremented', 3, 1],
    ]);
    for (const event of incremented.events) {
      expect(event.correlationId).to.equal('request-9');
      expect(event.causationId).to.equal(incremented.events[0].causationId).and.not.equal('request-9');
      expect(event.metadata).to.deep.equal({ user: 'ada' });
      expect(event.occurredAt).to.be.instanceOf(Date);
    }

    const counter = await bus.repository(Counter).load('c-1');
    expect(counter.value).to.equal(2);
    expect(counter.version).to.equal(3);
    expect(counter.openedAt).to.be.instanceOf(Date);
    expect(counter.openedAt!.toISOString()).to.equal('2026-01-02T03:04:05.678Z');
    expect(counter.getUncommittedEvents()).to.have.length(0);
  });

  it('uses the command id as causation and correlation when none is given', async () => {
    const bus = new CommandBus({ aggregates: [Counter] });
    const result = await bus.execute(new OpenCounter('c-ids'), { commandId: 'cmd-1' });
    expect(result.events[0]).to.include({ causationId: 'cmd-1', correlationId: 'cmd-1' });
  });

  it('stores nothing when a handler decides nothing changes', async () => {
    const store = new InMemoryEventStore();
    const bus = new CommandBus({ aggregates: [Counter], eventStore: store });
    await bus.execute(new OpenCounter('c-2'));
    const result = await bus.execute(new Increment('c-2', 0));
    expect(result.events).to.deep.equal([]);
    expect(result.version).to.equal(1);
    expect(await store.readStream({ aggregateType: 'CoreTest.Counter', aggregateId: 'c-2' })).to.have.length(1);
  });

  it('throws the domain error as thrown, without retrying it, and stores nothing', async () => {
    const bus = new CommandBus({ aggregates: [Counter] });
    await bus.execute(new OpenCounter('c-3'));
    await bus.execute(new Increment('c-3', 100));
    const before = Counter.handled;
    const error = await bus.execute(new Increment('c-3', 1)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(CounterLimitReached);
    expect(Counter.handled - before).to.equal(1);
    expect((await bus.repository(Counter).load('c-3')).version).to.equal(101);
  });

  it('refuses commands to a missing aggregate and creation of an existing one', async () => {
    const bus = new CommandBus({ aggregates: [Counter] });
    const missing = await bus.execute(new Increment('nope', 1)).catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(AggregateNotFoundError).and.include({ aggregateId: 'nope', code: 'AGGREGATE_NOT_FOUND' });
    await bus.execute(new OpenCounter('c-4'));
    // Without a target id the conflict is found on append; with one, before the handler runs.
    const twice = await bus.execute(new OpenCounter('c-4')).catch((e: unknown) => e);
    expect(twice).to.be.instanceOf(AggregateAlreadyExistsError);
    const named = await bus.execute(new OpenNamedCounter('c-4')).catch((e: unknown) => e);
    expect(named).to.be.instanceOf(AggregateAlreadyExistsError).and.include({ code: 'AGGREGATE_ALREADY_EXISTS' });
    expect((await bus.repository(Counter).load('c-4')).version).to.equal(1);
  });

  it('refuses a creation handler that creates another id than the command is addressed to, as the Kafka processor does', async () => {
    const store = new InMemoryEventStore();
    const bus = new CommandBus({ aggregates: [Counter], eventStore: store });
    const error = await bus.execute(new OpenCounterAs('c-asked', 'c-other')).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(InvalidHandlerResultError).and.include({ code: 'INVALID_HANDLER_RESULT' });
    expect((error as Error).message).to.equal(
      "Counter.openAs created CoreTest.Counter 'c-other' for a command addressed to 'c-asked'; they must match",
    );
    const stored = [];
    for await (const event of store.readAll()) stored.push(event);
    expect(stored).to.deep.equal([]);
    // The same handler creating the id it was sent to is fine.
    expect(await bus.execute(new OpenCounterAs('c-same', 'c-same'))).to.include({ aggregateId: 'c-same', version: 1 });
  });

  it('reloads and retries when another writer got there first', async () => {
    const store = new ContendedStore(new InMemoryEventStore(), 2);
    const bus = new CommandBus({ aggregates: [Counter], eventStore: store, retry: { retries: 3, initialDelayMs: 0, maxDelayMs: 0 } });
    await bus.execute(new OpenCounter('c-5'));
    const result = await bus.execute(new Increment('c-5', 1));
    // Two sneaky writes of 10 each, then ours on top of them.
    expect(result.version).to.equal(4);
    expect((await bus.repository(Counter).load('c-5')).value).to.equal(21);
  });

  it('gives up after the policy’s retries, wrapping the last conflict', async () => {
    const store = new ContendedStore(new InMemoryEventStore(), 10);
    const bus = new CommandBus({ aggregates: [Counter], eventStore: store, retry: { retries: 2, initialDelayMs: 0, maxDelayMs: 0 } });
    await bus.execute(new OpenCounter('c-6'));
    const error = await bus.execute(new Increment('c-6', 1)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(RetriesExhaustedError).and.include({ attempts: 3, code: 'RETRIES_EXHAUSTED' });
    expect((error as RetriesExhaustedError).cause).to.be.instanceOf(WrongExpectedVersionError);
  });

  it('serialises racing commands on one aggregate without losing any', async () => {
    const store = new InMemoryEventStore();
    const bus = new CommandBus({ aggregates: [Counter], eventStore: store, retry: { retries: 50, initialDelayMs: 0, maxDelayMs: 2 } });
    await bus.execute(new OpenCounter('c-7'));
    await Promise.all(Array.from({ length: 20 }, () => bus.execute(new Increment('c-7', 1))));
    const history = await store.readStream({ aggregateType: 'CoreTest.Counter', aggregateId: 'c-7' });
    expect(history.map((e) => e.sequence)).to.deep.equal(Array.from({ length: 21 }, (_, i) => i + 1));
    expect((await bus.repository(Counter).load('c-7')).value).to.equal(20);
  });
});
