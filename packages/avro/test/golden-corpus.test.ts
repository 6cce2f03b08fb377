/**
 * Every historical version of the Order's events, as bytes committed years
 * ago (golden/order-history.golden.json), reads as today's classes, the same
 * way every time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { EventPipeline, EventRegistry, JsonSerializer, Serializer } from '@tributary/core';
import { AvroSerializer, InMemorySchemaRegistry } from '@tributary/avro';
import { ALL_EVENT_CLASSES, ItemAdded, OrderCreated, OrderDispatched, OrderPacked, STAGE_3_UPCASTERS } from './support/order-history';
import { CORPUS, GoldenFile } from './golden/corpus';

const golden = JSON.parse(readFileSync(join(__dirname, 'golden', 'order-history.golden.json'), 'utf8')) as GoldenFile;
const TODAY: Record<string, Function> = {
  'Shop.OrderCreated': OrderCreated,
  'Shop.ItemAdded': ItemAdded,
  'Shop.OrderPacked': OrderPacked,
  'Shop.OrderDispatched': OrderDispatched,
};

/** A registry holding exactly the golden schemas, under their ids. */
async function goldenRegistry(): Promise<InMemorySchemaRegistry> {
  const registry = new InMemorySchemaRegistry();
  for (const { id, subject, schema } of golden.schemas) {
    const registered = await registry.register(subject, schema);
    expect(registered.id, `schema ${id} of ${subject}`).to.equal(id);
  }
  return registry;
}

async function readAll(serializer: Serializer, format: 'avro' | 'json') {
  const pipeline = new EventPipeline({ registry: new EventRegistry(ALL_EVENT_CLASSES), upcasters: STAGE_3_UPCASTERS, serializer });
  const results = [];
  for (const [index, record] of golden.records.entries()) {
    const bytes = format === 'avro' ? Buffer.from(record.avro, 'hex') : Buffer.from(record.json, 'utf8');
    const records = await pipeline.decode(bytes, { topic: golden.topic, partition: 0, offset: String(index), type: record.type, schemaVersion: record.schemaVersion });
    results.push({ records, instances: records.map((current) => pipeline.toInstance(current)) });
  }
  return results;
}

describe('The golden corpus of historical events', () => {
  it('holds one record of every version in the corpus, in the bytes the serializers write today', async () => {
    expect(golden.records.map(({ type, schemaVersion }) => `${type} v${schemaVersion}`)).to.deep.equal(CORPUS.map(({ type, schemaVersion }) => `${type} v${schemaVersion}`));
    const avro = new AvroSerializer({ registry: await goldenRegistry(), events: ALL_EVENT_CLASSES, autoRegister: false });
    for (const [index, entry] of CORPUS.entries()) {
      const context = { topic: golden.topic, type: entry.type, schemaVersion: entry.schemaVersion };
      expect(Buffer.from(await avro.serialize(entry.written, context)).toString('hex'), `${entry.type} v${entry.schemaVersion}`).to.equal(golden.records[index].avro);
      expect(Buffer.from(new JsonSerializer().serialize(entry.written)).toString('utf8')).to.equal(golden.records[index].json);
    }
  });

  for (const format of ['avro', 'json'] as const) {
    it(`reads every ${format} record as today's classes, deterministically`, async () => {
      const serializer = () => (format === 'avro' ? goldenRegistry().then((registry) => new AvroSerializer({ registry, events: ALL_EVENT_CLASSES })) : Promise.resolve(new JsonSerializer()));
      const first = await readAll(await serializer(), format);
      const second = await readAll(await serializer(), format);
      for (const [index, entry] of CORPUS.entries()) {
        const expected = format === 'json' ? (entry.expectedJson ?? entry.expected) : entry.expected;
        const name = `${entry.type} v${entry.schemaVersion} (${format})`;
        expect(first[index].records, name).to.deep.equal(expected);
        expect(second[index].records, `${name}, read again`).to.deep.equal(first[index].records);
        first[index].instances.forEach((instance, at) => expect(instance, name).to.be.instanceOf(TODAY[expected[at].type]));
      }
    });
  }
});
