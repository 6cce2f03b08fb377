import { InvalidOptionError, liveSlot, shadowSlot } from '@tributary/core';
import { PostgresReadModelStore, PostgresWriter, ReadModelStoreUnavailableError, UnknownReadModelTableError } from '@tributary/postgres';
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
  const uniqueProjection = () => `${projectionPrefix}${randomUUID()}`;
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
    for (const table of createdTables) await pool.query(`DROP TABLE IF EXISTS "${table}", "${table}__shadow"`);
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
        await writer.query(`INSERT INTO ${writer.table(contractTable)} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [key, value]);
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
      const bad = ['', 'x"; DROP TABLE users; --', 'a.b', '1table', 'with space', 'quote"d', 'a'.repeat(56), 'orders__shadow', 'tributary_projection_offsets'];
      for (const table of bad) expect(() => new PostgresReadModelStore({ pool, tables: [table] }), table).to.throw(InvalidOptionError);
      expect(() => new PostgresReadModelStore({ pool, tables: [] })).to.throw(InvalidOptionError);
      expect(() => new PostgresReadModelStore({ pool, tables: ['a', 'a'] })).to.throw(InvalidOptionError);
      expect(() => new PostgresReadModelStore({ pool, tables: ['a'], schema: 'x"y' })).to.throw(InvalidOptionError);
      expect(() => new PostgresReadModelStore({ tables: ['a'] })).to.throw(InvalidOptionError);
      expect(() => new PostgresReadModelStore({ pool, connectionString: postgresUrl(), tables: ['a'] })).to.throw(InvalidOptionError);
      expect(new PostgresReadModelStore({ pool, tables: ['a'.repeat(55)] }).liveTable('a'.repeat(55))).to.equal(`"public"."${'a'.repeat(55)}"`);
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
          expect(writer.table(table)).to.equal(`"public"."${table}"`);
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

    it('names shadow tables in the writer of a shadow slot, and refuses a writer used after its work ended', async () => {
      const table = uniqueTable('names');
      await pool.query(`CREATE TABLE "${table}" (key text PRIMARY KEY)`);
      const store = new PostgresReadModelStore({ pool, tables: [table] });
      const projection = uniqueProjection();
      await store.createShadow(projection);
      let kept: PostgresWriter | undefined;
      await store.commit({ slot: shadowSlot(projection), topic: 't', partition: 0, expected: null }, async ({ writer }) => {
        expect(writer.table(table)).to.equal(`"public"."${table}__shadow"`);
        kept = writer;
        return '1';
      });
      let thrown: unknown;
      await kept!.query('SELECT 1').catch((error: unknown) => (thrown = error));
      expect(thrown).to.be.instanceOf(InvalidOptionError);
      await store.dropShadow(projection);
      expect((await pool.query(`SELECT to_regclass($1) AS shadow`, [`"${table}__shadow"`])).rows[0].shadow).to.equal(null);
    });
  });

  describe('shadow tables', () => {
    it('copies the columns, defaults, constraints and indexes of the live table, and swaps them in under the live names', async () => {
      const table = uniqueTable('shape');
      await pool.query(
        `CREATE TABLE "${table}" (
           id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
           customer text NOT NULL,
           total numeric(12, 2) NOT NULL DEFAULT 0 CHECK (total >= 0),
           placed_at timestamptz,
           UNIQUE (customer, placed_at)
         )`,
      );
      await pool.query(`CREATE INDEX "${table}_total_idx" ON "${table}" (total DESC)`);
      await pool.query(`INSERT INTO "${table}" (customer, total) VALUES ('live-only', 5)`);
      const store = new PostgresReadModelStore({ pool, tables: [table] });
      const projection = uniqueProjection();
      await store.createShadow(projection);

      const columns = (name: string) =>
        pool
          .query(
            `SELECT column_name, data_type, numeric_precision, numeric_scale, is_nullable, column_default, is_identity
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
            [name],
          )
          .then((result) => result.rows);
      const indexes = (name: string) =>
        pool
          .query<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1 ORDER BY indexname`, [name])
          .then((result) => result.rows);
      const shapeOf = (definition: string, name: string) => definition.replace(/^CREATE (UNIQUE )?INDEX \S+ ON /, 'CREATE $1INDEX ON ').replace(`public.${name}`, 'TABLE');

      expect(await columns(`${table}__shadow`)).to.deep.equal(await columns(table));
      const liveIndexes = await indexes(table);
      expect(liveIndexes).to.have.length(3);
      expect((await indexes(`${table}__shadow`)).map((index) => shapeOf(index.indexdef, `${table}__shadow`)).sort()).to.deep.equal(
        liveIndexes.map((index) => shapeOf(index.indexdef, table)).sort(),
      );
      expect((await pool.query(`SELECT count(*)::int AS count FROM "${table}__shadow"`)).rows[0].count, 'the shadow starts empty').to.equal(0);
      // The check constraint came along.
      const negative = await pool.query(`INSERT INTO "${table}__shadow" (customer, total) VALUES ('x', -1)`).catch((error: { code?: string }) => error.code);
      expect(negative).to.equal('23514');

      await store.commit({ slot: shadowSlot(projection), topic: 't', partition: 0, expected: null }, async ({ writer }) => {
        await writer.query(`INSERT INTO ${writer.table(table)} (customer, total) VALUES ('rebuilt', 7)`);
        return '1';
      });
      await store.swap(projection, async () => {});
      expect((await pool.query(`SELECT customer FROM "${table}"`)).rows).to.deep.equal([{ customer: 'rebuilt' }]);
      expect(await indexes(table), 'indexes keep their live names').to.deep.equal(liveIndexes);
      expect((await pool.query(`SELECT to_regclass($1) AS shadow`, [`"${table}__shadow"`])).rows[0].shadow).to.equal(null);
      // The identity column has a sequence of its own that survived the drop of the old table.
      await pool.query(`INSERT INTO "${table}" (customer) VALUES ('after swap')`);
      // And a second rebuild works the same way.
      await store.createShadow(projection);
      expect((await indexes(`${table}__shadow`)).map((index) => shapeOf(index.indexdef, `${table}__shadow`)).sort()).to.deep.equal(
        liveIndexes.map((index) => shapeOf(index.indexdef, table)).sort(),
      );
      await store.dropShadow(projection);
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

    it('runs one named statement on the live and the shadow version over one connection, into the right tables, before and after swaps', async () => {
      const table = uniqueTable('named');
      await pool.query(`CREATE TABLE "${table}" (key text PRIMARY KEY, value int NOT NULL)`);
      // One connection: the live and the shadow text of the statement meet on it under the same name.
      const single = new Pool({ connectionString: postgresUrl(), max: 1 });
      try {
        const store = new PostgresReadModelStore({ pool: single, tables: [table] });
        const projection = uniqueProjection();
        const [live, shadow] = [liveSlot(projection), shadowSlot(projection)];
        const pids = new Set<number>();
        const upsert = async (writer: PostgresWriter, key: string, value: number) => {
          await writer.query({
            name: 'upsert-value',
            text: `INSERT INTO ${writer.table(table)} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
            values: [key, value],
          });
          pids.add((await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
        };
        const write = (slot: typeof live, expected: string | null, next: string, rows: Array<[string, number]>) =>
          store.commit({ slot, topic: 't', partition: 0, expected }, async ({ writer }) => {
            for (const [key, value] of rows) await upsert(writer, key, value);
            return next;
          });
        const contents = async (name: string) => (await pool.query(`SELECT key, value FROM "${name}" ORDER BY key`)).rows;

        await write(live, null, '1', [['a', 1]]);
        await store.createShadow(projection);
        await write(shadow, null, '1', [['a', 10], ['b', 20]]);
        await write(live, '1', '2', [['c', 3]]);
        await write(shadow, '1', '2', [['c', 30]]);
        expect(await contents(table)).to.deep.equal([{ key: 'a', value: 1 }, { key: 'c', value: 3 }]);
        expect(await contents(`${table}__shadow`)).to.deep.equal([{ key: 'a', value: 10 }, { key: 'b', value: 20 }, { key: 'c', value: 30 }]);

        await store.commit({ slot: live, topic: 't', partition: 0, expected: '2' }, async ({ writer }) => {
          const statements = (await preparedOn(writer)).filter((statement) => statement.name.startsWith('upsert_value_'));
          expect(statements, 'one statement per version, under names tied to the text').to.have.length(2);
          expect(statements.map((statement) => statement.statement.includes(`"${table}__shadow"`)).sort()).to.deep.equal([false, true]);
          for (const { name } of statements) expect(Buffer.byteLength(name)).to.be.at.most(63);
          return '2';
        });

        await store.swap(projection, async () => {});
        // The live statement's table was dropped and the shadow renamed in its place: PostgreSQL plans it again.
        await write(live, '2', '3', [['d', 40]]);
        expect(await contents(table)).to.deep.equal([
          { key: 'a', value: 10 },
          { key: 'b', value: 20 },
          { key: 'c', value: 30 },
          { key: 'd', value: 40 },
        ]);

        // The shadow statement was prepared on the table that is live now; a new rebuild still writes the new shadow.
        await store.createShadow(projection);
        await write(shadow, null, '3', [['e', 5]]);
        expect(await contents(`${table}__shadow`)).to.deep.equal([{ key: 'e', value: 5 }]);
        expect((await contents(table)).map((row) => row.key)).to.deep.equal(['a', 'b', 'c', 'd']);
        await store.swap(projection, async () => {});
        expect(await contents(table)).to.deep.equal([{ key: 'e', value: 5 }]);
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
