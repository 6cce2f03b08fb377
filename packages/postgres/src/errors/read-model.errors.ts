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
