import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import {
  Aggregate,
  AggregateId,
  AggregateRoot,
  Apply,
  Event,
  InMemoryEventStore,
  NewEvent,
  Rehydrator,
  RehydratorWarning,
  SnapshotStore,
} from '@tributary/core';

/** Options of {@link snapshotRehydrationContract}. */
export interface SnapshotRehydrationContractOptions {
  /** Runs of each property; lower it for slow stores. Defaults to 40. */
  readonly propertyRuns?: number;
  /** Releases the store after the suite (connections, consumers). */
  readonly destroyStore?: (store: SnapshotStore) => Promise<void> | void;
}

@Event('TributaryContract.Credited')
class Credited {
  constructor(
    readonly ledgerId: string,
    readonly amount: number,
  ) {}
}

@Event('TributaryContract.Debited')
class Debited {
  constructor(readonly amount: number) {}
}

/** State that depends on the order of its events, so a snapshot taken at the wrong point shows. */
@Aggregate('TributaryContract.Ledger')
class Ledger extends AggregateRoot {
  @AggregateId() id = '';
  balance = 0;
  lowest = 0;
  trail = '';

  @Apply(Credited) credited(event: Credited): void {
    this.id = event.ledgerId;
    this.balance += event.amount;
    this.trail = `${this.trail}+${event.amount}`.slice(-60);
  }

  @Apply(Debited) debited(event: Debited): void {
    this.balance -= event.amount;
    this.lowest = Math.min(this.lowest, this.balance);
    this.trail = `${this.trail}-${event.amount}`.slice(-60);
  }
}

const START = Date.UTC(2026, 0, 1);

/**
 * The promise a {@link SnapshotStore} makes to the {@link Rehydrator}, as
 * fast-check properties in a mocha suite: for random histories with snapshots
 * saved at random versions, the state from snapshot plus tail equals the state
 * of a full replay, now and at every earlier version and time.
 *
 * @example
 * ```ts
 * snapshotRehydrationContract('PostgresSnapshotStore', async () => new PostgresSnapshotStore({ pool }));
 * ```
 */
export function snapshotRehydrationContract(
  name: string,
  createStore: () => Promise<SnapshotStore> | SnapshotStore,
  options: SnapshotRehydrationContractOptions = {},
): void {
  const runs = options.propertyRuns ?? 40;
  const history = fc.array(fc.record({ credit: fc.boolean(), amount: fc.integer({ min: 1, max: 500 }) }), { minLength: 1, maxLength: 30 });

  describe(`${name} rehydrates like a full replay (snapshot + tail)`, () => {
    let store: SnapshotStore;
    before(async () => {
      store = await createStore();
    });
    after(async () => {
      if (store) await options.destroyStore?.(store);
    });

    /** A ledger with the given history, in a fresh event store, event i occurring at START + i seconds. */
    async function ledgerWith(steps: Array<{ credit: boolean; amount: number }>): Promise<{ id: string; events: InMemoryEventStore }> {
      const id = `ledger-${randomUUID()}`;
      const events = new InMemoryEventStore();
      const stored: NewEvent[] = steps.map((step, index) => ({
        eventId: randomUUID(),
        type: index === 0 || step.credit ? 'TributaryContract.Credited' : 'TributaryContract.Debited',
        schemaVersion: 1,
        payload: index === 0 || step.credit ? { ledgerId: id, amount: step.amount } : { amount: step.amount },
        occurredAt: new Date(START + (index + 1) * 1000),
        correlationId: 'contract',
        causationId: 'contract',
        metadata: {},
      }));
      await events.appendToStream({ aggregateType: 'TributaryContract.Ledger', aggregateId: id }, 0, stored);
      return { id, events };
    }

    const stateOf = (ledger: Ledger | undefined) => ledger && { id: ledger.id, balance: ledger.balance, lowest: ledger.lowest, trail: ledger.trail, version: ledger.version };

    it('equals a full replay at every version, with snapshots saved at random versions', async () => {
      await fc.assert(
        fc.asyncProperty(history, fc.array(fc.nat(), { maxLength: 4 }), async (steps, picks) => {
          const { id, events } = await ledgerWith(steps);
          const warnings: RehydratorWarning[] = [];
          const replayOnly = new Rehydrator({ aggregate: Ledger, eventStore: events });
          const withSnapshots = new Rehydrator({ aggregate: Ledger, eventStore: events, snapshots: store, onWarning: (warning) => warnings.push(warning) });
          for (const pick of picks) {
            const version = (pick % steps.length) + 1;
            const cut = (await replayOnly.load(id, { version }))!;
            await withSnapshots.takeSnapshot(cut, new Date(START + version * 1000));
          }
          for (let version = 1; version <= steps.length; version += 1) {
            assert.deepEqual(stateOf(await withSnapshots.load(id, { version })), stateOf(await replayOnly.load(id, { version })), `version ${version}`);
          }
          assert.deepEqual(stateOf(await withSnapshots.load(id)), stateOf(await replayOnly.load(id)));
          assert.deepEqual(warnings, []);
        }),
        { numRuns: runs },
      );
    });

    it('equals a full replay cut at any time, from the nearest snapshot at or before it', async () => {
      await fc.assert(
        fc.asyncProperty(history, fc.nat(), fc.integer({ min: -2000, max: 40_000 }), async (steps, pick, offsetMs) => {
          const { id, events } = await ledgerWith(steps);
          const replayOnly = new Rehydrator({ aggregate: Ledger, eventStore: events });
          const withSnapshots = new Rehydrator({ aggregate: Ledger, eventStore: events, snapshots: store });
          const version = (pick % steps.length) + 1;
          await withSnapshots.takeSnapshot((await replayOnly.load(id, { version }))!, new Date(START + version * 1000));
          const asOf = new Date(START + offsetMs);
          // The cut by hand: the events that occurred at or before asOf.
          const occurred = steps.filter((_, index) => START + (index + 1) * 1000 <= asOf.getTime()).length;
          const expected = occurred === 0 ? undefined : stateOf(await replayOnly.load(id, { version: occurred }));
          assert.deepEqual(stateOf(await withSnapshots.load(id, { asOf })), expected, `as of +${offsetMs} ms`);
          assert.deepEqual(stateOf(await replayOnly.load(id, { asOf })), expected);
        }),
        { numRuns: runs },
      );
    });
  });
}
