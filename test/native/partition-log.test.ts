import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, existsSync, readdirSync, truncateSync, statSync, cpSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrookNativeError } from '../../src/native/errors.js';
import { DEFAULT_LOG_CONFIG, PartitionLog, partitionDir, readSlice } from '../../src/storage/partition-log.js';
import { batchBases, makeBatch, reseal } from './batches.js';

let root: string;
let open: PartitionLog[] = [];
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'brook-plog-'));
});
afterEach(async () => {
  for (const l of open) await l.close().catch(() => undefined);
  open = [];
  rmSync(root, { recursive: true, force: true });
});

function openLog(config: Parameters<typeof PartitionLog.open>[1] = {}, dir = join(root, 'topic-0')): PartitionLog {
  const log = PartitionLog.open(dir, config);
  open.push(log);
  return log;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BrookNativeError);
    return (e as BrookNativeError).code;
  }
  return 'OK';
}

describe('PartitionLog append and read', () => {
  it('assigns offsets, rewrites the buffer in place and reads the same bytes back', () => {
    const log = openLog();
    const a = makeBatch({ records: 3 });
    const b = Buffer.concat([makeBatch({ records: 2 }), makeBatch({ records: 4 })]);
    const r1 = log.append(a, { leaderEpoch: 5, now: 111 });
    const r2 = log.append(b);
    expect(r1).toEqual({ baseOffset: 0, lastOffset: 2, appendTime: 111, logAppendTime: -1 });
    expect(r2.baseOffset).toBe(3);
    expect(r2.lastOffset).toBe(8);
    expect(a.readBigInt64BE(0)).toBe(0n); // first batch: offset 0
    expect(a.readInt32BE(12)).toBe(5); // leader epoch written in place
    expect(b.readBigInt64BE(0)).toBe(3n);
    expect(log.logEndOffset).toBe(9);
    expect(log.readBuffer(0, 1 << 20)).toEqual(Buffer.concat([a, b]));
    expect(batchBases(log.readBuffer(4, 1 << 20))).toEqual([3, 5]);
    const { slices, bytes } = log.read(0, 1 << 20);
    expect(bytes).toBe(a.length + b.length);
    expect(Buffer.concat(slices.map(readSlice))).toEqual(Buffer.concat([a, b]));
  });

  it('returns at least one whole batch when it is larger than maxBytes (KIP-74) and never a partial one', () => {
    const log = openLog();
    for (let i = 0; i < 4; i++) log.append(makeBatch({ valueSize: 1000 }));
    const one = log.readBuffer(0, 1).length;
    expect(one).toBeGreaterThan(1000);
    expect(batchBases(log.readBuffer(0, 0))).toEqual([0]);
    expect(batchBases(log.readBuffer(0, one * 2 + one / 2))).toEqual([0, 1]);
    expect(batchBases(log.readBuffer(1, 1 << 20, 3))).toEqual([1, 2]); // upTo = high watermark
    expect(log.read(4, 100).slices).toEqual([]);
  });

  it('answers OFFSET_OUT_OF_RANGE outside [logStartOffset, logEndOffset]', () => {
    const log = openLog();
    log.append(makeBatch({ records: 2 }));
    expect(codeOf(() => log.read(3, 100))).toBe('OFFSET_OUT_OF_RANGE');
    expect(log.read(2, 100).bytes).toBe(0);
    log.deleteRecordsBefore(1);
    expect(codeOf(() => log.read(0, 100))).toBe('OFFSET_OUT_OF_RANGE');
    expect(batchBases(log.readBuffer(1, 100))).toEqual([0]);
  });

  it('rejects malformed batches with typed errors and writes nothing', () => {
    const log = openLog({ maxMessageBytes: 2000 });
    log.append(makeBatch());
    const size = log.size;
    const corrupt = makeBatch({ records: 2 });
    corrupt[corrupt.length - 1]! ^= 1;
    expect(codeOf(() => log.append(corrupt))).toBe('CORRUPT_MESSAGE');
    const magic = makeBatch();
    magic[16] = 1;
    expect(codeOf(() => log.append(magic))).toBe('INVALID_RECORD');
    expect(codeOf(() => log.append(makeBatch({ valueSize: 3000 })))).toBe('MESSAGE_TOO_LARGE');
    expect(codeOf(() => log.append(makeBatch({ attributes: 0x20 })))).toBe('INVALID_RECORD');
    expect(codeOf(() => log.append(makeBatch({ producerId: 9, producerEpoch: 0, baseSequence: -1 })))).toBe('INVALID_RECORD');
    expect(codeOf(() => log.append(makeBatch().subarray(0, 40)))).toBe('CORRUPT_MESSAGE');
    expect(codeOf(() => log.append(Buffer.alloc(0)))).toBe('INVALID_RECORD');
    const counts = makeBatch({ records: 2 });
    counts.writeInt32BE(5, 23);
    reseal(counts);
    expect(codeOf(() => log.append(counts))).toBe('INVALID_RECORD');
    // A good batch followed by a bad one: neither is written.
    const pair = Buffer.concat([makeBatch(), corrupt]);
    expect(codeOf(() => log.append(pair))).toBe('CORRUPT_MESSAGE');
    expect(log.size).toBe(size);
    expect(log.logEndOffset).toBe(1);
  });

  it('validates arguments in TypeScript with INVALID_ARGUMENT', () => {
    const log = openLog();
    expect(codeOf(() => log.read(-1, 10))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => log.read(1.5, 10))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => log.append('x' as unknown as Buffer))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => openLog({ segmentBytes: 2 ** 31 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => openLog({ messageTimestampType: 'Nope' as 'CreateTime' }))).toBe('INVALID_ARGUMENT');
  });

  it('stamps LogAppendTime topics with the append time and a recomputed CRC', () => {
    const log = openLog({ messageTimestampType: 'LogAppendTime' });
    const b = makeBatch({ records: 2, baseTimestamp: 5 });
    const r = log.append(b, { now: 424242 });
    expect(r.logAppendTime).toBe(424242);
    const stored = log.readBuffer(0, 1000);
    expect(stored.readBigInt64BE(35)).toBe(424242n);
    expect(stored.readUInt16BE(21) & 0x08).toBe(0x08);
    const copy = Buffer.from(stored);
    copy.writeBigInt64BE(0n, 0);
    const crc = copy.readUInt32BE(17);
    reseal(copy);
    expect(copy.readUInt32BE(17)).toBe(crc);
    expect(log.batchHeaders(0, 1)[0]!.logAppendTime).toBe(true);
  });
});

describe('PartitionLog segments, time and retention', () => {
  it('rolls by size and by time, naming segments like Kafka', () => {
    const log = openLog({ segmentBytes: 700, segmentMs: 1000 }); // two 268-byte batches per segment
    for (let i = 0; i < 4; i++) log.append(makeBatch({ valueSize: 200 }), { now: 0 });
    expect(log.segmentCount).toBe(2);
    log.append(makeBatch(), { now: 999 });
    expect(log.segmentCount).toBe(2);
    log.append(makeBatch(), { now: 5000 });
    expect(log.segmentCount).toBe(3);
    const files = readdirSync(log.dir).filter((f) => /^\d{20}\./.test(f)).sort();
    expect(files).toContain('00000000000000000000.log');
    expect(files).toContain('00000000000000000002.index');
    expect(files).toContain('00000000000000000005.timeindex');
    expect(batchBases(log.readBuffer(0, 1 << 20))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('finds offsets by timestamp and the max timestamp', () => {
    const log = openLog({ indexIntervalBytes: 100 });
    for (let i = 0; i < 20; i++) log.append(makeBatch({ records: 4, baseTimestamp: 1000 * i, timestampStep: 10 }));
    expect(log.offsetForTimestamp(5015)).toEqual({ offset: 22, timestamp: 5020 });
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: 0 });
    expect(log.offsetForTimestamp(10 ** 9)).toBeNull();
    expect(log.maxTimestamp()).toEqual({ offset: 79, timestamp: 19030 });
  });

  it('applies retention by time with an injected clock, keeping the active segment', () => {
    const log = openLog({ segmentBytes: 300, retentionMs: 1000, fileDeleteDelayMs: 0 });
    for (let i = 0; i < 5; i++) log.append(makeBatch({ valueSize: 200, baseTimestamp: i * 1000 }));
    expect(log.segmentCount).toBe(5);
    expect(log.applyRetention({ now: 3500 })).toBe(3);
    expect(log.logStartOffset).toBe(3);
    expect(log.applyRetention({ now: 10 ** 9 })).toBe(1);
    expect(log.segmentCount).toBe(1);
    expect(codeOf(() => log.read(0, 10))).toBe('OFFSET_OUT_OF_RANGE');
  });

  it('applies retention by size and truncates', () => {
    const batch = makeBatch({ valueSize: 100 }).length;
    const log = openLog({ segmentBytes: batch, retentionBytes: batch * 2, retentionMs: -1, fileDeleteDelayMs: 0 });
    for (let i = 0; i < 6; i++) log.append(makeBatch({ valueSize: 100 }));
    expect(log.applyRetention()).toBe(4);
    expect(log.size).toBe(batch * 2);
    log.truncateTo(5);
    expect(log.logEndOffset).toBe(5);
    expect(log.append(makeBatch()).baseOffset).toBe(5);
  });

  it('exposes batch headers for producer-state rebuild', () => {
    const log = openLog();
    log.append(makeBatch({ records: 3, producerId: 77, producerEpoch: 2, baseSequence: 0 }));
    log.append(makeBatch({ records: 2, producerId: 77, producerEpoch: 2, baseSequence: 3 }));
    const h = log.batchHeaders(0, 10);
    expect(h.map((x) => [x.baseOffset, x.lastOffset, x.producerId, x.producerEpoch, x.baseSequence])).toEqual([
      [0, 2, 77, 2, 0],
      [3, 4, 77, 2, 3],
    ]);
  });

  it('updates config on an open log', () => {
    const log = openLog();
    log.append(makeBatch({ valueSize: 500 }));
    log.updateConfig({ maxMessageBytes: 100 });
    expect(codeOf(() => log.append(makeBatch({ valueSize: 500 })))).toBe('MESSAGE_TOO_LARGE');
    expect(log.config.maxMessageBytes).toBe(100);
  });
});

describe('PartitionLog durability and restart', () => {
  it('flush() makes appends durable and persists the recovery point', async () => {
    const log = openLog();
    log.append(makeBatch({ records: 3 }));
    expect(log.recoveryPoint).toBe(0);
    const p1 = log.flush();
    log.append(makeBatch({ records: 2 }));
    const p2 = log.flush();
    const p3 = log.flush(); // coalesces with p2
    expect(p3).toBe(p2);
    await p1;
    expect(log.recoveryPoint).toBeGreaterThanOrEqual(3);
    await p2;
    expect(log.recoveryPoint).toBe(5);
    expect(readFileSync(join(log.dir, 'recovery-point-offset'), 'utf8')).toBe('0\n5\n');
  });

  it('flushMessages=1 hands back a promise per append; flushMs flushes in the background', async () => {
    const log = openLog({ flushMessages: 1 });
    const r = log.append(makeBatch());
    expect(r.flushed).toBeInstanceOf(Promise);
    await r.flushed;
    expect(log.recoveryPoint).toBe(1);
    const timed = openLog({ flushMs: 20 }, join(root, 'timed-0'));
    timed.append(makeBatch({ records: 4 }));
    for (let i = 0; i < 100 && timed.recoveryPoint < 4; i++) await new Promise((res) => setTimeout(res, 10));
    expect(timed.recoveryPoint).toBe(4);
    await log.durable(0);
  });

  it('keeps offsets and data across a clean restart', async () => {
    const dir = partitionDir(root, 'orders', 3);
    expect(dir).toBe(join(root, 'orders-3'));
    const log = PartitionLog.open(dir, { segmentBytes: 1000 });
    for (let i = 0; i < 10; i++) log.append(makeBatch({ records: 2, valueSize: 100 }));
    const before = log.readBuffer(0, 1 << 20);
    await log.close();
    expect(existsSync(join(dir, '.clean-shutdown'))).toBe(true);
    expect(codeOf(() => log.read(0, 10))).toBe('CLOSED');
    const again = openLog({ segmentBytes: 1000 }, dir);
    expect(again.logEndOffset).toBe(20);
    expect(again.recoveryPoint).toBe(20);
    expect(again.readBuffer(0, 1 << 20)).toEqual(before);
    expect(again.append(makeBatch()).baseOffset).toBe(20);
  });

  it('delete() removes the directory', () => {
    const log = PartitionLog.open(join(root, 'gone-0'));
    log.append(makeBatch());
    log.delete();
    expect(existsSync(join(root, 'gone-0'))).toBe(false);
  });

  it('exports Kafka defaults', () => {
    expect(DEFAULT_LOG_CONFIG.indexIntervalBytes).toBe(4096);
    expect(DEFAULT_LOG_CONFIG.maxMessageBytes).toBe(1048588);
    expect(DEFAULT_LOG_CONFIG.fileDeleteDelayMs).toBe(60000);
  });
});

describe('PartitionLog file slices', () => {
  it('keeps a deleted segment readable for fileDeleteDelayMs', async () => {
    const log = openLog({ segmentBytes: 100, retentionMs: 0, fileDeleteDelayMs: 200 });
    for (let i = 0; i < 3; i++) log.append(makeBatch({ valueSize: 100, baseTimestamp: 0 }));
    const { slices } = log.read(0, 100);
    expect(log.applyRetention({ now: 10 ** 6 })).toBe(2);
    expect(existsSync(join(log.dir, '00000000000000000000.log.deleted'))).toBe(true);
    expect(batchBases(readSlice(slices[0]!))).toEqual([0]);
    await new Promise((r) => setTimeout(r, 250));
    log.read(2, 10); // reaps lazily
    expect(existsSync(join(log.dir, '00000000000000000000.log.deleted'))).toBe(false);
  });
});

describe('PartitionLog crash recovery', () => {
  it('recovers after a torn write at random cut positions', () => {
    const template = makeBatch({ records: 3, valueSize: 50 });
    const src = join(root, 'src-0');
    const log = PartitionLog.open(src);
    for (let i = 0; i < 20; i++) log.append(Buffer.from(template));
    const all = log.readBuffer(0, 1 << 20);
    // Not closed: the files are as a killed process leaves them.
    const size = statSync(join(src, '00000000000000000000.log')).size;
    expect(size).toBe(template.length * 20);
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < 40; k++) {
      const cut = Math.floor(rand() * size);
      const dir = join(root, `cut-${k}`);
      cpSync(src, dir, { recursive: true });
      truncateSync(join(dir, '00000000000000000000.log'), cut);
      const whole = Math.floor(cut / template.length);
      const again = PartitionLog.open(dir);
      expect(again.logEndOffset, `cut ${cut}`).toBe(whole * 3);
      expect(again.size).toBe(whole * template.length);
      expect(statSync(join(dir, '00000000000000000000.log')).size).toBe(whole * template.length);
      expect(again.readBuffer(0, 1 << 20)).toEqual(all.subarray(0, whole * template.length));
      expect(again.append(Buffer.from(template)).baseOffset).toBe(whole * 3);
      again.delete();
    }
  });
});
