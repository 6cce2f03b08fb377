/** Names the store accepts for schemas and tables: plain identifiers, so none needs escaping and none can carry SQL. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** PostgreSQL truncates identifiers longer than this many bytes: names must stay within it to stay distinct. */
export const MAX_IDENTIFIER = 63;

/** An identifier, quoted: used as written, case included. */
export function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
