/**
 * Kafka's murmur2 key hash, bit-for-bit compatible with the Java client, so that a keyed
 * record lands on the same partition whichever client (Java, kafkajs, Tributary) wrote it.
 * Aggregate streams rely on that: all events of one aggregate must share one partition.
 *
 * @packageDocumentation
 */

// Constants from Kafka's Java `Utils.murmur2`. The seed is above 2^31, so it is written as
// its signed 32-bit value here; `^` and `Math.imul` would coerce it to that anyway.
const SEED = 0x9747b28c | 0;
const M = 0x5bd1e995;
const R = 24;

/**
 * Computes Kafka's murmur2 hash of `data`, exactly as the Java client's
 * `org.apache.kafka.common.utils.Utils.murmur2(byte[])` does.
 *
 * @param data - The bytes to hash, typically the serialized record key.
 * @returns The hash as a signed 32-bit integer, the same value Java's `int` holds.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;

  // Plain `*` would lose the low bits once the product passes 2^53; Java's int
  // multiplication wraps, and Math.imul is exactly that wrap.
  const blocksEnd = length & ~3;
  for (let i = 0; i < blocksEnd; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    // Java's `>>>` is an unsigned shift; `>>` would smear the sign bit into the hash.
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }

  // Java handles the 1-3 trailing bytes with a fall-through switch; the tsconfig forbids
  // fall-through, so the same cascade is spelled with comparisons.
  const tail = length & 3;
  if (tail === 3) h ^= data[blocksEnd + 2] << 16;
  if (tail >= 2) h ^= data[blocksEnd + 1] << 8;
  if (tail >= 1) h = Math.imul(h ^ data[blocksEnd], M);

  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  // `^` already yields an int32; `| 0` states the contract for readers and the JIT.
  return h | 0;
}

/**
 * Maps a signed 32-bit integer to a non-negative one by clearing the sign bit, as Java's
 * `Utils.toPositive` does.
 *
 * This is not `Math.abs`: Kafka deliberately masks so that `-2^31` maps to 0 rather than
 * overflowing, and any other choice would send some keys to a different partition.
 *
 * @param n - A signed 32-bit integer, such as a {@link murmur2} result.
 * @returns `n & 0x7fffffff`, in the range [0, 2^31).
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/**
 * Returns the partition Kafka's Java default partitioner (`BuiltInPartitioner.partitionForKey`)
 * picks for a record whose key is `key` encoded as UTF-8, which is also what kafkajs's
 * `DefaultPartitioner` picks for a string key.
 *
 * The key is encoded as Node encodes it on the wire: an unpaired UTF-16 surrogate becomes
 * U+FFFD (bytes EF BF BD). Java's `String.getBytes(UTF_8)` would turn it into `?` instead,
 * so for such malformed keys only the bytes actually written decide agreement with Java.
 *
 * @param key - The record key as a string.
 * @param partitionCount - The topic's number of partitions; a positive integer.
 * @returns A partition number in [0, partitionCount).
 * @throws RangeError if `partitionCount` is not a positive safe integer.
 */
export function partitionForKey(key: string, partitionCount: number): number {
  if (!Number.isSafeInteger(partitionCount) || partitionCount <= 0) {
    throw new RangeError(`partitionCount must be a positive integer, got ${String(partitionCount)}`);
  }
  return toPositive(murmur2(Buffer.from(key, 'utf8'))) % partitionCount;
}
