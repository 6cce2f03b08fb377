import { QueryArrayConfig, QueryArrayResult, QueryConfig, QueryResult, QueryResultRow } from 'pg';

/**
 * What projection handlers on a {@link PostgresReadModelStore} write through:
 * the client of the batch's transaction.
 *
 * SQL names the read model's tables as they are named, without a schema, and
 * the same SQL serves the live version and a rebuild: each transaction puts
 * the schema of the version it writes first on its `search_path` (the store's
 * schema live, the shadow's schema in a rebuild, whose tables have the same
 * names). So a statement may name its own table, as an upsert that adds to a
 * row does (`order_summary.total` below). Write only the tables listed in the
 * store's `tables` option: only those have a shadow version and move on a swap.
 *
 * The writer is only valid while the batch's work runs; a query after that is
 * refused (it would run outside the transaction).
 *
 * Statements run unnamed by default: PostgreSQL parses and plans each one
 * anew. A handler that runs the same statement for many events can have it
 * prepared once per connection instead, which is markedly faster for small
 * upserts: pass a pg `QueryConfig` with a `name` to {@link PostgresWriter.query},
 * or let {@link PostgresWriter.prepared} name it.
 *
 * @example
 * ```ts
 * async onItemAdded(event: ItemAdded, writer: PostgresWriter) {
 *   await writer.query(
 *     `INSERT INTO order_summary (order_id, total) VALUES ($1, $2)
 *      ON CONFLICT (order_id) DO UPDATE SET total = order_summary.total + EXCLUDED.total`,
 *     [event.orderId, event.price],
 *   );
 * }
 * ```
 */
export interface PostgresWriter {
  /** Runs a statement, unnamed, in the batch's transaction. */
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  /** As {@link PostgresWriter.query} with a `QueryConfig`, with rows as arrays of values (`rowMode: 'array'`). */
  query<R extends unknown[] = unknown[]>(config: QueryArrayConfig<unknown[]>): Promise<QueryArrayResult<R>>;
  /**
   * Runs a statement given as a pg `QueryConfig` in the batch's transaction;
   * with a `name`, as a prepared statement: parsed once per pooled connection,
   * then only executed.
   *
   * The same text serves the live and the shadow version: PostgreSQL parses
   * a prepared statement again when it runs under another `search_path`. pg
   * refuses a name used on one connection for a different text, so the writer
   * never sends `name` as given: it sends `name` (letters, digits and `_`
   * kept, cut short) followed by a hash of `name` and `text`, within
   * PostgreSQL's 63 bytes. Any name may then be reused across handlers: each
   * distinct text gets a statement of its own. Do not `EXECUTE` or
   * `DEALLOCATE` a statement by the name you gave.
   *
   * Named statements need `text` (pg's name-only form, executing a statement
   * prepared earlier, is refused), and should be built only from constants,
   * never from values: each distinct text stays
   * prepared on every connection that ran it, for as long as the connection
   * lives. List the columns of `RETURNING` rather than `*`: PostgreSQL refuses
   * to run a prepared statement whose result columns changed since (after a
   * migration of the table).
   *
   * @example
   * ```ts
   * async onItemAdded(event: ItemAdded, writer: PostgresWriter) {
   *   await writer.query({
   *     name: 'order-summary-add-item',
   *     text: `INSERT INTO order_summary (order_id, total) VALUES ($1, $2)
   *            ON CONFLICT (order_id) DO UPDATE SET total = order_summary.total + EXCLUDED.total`,
   *     values: [event.orderId, event.price],
   *   });
   * }
   * ```
   */
  query<R extends QueryResultRow = QueryResultRow>(config: QueryConfig<unknown[]>): Promise<QueryResult<R>>;
  /**
   * Runs a statement as a prepared statement, named by the writer from a hash
   * of its text: as `query({ name, text, values })`, without a name to choose.
   * The same caveats hold: build `text` only from constants, and pass every
   * value in `values`.
   *
   * @example
   * ```ts
   * async onOrderPlaced(event: OrderPlaced, writer: PostgresWriter) {
   *   await writer.prepared(
   *     `INSERT INTO order_summary (order_id, items) VALUES ($1, 1)
   *      ON CONFLICT (order_id) DO UPDATE SET items = order_summary.items + 1`,
   *     [event.orderId],
   *   );
   * }
   * ```
   */
  prepared<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  /**
   * The quoted name of one of the store's tables, `"order_summary"`, the same
   * live and in a rebuild (the transaction's `search_path` picks the version).
   * Not needed to name a table; it checks the name, for SQL built from names.
   *
   * @throws UnknownReadModelTableError if `name` is not in the store's `tables` option.
   */
  table(name: string): string;
}
