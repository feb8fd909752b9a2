/**
 * The Java client's default partitioner for keyed records: Kafka's `Utils.murmur2` (MurmurHash2,
 * 32-bit, seed 0x9747b28c, bytes read little-endian in 4-byte blocks) and
 * `Utils.toPositive(murmur2(key)) % numPartitions`. Producing a keyed record through the WebSocket
 * gateway must land it on the partition a Java producer (or librdkafka with
 * `partitioner=murmur2_random`) picks for the same key, so per-key order holds across clients.
 *
 * Java's int arithmetic wraps at 32 bits; `Math.imul` and `| 0` reproduce it exactly, and `>>>` is
 * Java's unsigned shift.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Kafka's `Utils.murmur2`: the signed 32-bit MurmurHash2 of `data`. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const blocksEnd = length & ~3;
  for (let i = 0; i < blocksEnd; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The tail: Java's switch falls through from 3 to 1, then multiplies once.
  const tail = length & 3;
  if (tail >= 3) h ^= data[blocksEnd + 2]! << 16;
  if (tail >= 2) h ^= data[blocksEnd + 1]! << 8;
  if (tail >= 1) h = Math.imul(h ^ data[blocksEnd]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The partition the Java client's default partitioner picks for a non-null key:
 * `(murmur2(key) & 0x7fffffff) % numPartitions`. `numPartitions` must be a positive integer.
 */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`);
  }
  return (murmur2(key) & 0x7fffffff) % numPartitions;
}
