import { expect } from 'chai';
import {
  ConfigurationError,
  DuplicateUpcasterError,
  Event,
  EventRecord,
  EventRegistry,
  InvalidOptionError,
  InvalidUpcastResultError,
  MisplacedUpcasterError,
  TributaryError,
  UnknownEventTypeError,
  Upcaster,
  UpcasterChain,
  UpcasterGapError,
  UpcasterLoopError,
  UpcastFailedError,
  defineUpcaster,
} from '@tributary/core';
import {
  ACCOUNT_UPCASTERS,
  AccountOpened,
  Deposited,
  FeeCharged,
  LEGACY_EVENT_CLASSES,
  Withdrawn,
  dropAudited,
  openedV1ToV2,
} from './support/account-history';

function accountChain(upcasters: Iterable<Upcaster> = ACCOUNT_UPCASTERS): UpcasterChain {
  return new UpcasterChain(upcasters, new EventRegistry([AccountOpened, Deposited, FeeCharged, Withdrawn, ...LEGACY_EVENT_CLASSES]));
}

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('UpcasterChain', () => {
  describe('upcasts', () => {
    const chain = accountChain();

    it('through a chain v1 → v2 → v3, one step at a time', () => {
      expect(chain.upcast({ type: 'Upcast.AccountOpened', schemaVersion: 1, payload: { accountId: 'a-1', owner: 'Ada' } })).to.deep.equal([
        { type: 'Upcast.AccountOpened', schemaVersion: 3, payload: { accountId: 'a-1', ownerName: 'Ada', limitCents: 0 } },
      ]);
      expect(
        chain.upcast({ type: 'Upcast.AccountOpened', schemaVersion: 2, payload: { accountId: 'a-1', ownerName: 'Ada', limit: 12 } }),
      ).to.deep.equal([{ type: 'Upcast.AccountOpened', schemaVersion: 3, payload: { accountId: 'a-1', ownerName: 'Ada', limitCents: 1200 } }]);
    });

    it('leaves a current event as it is', () => {
      const current: EventRecord = { type: 'Upcast.AccountOpened', schemaVersion: 3, payload: { accountId: 'a-1', ownerName: 'Ada', limitCents: 5 } };
      expect(chain.upcast(current)).to.deep.equal([current]);
    });

    it('renames a type', () => {
      expect(chain.upcast({ type: 'Upcast.MoneyIn', schemaVersion: 1, payload: { cents: 250 } })).to.deep.equal([
        { type: 'Upcast.Deposited', schemaVersion: 1, payload: { amountCents: 250 } },
      ]);
    });

    it('splits one event into two, in order', () => {
      expect(chain.upcast({ type: 'Upcast.Transfer', schemaVersion: 1, payload: { amountCents: 900, feeCents: 15 } })).to.deep.equal([
        { type: 'Upcast.Deposited', schemaVersion: 1, payload: { amountCents: 900 } },
        { type: 'Upcast.FeeCharged', schemaVersion: 1, payload: { feeCents: 15 } },
      ]);
    });

    it('merges two types into one', () => {
      const cash = chain.upcast({ type: 'Upcast.CashDeposited', schemaVersion: 1, payload: { cents: 40 } });
      const cheque = chain.upcast({ type: 'Upcast.ChequeDeposited', schemaVersion: 1, payload: { cents: 60, chequeNumber: '0042' } });
      expect([...cash, ...cheque]).to.deep.equal([
        { type: 'Upcast.Deposited', schemaVersion: 1, payload: { amountCents: 40 } },
        { type: 'Upcast.Deposited', schemaVersion: 1, payload: { amountCents: 60 } },
      ]);
    });

    it('drops an event', () => {
      expect(chain.upcast({ type: 'Upcast.Audited', schemaVersion: 1, payload: { by: 'auditor' } })).to.deep.equal([]);
    });

    it('changes the meaning of a field', () => {
      const [opened] = chain.upcast({ type: 'Upcast.AccountOpened', schemaVersion: 2, payload: { accountId: 'a', ownerName: 'B', limit: 3 } });
      expect(opened.payload.limitCents).to.equal(300);
    });

    it('passes a version with no upcaster on to the current one, the payload as written', () => {
      expect(chain.upcast({ type: 'Upcast.Withdrawn', schemaVersion: 1, payload: { amountCents: 7 } })).to.deep.equal([
        { type: 'Upcast.Withdrawn', schemaVersion: 2, payload: { amountCents: 7 } },
      ]);
    });

    it("continues from whatever an upcaster returns: another type's older version goes through that type's chain", () => {
      @Event('Upcast.AccountCreated')
      class AccountCreated {}
      const renamedOld = defineUpcaster('Upcast.AccountCreated', 1, ({ payload }) => ({
        type: 'Upcast.AccountOpened',
        schemaVersion: 1,
        payload: { accountId: payload.id, owner: payload.by },
      }));
      const cashOut = defineUpcaster('Upcast.CashOut', 1, ({ payload }) => ({ type: 'Upcast.Withdrawn', schemaVersion: 1, payload }));
      const registry = new EventRegistry([AccountOpened, Withdrawn, AccountCreated]);
      const longChain = new UpcasterChain([...ACCOUNT_UPCASTERS, renamedOld, cashOut], registry);
      expect(longChain.upcast({ type: 'Upcast.AccountCreated', schemaVersion: 1, payload: { id: 'a-9', by: 'Grace' } })).to.deep.equal([
        { type: 'Upcast.AccountOpened', schemaVersion: 3, payload: { accountId: 'a-9', ownerName: 'Grace', limitCents: 0 } },
      ]);
      // Withdrawn v1 has no upcaster: it is passed on to v2, as a JSON payload would be.
      expect(longChain.upcast({ type: 'Upcast.CashOut', schemaVersion: 1, payload: { amountCents: 3 } })).to.deep.equal([
        { type: 'Upcast.Withdrawn', schemaVersion: 2, payload: { amountCents: 3 } },
      ]);
    });

    it('gives upcasters a frozen record, so one that edits its input fails on every store alike', () => {
      const editing = defineUpcaster('Upcast.MoneyIn', 1, (event) => {
        (event.payload as Record<string, unknown>).amountCents = event.payload.cents;
        return { ...event, type: 'Upcast.Deposited' };
      });
      const error = thrown(() => accountChain([editing]).upcast({ type: 'Upcast.MoneyIn', schemaVersion: 1, payload: { cents: 1 } }));
      expect(error).to.be.instanceOf(UpcastFailedError);
      expect((error as UpcastFailedError).cause).to.be.instanceOf(TypeError);
    });
  });

  describe('reader version', () => {
    @Event('Upcast.Reader', { version: 1 })
    class ReaderV1 {}
    @Event('Upcast.Reader', { version: 3 })
    class ReaderV3 {}
    @Event('Upcast.Reader', { version: 5 })
    class ReaderV5 {}
    const registry = new EventRegistry([ReaderV1, ReaderV3, ReaderV5]);
    const noop = (version: number): Upcaster => defineUpcaster('Upcast.Reader', version, (event) => ({ ...event, schemaVersion: version + 1 }));
    const chain = new UpcasterChain([noop(2), noop(3), noop(4)], registry);

    it('is the written version when an upcaster starts there, else the next that has one, else the current', () => {
      expect([1, 2, 3, 4, 5].map((written) => chain.readerVersion('Upcast.Reader', written))).to.deep.equal([2, 2, 3, 4, 5]);
      expect(new UpcasterChain([], registry).readerVersion('Upcast.Reader', 1)).to.equal(5);
      expect(chain.currentVersion('Upcast.Reader')).to.equal(5);
    });

    it('is the upcaster of a retired type, one whose newest class an upcaster starts at', () => {
      const retired = accountChain();
      expect(retired.currentVersion('Upcast.Audited')).to.equal(undefined);
      expect(retired.readerVersion('Upcast.Audited', 1)).to.equal(1);
      expect(retired.upcasterFor('Upcast.Audited', 1)).to.equal(dropAudited);
    });

    it('names a version written by newer code as a gap', () => {
      const error = thrown(() => chain.readerVersion('Upcast.Reader', 6, 'Reading topic t, partition 0, offset 9'));
      expect(error).to.be.instanceOf(UpcasterGapError).and.instanceOf(ConfigurationError);
      expect(error.message)
        .to.contain("Reading topic t, partition 0, offset 9: event type 'Upcast.Reader' v6 has no path to a current class")
        .and.contain('classes declare v1, v3, v5')
        .and.contain('the current version is v5 (ReaderV5)')
        .and.contain('upcasters start at v2, v3, v4')
        .and.contain('written by newer code')
        .and.contain("defineUpcaster('Upcast.Reader', 6, …)");
      expect((error as UpcasterGapError).code).to.equal('UPCASTER_GAP');
      expect((error as UpcasterGapError).retriable).to.equal(false);
    });

    it('names a version of a retired type that no upcaster reads as a gap', () => {
      const error = thrown(() => accountChain().readerVersion('Upcast.Audited', 2));
      expect(error).to.be.instanceOf(UpcasterGapError);
      expect(error.message)
        .to.match(/^Event type 'Upcast.Audited' v2 has no path/)
        .and.contain('no version of it is current')
        .and.contain('upcasters start at v1');
    });

    it('names a type that neither a class nor an upcaster knows as unknown', () => {
      const error = thrown(() => chain.readerVersion('Upcast.Nobody', 1, 'Reading topic t, partition 3, offset 12'));
      expect(error).to.be.instanceOf(UnknownEventTypeError);
      expect(error.message).to.contain("Reading topic t, partition 3, offset 12: no event class is declared for type 'Upcast.Nobody' version 1");
    });

    it('refuses versions that are not whole numbers from 1', () => {
      expect(() => chain.readerVersion('Upcast.Reader', 0)).to.throw(UpcasterGapError, 'whole numbers from 1');
      expect(() => chain.readerVersion('Upcast.Reader', Number.NaN)).to.throw(UpcasterGapError);
    });
  });

  describe('explains', () => {
    const chain = accountChain();

    it('the path of each version, for start-up messages', () => {
      expect(chain.explain('Upcast.AccountOpened', 3)).to.deep.equal([
        "'Upcast.AccountOpened' v3 is current: it becomes an instance of AccountOpened",
      ]);
      expect(chain.explain('Upcast.AccountOpened', 1)).to.have.length(1).and.to.match(/the upcaster from 'Upcast.AccountOpened' v1 runs/);
      const resolved = chain.explain('Upcast.Withdrawn', 1);
      expect(resolved[0]).to.contain("'Upcast.Withdrawn' v1 is read as v2");
      expect(resolved[1]).to.contain('becomes an instance of Withdrawn');
    });

    it('a gap, without throwing', () => {
      expect(chain.explain('Upcast.Withdrawn', 3)).to.have.length(1).and.to.match(/v3 has no path to a current class/);
      expect(chain.explain('Upcast.Nobody', 1)[0]).to.contain("no event class is declared for type 'Upcast.Nobody'");
    });
  });

  describe('fails fast at start-up', () => {
    it('on two upcasters from one type and version', () => {
      const twin = defineUpcaster('Upcast.AccountOpened', 1, (event) => event);
      const error = thrown(() => accountChain([openedV1ToV2, twin]));
      expect(error).to.be.instanceOf(DuplicateUpcasterError).and.instanceOf(ConfigurationError);
      expect(error.message).to.contain("'Upcast.AccountOpened' v1");
      // The same upcaster listed twice is no conflict.
      expect(() => accountChain([openedV1ToV2, openedV1ToV2])).not.to.throw();
    });

    it('on an upcaster above the newest class of its type', () => {
      const beyond = defineUpcaster('Upcast.AccountOpened', 4, (event) => event);
      const error = thrown(() => accountChain([beyond]));
      expect(error).to.be.instanceOf(MisplacedUpcasterError);
      expect(error.message).to.contain("'Upcast.AccountOpened' v4").and.contain('v3, the newest version a class declares (AccountOpened)');
    });

    it('on malformed upcasters, with guard clauses saying what to do', () => {
      expect(() => defineUpcaster('', 1, (event) => event)).to.throw(InvalidOptionError, 'a non-empty string');
      expect(() => defineUpcaster('T', 0, (event) => event)).to.throw(InvalidOptionError, 'a whole number from 1; got 0');
      expect(() => defineUpcaster('T', 1.5, (event) => event)).to.throw(InvalidOptionError, 'got 1.5');
      expect(() => defineUpcaster('T', 1, undefined as never)).to.throw(InvalidOptionError, 'needs upcast, a function');
      expect(() => accountChain([null as never])).to.throw(InvalidOptionError, 'create upcasters with defineUpcaster');
      expect(() => accountChain([{ type: 'T', fromVersion: 1 } as never])).to.throw(InvalidOptionError, 'needs upcast');
    });

    it('on written versions without a path, when given them', () => {
      const chain = accountChain();
      expect(() =>
        chain.validate([
          { type: 'Upcast.AccountOpened', version: 1 },
          { type: 'Upcast.Transfer', version: 1 },
        ]),
      ).not.to.throw();
      const error = thrown(() => chain.validate([{ type: 'Upcast.Transfer', version: 2 }], 'Checking the schema registry'));
      expect(error).to.be.instanceOf(UpcasterGapError);
      expect(error.message).to.match(/^Checking the schema registry: event type 'Upcast.Transfer' v2 has no path/);
      expect((error as UpcasterGapError).type).to.equal('Upcast.Transfer');
      expect((error as UpcasterGapError).version).to.equal(2);
    });
  });

  describe('fails clearly at run time', () => {
    const where = 'Reading topic shop.Account.events, partition 2, offset 41';

    it('when an upcaster throws: wrapped with its cause, not retriable', () => {
      const failing = defineUpcaster('Upcast.MoneyIn', 1, () => {
        throw new RangeError('cents must be positive');
      });
      const error = thrown(() => accountChain([failing]).upcast({ type: 'Upcast.MoneyIn', schemaVersion: 1, payload: { cents: -1 } }, where));
      expect(error).to.be.instanceOf(UpcastFailedError).and.instanceOf(TributaryError);
      expect(error.message).to.contain(where).and.contain("'Upcast.MoneyIn' v1 threw: cents must be positive");
      expect((error as UpcastFailedError).cause).to.be.instanceOf(RangeError);
      expect((error as UpcastFailedError).retriable).to.equal(false);
    });

    it('when an upcaster returns something other than records', () => {
      const results: unknown[] = [
        undefined,
        { type: 'Upcast.Deposited', schemaVersion: '1', payload: {} },
        [{ type: 'Upcast.Deposited', schemaVersion: 1 }],
        Promise.resolve([]),
      ];
      for (const result of results) {
        const odd = defineUpcaster('Upcast.MoneyIn', 1, () => result as EventRecord);
        const error = thrown(() => accountChain([odd]).upcast({ type: 'Upcast.MoneyIn', schemaVersion: 1, payload: { cents: 1 } }, where));
        expect(error).to.be.instanceOf(InvalidUpcastResultError);
        expect(error.message).to.contain(where).and.contain('returned');
      }
    });

    it('when an upcaster returns an event with no path', () => {
      const lost = defineUpcaster('Upcast.MoneyIn', 1, () => ({ type: 'Upcast.Vanished', schemaVersion: 1, payload: {} }));
      expect(() => accountChain([lost]).upcast({ type: 'Upcast.MoneyIn', schemaVersion: 1, payload: {} }, where))
        .to.throw(UnknownEventTypeError, `${where}: no event class is declared for type 'Upcast.Vanished'`);
      const ahead = defineUpcaster('Upcast.MoneyIn', 1, () => ({ type: 'Upcast.Deposited', schemaVersion: 2, payload: {} }));
      expect(() => accountChain([ahead]).upcast({ type: 'Upcast.MoneyIn', schemaVersion: 1, payload: {} }, where))
        .to.throw(UpcasterGapError, "'Upcast.Deposited' v2 has no path");
    });

    it('when upcasters loop', () => {
      const there = defineUpcaster('Upcast.Ping', 1, ({ payload }) => ({ type: 'Upcast.Pong', schemaVersion: 1, payload }));
      const back = defineUpcaster('Upcast.Pong', 1, ({ payload }) => ({ type: 'Upcast.Ping', schemaVersion: 1, payload }));
      const error = thrown(() => accountChain([there, back]).upcast({ type: 'Upcast.Ping', schemaVersion: 1, payload: {} }, where));
      expect(error).to.be.instanceOf(UpcasterLoopError);
      expect(error.message).to.contain(where).and.contain("'Upcast.Ping' v1 → 'Upcast.Pong' v1");
    });
  });
});
