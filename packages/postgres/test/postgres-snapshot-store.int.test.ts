import { CorruptSnapshotError } from '@tributary/core';
import { expect } from 'chai';
import { InvalidOptionError, Snapshot } from '@tributary/core';
import { PostgresSnapshotStore } from '@tributary/postgres';
import { snapshotRehydrationContract, snapshotStoreContract } from '@tributary/testing';
import { Pool } from 'pg';
import { postgresUrl } from '../../../test-support/integration';

describe('PostgresSnapshotStore on a real PostgreSQL', function () {
  this.timeout(30_000);
  // A table of this run's own, dropped at the end; identifiers cannot hold uniqueName's '-'.
  const table = `tributary_snapshots_test_${process.pid}_${Date.now().toString(36)}`;
  let pool: Pool;

  before(() => {
    pool = new Pool({ connectionString: postgresUrl(), max: 8 });
  });

  after(async () => {
    await pool?.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool?.end();
  });

  snapshotStoreContract('PostgresSnapshotStore', () => new PostgresSnapshotStore({ connection: pool, table }));
  snapshotRehydrationContract('PostgresSnapshotStore', () => new PostgresSnapshotStore({ connection: pool, table }), { propertyRuns: 25 });

  describe('corrupt rows', () => {
    const reported: Array<{ error: CorruptSnapshotError; aggregateType: string; aggregateId: string }> = [];
    let store: PostgresSnapshotStore;

    before(async () => {
      store = new PostgresSnapshotStore({ connection: pool, table, onCorrupt: (error, aggregateType, aggregateId) => reported.push({ error, aggregateType, aggregateId }) });
      await store.ensureSchema();
    });
    beforeEach(() => (reported.length = 0));

    const damages: Record<string, string> = {
      'a state that is text': `state = '"garbage"'::jsonb`,
      'a state that is an array': `state = '[1, 2]'::jsonb`,
      'a state that is JSON null': `state = 'null'::jsonb`,
      'an empty shape version': `shape_version = ''`,
      'a negative version': `version = -4`,
      'a version past 2^53': `version = 9007199254740993`,
    };
    for (const [damage, assignment] of Object.entries(damages)) {
      it(`loads a row with ${damage} as undefined and reports it`, async () => {
        const id = `corrupt-${damage}`;
        await store.save(snapshotOf(id, 3));
        await pool.query(`UPDATE "${table}" SET ${assignment} WHERE aggregate_type = 'Damaged' AND aggregate_id = $1`, [id]);
        expect(await store.load('Damaged', id)).to.equal(undefined);
        expect(reported).to.have.length(1);
        expect(reported[0]).to.include({ aggregateType: 'Damaged', aggregateId: id });
        expect(reported[0].error).to.be.instanceOf(CorruptSnapshotError);
        expect(reported[0].error.code).to.equal('CORRUPT_SNAPSHOT');
        expect(reported[0].error.message).to.include(`Damaged '${id}'`).and.include(table);
      });
    }

    it('lets a new snapshot replace a corrupt one', async () => {
      await store.save(snapshotOf('healed', 3));
      await pool.query(`UPDATE "${table}" SET state = '"garbage"'::jsonb WHERE aggregate_id = 'healed'`);
      await store.save(snapshotOf('healed', 4));
      expect((await store.load('Damaged', 'healed'))?.state).to.deep.equal({ id: 'healed', version: 4 });
      expect(reported).to.deep.equal([]);
    });
  });

  it('creates its table on first use, once, however many stores race to', async () => {
    const racingTable = `${table}_race`;
    try {
      const stores = Array.from({ length: 4 }, () => new PostgresSnapshotStore({ connection: pool, table: racingTable }));
      await Promise.all(stores.map((store, index) => store.save(snapshotOf('raced', index + 1))));
      expect((await stores[0].load('Damaged', 'raced'))?.version).to.equal(4);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS "${racingTable}"`);
    }
  });

  it('makes and ends a pool of its own from a connection string', async () => {
    const store = new PostgresSnapshotStore({ connection: postgresUrl(), table });
    await store.save(snapshotOf('own-pool', 1));
    expect((await store.load('Damaged', 'own-pool'))?.version).to.equal(1);
    await store.close();
  });

  it('refuses a table name that is not a plain identifier, and a missing connection', () => {
    for (const bad of ['', 'drop table x', 'snapshots;--', '1table', 'a.b.c', 'quo"te', 'x'.repeat(64)]) {
      expect(() => new PostgresSnapshotStore({ connection: pool, table: bad }), bad).to.throw(InvalidOptionError, /option table/);
    }
    expect(new PostgresSnapshotStore({ connection: pool, table: 'public.Snapshots_2' }).table).to.equal('"public"."Snapshots_2"');
    expect(() => new PostgresSnapshotStore({ connection: '' })).to.throw(InvalidOptionError, /connection/);
    expect(() => new PostgresSnapshotStore({} as never)).to.throw(InvalidOptionError, /connection/);
  });
});

function snapshotOf(aggregateId: string, version: number): Snapshot {
  return { aggregateType: 'Damaged', aggregateId, version, state: { id: aggregateId, version }, shapeVersion: 's1', occurredAt: new Date() };
}
