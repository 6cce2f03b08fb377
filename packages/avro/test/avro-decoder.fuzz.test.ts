/**
 * Fuzzing the Avro decoder with random and mutated bytes.
 *
 * What "never wrong silently" can honestly mean here: Avro carries no
 * checksum, so a flipped bit inside a number or a string yields another valid
 * value, and no decoder can tell (Kafka's record CRC guards the wire against
 * that). What the decoder does promise, and this test checks:
 *
 * - it never crashes or hangs: every failure is one of its typed TributaryErrors;
 * - whatever it returns is a valid value of the reader's schema, plain JSON
 *   data, and a fixpoint (writing and reading it again gives it back);
 * - it never reads part of a record (a truncated record throws), never ignores
 *   bytes (trailing bytes throw), never reads with a wrong schema (an unknown
 *   id throws; the id of another event type throws), never mistakes a payload
 *   without the magic byte for one;
 * - an intact record reads back as exactly the value written.
 */
import {
  AvroSerializer,
  CorruptAvroPayloadError,
  InMemorySchemaRegistry,
  MissingMagicByteError,
  SchemaResolutionError,
  UnknownSchemaIdError,
  WriterSchemaMismatchError,
} from '@tributary/avro';
import { EventData, SerializationContext, TributaryError } from '@tributary/core';
import { expect } from 'chai';
import fc from 'fast-check';
import { ALL_TEST_EVENTS } from './support/avro-test-events';

const topic = 'avrotest.Fuzz.events';
/** TRIBUTARY_FUZZ_SCALE=20 runs twenty times the cases, for a longer hunt than CI's. */
const scale = Number(process.env.TRIBUTARY_FUZZ_SCALE ?? 1);
const runs = (count: number) => Math.max(1, Math.round(count * scale));
const refund: SerializationContext = { topic, type: 'AvroTest.RefundIssued', schemaVersion: 1, partition: 0, offset: '7' };
const paymentV1: SerializationContext = { topic, type: 'AvroTest.PaymentReceived', schemaVersion: 1, partition: 1, offset: '8' };

const DECODE_ERRORS = [MissingMagicByteError, CorruptAvroPayloadError, UnknownSchemaIdError, WriterSchemaMismatchError, SchemaResolutionError];

const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const refundPayload = fc.record({
  refundId: text,
  issuedAt: fc.date({ min: new Date(-(2 ** 52)), max: new Date(2 ** 52), noInvalidDate: true }).map((date) => date.toISOString()),
  reason: fc.option(text, { nil: null }),
  channel: fc.constantFrom('WEB', 'STORE', 'PHONE'),
  lines: fc.array(fc.record({ sku: text, quantity: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }), { maxLength: 4 }),
  // avsc would set the prototype for a "__proto__" key; the decoder refuses such keys (see avro-binary-check.ts).
  tags: fc.dictionary(text.filter((key) => key !== '__proto__'), text, { maxKeys: 3 }),
  rate: fc.double({ noNaN: true, noDefaultInfinity: true }),
  final: fc.boolean(),
});
// Longs within ±2^52, the range Tributary writes (avsc is inexact beyond it).
const paymentPayload = fc.record({ paymentId: text, amount: fc.integer({ min: -(2 ** 52), max: 2 ** 52 }) });

/** One change to a record's bytes: flip bits of a byte, set a byte, insert a byte, or delete one. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
);

function mutate(bytes: Buffer, change: { kind: string; at: number; bits?: number; byte?: number }): Buffer {
  const at = change.at % (bytes.length + (change.kind === 'insert' ? 1 : 0));
  const copy = Buffer.from(bytes);
  switch (change.kind) {
    case 'flip':
      copy[at] = copy[at]! ^ change.bits!;
      return copy;
    case 'set':
      copy[at] = change.byte!;
      return copy;
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([change.byte!]), bytes.subarray(at)]);
    default:
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
  }
}

describe('Avro decoder fuzzing', function () {
  this.timeout(120_000);
  let serializer: AvroSerializer;
  let knownIds: Set<number>;

  before(async () => {
    serializer = new AvroSerializer({ registry: new InMemorySchemaRegistry(), events: ALL_TEST_EVENTS });
    const refundBytes = Buffer.from(await serializer.serialize(fc.sample(refundPayload, { numRuns: 1, seed: 1 })[0]!, refund));
    const paymentBytes = Buffer.from(await serializer.serialize({ paymentId: 'p', amount: 1 }, paymentV1));
    // Registered now, so that re-writing decoded values as v2 below registers nothing new.
    const paymentV2Bytes = Buffer.from(await serializer.serialize({ paymentId: 'p', amount: 1, currency: 'EUR' }, { ...paymentV1, schemaVersion: 2 }));
    knownIds = new Set([refundBytes, paymentBytes, paymentV2Bytes].map((bytes) => bytes.readInt32BE(1)));
  });

  /** Decodes, and checks that the outcome is either a typed error or a value the reader's schema accepts. */
  async function decodeSafely(bytes: Uint8Array, context: SerializationContext): Promise<EventData | TributaryError> {
    let decoded: EventData;
    try {
      decoded = await serializer.deserialize(bytes, context);
    } catch (error) {
      expect(error, String(error)).to.be.instanceOf(TributaryError);
      expect(DECODE_ERRORS.some((type) => error instanceof type), `unexpected ${(error as Error).name}: ${(error as Error).message}`).to.equal(true);
      expect((error as Error).message).to.contain(`topic ${topic}, partition ${context.partition}, offset ${context.offset}`);
      return error as TributaryError;
    }
    const reader = serializer.catalog.schemaFor(context.type, context.readerVersion ?? context.schemaVersion)!;
    expect(reader.isValid(decoded), `decoded ${JSON.stringify(decoded)} is not a valid ${context.type}`).to.equal(true);
    expect(JSON.parse(JSON.stringify(decoded))).to.deep.equal(decoded);
    const readerContext = { ...context, schemaVersion: context.readerVersion ?? context.schemaVersion, readerVersion: undefined };
    expect(await serializer.deserialize(await serializer.serialize(decoded, readerContext), readerContext)).to.deep.equal(decoded);
    return decoded;
  }

  it('reads an intact record back as exactly the value written', async () => {
    await fc.assert(
      fc.asyncProperty(refundPayload, async (payload) => {
        // As JSON would carry it: -0 reads as 0.
        expect(await serializer.deserialize(await serializer.serialize(payload, refund), refund)).to.deep.equal(JSON.parse(JSON.stringify(payload)));
      }),
      { numRuns: runs(300) },
    );
  });

  it('on random bytes, with or without a valid header, only throws typed errors or returns valid values', async () => {
    const header = fc.constantFrom(...knownIds).map((id) => {
      const bytes = Buffer.alloc(5);
      bytes.writeInt32BE(id, 1);
      return bytes;
    });
    await fc.assert(
      fc.asyncProperty(fc.option(header, { nil: undefined }), fc.uint8Array({ maxLength: 64 }), fc.boolean(), async (prefix, body, asPayment) => {
        const bytes = prefix ? Buffer.concat([prefix, body]) : Buffer.from(body);
        await decodeSafely(bytes, asPayment ? { ...paymentV1, readerVersion: 2 } : refund);
      }),
      { numRuns: runs(2000) },
    );
  });

  it('on mutated records only throws typed errors or returns valid values', async () => {
    await fc.assert(
      fc.asyncProperty(refundPayload, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (payload, changes) => {
        let bytes: Buffer = Buffer.from(await serializer.serialize(payload, refund));
        for (const change of changes) bytes = mutate(bytes, change);
        await decodeSafely(bytes, refund);
      }),
      { numRuns: runs(1000) },
    );
    await fc.assert(
      fc.asyncProperty(paymentPayload, mutation, fc.constantFrom(1, 2), async (payload, change, readerVersion) => {
        const bytes = mutate(Buffer.from(await serializer.serialize(payload, paymentV1)), change);
        await decodeSafely(bytes, { ...paymentV1, readerVersion });
      }),
      { numRuns: runs(500) },
    );
  });

  it('never reads a truncated record, ignores trailing bytes, or reads without the magic byte', async () => {
    await fc.assert(
      fc.asyncProperty(refundPayload, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 255 }), async (payload, cut, extra, magic) => {
        const bytes = Buffer.from(await serializer.serialize(payload, refund));
        const truncated = bytes.subarray(0, 5 + (cut % (bytes.length - 5)));
        const trailing = Buffer.concat([bytes, extra]);
        const noMagic = Buffer.from(bytes);
        noMagic[0] = magic;

        expect(await decodeSafely(truncated, refund)).to.be.instanceOf(CorruptAvroPayloadError);
        expect(await decodeSafely(trailing, refund)).to.be.instanceOf(CorruptAvroPayloadError);
        expect(await decodeSafely(noMagic, refund)).to.be.instanceOf(MissingMagicByteError);
      }),
      { numRuns: runs(300) },
    );
  });

  it('never reads with a wrong schema: an unknown id or another type’s id throws', async () => {
    await fc.assert(
      fc.asyncProperty(refundPayload, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), async (payload, id) => {
        const bytes = Buffer.from(await serializer.serialize(payload, refund));
        const own = bytes.readInt32BE(1);
        fc.pre(id !== own);
        bytes.writeInt32BE(id, 1);

        const outcome = await decodeSafely(bytes, refund);
        expect(outcome).to.be.instanceOf(knownIds.has(id) ? WriterSchemaMismatchError : UnknownSchemaIdError);
      }),
      { numRuns: runs(300) },
    );
  });
});
