import * as avsc from 'avsc';
import { CompatibilityLevel } from './compatibility-level';
import { parseAvroType } from './avro-type';

/** One reason a schema breaks a compatibility level, naming the field and the rule. */
export interface CompatibilityIssue {
  /** Where in the schema, e.g. `fields.customerId` or `fields.address.fields.street`; '' for the record itself. */
  readonly path: string;
  /** The broken rule, e.g. `READER_FIELD_MISSING_DEFAULT`, `TYPE_MISMATCH`, `NAME_MISMATCH`. */
  readonly rule: string;
  readonly message: string;
}

/**
 * The rules {@link schemaCompatibilityIssues} reports, after the Avro
 * specification's schema resolution (the rules registries apply).
 */
export const COMPATIBILITY_RULES = Object.freeze({
  /** The reader has a field the writer lacks, and no default for it. */
  READER_FIELD_MISSING_DEFAULT: 'READER_FIELD_MISSING_DEFAULT',
  /** The types differ and no promotion (int→long→float→double, string↔bytes) turns one into the other. */
  TYPE_MISMATCH: 'TYPE_MISMATCH',
  /** A record, enum or fixed is renamed without an alias for the old name. */
  NAME_MISMATCH: 'NAME_MISMATCH',
  /** The writer has enum symbols the reader lacks, and the reader's enum has no default. */
  MISSING_ENUM_SYMBOLS: 'MISSING_ENUM_SYMBOLS',
  /** A fixed type changed its size. */
  FIXED_SIZE_MISMATCH: 'FIXED_SIZE_MISMATCH',
  /** A value the writer may write fits no branch of the reader's union. */
  MISSING_UNION_BRANCH: 'MISSING_UNION_BRANCH',
  /** avsc refuses to resolve the pair although the rules above found nothing. */
  RESOLVER_REFUSED: 'RESOLVER_REFUSED',
});

const PROMOTIONS: Readonly<Record<string, readonly string[]>> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

/**
 * Why `candidate` may not join a subject whose schemas are `existing` (oldest
 * first) under a compatibility level, field by field: registries only say yes
 * or no (Apicurio names a JSON path at best). Empty when it may. Each finding
 * is confirmed against avsc's `createResolver`, the resolver that will decode.
 *
 * @example
 * ```ts
 * const issues = schemaCompatibilityIssues('BACKWARD_TRANSITIVE', v3, [v1, v2]);
 * // [{ path: 'fields.customerId', rule: 'READER_FIELD_MISSING_DEFAULT',
 * //    message: 'the new schema reads field customerId, which existing schema 1 (of 2, oldest first) does not write, and gives it no default' }]
 * ```
 */
export function schemaCompatibilityIssues(
  level: CompatibilityLevel,
  candidate: avsc.Type | string,
  existing: readonly (avsc.Type | string)[],
): CompatibilityIssue[] {
  if (level === 'NONE' || existing.length === 0) return [];
  const next = typeOf(candidate);
  const earlier = existing.map(typeOf);
  const against = level.endsWith('_TRANSITIVE') ? earlier.map((_, index) => index) : [earlier.length - 1];
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');

  const issues: CompatibilityIssue[] = [];
  for (const index of against) {
    const old = earlier[index]!;
    const label = `existing schema ${index + 1} (of ${earlier.length}, oldest first)`;
    if (backward) issues.push(...resolutionIssues(next, old, { reader: 'the new schema', writer: label }));
    if (forward) issues.push(...resolutionIssues(old, next, { reader: label, writer: 'the new schema' }));
  }
  return dedupe(issues);
}

interface Roles {
  readonly reader: string;
  readonly writer: string;
}

function resolutionIssues(reader: avsc.Type, writer: avsc.Type, roles: Roles): CompatibilityIssue[] {
  const issues: CompatibilityIssue[] = [];
  check(reader, writer, '', roles, issues, new Set());
  if (issues.length === 0) {
    try {
      reader.createResolver(writer);
    } catch (error) {
      issues.push({
        path: '',
        rule: COMPATIBILITY_RULES.RESOLVER_REFUSED,
        message: `avsc cannot resolve ${roles.writer} to ${roles.reader}: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  return issues;
}

function check(reader: avsc.Type, writer: avsc.Type, path: string, roles: Roles, issues: CompatibilityIssue[], seen: Set<string>): void {
  reader = underlying(reader);
  writer = underlying(writer);
  const readerKind = kind(reader);
  const writerKind = kind(writer);

  if (writerKind === 'union') {
    // Every branch the writer may have used must be readable.
    for (const branch of (writer as avsc.types.UnwrappedUnionType).types) check(reader, branch, path, roles, issues, seen);
    return;
  }
  if (readerKind === 'union') {
    const branches = (reader as avsc.types.UnwrappedUnionType).types;
    const fits = branches.some((branch) => {
      const found: CompatibilityIssue[] = [];
      check(branch, writer, path, roles, found, new Set(seen));
      return found.length === 0;
    });
    if (!fits) {
      issues.push({
        path,
        rule: COMPATIBILITY_RULES.MISSING_UNION_BRANCH,
        message: `${roles.writer} writes ${describe(writer)} at ${where(path)}, which fits no branch of ${roles.reader}'s union ${describe(reader)}`,
      });
    }
    return;
  }
  if (readerKind !== writerKind) {
    if (!(PROMOTIONS[writerKind] ?? []).includes(readerKind)) {
      issues.push({
        path,
        rule: COMPATIBILITY_RULES.TYPE_MISMATCH,
        message: `${roles.writer} writes ${describe(writer)} at ${where(path)}, but ${roles.reader} reads ${describe(reader)}; change the type only along int→long→float→double or string↔bytes`,
      });
    }
    return;
  }

  if (reader.name !== undefined && writer.name !== undefined && !namesMatch(reader, writer)) {
    issues.push({
      path,
      rule: COMPATIBILITY_RULES.NAME_MISMATCH,
      message: `${roles.writer} names the ${readerKind} at ${where(path)} ${writer.name}, ${roles.reader} ${reader.name}; add "aliases": ["${writer.name}"] to the reader`,
    });
    return;
  }

  switch (readerKind) {
    case 'record': {
      const key = `${reader.name}<-${writer.name}`;
      if (seen.has(key)) return; // a recursive record: this pair is being checked further up
      seen.add(key);
      const writerFields = (writer as avsc.types.RecordType).fields;
      for (const field of (reader as avsc.types.RecordType).fields) {
        const fieldPath = path ? `${path}.fields.${field.name}` : `fields.${field.name}`;
        const names = [field.name, ...(field.aliases ?? [])];
        const source = writerFields.find((candidate) => names.includes(candidate.name));
        if (source) check(field.type, source.type, fieldPath, roles, issues, seen);
        else if (field.defaultValue() === undefined) {
          issues.push({
            path: fieldPath,
            rule: COMPATIBILITY_RULES.READER_FIELD_MISSING_DEFAULT,
            message: `${roles.reader} reads field ${field.name}, which ${roles.writer} does not write, and gives it no default`,
          });
        }
      }
      return;
    }
    case 'enum': {
      const readerSymbols = (reader as avsc.types.EnumType).symbols;
      const missing = (writer as avsc.types.EnumType).symbols.filter((symbol) => !readerSymbols.includes(symbol));
      const readerDefault = (reader as unknown as { default?: string }).default;
      if (missing.length > 0 && readerDefault === undefined) {
        issues.push({
          path,
          rule: COMPATIBILITY_RULES.MISSING_ENUM_SYMBOLS,
          message: `${roles.writer} may write ${missing.join(', ')} at ${where(path)}, which ${roles.reader}'s enum ${reader.name} lacks; keep the symbols or give the enum a default`,
        });
      }
      return;
    }
    case 'fixed': {
      const readerSize = (reader as avsc.types.FixedType).size;
      const writerSize = (writer as avsc.types.FixedType).size;
      if (readerSize !== writerSize) {
        issues.push({
          path,
          rule: COMPATIBILITY_RULES.FIXED_SIZE_MISMATCH,
          message: `${roles.writer} writes ${writerSize} bytes at ${where(path)}, ${roles.reader} reads ${readerSize}`,
        });
      }
      return;
    }
    case 'array':
      check((reader as avsc.types.ArrayType).itemsType, (writer as avsc.types.ArrayType).itemsType, `${path}.items`.replace(/^\./, ''), roles, issues, seen);
      return;
    case 'map':
      check(
        (reader as avsc.types.MapType).valuesType as avsc.Type,
        (writer as avsc.types.MapType).valuesType as avsc.Type,
        `${path}.values`.replace(/^\./, ''),
        roles,
        issues,
        seen,
      );
      return;
    default:
      return; // the same primitive
  }
}

function typeOf(schema: avsc.Type | string): avsc.Type {
  return typeof schema === 'string' ? parseAvroType(schema) : schema;
}

/** Logical types resolve by their underlying types. */
function underlying(type: avsc.Type): avsc.Type {
  return type.typeName.startsWith('logical:') ? (type as avsc.types.LogicalType).underlyingType : type;
}

function kind(type: avsc.Type): string {
  const name = type.typeName;
  if (name.startsWith('union:')) return 'union';
  return name === 'error' ? 'record' : name;
}

function namesMatch(reader: avsc.Type, writer: avsc.Type): boolean {
  return reader.name === writer.name || (reader.aliases ?? []).includes(writer.name!);
}

function describe(type: avsc.Type): string {
  if (kind(type) === 'union') return `[${(type as avsc.types.UnwrappedUnionType).types.map(describe).join(', ')}]`;
  return type.name ?? type.typeName;
}

function where(path: string): string {
  return path || 'the top';
}

function dedupe(issues: CompatibilityIssue[]): CompatibilityIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.rule}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
