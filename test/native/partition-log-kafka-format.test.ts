/**
 * Our segments, read by someone else's code: kafka-python's RecordBatch v2 reader parses every
 * .log file, validates every CRC and sees the offsets we assigned; the .index entries point at the
 * batch whose last offset they name (Kafka's DumpLogSegments check). kafka-python (python3-kafka)
 * is installed by npm install in a dev checkout: without it this file fails.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PartitionLog } from '../../src/storage/partition-log.js';
import { makeBatch } from './batches.js';
import { requireTool } from './tools.js';

const PYTHON = '/usr/bin/python3';
const hasKafkaPython = spawnSync(PYTHON, ['-c', 'import kafka'], { stdio: 'ignore' }).status === 0;
requireTool('kafka-python (python3-kafka)', hasKafkaPython);
const script = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'read_segments.py');

interface SegmentDump {
  base: number;
  batches: { base: number; lastDelta: number; crcOk: boolean; maxTimestamp: number; timestampType: number; records: [number, number, number][] }[];
  indexEntries: number;
  badIndex: number[][];
  timeIndex: [number, number][];
}

describe('segments in Kafka format', () => {
  for (const type of ['CreateTime', 'LogAppendTime'] as const) {
    it(`kafka-python reads every batch, CRC and offset we wrote (${type})`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'brook-kfmt-'));
      try {
        const log = PartitionLog.open(join(root, 't-0'), { segmentBytes: 20_000, indexIntervalBytes: 1000, messageTimestampType: type });
        const sizes: number[] = [];
        for (let i = 0; i < 60; i++) {
          const records = 1 + (i % 5);
          const b = makeBatch({ records, valueSize: 50 + ((i * 37) % 400), baseTimestamp: 10_000 + i * 100 });
          log.append(b, { now: 99_000 + i });
          sizes.push(records);
        }
        await log.close();
        const r = spawnSync(PYTHON, [script, join(root, 't-0')], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        const dump = JSON.parse(r.stdout) as SegmentDump[];
        expect(dump.length).toBeGreaterThan(2);
        const batches = dump.flatMap((s) => s.batches);
        expect(batches).toHaveLength(60);
        let next = 0;
        for (const [i, b] of batches.entries()) {
          expect(b.crcOk).toBe(true);
          expect(b.base).toBe(next);
          expect(b.lastDelta + 1).toBe(sizes[i]);
          expect(b.records.map((x) => x[0])).toEqual(Array.from({ length: sizes[i]! }, (_, k) => next + k));
          expect(b.timestampType).toBe(type === 'LogAppendTime' ? 1 : 0);
          if (type === 'LogAppendTime') expect(b.maxTimestamp).toBe(99_000 + i);
          next += sizes[i]!;
        }
        for (const s of dump) {
          expect(s.badIndex).toEqual([]);
          expect(s.indexEntries).toBeGreaterThan(0);
          expect(s.batches[0]!.base).toBe(s.base);
          // Time index: strictly increasing timestamps, ending with the segment's max timestamp.
          const ts = s.timeIndex.map((e) => e[0]);
          expect([...ts].sort((a, b) => a - b)).toEqual(ts);
          expect(ts.at(-1)).toBe(Math.max(...s.batches.map((b) => b.maxTimestamp)));
        }
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }
});
