import { expect } from 'chai';
import fc from 'fast-check';
import {
  EventData,
  EventPipeline,
  EventRecord,
  EventRegistry,
  JsonSerializer,
  MalformedPayloadError,
  SerializationContext,
  Serializer,
  UnknownEventTypeError,
  UpcasterGapError,
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
} from './support/account-history';

const CURRENT_CLASSES = [AccountOpened, Deposited, FeeCharged, Withdrawn];

function pipeline(serializer?: Serializer, upcasters = ACCOUNT_UPCASTERS): EventPipeline {
  return new EventPipeline({ registry: new EventRegistry([...CURRENT_CLASSES, ...LEGACY_EVENT_CLASSES]), upcasters, serializer });
}

/** A serializer that remembers the contexts it was asked to read with. */
class RecordingSerializer implements Serializer {
  readonly contentType = 'application/json';
  readonly contexts: SerializationContext[] = [];
  private readonly json = new JsonSerializer();
  serialize(payload: EventData): Uint8Array {
    return this.json.serialize(payload);
  }
  deserialize(bytes: Uint8Array, context: SerializationContext): EventData {
    this.contexts.push(context);
    return this.json.deserialize(bytes, context);
  }
}

const bytes = (payload: object): Uint8Array => new JsonSerializer().serialize(payload as EventData);
const at = (type: string, schemaVersion: number): SerializationContext => ({
  topic: 'bank.Account.events',
  partition: 2,
  offset: '41',
  type,
  schemaVersion,
});

describe('EventPipeline', () => {
  it('decodes, upcasts and instantiates: one stored event may become several', async () => {
    const events = pipeline();
    const records = await events.decode(bytes({ amountCents: 500, feeCents: 20 }), at('Upcast.Transfer', 1));
    expect(records.map((record) => record.type)).to.deep.equal(['Upcast.Deposited', 'Upcast.FeeCharged']);
    const instances = records.map((record) => events.toInstance(record));
    expect(instances[0]).to.be.instanceOf(Deposited).and.deep.include({ amountCents: 500 });
    expect(instances[1]).to.be.instanceOf(FeeCharged).and.deep.include({ feeCents: 20 });
  });

  it('asks the serializer for the reader version: where an upcaster starts, else the current one', async () => {
    const serializer = new RecordingSerializer();
    const events = pipeline(serializer);
    await events.decode(bytes({ accountId: 'a', owner: 'Ada' }), at('Upcast.AccountOpened', 1));
    await events.decode(bytes({ amountCents: 1 }), at('Upcast.Withdrawn', 1));
    await events.decode(bytes({ amountCents: 1, reason: 'rent' }), at('Upcast.Withdrawn', 2));
    expect(serializer.contexts.map((context) => [context.type, context.schemaVersion, context.readerVersion])).to.deep.equal([
      ['Upcast.AccountOpened', 1, 1],
      ['Upcast.Withdrawn', 1, 2],
      ['Upcast.Withdrawn', 2, 2],
    ]);
    expect(serializer.contexts[0]).to.include({ topic: 'bank.Account.events', partition: 2, offset: '41' });
  });

  it('gives a version without an upcaster the class defaults when JSON lacks a field', async () => {
    const events = pipeline();
    const [record] = await events.decode(bytes({ amountCents: 9 }), at('Upcast.Withdrawn', 1));
    expect(events.toInstance(record)).to.be.instanceOf(Withdrawn).and.deep.include({ amountCents: 9, reason: 'unknown' });
  });

  it('names topic, partition and offset when a record has no path, before decoding it', async () => {
    const serializer = new RecordingSerializer();
    const events = pipeline(serializer);
    const unknown = await events.decode(bytes({}), at('Upcast.Nobody', 1)).catch((error: unknown) => error);
    expect(unknown).to.be.instanceOf(UnknownEventTypeError);
    expect((unknown as Error).message).to.contain(
      "Reading topic bank.Account.events, partition 2, offset 41: no event class is declared for type 'Upcast.Nobody' version 1",
    );
    const gap = await events.decode(bytes({}), at('Upcast.AccountOpened', 4)).catch((error: unknown) => error);
    expect(gap).to.be.instanceOf(UpcasterGapError);
    expect((gap as Error).message).to.contain("Reading topic bank.Account.events, partition 2, offset 41: event type 'Upcast.AccountOpened' v4");
    expect(serializer.contexts).to.deep.equal([]);
  });

  it('names topic, partition and offset when an upcaster fails', async () => {
    const failing = defineUpcaster('Upcast.MoneyIn', 1, () => {
      throw new Error('boom');
    });
    const error = await pipeline(undefined, [failing]).decode(bytes({ cents: 1 }), at('Upcast.MoneyIn', 1)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UpcastFailedError);
    expect((error as Error).message).to.contain('partition 2, offset 41').and.contain('boom');
  });

  it("lets the serializer's own errors through, naming the record", async () => {
    const error = await pipeline().decode(Buffer.from('not json'), at('Upcast.Deposited', 1)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(MalformedPayloadError);
    expect((error as Error).message).to.contain('partition 2, offset 41');
  });

  it('upcasts records read through an EventStore, naming what the caller says', () => {
    const events = pipeline();
    expect(events.upcastRecord({ type: 'Upcast.MoneyIn', schemaVersion: 1, payload: { cents: 3 } })).to.deep.equal([
      { type: 'Upcast.Deposited', schemaVersion: 1, payload: { amountCents: 3 } },
    ]);
    expect(() => events.instantiate({ type: 'Upcast.Nobody', schemaVersion: 1, payload: {} }, "Loading Upcast.Account 'a-1' (event 3)"))
      .to.throw(UnknownEventTypeError, "Loading Upcast.Account 'a-1' (event 3): no event class");
    expect(() => events.upcastRecord({ type: 'Upcast.Nobody', schemaVersion: 1, payload: {} }, { topic: 't', partition: 0, offset: '7' }))
      .to.throw(UnknownEventTypeError, 'Reading topic t, partition 0, offset 7');
  });

  describe('is deterministic (property)', () => {
    const legacyRecord: fc.Arbitrary<EventRecord> = fc.oneof(
      fc.record({ accountId: fc.string(), owner: fc.string() }).map((payload) => ({ type: 'Upcast.AccountOpened', schemaVersion: 1, payload })),
      fc
        .record({ accountId: fc.string(), ownerName: fc.string(), limit: fc.integer({ min: 0, max: 10_000 }) })
        .map((payload) => ({ type: 'Upcast.AccountOpened', schemaVersion: 2, payload })),
      fc.record({ cents: fc.nat() }).map((payload) => ({ type: 'Upcast.MoneyIn', schemaVersion: 1, payload })),
      fc.record({ cents: fc.nat() }).map((payload) => ({ type: 'Upcast.CashDeposited', schemaVersion: 1, payload })),
      fc.record({ cents: fc.nat(), chequeNumber: fc.string() }).map((payload) => ({ type: 'Upcast.ChequeDeposited', schemaVersion: 1, payload })),
      fc.record({ amountCents: fc.nat(), feeCents: fc.nat() }).map((payload) => ({ type: 'Upcast.Transfer', schemaVersion: 1, payload })),
      fc.record({ by: fc.string() }).map((payload) => ({ type: 'Upcast.Audited', schemaVersion: 1, payload })),
      fc.record({ amountCents: fc.nat() }).map((payload) => ({ type: 'Upcast.Withdrawn', schemaVersion: 1, payload })),
      fc.record({ amountCents: fc.nat() }).map((payload) => ({ type: 'Upcast.Deposited', schemaVersion: 1, payload })),
    );

    it('the same record upcasts to deep-equal records, twice and through another pipeline', () => {
      fc.assert(
        fc.property(legacyRecord, (record) => {
          const first = pipeline().upcastRecord(structuredClone(record));
          const again = pipeline().upcastRecord(structuredClone(record));
          expect(again).to.deep.equal(first);
          const reused = pipeline();
          expect(reused.upcastRecord(structuredClone(record))).to.deep.equal(reused.upcastRecord(structuredClone(record)));
          const currentVersions: Record<string, number> = { 'Upcast.AccountOpened': 3, 'Upcast.Withdrawn': 2 };
          for (const current of first) expect(current.schemaVersion).to.equal(currentVersions[current.type] ?? 1);
        }),
        { numRuns: 200 },
      );
    });

    it('the same bytes decode to deep-equal instances', async () => {
      await fc.assert(
        fc.asyncProperty(legacyRecord, async (record) => {
          const events = pipeline();
          const decode = async () =>
            (await events.decode(bytes(record.payload), at(record.type, record.schemaVersion))).map((r) => events.toInstance(r));
          expect(await decode()).to.deep.equal(await decode());
        }),
        { numRuns: 100 },
      );
    });
  });
});
