import { InvalidOptionError, ReadModelSlot, liveSlot, shadowSlot } from '@tributary/core';
import { MissingReadModelTablesError, PostgresReadModelStore, PostgresWriter, ReadModelStoreUnavailableError, UnknownReadModelTableError } from '@tributary/postgres';
import { readModelStoreContract } from '@tributary/testing';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { postgresUrl } from '../../../test-support/integration';

describe('PostgresReadModelStore on a real PostgreSQL', function () {
  this.timeout(60_000);
  // Tables and projections of this run's own, removed at the end; identifiers cannot hold '-'.
  const run = `${process.pid}_${Date.now().toString(36)}`;
  const projectionPrefix = `pg-read-model-test-${run}-`;
  const projections: string[] = [];
  const uniqueProjection = () => {
    const projection = `${projectionPrefix}${randomUUID()}`;
    projections.push(projection);
    return projection;
  };
  let tableCounter = 0;
  const createdTables: string[] = [];
  const uniqueTable = (name: string) => {
    const table = `rm_${name}_${run}_${(tableCounter += 1)}`;
    createdTables.push(table);
    return table;
  };
  let pool: Pool;

  before(() => {
    pool = new Pool({ connectionString: postgresUrl(), max: 10 });
  });

  after(async () => {
    if (!pool) return;
    // Shadows the tests left (a swap or dropShadow removes its schema): dropShadow of any store of the schema removes them.
    const cleaner = new PostgresReadModelStore({ pool, tables: ['any'] });
    for (const projection of projections) await cleaner.dropShadow(projection).catch(() => undefined);
    for (const table of createdTables) await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.query(`DELETE FROM tributary_projection_offsets WHERE projection LIKE $1`, [`${projectionPrefix}%`]).catch(() => undefined);
    await pool.query(`DELETE FROM tributary_projection_dead_letters WHERE projection LIKE $1`, [`${projectionPrefix}%`]).catch(() => undefined);
    await pool.end();
  });

  const contractTable = uniqueTable('contract');
  readModelStoreContract<PostgresWriter>(
    'PostgresReadModelStore',
    {
      async create() {
        await pool.query(`CREATE TABLE "${contractTable}" (key text PRIMARY KEY, value int NOT NULL)`);
        return new PostgresReadModelStore({ pool, tables: [contractTable] });
      },
      async write(writer, key, value) {
        // Named as it is, live and in the shadow alike.
        await writer.query(`INSERT INTO ${contractTable} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [key, value]);
      },
      async read(store, _projection, key) {
        const { rows } = await pool.query<{ value: number }>(`SELECT value FROM ${(store as PostgresReadModelStore).liveTable(contractTable)} WHERE key = $1`, [key]);
        return rows[0]?.value;
      },
    },
    { uniqueProjection },
  );

  describe('options and table names', () => {
    it('refuses table and schema names that are not plain identifiers, so no SQL gets in through them', () => {
      const bad = ['', 'x"; DROP TABLE users; --', 'a.b', '1table', 'with space', 'quote"d', 'a'.repeat(64), 'tributary_projection_offsets'];
      for (const table of bad) expect(() => new PostgresReadModelStore({ pool, tables: [table] }), table).to.throw(InvalidOptionError);
      expect(() => new PostgresReadModelStore({ pool, tables: [] })).to.throw(InvalidOptionError);
      expect(() => new PostgresReadModelStore({ pool, tables: ['a', 'a'] })).to.throw(InvalidOptionError);
      expect(() => new PostgresReadModelStore({ pool, tables: ['a'], schema: 'x"y' })).to.throw(InvalidOptionError);
      expect(() => new PostgresReadModelStore({ tables: ['a'] })).to.throw(InvalidOptionError);
      expect(() => new PostgresReadModelStore({ pool, connectionString: postgresUrl(), tables: ['a'] })).to.throw(InvalidOptionError);
      expect(new PostgresReadModelStore({ pool, tables: ['a'.repeat(63)] }).liveTable('a'.repeat(63))).to.equal(`"public"."${'a'.repeat(63)}"`);
      expect(new PostgresReadModelStore({ pool, tables: ['orders__shadow'] }).liveTable('orders__shadow'), 'no suffix is reserved').to.equal('"public"."orders__shadow"');
    });

    it('throws UnknownReadModelTableError for a table it does not own, in a writer (rolling the batch back) and in liveTable', async () => {
      const table = uniqueTable('known');
      await pool.query(`CREATE TABLE "${table}" (key text PRIMARY KEY)`);
      const store = new PostgresReadModelStore({ pool, tables: [table] });
      expect(() => store.liveTable('other')).to.throw(UnknownReadModelTableError);
      const live = liveSlot(uniqueProjection());
      let thrown: unknown;
      try {
        await store.commit({ slot: live, topic: 't', partition: 0, expected: null }, async ({ writer }) => {
          expect(writer.table(table)).to.equal(`"${table}"`);
          await writer.query(`INSERT INTO ${writer.table(table)} (key) VALUES ('written')`);
          writer.table('order_summaries');
          return '1';
        });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(UnknownReadModelTableError);
      expect((thrown as UnknownReadModelTableError).code).to.equal('UNKNOWN_READ_MODEL_TABLE');
      expect((thrown as UnknownReadModelTableError).table).to.equal('order_summaries');
      expect((thrown as Error).message).to.contain(table);
      expect((await pool.query(`SELECT * FROM "${table}"`)).rowCount).to.equal(0);
      expect(await store.readOffsets(live)).to.deep.equal([]);
    });

    it('lets SQL name the tables plainly, live and in the shadow, in the store\'s schema, and refuses a writer used after its work ended', async () => {
      const schema = `rm_schema_${run}`;
      await pool.query(`CREATE SCHEMA "${schema}"`);
      try {
        // A table of the same name in public, which the connection's own search_path would find: the store's schema comes first.
        const table = uniqueTable('names');
        await pool.query(`CREATE TABLE "${table}" (key text PRIMARY KEY)`);
        await pool.query(`CREATE TABLE "${schema}"."${table}" (key text PRIMARY KEY)`);
        const store = new PostgresReadModelStore({ pool, schema, tables: [table] });
        const projection = uniqueProjection();
        const write = (slot: ReadModelSlot, key: string, keep?: (writer: PostgresWriter) => void) =>
          store.commit({ slot, topic: 't', partition: 0, expected: null }, async ({ writer }) => {
            expect(writer.table(table), 'the same name in every version').to.equal(`"${table}"`);
            await writer.query(`INSERT INTO ${table} (key) VALUES ($1)`, [key]);
            keep?.(writer);
            return '1';
          });
        const keys = async (qualified: string) => (await pool.query(`SELECT key FROM ${qualified} ORDER BY key`)).rows.map((row) => row.key);
        const searchPath = (await pool.query(`SHOW search_path`)).rows[0].search_path;

        await write(liveSlot(projection), 'live');
        await store.createShadow(projection);
        expect(store.shadowTable(projection, table)).to.match(new RegExp(`^"${schema}-.*-shadow"\\."${table}"$`));
        let kept: PostgresWriter | undefined;
        await write(shadowSlot(projection), 'shadow', (writer) => (kept = writer));
        expect(await keys(store.liveTable(table))).to.deep.equal(['live']);
        expect(await keys(store.shadowTable(projection, table))).to.deep.equal(['shadow']);
        expect(await keys(`"${table}"`), 'nothing in public').to.deep.equal([]);

        let thrown: unknown;
        await kept!.query('SELECT 1').catch((error: unknown) => (thrown = error));
        expect(thrown).to.be.instanceOf(InvalidOptionError);
        // Outside the store's transactions, the connection's search_path is as it was.
        expect((await pool.query(`SHOW search_path`)).rows[0].search_path).to.equal(searchPath);
        await store.dropShadow(projection);
        expect((await pool.query(`SELECT to_regnamespace($1) AS shadow`, [store.shadowTable(projection, table).split('.')[0]])).rows[0].shadow).to.equal(null);
      } finally {
        await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      }
    });

    it('refuses a commit to a version whose tables are missing (MissingReadModelTablesError), before any handler runs', async () => {
      const table = uniqueTable('missing');
      const store = new PostgresReadModelStore({ pool, tables: [table] });
      const projection = uniqueProjection();
      let ran = false;
      const work = async () => {
        ran = true;
        return '1';
      };
      // Not created yet: live.
      let thrown: unknown = await store.commit({ slot: liveSlot(projection), topic: 't', partition: 0, expected: null }, work).catch((error: unknown) => error);
      expect(thrown).to.be.instanceOf(MissingReadModelTablesError);
      expect(thrown).to.include({ code: 'MISSING_READ_MODEL_TABLES', retriable: false, version: 'live' });
      expect((thrown as MissingReadModelTablesError).missing).to.deep.equal([table]);
      // The live table exists, the shadow does not: its plain names must not reach the live table.
      await pool.query(`CREATE TABLE "${table}" (key text PRIMARY KEY)`);
      thrown = await store.commit({ slot: shadowSlot(projection), topic: 't', partition: 0, expected: null }, work).catch((error: unknown) => error);
      expect(thrown).to.be.instanceOf(MissingReadModelTablesError);
      expect(thrown).to.include({ version: 'shadow' });
      expect(ran).to.equal(false);
      expect(await store.readOffsets(liveSlot(projection))).to.deep.equal([]);
      expect(await store.readOffsets(shadowSlot(projection))).to.deep.equal([]);
    });
  });

  describe('shadow tables', () => {
    it('copies the columns, defaults, identity and serial columns, constraints, indexes and grants of the live table, and swaps them in under the live names', async () => {
      const table = uniqueTable('shape');
      await pool.query(
        `CREATE TABLE "${table}" (
           id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
           line serial NOT NULL,
           customer text NOT NULL,
           total numeric(12, 2) NOT NULL DEFAULT 0 CHECK (total >= 0),
           placed_at timestamptz,
           UNIQUE (customer, placed_at)
         )`,
      );
      // A name of its own, not the one PostgreSQL would give (`<table>_total_idx`).
      await pool.query(`CREATE INDEX "${table}_by_total" ON "${table}" (total DESC)`);
      await pool.query(`INSERT INTO "${table}" (customer, total) VALUES ('live-only', 5)`);
      // What readers were granted (PUBLIC here: a role would outlive the test's database objects).
      await pool.query(`GRANT SELECT, REFERENCES ON "${table}" TO PUBLIC`);
      const store = new PostgresReadModelStore({ pool, tables: [table] });
      const projection = uniqueProjection();
      await store.createShadow(projection);
      const shadow = store.shadowTable(projection, table);
      const live = store.liveTable(table);

      /** The columns; a serial default as `nextval(<its sequence, if the column owns it>)`, since each table has a sequence of its own. */
      const columns = (qualified: string) =>
        pool
          .query(
            `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null, a.attidentity AS identity,
                    coalesce(replace(pg_get_expr(d.adbin, d.adrelid), pg_get_serial_sequence($1, a.attname)::regclass::text, '<owned>'),
                             pg_get_expr(d.adbin, d.adrelid)) AS default
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
            [qualified],
          )
          .then((result) => result.rows);
      /** The indexes: names, and definitions without the table's name. */
      const indexes = (qualified: string) =>
        pool
          .query<{ name: string; definition: string }>(
            `SELECT index.relname AS name, regexp_replace(pg_get_indexdef(i.indexrelid), ' ON .* USING ', ' ON TABLE USING ') AS definition
             FROM pg_index i JOIN pg_class index ON index.oid = i.indexrelid WHERE i.indrelid = $1::regclass ORDER BY index.relname`,
            [qualified],
          )
          .then((result) => result.rows);
      const constraints = (qualified: string) =>
        pool
          .query(`SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = $1::regclass ORDER BY conname`, [qualified])
          .then((result) => result.rows);
      const grants = (qualified: string) =>
        pool
          .query(
            `SELECT acl.privilege_type AS privilege, acl.grantee::int AS grantee, acl.is_grantable AS grantable
             FROM pg_class c, aclexplode(c.relacl) acl WHERE c.oid = $1::regclass AND acl.grantee <> c.relowner ORDER BY 1, 2`,
            [qualified],
          )
          .then((result) => result.rows);
      const sequenceOf = async (qualified: string, column: string) => (await pool.query(`SELECT pg_get_serial_sequence($1, $2) AS sequence`, [qualified, column])).rows[0].sequence;

      const liveColumns = await columns(live);
      expect(liveColumns.find((column) => column.name === 'line')).to.include({ default: "nextval('<owned>'::regclass)" });
      expect(await columns(shadow)).to.deep.equal(liveColumns);
      const [liveIndexes, liveConstraints] = [await indexes(live), await constraints(live)];
      expect(liveIndexes.map((index) => index.name)).to.include(`${table}_by_total`);
      expect(await indexes(shadow), 'the same indexes, under the same names').to.deep.equal(liveIndexes);
      expect(await constraints(shadow)).to.deep.equal(liveConstraints);
      const liveGrants = await grants(live);
      expect(liveGrants.map((grant) => grant.privilege)).to.deep.equal(['REFERENCES', 'SELECT']);
      expect(await grants(shadow)).to.deep.equal(liveGrants);
      // Sequences of its own, in the shadow's schema.
      for (const column of ['id', 'line']) {
        const [liveSequence, shadowSequence] = [await sequenceOf(live, column), await sequenceOf(shadow, column)];
        expect(shadowSequence, column).to.not.equal(liveSequence);
        expect(shadowSequence, column).to.contain(shadow.split('.')[0]);
      }
      expect((await pool.query(`SELECT count(*)::int AS count FROM ${shadow}`)).rows[0].count, 'the shadow starts empty').to.equal(0);
      const negative = await pool.query(`INSERT INTO ${shadow} (customer, total) VALUES ('x', -1)`).catch((error: { code?: string }) => error.code);
      expect(negative, 'the check constraint came along').to.equal('23514');

      await store.commit({ slot: shadowSlot(projection), topic: 't', partition: 0, expected: null }, async ({ writer }) => {
        await writer.query(`INSERT INTO ${table} (customer, total) VALUES ('rebuilt', 7)`);
        return '1';
      });
      await store.swap(projection, async () => {});
      // The shadow's sequences counted from the start, not on from the live ones (the refused insert above took the first values).
      expect((await pool.query(`SELECT id::int, line, customer FROM ${live}`)).rows).to.deep.equal([{ id: 2, line: 2, customer: 'rebuilt' }]);
      expect(await columns(live)).to.deep.equal(liveColumns);
      expect(await indexes(live), 'indexes keep their live names').to.deep.equal(liveIndexes);
      expect(await constraints(live)).to.deep.equal(liveConstraints);
      expect(await grants(live), 'readers keep their grants').to.deep.equal(liveGrants);
      expect((await pool.query(`SELECT to_regnamespace($1) AS schema`, [shadow.split('.')[0]])).rows[0].schema, 'the shadow schema is gone').to.equal(null);
      // The identity and serial columns have sequences of their own, which came along (the old table's went with it).
      for (const column of ['id', 'line']) expect(await sequenceOf(live, column), column).to.match(new RegExp(`^(public\\.)?"?${table}_${column}_seq"?$`));
      await pool.query(`INSERT INTO ${live} (customer) VALUES ('after swap')`);
      expect((await pool.query(`SELECT id::int, line FROM ${live} WHERE customer = 'after swap'`)).rows).to.deep.equal([{ id: 3, line: 3 }]);
      // And a second rebuild works the same way.
      await store.createShadow(projection);
      expect(await columns(shadow)).to.deep.equal(liveColumns);
      expect(await indexes(shadow)).to.deep.equal(liveIndexes);
      await store.commit({ slot: shadowSlot(projection), topic: 't', partition: 0, expected: null }, async ({ writer }) => {
        await writer.query(`INSERT INTO ${table} (customer) VALUES ('rebuilt again')`);
        return '1';
      });
      await store.swap(projection, async () => {});
      expect(await indexes(live)).to.deep.equal(liveIndexes);
      expect((await pool.query(`SELECT id::int, line, customer FROM ${live}`)).rows).to.deep.equal([{ id: 1, line: 1, customer: 'rebuilt again' }]);
    });

    it('never shows readers of the live tables a missing or empty table while swaps happen: each query sees the old version or the new one', async () => {
      const tables = [uniqueTable('swap_a'), uniqueTable('swap_b')];
      for (const table of tables) await pool.query(`CREATE TABLE "${table}" (key int PRIMARY KEY, generation int NOT NULL)`);
      const rows = 200;
      const fill = `SELECT key, $1::int FROM generate_series(1, ${rows}) AS key`;
      for (const table of tables) await pool.query(`INSERT INTO "${table}" (key, generation) ${fill}`, [0]);
      const store = new PostgresReadModelStore({ pool, tables });
      const projection = uniqueProjection();
      const readers = new Pool({ connectionString: postgresUrl(), max: 6 });
      const seen: Array<{ count: number; min: number; max: number }> = [];
      const failures: unknown[] = [];
      let swapping = true;
      const reader = async (table: string) => {
        while (swapping) {
          try {
            const { rows: [row] } = await readers.query<{ count: number; min: number; max: number }>(
              `SELECT count(*)::int AS count, min(generation) AS min, max(generation) AS max FROM ${store.liveTable(table)}`,
            );
            seen.push(row);
          } catch (error) {
            failures.push(error);
          }
        }
      };
      try {
        const reading = [0, 1, 2, 3, 4, 5].map((index) => reader(tables[index % 2]));
        let expected: string | null = null;
        for (let generation = 1; generation <= 6; generation += 1) {
          await store.createShadow(projection);
          const shadow = shadowSlot(projection);
          await store.commit({ slot: shadow, topic: 't', partition: 0, expected: null }, async ({ writer }) => {
            for (const table of tables) await writer.query(`INSERT INTO ${writer.table(table)} (key, generation) ${fill}`, [generation]);
            return String(generation * 10);
          });
          await store.swap(projection, async () => {
            await new Promise((resolve) => setTimeout(resolve, 20)); // readers go on meanwhile
          });
          expected = String(generation * 10);
        }
        swapping = false;
        await Promise.all(reading);
        expect(await store.readOffsets(liveSlot(projection))).to.deep.equal([{ topic: 't', partition: 0, nextOffset: expected }]);
      } finally {
        swapping = false;
        await readers.end();
      }
      expect(failures.map(String)).to.deep.equal([]);
      expect(seen.length).to.be.greaterThan(12);
      for (const row of seen) {
        expect(row.count).to.equal(rows);
        expect(row.min).to.equal(row.max);
      }
      expect(new Set(seen.map((row) => row.min)).size, 'readers saw several generations').to.be.greaterThan(1);
      for (const table of tables) expect((await pool.query(`SELECT DISTINCT generation FROM "${table}"`)).rows).to.deep.equal([{ generation: 6 }]);
    });
  });

  describe('prepared statements', () => {
    /** The prepared statements of the writer's connection, as PostgreSQL sees them. */
    const preparedOn = (writer: PostgresWriter) =>
      writer.query<{ name: string; statement: string }>(`SELECT name, statement FROM pg_prepared_statements ORDER BY name`).then((result) => result.rows);

    it('runs one prepared statement for the live and the shadow version over one connection, into the right tables, before and after swaps', async () => {
      const table = uniqueTable('named');
      await pool.query(`CREATE TABLE "${table}" (key text PRIMARY KEY, value int NOT NULL)`);
      // One connection: the live and the shadow version of the statement meet on it, under one name and one text.
      const single = new Pool({ connectionString: postgresUrl(), max: 1 });
      try {
        const store = new PostgresReadModelStore({ pool: single, tables: [table] });
        const projection = uniqueProjection();
        const [live, shadow] = [liveSlot(projection), shadowSlot(projection)];
        const pids = new Set<number>();
        const upsert = async (writer: PostgresWriter, key: string, value: number) => {
          await writer.query({
            name: 'upsert-value',
            text: `INSERT INTO ${table} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = greatest(${table}.value, excluded.value)`,
            values: [key, value],
          });
          pids.add((await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
        };
        const write = (slot: typeof live, expected: string | null, next: string, rows: Array<[string, number]>) =>
          store.commit({ slot, topic: 't', partition: 0, expected }, async ({ writer }) => {
            for (const [key, value] of rows) await upsert(writer, key, value);
            return next;
          });
        const contents = async (qualified: string) => (await pool.query(`SELECT key, value FROM ${qualified} ORDER BY key`)).rows;
        const [liveTable, shadowTable] = [store.liveTable(table), store.shadowTable(projection, table)];

        await write(live, null, '1', [['a', 1]]);
        await store.createShadow(projection);
        await write(shadow, null, '1', [['a', 10], ['b', 20]]);
        await write(live, '1', '2', [['c', 3]]);
        await write(shadow, '1', '2', [['c', 30]]);
        expect(await contents(liveTable)).to.deep.equal([{ key: 'a', value: 1 }, { key: 'c', value: 3 }]);
        expect(await contents(shadowTable)).to.deep.equal([{ key: 'a', value: 10 }, { key: 'b', value: 20 }, { key: 'c', value: 30 }]);

        await store.commit({ slot: live, topic: 't', partition: 0, expected: '2' }, async ({ writer }) => {
          const statements = (await preparedOn(writer)).filter((statement) => statement.name.startsWith('upsert_value_'));
          expect(statements, 'one statement for both versions, under a name tied to the text').to.have.length(1);
          for (const { name } of statements) expect(Buffer.byteLength(name)).to.be.at.most(63);
          return '2';
        });

        await store.swap(projection, async () => {});
        // The table the statement was planned on was dropped, and the shadow moved in its place: PostgreSQL plans it again.
        await write(live, '2', '3', [['d', 40]]);
        expect(await contents(liveTable)).to.deep.equal([
          { key: 'a', value: 10 },
          { key: 'b', value: 20 },
          { key: 'c', value: 30 },
          { key: 'd', value: 40 },
        ]);

        // The statement was last planned on the table that is live now; a new rebuild still writes the new shadow.
        await store.createShadow(projection);
        await write(shadow, null, '3', [['e', 5]]);
        expect(await contents(shadowTable)).to.deep.equal([{ key: 'e', value: 5 }]);
        expect((await contents(liveTable)).map((row) => row.key)).to.deep.equal(['a', 'b', 'c', 'd']);
        await store.swap(projection, async () => {});
        expect(await contents(liveTable)).to.deep.equal([{ key: 'e', value: 5 }]);
        expect(await store.readOffsets(live)).to.deep.equal([{ topic: 't', partition: 0, nextOffset: '3' }]);
        expect([...pids], 'all on one connection').to.have.length(1);
      } finally {
        await single.end();
      }
    });

    it('reuses one prepared statement per connection across many commits on pooled connections', async () => {
      const table = uniqueTable('pooled');
      await pool.query(`CREATE TABLE "${table}" (key text PRIMARY KEY, events int NOT NULL, total int NOT NULL)`);
      const pooled = new Pool({ connectionString: postgresUrl(), max: 4 });
      try {
        const store = new PostgresReadModelStore({ pool: pooled, tables: [table] });
        const live = liveSlot(uniqueProjection());
        const partitions = 4;
        const commits = 25;
        const pids = new Set<number>();
        const partition = async (index: number) => {
          let expected: string | null = null;
          for (let commit = 0; commit < commits; commit += 1) {
            const next = String(commit + 1);
            const outcome = await store.commit({ slot: live, topic: 't', partition: index, expected }, async ({ writer }) => {
              const upsert = `INSERT INTO ${writer.table(table)} AS s (key, events, total) VALUES ($1, 1, $2)
                              ON CONFLICT (key) DO UPDATE SET events = s.events + 1, total = s.total + excluded.total`;
              const bump = `UPDATE ${writer.table(table)} SET total = total + $2 WHERE key = $1 RETURNING events`;
              for (const key of [`p${index}`, 'shared']) {
                await writer.prepared(upsert, [key, 1]);
                const { rows } = await writer.query<{ events: number }>({ name: 'bump', text: bump, values: [key, 10] });
                expect(rows).to.have.length(1);
              }
              const mine = (await preparedOn(writer)).filter((statement) => statement.statement === upsert || statement.statement === bump);
              expect(mine.map((statement) => statement.name.replace(/_[0-9a-f]{24}$/, '')).sort(), 'each prepared once on this connection').to.deep.equal(['bump', 'tributary']);
              pids.add((await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
              return next;
            });
            expect(outcome).to.deep.equal({ committed: true, nextOffset: next });
            expected = next;
          }
        };
        await Promise.all(Array.from({ length: partitions }, (_, index) => partition(index)));

        const { rows } = await pool.query<{ key: string; events: number; total: number }>(`SELECT key, events, total FROM "${table}" ORDER BY key`);
        expect(rows).to.deep.equal([
          ...Array.from({ length: partitions }, (_, index) => ({ key: `p${index}`, events: commits, total: commits * 11 })),
          { key: 'shared', events: partitions * commits, total: partitions * commits * 11 },
        ]);
        expect(pids.size, 'several pooled connections').to.be.greaterThan(1);
        expect(pids.size).to.be.at.most(4);
      } finally {
        await pooled.end();
      }
    });

    it('keeps unnamed configs and array rows as pg has them, tells long names apart, and refuses a config without text', async () => {
      const table = uniqueTable('configs');
      await pool.query(`CREATE TABLE "${table}" (key text PRIMARY KEY)`);
      const single = new Pool({ connectionString: postgresUrl(), max: 1 });
      try {
        const store = new PostgresReadModelStore({ pool: single, tables: [table] });
        const live = liveSlot(uniqueProjection());
        let kept: PostgresWriter | undefined;
        await store.commit({ slot: live, topic: 't', partition: 0, expected: null }, async ({ writer }) => {
          kept = writer;
          const unnamed = await writer.query({ text: `INSERT INTO ${writer.table(table)} (key) VALUES ($1) RETURNING key`, values: ['unnamed'] });
          expect(unnamed.rows).to.deep.equal([{ key: 'unnamed' }]);
          const arrays = await writer.query<[string]>({ name: 'keys', text: `SELECT key FROM ${writer.table(table)}`, rowMode: 'array' });
          expect(arrays.rows).to.deep.equal([['unnamed']]);

          // Names alike in their first 63 bytes (all PostgreSQL keeps), with different texts, on one connection.
          const long = 'ä'.repeat(40);
          const config = { name: `${long}-1`, text: `INSERT INTO ${writer.table(table)} (key) VALUES ($1)`, values: ['long-1'] };
          await writer.query(config);
          await writer.query({ name: `${long}-2`, text: `INSERT INTO ${writer.table(table)} (key) VALUES ($1 || '!')`, values: ['long-2'] });
          expect(config.name, 'the caller’s config is left alone').to.equal(`${long}-1`);
          const names = (await preparedOn(writer)).map((statement) => statement.name);
          expect(names).to.have.length(3);
          for (const name of names) expect(Buffer.byteLength(name)).to.be.at.most(63);

          for (const bad of [{ name: 'no-text' }, { name: 7, text: 'SELECT 1' }, null]) {
            let refused: unknown;
            await writer.query(bad as never).catch((error: unknown) => (refused = error));
            expect(refused, JSON.stringify(bad)).to.be.instanceOf(InvalidOptionError);
          }
          return '1';
        });
        expect((await pool.query(`SELECT key FROM "${table}" ORDER BY key`)).rows.map((row) => row.key)).to.deep.equal(['long-1', 'long-2!', 'unnamed']);
        for (const late of [() => kept!.query({ name: 'late', text: 'SELECT 1' }), () => kept!.prepared('SELECT 1')]) {
          let thrown: unknown;
          await late().catch((error: unknown) => (thrown = error));
          expect(thrown).to.be.instanceOf(InvalidOptionError);
        }
      } finally {
        await single.end();
      }
    });
  });

  describe('lost connections', () => {
    it('turns a connection dropped before the commit into a retriable ReadModelStoreUnavailableError, writing nothing', async () => {
      const table = uniqueTable('dropped');
      await pool.query(`CREATE TABLE "${table}" (key text PRIMARY KEY)`);
      const store = new PostgresReadModelStore({ pool, tables: [table] });
      const live = liveSlot(uniqueProjection());
      const batch = { slot: live, topic: 't', partition: 0, expected: null };
      let thrown: unknown;
      try {
        await store.commit(batch, async ({ writer, deadLetter }) => {
          await writer.query(`INSERT INTO ${writer.table(table)} (key) VALUES ('lost')`);
          deadLetter({ topic: 't', partition: 0, offset: '0', aggregate: 'Order:1' });
          const { rows } = await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          await pool.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
          await new Promise((resolve) => setTimeout(resolve, 100));
          return '1';
        });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, String(thrown)).to.be.instanceOf(ReadModelStoreUnavailableError);
      const unavailable = thrown as ReadModelStoreUnavailableError;
      expect(unavailable.retriable).to.equal(true);
      expect(unavailable.code).to.equal('READ_MODEL_STORE_UNAVAILABLE');
      expect(unavailable.cause).to.be.instanceOf(Error);
      expect(store.isTransient(unavailable)).to.equal(true);
      expect((await pool.query(`SELECT * FROM "${table}"`)).rowCount).to.equal(0);
      expect(await store.readOffsets(live)).to.deep.equal([]);
      expect(await store.deadLetters(live)).to.deep.equal([]);

      // The retry runs on a sound connection and commits.
      const outcome = await store.commit(batch, async ({ writer }) => {
        await writer.query(`INSERT INTO ${writer.table(table)} (key) VALUES ('retried')`);
        return '1';
      });
      expect(outcome).to.deep.equal({ committed: true, nextOffset: '1' });
      expect((await pool.query(`SELECT key FROM "${table}"`)).rows).to.deep.equal([{ key: 'retried' }]);
    });

    it('passes a handler’s own failed query on unchanged, and reports it transient when the connection dropped', async () => {
      const table = uniqueTable('handler_dropped');
      await pool.query(`CREATE TABLE "${table}" (key text PRIMARY KEY)`);
      const store = new PostgresReadModelStore({ pool, tables: [table] });
      const live = liveSlot(uniqueProjection());
      let handlerError: unknown;
      let thrown: unknown;
      try {
        await store.commit({ slot: live, topic: 't', partition: 0, expected: null }, async ({ writer }) => {
          const { rows } = await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          await pool.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
          await new Promise((resolve) => setTimeout(resolve, 100));
          try {
            await writer.query(`INSERT INTO ${writer.table(table)} (key) VALUES ('lost')`);
          } catch (error) {
            handlerError = error;
            throw error;
          }
          return '1';
        });
      } catch (error) {
        thrown = error;
      }
      expect(handlerError).to.be.instanceOf(Error);
      expect(thrown).to.equal(handlerError);
      expect(store.isTransient(thrown)).to.equal(true);
      expect(store.isTransient(new Error('a bug in a handler'))).to.equal(false);
      expect(store.isTransient(Object.assign(new Error('duplicate key'), { code: '23505' }))).to.equal(false);
      expect(store.isTransient(Object.assign(new Error('deadlock detected'), { code: '40P01' }))).to.equal(true);
      expect(await store.readOffsets(live)).to.deep.equal([]);
      expect(pool.totalCount).to.be.at.most(10);
    });

    it('reports an unreachable database as a retriable ReadModelStoreUnavailableError', async () => {
      const store = new PostgresReadModelStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test', tables: ['nowhere'] });
      try {
        let thrown: unknown;
        await store.readOffsets(liveSlot(uniqueProjection())).catch((error: unknown) => (thrown = error));
        expect(thrown).to.be.instanceOf(ReadModelStoreUnavailableError);
        expect((thrown as ReadModelStoreUnavailableError).retriable).to.equal(true);
      } finally {
        await store.close();
      }
    });
  });
});
