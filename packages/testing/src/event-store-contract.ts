import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { EventStore, InvalidOptionError, NewEvent, StreamId, WrongExpectedVersionError } from '@tributary/core';

/** Options of {@link eventStoreContract}. */
export interface EventStoreContractOptions {
  /** Unique stream names per test, so a shared durable store can be reused. Defaults to random UUIDs. */
  readonly uniqueId?: () => string;
  /** Runs of the property-based test; lower it for slow stores. Defaults to 50. */
  readonly propertyRuns?: number;
}

/**
 * The promises every {@link EventStore} keeps, as a mocha suite. Call it from a
 * test file of each implementation, so they all pass the same checks.
 *
 * @example
 * ```ts
 * eventStoreContract('InMemoryEventStore', async () => new InMemoryEventStore());
 * ```
 */
export function eventStoreContract(name: string, createStore: () => Promise<EventStore>, options: EventStoreContractOptions = {}): void {
  const uniqueId = options.uniqueId ?? (() => randomUUID());
  const newStream = (): StreamId => ({ aggregateType: 'ContractTest', aggregateId: uniqueId() });

  describe(`${name} keeps the EventStore contract`, () => {
    let store: EventStore;
    beforeEach(async () => {
      store = await createStore();
    });

    it('numbers a new stream 1, 2, 3 and keeps every envelope field', async () => {
      const stream = newStream();
      const events = [newEvent('Opened', { n: 1 }), newEvent('Noted', { n: 2, nested: { text: 'x', list: [1, 2] } }), newEvent('Closed', {})];
      const stored = await store.appendToStream(stream, 0, events);
      assert.deepEqual(stored.map((e) => e.sequence), [1, 2, 3]);
      const read = await store.readStream(stream);
      assert.equal(read.length, 3);
      read.forEach((event, index) => {
        const sent = events[index];
        assert.equal(event.aggregateType, stream.aggregateType);
        assert.equal(event.aggregateId, stream.aggregateId);
        assert.equal(event.eventId, sent.eventId);
        assert.equal(event.type, sent.type);
        assert.equal(event.schemaVersion, sent.schemaVersion);
        assert.equal(event.correlationId, sent.correlationId);
        assert.equal(event.causationId, sent.causationId);
        assert.equal(new Date(event.occurredAt).getTime(), sent.occurredAt.getTime());
        assert.deepEqual({ ...event.metadata }, { ...sent.metadata });
        assert.deepEqual(event.payload, sent.payload);
      });
    });

    it('appends at the expected version and refuses any other, writing nothing', async () => {
      const stream = newStream();
      await store.appendToStream(stream, 0, [newEvent('A', {}), newEvent('B', {})]);
      await assert.rejects(store.appendToStream(stream, 0, [newEvent('C', {})]), (error: unknown) => {
        assert.ok(error instanceof WrongExpectedVersionError);
        assert.equal(error.expectedVersion, 0);
        assert.equal(error.actualVersion, 2);
        assert.equal(error.retriable, true);
        return true;
      });
      await assert.rejects(store.appendToStream(stream, 3, [newEvent('C', {})]), WrongExpectedVersionError);
      assert.deepEqual((await store.readStream(stream)).map((e) => e.type), ['A', 'B']);
      const third = await store.appendToStream(stream, 2, [newEvent('C', {})]);
      assert.equal(third[0].sequence, 3);
    });

    it('lets exactly one of many racing appends at one version win', async () => {
      const stream = newStream();
      await store.appendToStream(stream, 0, [newEvent('Opened', {})]);
      const racers = Array.from({ length: 8 }, (_, racer) =>
        store.appendToStream(stream, 1, [newEvent('Raced', { racer }), newEvent('Raced', { racer })]),
      );
      const results = await Promise.allSettled(racers);
      const winners = results.filter((r) => r.status === 'fulfilled');
      assert.equal(winners.length, 1);
      for (const loser of results.filter((r) => r.status === 'rejected')) {
        assert.ok((loser as PromiseRejectedResult).reason instanceof WrongExpectedVersionError);
      }
      const history = await store.readStream(stream);
      assert.deepEqual(history.map((e) => e.sequence), [1, 2, 3]);
      // Both events of the winning append, never a mix of two racers.
      assert.equal(new Set(history.slice(1).map((e) => e.payload.racer)).size, 1);
    });

    it('reads a range of sequences, and an unknown stream as empty', async () => {
      const stream = newStream();
      await store.appendToStream(stream, 0, [1, 2, 3, 4, 5].map((n) => newEvent('N', { n })));
      const range = await store.readStream(stream, { fromSequence: 2, toSequence: 4 });
      assert.deepEqual(range.map((e) => e.payload.n), [2, 3, 4]);
      assert.deepEqual((await store.readStream(stream, { fromSequence: 5 })).map((e) => e.sequence), [5]);
      assert.deepEqual(await store.readStream(stream, { fromSequence: 6 }), []);
      assert.deepEqual(await store.readStream(newStream()), []);
    });

    it('reads all streams in commit order, from a position', async () => {
      const first = newStream();
      const second = newStream();
      await store.appendToStream(first, 0, [newEvent('F1', {})]);
      await store.appendToStream(second, 0, [newEvent('S1', {}), newEvent('S2', {})]);
      await store.appendToStream(first, 1, [newEvent('F2', {})]);
      const mine = new Set([first.aggregateId, second.aggregateId]);
      const all = [];
      for await (const event of store.readAll()) if (mine.has(event.aggregateId)) all.push(event);
      assert.deepEqual(all.map((e) => e.type), ['F1', 'S1', 'S2', 'F2']);
      const positions = all.map((e) => e.position);
      assert.deepEqual([...positions].sort((a, b) => a - b), positions);
      const tail = [];
      for await (const event of store.readAll({ fromPosition: all[2].position })) if (mine.has(event.aggregateId)) tail.push(event.type);
      assert.deepEqual(tail, ['S2', 'F2']);
    });

    it('keeps what it stored safe from later changes to the caller’s objects', async () => {
      const stream = newStream();
      const event = newEvent('Mutable', { list: [1] });
      await store.appendToStream(stream, 0, [event]);
      (event.payload.list as number[]).push(2);
      (event.metadata as Record<string, string>).extra = 'x';
      const [read] = await store.readStream(stream);
      assert.deepEqual(read.payload.list, [1]);
      assert.equal(read.metadata.extra, undefined);
    });

    it('refuses an expected version that is not a whole number of 0 or more', async () => {
      await assert.rejects(store.appendToStream(newStream(), -1, [newEvent('A', {})]), InvalidOptionError);
      await assert.rejects(store.appendToStream(newStream(), 1.5, [newEvent('A', {})]), InvalidOptionError);
    });

    it('agrees with a model of streams under any sequence of appends (property)', async () => {
      const append = fc.record({ stream: fc.integer({ min: 0, max: 2 }), expected: fc.integer({ min: 0, max: 4 }), count: fc.integer({ min: 1, max: 3 }) });
      await fc.assert(
        fc.asyncProperty(fc.array(append, { maxLength: 12 }), async (appends) => {
          const fresh = await createStore();
          const streams = [newStream(), newStream(), newStream()];
          const model = [0, 0, 0];
          for (const { stream, expected, count } of appends) {
            const attempt = fresh.appendToStream(streams[stream], expected, Array.from({ length: count }, () => newEvent('P', {})));
            if (expected === model[stream]) {
              await attempt;
              model[stream] += count;
            } else {
              await assert.rejects(attempt, WrongExpectedVersionError);
            }
          }
          for (const [index, stream] of streams.entries()) {
            const sequences = (await fresh.readStream(stream)).map((e) => e.sequence);
            assert.deepEqual(sequences, Array.from({ length: model[index] }, (_, i) => i + 1));
          }
        }),
        { numRuns: options.propertyRuns ?? 50 },
      );
    });
  });
}

function newEvent(type: string, payload: Record<string, unknown>): NewEvent {
  return {
    eventId: randomUUID(),
    type,
    schemaVersion: 1,
    occurredAt: new Date(),
    correlationId: randomUUID(),
    causationId: randomUUID(),
    metadata: { tenant: 'contract' },
    payload,
  };
}
