import {
  AvroSchema,
  AvroSerializer,
  ConfluentSchemaRegistry,
  CorruptAvroPayloadError,
  InMemorySchemaRegistry,
  MissingMagicByteError,
  NoAvroSchemaForVersionError,
  SchemaRegistryUnavailableError,
  SchemaResolutionError,
  UnknownSchemaIdError,
  WriterSchemaMismatchError,
  WriterSchemaUnavailableError,
} from '@tributary/avro';
import { Event, SerializationContext, TributaryError } from '@tributary/core';
import { expect } from 'chai';
import { createServer } from 'node:net';
import { ALL_TEST_EVENTS, PaymentReceivedV1 } from './support/avro-test-events';
import { CountingSchemaRegistry } from './support/counting-schema-registry';

const context: SerializationContext = { topic: 'avrotest.Payment.events', type: 'AvroTest.PaymentReceived', schemaVersion: 1, partition: 3, offset: '41' };
const where = 'topic avrotest.Payment.events, partition 3, offset 41';

/** The error a decode fails with; `deserialize` answers synchronously from its caches, and fails by rejection. */
async function failure(result: unknown): Promise<TributaryError> {
  const error = await Promise.resolve(result).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'an error').to.be.instanceOf(TributaryError);
  return error as TributaryError;
}

describe('AvroSerializer on bad input', () => {
  let registry: CountingSchemaRegistry;
  let serializer: AvroSerializer;
  let valid: Buffer;

  beforeEach(async () => {
    registry = new CountingSchemaRegistry(new InMemorySchemaRegistry());
    serializer = new AvroSerializer({ registry, events: ALL_TEST_EVENTS });
    valid = Buffer.from(await serializer.serialize({ paymentId: 'p-1', amount: 1250 }, context));
  });

  it('names the record when the magic byte is missing or the bytes are too short for the header', async () => {
    for (const bytes of [Buffer.from('{"paymentId":"p-1"}'), Buffer.alloc(0), Buffer.from([0, 0, 1])]) {
      const error = await failure(serializer.deserialize(bytes, context));
      expect(error).to.be.instanceOf(MissingMagicByteError);
      expect(error.code).to.equal('AVRO_MISSING_MAGIC_BYTE');
      expect(error.message).to.contain(where);
    }
  });

  it('names the record when the Avro bytes are truncated, corrupt or followed by trailing bytes', async () => {
    const truncated = valid.subarray(0, valid.length - 1);
    const trailing = Buffer.concat([valid, Buffer.from([0])]);
    const corrupt = Buffer.from(valid);
    corrupt[5] = 0x7f; // the string length varint: -64

    for (const bytes of [truncated, trailing, corrupt]) {
      const error = await failure(serializer.deserialize(bytes, context));
      expect(error).to.be.instanceOf(CorruptAvroPayloadError);
      expect(error.message).to.contain(where);
    }
  });

  it('refuses a huge block count at once instead of looping over it, and map keys named __proto__', async () => {
    const refundContext = { ...context, type: 'AvroTest.RefundIssued' };
    const header = Buffer.from(await serializer.serialize(
      { refundId: '', issuedAt: new Date(0).toISOString(), channel: 'WEB', lines: [], tags: {}, rate: 0, final: false },
      refundContext,
    )).subarray(0, 5);
    // refundId '', issuedAt 0, reason null, channel WEB, then 2^31 lines.
    const hugeArray = Buffer.concat([header, Buffer.from([0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10])]);
    const protoKey = Buffer.concat([header, Buffer.from([0, 0, 0, 0, 0, 2, 18, ...Buffer.from('__proto__'), 2, 0x61, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]);

    const started = Date.now();
    const huge = await failure(serializer.deserialize(hugeArray, refundContext));
    expect(Date.now() - started).to.be.below(1000);
    expect(huge).to.be.instanceOf(CorruptAvroPayloadError);
    expect(huge.message).to.contain('cannot fit');
    const proto = await failure(serializer.deserialize(protoKey, refundContext));
    expect(proto).to.be.instanceOf(CorruptAvroPayloadError);
    expect(proto.message).to.contain('__proto__');
  });

  it('names the record and the id when the schema id is unknown', async () => {
    const unknown = Buffer.from(valid);
    unknown.writeInt32BE(999, 1);
    const negative = Buffer.from(valid);
    negative.writeInt32BE(-5, 1);

    const error = await failure(serializer.deserialize(unknown, context));
    expect(error).to.be.instanceOf(UnknownSchemaIdError);
    expect(error.message).to.contain('schema id 999').and.contain(where);
    expect(await failure(serializer.deserialize(negative, context))).to.be.instanceOf(UnknownSchemaIdError);
  });

  it('names the record when the writer schema belongs to another event type', async () => {
    const refundBytes = Buffer.from(
      await serializer.serialize(
        { refundId: 'r', issuedAt: new Date(0).toISOString(), channel: 'WEB', lines: [], tags: {}, rate: 1, final: false },
        { topic: context.topic, type: 'AvroTest.RefundIssued', schemaVersion: 1 },
      ),
    );

    const error = await failure(serializer.deserialize(refundBytes, context));
    expect(error).to.be.instanceOf(WriterSchemaMismatchError);
    expect(error.message).to.contain('avrotest.RefundIssued').and.contain(where);
  });

  it('names the type and version when no schema is declared for them, written or read', async () => {
    const unknownVersion = await failure(serializer.deserialize(valid, { ...context, readerVersion: 9 }));
    const unknownType = await failure(serializer.serialize({}, { topic: context.topic, type: 'AvroTest.Nope', schemaVersion: 1 }));

    expect(unknownVersion).to.be.instanceOf(NoAvroSchemaForVersionError);
    expect(unknownVersion.message).to.contain('AvroTest.PaymentReceived v9').and.contain('declared versions: 1, 2').and.contain(where);
    expect(unknownType).to.be.instanceOf(NoAvroSchemaForVersionError);
  });

  it('names the record when Avro cannot resolve the writer schema to the reader version', async () => {
    @Event('AvroTest.PaymentReceived', { version: 5 })
    @AvroSchema({ type: 'record', name: 'PaymentReceived', namespace: 'avrotest', fields: [{ name: 'payerId', type: 'string' }] })
    class PaymentReceivedV5 {}
    const reader = new AvroSerializer({ registry, events: [PaymentReceivedV1, PaymentReceivedV5] });

    const error = await failure(reader.deserialize(valid, { ...context, readerVersion: 5 }));
    expect(error).to.be.instanceOf(SchemaResolutionError);
    expect(error.message).to.contain(where).and.contain('v5');
  });

  it('retries a registry that is down, then fails with a retriable error naming the record', async () => {
    const port = await closedPort();
    const down = new ConfluentSchemaRegistry({ url: `http://127.0.0.1:${port}`, retry: { retries: 2, initialDelayMs: 1, maxDelayMs: 2 } });
    const reader = new AvroSerializer({ registry: down, events: ALL_TEST_EVENTS });

    const error = await failure(reader.deserialize(valid, context));

    expect(error).to.be.instanceOf(WriterSchemaUnavailableError);
    expect(error.retriable).to.equal(true);
    expect(error.message).to.contain(where).and.contain(`127.0.0.1:${port}`);
    const unavailable = error.cause as SchemaRegistryUnavailableError;
    expect(unavailable).to.be.instanceOf(SchemaRegistryUnavailableError);
    expect(unavailable.attempts).to.equal(3);
  });

  it('does not cache a registry failure: the next read after the registry is back succeeds', async () => {
    const reader = new AvroSerializer({ registry, events: ALL_TEST_EVENTS });
    registry.failWith = new SchemaRegistryUnavailableError('http://registry', 'fetching schema 1', 503);
    const error = await failure(reader.deserialize(valid, context));
    registry.failWith = undefined;

    expect(error).to.be.instanceOf(WriterSchemaUnavailableError);
    expect(error.retriable, 'unavailable, not exhausted: the reader may retry').to.equal(true);
    expect(await reader.deserialize(valid, context)).to.deep.equal({ paymentId: 'p-1', amount: 1250 });
  });

  it('fails clearly, and not retriably, when the registry refuses rather than is down', async () => {
    const reader = new AvroSerializer({ registry, events: ALL_TEST_EVENTS });
    registry.failWith = new TributaryError('The schema registry refused fetching schema 1 with HTTP 401', { code: 'SCHEMA_REGISTRY_REQUEST_FAILED' });

    const error = await failure(reader.deserialize(valid, context));

    expect(error).to.be.instanceOf(WriterSchemaUnavailableError);
    expect(error.retriable).to.equal(false);
    expect(error.message).to.contain('HTTP 401').and.contain(where);
  });

  it('names the writer schema when the registry holds something that is not Avro under the id', async () => {
    const broken = new CountingSchemaRegistry(new InMemorySchemaRegistry());
    broken.schemaById = async () => 'syntax = "proto3";';
    const reader = new AvroSerializer({ registry: broken, events: ALL_TEST_EVENTS });

    const error = await failure(reader.deserialize(valid, context));

    expect(error).to.be.instanceOf(WriterSchemaMismatchError);
    expect(error.message).to.contain('cannot be parsed as Avro').and.contain(where);
  });
});

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
