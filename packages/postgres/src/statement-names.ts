import { createHash } from 'node:crypto';

/** PostgreSQL keeps the first 63 bytes of a prepared statement's name: names must differ within them. */
const MAX_NAME_BYTES = 63;
/** Hex digits of the hash in a name: 96 bits. */
const HASH_LENGTH = 24;
/** Room for the readable part of a name, before `_<hash>`. */
const READABLE_LENGTH = MAX_NAME_BYTES - 1 - HASH_LENGTH;
/** The name part of statements that {@link PostgresWriter.prepared} names. */
export const PREPARED_NAME = 'tributary';
/** Memo of derived names; cleared when full, so statements built from values cannot grow it without bound. */
const MAX_REMEMBERED = 1024;
const remembered = new Map<string, string>();

/**
 * The name under which a statement named `name` with text `text` is prepared:
 * `name` cut to letters, digits and `_` (readable in `pg_prepared_statements`),
 * then a hash of both, so that different texts never share a name on a
 * connection (pg refuses that) and the whole stays within PostgreSQL's 63 bytes.
 */
export function statementName(name: string, text: string): string {
  const key = `${name}\u0000${text}`;
  let derived = remembered.get(key);
  if (derived === undefined) {
    const hash = createHash('sha256').update(key).digest('hex').slice(0, HASH_LENGTH);
    derived = `${name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, READABLE_LENGTH)}_${hash}`;
    if (remembered.size >= MAX_REMEMBERED) remembered.clear();
    remembered.set(key, derived);
  }
  return derived;
}
