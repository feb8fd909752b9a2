/**
 * PartitionLog.compact(): the TypeScript facade over the native cleaner (native/src/storage/cleaner.h).
 * The rules themselves are tested in native/test/cleaner_test.cc; these tests cover what crosses
 * N-API: the result object, the worker running while appends continue, one pass at a time, close()
 * during a pass, the policy in the config, and keyless records refused.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrookNativeError } from '../../src/native/errors.js';
import { buildBatch, Codec, decodeBatches } from '../../src/native/records.js';
import { PartitionLog, type LogConfig } from '../../src/storage/partition-log.js';

let root: string;
let open: PartitionLog[] = [];
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'brook-compact-'));
});
afterEach(async () => {
  for (const l of open) await l.close().catch(() => undefined);
  open = [];
  rmSync(root, { recursive: true, force: true });
});

const COMPACTED: Partial<LogConfig> = { cleanupPolicy: 'compact', segmentBytes: 1024, minCleanableDirtyRatio: 0, fileDeleteDelayMs: 0 };

function openLog(config: Partial<LogConfig> = COMPACTED, dir = join(root, 'topic-0')): PartitionLog {
  const log = PartitionLog.open(dir, config);
  open.push(log);
  return log;
}

function put(log: PartitionLog, key: string, value: string | null, codec: Codec = Codec.None): void {
  log.append(buildBatch({ records: [{ key: Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp: 1000 }], codec }));
}

/** [offset, key, value] of every record from the log start. */
function records(log: PartitionLog): [number, string, string | null][] {
  const out: [number, string, string | null][] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const buf = log.readBuffer(offset, 1 << 20);
    if (buf.length === 0) break;
    for (const b of decodeBatches(buf).batches) {
      for (const r of b.records) out.push([r.offset, r.key!.toString(), r.value === null ? null : r.value.toString()]);
      offset = b.baseOffset + b.lastOffsetDelta + 1;
    }
  }
  return out;
}

function latestBelow(all: [number, string, string | null][], end: number): [number, string, string | null][] {
  const latest = new Map<string, [number, string, string | null]>();
  for (const r of all) if (r[0] < end) latest.set(r[1], r);
  return [...latest.values()].sort((a, b) => a[0] - b[0]).concat(all.filter((r) => r[0] >= end));
}

function fill(log: PartitionLog, keys: number, rounds: number, codec: Codec = Codec.None): void {
  for (let round = 0; round < rounds; round++) for (let k = 0; k < keys; k++) put(log, `key${k}`, `v${round}-${k}`.padEnd(40, '.'), codec);
}

describe('PartitionLog.compact', () => {
  it('keeps the latest record per key, reports what it did, and keeps offsets', async () => {
    const log = openLog();
    fill(log, 20, 10, Codec.Zstd);
    const before = records(log);
    const active = log.cleanable().firstUncleanable;
    expect(log.cleanable()).toMatchObject({ firstDirty: 0, dirtyRatio: 1, eligible: true });

    const r = await log.compact();
    expect(r.skipped).toBeUndefined();
    expect(r.cleanedUpTo).toBe(active);
    expect(r.recordsDropped).toBeGreaterThan(0);
    expect(r.segmentsRewritten + r.segmentsRemoved).toBeGreaterThan(0);
    expect(r.bytesAfter).toBeLessThan(r.bytesBefore);
    expect(r.mapKeys).toBe(20);
    expect(typeof r.durationMs).toBe('number');
    expect(records(log)).toEqual(latestBelow(before, active));
    expect(log.stats().cleanOffset).toBe(active);
    expect(log.logStartOffset).toBe(0);

    // Nothing dirty now: the next call says so.
    expect((await log.compact()).skipped).toBe('nothing-to-clean');
  });

  it('skips below min.cleanable.dirty.ratio unless forced, and applies policy changes on the open log', async () => {
    const log = openLog({ ...COMPACTED, cleanupPolicy: 'delete', minCleanableDirtyRatio: 0.99 });
    fill(log, 5, 10);
    expect((await log.compact({ force: true })).skipped).toBe('not-compacted');
    put(log, 'no-key-needed-here', 'x');
    expect(() => log.append(buildBatch({ records: [{ key: null, value: Buffer.from('v') }] }))).not.toThrow();

    log.updateConfig({ cleanupPolicy: 'compact' });
    expect(log.config.cleanupPolicy).toBe('compact');
    let err: unknown;
    try {
      log.append(buildBatch({ records: [{ key: null, value: Buffer.from('v') }] }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BrookNativeError);
    expect((err as BrookNativeError).code).toBe('INVALID_RECORD');
    expect((err as Error).message).toBe('Compacted topic cannot accept message without key');

    // A first pass: everything is dirty (ratio 1), then a little more is below 0.99.
    expect((await log.compact()).skipped).toBeUndefined();
    fill(log, 5, 4);
    expect(log.cleanable().dirtyRatio).toBeLessThan(0.99);
    expect((await log.compact()).skipped).toBe('below-ratio');
    expect((await log.compact({ force: true })).skipped).toBeUndefined();
  });

  it('lets appends and reads go on while the worker cleans, and passes run one at a time', async () => {
    const log = openLog();
    fill(log, 50, 20);
    const before = records(log);
    const active = log.cleanable().firstUncleanable;
    const first = log.compact();
    const second = log.compact({ force: true }); // starts after the first
    for (let i = 0; i < 200; i++) put(log, `key${i % 50}`, `during-${i}`);
    expect(records(log).length).toBeGreaterThan(0);
    const [a, b] = await Promise.all([first, second]);
    expect(a.skipped).toBeUndefined();
    expect(b.skipped).toBeUndefined();
    expect(b.firstDirty).toBe(a.cleanedUpTo);
    // The second pass also cleaned what was appended (and rolled) during the first.
    const after = records(log);
    const latest = new Map(after.map((r) => [r[1], r[2]]));
    for (let k = 0; k < 50; k++) expect(latest.get(`key${k}`)).toBe(`during-${150 + k}`);
    // Below the second pass's checkpoint every key appears once; above it nothing was touched.
    const cleaned = after.filter((r) => r[0] < b.cleanedUpTo);
    expect(new Set(cleaned.map((r) => r[1])).size).toBe(cleaned.length);
    expect(after.filter((r) => r[0] >= b.cleanedUpTo)).toEqual(records(log).filter((r) => r[0] >= b.cleanedUpTo));
    expect(new Set(after.map((r) => r[0])).size).toBe(after.length);
    expect(after.every((r) => before.some((x) => x[0] === r[0] && x[2] === r[2]) || r[2]!.startsWith('during-'))).toBe(true);
    expect(active).toBeGreaterThan(0);
  });

  it('drops tombstones after deleteRetentionMs (injected clock)', async () => {
    const log = openLog({ ...COMPACTED, deleteRetentionMs: 60_000 });
    put(log, 'doomed', 'v');
    put(log, 'doomed', null);
    fill(log, 5, 10);
    await log.compact({ now: 1_000_000 });
    expect(records(log).filter((r) => r[1] === 'doomed')).toEqual([[1, 'doomed', null]]);
    expect(log.cleanable({ now: 1_059_999 }).tombstonesDue).toBe(false);
    expect(log.cleanable({ now: 1_060_000 })).toMatchObject({ tombstonesDue: true, eligible: true });
    const r = await log.compact({ now: 1_060_000 });
    expect(r.tombstonesDropped).toBe(1);
    expect(records(log).filter((x) => x[1] === 'doomed')).toEqual([]);
  });

  it('close() cancels a pass in flight and leaves no .cleaned files; the log reopens intact', async () => {
    const dir = join(root, 'topic-0');
    const log = PartitionLog.open(dir, COMPACTED);
    fill(log, 200, 30);
    const before = records(log);
    const pass = log.compact();
    await log.close();
    const outcome = await pass.then(
      (r) => r.skipped ?? 'completed',
      (e: BrookNativeError) => e.code,
    );
    expect(['CANCELLED', 'completed', 'discarded']).toContain(outcome);
    expect(readdirSync(dir).filter((n) => n.includes('.cleaned') || n.includes('.swap'))).toEqual([]);
    const again = openLog(COMPACTED, dir);
    const after = records(again);
    if (outcome === 'completed') expect(after.length).toBeLessThan(before.length);
    else expect(after).toEqual(before);
    await expect(log.compact()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('delete() during a pass discards the result', async () => {
    const dir = join(root, 'topic-0');
    const log = PartitionLog.open(dir, COMPACTED);
    fill(log, 100, 20);
    const pass = log.compact();
    log.delete();
    const outcome = await pass.then(
      (r) => r.skipped ?? 'completed',
      (e: BrookNativeError) => e.code,
    );
    expect(['CANCELLED', 'discarded']).toContain(outcome);
    expect(() => readdirSync(dir)).toThrow();
  });

  it('rejects bad options and cleanup policies', () => {
    expect(() => openLog({ ...COMPACTED, cleanupPolicy: 'compaction' as never })).toThrow(/cleanupPolicy/);
    expect(() => openLog({ ...COMPACTED, minCleanableDirtyRatio: 1.5 })).toThrow(/minCleanableDirtyRatio/);
    const log = openLog();
    return expect(log.compact({ mapBytes: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
