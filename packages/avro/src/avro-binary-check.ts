import type * as avsc from 'avsc';

/*
 * A strict structural check of Avro binary data against the writer's schema,
 * run before avsc decodes it. avsc trusts the data it decodes: a corrupt block
 * count makes it loop or allocate for billions of items before it notices the
 * buffer ran out, map keys named "__proto__" vanish into the prototype, and
 * invalid UTF-8 or a boolean byte of 7 decode without complaint. Read events
 * may be corrupt, so each of these becomes an error here instead.
 */

/** Most items a block of zero-byte items (null, empty records) may claim: they cost no bytes, so nothing else bounds them. */
const MAX_ZERO_SIZE_ITEMS = 1_000_000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Throws an Error saying what is wrong and where, when `bytes` is not exactly one value of `type`. */
export function checkAvroBinary(type: avsc.Type, bytes: Uint8Array): void {
  const reader = new BinaryReader(bytes);
  reader.value(type, '');
  if (reader.position !== bytes.length) throw new Error(`${bytes.length - reader.position} trailing byte(s) after the value`);
}

class BinaryReader {
  position = 0;
  private readonly minimumSizes = new Map<avsc.Type, number>();

  constructor(private readonly bytes: Uint8Array) {}

  value(type: avsc.Type, path: string): void {
    const name = type.typeName;
    switch (name) {
      case 'null':
        return;
      case 'boolean': {
        const byte = this.take(1, path)[0];
        if (byte !== 0 && byte !== 1) throw new Error(`boolean byte ${byte} at ${where(path)} is neither 0 nor 1`);
        return;
      }
      case 'int': {
        const int = this.varint(path);
        if (int < -(2 ** 31) || int >= 2 ** 31) throw new Error(`int ${int} at ${where(path)} is out of range`);
        return;
      }
      case 'long': {
        // Beyond ±2^52 avsc's arithmetic is inexact: refuse rather than read a neighbouring number.
        const long = this.varint(path);
        if (Math.abs(long) > 2 ** 52) throw new Error(`long at ${where(path)} is beyond ±2^52, which Tributary does not read`);
        return;
      }
      case 'float':
        this.take(4, path);
        return;
      case 'double':
        this.take(8, path);
        return;
      case 'bytes':
        this.take(this.length(path), path);
        return;
      case 'string':
        this.string(path);
        return;
      case 'fixed':
        this.take((type as avsc.types.FixedType).size, path);
        return;
      case 'enum': {
        const index = this.varint(path);
        const symbols = (type as avsc.types.EnumType).symbols;
        if (index < 0 || index >= symbols.length) throw new Error(`enum index ${index} at ${where(path)} is not one of ${symbols.length} symbols`);
        return;
      }
      case 'array': {
        const items = (type as avsc.types.ArrayType).itemsType;
        this.blocks(items, path, () => this.value(items, `${path}[]`));
        return;
      }
      case 'map': {
        const values = (type as avsc.types.MapType).valuesType as avsc.Type;
        this.blocks(values, path, () => {
          const key = this.string(path);
          if (key === '__proto__') throw new Error(`map key "__proto__" at ${where(path)} is not supported`);
          this.value(values, `${path}.${key}`);
        });
        return;
      }
      case 'record':
      case 'error':
        for (const field of (type as avsc.types.RecordType).fields) this.value(field.type, path ? `${path}.${field.name}` : field.name);
        return;
      case 'union:unwrapped':
      case 'union:wrapped': {
        const branches = (type as avsc.types.UnwrappedUnionType).types;
        const index = this.varint(path);
        const branch = branches[index];
        if (index < 0 || branch === undefined) throw new Error(`union branch ${index} at ${where(path)} is not one of ${branches.length}`);
        this.value(branch, path);
        return;
      }
      default:
        if (name.startsWith('logical:')) {
          this.value((type as avsc.types.LogicalType).underlyingType, path);
          return;
        }
        throw new Error(`cannot check Avro type ${name}`);
    }
  }

  private blocks(itemType: avsc.Type, path: string, readItem: () => void): void {
    const itemSize = this.minimumSize(itemType);
    let zeroSizeItems = 0;
    for (;;) {
      let count = this.varint(path);
      if (count === 0) return;
      if (count < 0) {
        // A negative count is followed by the block's size in bytes.
        count = -count;
        const size = this.varint(path);
        if (size < 0 || size > this.remaining) throw new Error(`block size ${size} at ${where(path)} exceeds the ${this.remaining} byte(s) left`);
      }
      if (itemSize > 0 && count * itemSize > this.remaining) {
        throw new Error(`block of ${count} item(s) at ${where(path)} cannot fit in the ${this.remaining} byte(s) left`);
      }
      if (itemSize === 0 && (zeroSizeItems += count) > MAX_ZERO_SIZE_ITEMS) {
        throw new Error(`more than ${MAX_ZERO_SIZE_ITEMS} empty items at ${where(path)}`);
      }
      for (let i = 0; i < count; i += 1) readItem();
    }
  }

  private get remaining(): number {
    return this.bytes.length - this.position;
  }

  private take(length: number, path: string): Uint8Array {
    if (length > this.remaining) throw new Error(`truncated at ${where(path)}: needs ${length} byte(s), ${this.remaining} left`);
    const slice = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return slice;
  }

  private length(path: string): number {
    const length = this.varint(path);
    if (length < 0) throw new Error(`negative length ${length} at ${where(path)}`);
    return length;
  }

  private string(path: string): string {
    const bytes = this.take(this.length(path), path);
    try {
      return utf8.decode(bytes);
    } catch {
      throw new Error(`string at ${where(path)} is not valid UTF-8`);
    }
  }

  /** A zig-zag varint of at most 10 bytes, in its shortest form (writers never pad; padding here means corruption). */
  private varint(path: string): number {
    let unsigned = 0;
    for (let index = 0; ; index += 1) {
      if (this.position >= this.bytes.length) throw new Error(`truncated varint at ${where(path)}`);
      const byte = this.bytes[this.position++]!;
      if (index === 9 && byte > 1) throw new Error(`varint beyond 64 bits at ${where(path)}`);
      unsigned += (byte & 0x7f) * 2 ** (7 * index);
      if ((byte & 0x80) === 0) {
        if (byte === 0 && index > 0) throw new Error(`over-long varint at ${where(path)}`);
        break;
      }
      if (index === 9) throw new Error(`varint longer than 10 bytes at ${where(path)}`);
    }
    // Zig-zag: even numbers are non-negative. Exact below 2^53, which is all a count or an index can be.
    return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
  }

  private minimumSize(type: avsc.Type, visiting = new Set<avsc.Type>()): number {
    const known = this.minimumSizes.get(type);
    if (known !== undefined) return known;
    if (visiting.has(type)) return 0;
    visiting.add(type);
    const name = type.typeName;
    let size: number;
    if (name === 'null') size = 0;
    else if (name === 'float') size = 4;
    else if (name === 'double') size = 8;
    else if (name === 'fixed') size = (type as avsc.types.FixedType).size;
    else if (name === 'record' || name === 'error') {
      size = (type as avsc.types.RecordType).fields.reduce((sum, field) => sum + this.minimumSize(field.type, visiting), 0);
    } else if (name.startsWith('logical:')) size = this.minimumSize((type as avsc.types.LogicalType).underlyingType, visiting);
    else size = 1; // boolean, int, long, bytes, string, enum, array, map, union: at least one byte
    visiting.delete(type);
    this.minimumSizes.set(type, size);
    return size;
  }
}

function where(path: string): string {
  return path || 'the record';
}
