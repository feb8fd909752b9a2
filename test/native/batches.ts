/**
 * Test helper: builds RecordBatch v2 batches as a producer sends them (baseOffset 0, uncompressed
 * records, CRC-32C from the addon). Kept independent of the production batch builder on purpose.
 */
import { addon } from '../../src/native/addon.js';

export interface BatchSpec {
  records?: number;
  valueSize?: number;
  baseTimestamp?: number;
  timestampStep?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  attributes?: number;
  fill?: number;
}

function varlong(out: number[], v: number): void {
  let z = BigInt.asUintN(64, (BigInt(v) << 1n) ^ (BigInt(v) >> 63n));
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
}

export function makeBatch(s: BatchSpec = {}): Buffer {
  const n = s.records ?? 1;
  const valueSize = s.valueSize ?? 10;
  const baseTs = s.baseTimestamp ?? 1000;
  const step = s.timestampStep ?? 1;
  const value = Buffer.alloc(valueSize, s.fill ?? 0x78);
  const parts: Buffer[] = [];
  let maxTs = baseTs;
  for (let i = 0; i < n; i++) {
    const head: number[] = [0];
    varlong(head, i * step);
    maxTs = Math.max(maxTs, baseTs + i * step);
    varlong(head, i);
    varlong(head, -1);
    varlong(head, valueSize);
    const tail: number[] = [];
    varlong(tail, 0);
    const len: number[] = [];
    varlong(len, head.length + valueSize + tail.length);
    parts.push(Buffer.from(len), Buffer.from(head), value, Buffer.from(tail));
  }
  const records = Buffer.concat(parts);
  const b = Buffer.alloc(61 + records.length);
  b.writeBigInt64BE(0n, 0);
  b.writeInt32BE(b.length - 12, 8);
  b.writeInt32BE(-1, 12);
  b.writeUInt8(2, 16);
  b.writeUInt16BE(s.attributes ?? 0, 21);
  b.writeInt32BE(n - 1, 23);
  b.writeBigInt64BE(BigInt(baseTs), 27);
  b.writeBigInt64BE(BigInt(maxTs), 35);
  b.writeBigInt64BE(BigInt(s.producerId ?? -1), 43);
  b.writeInt16BE(s.producerEpoch ?? -1, 51);
  b.writeInt32BE(s.baseSequence ?? -1, 53);
  b.writeInt32BE(n, 57);
  records.copy(b, 61);
  reseal(b);
  return b;
}

/** Recomputes the CRC of the batch at `pos`. */
export function reseal(b: Buffer, pos = 0): void {
  const size = b.readInt32BE(pos + 8) + 12;
  b.writeUInt32BE(addon().crc32c(b.subarray(pos + 21, pos + size)) >>> 0, pos + 17);
}

/** Base offsets of the whole batches in `bytes` (throws on a partial batch). */
export function batchBases(bytes: Buffer): number[] {
  const bases: number[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const size = bytes.readInt32BE(pos + 8) + 12;
    if (pos + size > bytes.length) throw new Error(`partial batch at ${pos}`);
    bases.push(Number(bytes.readBigInt64BE(pos)));
    pos += size;
  }
  return bases;
}
