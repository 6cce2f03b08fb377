import { checkSnapshotToSave, CorruptSnapshotCallback, CorruptSnapshotError, InvalidOptionError, Snapshot, snapshotFromRecord, SnapshotQuery, SnapshotStore, warnOfCorruptSnapshot } from '@tributary/core';
import { Pool } from 'pg';

/** Options of {@link PostgresSnapshotStore}. */
export interface PostgresSnapshotStoreOptions {
  /**
   * A `pg.Pool` the caller owns (and ends), or a connection string, from which
   * the store makes a pool of its own that {@link PostgresSnapshotStore.close} ends.
   */
  readonly connection: Pool | string;
  /**
   * The table, created on first use if missing: a name of letters, digits and
   * `_` (not starting with a digit), optionally `schema.table`. Used as written,
   * case included. Defaults to `tributary_snapshots`.
   */
  readonly table?: string;
  /** Told of each stored snapshot that cannot be read; it is then loaded as undefined. Defaults to a `console.warn` line. */
  readonly onCorrupt?: CorruptSnapshotCallback;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** SQLSTATEs of a concurrent CREATE TABLE IF NOT EXISTS that lost the race: unique_violation (on pg_type), duplicate_table. */
const CREATED_CONCURRENTLY = new Set(['23505', '42P07']);

interface SnapshotRow {
  version: string;
  position: string | null;
  state: unknown;
  shape_version: string;
  occurred_at: Date;
}

/**
 * A {@link SnapshotStore} in one PostgreSQL table keyed by aggregate type and
 * id, holding the newest snapshot of each aggregate. A save is one upsert that
 * leaves a newer row alone, so racing writers (processes included) end with
 * the highest version; a bounded load is answered in SQL, and is undefined
 * when the newest snapshot is outside the bounds (the rehydrator then replays
 * from the first event).
 *
 * The state is `jsonb`, which cannot hold the character U+0000 in strings.
 *
 * @example
 * ```ts
 * const snapshots = new PostgresSnapshotStore({ connection: process.env.DATABASE_URL! });
 * const orders = new Rehydrator({ aggregate: Order, eventStore, snapshots });
 * // …
 * await snapshots.close();
 * ```
 */
export class PostgresSnapshotStore implements SnapshotStore {
  /** The table, quoted, as it appears in statements. */
  readonly table: string;
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly onCorrupt: CorruptSnapshotCallback;
  private schemaReady?: Promise<void>;

  constructor(options: PostgresSnapshotStoreOptions) {
    if (!options || typeof options !== 'object') {
      throw new InvalidOptionError("PostgresSnapshotStore needs options: { connection: <pg.Pool or 'postgres://…' connection string> }");
    }
    const { connection } = options;
    if (typeof connection === 'string') {
      if (connection.length === 0) throw new InvalidOptionError('PostgresSnapshotStore option connection must be a non-empty connection string or a pg.Pool');
      this.pool = new Pool({ connectionString: connection });
      this.ownsPool = true;
    } else if (connection && typeof (connection as Pool).query === 'function') {
      this.pool = connection;
      this.ownsPool = false;
    } else {
      throw new InvalidOptionError("PostgresSnapshotStore option connection must be a pg.Pool or a 'postgres://…' connection string");
    }
    this.table = quoteTableName(options.table ?? 'tributary_snapshots');
    this.onCorrupt = options.onCorrupt ?? warnOfCorruptSnapshot;
  }

  /**
   * Creates the table if it does not exist. Every other method calls it on
   * first use; call it at start-up to fail early on a wrong connection.
   */
  ensureSchema(): Promise<void> {
    this.schemaReady ??= this.createTable().catch((error: unknown) => {
      // Not cached: the next call tries again (the database may come up later).
      this.schemaReady = undefined;
      throw error;
    });
    return this.schemaReady;
  }

  async save(snapshot: Snapshot): Promise<void> {
    checkSnapshotToSave(snapshot, 'PostgresSnapshotStore');
    await this.ensureSchema();
    // `<=`: the same version saved again replaces the row (a state of a new shape); an older one never does.
    await this.pool.query(
      `INSERT INTO ${this.table} AS kept (aggregate_type, aggregate_id, version, position, state, shape_version, occurred_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)
       ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET
         version = excluded.version, position = excluded.position, state = excluded.state,
         shape_version = excluded.shape_version, occurred_at = excluded.occurred_at
       WHERE kept.version <= excluded.version`,
      [
        snapshot.aggregateType,
        snapshot.aggregateId,
        snapshot.version,
        snapshot.position ?? null,
        JSON.stringify(snapshot.state),
        snapshot.shapeVersion,
        snapshot.occurredAt,
      ],
    );
  }

  async load(aggregateType: string, aggregateId: string, query: SnapshotQuery = {}): Promise<Snapshot | undefined> {
    await this.ensureSchema();
    const { rows } = await this.pool.query<SnapshotRow>(
      `SELECT version::text AS version, position, state, shape_version, occurred_at FROM ${this.table}
       WHERE aggregate_type = $1 AND aggregate_id = $2
         AND ($3::bigint IS NULL OR version <= $3::bigint)
         AND ($4::timestamptz IS NULL OR occurred_at <= $4::timestamptz)`,
      [aggregateType, aggregateId, query.maxVersion ?? null, query.asOf ?? null],
    );
    if (rows.length === 0) return undefined;
    const row = rows[0];
    try {
      return snapshotFromRecord(
        {
          version: Number(row.version),
          position: row.position,
          state: row.state,
          shapeVersion: row.shape_version,
          occurredAt: row.occurred_at,
        },
        aggregateType,
        aggregateId,
        `PostgreSQL table ${this.table}`,
      );
    } catch (error) {
      if (!(error instanceof CorruptSnapshotError)) throw error;
      this.onCorrupt(error, aggregateType, aggregateId);
      return undefined;
    }
  }

  async delete(aggregateType: string, aggregateId: string): Promise<void> {
    await this.ensureSchema();
    await this.pool.query(`DELETE FROM ${this.table} WHERE aggregate_type = $1 AND aggregate_id = $2`, [aggregateType, aggregateId]);
  }

  /** Ends the pool the store made from a connection string; a pool passed in is left to its owner. */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  private async createTable(): Promise<void> {
    try {
      await this.pool.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (
           aggregate_type text NOT NULL,
           aggregate_id text NOT NULL,
           version bigint NOT NULL,
           position text,
           state jsonb NOT NULL,
           shape_version text NOT NULL,
           occurred_at timestamptz NOT NULL,
           PRIMARY KEY (aggregate_type, aggregate_id)
         )`,
      );
    } catch (error) {
      if (!CREATED_CONCURRENTLY.has((error as { code?: string }).code ?? '')) throw error;
    }
  }
}

/** `"schema"."table"` from `schema.table`, refusing anything that is not a plain identifier. */
function quoteTableName(table: string): string {
  const parts = typeof table === 'string' ? table.split('.') : [];
  if (parts.length === 0 || parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new InvalidOptionError(
      `PostgresSnapshotStore option table must be a table name of letters, digits and '_' (not starting with a digit, ` +
        `at most 63 characters), optionally schema-qualified as schema.table; got ${JSON.stringify(table)}`,
    );
  }
  return parts.map((part) => `"${part}"`).join('.');
}
