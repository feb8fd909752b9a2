/**
 * Compaction throughput: one forced PartitionLog.compact() pass over a log of keyed updates (MB of
 * closed segments read, mapped, filtered and rewritten per second, wall time of the pass, fsyncs
 * included) against a plain copy of the same segment files (read each into memory, write it to a
 * new file, fdatasync), measured on the same bytes in the same run. Both read from a warm page
 * cache (the log was just written). The log is built once; every sample of ours compacts a fresh copy
 * of its directory and every sample of the baseline copies its segments, so both always work on the
 * same bytes, interleaved in one tinybench Bench.
 *
 * Workloads: 1-record uncompressed batches (what the group coordinator writes to
 * __consumer_offsets), and 100-record zstd batches from a producer; keys drawn at random, 10 records
 * per key on average, so ~90% of the records go and most multi-record batches are rebuilt (zstd:
 * decompressed, filtered and recompressed).
 */
import { closeSync, cpSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBatch, Codec } from '../src/native/records.js';
import { PartitionLog } from '../src/storage/partition-log.js';
import { measure, rate, sized, type Figure } from './lib.js';

export const title = 'compaction: one compact() pass vs a plain read + write + fdatasync copy of the same segments';

interface Workload {
  name: string;
  recordsPerBatch: number;
  codec: Codec;
  keys: number;
  updates: number;
  valueSize: number;
}

const workloads = (): Workload[] => [
  { name: '1-record batches, none', recordsPerBatch: 1, codec: Codec.None, keys: sized(20_000, 500), updates: 10, valueSize: 100 },
  { name: '100-record batches, zstd', recordsPerBatch: 100, codec: Codec.Zstd, keys: sized(50_000, 1000), updates: 10, valueSize: 200 },
];

// Smoke logs are tiny: small segments so there are still closed segments to compact and copy.
const logConfig = () => ({ cleanupPolicy: 'compact' as const, segmentBytes: sized(8 * 1024 * 1024, 64 * 1024), minCleanableDirtyRatio: 0, fileDeleteDelayMs: 0 });

function buildLog(dir: string, w: Workload): PartitionLog {
  const log = PartitionLog.open(dir, logConfig());
  // Half random, half repeated: compressible like real payloads, never to nothing.
  const value = Buffer.alloc(w.valueSize, 0x76);
  let n = 0;
  let rng = 2463534242;
  for (let u = 0; u < w.updates; u++) {
    for (let k = 0; k < w.keys; k += w.recordsPerBatch) {
      const records = [];
      for (let j = 0; j < w.recordsPerBatch && k + j < w.keys; j++) {
        randomFillSync(value, 0, w.valueSize >> 1);
        value.writeUInt32BE(n++, 0);
        // Keys drawn at random (xorshift), so the latest record of a key can sit anywhere and most
        // batches keep a few records: they are rebuilt, not just copied or dropped.
        rng ^= rng << 13;
        rng ^= rng >>> 17;
        rng ^= rng << 5;
        records.push({ key: Buffer.from(`key-${(rng >>> 0) % w.keys}`), value: Buffer.from(value), timestamp: 1000 + u });
      }
      log.append(buildBatch({ records, codec: w.codec }));
    }
  }
  return log;
}

function plainCopy(dir: string, out: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.log')).sort().slice(0, -1)) {
    const data = readFileSync(join(dir, name));
    const fd = openSync(join(out, name), 'w');
    writeSync(fd, data);
    fdatasyncSync(fd);
    closeSync(fd);
    bytes += data.length;
  }
  return bytes;
}

export async function run(): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const w of workloads()) {
    const root = mkdtempSync(join(tmpdir(), 'brook-bench-compact-'));
    try {
      const pristine = join(root, 'log');
      await buildLog(pristine, w).close();
      let extra: Record<string, number> = {};
      let bytesRead = 0;
      let copied = 0;
      let k = 0;
      const m = await measure(
        {
          compact: {
            batch: 1,
            timed: async (n) => {
              let ms = 0;
              for (let i = 0; i < n; i++) {
                const dir = join(root, `compact-${k++}`);
                cpSync(pristine, dir, { recursive: true });
                const log = PartitionLog.open(dir, logConfig());
                const r = await log.compact({ force: true });
                ms += r.durationMs;
                bytesRead = r.bytesRead;
                extra = { bytesRead: r.bytesRead, bytesAfter: r.bytesAfter, recordsDropped: r.recordsDropped, batchesRebuilt: r.batchesRebuilt, passMs: Math.round(r.durationMs) };
                await log.close();
                rmSync(dir, { recursive: true, force: true });
              }
              return ms;
            },
          },
          copy: {
            batch: 1,
            timed: (n) => {
              let ms = 0;
              for (let i = 0; i < n; i++) {
                const out = join(root, `copy-${k++}`);
                mkdirSync(out);
                const t0 = performance.now();
                copied = plainCopy(pristine, out);
                ms += performance.now() - t0;
                rmSync(out, { recursive: true, force: true });
              }
              return ms;
            },
          },
        },
        { time: 0, iterations: 8, warmupTime: 0, warmupIterations: 1 },
      );
      figures.push({ name: w.name, ours: rate(m.compact!, bytesRead / 1e6), baseline: rate(m.copy!, copied / 1e6), unit: 'MB/s', baselineName: 'read + write + fdatasync copy', extra });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  return figures;
}
