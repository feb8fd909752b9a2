import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../../src/protocol/murmur2.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('murmur2', () => {
  it('matches the values Kafka pins for Utils.murmur2 (every tail length)', () => {
    // Java results, from Apache Kafka's UtilsTest: lengths 2, 6, 24, 26, 48 and 3 cover tails 0..3.
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [input, expected] of vectors) expect(murmur2(bytes(input)), input).toBe(expected);
  });

  it('treats bytes as unsigned (high-bit bytes hash like Java’s `& 0xff`)', () => {
    // Same input as a Uint8Array and a Buffer view at an offset: only the bytes matter.
    const raw = new Uint8Array([0xff, 0x80, 0x7f, 0x00, 0xfe, 0xc3, 0xa9]);
    const shifted = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(raw)]).subarray(3);
    expect(murmur2(shifted)).toBe(murmur2(raw));
    expect(Number.isInteger(murmur2(raw))).toBe(true);
    expect(murmur2(raw)).toBeGreaterThanOrEqual(-(2 ** 31));
    expect(murmur2(raw)).toBeLessThan(2 ** 31);
  });

  it('hashes the empty key', () => {
    // h = seed ^ 0, no blocks, no tail, then the final mix: a fixed signed 32-bit value.
    const h = murmur2(new Uint8Array(0));
    expect(h).toBe(murmur2(Buffer.alloc(0)));
    expect(h | 0).toBe(h);
  });
});

describe('partitionForKey', () => {
  it('is toPositive(murmur2) modulo the partition count', () => {
    // murmur2("21") = -973932308; & 0x7fffffff = 1173551340.
    expect(partitionForKey(bytes('21'), 1)).toBe(0);
    expect(partitionForKey(bytes('21'), 10)).toBe(1173551340 % 10);
    expect(partitionForKey(bytes('abc'), 7)).toBe(479470107 % 7);
    expect(partitionForKey(bytes('foobar'), 3)).toBe((-790332482 & 0x7fffffff) % 3);
  });

  it('always returns a partition in range', () => {
    for (let i = 0; i < 1000; i++) {
      const p = partitionForKey(bytes(`key-${i}`), 6);
      expect(p >= 0 && p < 6).toBe(true);
    }
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => partitionForKey(bytes('k'), 0)).toThrow(RangeError);
    expect(() => partitionForKey(bytes('k'), 1.5)).toThrow(RangeError);
  });
});

describe('against an independent implementation', () => {
  it('agrees with kafka-python’s murmur2 on 2,000 random keys of every length 0..64', () => {
    // kafka-python (Debian python3-kafka, installed by npm install; importable only under
    // /usr/bin/python3) ports Utils.murmur2 separately and returns it unsigned.
    let seed = 12345;
    const nextByte = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 24;
    };
    const keys = Array.from({ length: 2000 }, (_, i) => Buffer.from(Array.from({ length: i % 65 }, nextByte)));
    const script =
      'import sys\nfrom kafka.partitioner.default import murmur2\n' +
      'print(" ".join(str(murmur2(bytes.fromhex(h))) for h in sys.stdin.read().split(",")))';
    const run = spawnSync('/usr/bin/python3', ['-c', script], {
      input: keys.map((k) => k.toString('hex')).join(','),
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (run.status !== 0) throw new Error(`kafka-python is needed for this test (npm install provides it): ${run.stderr}`);
    const theirs = run.stdout.trim().split(' ').map(Number);
    expect(theirs).toHaveLength(keys.length);
    keys.forEach((key, i) => expect(murmur2(key) >>> 0, key.toString('hex')).toBe(theirs[i]));
  });
});
