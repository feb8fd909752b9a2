/**
 * Append throughput: PartitionLog.append (validation with CRC-32C, offset assignment, one write per
 * call) against the same bytes written by a plain C++ write() loop (`benchPlainWrite`, timed in C++),
 * per batch size. Target: >= 85% of the baseline from 16 KiB batches up.
 *
 * Pages: every sample, ours and the baseline's, writes the same number of bytes into a NEW file in
 * a new directory (the previous sample's file deleted first), and the two interleave in one tinybench
 * Bench. So both always write "fresh" files: page-cache pages newly allocated from the free list,
 * never a rewrite of pages still cached for that file. Neither side fsyncs (the append path does
 * not). One op is one batch appended; one sample is a whole file's worth of them (its mean).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addon } from '../src/native/addon.js';
import { PartitionLog } from '../src/storage/partition-log.js';
import { measure, rate, sized, type Figure } from './lib.js';

export const title = 'append: PartitionLog.append vs plain C++ write() of the same bytes';

/** One valid uncompressed batch of exactly `size` bytes (one record), CRC from the addon. */
function batchOfSize(size: number): Buffer {
  const b = Buffer.alloc(size, 0x61);
  // Record: length varint, attributes, tsDelta 0, offsetDelta 0, key -1, value len varint, value, 0 headers.
  const body = size - 61;
  const varint = (v: number): number[] => {
    const out: number[] = [];
    let z = v * 2; // zigzag of a non-negative number
    while (z >= 0x80) {
      out.push((z & 0x7f) | 0x80);
      z = Math.floor(z / 128);
    }
    out.push(z);
    return out;
  };
  // Solve for a value length that makes the record fill `body` exactly.
  for (let valueLen = body - 3; valueLen > 0; valueLen--) {
    const inner = [0, 0, 0, 1, ...varint(valueLen)]; // attrs, tsDelta, offsetDelta, key=-1 (zigzag 1)
    const recLen = inner.length + valueLen + 1;
    const lenBytes = varint(recLen);
    if (lenBytes.length + recLen === body) {
      Buffer.from([...lenBytes, ...inner]).copy(b, 61);
      b[size - 1] = 0; // header count
      break;
    }
  }
  b.writeBigInt64BE(0n, 0);
  b.writeInt32BE(size - 12, 8);
  b.writeInt32BE(-1, 12);
  b.writeUInt8(2, 16);
  b.writeUInt16BE(0, 21);
  b.writeInt32BE(0, 23);
  b.writeBigInt64BE(BigInt(Date.now()), 27);
  b.writeBigInt64BE(BigInt(Date.now()), 35);
  b.writeBigInt64BE(-1n, 43);
  b.writeInt16BE(-1, 51);
  b.writeInt32BE(-1, 53);
  b.writeInt32BE(1, 57);
  b.writeUInt32BE(addon().crc32c(b.subarray(21)) >>> 0, 17);
  return b;
}

/** `count` appends into a new log; returns the ms of the appends alone (not the open or the delete). */
function runOurs(root: string, batch: Buffer, count: number): number {
  const dir = mkdtempSync(join(root, 'log-'));
  const log = PartitionLog.open(dir, { maxMessageBytes: batch.length + 1, segmentBytes: 2 ** 31 - 1, retentionMs: -1 });
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    batch.writeBigInt64BE(0n, 0); // append rewrote it: a producer's batch carries 0
    log.append(batch, { now: 0 });
  }
  const ms = performance.now() - t0;
  log.delete();
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

/** The same bytes by a plain write() loop in C++, into a new file; the ms it timed. */
function runPlain(root: string, batch: Buffer, count: number): number {
  const dir = mkdtempSync(join(root, 'plain-'));
  const secs = addon().benchPlainWrite(join(dir, 'plain.log'), batch, count) as number;
  rmSync(dir, { recursive: true, force: true });
  return secs * 1000;
}

export async function run(): Promise<Figure[]> {
  const root = mkdtempSync(join(tmpdir(), 'brook-bench-append-'));
  const total = sized(512 * 1024 * 1024, 2 * 1024 * 1024);
  const figures: Figure[] = [];
  try {
    for (const size of [1024, 16 * 1024, 256 * 1024, 1024 * 1024]) {
      const batch = batchOfSize(size);
      const count = Math.floor(total / size);
      // One warmup file each (code paths; its pages are fresh like the rest), then five per side.
      const m = await measure(
        {
          ours: { timed: (n) => runOurs(root, batch, n), batch: count },
          plain: { timed: (n) => runPlain(root, batch, n), batch: count },
        },
        { time: 0, iterations: 5, warmupTime: 0, warmupIterations: 1 },
      );
      const mbPerOp = size / 1e6;
      figures.push({
        name: `append ${size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`} batches (${((count * size) / 1e9).toFixed(2)} GB per run)`,
        ours: rate(m.ours!, mbPerOp),
        baseline: rate(m.plain!, mbPerOp),
        unit: 'MB/s',
        baselineName: 'plain C++ write()',
        pages: 'fresh',
        target: size >= 16 * 1024 ? '>= 85%' : '',
        extra: { crc: addon().crc32cImplementation() as string },
      });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return figures;
}
