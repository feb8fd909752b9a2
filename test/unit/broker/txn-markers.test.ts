/**
 * Transaction markers (src/broker/txn-markers.ts): the control batch byte for byte as Kafka writes
 * it, reading a marker key back, and writeTxnMarker against a real one-node Broker on a temporary
 * directory (append, producer state, epoch check, error codes).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../src/broker/broker.js';
import { lastSequenceOf } from '../../../src/broker/producers.js';
import { buildMarkerBatch, type TxnMarker } from '../../../src/broker/control-records.js';
import { parseMarker, parseMarkerKey, parseMarkerValue } from '../../../src/protocol/control-record.js';
import { writeTxnMarker } from '../../../src/broker/txn-markers.js';
import { buildBrokerConfig } from '../../../src/config.js';
import { crc32c } from '../../../src/native/crc32c.js';
import { buildBatch, decodeBatch, decodeBatches } from '../../../src/native/records.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { silentLogger } from '../../../src/util/logger.js';

const hex = (s: string) => s.replace(/\s+/g, '');

describe('buildMarkerBatch', () => {
  const commit: TxnMarker = { producerId: 0x0102030405, producerEpoch: 7, commit: true, coordinatorEpoch: 3 };
  const ts = 1_701_582_948_955; // 0x0000018c2e3f4a5b, 2023-12-03T05:55:48.955Z

  it('writes Kafka\'s COMMIT control batch byte for byte, CRC-32C over attributes..end', () => {
    const b = buildMarkerBatch(commit, ts);
    const afterCrc =
      '0030' + // attributes: transactional | control
      '00000000' + // lastOffsetDelta
      '0000018c2e3f4a5b' + // baseTimestamp
      '0000018c2e3f4a5b' + // maxTimestamp
      '0000000102030405' + // producerId
      '0007' + // producerEpoch
      'ffffffff' + // baseSequence -1
      '00000001' + // recordsCount
      '20' + // record length 16 (zigzag varint)
      '00' + // record attributes
      '00' + // timestampDelta 0
      '00' + // offsetDelta 0
      '08' + // key length 4
      '00000001' + // key: version 0, type 1 COMMIT
      '0c' + // value length 6
      '000000000003' + // value: version 0, coordinatorEpoch 3
      '00'; // no headers
    const crc = crc32c(Buffer.from(afterCrc, 'hex'));
    const expected = hex(`
      0000000000000000 00000042 ffffffff 02 ${crc.toString(16).padStart(8, '0')}
      ${afterCrc}`);
    expect(b.toString('hex')).toBe(expected);
    expect(b.length).toBe(78);
  });

  it('writes type 0 for ABORT and the given leader epoch; the native decoder reads every field back', () => {
    const b = buildMarkerBatch({ producerId: 9, producerEpoch: 0, commit: false, coordinatorEpoch: 0x7fffffff }, 1000, 5);
    const d = decodeBatch(b);
    expect({
      baseOffset: d.baseOffset,
      batchLength: d.batchLength,
      partitionLeaderEpoch: d.partitionLeaderEpoch,
      magic: d.magic,
      attributes: d.attributes,
      isTransactional: d.isTransactional,
      isControl: d.isControl,
      timestampType: d.timestampType,
      lastOffsetDelta: d.lastOffsetDelta,
      baseTimestamp: d.baseTimestamp,
      maxTimestamp: d.maxTimestamp,
      producerId: d.producerId,
      producerEpoch: d.producerEpoch,
      baseSequence: d.baseSequence,
      recordsCount: d.recordsCount,
    }).toEqual({
      baseOffset: 0,
      batchLength: 66,
      partitionLeaderEpoch: 5,
      magic: 2,
      attributes: 0x30,
      isTransactional: true,
      isControl: true,
      timestampType: 'CreateTime',
      lastOffsetDelta: 0,
      baseTimestamp: 1000,
      maxTimestamp: 1000,
      producerId: 9,
      producerEpoch: 0,
      baseSequence: -1,
      recordsCount: 1,
    });
    expect(d.records).toHaveLength(1);
    const [r] = d.records;
    expect(r!.offset).toBe(0);
    expect(r!.timestamp).toBe(1000);
    expect(r!.key!.toString('hex')).toBe('00000000');
    expect(r!.value!.toString('hex')).toBe('00007fffffff');
    expect(r!.headers).toEqual([]);
  });

  it('equals what the native batch builder (an independent encoder) makes of the same record', () => {
    const viaBuilder = buildBatch({
      records: [{ key: Buffer.from('00000001', 'hex'), value: Buffer.from('000000000003', 'hex'), timestamp: ts }],
      producerId: commit.producerId,
      producerEpoch: commit.producerEpoch,
      baseSequence: -1,
      isTransactional: true,
      isControl: true,
    });
    expect(buildMarkerBatch(commit, ts).equals(viaBuilder)).toBe(true);
  });
});

describe('parseMarkerKey', () => {
  it('reads COMMIT and ABORT, and nothing else', () => {
    expect(parseMarkerKey(Buffer.from('00000001', 'hex'))).toEqual({ commit: true });
    expect(parseMarkerKey(Buffer.from('00000000', 'hex'))).toEqual({ commit: false });
    expect(parseMarkerKey(Buffer.from('00000002', 'hex'))).toBeUndefined(); // LEADER_CHANGE (Raft)
    expect(parseMarkerKey(Buffer.from('ffff0001', 'hex'))).toBeUndefined(); // negative version
    expect(parseMarkerKey(Buffer.from('0000', 'hex'))).toBeUndefined();
  });
});

describe('parseMarkerValue / parseMarker', () => {
  it('reads the coordinator epoch of a marker\'s value, -1 when it cannot', () => {
    expect(parseMarkerValue(Buffer.from('00000000002a', 'hex'))).toBe(42);
    expect(parseMarkerValue(Buffer.from('00007fffffff', 'hex'))).toBe(0x7fffffff);
    expect(parseMarkerValue(Buffer.from('00010000000500ff', 'hex'))).toBe(5); // a later version: the epoch stays where it was
    expect(parseMarkerValue(Buffer.from('ffff00000005', 'hex'))).toBe(-1); // negative version
    expect(parseMarkerValue(Buffer.from('0000000005', 'hex'))).toBe(-1); // short
    expect(parseMarkerValue(null)).toBe(-1);
  });

  it('reads a whole marker record, and nothing that is not one', () => {
    const [batch] = decodeBatches(buildMarkerBatch({ producerId: 1, producerEpoch: 0, commit: true, coordinatorEpoch: 9 }, 1000)).batches;
    expect(parseMarker(batch!.records[0]!.key, batch!.records[0]!.value)).toEqual({ commit: true, coordinatorEpoch: 9 });
    expect(parseMarker(Buffer.from('00000000', 'hex'), null)).toEqual({ commit: false, coordinatorEpoch: -1 });
    expect(parseMarker(Buffer.from('00000002', 'hex'), Buffer.from('000000000009', 'hex'))).toBeUndefined();
    expect(parseMarker(null, Buffer.from('000000000009', 'hex'))).toBeUndefined();
  });
});

describe('writeTxnMarker on one node', () => {
  let dir: string;
  let broker: Broker;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'brook-markers-'));
    broker = new Broker(buildBrokerConfig({ overrides: { 'log.dirs': dir, 'log.cleaner.enable': false, 'offsets.topic.num.partitions': 1 } }), silentLogger);
    broker.topics.create('t', 2);
  });
  afterEach(async () => {
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const log = (p = 0) => broker.topics.get('t')!.partitions[p]!;
  /** A transactional batch appended the way the produce path does (check, append, record). */
  const produce = (p: number, producerId: number, producerEpoch: number, baseSequence: number, values: string[]) => {
    const id = { producerId, producerEpoch, baseSequence, lastSequence: lastSequenceOf(baseSequence, values.length - 1), isTransactional: true };
    const producers = broker.producersOf(broker.topics.get('t')!, p);
    producers.check(id);
    const r = log(p).append(buildBatch({ records: values.map((value) => ({ value })), producerId, producerEpoch, baseSequence, isTransactional: true }));
    producers.record(id, r.baseOffset, r.lastOffset, r.logAppendTime);
    return r.baseOffset;
  };

  it('appends the marker after the data, closes the transaction and, for an ABORT, indexes it', async () => {
    const first = produce(0, 4, 0, 0, ['a', 'b', 'c']);
    const producers = broker.producersOf(broker.topics.get('t')!, 0);
    expect(producers.lastStableOffset(log().logEndOffset)).toBe(first);
    expect(await writeTxnMarker(broker, 't', 0, { producerId: 4, producerEpoch: 0, commit: false, coordinatorEpoch: 2 })).toBe(ErrorCode.NONE);
    expect(log().logEndOffset).toBe(4); // 3 records + 1 marker
    expect(producers.hasOpenTxn(4)).toBe(false);
    expect(producers.lastStableOffset(log().logEndOffset)).toBe(4);
    expect(producers.abortedRanges()).toEqual([{ producerId: 4, firstOffset: 0, lastOffset: 3, lastStableOffset: 4 }]);
    expect(readFileSync(join(log().dir, '00000000000000000000.txnindex')).toString('hex')).toBe(
      '0000' + '0000000000000004' + '0000000000000000' + '0000000000000003' + '0000000000000004',
    );
    const [, marker] = decodeBatches(log().readBuffer(0, 1 << 20)).batches;
    expect(marker!.baseOffset).toBe(3);
    expect(marker!.isControl).toBe(true);
    expect(marker!.records[0]!.key!.toString('hex')).toBe('00000000');
    expect(marker!.records[0]!.value!.toString('hex')).toBe('000000000002');
  });

  it('refuses a marker older than the producer\'s epoch, and one for an unknown partition', async () => {
    produce(1, 5, 3, 0, ['x']);
    expect(await writeTxnMarker(broker, 't', 1, { producerId: 5, producerEpoch: 2, commit: true, coordinatorEpoch: 0 })).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(log(1).logEndOffset).toBe(1); // nothing written
    expect(await writeTxnMarker(broker, 't', 7, { producerId: 5, producerEpoch: 3, commit: true, coordinatorEpoch: 0 })).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(await writeTxnMarker(broker, 'nope', 0, { producerId: 5, producerEpoch: 3, commit: true, coordinatorEpoch: 0 })).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('refuses a marker from an older coordinator epoch (a zombie coordinator) with TRANSACTION_COORDINATOR_FENCED, writing nothing, also after a restart', async () => {
    produce(0, 8, 0, 0, ['a']); // 0
    expect(await writeTxnMarker(broker, 't', 0, { producerId: 8, producerEpoch: 0, commit: true, coordinatorEpoch: 4 })).toBe(ErrorCode.NONE); // 1
    produce(0, 8, 0, 1, ['b']); // 2: the producer's next transaction
    const producers = broker.producersOf(broker.topics.get('t')!, 0);
    // The coordinator of epoch 3, resumed after epoch 4 finished the first transaction, sends its ABORT.
    expect(await writeTxnMarker(broker, 't', 0, { producerId: 8, producerEpoch: 0, commit: false, coordinatorEpoch: 3 })).toBe(ErrorCode.TRANSACTION_COORDINATOR_FENCED);
    expect(log().logEndOffset).toBe(3); // nothing written
    expect(producers.hasOpenTxn(8)).toBe(true);
    expect(producers.abortedRanges()).toEqual([]);
    // Same epoch: the coordinator's own retry.
    expect(await writeTxnMarker(broker, 't', 0, { producerId: 8, producerEpoch: 0, commit: true, coordinatorEpoch: 4 })).toBe(ErrorCode.NONE); // 3
    expect(producers.hasOpenTxn(8)).toBe(false);
    produce(0, 8, 0, 2, ['c']); // 4
    // Newer epoch: the next coordinator.
    expect(await writeTxnMarker(broker, 't', 0, { producerId: 8, producerEpoch: 0, commit: false, coordinatorEpoch: 6 })).toBe(ErrorCode.NONE); // 5
    produce(0, 8, 0, 3, ['d']); // 6
    // A restart (snapshot written at close) keeps the fence at 6; so does a load from the log alone.
    const snapshotPath = join(log().dir, 'producer-state.json');
    await broker.close();
    for (const snapshot of [true, false]) {
      expect(existsSync(snapshotPath)).toBe(true);
      if (!snapshot) rmSync(snapshotPath);
      broker = new Broker(buildBrokerConfig({ overrides: { 'log.dirs': dir, 'log.cleaner.enable': false, 'offsets.topic.num.partitions': 1 } }), silentLogger);
      expect(log().logEndOffset).toBe(7);
      expect(await writeTxnMarker(broker, 't', 0, { producerId: 8, producerEpoch: 0, commit: true, coordinatorEpoch: 5 })).toBe(ErrorCode.TRANSACTION_COORDINATOR_FENCED);
      expect(log().logEndOffset).toBe(7);
      expect(broker.producersOf(broker.topics.get('t')!, 0).hasOpenTxn(8)).toBe(true);
      await broker.close();
    }
    broker = new Broker(buildBrokerConfig({ overrides: { 'log.dirs': dir, 'log.cleaner.enable': false, 'offsets.topic.num.partitions': 1 } }), silentLogger);
    expect(await writeTxnMarker(broker, 't', 0, { producerId: 8, producerEpoch: 0, commit: true, coordinatorEpoch: 6 })).toBe(ErrorCode.NONE);
  });

  it('fences: an ABORT written with epoch + 1 makes the old producer\'s next batch INVALID_PRODUCER_EPOCH', async () => {
    produce(0, 6, 0, 0, ['x']);
    expect(await writeTxnMarker(broker, 't', 0, { producerId: 6, producerEpoch: 1, commit: false, coordinatorEpoch: 0 })).toBe(ErrorCode.NONE);
    const producers = broker.producersOf(broker.topics.get('t')!, 0);
    expect(() => producers.check({ producerId: 6, producerEpoch: 0, baseSequence: 1, lastSequence: 1, isTransactional: true })).toThrow(
      expect.objectContaining({ errorCode: ErrorCode.INVALID_PRODUCER_EPOCH }),
    );
  });
});
