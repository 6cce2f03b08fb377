/**
 * The first writes of a new event type race: every writer finds the subject
 * empty, sets its compatibility and registers the schema at the same moment.
 * Apicurio answers all but one of simultaneous compatibility settings on a new
 * subject with 409 "A rule named 'COMPATIBILITY' already exists"; none of that
 * may fail a write.
 */
import { Event } from '@tributary/core';
import { AvroSchema, AvroSerializer, ConfluentSchemaRegistry, SchemaRegistry, subjectFor } from '@tributary/avro';
import { expect } from 'chai';
import { schemaRegistryUrl, uniqueName } from '../../../test-support/integration';
import { LineUp, LinedUpSchemaRegistry } from './support/lined-up-schema-registry';

/** A new event type, with a schema text the registry has never seen: its content is created by the race too. */
function freshEventType(): { eventClass: Function; type: string; fullName: string } {
  const namespace = uniqueName('avroconcurrent').replace(/[^A-Za-z0-9]/g, '_');
  const type = `${namespace}.SeatBooked`;
  @Event(type, { version: 1 })
  @AvroSchema({ type: 'record', name: 'SeatBooked', namespace, fields: [{ name: 'seat', type: 'string' }] })
  class SeatBooked {}
  return { eventClass: SeatBooked, type, fullName: `${namespace}.SeatBooked` };
}

const registry = () => new ConfluentSchemaRegistry({ url: schemaRegistryUrl() });

/** Each writer's serializer and client are its own, as in separate processes: they share only the registry. */
async function firstWritesAtOnce(writers: number, writesEach: number, registryOf: () => SchemaRegistry) {
  const { eventClass, type, fullName } = freshEventType();
  const topic = uniqueName('avro.seats');
  const context = { topic, type, schemaVersion: 1 };
  const serializers = Array.from({ length: writers }, () => new AvroSerializer({ registry: registryOf(), events: [eventClass] }));

  const results = await Promise.allSettled(
    serializers.flatMap((serializer, w) => Array.from({ length: writesEach }, (_, i) => serializer.serialize({ seat: `${w}-${i}` }, context))),
  );

  const failures = results.flatMap((result) => (result.status === 'rejected' ? [String((result.reason as Error).message)] : []));
  expect(failures, `failed first writes of ${type}`).to.deep.equal([]);
  const written = results.map((result) => Buffer.from((result as PromiseFulfilledResult<Uint8Array>).value));
  const ids = new Set(written.map((bytes) => bytes.readInt32BE(1)));
  expect(ids.size, 'distinct schema ids among the writes').to.equal(1);
  const subject = subjectFor(topic, fullName);
  expect(await registry().versions(subject)).to.deep.equal([1]);
  expect((await registry().schemaByVersion(subject, 1)).id).to.equal([...ids][0]);
  expect(await registry().getCompatibility(subject)).to.equal('BACKWARD_TRANSITIVE');
  const reader = new AvroSerializer({ registry: registry(), events: [eventClass] });
  expect(await reader.deserialize(written[written.length - 1]!, context)).to.deep.equal({ seat: `${writers - 1}-${writesEach - 1}` });
}

describe('Concurrent first writes on the real registry', function () {
  this.timeout(120_000);

  it('16 serializers × 10 first writes of a new event type, their compatibility settings colliding, all succeed on one schema id', async () => {
    // Even lined up, Apicurio lets most simultaneous settings through one after the other: 16 new types at once make a 409 all but certain.
    await Promise.all(
      Array.from({ length: 16 }, () => {
        const lineUp = new LineUp(16);
        return firstWritesAtOnce(16, 10, () => new LinedUpSchemaRegistry(registry(), lineUp));
      }),
    );
  });

  it('16 serializers × 10 first writes of a new event type, left to their own timing, all succeed on one schema id', async () => {
    for (let round = 0; round < 3; round += 1) await firstWritesAtOnce(16, 10, registry);
  });
});
