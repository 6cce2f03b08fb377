import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import {
  CommitOutcome,
  DeadLetterEntry,
  PartitionOffset,
  ReadModelSlot,
  ReadModelStore,
  ShadowBehindError,
  compareDeadLetters,
  liveSlot,
  shadowSlot,
} from '@tributary/core';

/**
 * How {@link readModelStoreContract} reaches one kind of {@link ReadModelStore}:
 * it only knows how to write a number under a key through the store's writer,
 * and how to read it back from the live read model.
 */
export interface ReadModelStoreContractAdapter<W> {
  /** Makes the store, once per suite. The suite calls `prepare()` on it. */
  create(): Promise<ReadModelStore<W>>;
  /** Writes `value` under `key` through a writer of the store (inside a commit or a resolve). */
  write(writer: W, key: string, value: number): Promise<void> | void;
  /** The value under `key` in the projection's live read model, as committed; undefined if none. */
  read(store: ReadModelStore<W>, projection: string, key: string): Promise<number | undefined>;
  /** Called once after the suite, to close what `create` opened. Defaults to `store.close()`. */
  destroy?(store: ReadModelStore<W>): Promise<void>;
}

/** Options of {@link readModelStoreContract}. */
export interface ReadModelStoreContractOptions {
  /** Unique projection names per test, so a shared durable store can be reused. Defaults to random UUIDs. */
  readonly uniqueProjection?: () => string;
  /** Runs of the property-based test; lower it for slow stores. Defaults to 15. */
  readonly propertyRuns?: number;
}

const TOPIC = 'contract.events';
const OTHER_TOPIC = 'contract.other-events';

/**
 * The promises every {@link ReadModelStore} keeps, as a mocha suite: the
 * compare-and-set of offsets that makes projections exactly-once, rollback of
 * failed work, parking behind dead letters, shadow versions and the atomic swap.
 * Call it from a test file of each implementation.
 *
 * The store is made once per suite; every test uses projections, and keys, of
 * its own (keys start with the projection's name), so the suite may share a
 * durable store and even one table between its tests.
 *
 * @example
 * ```ts
 * readModelStoreContract<InMemoryWriter>('InMemoryReadModelStore', {
 *   create: async () => new InMemoryReadModelStore(),
 *   write: (writer, key, value) => writer.set(key, value),
 *   read: async (store, projection, key) => (store as InMemoryReadModelStore).read(projection).get(key) as number | undefined,
 * });
 * ```
 */
export function readModelStoreContract<W>(name: string, adapter: ReadModelStoreContractAdapter<W>, options: ReadModelStoreContractOptions = {}): void {
  const uniqueProjection = options.uniqueProjection ?? (() => `contract-${randomUUID()}`);

  describe(`${name} keeps the ReadModelStore contract`, function () {
    this.timeout(60_000);
    let store: ReadModelStore<W>;

    before(async () => {
      store = await adapter.create();
      await store.prepare();
      await store.prepare(); // idempotent
    });
    after(async () => {
      if (!store) return;
      if (adapter.destroy) await adapter.destroy(store);
      else await store.close();
    });

    type Writes = ReadonlyArray<readonly [key: string, value: number]>;

    /** Commits a batch writing `writes`, recording `deadLetters`, moving the offset to `nextOffset`. */
    function commit(
      slot: ReadModelSlot,
      partition: number,
      expected: string | null,
      nextOffset: string,
      writes: Writes = [],
      deadLetters: readonly DeadLetterEntry[] = [],
      topic = TOPIC,
    ): Promise<CommitOutcome> {
      return store.commit({ slot, topic, partition, expected }, async ({ writer, deadLetter }) => {
        for (const [key, value] of writes) await adapter.write(writer, key, value);
        for (const entry of deadLetters) deadLetter(entry);
        return nextOffset;
      });
    }

    /** Commits and checks it did. */
    async function commitOk(slot: ReadModelSlot, partition: number, expected: string | null, nextOffset: string, writes: Writes = [], deadLetters: readonly DeadLetterEntry[] = [], topic = TOPIC): Promise<void> {
      const outcome = await commit(slot, partition, expected, nextOffset, writes, deadLetters, topic);
      assert.deepEqual(outcome, { committed: true, nextOffset }, `commit of ${slot.projection} (${slot.version}) ${topic}/${partition} from ${expected} to ${nextOffset}`);
    }

    /** The parked set a commit of the partition is given (the commit itself writes nothing but moves the offset). */
    async function parkedIn(slot: ReadModelSlot, partition: number, expected: string | null, nextOffset: string, topic = TOPIC): Promise<string[]> {
      let parked: string[] = [];
      const outcome = await store.commit({ slot, topic, partition, expected }, async (context) => {
        parked = [...context.parked].sort();
        return nextOffset;
      });
      assert.equal(outcome.committed, true);
      return parked;
    }

    async function offsets(slot: ReadModelSlot): Promise<PartitionOffset[]> {
      const stored = await store.readOffsets(slot);
      for (const offset of stored) assert.equal(typeof offset.nextOffset, 'string', 'offsets are decimal strings');
      return [...stored].map((offset) => ({ topic: offset.topic, partition: offset.partition, nextOffset: offset.nextOffset })).sort(byPartition);
    }

    async function deadLetters(slot: ReadModelSlot): Promise<DeadLetterEntry[]> {
      const stored = await store.deadLetters(slot);
      const plain = stored.map((entry) => ({ topic: entry.topic, partition: entry.partition, offset: entry.offset, aggregate: entry.aggregate }));
      assert.deepEqual(plain, [...plain].sort(compareDeadLetters), 'dead letters come by topic, partition and offset');
      return plain;
    }

    const read = (projection: string, key: string) => adapter.read(store, projection, key);

    it('commits the first batch of a partition against expected null, and stores the offset as an exact decimal string', async () => {
      const projection = uniqueProjection();
      const live = liveSlot(projection);
      assert.deepEqual(await offsets(live), []);
      // Above 2^53: a store that goes through a JavaScript number would round it.
      await commitOk(live, 0, null, '9007199254740993', [[`${projection}:a`, 1]]);
      assert.equal(await read(projection, `${projection}:a`), 1);
      assert.deepEqual(await offsets(live), [{ topic: TOPIC, partition: 0, nextOffset: '9007199254740993' }]);

      await commitOk(live, 0, '9007199254740993', '9007199254740995', [[`${projection}:a`, 2], [`${projection}:b`, 3]]);
      assert.equal(await read(projection, `${projection}:a`), 2);
      assert.equal(await read(projection, `${projection}:b`), 3);
      assert.deepEqual(await offsets(live), [{ topic: TOPIC, partition: 0, nextOffset: '9007199254740995' }]);
    });

    it('writes nothing and answers the stored offset when the expected one is wrong, without running the work', async () => {
      const projection = uniqueProjection();
      const live = liveSlot(projection);
      const key = `${projection}:a`;
      await commitOk(live, 0, null, '10', [[key, 1]]);

      for (const expected of [null, '9', '11', '0']) {
        let ran = false;
        const outcome = await store.commit({ slot: live, topic: TOPIC, partition: 0, expected }, async ({ writer, deadLetter }) => {
          ran = true;
          await adapter.write(writer, key, 666);
          deadLetter({ topic: TOPIC, partition: 0, offset: '10', aggregate: 'Order:zombie' });
          return '20';
        });
        assert.deepEqual(outcome, { committed: false, stored: '10' }, `commit expecting ${expected}`);
        assert.equal(ran, false, `the work of a commit expecting ${expected} must not run`);
      }
      // Expecting an offset of a partition that has none answers stored null.
      assert.deepEqual(await commit(live, 1, '5', '6', [[key, 777]]), { committed: false, stored: null });
      assert.equal(await read(projection, key), 1);
      assert.deepEqual(await offsets(live), [{ topic: TOPIC, partition: 0, nextOffset: '10' }]);
      assert.deepEqual(await deadLetters(live), []);
    });

    it('rolls back the writes, the offset and the dead letters of work that rejects, and passes on the same error', async () => {
      const projection = uniqueProjection();
      const live = liveSlot(projection);
      const key = `${projection}:a`;
      const fresh = `${projection}:fresh`;
      await commitOk(live, 0, null, '3', [[key, 1]]);

      const failure = new Error('handler failed');
      await assert.rejects(
        store.commit({ slot: live, topic: TOPIC, partition: 0, expected: '3' }, async ({ writer, deadLetter }) => {
          await adapter.write(writer, key, 2);
          await adapter.write(writer, fresh, 5);
          deadLetter({ topic: TOPIC, partition: 0, offset: '3', aggregate: 'Order:1' });
          throw failure;
        }),
        (error: unknown) => error === failure,
      );
      // A first commit that fails stores no offset either.
      await assert.rejects(
        store.commit({ slot: live, topic: TOPIC, partition: 1, expected: null }, async ({ writer }) => {
          await adapter.write(writer, fresh, 6);
          throw failure;
        }),
        (error: unknown) => error === failure,
      );
      assert.equal(await read(projection, key), 1);
      assert.equal(await read(projection, fresh), undefined);
      assert.deepEqual(await offsets(live), [{ topic: TOPIC, partition: 0, nextOffset: '3' }]);
      assert.deepEqual(await deadLetters(live), []);
      // The same batch can then be committed.
      await commitOk(live, 0, '3', '4', [[key, 2]]);
      assert.equal(await read(projection, key), 2);
    });

    it('parks the aggregates of dead letters in later commits of the same topic and partition only', async () => {
      const projection = uniqueProjection();
      const live = liveSlot(projection);
      const letter = (partition: number, offset: string, aggregate: string, topic = TOPIC): DeadLetterEntry => ({ topic, partition, offset, aggregate });

      assert.deepEqual(await parkedIn(live, 0, null, '2'), []);
      // Recorded twice (in one commit and again later): kept once.
      await commitOk(live, 0, '2', '5', [], [letter(0, '3', 'Order:1'), letter(0, '3', 'Order:1'), letter(0, '4', 'Order:2')]);
      await commitOk(live, 0, '5', '6', [], [letter(0, '3', 'Order:1')]);
      await commitOk(live, 1, null, '8', [], [letter(1, '7', 'Order:3')]);
      await commitOk(live, 0, null, '1', [], [letter(0, '0', 'Order:4', OTHER_TOPIC)], OTHER_TOPIC);

      assert.deepEqual(await parkedIn(live, 0, '6', '7'), ['Order:1', 'Order:2']);
      assert.deepEqual(await parkedIn(live, 1, '8', '9'), ['Order:3']);
      assert.deepEqual(await parkedIn(live, 2, null, '1'), []);
      assert.deepEqual(await parkedIn(live, 0, '1', '2', OTHER_TOPIC), ['Order:4']);
      // Neither the shadow nor another projection is parked.
      await store.createShadow(projection);
      assert.deepEqual(await parkedIn(shadowSlot(projection), 0, null, '1'), []);
      assert.deepEqual(await parkedIn(liveSlot(uniqueProjection()), 0, null, '1'), []);

      assert.deepEqual(await deadLetters(live), [
        letter(0, '3', 'Order:1'),
        letter(0, '4', 'Order:2'),
        letter(1, '7', 'Order:3'),
        letter(0, '0', 'Order:4', OTHER_TOPIC),
      ]);
      assert.deepEqual(await deadLetters(shadowSlot(projection)), []);
      await store.dropShadow(projection);
    });

    it('resolves dead letters that are exactly the outstanding ones of their aggregates: writes, then unparks', async () => {
      const projection = uniqueProjection();
      const live = liveSlot(projection);
      const key = `${projection}:redriven`;
      const first = { topic: TOPIC, partition: 0, offset: '3', aggregate: 'Order:1' };
      const second = { topic: TOPIC, partition: 0, offset: '5', aggregate: 'Order:1' };
      const other = { topic: TOPIC, partition: 0, offset: '4', aggregate: 'Order:2' };
      await commitOk(live, 0, null, '6', [], [first, other, second]);

      const resolved = await store.resolveDeadLetters(live, [second, first], async (writer) => {
        await adapter.write(writer, key, 42);
      });
      assert.equal(resolved, true);
      assert.equal(await read(projection, key), 42);
      assert.deepEqual(await deadLetters(live), [other]);
      assert.deepEqual(await parkedIn(live, 0, '6', '7'), ['Order:2']);
      assert.deepEqual(await offsets(live), [{ topic: TOPIC, partition: 0, nextOffset: '7' }], 'resolving leaves offsets alone');

      // A skip: no writes, still unparks.
      assert.equal(await store.resolveDeadLetters(live, [other], async () => {}), true);
      assert.deepEqual(await deadLetters(live), []);
      assert.deepEqual(await parkedIn(live, 0, '7', '8'), []);
    });

    it('refuses to resolve stale dead letters, writing nothing, and rolls back work that rejects', async () => {
      const projection = uniqueProjection();
      const live = liveSlot(projection);
      const key = `${projection}:redriven`;
      const first = { topic: TOPIC, partition: 0, offset: '3', aggregate: 'Order:1' };
      const second = { topic: TOPIC, partition: 0, offset: '5', aggregate: 'Order:1' };
      await commitOk(live, 0, null, '6', [], [first, second]);

      const attempt = (entries: DeadLetterEntry[]) => {
        let ran = false;
        return store
          .resolveDeadLetters(live, entries, async (writer) => {
            ran = true;
            await adapter.write(writer, key, 1);
          })
          .then((resolved) => ({ resolved, ran }));
      };
      // Only some of the aggregate's outstanding dead letters.
      assert.deepEqual(await attempt([first]), { resolved: false, ran: false });
      // One that was never recorded.
      assert.deepEqual(await attempt([first, second, { ...second, offset: '9' }]), { resolved: false, ran: false });
      assert.equal(await read(projection, key), undefined);
      assert.deepEqual(await deadLetters(live), [first, second]);

      const failure = new Error('redrive failed');
      await assert.rejects(
        store.resolveDeadLetters(live, [first, second], async (writer) => {
          await adapter.write(writer, key, 2);
          throw failure;
        }),
        (error: unknown) => error === failure,
      );
      assert.equal(await read(projection, key), undefined);
      assert.deepEqual(await deadLetters(live), [first, second]);

      assert.equal(await store.resolveDeadLetters(live, [first, second], async () => {}), true);
      // Already resolved: stale now.
      assert.deepEqual(await attempt([first, second]), { resolved: false, ran: false });
      assert.equal(await read(projection, key), undefined);
    });

    it('resolves dead letters atomically with a commit that parks the same aggregate again', async () => {
      for (let round = 0; round < 5; round += 1) {
        const projection = uniqueProjection();
        const live = liveSlot(projection);
        const old = { topic: TOPIC, partition: 0, offset: '1', aggregate: 'Order:1' };
        const fresh = { topic: TOPIC, partition: 0, offset: '2', aggregate: 'Order:1' };
        await commitOk(live, 0, null, '2', [], [old]);
        const [committed, resolved] = await Promise.all([
          commit(live, 0, '2', '3', [], [fresh]),
          store.resolveDeadLetters(live, [old], async () => {}),
        ]);
        assert.equal(committed.committed, true);
        // Resolved first: only the fresh one is left. Committed first: the old one is no longer all of Order:1's, so both stay.
        assert.deepEqual(await deadLetters(live), resolved ? [fresh] : [old, fresh]);
      }
    });

    it('keeps the shadow apart: its writes, offsets and dead letters are invisible in the live version', async () => {
      const projection = uniqueProjection();
      const live = liveSlot(projection);
      const shadow = shadowSlot(projection);
      const key = `${projection}:a`;
      await commitOk(live, 0, null, '10', [[key, 1]]);
      await store.createShadow(projection);
      assert.deepEqual(await offsets(shadow), [], 'a new shadow has no offsets');

      await commitOk(shadow, 0, null, '4', [[key, 100], [`${projection}:only-shadow`, 7]], [{ topic: TOPIC, partition: 0, offset: '2', aggregate: 'Order:9' }]);
      assert.equal(await read(projection, key), 1);
      assert.equal(await read(projection, `${projection}:only-shadow`), undefined);
      assert.deepEqual(await offsets(live), [{ topic: TOPIC, partition: 0, nextOffset: '10' }]);
      assert.deepEqual(await offsets(shadow), [{ topic: TOPIC, partition: 0, nextOffset: '4' }]);
      assert.deepEqual(await deadLetters(live), []);
      assert.deepEqual(await deadLetters(shadow), [{ topic: TOPIC, partition: 0, offset: '2', aggregate: 'Order:9' }]);
      // Each slot has its own compare-and-set.
      assert.deepEqual(await commit(shadow, 0, '10', '11'), { committed: false, stored: '4' });
      assert.deepEqual(await commit(live, 0, '4', '5'), { committed: false, stored: '10' });

      await store.dropShadow(projection);
      assert.deepEqual(await offsets(shadow), []);
      assert.deepEqual(await deadLetters(shadow), []);
      assert.equal(await read(projection, key), 1);
      assert.deepEqual(await offsets(live), [{ topic: TOPIC, partition: 0, nextOffset: '10' }]);
      await store.dropShadow(projection); // none left: a no-op
    });

    it('empties an existing shadow on createShadow: data, offsets and dead letters', async () => {
      const projection = uniqueProjection();
      const shadow = shadowSlot(projection);
      await store.createShadow(projection);
      await commitOk(shadow, 0, null, '5', [[`${projection}:stale`, 1]], [{ topic: TOPIC, partition: 0, offset: '1', aggregate: 'Order:1' }]);
      await store.createShadow(projection);
      assert.deepEqual(await offsets(shadow), []);
      assert.deepEqual(await deadLetters(shadow), []);
      await commitOk(shadow, 0, null, '3', [[`${projection}:kept`, 2]]);
      // The live version has no offsets, so the shadow may be swapped in as it is; its data shows what it held.
      await store.swap(projection, async () => {});
      assert.equal(await read(projection, `${projection}:stale`), undefined);
      assert.equal(await read(projection, `${projection}:kept`), 2);
    });

    it('swaps the shadow in: its data, offsets and dead letters become live, and the shadow is gone', async () => {
      const projection = uniqueProjection();
      const live = liveSlot(projection);
      const shadow = shadowSlot(projection);
      const k = (name: string) => `${projection}:${name}`;
      await commitOk(live, 0, null, '10', [[k('a'), 1], [k('only-live'), 2]], [{ topic: TOPIC, partition: 0, offset: '4', aggregate: 'Order:live' }]);
      await commitOk(live, 1, null, '20', [[k('b'), 3]]);
      await store.createShadow(projection);
      await commitOk(shadow, 0, null, '10', [[k('a'), 11], [k('only-shadow'), 12]], [{ topic: TOPIC, partition: 0, offset: '6', aggregate: 'Order:shadow' }]);
      await commitOk(shadow, 1, null, '25', [[k('b'), 13]]);

      const given: PartitionOffset[][] = [];
      await store.swap(projection, async (liveOffsets) => {
        given.push([...liveOffsets].map((offset) => ({ ...offset })).sort(byPartition));
      });
      assert.ok(given.length >= 1, 'catchUp runs');
      assert.deepEqual(given.at(-1), [
        { topic: TOPIC, partition: 0, nextOffset: '10' },
        { topic: TOPIC, partition: 1, nextOffset: '20' },
      ]);

      assert.equal(await read(projection, k('a')), 11);
      assert.equal(await read(projection, k('b')), 13);
      assert.equal(await read(projection, k('only-shadow')), 12);
      assert.equal(await read(projection, k('only-live')), undefined);
      assert.deepEqual(await offsets(live), [
        { topic: TOPIC, partition: 0, nextOffset: '10' },
        { topic: TOPIC, partition: 1, nextOffset: '25' },
      ]);
      assert.deepEqual(await deadLetters(live), [{ topic: TOPIC, partition: 0, offset: '6', aggregate: 'Order:shadow' }]);
      assert.deepEqual(await parkedIn(live, 0, '10', '11'), ['Order:shadow']);
      assert.deepEqual(await offsets(shadow), []);
      assert.deepEqual(await deadLetters(shadow), []);
      // The live version goes on from the shadow's offsets.
      assert.deepEqual(await commit(live, 1, '20', '21'), { committed: false, stored: '25' });
      await commitOk(live, 1, '25', '26', [[k('b'), 14]]);
      assert.equal(await read(projection, k('b')), 14);
    });

    it('lets catchUp bring the shadow up to the live offsets through commits of the shadow slot', async () => {
      const projection = uniqueProjection();
      const live = liveSlot(projection);
      const shadow = shadowSlot(projection);
      const key = `${projection}:a`;
      await commitOk(live, 0, null, '7', [[key, 7]]);
      await store.createShadow(projection);
      await commitOk(shadow, 0, null, '3', [[key, 3]]);
      await store.swap(projection, async (liveOffsets) => {
        const target = liveOffsets.find((offset) => offset.partition === 0)!.nextOffset;
        const stored = (await offsets(shadow)).find((offset) => offset.partition === 0)?.nextOffset ?? null;
        if (stored !== target) await commitOk(shadow, 0, stored, target, [[key, Number(target) * 10]]);
      });
      assert.equal(await read(projection, key), 70);
      assert.deepEqual(await offsets(live), [{ topic: TOPIC, partition: 0, nextOffset: '7' }]);
    });

    it('refuses to swap in a shadow behind the live version (ShadowBehindError) and leaves both as they were', async () => {
      const projection = uniqueProjection();
      const live = liveSlot(projection);
      const shadow = shadowSlot(projection);
      const key = `${projection}:a`;
      await commitOk(live, 0, null, '10', [[key, 1]], [{ topic: TOPIC, partition: 0, offset: '2', aggregate: 'Order:live' }]);
      await commitOk(live, 1, null, '20');
      await store.createShadow(projection);
      await commitOk(shadow, 0, null, '12', [[key, 2]]);

      // Partition 1 missing from the shadow, then one offset behind.
      for (const [behindAt, shadowOffset] of [[null, null], [null, '19']] as const) {
        if (shadowOffset !== null) await commitOk(shadow, 1, behindAt, shadowOffset);
        const swapping = store.swap(projection, async () => {});
        await assert.rejects(swapping, (error: unknown) => {
          assert.ok(error instanceof ShadowBehindError, `expected ShadowBehindError, got ${String(error)}`);
          assert.equal(error.code, 'SHADOW_BEHIND');
          assert.equal(error.partition, 1);
          assert.equal(error.liveOffset, '20');
          assert.equal(error.shadowOffset, shadowOffset);
          return true;
        });
        assert.equal(await read(projection, key), 1);
        assert.deepEqual(await offsets(live), [
          { topic: TOPIC, partition: 0, nextOffset: '10' },
          { topic: TOPIC, partition: 1, nextOffset: '20' },
        ]);
        assert.deepEqual(await deadLetters(live), [{ topic: TOPIC, partition: 0, offset: '2', aggregate: 'Order:live' }]);
        // The rebuild keeps its shadow.
        assert.deepEqual((await offsets(shadow))[0], { topic: TOPIC, partition: 0, nextOffset: '12' });
      }
      // Live commits go on.
      await commitOk(live, 0, '10', '11', [[key, 3]]);
      assert.equal(await read(projection, key), 3);
      await store.dropShadow(projection);
    });

    it('makes a live commit that started during catchUp fail its compare-and-set once the swap is done', async () => {
      const projection = uniqueProjection();
      const live = liveSlot(projection);
      const shadow = shadowSlot(projection);
      const k = (name: string) => `${projection}:${name}`;
      await commitOk(live, 0, null, '10', [[k('old'), 1]]);
      await store.createShadow(projection);

      let shadowAt: string | null = null;
      const seen: string[] = [];
      let late: Promise<CommitOutcome> | undefined;
      await store.swap(projection, async (liveOffsets) => {
        const target = liveOffsets.find((offset) => offset.partition === 0)!.nextOffset;
        seen.push(target);
        if (!late) {
          // A live worker that has not seen the swap: it continues from the live offset.
          late = commit(live, 0, target, (BigInt(target) + 1n).toString(), [[k('late'), 99]]);
          late.catch(() => undefined);
          await delay(50);
        }
        const next = (BigInt(target) + 5n).toString();
        await commitOk(shadow, 0, shadowAt, next, [[k('rebuilt'), Number(next)]]);
        shadowAt = next;
      });
      assert.ok(late, 'catchUp ran');
      const outcome = await late;
      const final = await offsets(live);
      assert.deepEqual(final, [{ topic: TOPIC, partition: 0, nextOffset: shadowAt }]);
      if (outcome.committed) {
        // Allowed only if it landed before the swap, which then saw it and caught up past it.
        assert.ok(seen.includes(outcome.nextOffset), `the late live commit to ${outcome.nextOffset} landed, but the swap caught up only to ${seen.join(', ')}`);
      } else {
        assert.equal(outcome.stored, shadowAt, 'the late commit sees the swapped-in offset');
      }
      assert.equal(await read(projection, k('late')), undefined, 'the late commit’s writes are not live');
      assert.equal(await read(projection, k('old')), undefined);
      assert.equal(await read(projection, k('rebuilt')), Number(shadowAt));
    });

    it('lets exactly one of two racing commits with the same expected offset commit (a zombie writes nothing)', async () => {
      for (const start of [null, '5']) {
        const projection = uniqueProjection();
        const live = liveSlot(projection);
        const key = `${projection}:a`;
        if (start !== null) await commitOk(live, 0, null, start, [[key, 0]]);
        const racer = (value: number, nextOffset: string) =>
          store.commit({ slot: live, topic: TOPIC, partition: 0, expected: start }, async ({ writer }) => {
            await adapter.write(writer, key, value);
            await delay(20);
            await adapter.write(writer, `${key}:${value}`, value);
            return nextOffset;
          });
        const outcomes = await Promise.all([racer(1, '11'), racer(2, '12')]);
        const winners = outcomes.filter((outcome) => outcome.committed);
        assert.equal(winners.length, 1, `exactly one commits: ${JSON.stringify(outcomes)}`);
        const winner = outcomes[0].committed ? 0 : 1;
        const value = winner + 1;
        const nextOffset = winner === 0 ? '11' : '12';
        assert.deepEqual(outcomes[1 - winner], { committed: false, stored: nextOffset });
        assert.equal(await read(projection, key), value);
        assert.equal(await read(projection, `${key}:${value}`), value);
        assert.equal(await read(projection, `${key}:${3 - value}`), undefined);
        assert.deepEqual(await offsets(live), [{ topic: TOPIC, partition: 0, nextOffset }]);
      }
    });

    it('commits racing batches of different partitions of one slot, both', async () => {
      const projection = uniqueProjection();
      const live = liveSlot(projection);
      const batch = (partition: number) =>
        store.commit({ slot: live, topic: TOPIC, partition, expected: null }, async ({ writer }) => {
          await adapter.write(writer, `${projection}:p${partition}`, partition + 1);
          await delay(20);
          return String(partition + 100);
        });
      const outcomes = await Promise.all([batch(0), batch(1), batch(2)]);
      assert.deepEqual(outcomes, [
        { committed: true, nextOffset: '100' },
        { committed: true, nextOffset: '101' },
        { committed: true, nextOffset: '102' },
      ]);
      for (const partition of [0, 1, 2]) assert.equal(await read(projection, `${projection}:p${partition}`), partition + 1);
      assert.deepEqual(await offsets(live), [0, 1, 2].map((partition) => ({ topic: TOPIC, partition, nextOffset: String(partition + 100) })));
    });

    it('ends a sequence of batches over two partitions, replayed by duplicates and zombies, as if each ran once (property)', async () => {
      const replay = fc.constantFrom('none', 'duplicate', 'zombie', 'racing-duplicate', 'racing-zombie');
      const batch = fc.record({
        partition: fc.constantFrom(0, 1),
        size: fc.integer({ min: 1, max: 3 }),
        writes: fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: -1000, max: 1000 })), { maxLength: 4 }),
        replay,
        zombieOf: fc.nat(),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 12 }), async (batches) => {
          const projection = uniqueProjection();
          const live = liveSlot(projection);
          const key = (index: number) => `${projection}:k${index}`;
          const zombieKey = `${projection}:zombie`;
          const model = new Map<string, number>();
          const partitions = [0, 1].map(() => ({ expected: null as string | null, history: [] as Array<{ expected: string | null; next: string; writes: Writes }> }));

          for (const { partition, size, writes: indexed, replay: kind, zombieOf } of batches) {
            const state = partitions[partition];
            const expected = state.expected;
            const next = (BigInt(expected ?? '0') + BigInt(size)).toString();
            const writes: Writes = indexed.map(([index, value]) => [key(index), value] as const);
            const genuine = () => commit(live, partition, expected, next, writes);
            const old = state.history.length > 0 ? state.history[zombieOf % state.history.length] : undefined;
            // A zombie replays an older batch from where it started, and leaves a mark no batch makes.
            const zombie = () => (old ? commit(live, partition, old.expected, old.next, [...old.writes, [zombieKey, 1]]) : Promise.resolve(undefined));

            if (kind === 'none') {
              assert.deepEqual(await genuine(), { committed: true, nextOffset: next });
            } else if (kind === 'duplicate') {
              assert.deepEqual(await genuine(), { committed: true, nextOffset: next });
              assert.deepEqual(await genuine(), { committed: false, stored: next });
            } else if (kind === 'zombie') {
              assert.deepEqual(await genuine(), { committed: true, nextOffset: next });
              const outcome = await zombie();
              if (outcome) assert.deepEqual(outcome, { committed: false, stored: next });
            } else if (kind === 'racing-duplicate') {
              const outcomes = await Promise.all([genuine(), genuine()]);
              assert.equal(outcomes.filter((outcome) => outcome.committed).length, 1, JSON.stringify(outcomes));
              for (const outcome of outcomes) assert.ok(outcome.committed ? outcome.nextOffset === next : outcome.stored === next, JSON.stringify(outcome));
            } else {
              const [outcome, replayed] = await Promise.all([genuine(), zombie()]);
              assert.deepEqual(outcome, { committed: true, nextOffset: next });
              if (replayed) assert.equal(replayed.committed, false);
            }
            for (const [written, value] of writes) model.set(written, value);
            state.expected = next;
            state.history.push({ expected, next, writes });
          }

          for (let index = 0; index <= 4; index += 1) assert.equal(await read(projection, key(index)), model.get(key(index)), `key k${index}`);
          assert.equal(await read(projection, zombieKey), undefined, 'no zombie wrote');
          const expectedOffsets = partitions.flatMap((state, partition) => (state.expected === null ? [] : [{ topic: TOPIC, partition, nextOffset: state.expected }]));
          assert.deepEqual(await offsets(live), expectedOffsets);
        }),
        { numRuns: options.propertyRuns ?? 15 },
      );
    });
  });
}

function byPartition(a: PartitionOffset, b: PartitionOffset): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  return a.partition - b.partition;
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
