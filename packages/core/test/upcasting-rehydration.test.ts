import { expect } from 'chai';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import {
  Aggregate,
  AggregateId,
  AggregateRoot,
  Apply,
  CommandBus,
  DuplicateUpcasterError,
  Event,
  EventRecord,
  EventSequenceError,
  InMemoryEventStore,
  NewEvent,
  StaleEventClassError,
  UnappliedEventError,
  UpcasterGapError,
  defineUpcaster,
  exploreAggregate,
} from '@tributary/core';
import {
  ACCOUNT_UPCASTERS,
  Account,
  AccountOpened,
  AccountOpenedV1,
  Deposit,
  Deposited,
  LEGACY_EVENT_CLASSES,
  accountState,
  openedV1ToV2,
} from './support/account-history';

function newEvent(record: EventRecord): NewEvent {
  return {
    eventId: randomUUID(),
    type: record.type,
    schemaVersion: record.schemaVersion,
    // Fixed, so that nothing but the payloads could make two loads differ.
    occurredAt: new Date('2020-01-01T00:00:00.000Z'),
    correlationId: 'history',
    causationId: 'history',
    metadata: {},
    payload: record.payload,
  };
}

function accountBus(eventStore = new InMemoryEventStore()): CommandBus {
  return new CommandBus({ aggregates: [Account], events: LEGACY_EVENT_CLASSES, upcasters: ACCOUNT_UPCASTERS, eventStore });
}

async function store(bus: CommandBus, accountId: string, records: readonly EventRecord[]): Promise<void> {
  await bus.eventStore.appendToStream({ aggregateType: 'Upcast.Account', aggregateId: accountId }, 0, records.map(newEvent));
}

describe('Rehydration through upcasters', () => {
  it('loads a legacy history: renamed, merged, split and dropped events, a chain and a change of meaning', async () => {
    const bus = accountBus();
    await store(bus, 'a-1', [
      { type: 'Upcast.AccountOpened', schemaVersion: 1, payload: { accountId: 'a-1', owner: 'Ada' } },
      { type: 'Upcast.MoneyIn', schemaVersion: 1, payload: { cents: 100 } },
      { type: 'Upcast.Audited', schemaVersion: 1, payload: { by: 'auditor' } },
      { type: 'Upcast.Transfer', schemaVersion: 1, payload: { amountCents: 1000, feeCents: 25 } },
      { type: 'Upcast.ChequeDeposited', schemaVersion: 1, payload: { cents: 5, chequeNumber: '7' } },
      { type: 'Upcast.Withdrawn', schemaVersion: 1, payload: { amountCents: 80 } },
    ]);
    const account = await bus.repository(Account).load('a-1');
    expect(accountState(account)).to.deep.equal({
      id: 'a-1',
      ownerName: 'Ada',
      limitCents: 0,
      balanceCents: 100 + 1000 - 25 + 5 - 80,
      feesCents: 25,
      deposits: 3,
      lastWithdrawalReason: 'unknown',
    });
    // The version counts stored events, dropped and split ones included: appends are checked against it.
    expect(account.version).to.equal(6);
    const { version, events } = await bus.execute(new Deposit('a-1', 1));
    expect(version).to.equal(7);
    expect(events[0].sequence).to.equal(7);
    expect((await bus.repository(Account).load('a-1')).balanceCents).to.equal(1001);
  });

  it('keeps sequence checks strict on the stored events', () => {
    const model = exploreAggregate(Account);
    const opened = new AccountOpened('a-2', 'Bo', 0);
    const history = [{ sequence: 1, payloads: [opened] }, { sequence: 2, payloads: [] }, { sequence: 3, payload: new Deposited(4) }];
    expect(model.rehydrate('a-2', history)!.version).to.equal(3);
    expect(() => model.rehydrate('a-2', [{ sequence: 1, payloads: [opened, new Deposited(1)] }, { sequence: 3, payloads: [] }])).to.throw(
      EventSequenceError,
      'expected event sequence 2 but read 3',
    );
  });

  it('names the aggregate and the event when a stored event has no path', async () => {
    const bus = accountBus();
    await store(bus, 'a-3', [
      { type: 'Upcast.AccountOpened', schemaVersion: 3, payload: { accountId: 'a-3', ownerName: 'Cy', limitCents: 0 } },
      { type: 'Upcast.MoneyIn', schemaVersion: 2, payload: { cents: 1 } },
    ]);
    const error = await bus.repository(Account).load('a-3').catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UpcasterGapError);
    expect((error as Error).message).to.contain("Loading Upcast.Account 'a-3' (event 2): event type 'Upcast.MoneyIn' v2 has no path");
  });

  describe('fails fast when the bus is built', () => {
    it('on duplicate upcasters', () => {
      const twin = defineUpcaster('Upcast.AccountOpened', 1, (event) => event);
      expect(() => new CommandBus({ aggregates: [Account], upcasters: [openedV1ToV2, twin] })).to.throw(DuplicateUpcasterError);
    });

    it('on an aggregate applying an older version than stored events are read as', () => {
      @Aggregate('Upcast.Stale')
      class Stale extends AggregateRoot {
        @AggregateId() id = '';
        @Apply(AccountOpenedV1) old(): void {}
        @Apply(AccountOpened) current(): void {}
      }
      expect(() => new CommandBus({ aggregates: [Stale] })).to.throw(
        StaleEventClassError,
        "Stale applies AccountOpenedV1 ('Upcast.AccountOpened' v1), but stored 'Upcast.AccountOpened' v1 events are read as v3 (AccountOpened)",
      );
      expect(() => new CommandBus({ aggregates: [Stale], upcasters: [openedV1ToV2] })).to.throw(
        StaleEventClassError,
        "turned into other events by the upcaster from 'Upcast.AccountOpened' v1",
      );
    });

    it('on a forgotten upcaster: a registered type whose events end at a class nothing applies', () => {
      const withoutSplit = ACCOUNT_UPCASTERS.filter((upcaster) => upcaster.type !== 'Upcast.Transfer');
      expect(() => new CommandBus({ aggregates: [Account], events: LEGACY_EVENT_CLASSES, upcasters: withoutSplit })).to.throw(
        UnappliedEventError,
        "Transfer ('Upcast.Transfer' v1) is registered and stored 'Upcast.Transfer' events are read as it, but no aggregate applies it",
      );
    });

    it('but accepts older versions kept for reading beside the one applied', () => {
      @Event('Upcast.Noted', { version: 1 })
      class NotedV1 {}
      @Event('Upcast.Noted', { version: 2 })
      class Noted {}
      @Aggregate('Upcast.Notebook')
      class Notebook extends AggregateRoot {
        @AggregateId() id = '';
        @Apply(Noted) noted(): void {}
      }
      expect(() => new CommandBus({ aggregates: [Notebook], events: [NotedV1] })).not.to.throw();
    });
  });

  describe('equals rehydrating the equivalent current events (property)', () => {
    /** One fact of the account's life, told as some version of the code stored it, and as today's code does. */
    type Told = { readonly legacy: EventRecord; readonly current: readonly EventRecord[] };
    const current = (type: string, schemaVersion: number, payload: Record<string, unknown>): EventRecord => ({ type, schemaVersion, payload });
    const deposited = (amountCents: number) => current('Upcast.Deposited', 1, { amountCents });

    const opening: fc.Arbitrary<Told> = fc
      .record({ owner: fc.string({ maxLength: 8 }), limit: fc.integer({ min: 0, max: 1000 }), form: fc.constantFrom(1, 2, 3) })
      .map(({ owner, limit, form }) => {
        const today = [current('Upcast.AccountOpened', 3, { accountId: 'p-1', ownerName: owner, limitCents: form === 1 ? 0 : limit * 100 })];
        if (form === 1) return { legacy: current('Upcast.AccountOpened', 1, { accountId: 'p-1', owner }), current: today };
        if (form === 2) return { legacy: current('Upcast.AccountOpened', 2, { accountId: 'p-1', ownerName: owner, limit }), current: today };
        return { legacy: today[0], current: today };
      });

    const later: fc.Arbitrary<Told> = fc.oneof(
      fc.nat(10_000).map((cents) => ({ legacy: current('Upcast.MoneyIn', 1, { cents }), current: [deposited(cents)] })),
      fc.nat(10_000).map((cents) => ({ legacy: current('Upcast.CashDeposited', 1, { cents }), current: [deposited(cents)] })),
      fc.nat(10_000).map((cents) => ({
        legacy: current('Upcast.ChequeDeposited', 1, { cents, chequeNumber: String(cents) }),
        current: [deposited(cents)],
      })),
      fc.nat(10_000).map((cents) => ({ legacy: deposited(cents), current: [deposited(cents)] })),
      fc.record({ amountCents: fc.nat(10_000), feeCents: fc.nat(100) }).map(({ amountCents, feeCents }) => ({
        legacy: current('Upcast.Transfer', 1, { amountCents, feeCents }),
        current: [deposited(amountCents), current('Upcast.FeeCharged', 1, { feeCents })],
      })),
      fc.string({ maxLength: 5 }).map((by) => ({ legacy: current('Upcast.Audited', 1, { by }), current: [] })),
      fc.nat(10_000).map((amountCents) => ({
        legacy: current('Upcast.Withdrawn', 1, { amountCents }),
        current: [current('Upcast.Withdrawn', 2, { amountCents, reason: 'unknown' })],
      })),
      fc.record({ amountCents: fc.nat(10_000), reason: fc.string({ maxLength: 5 }) }).map(({ amountCents, reason }) => ({
        legacy: current('Upcast.Withdrawn', 2, { amountCents, reason }),
        current: [current('Upcast.Withdrawn', 2, { amountCents, reason })],
      })),
    );

    it('for random histories of legacy events', async () => {
      await fc.assert(
        fc.asyncProperty(opening, fc.array(later, { maxLength: 15 }), async (first, rest) => {
          const history = [first, ...rest];
          const legacyBus = accountBus();
          await store(legacyBus, 'p-1', history.map((told) => told.legacy));
          const currentBus = accountBus();
          await store(currentBus, 'p-1', history.flatMap((told) => told.current));

          const fromLegacy = await legacyBus.repository(Account).load('p-1');
          const fromCurrent = await currentBus.repository(Account).load('p-1');
          expect(accountState(fromLegacy)).to.deep.equal(accountState(fromCurrent));
          expect(fromLegacy.version).to.equal(history.length);
          // Reading the same history again gives the same aggregate.
          expect(accountState(await legacyBus.repository(Account).load('p-1'))).to.deep.equal(accountState(fromLegacy));
        }),
        { numRuns: 100 },
      );
    });
  });
});
