/**
 * Writes order-history.golden.json from the corpus. Run once, when a new
 * version of an event is introduced, to add its record; existing records must
 * keep their bytes (the test fails if the corpus and the file disagree):
 *
 *   TS_NODE_PROJECT=tsconfig.tests.json TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register packages/avro/test/golden/generate.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonSerializer } from '@tributary/core';
import { AvroSerializer, InMemorySchemaRegistry } from '@tributary/avro';
import { ALL_EVENT_CLASSES } from '../support/order-history';
import { CORPUS, GoldenFile, TOPIC } from './corpus';

async function generate(): Promise<void> {
  const registry = new InMemorySchemaRegistry();
  const avro = new AvroSerializer({ registry, events: ALL_EVENT_CLASSES });
  const json = new JsonSerializer();
  const records = [];
  for (const entry of CORPUS) {
    const context = { topic: TOPIC, type: entry.type, schemaVersion: entry.schemaVersion };
    records.push({
      type: entry.type,
      schemaVersion: entry.schemaVersion,
      avro: Buffer.from(await avro.serialize(entry.written, context)).toString('hex'),
      json: Buffer.from(json.serialize(entry.written)).toString('utf8'),
    });
  }
  const schemas = [];
  for (const subject of (await registry.subjects()).sort()) {
    for (const version of await registry.versions(subject)) {
      const { id, schema } = await registry.schemaByVersion(subject, version);
      schemas.push({ id, subject, schema });
    }
  }
  schemas.sort((left, right) => left.id - right.id);
  const file: GoldenFile = { topic: TOPIC, schemas, records };
  writeFileSync(join(__dirname, 'order-history.golden.json'), `${JSON.stringify(file, null, 2)}\n`);
}

generate().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
