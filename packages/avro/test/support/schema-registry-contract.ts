/**
 * The behaviour every SchemaRegistry implementation must have: run against
 * InMemorySchemaRegistry (unit) and ConfluentSchemaRegistry on the real
 * registry (integration). Subjects are unique per test, so the suite can run
 * against a shared registry.
 */
import { expect } from 'chai';
import {
  IncompatibleSchemaError,
  InvalidSchemaError,
  SchemaIdNotFoundError,
  SchemaRegistry,
  SchemaVersionNotFoundError,
} from '@tributary/avro';

let counter = 0;

export function schemaRegistryContract(name: string, factory: () => SchemaRegistry | Promise<SchemaRegistry>): void {
  describe(`SchemaRegistry contract: ${name}`, function () {
    this.timeout(30_000);
    let registry: SchemaRegistry;
    // A namespace per test: the in-memory registry would not care, a shared real one gives ids by content.
    let namespace: string;
    let subject: string;

    const record = (fields: object[]) => JSON.stringify({ type: 'record', name: 'Parcel', namespace, fields });
    const v1 = () => record([{ name: 'parcelId', type: 'string' }]);
    const v2 = () => record([{ name: 'parcelId', type: 'string' }, { name: 'weight', type: 'int', default: 0 }]);
    // Reads v2 data, not v1 data: weight has no default.
    const v3 = () => record([{ name: 'parcelId', type: 'string' }, { name: 'weight', type: 'int' }]);

    beforeEach(async () => {
      registry = await factory();
      counter += 1;
      namespace = `contract.n${process.pid}x${Date.now().toString(36)}x${counter}`;
      subject = `contract.parcels-${process.pid}-${Date.now().toString(36)}-${counter}-${namespace}.Parcel`;
    });

    it('registers a schema as version 1 and returns the same id and version when it is registered again', async () => {
      const first = await registry.register(subject, v1());
      const again = await registry.register(subject, v1());

      expect(first.version).to.equal(1);
      expect(first.id).to.be.a('number').and.above(0);
      expect(again).to.deep.equal(first);
    });

    it('gives one id to one schema text across subjects', async () => {
      const { id } = await registry.register(subject, v1());
      const other = await registry.register(`${subject}-other`, v1());

      expect(other.id).to.equal(id);
      expect(other.version).to.equal(1);
    });

    it('returns a schema by id, and SchemaIdNotFoundError for an id it never gave', async () => {
      const { id } = await registry.register(subject, v1());

      expect(JSON.parse(await registry.schemaById(id))).to.deep.equal(JSON.parse(v1()));
      const error = await registry.schemaById(2_000_000_000).catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(SchemaIdNotFoundError);
    });

    it('lists versions ascending, [] for an unknown subject, and the subject among subjects()', async () => {
      expect(await registry.versions(subject)).to.deep.equal([]);
      await registry.register(subject, v1());
      await registry.register(subject, v2());

      expect(await registry.versions(subject)).to.deep.equal([1, 2]);
      expect(await registry.subjects()).to.include(subject);
    });

    it('returns a version with its id and schema, and SchemaVersionNotFoundError for a missing one', async () => {
      await registry.register(subject, v1());
      const second = await registry.register(subject, v2());

      const found = await registry.schemaByVersion(subject, 2);
      expect({ id: found.id, version: found.version }).to.deep.equal(second);
      expect(JSON.parse(found.schema)).to.deep.equal(JSON.parse(v2()));
      for (const [missingSubject, version] of [[subject, 7], [`${subject}-missing`, 1]] as const) {
        const error = await registry.schemaByVersion(missingSubject, version).catch((caught: unknown) => caught);
        expect(error, `${missingSubject} v${version}`).to.be.instanceOf(SchemaVersionNotFoundError);
      }
    });

    it('looks a schema up by its exact text, undefined when the subject or the schema is unknown', async () => {
      const registered = await registry.register(subject, v1());

      expect(await registry.lookup(subject, v1())).to.deep.equal(registered);
      expect(await registry.lookup(subject, v2())).to.equal(undefined);
      expect(await registry.lookup(`${subject}-missing`, v1())).to.equal(undefined);
    });

    it('keeps a compatibility level set before the first registration; undefined for an unknown subject', async () => {
      expect(await registry.getCompatibility(subject)).to.equal(undefined);
      await registry.setCompatibility(subject, 'BACKWARD_TRANSITIVE');
      expect(await registry.getCompatibility(subject)).to.equal('BACKWARD_TRANSITIVE');
      await registry.register(subject, v1());
      expect(await registry.getCompatibility(subject)).to.equal('BACKWARD_TRANSITIVE');
      await registry.setCompatibility(subject, 'FULL');
      expect(await registry.getCompatibility(subject)).to.equal('FULL');
    });

    it('under BACKWARD_TRANSITIVE refuses a schema that cannot read the oldest version, naming the field', async () => {
      await registry.setCompatibility(subject, 'BACKWARD_TRANSITIVE');
      await registry.register(subject, v1());
      await registry.register(subject, v2());

      expect(await registry.testCompatibility(subject, v3())).to.equal(false);
      const error = await registry.register(subject, v3()).catch((caught: unknown) => caught);

      expect(error).to.be.instanceOf(IncompatibleSchemaError);
      const issues = (error as IncompatibleSchemaError).issues;
      expect(issues.map(({ path, rule }) => ({ path, rule }))).to.deep.equal([{ path: 'fields.weight', rule: 'READER_FIELD_MISSING_DEFAULT' }]);
      expect(await registry.versions(subject)).to.deep.equal([1, 2]);
    });

    it('under BACKWARD checks against the latest version only', async () => {
      await registry.setCompatibility(subject, 'BACKWARD');
      await registry.register(subject, v1());
      await registry.register(subject, v2());

      expect(await registry.testCompatibility(subject, v3())).to.equal(true);
      expect((await registry.register(subject, v3())).version).to.equal(3);
    });

    it('accepts any schema for a subject without versions', async () => {
      expect(await registry.testCompatibility(subject, v3())).to.equal(true);
    });

    it('refuses text that is not a schema with InvalidSchemaError', async () => {
      const error = await registry.register(subject, '{"type":"recordx"}').catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(InvalidSchemaError);
    });
  });
}
