import {
  BatchCommit,
  BatchContext,
  CommitOutcome,
  DeadLetterEntry,
  InvalidOptionError,
  PartitionOffset,
  ReadModelSlot,
  ReadModelStoreUnavailableError,
  ReadModelStore,
  ShadowBehindError,
  TributaryError,
  compareDeadLetters,
  liveSlot,
  shadowSlot,
  slotKey,
} from '@tributary/core';
import { Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { MissingReadModelTablesError, UnknownReadModelTableError } from './errors/read-model.errors';
import { PostgresWriter } from './postgres-writer';
import { Run, copyTableShape, shadowSchemaName } from './shadow-schema';
import { IDENTIFIER, MAX_IDENTIFIER, quote } from './sql-identifiers';
import { PREPARED_NAME, statementName } from './statement-names';

/** Options of {@link PostgresReadModelStore}. */
export interface PostgresReadModelStoreOptions {
  /** A `pg.Pool` the caller owns (and ends). Give this or `connectionString`. */
  readonly pool?: Pool;
  /** A connection string, from which the store makes a pool of its own that {@link PostgresReadModelStore.close} ends. */
  readonly connectionString?: string;
  /**
   * The projection's read model tables, which the application creates (in its
   * migrations). Names of letters, digits and `_`, not starting with a digit,
   * at most 63 characters; used as written, case included.
   */
  readonly tables: readonly string[];
  /**
   * The schema of the tables and of the store's bookkeeping tables. Defaults
   * to `public`. Handlers' SQL names the tables without it: each transaction
   * puts it first on its `search_path`.
   */
  readonly schema?: string;
}

const OFFSETS_TABLE = 'tributary_projection_offsets';
const DEAD_LETTERS_TABLE = 'tributary_projection_dead_letters';
/** SQLSTATEs of a concurrent CREATE TABLE IF NOT EXISTS that lost the race: unique_violation (on pg_type), duplicate_table. */
const CREATED_CONCURRENTLY = new Set(['23505', '42P07']);
/**
 * SQLSTATEs worth retrying: serialization failure, deadlock, too many
 * connections, lock timeout, server shutting down or starting; and all of class 08 (connection exception).
 */
const TRANSIENT_STATES = new Set(['40001', '40P01', '53300', '55P03', '57P01', '57P02', '57P03']);
const TRANSIENT_SOCKET_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** What node-postgres says when the socket went away or the pool could not connect in time. */
const TRANSIENT_MESSAGES = /Connection terminated|not queryable|timeout exceeded when trying to connect|Connection closed/i;

/** Body of a transaction: its value, and whether to commit (false rolls back, as after a failed compare-and-set). */
type TransactionResult<T> = { readonly value: T; readonly commit: boolean };

/**
 * A {@link ReadModelStore} on PostgreSQL: handlers write the projection's own
 * tables through a {@link PostgresWriter}, in one transaction with the offset
 * compare-and-set and the dead letters of the batch, so each event's effect
 * lands exactly once.
 *
 * Handlers' SQL names the tables as they are named, `order_summary`, live and
 * in a rebuild alike: each transaction sets its `search_path` to the schema of
 * the version it writes. A rebuild fills a shadow copy of each table, with the
 * same name, in a schema of its own (`<schema>-<projection>-shadow`, see
 * {@link shadowTable}); the swap drops the live tables and moves the copies
 * into the live schema (`ALTER TABLE … SET SCHEMA`), in one transaction, so
 * readers see the old version or the new one and never a missing table.
 *
 * Use one store per projection, naming the tables that projection owns, and
 * create them yourself (migrations) before the projection runs. A copy is
 * `CREATE TABLE … (LIKE <table> INCLUDING ALL)`: columns, defaults, identity
 * and `serial` columns (each with a sequence of its own), check constraints,
 * indexes with their names, comments, and the privileges granted on the
 * table. Not carried over a swap: foreign keys, triggers, row-level security
 * policies and column privileges; and a view on a table stops the drop. Query
 * the tables directly. The shadow schemas are the store's to create, so its
 * role needs the `CREATE` privilege on the database.
 *
 * Offsets and dead letters live in `tributary_projection_offsets` and
 * `tributary_projection_dead_letters` of the same schema, which {@link prepare} creates.
 * Commits of a slot take a shared transaction-level advisory lock on it;
 * resolving dead letters, creating, dropping and swapping shadows take it
 * exclusively, so they never interleave with a commit of the slot.
 *
 * @example
 * ```ts
 * // Migration: CREATE TABLE order_summary (order_id text PRIMARY KEY, total numeric NOT NULL);
 * const store = new PostgresReadModelStore({ connectionString: process.env.DATABASE_URL!, tables: ['order_summary'] });
 * await store.prepare();
 * // Handlers write through the writer of their batch, naming the table as it is named:
 * //   await writer.query(`INSERT INTO order_summary … `, [...]);
 * // or, as a statement prepared once per connection (see PostgresWriter.query):
 * //   await writer.prepared(`INSERT INTO order_summary … `, [...]);
 * // Readers query the live table:
 * const { rows } = await pool.query(`SELECT total FROM ${store.liveTable('order_summary')} WHERE order_id = $1`, ['o-1']);
 * // …
 * await store.close();
 * ```
 */
export class PostgresReadModelStore implements ReadModelStore<PostgresWriter> {
  /** The tables, as named in the options. */
  readonly tables: readonly string[];
  private readonly schema: string;
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly offsetsTable: string;
  private readonly deadLettersTable: string;
  private prepared?: Promise<void>;

  constructor(options: PostgresReadModelStoreOptions) {
    if (!options || typeof options !== 'object') {
      throw new InvalidOptionError("PostgresReadModelStore needs options: { pool or connectionString, tables: ['<table>', …] }");
    }
    const { pool, connectionString } = options;
    if (pool !== undefined && connectionString !== undefined) {
      throw new InvalidOptionError('PostgresReadModelStore takes either option pool or option connectionString, not both');
    }
    if (pool !== undefined) {
      if (!pool || typeof (pool as Pool).connect !== 'function') throw new InvalidOptionError('PostgresReadModelStore option pool must be a pg.Pool');
      this.pool = pool;
      this.ownsPool = false;
    } else if (typeof connectionString === 'string' && connectionString.length > 0) {
      this.pool = new Pool({ connectionString });
      this.ownsPool = true;
    } else {
      throw new InvalidOptionError("PostgresReadModelStore needs option pool (a pg.Pool) or connectionString (a non-empty 'postgres://…' string)");
    }

    this.schema = options.schema ?? 'public';
    if (typeof this.schema !== 'string' || !IDENTIFIER.test(this.schema) || this.schema.length > MAX_IDENTIFIER) {
      throw new InvalidOptionError(
        `PostgresReadModelStore option schema must be a name of letters, digits and '_' (not starting with a digit, at most ${MAX_IDENTIFIER} characters); got ${JSON.stringify(options.schema)}`,
      );
    }
    const { tables } = options;
    if (!Array.isArray(tables) || tables.length === 0) {
      throw new InvalidOptionError("PostgresReadModelStore option tables must list the projection's tables, e.g. tables: ['order_summary']");
    }
    for (const table of tables) {
      if (typeof table !== 'string' || !IDENTIFIER.test(table) || table.length > MAX_IDENTIFIER) {
        throw new InvalidOptionError(
          `PostgresReadModelStore option tables must hold table names of letters, digits and '_' (not starting with a digit, ` +
            `at most ${MAX_IDENTIFIER} characters); got ${JSON.stringify(table)}`,
        );
      }
      if (table === OFFSETS_TABLE || table === DEAD_LETTERS_TABLE) {
        throw new InvalidOptionError(`PostgresReadModelStore table ${JSON.stringify(table)} is the store's own bookkeeping table; name the read model table otherwise`);
      }
    }
    if (new Set(tables).size !== tables.length) throw new InvalidOptionError(`PostgresReadModelStore option tables names a table twice: ${JSON.stringify(tables)}`);
    this.tables = [...tables];
    this.offsetsTable = this.qualified(OFFSETS_TABLE);
    this.deadLettersTable = this.qualified(DEAD_LETTERS_TABLE);
  }

  /**
   * The quoted, schema-qualified identifier of a table's live version, for
   * queries of readers.
   *
   * @throws UnknownReadModelTableError if `name` is not in the `tables` option.
   */
  liveTable(name: string): string {
    return this.qualified(this.tableName(name));
  }

  /**
   * The quoted, schema-qualified identifier of a table's shadow version, which
   * a rebuild of `projection` fills: the table of the same name in the schema
   * `<schema>-<projection>-shadow` (shortened with a hash past 63 characters).
   * For looking into a rebuild under way; it is gone once swapped in.
   *
   * @throws UnknownReadModelTableError if `name` is not in the `tables` option.
   */
  shadowTable(projection: string, name: string): string {
    return `${quote(shadowSchemaName(this.schema, projection))}.${quote(this.tableName(name))}`;
  }

  /** Creates the offsets and dead-letters tables if missing. Idempotent; the other methods call it on first use. */
  prepare(): Promise<void> {
    this.prepared ??= this.createBookkeeping().catch((error: unknown) => {
      // Not cached: the next call tries again (the database may come up later).
      this.prepared = undefined;
      throw this.unavailable('preparation of the bookkeeping tables', error);
    });
    return this.prepared;
  }

  async readOffsets(slot: ReadModelSlot): Promise<PartitionOffset[]> {
    await this.prepare();
    const { rows } = await this.query<{ topic: string; partition: number; next_offset: string }>(
      `reading the offsets of ${describeSlot(slot)}`,
      `SELECT topic, partition, next_offset::text AS next_offset FROM ${this.offsetsTable} WHERE projection = $1`,
      [slotKey(slot)],
    );
    return rows
      .map((row) => ({ topic: row.topic, partition: row.partition, nextOffset: row.next_offset }))
      .sort(byPartition);
  }

  async deadLetters(slot: ReadModelSlot): Promise<DeadLetterEntry[]> {
    await this.prepare();
    const { rows } = await this.query<DeadLetterRow>(
      `reading the dead letters of ${describeSlot(slot)}`,
      `SELECT topic, partition, "offset"::text AS "offset", aggregate FROM ${this.deadLettersTable} WHERE projection = $1`,
      [slotKey(slot)],
    );
    return rows.map(fromDeadLetterRow).sort(compareDeadLetters);
  }

  async commit(batch: BatchCommit, work: (context: BatchContext<PostgresWriter>) => Promise<string>): Promise<CommitOutcome> {
    await this.prepare();
    const { slot, topic, partition, expected } = batch;
    const key = slotKey(slot);
    return this.transaction<CommitOutcome>(`commit of ${describeSlot(slot)} at ${topic}/${partition}`, async (run, client) => {
      await run(`SELECT pg_advisory_xact_lock_shared(hashtext($1), $2::int), ${SET_SEARCH_PATH}`, [...lockKey(slot), this.searchPath(slot)]);
      // The compare-and-set comes first: a zombie fails before running handlers, and every
      // transaction locks the offset row before data rows (no deadlocks between them).
      // A first commit inserts a placeholder that only this transaction sees; the real offset replaces it below.
      const claimed =
        expected === null
          ? await run(
              `INSERT INTO ${this.offsetsTable} (projection, topic, partition, next_offset, updated_at) VALUES ($1, $2, $3, -1, now())
               ON CONFLICT DO NOTHING`,
              [key, topic, partition],
            )
          : await run(
              `UPDATE ${this.offsetsTable} SET updated_at = now()
               WHERE projection = $1 AND topic = $2 AND partition = $3 AND next_offset = $4::bigint`,
              [key, topic, partition, expected],
            );
      if (claimed.rowCount !== 1) {
        const { rows } = await run<{ next_offset: string }>(
          `SELECT next_offset::text AS next_offset FROM ${this.offsetsTable} WHERE projection = $1 AND topic = $2 AND partition = $3`,
          [key, topic, partition],
        );
        return { value: { committed: false, stored: rows[0]?.next_offset ?? null }, commit: false };
      }

      const { rows } = await run<{ parked: string[]; present: string[] }>(
        `SELECT ARRAY(SELECT DISTINCT aggregate FROM ${this.deadLettersTable} WHERE projection = $1 AND topic = $2 AND partition = $3) AS parked,
                ${presentTables(4, 5)} AS present`,
        [key, topic, partition, this.schemaOf(slot), this.tables],
      );
      this.checkPresent(slot, rows[0].present);
      const parked = new Set(rows[0].parked);
      const recorded: DeadLetterEntry[] = [];
      const writer = this.writerFor(slot, client);
      let nextOffset: string;
      try {
        nextOffset = await work({
          writer,
          parked,
          deadLetter: (entry) => {
            recorded.push({ topic: entry.topic, partition: entry.partition, offset: entry.offset, aggregate: entry.aggregate });
            parked.add(entry.aggregate);
          },
        });
      } finally {
        writer.finish();
      }

      await run(
        `UPDATE ${this.offsetsTable} SET next_offset = $4::bigint, updated_at = now() WHERE projection = $1 AND topic = $2 AND partition = $3`,
        [key, topic, partition, nextOffset],
      );
      if (recorded.length > 0) {
        await run(
          `INSERT INTO ${this.deadLettersTable} (projection, topic, partition, "offset", aggregate, created_at)
           SELECT $1, topic, partition, "offset", aggregate, now()
           FROM unnest($2::text[], $3::int[], $4::bigint[], $5::text[]) AS letter(topic, partition, "offset", aggregate)
           ON CONFLICT DO NOTHING`,
          [key, recorded.map((entry) => entry.topic), recorded.map((entry) => entry.partition), recorded.map((entry) => entry.offset), recorded.map((entry) => entry.aggregate)],
        );
      }
      return { value: { committed: true, nextOffset }, commit: true };
    });
  }

  async resolveDeadLetters(slot: ReadModelSlot, entries: readonly DeadLetterEntry[], work: (writer: PostgresWriter) => Promise<void>): Promise<boolean> {
    await this.prepare();
    const key = slotKey(slot);
    const aggregates = [...new Set(entries.map((entry) => entry.aggregate))];
    return this.transaction<boolean>(`resolving dead letters of ${describeSlot(slot)}`, async (run, client) => {
      await run(`SELECT pg_advisory_xact_lock(hashtext($1), $2::int), ${SET_SEARCH_PATH}`, [...lockKey(slot), this.searchPath(slot)]);
      const { rows } = await run<DeadLetterRow>(
        `SELECT topic, partition, "offset"::text AS "offset", aggregate FROM ${this.deadLettersTable} WHERE projection = $1 AND aggregate = ANY($2::text[])`,
        [key, aggregates],
      );
      if (!sameEntries(rows.map(fromDeadLetterRow), entries)) return { value: false, commit: false };
      const present = await run<{ present: string[] }>(`SELECT ${presentTables(1, 2)} AS present`, [this.schemaOf(slot), this.tables]);
      this.checkPresent(slot, present.rows[0].present);
      const writer = this.writerFor(slot, client);
      try {
        await work(writer);
      } finally {
        writer.finish();
      }
      await run(`DELETE FROM ${this.deadLettersTable} WHERE projection = $1 AND aggregate = ANY($2::text[])`, [key, aggregates]);
      return { value: true, commit: true };
    });
  }

  async createShadow(projection: string): Promise<void> {
    await this.prepare();
    const shadow = shadowSlot(projection);
    await this.transaction(`creation of ${describeSlot(shadow)}`, async (run) => {
      await run(`SELECT pg_advisory_xact_lock(hashtext($1), $2::int)`, lockKey(shadow));
      const shadowSchema = quote(this.schemaOf(shadow));
      await run(`DROP SCHEMA IF EXISTS ${shadowSchema} CASCADE`);
      await run(`CREATE SCHEMA ${shadowSchema}`);
      for (const table of this.tables) await copyTableShape(run, this.schema, this.schemaOf(shadow), table);
      await this.forgetSlot(run, shadow);
      return { value: undefined, commit: true };
    });
  }

  async swap(projection: string, catchUp: (live: readonly PartitionOffset[]) => Promise<void>): Promise<void> {
    await this.prepare();
    const live = liveSlot(projection);
    const shadow = shadowSlot(projection);
    await this.transaction(`swap of ${describeSlot(shadow)}`, async (run) => {
      // Held until the end: live commits wait here from now on, and then fail their compare-and-set
      // against the swapped-in offsets. Commits of the shadow take another lock, so catchUp can run.
      await run(`SELECT pg_advisory_xact_lock(hashtext($1), $2::int)`, lockKey(live));
      const liveOffsets = await this.offsetsIn(run, live);
      await catchUp(liveOffsets.map((offset) => ({ ...offset })));
      // Waits for shadow commits still in flight, and keeps out later ones.
      await run(`SELECT pg_advisory_xact_lock(hashtext($1), $2::int)`, lockKey(shadow));
      const shadowOffsets = new Map((await this.offsetsIn(run, shadow)).map((offset) => [`${offset.topic}\u0000${offset.partition}`, offset.nextOffset]));
      for (const offset of liveOffsets) {
        const ahead = shadowOffsets.get(`${offset.topic}\u0000${offset.partition}`) ?? null;
        if (ahead === null || BigInt(ahead) < BigInt(offset.nextOffset)) {
          throw new ShadowBehindError(projection, offset.topic, offset.partition, ahead, offset.nextOffset);
        }
      }

      const shadowSchema = this.schemaOf(shadow);
      await run(`CREATE SCHEMA IF NOT EXISTS ${quote(shadowSchema)}`);
      for (const table of this.tables) {
        const { rows } = await run<{ exists: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS exists`, [this.shadowTable(projection, table)]);
        // Never created (or dropped): an empty shadow, as in a store without tables.
        if (!rows[0].exists) await copyTableShape(run, this.schema, shadowSchema, table);
        // The table moves with its indexes, constraints and owned sequences, under their names; the dropped table's freed them.
        await run(`DROP TABLE ${this.qualified(table)}`);
        await run(`ALTER TABLE ${this.shadowTable(projection, table)} SET SCHEMA ${quote(this.schema)}`);
      }
      // Empty now; anything else found there was not the store's, and stops the swap.
      await run(`DROP SCHEMA ${quote(shadowSchema)}`);
      const [liveKey, shadowKey] = [slotKey(live), slotKey(shadow)];
      for (const bookkeeping of [this.offsetsTable, this.deadLettersTable]) {
        await run(`DELETE FROM ${bookkeeping} WHERE projection = $1`, [liveKey]);
        await run(`UPDATE ${bookkeeping} SET projection = $1 WHERE projection = $2`, [liveKey, shadowKey]);
      }
      return { value: undefined, commit: true };
    });
  }

  async dropShadow(projection: string): Promise<void> {
    await this.prepare();
    const shadow = shadowSlot(projection);
    await this.transaction(`removal of ${describeSlot(shadow)}`, async (run) => {
      await run(`SELECT pg_advisory_xact_lock(hashtext($1), $2::int)`, lockKey(shadow));
      await run(`DROP SCHEMA IF EXISTS ${quote(this.schemaOf(shadow))} CASCADE`);
      await this.forgetSlot(run, shadow);
      return { value: undefined, commit: true };
    });
  }

  /** Ends the pool the store made from a connection string; a pool passed in is left to its owner. */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  /** Lost connections, serialization failures, deadlocks, shutdowns: worth retrying the batch. */
  isTransient(error: unknown): boolean {
    return isTransientError(error);
  }

  private writerFor(slot: ReadModelSlot, client: PoolClient): PostgresWriter & { finish(): void } {
    let finished = false;
    const run = (statement: string | QueryConfig<unknown[]>, values?: unknown[]): Promise<QueryResult> => {
      if (finished) {
        return Promise.reject(
          new InvalidOptionError(`The PostgresWriter of a ${describeSlot(slot)} batch was used after its work ended; keep every write inside the handler's await chain`),
        );
      }
      if (typeof statement === 'string') return client.query(statement, values);
      if (!statement || typeof statement !== 'object' || typeof statement.text !== 'string' || (statement.name !== undefined && typeof statement.name !== 'string')) {
        return Promise.reject(
          new InvalidOptionError(
            `PostgresWriter.query takes a statement text, or a pg QueryConfig { name?: string, text: string, values? }; got ${describeValue(statement)}`,
          ),
        );
      }
      // An empty name is pg's unnamed statement; any other is tied to the text (see PostgresWriter.query).
      return client.query(statement.name ? { ...statement, name: statementName(statement.name, statement.text) } : statement);
    };
    return {
      query: run as PostgresWriter['query'],
      prepared: <R extends QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>> => {
        if (typeof text !== 'string') {
          return Promise.reject(new InvalidOptionError(`PostgresWriter.prepared takes a statement text; got ${describeValue(text)}`));
        }
        return run({ name: PREPARED_NAME, text, values }) as Promise<QueryResult<R>>;
      },
      table: (name: string) => quote(this.tableName(name)),
      finish: () => {
        finished = true;
      },
    };
  }

  private tableName(name: string): string {
    if (!this.tables.includes(name)) throw new UnknownReadModelTableError(name, this.tables);
    return name;
  }

  /** The schema of the slot's tables: the store's for the live version, one of the projection's own for the shadow. */
  private schemaOf(slot: ReadModelSlot): string {
    return slot.version === 'live' ? this.schema : shadowSchemaName(this.schema, slot.projection);
  }

  /**
   * What the slot's transactions put before the connection's `search_path`,
   * so plain table names reach the slot's version. The shadow's path goes on
   * to the live schema, so what else the SQL names (a lookup table, a
   * function) resolves as it does live.
   */
  private searchPath(slot: ReadModelSlot): string {
    return slot.version === 'live' ? quote(this.schema) : `${quote(this.schemaOf(slot))}, ${quote(this.schema)}`;
  }

  /**
   * Refuses a transaction on a version that lacks some of the tables: plain
   * names would find them further down the search_path (a shadow's, the live
   * tables) or nowhere (every event a dead letter).
   */
  private checkPresent(slot: ReadModelSlot, present: readonly string[]): void {
    const missing = this.tables.filter((table) => !present.includes(table));
    if (missing.length > 0) throw new MissingReadModelTablesError(slot.projection, slot.version, this.schemaOf(slot), missing);
  }

  private qualified(table: string): string {
    return `${quote(this.schema)}.${quote(table)}`;
  }

  private async offsetsIn(run: Run, slot: ReadModelSlot): Promise<PartitionOffset[]> {
    const { rows } = await run<{ topic: string; partition: number; next_offset: string }>(
      `SELECT topic, partition, next_offset::text AS next_offset FROM ${this.offsetsTable} WHERE projection = $1`,
      [slotKey(slot)],
    );
    return rows.map((row) => ({ topic: row.topic, partition: row.partition, nextOffset: row.next_offset }));
  }

  private async forgetSlot(run: Run, slot: ReadModelSlot): Promise<void> {
    for (const bookkeeping of [this.offsetsTable, this.deadLettersTable]) await run(`DELETE FROM ${bookkeeping} WHERE projection = $1`, [slotKey(slot)]);
  }

  private async createBookkeeping(): Promise<void> {
    const statements = [
      `CREATE TABLE IF NOT EXISTS ${this.offsetsTable} (
         projection text NOT NULL,
         topic text NOT NULL,
         partition int NOT NULL,
         next_offset bigint NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (projection, topic, partition)
       )`,
      `CREATE TABLE IF NOT EXISTS ${this.deadLettersTable} (
         projection text NOT NULL,
         topic text NOT NULL,
         partition int NOT NULL,
         "offset" bigint NOT NULL,
         aggregate text NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (projection, topic, partition, "offset")
       )`,
    ];
    for (const statement of statements) {
      try {
        await this.pool.query(statement);
      } catch (error) {
        if (!CREATED_CONCURRENTLY.has((error as { code?: string }).code ?? '')) throw error;
      }
    }
  }

  /** A statement outside a transaction; transient failures become {@link ReadModelStoreUnavailableError}. */
  private async query<R extends QueryResultRow>(operation: string, text: string, values?: unknown[]): Promise<QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      throw this.unavailable(operation, error);
    }
  }

  /**
   * Runs `body` in a transaction on a connection of its own: BEGIN, then COMMIT
   * or ROLLBACK as the body says; ROLLBACK if it throws, passing its error on.
   * The store's own statements (through `run`) turn transient failures into
   * {@link ReadModelStoreUnavailableError}; errors of the work handed to the
   * caller's callbacks pass through unchanged. A connection that broke is
   * destroyed rather than returned to the pool.
   */
  private async transaction<T>(operation: string, body: (run: Run, client: PoolClient) => Promise<TransactionResult<T>>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.unavailable(operation, error);
    }
    // A checked-out client has no error listener; without one, a dropped connection would crash the process.
    let broken: Error | undefined;
    const onError = (error: Error) => {
      broken ??= error;
    };
    client.on('error', onError);
    const run: Run = async <R extends QueryResultRow>(text: string, values?: unknown[]) => {
      try {
        return await client.query<R>(text, values);
      } catch (error) {
        if (isConnectionLost(error)) broken ??= error as Error;
        throw this.unavailable(operation, error);
      }
    };
    try {
      await run('BEGIN');
      let result: TransactionResult<T>;
      try {
        result = await body(run, client);
      } catch (error) {
        await this.rollback(client, (error) => (broken ??= error));
        throw error;
      }
      if (result.commit) await run('COMMIT');
      else await this.rollback(client, (error) => (broken ??= error));
      return result.value;
    } finally {
      client.removeListener('error', onError);
      client.release(broken ?? false);
    }
  }

  private async rollback(client: PoolClient, onFailure: (error: Error) => void): Promise<void> {
    try {
      await client.query('ROLLBACK');
    } catch (error) {
      // The connection is unusable (or gone, which rolls back by itself): it must not go back to the pool.
      onFailure(error as Error);
    }
  }

  private unavailable(operation: string, error: unknown): unknown {
    if (error instanceof TributaryError || !isTransientError(error)) return error;
    return new ReadModelStoreUnavailableError('PostgreSQL', operation, error instanceof Error ? error.message : String(error), error);
  }
}

/**
 * Puts the schemas given as the statement's third parameter before the
 * connection's search_path, for the rest of the transaction (set_config's
 * `is_local`, as SET LOCAL; it takes parameters, SET does not).
 */
const SET_SEARCH_PATH = `set_config('search_path', concat_ws(', ', $3::text, nullif(current_setting('search_path'), '')), true)`;

/** SQL for the tables of parameter `tables` (text[]) that exist in the schema named by parameter `schema`, as an array. */
function presentTables(schema: number, tables: number): string {
  return `ARRAY(SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = $${schema}::text AND c.relname = ANY($${tables}::text[]) AND c.relkind IN ('r', 'p'))`;
}

interface DeadLetterRow {
  topic: string;
  partition: number;
  offset: string;
  aggregate: string;
}

function fromDeadLetterRow(row: DeadLetterRow): DeadLetterEntry {
  return { topic: row.topic, partition: row.partition, offset: row.offset, aggregate: row.aggregate };
}

function sameEntries(a: readonly DeadLetterEntry[], b: readonly DeadLetterEntry[]): boolean {
  const key = (entry: DeadLetterEntry) => `${entry.topic}\u0000${entry.partition}\u0000${BigInt(entry.offset)}`;
  const left = new Set(a.map(key));
  const right = new Set(b.map(key));
  return left.size === right.size && [...left].every((entry) => right.has(entry));
}

/**
 * The advisory lock of a slot: two 32-bit keys, the projection's hash and the
 * version, so the live and shadow locks of one projection can never collide
 * (swap holds the live one while catchUp takes the shadow's).
 */
function lockKey(slot: ReadModelSlot): [string, number] {
  return [`tributary.projection:${slot.projection}`, slot.version === 'live' ? 0 : 1];
}

function byPartition(a: PartitionOffset, b: PartitionOffset): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  return a.partition - b.partition;
}

/** What a wrong argument to the writer was, without its content (which may hold data). */
function describeValue(value: unknown): string {
  const kind = (of: unknown) => (of === null ? 'null' : of === undefined ? 'undefined' : typeof of);
  if (value === null || typeof value !== 'object') return kind(value);
  const { name, text } = value as { name?: unknown; text?: unknown };
  return `{ name: ${kind(name)}, text: ${kind(text)} }`;
}

function describeSlot(slot: ReadModelSlot): string {
  return `${slot.version} version of projection '${slot.projection}'`;
}

/** Whether `error` says the connection to PostgreSQL is gone. */
function isConnectionLost(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (code.startsWith('08') || code === '57P01' || code === '57P02' || TRANSIENT_SOCKET_ERRORS.has(code))) return true;
  return typeof message === 'string' && TRANSIENT_MESSAGES.test(message);
}

function isTransientError(error: unknown): boolean {
  if (error instanceof TributaryError) return error.retriable;
  if (isConnectionLost(error)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_STATES.has(code);
}
