import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { expect } from 'chai';
import * as avro from 'avsc';
import { schemaRegistryUrl, uniqueName } from '../integration';

// Proves that the registry the tests run against (Apicurio's Confluent API)
// works with @kafkajs/confluent-schema-registry and yields the Confluent wire format.
describe('schema registry (smoke)', function () {
  this.timeout(30_000);

  const orderCreated = {
    type: 'record',
    name: 'OrderCreated',
    namespace: 'dev.tributary.smoke',
    fields: [
      { name: 'orderId', type: 'string' },
      { name: 'amount', type: 'int' },
    ],
  };
  // TopicRecordNameStrategy: <topic>-<record full name>
  const subjectFor = (topic: string) => `${topic}-dev.tributary.smoke.OrderCreated`;

  it('registers an Avro schema and round-trips a value in the Confluent wire format', async () => {
    const registry = new SchemaRegistry({ host: schemaRegistryUrl() });
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(orderCreated) },
      { subject: subjectFor(uniqueName('smoke.orders')) },
    );
    const value = { orderId: 'order-1', amount: 42 };

    const encoded = await registry.encode(id, value);

    expect(encoded[0], 'magic byte').to.equal(0);
    expect(encoded.readInt32BE(1), 'schema id').to.equal(id);
    // avsc decodes into instances of a generated record class; compare plain fields.
    expect({ ...avro.Type.forSchema(orderCreated as avro.Schema).fromBuffer(encoded.subarray(5)) }).to.deep.equal(value);
    // A client without the cache has to fetch the writer schema by id.
    const decoded = await new SchemaRegistry({ host: schemaRegistryUrl() }).decode(encoded);
    expect({ ...decoded }).to.deep.equal(value);
  });

  it('accepts a backward-compatible version and rejects an incompatible one', async () => {
    const registry = new SchemaRegistry({ host: schemaRegistryUrl() });
    const subject = subjectFor(uniqueName('smoke.evolution'));
    const register = (schema: object) =>
      registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject });
    const { id: first } = await register(orderCreated);

    const withCurrency = {
      ...orderCreated,
      fields: [...orderCreated.fields, { name: 'currency', type: 'string', default: 'EUR' }],
    };
    const { id: second } = await register(withCurrency);
    const incompatible = await register({ ...orderCreated, fields: [{ name: 'orderId', type: 'int' }] }).then(
      () => undefined,
      (error: Error) => error,
    );

    expect(second).to.not.equal(first);
    expect(await registry.getLatestSchemaId(subject)).to.equal(second);
    expect(incompatible?.message).to.match(/incompatible/i);
  });
});
