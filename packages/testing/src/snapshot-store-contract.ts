import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { EventData, Snapshot, SnapshotQuery, SnapshotStore } from '@tributary/core';

/** Options of {@link snapshotStoreContract}. */
export interface SnapshotStoreContractOptions {
  /** Unique aggregate ids per test, so a shared durable store can be reused. Defaults to random UUIDs. */
  readonly uniqueId?: () => string;
  /** Runs of the property-based test; lower it for slow stores. Defaults to 25. */
  readonly propertyRuns?: number;
  /** Called once after the suite with the store it made, to close its connections. */
  readonly destroyStore?: (store: SnapshotStore) => Promise<void> | void;
}

const TYPE = 'ContractTest';
const OTHER_TYPE = 'ContractOther';

/**
 * The promises every {@link SnapshotStore} keeps, as a mocha suite. Call it from
 * a test file of each implementation, so they all pass the same checks.
 *
 * The store is made once per suite (stores that materialize a topic are slow to
 * start); every test uses aggregate ids of its own. The checks hold both for a
 * store that keeps every snapshot (answering bounded loads from an older one)
 * and for one that keeps only the newest (answering them with undefined when
 * the newest is out of bounds).
 *
 * @example
 * ```ts
 * snapshotStoreContract('InMemorySnapshotStore', () => new InMemorySnapshotStore());
 * ```
 */
export function snapshotStoreContract(
  name: string,
  createStore: () => Promise<SnapshotStore> | SnapshotStore,
  options: SnapshotStoreContractOptions = {},
): void {
  const uniqueId = options.uniqueId ?? (() => randomUUID());

  describe(`${name} keeps the SnapshotStore contract`, () => {
    let store: SnapshotStore;
    before(async () => {
      store = await createStore();
    });
    after(async () => {
      if (store) await options.destroyStore?.(store);
    });

    /** Loads and checks that what came back is one of `saved`, within the bounds. */
    async function loadWithin(aggregateId: string, saved: readonly Snapshot[], query: SnapshotQuery): Promise<Snapshot | undefined> {
      const loaded = await store.load(TYPE, aggregateId, query);
      if (loaded === undefined) return undefined;
      if (query.maxVersion !== undefined) assert.ok(loaded.version <= query.maxVersion, `version ${loaded.version} is over maxVersion ${query.maxVersion}`);
      if (query.asOf !== undefined) assert.ok(loaded.occurredAt.getTime() <= query.asOf.getTime(), `occurredAt ${loaded.occurredAt.toISOString()} is after asOf ${query.asOf.toISOString()}`);
      const original = saved.find((snapshot) => snapshot.version === loaded.version);
      assert.ok(original, `version ${loaded.version} was never saved`);
      assertSameSnapshot(loaded, original);
      return loaded;
    }

    it('gives back what it saved: state, version, position, shape version and occurredAt as a Date', async () => {
      const id = uniqueId();
      const saved = snapshot(id, 7, {
        state: {
          id,
          status: 'open',
          total: 12.5,
          count: 0,
          negative: -3,
          flags: [true, false, null],
          lines: [{ sku: 'A-1', quantity: 2 }, { sku: 'ü€😀', quantity: 1 }],
          nested: { deeper: { empty: {}, none: [] } },
          text: 'quotes " and \' and \\ and \n newline',
        },
        position: '9007199254740993',
        shapeVersion: 'shape-2',
        occurredAt: new Date('2026-03-04T05:06:07.089Z'),
      });
      await store.save(saved);
      const loaded = await store.load(TYPE, id);
      assert.ok(loaded, 'a saved snapshot loads');
      assertSameSnapshot(loaded, saved);
      assert.ok(loaded.occurredAt instanceof Date, 'occurredAt is a Date');
    });

    it('leaves position undefined when none was saved, and loads an unknown aggregate as undefined', async () => {
      const id = uniqueId();
      await store.save(snapshot(id, 1));
      const loaded = await store.load(TYPE, id);
      assert.ok(loaded);
      assert.equal(loaded.position, undefined);
      assert.equal(await store.load(TYPE, uniqueId()), undefined);
    });

    it('keeps what it saved safe from later changes to the caller’s objects', async () => {
      const id = uniqueId();
      const saved = snapshot(id, 3, { state: { id, list: [1] } });
      await store.save(saved);
      (saved.state.list as number[]).push(2);
      const first = await store.load(TYPE, id);
      assert.deepEqual(first?.state.list, [1]);
      (first!.state.list as number[]).push(3);
      assert.deepEqual((await store.load(TYPE, id))?.state.list, [1]);
    });

    it('keeps the newest: a later save of an older version never replaces a newer one', async () => {
      const id = uniqueId();
      await store.save(snapshot(id, 3));
      const newest = snapshot(id, 7);
      await store.save(newest);
      await store.save(snapshot(id, 5));
      await store.save(snapshot(id, 1));
      assertSameSnapshot(await store.load(TYPE, id), newest);
    });

    it('replaces a snapshot saved again at the same version (a state of a new shape)', async () => {
      const id = uniqueId();
      await store.save(snapshot(id, 4, { shapeVersion: 'old-shape', state: { id, old: true } }));
      const replacement = snapshot(id, 4, { shapeVersion: 'new-shape', state: { id, fresh: true } });
      await store.save(replacement);
      assertSameSnapshot(await store.load(TYPE, id), replacement);
    });

    it('honours maxVersion and asOf: what it returns is within them, and the newest when they cover it', async () => {
      const id = uniqueId();
      const saved = [
        snapshot(id, 2, { occurredAt: new Date('2026-01-01T00:00:01.000Z') }),
        snapshot(id, 5, { occurredAt: new Date('2026-01-01T00:00:02.000Z') }),
        snapshot(id, 9, { occurredAt: new Date('2026-01-01T00:00:03.000Z') }),
      ];
      for (const each of saved) await store.save(each);
      const newest = saved[2];

      // Bounds that cover the newest, inclusive at both edges.
      assertSameSnapshot(await loadWithin(id, saved, { maxVersion: 9 }), newest);
      assertSameSnapshot(await loadWithin(id, saved, { maxVersion: 1000 }), newest);
      assertSameSnapshot(await loadWithin(id, saved, { asOf: new Date('2026-01-01T00:00:03.000Z') }), newest);
      assertSameSnapshot(await loadWithin(id, saved, { maxVersion: 9, asOf: new Date('2030-01-01T00:00:00.000Z') }), newest);

      // Bounds that exclude the newest: an older snapshot within them, or none.
      await loadWithin(id, saved, { maxVersion: 8 });
      await loadWithin(id, saved, { maxVersion: 5 });
      await loadWithin(id, saved, { asOf: new Date('2026-01-01T00:00:02.999Z') });
      await loadWithin(id, saved, { maxVersion: 9, asOf: new Date('2026-01-01T00:00:01.500Z') });
      await loadWithin(id, saved, { maxVersion: 4, asOf: new Date('2026-01-01T00:00:03.000Z') });

      // Bounds no saved snapshot meets.
      assert.equal(await store.load(TYPE, id, { maxVersion: 1 }), undefined);
      assert.equal(await store.load(TYPE, id, { maxVersion: 0 }), undefined);
      assert.equal(await store.load(TYPE, id, { asOf: new Date('2026-01-01T00:00:00.999Z') }), undefined);
    });

    it('deletes every snapshot of an aggregate, after which any version may be saved again', async () => {
      const id = uniqueId();
      await store.save(snapshot(id, 3));
      await store.save(snapshot(id, 9));
      await store.delete(TYPE, id);
      assert.equal(await store.load(TYPE, id), undefined);
      assert.equal(await store.load(TYPE, id, { maxVersion: 3 }), undefined);
      await store.delete(TYPE, id);
      await store.delete(TYPE, uniqueId());
      const again = snapshot(id, 1);
      await store.save(again);
      assertSameSnapshot(await store.load(TYPE, id), again);
    });

    it('keeps aggregates of different types with the same id apart', async () => {
      const id = uniqueId();
      const mine = snapshot(id, 2, { state: { id, kind: 'mine' } });
      const other = { ...snapshot(id, 8, { state: { id, kind: 'other' } }), aggregateType: OTHER_TYPE };
      await store.save(mine);
      await store.save(other);
      assertSameSnapshot(await store.load(TYPE, id), mine);
      assertSameSnapshot(await store.load(OTHER_TYPE, id), other);
      await store.delete(OTHER_TYPE, id);
      assert.equal(await store.load(OTHER_TYPE, id), undefined);
      assertSameSnapshot(await store.load(TYPE, id), mine);
    });

    it('keeps a type and id apart from another pair that joins to the same text', async () => {
      // 'Contract' + 'Split:x' and 'Contract:Split' + 'x' would share a naive '<type>:<id>' key.
      const suffix = uniqueId();
      const first = { ...snapshot(`Split:${suffix}`, 1, { state: { which: 'first' } }), aggregateType: 'Contract' };
      const second = { ...snapshot(suffix, 2, { state: { which: 'second' } }), aggregateType: 'Contract:Split' };
      await store.save(first);
      await store.save(second);
      assertSameSnapshot(await store.load('Contract', `Split:${suffix}`), first);
      assertSameSnapshot(await store.load('Contract:Split', suffix), second);
      await store.delete('Contract', `Split:${suffix}`);
      await store.delete('Contract:Split', suffix);
    });

    it('takes ids with any characters: separators, quotes, wildcards, unicode, spaces', async () => {
      const base = uniqueId();
      const ids = [
        `${base}:with:colons`,
        `${base}/with/slashes`,
        `${base}-订单-🚀-ß`,
        `${base}-"double"-'single'-\`back\``,
        `${base}-*?[wild]{card}%_`,
        `${base} with spaces\tand tab`,
        `${base}\\back\\slash`,
        `${base}-${'long'.repeat(100)}`,
      ];
      for (const [index, id] of ids.entries()) await store.save(snapshot(id, index + 1, { state: { id, index } }));
      for (const [index, id] of ids.entries()) {
        const loaded = await store.load(TYPE, id);
        assert.ok(loaded, `snapshot of ${JSON.stringify(id)} loads`);
        assert.equal(loaded.aggregateId, id);
        assert.equal(loaded.version, index + 1);
        assert.deepEqual(loaded.state, { id, index });
      }
      assert.equal(await store.load(TYPE, base), undefined, 'a prefix of the ids is an id of its own');
    });

    it('ends racing saves of one aggregate with the highest version', async () => {
      const id = uniqueId();
      const versions = shuffle(Array.from({ length: 20 }, (_, index) => index + 1));
      await Promise.all(versions.map((version) => store.save(snapshot(id, version, { state: { id, version } }))));
      const loaded = await store.load(TYPE, id);
      assert.equal(loaded?.version, 20);
      assert.deepEqual(loaded?.state, { id, version: 20 });
    });

    it('loads the highest version of any sequence of saves, with the state saved last at it (property)', async () => {
      const save = fc.record({ version: fc.integer({ min: 1, max: 30 }), second: fc.integer({ min: 0, max: 59 }) });
      await fc.assert(
        fc.asyncProperty(fc.array(save, { minLength: 1, maxLength: 10 }), fc.integer({ min: 0, max: 31 }), async (saves, bound) => {
          const id = uniqueId();
          const saved = saves.map(({ version, second }, index) =>
            snapshot(id, version, { state: { id, version, index }, occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, second)) }),
          );
          for (const each of saved) await store.save(each);
          const highest = Math.max(...saved.map((each) => each.version));
          const expected = saved.filter((each) => each.version === highest).at(-1)!;
          assertSameSnapshot(await store.load(TYPE, id), expected);

          const bounded = await store.load(TYPE, id, { maxVersion: bound });
          if (bound >= highest) assertSameSnapshot(bounded, expected);
          else if (bounded !== undefined) {
            assert.ok(bounded.version <= bound);
            // Whatever it kept of that version is the last save of it.
            assert.deepEqual(bounded.state, saved.filter((each) => each.version === bounded.version).at(-1)!.state);
          }
          await store.delete(TYPE, id);
        }),
        { numRuns: options.propertyRuns ?? 25 },
      );
    });
  });
}

function snapshot(aggregateId: string, version: number, fields: Partial<Omit<Snapshot, 'aggregateId' | 'version'>> = {}): Snapshot {
  return {
    aggregateType: TYPE,
    aggregateId,
    version,
    state: { id: aggregateId, version } as EventData,
    shapeVersion: 'contract-1',
    occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, version)),
    ...fields,
  };
}

function assertSameSnapshot(actual: Snapshot | undefined, expected: Snapshot): void {
  assert.ok(actual, `expected version ${expected.version} of ${expected.aggregateType} '${expected.aggregateId}', got undefined`);
  assert.equal(actual.aggregateType, expected.aggregateType);
  assert.equal(actual.aggregateId, expected.aggregateId);
  assert.equal(actual.version, expected.version);
  assert.equal(actual.position, expected.position);
  assert.equal(actual.shapeVersion, expected.shapeVersion);
  assert.ok(actual.occurredAt instanceof Date, 'occurredAt is a Date');
  assert.equal(actual.occurredAt.getTime(), expected.occurredAt.getTime());
  assert.deepEqual(actual.state, expected.state);
}

function shuffle<T>(items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index -= 1) {
    const other = Math.floor(Math.random() * (index + 1));
    [items[index], items[other]] = [items[other], items[index]];
  }
  return items;
}
