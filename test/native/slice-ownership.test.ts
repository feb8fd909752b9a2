/**
 * File slices from PartitionLog.read() own their segment file (FileSlice.file): whatever the log
 * does to the segment (truncation, retention, delete()) and whatever files open afterwards, a held
 * slice reads its own bytes; a released one fails with CLOSED; a dropped one is released by GC.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BrookNativeError } from '../../src/native/errors.js';
import { PartitionLog, readSlice, sendfile, type FileSlice } from '../../src/storage/partition-log.js';
import { makeBatch } from './batches.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'brook-slices-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A log of `n` batches whose record bytes are all `fill`, in segments of about two batches. */
function logOf(name: string, fill: number, n = 6): PartitionLog {
  const log = PartitionLog.open(join(root, name), { segmentBytes: 2500, retentionMs: 1000, fileDeleteDelayMs: 0 });
  for (let i = 0; i < n; i++) log.append(makeBatch({ records: 2, valueSize: 500, fill, baseTimestamp: 0 }));
  return log;
}

/** Opens logs that take the lowest free descriptor numbers, as a broker creating topics would. */
function openOthers(n: number): PartitionLog[] {
  return Array.from({ length: n }, (_, i) => logOf(`other-${i}`, 0x5a));
}

function bytesOf(slices: FileSlice[]): Buffer {
  return Buffer.concat(slices.map(readSlice));
}

describe('file slices own their files', () => {
  for (const [what, remove] of [
    ['truncated', (log: PartitionLog) => log.truncateTo(0)],
    ['removed by retention', (log: PartitionLog) => expect(log.applyRetention({ now: 10 ** 7 })).toBeGreaterThan(0)],
    ['deleted with its log', (log: PartitionLog) => log.delete()],
  ] as const) {
    it(`reads its own bytes after its segment is ${what} and new files take the free descriptors`, async () => {
      const log = logOf('mine-0', 0x41);
      const before = log.readBuffer(0, 1 << 20);
      const { slices } = log.read(0, 1 << 20);
      expect(slices.length).toBeGreaterThan(1);
      remove(log);
      const others = openOthers(3);
      try {
        expect(bytesOf(slices).equals(before)).toBe(true);
        for (const s of slices) expect(readlinkSync(`/proc/self/fd/${s.fd}`)).toContain('mine-0');
      } finally {
        for (const s of slices) s.file!.release();
        for (const o of others) await o.close();
        if (what !== 'deleted with its log') await log.close();
      }
    });
  }

  it('fails with CLOSED once released, for every way of reading it', async () => {
    const log = logOf('released-0', 0x42);
    const { slices } = log.read(0, 1 << 20);
    const s = slices[0]!;
    expect(s.file!.released).toBe(false);
    s.file!.release();
    s.file!.release(); // idempotent
    expect(s.file!.released).toBe(true);
    expect(() => readSlice(s)).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    const err = (await sendfile(0, s).catch((e) => e)) as BrookNativeError;
    expect(err).toBeInstanceOf(BrookNativeError);
    expect(err.code).toBe('CLOSED');
    await log.close();
  });

  it('closes the descriptor of a deleted log once the last slice is garbage-collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const log = logOf('collected-0', 0x43);
    let slices: FileSlice[] | undefined = log.read(0, 1 << 20).slices;
    const fds = slices.map((s) => s.fd);
    log.delete();
    const target = (fd: number) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    };
    for (const fd of fds) expect(target(fd)).toContain('collected-0');
    slices = undefined;
    for (let i = 0; i < 50 && fds.some((fd) => target(fd).includes('collected-0')); i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const fd of fds) expect(target(fd)).not.toContain('collected-0');
  });
});
