import { expect } from 'chai';
import fc from 'fast-check';
import {
  AggregateAlreadyExistsError,
  CommandBus,
  CommandIdConflictError,
  EventData,
  EventEnvelope,
  EventStore,
  InMemoryEventStore,
  InvalidOptionError,
  NewEvent,
  RetriesExhaustedError,
  StreamId,
  WrongExpectedVersionError,
} from '@tributary/core';
import { Counter, CounterLimitReached, Increment, OpenCounter, OpenNamedCounter, ResetCounter } from './support/counter';

/** Refuses the next `conflicts` appends to existing streams as if another writer had won, writing nothing. */
class ConflictingStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    public conflicts = 0,
  ) {}
  async appendToStream(stream: StreamId, expectedVersion: number, events: readonly NewEvent[]): Promise<EventEnvelope<EventData>[]> {
    if (this.conflicts > 0 && expectedVersion > 0) {
      this.conflicts -= 1;
      throw new WrongExpectedVersionError(stream.aggregateType, stream.aggregateId, expectedVersion, expectedVersion + 1);
    }
    return this.inner.appendToStream(stream, expectedVersion, events);
  }
  readStream = (stream: StreamId, options?: { fromSequence?: number; toSequence?: number }) => this.inner.readStream(stream, options);
  readAll = (options?: { fromPosition?: number }) => this.inner.readAll(options);
}

async function incrementsOf(store: EventStore, counterId: string): Promise<number> {
  const history = await store.readStream({ aggregateType: 'CoreTest.Counter', aggregateId: counterId });
  return history.filter((event) => event.type === 'CoreTest.Incremented').length;
}

describe('CommandBus idempotency by command id', () => {
  it('applies a command sent again with the same id once, and answers the retry as deduplicated', async () => {
    const store = new InMemoryEventStore();
    const bus = new CommandBus({ aggregates: [Counter], eventStore: store });
    await bus.execute(new OpenCounter('i-1'));
    const first = await bus.execute(new Increment('i-1', 2), { commandId: 'req-1' });
    await bus.execute(new Increment('i-1', 1), { commandId: 'req-2' });
    const retry = await bus.execute(new Increment('i-1', 2), { commandId: 'req-1' });

    expect(first.deduplicated).to.equal(undefined);
    expect(retry).to.deep.equal({ aggregateType: 'CoreTest.Counter', aggregateId: 'i-1', version: first.version, events: [], deduplicated: true });
    expect(await incrementsOf(store, 'i-1')).to.equal(3);
    expect((await bus.repository(Counter).load('i-1')).value).to.equal(3);
  });

  it('refuses the same id with another command, instead of reporting a command done that never ran', async () => {
    const store = new InMemoryEventStore();
    const bus = new CommandBus({ aggregates: [Counter], eventStore: store });
    await bus.execute(new OpenCounter('i-9'));
    await bus.execute(new Increment('i-9', 2), { commandId: 'req-9' });
    const reused = await bus.execute(new Increment('i-9', 5), { commandId: 'req-9' }).catch((error: unknown) => error);
    expect(reused).to.be.instanceOf(CommandIdConflictError).and.include({ code: 'COMMAND_ID_CONFLICT', commandId: 'req-9', aggregateId: 'i-9' });
    expect(await incrementsOf(store, 'i-9'), 'only the first command ran').to.equal(2);
    // The very same command with that id is still a repeat.
    expect(await bus.execute(new Increment('i-9', 2), { commandId: 'req-9' })).to.include({ deduplicated: true });
  });

  it('deduplicates a creation command by its target id', async () => {
    const store = new InMemoryEventStore();
    const bus = new CommandBus({ aggregates: [Counter], eventStore: store });
    await bus.execute(new OpenNamedCounter('i-2'), { commandId: 'open-i-2' });
    const retry = await bus.execute(new OpenNamedCounter('i-2'), { commandId: 'open-i-2' });
    expect(retry).to.include({ aggregateId: 'i-2', version: 1, deduplicated: true });
    // Another command id is another command, and the aggregate exists.
    const other = await bus.execute(new OpenNamedCounter('i-2'), { commandId: 'open-i-2-again' }).catch((e: unknown) => e);
    expect(other).to.be.instanceOf(AggregateAlreadyExistsError);
  });

  it('throws a decided domain failure again on a retry, even once the state would let the command succeed', async () => {
    const store = new InMemoryEventStore();
    const bus = new CommandBus({ aggregates: [Counter], eventStore: store });
    await bus.execute(new OpenCounter('i-3'));
    await bus.execute(new Increment('i-3', 100));
    const refused = await bus.execute(new Increment('i-3', 1), { commandId: 'req-late' }).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(CounterLimitReached);

    await bus.execute(new ResetCounter('i-3'));
    const before = Counter.handled;
    const retried = await bus.execute(new Increment('i-3', 1), { commandId: 'req-late' }).catch((e: unknown) => e);
    expect(retried).to.equal(refused);
    expect(Counter.handled).to.equal(before);
    expect(await incrementsOf(store, 'i-3')).to.equal(100);
    // The same command under a new id is decided on today's state.
    expect(await bus.execute(new Increment('i-3', 1), { commandId: 'req-new' })).to.include({ version: 103 });
  });

  it('keeps no retriable failure: a retry after conflicts ran out decides anew', async () => {
    const store = new ConflictingStore(new InMemoryEventStore());
    const bus = new CommandBus({ aggregates: [Counter], eventStore: store, retry: { retries: 1, initialDelayMs: 0, maxDelayMs: 0 } });
    await bus.execute(new OpenCounter('i-4'));
    store.conflicts = 2;
    const exhausted = await bus.execute(new Increment('i-4', 1), { commandId: 'req-busy' }).catch((e: unknown) => e);
    expect(exhausted).to.be.instanceOf(RetriesExhaustedError);
    expect((await bus.outcome('req-busy', Counter, 'i-4')).status).to.equal('unknown');

    const retried = await bus.execute(new Increment('i-4', 1), { commandId: 'req-busy' });
    expect(retried.deduplicated).to.equal(undefined);
    expect(retried.version).to.equal(2);
    expect(await incrementsOf(store, 'i-4')).to.equal(1);
  });

  it('applies concurrent sends of one command id once: the later waits for the first decision', async () => {
    const store = new InMemoryEventStore();
    const bus = new CommandBus({ aggregates: [Counter], eventStore: store, retry: { retries: 20, initialDelayMs: 0, maxDelayMs: 2 } });
    await bus.execute(new OpenCounter('i-5'));
    const before = Counter.handled;
    const results = await Promise.all(Array.from({ length: 5 }, () => bus.execute(new Increment('i-5', 1), { commandId: 'req-race' })));

    expect(Counter.handled - before).to.equal(1);
    expect(await incrementsOf(store, 'i-5')).to.equal(1);
    expect(results.filter((result) => result.deduplicated)).to.have.length(4);
    expect(new Set(results.map((result) => result.version))).to.deep.equal(new Set([2]));
  });

  it('gives a waiting send the failure the first decided', async () => {
    const bus = new CommandBus({ aggregates: [Counter] });
    await bus.execute(new OpenCounter('i-6'));
    await bus.execute(new Increment('i-6', 100));
    const [first, second] = await Promise.all(
      [1, 2].map(() => bus.execute(new Increment('i-6', 1), { commandId: 'req-over' }).catch((e: unknown) => e)),
    );
    expect(first).to.be.instanceOf(CounterLimitReached);
    expect(second).to.equal(first);
  });

  it('keeps exactly the last N decided ids of each aggregate (property)', async () => {
    // A step sends a new command, or sends again the command decided `back` decisions ago on that counter.
    const step = fc.record({ counter: fc.integer({ min: 0, max: 1 }), back: fc.option(fc.nat({ max: 6 }), { nil: undefined }) });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 30 }), async (limit, steps) => {
        const store = new InMemoryEventStore();
        const bus = new CommandBus({ aggregates: [Counter], eventStore: store, decidedCommandsPerAggregate: limit });
        const counters = ['p-0', 'p-1'];
        // Ids of the increments decided on each counter, newest last, each once. The creations are older than all.
        const decided: string[][] = [[], []];
        for (const counterId of counters) await bus.execute(new OpenNamedCounter(counterId));
        let sent = 0;
        let applied = 0;
        let allRetriesWithinWindow = true;
        for (const { counter, back } of steps) {
          const history = decided[counter];
          const resend = back !== undefined && back < history.length;
          const commandId = resend ? history[history.length - 1 - back] : `cmd-${(sent += 1)}`;
          const result = await bus.execute(new Increment(counters[counter], 1), { commandId });

          const expectDeduplicated = resend && back < limit;
          if (resend && !expectDeduplicated) allRetriesWithinWindow = false;
          expect(result.deduplicated ?? false, `${commandId} on ${counters[counter]}`).to.equal(expectDeduplicated);
          if (!expectDeduplicated) {
            applied += 1;
            decided[counter] = [...history.filter((id) => id !== commandId), commandId];
          }
        }
        const stored = (await incrementsOf(store, 'p-0')) + (await incrementsOf(store, 'p-1'));
        expect(stored).to.equal(applied);
        if (allRetriesWithinWindow) expect(stored).to.equal(sent);
      }),
    );
  });

  it('answers outcome(): succeeded with the version and event count, failed with the error, unknown otherwise', async () => {
    const bus = new CommandBus({ aggregates: [Counter] });
    await bus.execute(new OpenCounter('i-7'), { commandId: 'open-i-7' });
    await bus.execute(new Increment('i-7', 3), { commandId: 'req-ok' });
    await bus.execute(new Increment('i-7', 97));
    const refused = await bus.execute(new Increment('i-7', 1), { commandId: 'req-refused' }).catch((e: unknown) => e);

    expect(await bus.outcome('req-ok', Counter, 'i-7')).to.deep.equal({
      status: 'succeeded',
      commandId: 'req-ok',
      aggregateType: 'CoreTest.Counter',
      aggregateId: 'i-7',
      version: 4,
      eventCount: 3,
    });
    expect(await bus.outcome('req-refused', Counter, 'i-7')).to.deep.equal({
      status: 'failed',
      commandId: 'req-refused',
      aggregateType: 'CoreTest.Counter',
      aggregateId: 'i-7',
      error: refused,
    });
    expect(await bus.outcome('req-never', Counter, 'i-7')).to.include({ status: 'unknown', commandId: 'req-never' });
    expect(await bus.outcome('req-ok', Counter, 'another')).to.include({ status: 'unknown' });
    // A creation without a target id is kept under the id it created.
    expect(await bus.outcome('open-i-7', Counter, 'i-7')).to.include({ status: 'succeeded', version: 1, eventCount: 1 });
  });

  it('cannot deduplicate a creation command without a target id before it runs', async () => {
    const bus = new CommandBus({ aggregates: [Counter] });
    await bus.execute(new OpenCounter('i-8'), { commandId: 'open-i-8' });
    // Sent again, it runs again; here the store refuses the second creation of the same id.
    const again = await bus.execute(new OpenCounter('i-8'), { commandId: 'open-i-8' }).catch((e: unknown) => e);
    expect(again).to.be.instanceOf(AggregateAlreadyExistsError);
  });

  it('deduplicates nothing with decidedCommandsPerAggregate 0, and refuses a limit that is not a whole number', async () => {
    const store = new InMemoryEventStore();
    const bus = new CommandBus({ aggregates: [Counter], eventStore: store, decidedCommandsPerAggregate: 0 });
    await bus.execute(new OpenCounter('i-9'));
    await bus.execute(new Increment('i-9', 1), { commandId: 'req-1' });
    expect(await bus.execute(new Increment('i-9', 1), { commandId: 'req-1' })).to.include({ version: 3 });
    expect(await incrementsOf(store, 'i-9')).to.equal(2);
    expect((await bus.outcome('req-1', Counter, 'i-9')).status).to.equal('unknown');

    for (const wrong of [-1, 1.5, Number.NaN]) {
      expect(() => new CommandBus({ aggregates: [Counter], decidedCommandsPerAggregate: wrong })).to.throw(InvalidOptionError, /decidedCommandsPerAggregate/);
    }
  });
});
