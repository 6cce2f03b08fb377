import { ConfigurationError } from '@tributary/core';

/**
 * A projection handler asked its {@link PostgresWriter} for a table the
 * {@link PostgresReadModelStore} does not own: only tables named in its
 * `tables` option get a shadow version and move on a swap, so writing any other
 * would escape rebuilds.
 *
 * @example
 * ```ts
 * // new PostgresReadModelStore({ pool, tables: ['order_summary'] })
 * writer.table('order_summaries'); // throws UnknownReadModelTableError
 * ```
 */
export class UnknownReadModelTableError extends ConfigurationError {
  static readonly code = 'UNKNOWN_READ_MODEL_TABLE';
  constructor(
    readonly table: string,
    readonly known: readonly string[],
  ) {
    super(
      `Read model table ${JSON.stringify(table)} is not one of the store's tables (${known.map((name) => JSON.stringify(name)).join(', ')}); ` +
        `add it to the tables option of the PostgresReadModelStore of this projection, or fix the name`,
      UnknownReadModelTableError.code,
    );
  }
}

/**
 * A version of a projection's read model lacks tables its
 * {@link PostgresReadModelStore} owns, so its transaction is refused before
 * any handler runs: the live tables were not created (the application's
 * migrations make them), or the shadow is gone (dropped, or swapped in) while
 * a rebuild still writes it. Handlers name the tables plainly, and the
 * transaction's `search_path` would otherwise lead them elsewhere: a shadow's
 * SQL to the live tables.
 */
export class MissingReadModelTablesError extends ConfigurationError {
  static readonly code = 'MISSING_READ_MODEL_TABLES';
  constructor(
    readonly projection: string,
    readonly version: 'live' | 'shadow',
    readonly schema: string,
    readonly missing: readonly string[],
  ) {
    const tables = missing.map((name) => JSON.stringify(name)).join(', ');
    super(
      version === 'live'
        ? `Read model table(s) ${tables} of projection '${projection}' are not in schema ${JSON.stringify(schema)}; create them (in the migrations) before the projection runs`
        : `The shadow of projection '${projection}' has no table(s) ${tables} in schema ${JSON.stringify(schema)}: it was dropped or swapped in. ` +
            `A rebuild makes it with createShadow('${projection}') before writing it`,
      MissingReadModelTablesError.code,
    );
  }
}
