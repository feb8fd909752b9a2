/**
 * Transactions in the storage layer, through PartitionLog and the LogCleaner: internal appends of
 * the broker's own batches (transaction markers, transactional offset commits), followers copying
 * markers, and compaction with markers and aborted transactions. The rules are tested in
 * native/test/txn_test.cc; these tests cover what crosses N-API and the cleaner's bounds hook.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogCleaner, type TransactionalBounds } from '../../src/broker/log-cleaner.js';
import { TopicRegistry } from '../../src/broker/topics.js';
import { buildBrokerConfig } from '../../src/config.js';
import { buildBatch, decodeBatches } from '../../src/native/records.js';
import { PartitionLog, type LogConfig } from '../../src/storage/partition-log.js';
import { silentLogger } from '../../src/util/logger.js';
import { codeOf } from './tools.js';

let root: string;
let open: PartitionLog[] = [];
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'brook-txn-'));
});
afterEach(async () => {
  for (const l of open) await l.close().catch(() => undefined);
  open = [];
  rmSync(root, { recursive: true, force: true });
});

const COMPACTED: Partial<LogConfig> = { cleanupPolicy: 'compact', segmentBytes: 100_000, minCleanableDirtyRatio: 0, fileDeleteDelayMs: 0 };

function openLog(config: Partial<LogConfig> = {}, name = 'topic-0'): PartitionLog {
  const log = PartitionLog.open(join(root, name), config);
  open.push(log);
  return log;
}

/** A transaction marker as the broker writes it (key: int16 version, int16 type; value: int16 version, int32 coordinator epoch). */
function marker(producerId: number, producerEpoch: number, type: 'COMMIT' | 'ABORT'): Buffer {
  const key = Buffer.from([0, 0, 0, type === 'COMMIT' ? 1 : 0]);
  const value = Buffer.from([0, 0, 0, 0, 0, 0]);
  return buildBatch({ records: [{ key, value, timestamp: 1000 }], isControl: true, isTransactional: true, producerId, producerEpoch, baseSequence: -1 });
}

function txnRecord(key: string, value: string, producerId: number, baseSequence: number): Buffer {
  return buildBatch({ records: [{ key: Buffer.from(key), value: Buffer.from(value), timestamp: 1000 }], isTransactional: true, producerId, producerEpoch: 0, baseSequence });
}

function plain(key: string, value: string): Buffer {
  return buildBatch({ records: [{ key: Buffer.from(key), value: Buffer.from(value), timestamp: 1000 }] });
}

/** Closes the segment written so far by appending one record into a new one. */
function rollNow(log: PartitionLog): void {
  const segmentBytes = log.config.segmentBytes;
  log.updateConfig({ segmentBytes: 100 });
  log.append(plain('roll', 'x'));
  log.updateConfig({ segmentBytes });
}

/** [baseOffset, isControl, [key, value] per record] of every batch from the log start. */
function batches(log: PartitionLog): [number, boolean, [string, string][]][] {
  const out: [number, boolean, [string, string][]][] = [];
  const buf = log.readBuffer(log.logStartOffset, 1 << 20);
  for (const b of decodeBatches(buf).batches) {
    out.push([b.baseOffset, b.isControl, b.records.map((r) => [r.key!.toString('hex'), r.value!.toString()])]);
  }
  return out;
}

const hex = (s: string) => Buffer.from(s).toString('hex');

describe('PartitionLog.append({ internal })', () => {
  it('accepts markers and sequence-less transactional batches only when internal', () => {
    const log = openLog();
    expect(codeOf(() => log.append(marker(7, 0, 'COMMIT')))).toBe('INVALID_RECORD');
    const commitOffsets = buildBatch({ records: [{ key: Buffer.from('g'), value: Buffer.from('o') }], isTransactional: true, producerId: 7, producerEpoch: 0, baseSequence: -1 });
    expect(codeOf(() => log.append(Buffer.from(commitOffsets)))).toBe('INVALID_RECORD');
    expect(codeOf(() => log.append(marker(7, 0, 'COMMIT'), { internal: false }))).toBe('INVALID_RECORD');
    expect(log.logEndOffset).toBe(0);

    expect(log.append(commitOffsets, { internal: true })).toMatchObject({ baseOffset: 0, lastOffset: 0 });
    expect(log.append(marker(7, 0, 'COMMIT'), { internal: true, leaderEpoch: 3 })).toMatchObject({ baseOffset: 1, lastOffset: 1 });
    const [data, ctrl] = log.batchHeaders(0, 10);
    expect(data).toMatchObject({ producerId: 7, baseSequence: -1, isTransactional: true, isControl: false });
    expect(ctrl).toMatchObject({ baseOffset: 1, producerId: 7, isTransactional: true, isControl: true, leaderEpoch: 3 });
  });

  it('keeps every other check for internal batches', () => {
    const log = openLog({ maxMessageBytes: 200 });
    const corrupt = marker(7, 0, 'ABORT');
    corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 1) ^ 1, corrupt.length - 1); // inside the CRC
    expect(codeOf(() => log.append(corrupt, { internal: true }))).toBe('CORRUPT_MESSAGE');
    const big = buildBatch({ records: [{ key: Buffer.from('k'), value: Buffer.alloc(300) }], isTransactional: true, producerId: 7, producerEpoch: 0 });
    expect(codeOf(() => log.append(big, { internal: true }))).toBe('MESSAGE_TOO_LARGE');
    expect(log.logEndOffset).toBe(0);
  });

  it('a follower copies the leader markers byte for byte', () => {
    const leader = openLog({}, 'leader-0');
    leader.append(txnRecord('k', 'v', 7, 0));
    leader.append(marker(7, 0, 'COMMIT'), { internal: true });
    const bytes = leader.readBuffer(0, 1 << 20);
    const follower = openLog({}, 'follower-0');
    expect(follower.appendAsFollower(bytes)).toMatchObject({ baseOffset: 0, lastOffset: 1 });
    expect(follower.readBuffer(0, 1 << 20).equals(bytes)).toBe(true);
  });
});

describe('PartitionLog.compact with transactions', () => {
  it('keeps markers, drops aborted transactions and maps committed ones', async () => {
    const log = openLog(COMPACTED);
    log.append(plain('k', 'v0')); // 0
    log.append(txnRecord('k', 'aborted', 5, 0)); // 1
    log.append(marker(5, 0, 'ABORT'), { internal: true }); // 2
    log.append(txnRecord('j', 'committed-old', 5, 1)); // 3
    log.append(marker(5, 0, 'COMMIT'), { internal: true }); // 4
    log.append(txnRecord('j', 'committed-new', 5, 2)); // 5: producer 5's last data batch
    log.append(marker(5, 0, 'COMMIT'), { internal: true }); // 6
    rollNow(log); // 7
    const result = await log.compact({ now: 1000, force: true, aborted: [{ producerId: 5, firstOffset: 1, lastOffset: 2 }] });
    expect(result).toMatchObject({ recordsDropped: 2, abortedRecordsDropped: 1, emptyBatchesKept: 0 });
    const abort = [hex('\0\0\0\0'), '\0'.repeat(6)];
    const commit = [hex('\0\0\0\x01'), '\0'.repeat(6)];
    expect(batches(log)).toEqual([
      [0, false, [[hex('k'), 'v0']]],
      [2, true, [abort]],
      [4, true, [commit]],
      [5, false, [[hex('j'), 'committed-new']]],
      [6, true, [commit]],
      [7, false, [[hex('roll'), 'x']]],
    ]);
  });

  it('refuses malformed aborted entries before any pass', async () => {
    const log = openLog(COMPACTED);
    await expect(log.compact({ aborted: [{ producerId: -1, firstOffset: 0, lastOffset: 1 }] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(log.compact({ aborted: [{ producerId: 1, firstOffset: 5, lastOffset: 4 }] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('LogCleaner transactionalBounds', () => {
  it('passes each log its upTo and aborted list, and without the hook cleans as before', async () => {
    const dataDir = join(root, 'data');
    const topics = new TopicRegistry(buildBrokerConfig({ overrides: { 'log.dirs': dataDir } }), silentLogger);
    try {
      const topic = topics.create('t', 2, { 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': 0, 'file.delete.delay.ms': 0 });
      for (const log of topic.partitions) {
        log.append(plain('k', 'v0')); // 0
        log.append(txnRecord('k', 'aborted', 9, 0)); // 1
        log.append(txnRecord('other', 'x', 9, 1)); // 2: same transaction
        log.append(marker(9, 0, 'ABORT'), { internal: true }); // 3
        rollNow(log); // 4
        log.append(txnRecord('k', 'open', 9, 2)); // 5: an open transaction
        rollNow(log); // 6
      }
      const calls: [string, number][] = [];
      const bounds = (name: string, partition: number, log: PartitionLog): TransactionalBounds | undefined => {
        calls.push([name, partition]);
        expect(log).toBe(topic.partitions[partition]);
        // Partition 0: last stable offset 5, one aborted transaction. Partition 1: no transactions known.
        return partition === 0 ? { upTo: 5, aborted: [{ producerId: 9, firstOffset: 1, lastOffset: 3 }] } : undefined;
      };
      const cleaner = new LogCleaner(topics, silentLogger, { backoffMs: 60_000, mapBytes: 1 << 20, transactionalBounds: bounds });
      const done = await cleaner.compactNow({ now: 1000 });
      await cleaner.stop();
      expect(done.map((d) => d.name).sort()).toEqual(['t-0', 't-1']);
      expect(calls.some(([n, p]) => n === 't' && p === 0)).toBe(true);
      expect(calls.some(([n, p]) => n === 't' && p === 1)).toBe(true);
      const keys = (log: PartitionLog) => batches(log).flatMap(([base, , recs]) => recs.map(([k, v]) => `${base}:${Buffer.from(k, 'hex').toString()}=${v}`));
      // Partition 0: the aborted records are gone and superseded nothing; the open one stays (not
      // mapped: above upTo). Batch 2 was producer 9's last data batch below upTo: its header stays.
      expect(keys(topic.partitions[0]!)).toEqual(['0:k=v0', '3:\0\0\0\0=' + '\0'.repeat(6), '4:roll=x', '5:k=open', '6:roll=x']);
      expect(batches(topic.partitions[0]!).map(([base, , recs]) => [base, recs.length])).toEqual([[0, 1], [2, 0], [3, 1], [4, 1], [5, 1], [6, 1]]);
      expect(topic.partitions[0]!.stats().cleanOffset).toBe(4);
      // Partition 1 (no bounds): everything below the active segment is cleaned; the aborted and the
      // open records count as data, and the open one supersedes v0.
      expect(keys(topic.partitions[1]!)).toEqual(['2:other=x', '3:\0\0\0\0=' + '\0'.repeat(6), '4:roll=x', '5:k=open', '6:roll=x']);
    } finally {
      await topics.close();
    }
  });
});
