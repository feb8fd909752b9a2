/**
 * The producer's choice of partition for a keyed record, murmur2(key) & 0x7fffffff mod the partition
 * count (the Java client's, used by src/kafka/producer.ts), against kafkajs's DefaultPartitioner,
 * which is Java-compatible, for text and binary keys and many partition counts; and Java's own
 * values for keys Kafka's tests pin.
 */
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../../src/protocol/murmur2.js';

/** What producer.ts computes for a keyed record. */
const choose = (key: Buffer, n: number) => (murmur2(key) & 0x7fffffff) % n;

function metadata(n: number) {
  return Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
}

/** A deterministic byte generator (xorshift32), so failures reproduce. */
function bytes(seed: number, length: number): Buffer {
  let x = seed || 1;
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('keyed partition choice', () => {
  it("agrees with kafkajs's DefaultPartitioner for text and binary keys over 1..64 partitions", () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const keys = [
      ...Array.from({ length: 300 }, (_, i) => Buffer.from(`user-${i}`)),
      ...Array.from({ length: 300 }, (_, i) => bytes(i + 1, i % 40)),
      Buffer.from('ключ-é-✓'),
    ];
    for (let n = 1; n <= 64; n++) {
      const partitionMetadata = metadata(n);
      for (const key of keys) {
        const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
        expect(choose(key, n), `${key.toString('hex')} over ${n}`).toBe(expected);
        expect(partitionForKey(key, n)).toBe(expected);
      }
    }
  });

  it("puts Kafka's pinned murmur2 keys where the Java client does", () => {
    // Utils.toPositive(murmur2) % n with Java's murmur2 values (Apache Kafka UtilsTest).
    const java: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['abc', 479470107],
    ];
    for (const [key, hash] of java) {
      for (const n of [1, 3, 6, 7, 12, 50]) expect(choose(Buffer.from(key), n), `${key} over ${n}`).toBe((hash & 0x7fffffff) % n);
    }
  });
});
