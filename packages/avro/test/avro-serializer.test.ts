import { AvroSerializer, InMemorySchemaRegistry, IncompatibleSchemaError, SchemaNotRegisteredError, InvalidAvroPayloadError } from '@tributary/avro';
import { Event } from '@tributary/core';
import { AvroSchema } from '@tributary/avro';
import { expect } from 'chai';
import { ALL_TEST_EVENTS, PaymentReceived, PaymentReceivedV1, RefundIssued, refundPayload } from './support/avro-test-events';
import { CountingSchemaRegistry } from './support/counting-schema-registry';

const topic = 'avrotest.Payment.events';
const paymentV1 = { topic, type: 'AvroTest.PaymentReceived', schemaVersion: 1 };
const paymentV2 = { topic, type: 'AvroTest.PaymentReceived', schemaVersion: 2 };
const refund = { topic, type: 'AvroTest.RefundIssued', schemaVersion: 1 };

describe('AvroSerializer', () => {
  let registry: CountingSchemaRegistry;
  let serializer: AvroSerializer;

  beforeEach(() => {
    registry = new CountingSchemaRegistry(new InMemorySchemaRegistry());
    serializer = new AvroSerializer({ registry, events: ALL_TEST_EVENTS });
  });

  it('writes the Confluent wire format: magic byte 0, the 4-byte schema id, then Avro', async () => {
    const bytes = Buffer.from(await serializer.serialize({ paymentId: 'p-1', amount: 1250 }, paymentV1));
    const registered = await registry.lookup(`${topic}-avrotest.PaymentReceived`, JSON.stringify(serializer.catalog.schemaFor(paymentV1.type, 1)!.schema({ exportAttrs: true })));

    expect(bytes[0]).to.equal(0);
    expect(bytes.readInt32BE(1)).to.equal(registered!.id);
    expect(serializer.catalog.schemaFor(paymentV1.type, 1)!.fromBuffer(bytes.subarray(5))).to.deep.include({ paymentId: 'p-1', amount: 1250 });
  });

  it('round-trips every supported type as plain JSON-safe data', async () => {
    const bytes = await serializer.serialize(refundPayload, refund);
    const decoded = await serializer.deserialize(bytes, { ...refund, partition: 0, offset: '0' });

    expect(decoded).to.deep.equal(refundPayload);
    expect(JSON.parse(JSON.stringify(decoded))).to.deep.equal(decoded);
    expect(Object.getPrototypeOf(decoded)).to.equal(Object.prototype);
    expect(Object.getPrototypeOf((decoded.lines as object[])[0])).to.equal(Object.prototype);
  });

  it('accepts Dates for timestamp-millis and fills omitted fields from their defaults', async () => {
    const bytes = await serializer.serialize({ ...refundPayload, issuedAt: new Date('2024-05-01T10:00:00.123Z') as never, reason: undefined as never }, refund);
    const withoutReason: Record<string, unknown> = { ...refundPayload };
    delete withoutReason.reason;

    const decoded = await serializer.deserialize(await serializer.serialize(withoutReason, refund), refund);

    expect((await serializer.deserialize(bytes, refund)).issuedAt).to.equal('2024-05-01T10:00:00.123Z');
    expect(decoded.reason).to.equal(null);
  });

  it('reads a v1 event as v2, taking the new field from its default', async () => {
    const bytes = await serializer.serialize({ paymentId: 'p-1', amount: 1250 }, paymentV1);

    expect(await serializer.deserialize(bytes, { ...paymentV1, readerVersion: 2 })).to.deep.equal({ paymentId: 'p-1', amount: 1250, currency: 'EUR' });
    expect(await serializer.deserialize(bytes, paymentV1)).to.deep.equal({ paymentId: 'p-1', amount: 1250 });
  });

  it('reads a v2 event as v1, dropping the field v1 does not know', async () => {
    const bytes = await serializer.serialize({ paymentId: 'p-2', amount: 5, currency: 'SEK' }, paymentV2);

    expect(await serializer.deserialize(bytes, { ...paymentV2, readerVersion: 1 })).to.deep.equal({ paymentId: 'p-2', amount: 5 });
  });

  it('registers both versions in one subject, set to BACKWARD_TRANSITIVE before the first', async () => {
    await serializer.serialize({ paymentId: 'p-1', amount: 1 }, paymentV1);
    await serializer.serialize({ paymentId: 'p-1', amount: 1, currency: 'EUR' }, paymentV2);
    const subject = `${topic}-avrotest.PaymentReceived`;

    expect(await registry.versions(subject)).to.deep.equal([1, 2]);
    expect(await registry.getCompatibility(subject)).to.equal('BACKWARD_TRANSITIVE');
    expect(registry.callsTo('setCompatibility')).to.equal(1);
  });

  it('asks the registry once per (topic, type, version) when writing', async () => {
    for (let i = 0; i < 20; i += 1) await serializer.serialize({ paymentId: `p-${i}`, amount: i }, paymentV1);

    expect(registry.callsTo('lookup')).to.equal(1);
    expect(registry.callsTo('register')).to.equal(1);
  });

  it('shares one registration among concurrent first writes of a new type', async () => {
    const written = await Promise.all(Array.from({ length: 20 }, (_, i) => serializer.serialize({ paymentId: `p-${i}`, amount: i }, paymentV1)));

    expect(new Set(written.map((bytes) => Buffer.from(bytes).readInt32BE(1))).size).to.equal(1);
    expect(['lookup', 'versions', 'setCompatibility', 'register'].map((method) => registry.callsTo(method))).to.deep.equal([1, 1, 1, 1]);
  });

  it('fetches a writer schema once for many records and keeps one resolver per reader version', async () => {
    const records = await Promise.all(Array.from({ length: 50 }, (_, i) => serializer.serialize({ paymentId: `p-${i}`, amount: i }, paymentV1)));
    const reader = new AvroSerializer({ registry, events: ALL_TEST_EVENTS });
    const before = registry.callsTo('schemaById');

    const asV1 = await Promise.all(records.map((bytes, offset) => reader.deserialize(bytes, { ...paymentV1, partition: 0, offset: String(offset) })));
    const asV2 = await Promise.all(records.map((bytes) => reader.deserialize(bytes, { ...paymentV1, readerVersion: 2 })));

    expect(registry.callsTo('schemaById') - before).to.equal(1);
    expect(asV1[49]).to.deep.equal({ paymentId: 'p-49', amount: 49 });
    expect(asV2[49]).to.deep.equal({ paymentId: 'p-49', amount: 49, currency: 'EUR' });
  });

  it('refuses a payload that does not fit its schema, naming the fields', async () => {
    const error = await serializer.serialize({ paymentId: 7, amount: 1, note: 'x' } as never, paymentV1).catch((caught: unknown) => caught);

    expect(error).to.be.instanceOf(InvalidAvroPayloadError);
    expect((error as InvalidAvroPayloadError).paths).to.have.members(['note (not in the schema)', 'paymentId']);
    expect((error as Error).message).to.contain(`topic ${topic}`);
  });

  it('with autoRegister false, writes only with schemas already registered', async () => {
    const strict = new AvroSerializer({ registry, events: ALL_TEST_EVENTS, autoRegister: false });
    const refused = await strict.serialize({ paymentId: 'p-1', amount: 1 }, paymentV1).catch((caught: unknown) => caught);
    await serializer.serialize({ paymentId: 'p-1', amount: 1 }, paymentV1);

    expect(refused).to.be.instanceOf(SchemaNotRegisteredError);
    expect(await strict.serialize({ paymentId: 'p-1', amount: 1 }, paymentV1)).to.be.instanceOf(Uint8Array);
  });

  it('fails the first write of a version that breaks the subject, naming the field', async () => {
    @Event('AvroTest.PaymentReceived', { version: 3 })
    @AvroSchema({
      type: 'record',
      name: 'PaymentReceived',
      namespace: 'avrotest',
      fields: [
        { name: 'paymentId', type: 'string' },
        { name: 'amount', type: 'long' },
        { name: 'payerId', type: 'string' },
      ],
    })
    class PaymentReceivedV3 {}
    const withV3 = new AvroSerializer({ registry, events: [PaymentReceivedV1, PaymentReceived, PaymentReceivedV3] });
    await withV3.serialize({ paymentId: 'p-1', amount: 1 }, paymentV1);

    const error = await withV3.serialize({ paymentId: 'p-1', amount: 1, payerId: 'c-1' }, { ...paymentV1, schemaVersion: 3 }).catch((caught: unknown) => caught);

    expect(error).to.be.instanceOf(IncompatibleSchemaError);
    expect((error as IncompatibleSchemaError).issues.map(({ path, rule }) => `${path} ${rule}`)).to.deep.equal(['fields.payerId READER_FIELD_MISSING_DEFAULT']);
    expect((error as Error).message).to.contain(`${topic}-avrotest.PaymentReceived`);
  });

  it('uses the declared classes, legacy versions included', () => {
    expect(serializer.catalog.versionsOf('AvroTest.PaymentReceived')).to.deep.equal([1, 2]);
    expect(serializer.catalog.currentVersion('AvroTest.PaymentReceived')).to.equal(2);
    expect(serializer.catalog.fullNameOf('AvroTest.RefundIssued')).to.equal('avrotest.RefundIssued');
    expect(serializer.catalog.entries().map(({ eventClass }) => eventClass)).to.deep.equal([PaymentReceivedV1, PaymentReceived, RefundIssued]);
  });
});
