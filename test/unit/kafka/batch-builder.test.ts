/**
 * BatchBuilder (the producer's hot path) checked against the native decoder (decodeBatches, which
 * verifies the CRC-32C and decompresses) and against buildBatch, the native batch builder: every
 * codec, headers, null keys and values, negative timestamp deltas, varint size boundaries, records
 * larger than the batch capacity, and the capacity rule itself.
 */
import { describe, expect, it } from 'vitest';
import { BATCH_HEADER_SIZE, BatchBuilder, type Header } from '../../../src/kafka/batch-builder.js';
import { Codec } from '../../../src/native/codec.js';
import { buildBatch, decodeBatch, decodeBatches } from '../../../src/native/records.js';

interface Rec {
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Header[] | null;
}

const CODECS = [Codec.None, Codec.Gzip, Codec.Snappy, Codec.Lz4, Codec.Zstd] as const;

function build(records: Rec[], codec: Codec = Codec.None, capacity = 16 * 1024 * 1024): Buffer {
  const b = new BatchBuilder(capacity);
  for (const r of records) expect(b.append(r.timestamp, r.key, r.value, r.headers, 0)).toBe(true);
  return b.finish(codec);
}

/** What decodeBatches gives back for `records`, in the shape they went in. */
function roundTrip(records: Rec[], codec: Codec = Codec.None) {
  const batch = decodeBatch(build(records, codec));
  return {
    batch,
    records: batch.records.map((r) => ({ offset: r.offset, timestamp: r.timestamp, key: r.key && Buffer.from(r.key), value: r.value && Buffer.from(r.value), headers: r.headers.map((h) => ({ key: h.key, value: h.value && Buffer.from(h.value) })) })),
  };
}

const T0 = 1_700_000_000_000;
const sample: Rec[] = [
  { timestamp: T0, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{ key: 'h1', value: Buffer.from('x') }, { key: 'ключ', value: null }] },
  { timestamp: T0 + 5, key: null, value: Buffer.from('no key'), headers: null },
  { timestamp: T0 + 1, key: Buffer.from('tombstone'), value: null, headers: [] },
  { timestamp: T0 + 2, key: Buffer.alloc(0), value: Buffer.alloc(0), headers: [{ key: '', value: Buffer.alloc(0) }] },
];

describe('BatchBuilder', () => {
  it('writes a batch the native decoder reads back with every field, for every codec', () => {
    for (const codec of CODECS) {
      const { batch, records } = roundTrip(sample, codec);
      expect(batch.codec, `codec ${codec}`).toBe(codec);
      expect(batch.magic).toBe(2);
      expect(batch.baseOffset).toBe(0);
      expect(batch.partitionLeaderEpoch).toBe(-1);
      expect(batch.timestampType).toBe('CreateTime');
      expect(batch.isTransactional).toBe(false);
      expect(batch.isControl).toBe(false);
      expect(batch.lastOffsetDelta).toBe(3);
      expect(batch.recordsCount).toBe(4);
      expect(batch.baseTimestamp).toBe(T0);
      expect(batch.maxTimestamp).toBe(T0 + 5);
      expect(batch.producerId).toBe(-1);
      expect(batch.producerEpoch).toBe(-1);
      expect(batch.baseSequence).toBe(-1);
      expect(records).toEqual(sample.map((r, i) => ({ offset: i, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers ?? [] })));
    }
  });

  it('is byte for byte what the native buildBatch writes for the same records (uncompressed)', () => {
    const ours = build(sample);
    const native = buildBatch({ records: sample.map((r) => ({ timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers ?? [] })) });
    expect(ours.equals(native)).toBe(true);
    expect(ours.readInt32BE(8)).toBe(ours.length - 12); // batchLength counts the bytes after itself
  });

  it('compresses only the records: the 61-byte header stays readable and the batch shrinks', () => {
    const records = Array.from({ length: 200 }, (_, i) => ({ timestamp: T0 + i, key: null, value: Buffer.from(`log line ${i % 10} ${'x'.repeat(100)}`), headers: null }));
    const plain = build(records);
    for (const codec of CODECS.slice(1)) {
      const c = build(records, codec);
      expect(c.length, `codec ${codec}`).toBeLessThan(plain.length / 3);
      expect(c.readInt16BE(21) & 0x07).toBe(codec);
      expect(c.readInt32BE(57)).toBe(200);
      expect(decodeBatch(c).records.map((r) => r.value!.toString())).toEqual(records.map((r) => r.value.toString()));
    }
    expect(BATCH_HEADER_SIZE).toBe(61);
  });

  it('keeps negative timestamp deltas (a record older than the first) and a far-off one', () => {
    const ts = [T0, T0 - 1, T0 - 100_000, T0 + 2 ** 33, 0, T0];
    const { batch, records } = roundTrip(ts.map((t) => ({ timestamp: t, key: null, value: Buffer.from('v'), headers: null })));
    expect(records.map((r) => r.timestamp)).toEqual(ts);
    expect(batch.baseTimestamp).toBe(T0);
    expect(batch.maxTimestamp).toBe(T0 + 2 ** 33);
  });

  it('writes lengths across the varint size boundaries', () => {
    const sizes = [0, 1, 63, 64, 65, 8191, 8192, 8193, 1_048_575, 1_048_576, 2_097_152 + 3];
    const records = sizes.map((n, i) => ({ timestamp: T0, key: Buffer.alloc(n % 200, 0x41 + (i % 26)), value: Buffer.alloc(n, 0x61 + (i % 26)), headers: [{ key: 'k'.repeat(n % 130), value: Buffer.alloc(n % 70, 1) }] }));
    for (const codec of [Codec.None, Codec.Zstd]) {
      const { records: back } = roundTrip(records, codec);
      expect(back.map((r) => r.value!.length)).toEqual(sizes);
      back.forEach((r, i) => {
        expect(r.value!.equals(records[i]!.value)).toBe(true);
        expect(r.key!.equals(records[i]!.key)).toBe(true);
        expect(r.headers[0]!.key).toBe(records[i]!.headers[0]!.key);
        expect(r.headers[0]!.value!.equals(records[i]!.headers[0]!.value!)).toBe(true);
      });
    }
  });

  it('refuses a record past its capacity once it holds one, and takes an oversized record alone', () => {
    const b = new BatchBuilder(1000);
    expect(b.size).toBe(BATCH_HEADER_SIZE);
    let n = 0;
    while (b.append(T0, null, Buffer.alloc(100, 0x61), null, 0)) n++;
    expect(n).toBeGreaterThan(5);
    expect(b.count).toBe(n);
    expect(b.size).toBeLessThanOrEqual(1000);
    expect(decodeBatch(b.finish(Codec.None)).records).toHaveLength(n);

    const big = new BatchBuilder(1000);
    expect(big.append(T0, null, Buffer.alloc(5000, 0x62), null, 0)).toBe(true);
    expect(big.append(T0, null, Buffer.from('next'), null, 0)).toBe(false);
    const batch = decodeBatch(big.finish(Codec.Lz4));
    expect(batch.records).toHaveLength(1);
    expect(batch.records[0]!.value!.length).toBe(5000);
  });

  it('counts its size exactly: size is the finished uncompressed batch length', () => {
    const b = new BatchBuilder(1 << 20);
    for (const r of sample) b.append(r.timestamp, r.key, r.value, r.headers, 0);
    const size = b.size;
    expect(b.finish(Codec.None).length).toBe(size);
  });

  it('keeps each record creation stamp when asked, beyond its first allocation', () => {
    const b = new BatchBuilder(1 << 20, true);
    for (let i = 0; i < 600; i++) b.append(T0, null, Buffer.from('v'), null, i + 0.5);
    expect(b.created!.subarray(0, 600)).toEqual(Float64Array.from({ length: 600 }, (_, i) => i + 0.5));
    expect(b.createdMin).toBe(0.5);
    expect(b.createdSum).toBe((600 * 601) / 2 - 300);
  });

  it('several finished batches back to back decode as a fetch response would carry them', () => {
    const all = Buffer.concat(CODECS.map((c) => build(sample, c)));
    const { batches } = decodeBatches(all);
    expect(batches.map((b) => b.codec)).toEqual([...CODECS]);
    for (const b of batches) expect(b.records.map((r) => r.value?.toString() ?? null)).toEqual(['v1', 'no key', null, '']);
  });
});
