/*
 * Lone surrogates: a UTF-16 code unit in U+D800–U+DFFF without its other half.
 * JavaScript strings may hold them; UTF-8, and so Avro's strings, cannot. avsc
 * writes one as the three bytes of its code unit (not valid UTF-8: readers
 * refuse or replace it) or, in longer strings, as U+FFFD (the text changes
 * without a word). Either way the event stored would not be the event applied,
 * so the serializer refuses such strings before writing.
 */

/** Where the first lone surrogate of a payload is. */
export interface LoneSurrogate {
  /** Dot-separated path of the string, e.g. `customer.name`, `lines.1.sku`; for a key, the path of its map. */
  readonly path: string;
  /** The key holding the lone surrogate, when it is in a map key rather than a value. */
  readonly key?: string;
  /** Index of the lone surrogate's code unit in the string. */
  readonly index: number;
  /** The code unit, U+D800–U+DFFF. */
  readonly codeUnit: number;
}

// ES2024's String.prototype.isWellFormed (Node 20+); the lib setting stops at ES2022.
type WellFormedCheck = string & { isWellFormed(): boolean };

/**
 * Whether any string in the payload, object keys included, holds a lone
 * surrogate. On the write path of every event: it allocates nothing and leaves
 * the work to V8's `isWellFormed`, which returns at once for one-byte strings.
 */
export function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return !(value as WellFormedCheck).isWellFormed();
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) if (hasLoneSurrogate(value[index])) return true;
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (!(key as WellFormedCheck).isWellFormed() || hasLoneSurrogate(record[key])) return true;
  }
  return false;
}

/** The first lone surrogate in the payload, depth first; only called once {@link hasLoneSurrogate} found one. */
export function findLoneSurrogate(value: unknown, path = ''): LoneSurrogate | undefined {
  if (typeof value === 'string') {
    const index = loneSurrogateIndex(value);
    return index < 0 ? undefined : { path, index, codeUnit: value.charCodeAt(index) };
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const at = (segment: string) => (path ? `${path}.${segment}` : segment);
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      const found = findLoneSurrogate(value[index], at(String(index)));
      if (found) return found;
    }
    return undefined;
  }
  // for…in, as in hasLoneSurrogate: the two must agree on what they visit.
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const index = loneSurrogateIndex(key);
    if (index >= 0) return { path, key, index, codeUnit: key.charCodeAt(index) };
    const found = findLoneSurrogate(record[key], at(key));
    if (found) return found;
  }
  return undefined;
}

/** Index of the first code unit in U+D800–U+DFFF that is not half of a pair, or -1. */
function loneSurrogateIndex(text: string): number {
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    if (unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        index += 1;
        continue;
      }
    }
    return index;
  }
  return -1;
}
