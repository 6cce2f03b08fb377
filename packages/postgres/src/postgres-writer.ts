import { QueryArrayConfig, QueryArrayResult, QueryConfig, QueryResult, QueryResultRow } from 'pg';

/**
 * What projection handlers on a {@link PostgresReadModelStore} write through:
 * the client of the batch's transaction, and the names of the read model's
 * tables in the version being written. Always name tables through
 * {@link PostgresWriter.table}: a rebuild writes the same handler code into
 * shadow tables.
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
 * async onOrderPlaced(event: OrderPlaced, writer: PostgresWriter) {
 *   await writer.query(
 *     `INSERT INTO ${writer.table('order_summary')} (order_id, total) VALUES ($1, $2)
 *      ON CONFLICT (order_id) DO UPDATE SET total = excluded.total`,
 *     [event.orderId, event.total],
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
   * The text of a statement usually holds {@link PostgresWriter.table}, which
   * differs between the live and the shadow version, and pg refuses a name
   * used on one connection for a different text. So the writer never sends
   * `name` as given: it sends `name` (letters, digits and `_` kept, cut short)
   * followed by a hash of `name` and `text`, within PostgreSQL's 63 bytes.
   * One name may then serve the live and the shadow version of a statement,
   * and any name may be reused across handlers: each distinct text gets a
   * statement of its own. Do not `EXECUTE` or `DEALLOCATE` a statement by
   * the name you gave.
   *
   * Named statements need `text` (pg's name-only form, executing a statement
   * prepared earlier, is refused), and should be built only from constants and
   * {@link PostgresWriter.table}, never from values: each distinct text stays
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
   *     text: `INSERT INTO ${writer.table('order_summary')} (order_id, total) VALUES ($1, $2)
   *            ON CONFLICT (order_id) DO UPDATE SET total = order_summary.total + excluded.total`,
   *     values: [event.orderId, event.price],
   *   });
   * }
   * ```
   */
  query<R extends QueryResultRow = QueryResultRow>(config: QueryConfig<unknown[]>): Promise<QueryResult<R>>;
  /**
   * Runs a statement as a prepared statement, named by the writer from a hash
   * of its text: as `query({ name, text, values })`, without a name to choose.
   * The same caveats hold: build `text` only from constants and
   * {@link PostgresWriter.table}, and pass every value in `values`.
   *
   * @example
   * ```ts
   * async onOrderPlaced(event: OrderPlaced, writer: PostgresWriter) {
   *   await writer.prepared(
   *     `INSERT INTO ${writer.table('order_summary')} (order_id, total) VALUES ($1, $2)
   *      ON CONFLICT (order_id) DO UPDATE SET total = excluded.total`,
   *     [event.orderId, event.total],
   *   );
   * }
   * ```
   */
  prepared<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  /**
   * The quoted, schema-qualified identifier of a table in the version being
   * written: `"public"."order_summary"` live, `"public"."order_summary__shadow"` in a rebuild.
   *
   * @throws UnknownReadModelTableError if `name` is not in the store's `tables` option.
   */
  table(name: string): string;
}
