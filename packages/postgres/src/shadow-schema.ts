import { createHash } from 'node:crypto';
import { QueryResult, QueryResultRow } from 'pg';
import { MAX_IDENTIFIER, quote } from './sql-identifiers';

/** Runs one statement inside the transaction of the operation. */
export type Run = <R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]) => Promise<QueryResult<R>>;

const SUFFIX = '-shadow';
/** Hex digits of the hash that keeps a shortened name distinct. */
const HASH_LENGTH = 16;

/**
 * The schema of a projection's shadow tables: `<schema>-<projection>-shadow`
 * (`public-order-summary-shadow`). Schema names hold no `-`, so no two pairs
 * share one. A name longer than PostgreSQL keeps is shortened and given a hash
 * of the whole.
 */
export function shadowSchemaName(schema: string, projection: string): string {
  const name = `${schema}-${projection}${SUFFIX}`;
  if (/^[\x20-\x7e]*$/.test(name) && name.length <= MAX_IDENTIFIER) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, HASH_LENGTH);
  const readable = `${schema}-${projection}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, MAX_IDENTIFIER - SUFFIX.length - HASH_LENGTH - 1);
  return `${readable}-${hash}${SUFFIX}`;
}

/**
 * Creates `table` in the schema `to`, empty, with the shape of the one in
 * `from`: `LIKE … INCLUDING ALL` (columns, defaults, identity, checks, indexes,
 * comments, statistics, storage), plus what LIKE leaves out so the copy can
 * stand alone and, once swapped in, look as the original did:
 *
 * - a `serial` column's default still calls the original's sequence, which
 *   goes when the original is dropped: the copy gets a sequence of its own,
 *   named as the original's, owned by its column (so it moves with the table);
 * - indexes LIKE names by PostgreSQL's rules get the original's names back
 *   (in their own schema they are free), so names never drift;
 * - the privileges granted on the table (readers' SELECT) are granted on the
 *   copy too, so readers keep them across a swap.
 */
export async function copyTableShape(run: Run, from: string, to: string, table: string): Promise<void> {
  const [source, target] = [`${quote(from)}.${quote(table)}`, `${quote(to)}.${quote(table)}`];
  await run(`CREATE TABLE ${target} (LIKE ${source} INCLUDING ALL)`);
  await ownSerialSequences(run, source, to, table);
  await restoreIndexNames(run, source, target, to);
  await copyGrants(run, source, target);
}

async function copyGrants(run: Run, source: string, target: string): Promise<void> {
  // Table-level privileges other than the owner's; grantee 0 is PUBLIC.
  const { rows } = await run<{ privilege: string; grantee: string | null; grantable: boolean }>(
    `SELECT acl.privilege_type AS privilege, CASE WHEN acl.grantee = 0 THEN NULL ELSE acl.grantee::regrole::text END AS grantee, acl.is_grantable AS grantable
     FROM pg_class c, aclexplode(c.relacl) acl
     WHERE c.oid = $1::regclass AND acl.grantee <> c.relowner`,
    [source],
  );
  for (const grant of rows) {
    // privilege_type is one of PostgreSQL's keywords (SELECT, INSERT, …); regrole::text is the role's name, quoted as needed.
    await run(`GRANT ${grant.privilege} ON ${target} TO ${grant.grantee ?? 'PUBLIC'}${grant.grantable ? ' WITH GRANT OPTION' : ''}`);
  }
}

interface SerialColumn {
  column: string;
  sequence: string;
  type: string;
  increment: string;
  min: string;
  max: string;
  start: string;
  cache: string;
  cycle: boolean;
}

async function ownSerialSequences(run: Run, source: string, to: string, table: string): Promise<void> {
  // Columns whose default is exactly nextval() of a sequence they own: what `serial` makes. (Identity columns LIKE copies itself.)
  const { rows } = await run<SerialColumn>(
    `SELECT a.attname AS column, sequence.relname AS sequence, format_type(s.seqtypid, NULL) AS type,
            s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max, s.seqstart::text AS start,
            s.seqcache::text AS cache, s.seqcycle AS cycle
     FROM pg_depend d
     JOIN pg_class sequence ON sequence.oid = d.objid AND sequence.relkind = 'S'
     JOIN pg_sequence s ON s.seqrelid = sequence.oid
     JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
     JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'
       AND d.refobjid = $1::regclass
       AND pg_get_expr(ad.adbin, ad.adrelid) = 'nextval(' || quote_literal(sequence.oid::regclass::text) || '::regclass)'`,
    [source],
  );
  for (const serial of rows) {
    const sequence = `${quote(to)}.${quote(serial.sequence)}`;
    await run(
      `CREATE SEQUENCE ${sequence} AS ${serial.type} INCREMENT BY ${BigInt(serial.increment)} MINVALUE ${BigInt(serial.min)} MAXVALUE ${BigInt(serial.max)}
       START WITH ${BigInt(serial.start)} CACHE ${BigInt(serial.cache)} ${serial.cycle ? 'CYCLE' : 'NO CYCLE'}
       OWNED BY ${quote(to)}.${quote(table)}.${quote(serial.column)}`,
    );
    await run(`ALTER TABLE ${quote(to)}.${quote(table)} ALTER COLUMN ${quote(serial.column)} SET DEFAULT nextval('${sequence.replace(/'/g, "''")}'::regclass)`);
  }
}

interface IndexRow {
  name: string;
  shape: string;
}

async function restoreIndexNames(run: Run, source: string, target: string, to: string): Promise<void> {
  // An index's shape: what it is, without its name or its table's (`btree (customer, placed_at)`, unique or not).
  const indexesOf = async (table: string) =>
    (
      await run<IndexRow>(
        `SELECT index.relname AS name,
                i.indisprimary::text || ' ' || i.indisunique::text || substring(pg_get_indexdef(i.indexrelid) from ' USING .*$') AS shape
         FROM pg_index i JOIN pg_class index ON index.oid = i.indexrelid
         WHERE i.indrelid = $1::regclass ORDER BY index.relname`,
        [table],
      )
    ).rows;
  const copies = await indexesOf(target);
  for (const original of await indexesOf(source)) {
    const at = copies.findIndex((copy) => copy.shape === original.shape);
    if (at < 0) continue;
    const [copy] = copies.splice(at, 1);
    if (copy.name === original.name) continue;
    const { rows } = await run<{ taken: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS taken`, [`${quote(to)}.${quote(original.name)}`]);
    if (!rows[0].taken) await run(`ALTER INDEX ${quote(to)}.${quote(copy.name)} RENAME TO ${quote(original.name)}`);
  }
}
