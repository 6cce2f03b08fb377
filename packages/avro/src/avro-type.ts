import * as avsc from 'avsc';

/*
 * How Tributary maps Avro to EventData (plain, JSON-safe data) and back.
 *
 * Supported: null, boolean, int, long (as a JS number, within ±2^52: avsc
 * writes negative longs beyond -2^52 wrongly and without a word, so both
 * directions refuse anything beyond ±2^52), float and
 * double (finite only: NaN and ±Infinity have no JSON form; -0 reads as 0), string, enum (its
 * symbol as a string), array, map (a plain object), record (a plain object),
 * unions, and the logical type timestamp-millis (an ISO-8601 string such as
 * "2024-05-01T10:00:00.000Z", which class-transformer's `@Type(() => Date)`
 * turns back into a Date). Unions of null and one other type, or of types JSON
 * tells apart, are plain values; other unions (e.g. int and long) are wrapped
 * as `{ "<branch>": value }`, avsc's `wrapUnions: 'auto'`.
 *
 * Not supported in declared schemas: bytes and fixed (a Buffer is not JSON).
 * Other logical types are read as their underlying type (e.g. `date` as an int).
 */

/** timestamp-millis as the ISO string EventData carries; a Date is accepted on writes too. */
class TimestampMillisAsIsoString extends avsc.types.LogicalType {
  protected override _fromValue(value: number): string {
    return new Date(value).toISOString();
  }

  protected override _toValue(value: unknown): number | undefined {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
    if (typeof value !== 'string') return undefined;
    const millis = Date.parse(value);
    return Number.isNaN(millis) ? undefined : millis;
  }

  protected override _resolve(type: avsc.Type): ((value: unknown) => unknown) | undefined {
    // A plain long written earlier (the field gained the logical type later) reads as the instant it holds.
    if (avsc.Type.isType(type, 'long', 'logical:timestamp-millis')) return (value) => this._fromValue(value as number);
    return undefined;
  }
}


/**
 * Parses a schema with Tributary's logical types. A string is the schema's JSON
 * text, as registries hold it; for a declared schema that is a bare type name
 * (`@AvroSchema('string')`) use {@link parseDeclaredSchema}.
 */
export function parseAvroType(schema: avsc.Schema | string): avsc.Type {
  return parseDeclaredSchema(typeof schema === 'string' ? (JSON.parse(schema) as avsc.Schema) : schema);
}

/** Parses a schema as declared in `@AvroSchema`: JSON as an object, or a type name. */
export function parseDeclaredSchema(parsed: avsc.Schema): avsc.Type {
  // Fresh options each time: avsc keeps the named types it has seen in `opts.registry`, and one shared
  // registry would refuse the second version of a record as a duplicate name.
  return avsc.Type.forSchema(parsed, { logicalTypes: { 'timestamp-millis': TimestampMillisAsIsoString }, wrapUnions: 'auto' });
}

/**
 * The text Tributary registers for a type. Registries match schemas by text
 * (Apicurio gives whitespace variants of one schema different ids), so every
 * process must send the same text for the same schema: avsc's export with the
 * attributes resolution needs (defaults, aliases, logical types, order).
 */
export function schemaText(type: avsc.Type): string {
  return JSON.stringify(type.schema({ exportAttrs: true }));
}

/** Where a declared schema uses a type EventData cannot carry, e.g. `['fields.photo (bytes)']`. */
export function unsupportedTypes(type: avsc.Type): string[] {
  const found: string[] = [];
  const seen = new Set<avsc.Type>();
  const visit = (current: avsc.Type, path: string): void => {
    if (seen.has(current)) return;
    const name = current.typeName;
    if (name === 'bytes' || name === 'fixed') {
      found.push(`${path || '(record)'} (${name})`);
      return;
    }
    if (current.name !== undefined) seen.add(current);
    if (name === 'record' || name === 'error') {
      for (const field of (current as avsc.types.RecordType).fields) visit(field.type, join(path, `fields.${field.name}`));
    } else if (name === 'array') visit((current as avsc.types.ArrayType).itemsType, join(path, 'items'));
    else if (name === 'map') visit((current as avsc.types.MapType).valuesType as avsc.Type, join(path, 'values'));
    else if (name.startsWith('union:')) {
      for (const branch of (current as avsc.types.UnwrappedUnionType).types) visit(branch, path);
    } else if (name.startsWith('logical:')) visit((current as avsc.types.LogicalType).underlyingType, path);
  };
  visit(type, '');
  return found;
}

/** The largest long magnitude Tributary writes or reads; avsc's zig-zag arithmetic is exact up to here. */
export const LONG_LIMIT = 2 ** 52;

/**
 * Paths of longs (timestamp-millis included) beyond ±{@link LONG_LIMIT} in a
 * value that is otherwise valid for the type: avsc would write them wrongly.
 */
export function longsOutOfRange(type: avsc.Type, value: unknown, path = ''): string[] {
  const name = type.typeName;
  if (name === 'long') return typeof value === 'number' && Math.abs(value) > LONG_LIMIT ? [path] : [];
  if (name === 'logical:timestamp-millis') {
    const millis = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : NaN;
    return Math.abs(millis) > LONG_LIMIT ? [path] : [];
  }
  if (value === null || typeof value !== 'object') return [];
  if (name === 'record' || name === 'error') {
    return (type as avsc.types.RecordType).fields.flatMap((field) =>
      longsOutOfRange(field.type, (value as Record<string, unknown>)[field.name], join(path, field.name)),
    );
  }
  if (name === 'array' && Array.isArray(value)) {
    return value.flatMap((item, index) => longsOutOfRange((type as avsc.types.ArrayType).itemsType, item, join(path, String(index))));
  }
  if (name === 'map') {
    const values = (type as avsc.types.MapType).valuesType as avsc.Type;
    return Object.entries(value).flatMap(([key, entry]) => longsOutOfRange(values, entry, join(path, key)));
  }
  if (name === 'union:unwrapped') {
    const branch = (type as avsc.types.UnwrappedUnionType).types.find((candidate) => candidate.typeName !== 'null' && candidate.isValid(value));
    return branch ? longsOutOfRange(branch, value, path) : [];
  }
  if (name === 'union:wrapped') {
    const [branchName] = Object.keys(value);
    const branch = (type as avsc.types.WrappedUnionType).types.find((candidate) => candidate.branchName === branchName);
    return branch && branchName !== undefined ? longsOutOfRange(branch, (value as Record<string, unknown>)[branchName], join(path, branchName)) : [];
  }
  return [];
}

function join(path: string, segment: string): string {
  return path ? `${path}.${segment}` : segment;
}

/**
 * avsc's decoded value (record class instances, wrapped union instances) as
 * plain EventData. Walks the reader type, so only declared fields come out.
 * Throws on values JSON cannot carry.
 */
export function toPlainValue(type: avsc.Type, value: unknown): unknown {
  const name = type.typeName;
  switch (name) {
    case 'null':
    case 'boolean':
    case 'int':
    case 'long':
    case 'string':
    case 'enum':
      return value;
    case 'float':
    case 'double':
      if (!Number.isFinite(value)) throw new Error(`a ${name} holds ${String(value)}, which JSON cannot carry`);
      // JSON has no negative zero either; make it 0 here rather than differ after a JSON round trip.
      return Object.is(value, -0) ? 0 : value;
    case 'record':
    case 'error': {
      const plain: Record<string, unknown> = {};
      const source = value as Record<string, unknown>;
      for (const field of (type as avsc.types.RecordType).fields) define(plain, field.name, toPlainValue(field.type, source[field.name]));
      return plain;
    }
    case 'array': {
      const items = (type as avsc.types.ArrayType).itemsType;
      return (value as unknown[]).map((item) => toPlainValue(items, item));
    }
    case 'map': {
      const values = (type as avsc.types.MapType).valuesType as avsc.Type;
      const plain: Record<string, unknown> = {};
      for (const [key, entry] of Object.entries(value as Record<string, unknown>)) define(plain, key, toPlainValue(values, entry));
      return plain;
    }
    case 'union:unwrapped': {
      if (value === null) return null;
      const branch = (type as avsc.types.UnwrappedUnionType).types.find((candidate) => candidate.typeName !== 'null' && candidate.isValid(value));
      if (!branch) throw new Error(`a union value fits none of its branches`);
      return toPlainValue(branch, value);
    }
    case 'union:wrapped': {
      if (value === null) return null;
      const [branchName] = Object.keys(value as object);
      const branch = (type as avsc.types.WrappedUnionType).types.find((candidate) => candidate.branchName === branchName);
      if (!branch || branchName === undefined) throw new Error(`a union value names no branch of the union`);
      const plain: Record<string, unknown> = {};
      define(plain, branchName, toPlainValue(branch, (value as Record<string, unknown>)[branchName]));
      return plain;
    }
    case 'logical:timestamp-millis':
      return value;
    default:
      // bytes and fixed never reach here from a declared (reader) schema; the catalog refuses them.
      throw new Error(`Avro type ${name} has no JSON form in EventData`);
  }
}

// A plain assignment of the key "__proto__" would set the prototype instead of a property.
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty costs an order of magnitude more than an assignment: keep it for the one key that needs it.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
