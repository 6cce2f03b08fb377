import { SchemaRegistry as KafkajsSchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Event } from '@tributary/core';
import { AvroSchema, AvroSerializer, ConfluentSchemaRegistry } from '@tributary/avro';
import { expect } from 'chai';
import { schemaRegistryUrl, uniqueName } from '../../../test-support/integration';
import { schemaRegistryContract } from './support/schema-registry-contract';

schemaRegistryContract('ConfluentSchemaRegistry on the test registry', () => new ConfluentSchemaRegistry({ url: schemaRegistryUrl() }));

@Event('AvroIntTest.ParcelSent', { version: 1 })
@AvroSchema({
  type: 'record',
  name: 'ParcelSent',
  namespace: 'avroint',
  fields: [
    { name: 'parcelId', type: 'string' },
    { name: 'sentAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
})
class ParcelSent {}

describe('AvroSerializer on the test registry', function () {
  this.timeout(30_000);

  it('writes the Confluent wire format that @kafkajs/confluent-schema-registry reads, and reads what it writes', async () => {
    const registry = new ConfluentSchemaRegistry({ url: schemaRegistryUrl() });
    const serializer = new AvroSerializer({ registry, events: [ParcelSent] });
    const context = { topic: uniqueName('avro.parcels'), type: 'AvroIntTest.ParcelSent', schemaVersion: 1 };
    const payload = { parcelId: 'p-1', sentAt: '2024-05-01T10:00:00.000Z' };

    const bytes = Buffer.from(await serializer.serialize(payload, context));
    const other = new KafkajsSchemaRegistry({ host: schemaRegistryUrl() });
    const decodedByOther = await other.decode(bytes);
    const bytesByOther = await other.encode(bytes.readInt32BE(1), { parcelId: 'p-2', sentAt: Date.parse('2024-05-02T00:00:00.000Z') });

    // The other client knows no logical types: it sees the long.
    expect({ ...decodedByOther }).to.deep.equal({ parcelId: 'p-1', sentAt: Date.parse(payload.sentAt) });
    expect(await serializer.deserialize(bytesByOther, context)).to.deep.equal({ parcelId: 'p-2', sentAt: '2024-05-02T00:00:00.000Z' });
  });

  it('sets the subject to BACKWARD_TRANSITIVE before registering its first version', async () => {
    const registry = new ConfluentSchemaRegistry({ url: schemaRegistryUrl() });
    const serializer = new AvroSerializer({ registry, events: [ParcelSent] });
    const topic = uniqueName('avro.parcels');

    await serializer.serialize({ parcelId: 'p-1', sentAt: new Date(0).toISOString() }, { topic, type: 'AvroIntTest.ParcelSent', schemaVersion: 1 });

    expect(await registry.getCompatibility(`${topic}-avroint.ParcelSent`)).to.equal('BACKWARD_TRANSITIVE');
    expect(await registry.versions(`${topic}-avroint.ParcelSent`)).to.deep.equal([1]);
  });
});
