import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KafkaError } from '../../../src/broker/errors.js';
import { lastSequenceOf, MAX_PRODUCER_ID, PartitionProducers, ProducerIdAllocator, type BatchIdentity } from '../../../src/broker/producers.js';
import { TxnIndex } from '../../../src/broker/txn-index.js';
import { buildMarkerBatch } from '../../../src/broker/control-records.js';
import { buildBatch } from '../../../src/native/records.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { PartitionLog } from '../../../src/storage/partition-log.js';

const batch = (producerId: number, producerEpoch: number, baseSequence: number, count: number, isTransactional = false): BatchIdentity => ({
  producerId,
  producerEpoch,
  baseSequence,
  lastSequence: lastSequenceOf(baseSequence, count - 1),
  isTransactional,
});

/** Runs check() and, when the batch is new, records it at the next offset, as the produce path does. */
function append(state: PartitionProducers, b: BatchIdentity, log: { end: number }): { duplicateOf?: number; offset?: number } {
  const dup = state.check(b);
  if (dup) return { duplicateOf: dup.baseOffset };
  const base = log.end;
  log.end += b.lastSequence - b.baseSequence + 1;
  state.record(b, base, log.end - 1, -1);
  return { offset: base };
}

function errorCodeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof KafkaError) return e.errorCode;
    throw e;
  }
  return ErrorCode.NONE;
}

describe('PartitionProducers', () => {
  it('appends batches of two producers with different ids and identical sequences, both of them', () => {
    const state = new PartitionProducers();
    const log = { end: 0 };
    for (let seq = 0; seq < 20; seq += 4) {
      expect(append(state, batch(1, 0, seq, 4), log)).toEqual({ offset: log.end - 4 });
      expect(append(state, batch(2, 0, seq, 4), log)).toEqual({ offset: log.end - 4 });
    }
    expect(log.end).toBe(40);
  });

  it('answers a duplicate only for the same producer id, epoch and sequence range', () => {
    const state = new PartitionProducers();
    const log = { end: 0 };
    append(state, batch(7, 0, 0, 5), log);
    append(state, batch(7, 0, 5, 5), log);
    expect(append(state, batch(7, 0, 0, 5), log)).toEqual({ duplicateOf: 0 });
    expect(append(state, batch(7, 0, 5, 5), log)).toEqual({ duplicateOf: 5 });
    // Same first sequence, other last sequence: not the same batch, and not the next one either.
    expect(errorCodeOf(() => state.check(batch(7, 0, 0, 3)))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    // Same sequences under another id: a producer this partition has never seen, starting at 0.
    expect(state.check(batch(8, 0, 0, 5))).toBeUndefined();
    // Same id and sequences under a newer epoch: the producer bumped its epoch and starts over.
    expect(append(state, batch(7, 1, 0, 5), log)).toEqual({ offset: 10 });
    // The old epoch is now fenced, its retries included.
    expect(errorCodeOf(() => state.check(batch(7, 0, 5, 5)))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it('wraps sequences at 2^31-1 to 0, so a batch across the wrap is followed by one starting at its end', () => {
    expect(lastSequenceOf(2 ** 31 - 2, 3)).toBe(1);
    const state = new PartitionProducers();
    const log = { end: 0 };
    append(state, batch(3, 0, 0, 1), log);
    // Forge the state a long-lived producer reaches: the last batch ends just below the wrap.
    state.record(batch(3, 0, 1, 2 ** 31 - 4), 1, 2 ** 31 - 4, -1);
    const across = { producerId: 3, producerEpoch: 0, baseSequence: 2 ** 31 - 3, lastSequence: lastSequenceOf(2 ** 31 - 3, 4), isTransactional: false };
    expect(state.check(across)).toBeUndefined();
    state.record(across, 10, 14, -1);
    expect(state.check(across)).toEqual({ baseOffset: 10, logAppendTime: -1 });
    expect(state.check(batch(3, 0, 2, 1))).toBeUndefined();
  });

  it('refuses a producer id above MAX_PRODUCER_ID (a JS number keys the state: such ids could share an entry)', () => {
    const state = new PartitionProducers();
    expect(errorCodeOf(() => state.check(batch(MAX_PRODUCER_ID + 1, 0, 0, 1)))).toBe(ErrorCode.INVALID_RECORD);
    expect(state.check(batch(MAX_PRODUCER_ID, 0, 0, 1))).toBeUndefined();
  });

  it('reports the highest producer id it holds state for', () => {
    const state = new PartitionProducers();
    expect(state.maxProducerId()).toBe(-1);
    const log = { end: 0 };
    append(state, batch(42, 0, 0, 1), log);
    append(state, batch(5, 0, 0, 1), log);
    expect(state.maxProducerId()).toBe(42);
  });
});

describe('PartitionProducers transactions', () => {
  const txn = (producerId: number, producerEpoch: number, baseSequence: number, count: number) => batch(producerId, producerEpoch, baseSequence, count, true);
  const marker = (producerId: number, producerEpoch: number, commit: boolean, offset: number, coordinatorEpoch = 0) => ({ producerId, producerEpoch, commit, coordinatorEpoch, offset });

  it('opens a transaction at its first transactional batch and refuses a plain batch inside it (INVALID_TXN_STATE)', () => {
    const state = new PartitionProducers();
    const log = { end: 10 };
    append(state, batch(1, 0, 0, 2), log); // plain idempotent batch, no transaction
    expect(state.hasOpenTxn(1)).toBe(false);
    append(state, txn(1, 0, 2, 3), log); // offsets 12-14
    append(state, txn(1, 0, 5, 1), log); // the same transaction goes on
    expect(state.openTransactions()).toEqual([{ producerId: 1, producerEpoch: 0, firstOffset: 12 }]);
    expect(errorCodeOf(() => state.check(batch(1, 0, 6, 1)))).toBe(ErrorCode.INVALID_TXN_STATE);
    // A bumped epoch starting at 0 passes the sequence rule, and still meets the open transaction.
    expect(errorCodeOf(() => state.check(batch(1, 1, 0, 1)))).toBe(ErrorCode.INVALID_TXN_STATE);
    // Other producers are not concerned.
    expect(errorCodeOf(() => state.check(batch(2, 0, 0, 1)))).toBe(ErrorCode.NONE);
    // Epoch and sequence are checked first, as Kafka does.
    expect(errorCodeOf(() => state.check(batch(1, 0, 9, 1)))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    state.completeTxn(marker(1, 0, true, log.end++));
    expect(errorCodeOf(() => state.check(batch(1, 0, 6, 1)))).toBe(ErrorCode.NONE);
  });

  it('runs sequences on across transactions of one epoch', () => {
    const state = new PartitionProducers();
    const log = { end: 0 };
    append(state, txn(7, 0, 0, 2), log);
    state.completeTxn(marker(7, 0, true, log.end++));
    expect(errorCodeOf(() => state.check(txn(7, 0, 0, 1)))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(append(state, txn(7, 0, 2, 1), log)).toEqual({ offset: 3 });
    expect(state.openTransactions()).toEqual([{ producerId: 7, producerEpoch: 0, firstOffset: 3 }]);
    // A retry of the committed transaction's batch is still answered as a duplicate.
    expect(append(state, txn(7, 0, 0, 2), log)).toEqual({ duplicateOf: 0 });
  });

  it('refuses a marker older than the producer\'s epoch and raises the epoch to a newer marker\'s (fencing)', () => {
    const state = new PartitionProducers();
    const log = { end: 0 };
    state.checkMarker(99, 0, 0); // a producer never seen here: any epoch
    append(state, txn(3, 2, 0, 1), log);
    expect(errorCodeOf(() => state.checkMarker(3, 1, 0))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(errorCodeOf(() => state.checkMarker(3, 2, 0))).toBe(ErrorCode.NONE);
    // The coordinator timed the transaction out: ABORT written with epoch + 1.
    state.checkMarker(3, 3, 0);
    state.completeTxn(marker(3, 3, false, log.end++));
    expect(errorCodeOf(() => state.check(txn(3, 2, 1, 1)))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(errorCodeOf(() => state.checkMarker(3, 2, 0))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    // The new epoch starts over at sequence 0.
    expect(errorCodeOf(() => state.check(txn(3, 3, 1, 1)))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(errorCodeOf(() => state.check(txn(3, 4, 0, 1)))).toBe(ErrorCode.NONE);
  });

  it('refuses a marker from a coordinator epoch older than the producer\'s last marker (TRANSACTION_COORDINATOR_FENCED), across producer epochs', () => {
    const state = new PartitionProducers();
    const log = { end: 0 };
    append(state, txn(3, 0, 0, 1), log);
    state.checkMarker(3, 0, 0); // no marker yet: any coordinator epoch
    state.checkMarker(3, 0, 5);
    state.completeTxn(marker(3, 0, true, log.end++, 5));
    append(state, txn(3, 0, 1, 1), log); // the producer's next transaction
    // A zombie coordinator (epoch 4) finishing the first transaction late would close this one.
    expect(errorCodeOf(() => state.checkMarker(3, 0, 4))).toBe(ErrorCode.TRANSACTION_COORDINATOR_FENCED);
    expect(errorCodeOf(() => state.checkMarker(3, 0, 5))).toBe(ErrorCode.NONE);
    expect(errorCodeOf(() => state.checkMarker(3, 0, 6))).toBe(ErrorCode.NONE);
    expect(errorCodeOf(() => state.checkMarker(4, 0, 0))).toBe(ErrorCode.NONE); // another producer: its own fence
    // A newer coordinator fences the producer (epoch + 1) with its ABORT.
    state.completeTxn(marker(3, 1, false, log.end++, 6));
    // The producer epoch is checked first, as Kafka does.
    expect(errorCodeOf(() => state.checkMarker(3, 0, 5))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    // A data batch of a newer producer epoch resets the sequences, not the coordinator epoch.
    append(state, txn(3, 2, 0, 1), log);
    expect(errorCodeOf(() => state.checkMarker(3, 2, 5))).toBe(ErrorCode.TRANSACTION_COORDINATOR_FENCED);
    expect(errorCodeOf(() => state.checkMarker(3, 2, 6))).toBe(ErrorCode.NONE);
    // A lower marker taken from a log (replay, replication) does not lower the fence.
    state.completeTxn(marker(3, 2, true, log.end++, 1));
    expect(errorCodeOf(() => state.checkMarker(3, 2, 5))).toBe(ErrorCode.TRANSACTION_COORDINATOR_FENCED);
  });

  it('computes the LSO as min(first offset of the oldest open transaction, high watermark)', () => {
    const state = new PartitionProducers();
    const log = { end: 0 };
    expect(state.firstUnstableOffset()).toBeUndefined();
    expect(state.lastStableOffset(17)).toBe(17);
    append(state, batch(9, 0, 0, 2), log); // 0-1, plain
    append(state, txn(1, 0, 0, 2), log); // 2-3
    append(state, txn(2, 0, 0, 1), log); // 4
    append(state, txn(1, 0, 2, 1), log); // 5, same transaction as 2-3
    append(state, txn(3, 0, 0, 1), log); // 6
    expect(state.firstUnstableOffset()).toBe(2);
    expect(state.lastStableOffset(log.end)).toBe(2);
    expect(state.lastStableOffset(1)).toBe(1); // the high watermark is lower
    state.completeTxn(marker(2, 0, true, log.end++)); // not the oldest: the LSO stays
    expect(state.lastStableOffset(log.end)).toBe(2);
    state.completeTxn(marker(1, 0, false, log.end++));
    expect(state.lastStableOffset(log.end)).toBe(6);
    state.completeTxn(marker(3, 0, true, log.end++));
    expect(state.firstUnstableOffset()).toBeUndefined();
    expect(state.lastStableOffset(log.end)).toBe(log.end);
  });

  it('keeps the first unstable offset at or above the log start (DeleteRecords into an open transaction)', () => {
    const state = new PartitionProducers();
    const log = { end: 0 };
    append(state, txn(1, 0, 0, 4), log); // 0-3
    append(state, txn(2, 0, 0, 1), log); // 4
    state.pruneBelow(2);
    expect(state.firstUnstableOffset()).toBe(2);
    expect(state.lastStableOffset(log.end)).toBe(2);
    state.pruneBelow(1); // the log start never moves back
    expect(state.firstUnstableOffset()).toBe(2);
    // The index entry keeps the transaction's own first offset and Kafka's LSO (the other's first offset).
    expect(state.completeTxn(marker(1, 0, false, log.end++))).toEqual({ producerId: 1, firstOffset: 0, lastOffset: 5, lastStableOffset: 4 });
    expect(state.firstUnstableOffset()).toBe(4);
  });

  it('records an aborted transaction only when an ABORT closes one, with Kafka\'s LSO at abort', () => {
    const state = new PartitionProducers();
    expect(state.completeTxn(marker(5, 0, false, 0))).toBeUndefined(); // nothing open: a valid no-op
    const log = { end: 1 };
    append(state, txn(5, 0, 0, 2), log); // 1-2
    append(state, txn(6, 0, 0, 1), log); // 3
    expect(state.completeTxn(marker(6, 0, true, log.end++))).toBeUndefined(); // COMMIT at 4
    // Another transaction still open: its first offset is the LSO recorded.
    append(state, txn(6, 0, 1, 1), log); // 5
    expect(state.completeTxn(marker(5, 0, false, log.end++))).toEqual({ producerId: 5, firstOffset: 1, lastOffset: 6, lastStableOffset: 5 });
    // None open: the marker's offset + 1.
    expect(state.completeTxn(marker(6, 0, false, log.end++))).toEqual({ producerId: 6, firstOffset: 5, lastOffset: 7, lastStableOffset: 8 });
    expect(state.abortedRanges().map((t) => t.lastOffset)).toEqual([6, 7]);
  });

  it('lists aborted transactions by Kafka\'s range rule, sorted by first offset', () => {
    const state = new PartitionProducers();
    const log = { end: 0 };
    append(state, txn(10, 0, 0, 2), log); // A: 0-1
    append(state, txn(20, 0, 0, 2), log); // B: 2-3
    state.completeTxn(marker(20, 0, false, log.end++)); // B aborted at 4
    append(state, txn(30, 0, 0, 1), log); // C: 5
    state.completeTxn(marker(10, 0, false, log.end++)); // A aborted at 6
    state.completeTxn(marker(30, 0, false, log.end++)); // C aborted at 7
    // Marker order is B, A, C; the answer is in first-offset order A, B, C.
    expect(state.abortedRanges().map((t) => t.producerId)).toEqual([20, 10, 30]);
    expect(state.abortedTransactions(0, 8)).toEqual([
      { producerId: 10, firstOffset: 0 },
      { producerId: 20, firstOffset: 2 },
      { producerId: 30, firstOffset: 5 },
    ]);
    // lastOffset >= fetchOffset: B's marker (4) is before offset 5.
    expect(state.abortedTransactions(5, 8)).toEqual([
      { producerId: 10, firstOffset: 0 },
      { producerId: 30, firstOffset: 5 },
    ]);
    expect(state.abortedTransactions(4, 8).map((t) => t.producerId)).toEqual([10, 20, 30]);
    // firstOffset < upperBound.
    expect(state.abortedTransactions(0, 5).map((t) => t.producerId)).toEqual([10, 20]);
    expect(state.abortedTransactions(0, 2).map((t) => t.producerId)).toEqual([10]);
    expect(state.abortedTransactions(0, 0)).toEqual([]);
    expect(state.abortedTransactions(8, 100)).toEqual([]);
    state.pruneBelow(5);
    expect(state.abortedRanges().map((t) => t.producerId)).toEqual([10, 30]);
  });
});

describe('PartitionProducers.load from a real log', () => {
  let root: string;
  let dir: string;
  let log: PartitionLog;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'brook-txnload-'));
    dir = join(root, 't-0');
    mkdirSync(dir);
    log = PartitionLog.open(dir);
  });
  afterEach(async () => {
    await log.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** A producer batch appended as the produce path does: check, append, record. */
  const produce = (state: PartitionProducers, producerId: number, baseSequence: number, count: number, isTransactional: boolean) => {
    const b = batch(producerId, 0, baseSequence, count, isTransactional);
    expect(state.check(b)).toBeUndefined();
    const records = Array.from({ length: count }, (_, i) => ({ value: `v${baseSequence + i}` }));
    const r = log.append(buildBatch({ records, producerId, producerEpoch: 0, baseSequence, isTransactional }));
    state.record(b, r.baseOffset, r.lastOffset, r.logAppendTime);
  };
  /** A marker appended as writeTxnMarker does. */
  const end = (state: PartitionProducers, producerId: number, commit: boolean, coordinatorEpoch = 0) => {
    state.checkMarker(producerId, 0, coordinatorEpoch);
    const r = log.append(buildMarkerBatch({ producerId, producerEpoch: 0, commit, coordinatorEpoch }, Date.now()), { internal: true });
    state.completeTxn({ producerId, producerEpoch: 0, commit, coordinatorEpoch, offset: r.baseOffset });
  };
  const summary = (s: PartitionProducers) => ({
    open: s.openTransactions(),
    aborted: s.abortedRanges(),
    lso: s.lastStableOffset(log.logEndOffset),
    maxId: s.maxProducerId(),
    // Sequences: pid 1's next is 4, pid 3's next is 1; the last batches are retries.
    next1: errorCodeOf(() => s.check(batch(1, 0, 4, 1, true))),
    dup1: s.check(batch(1, 0, 2, 2, true)),
    next3: errorCodeOf(() => s.check(batch(3, 0, 1, 1))),
    stale1: errorCodeOf(() => s.check(batch(1, 0, 5, 1, true))),
    plain1: errorCodeOf(() => s.check(batch(1, 0, 4, 1))),
  });
  const indexHex = () => readFileSync(join(dir, '00000000000000000000.txnindex')).toString('hex');

  /** The history the tests reload; returns the state built while appending. */
  function history(snapshotAfter?: number): PartitionProducers {
    const state = new PartitionProducers(dir);
    const step = (n: number) => {
      if (snapshotAfter === n) state.saveSnapshot(log, dir);
    };
    produce(state, 1, 0, 2, true); // 0-1: pid 1 opens
    produce(state, 2, 0, 1, true); // 2: pid 2 opens
    end(state, 1, false); // 3: pid 1 aborted
    produce(state, 2, 1, 1, true); // 4
    produce(state, 3, 0, 1, false); // 5: plain idempotent
    end(state, 2, true); // 6: pid 2 committed
    produce(state, 1, 2, 2, true); // 7-8: pid 1 opens again, sequences running on
    step(9);
    end(state, 4, false); // 9: an ABORT for a producer with no data here
    produce(state, 2, 2, 1, true); // 10
    end(state, 2, false); // 11: pid 2 aborted while pid 1 is open
    return state;
  }

  it('rebuilds open transactions, aborted transactions and sequences from data and control batches (no snapshot: kill -9)', () => {
    const live = history();
    expect(summary(live)).toEqual({
      open: [{ producerId: 1, producerEpoch: 0, firstOffset: 7 }],
      aborted: [
        { producerId: 1, firstOffset: 0, lastOffset: 3, lastStableOffset: 2 },
        { producerId: 2, firstOffset: 10, lastOffset: 11, lastStableOffset: 7 },
      ],
      lso: 7,
      maxId: 4,
      next1: ErrorCode.NONE,
      dup1: { baseOffset: 7, logAppendTime: -1 },
      next3: ErrorCode.NONE,
      stale1: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      plain1: ErrorCode.INVALID_TXN_STATE,
    });
    const bytes = indexHex();
    expect(bytes).toBe(
      '0000' + '0000000000000001' + '0000000000000000' + '0000000000000003' + '0000000000000002' +
        '0000' + '0000000000000002' + '000000000000000a' + '000000000000000b' + '0000000000000007',
    );
    expect(summary(PartitionProducers.load(log, dir))).toEqual(summary(live));
    expect(indexHex()).toBe(bytes); // nothing to rewrite
    // Without the index files the scan rebuilds them, byte for byte.
    rmSync(join(dir, '00000000000000000000.txnindex'));
    expect(summary(PartitionProducers.load(log, dir))).toEqual(summary(live));
    expect(indexHex()).toBe(bytes);
  });

  it('takes open transactions from the snapshot and the aborts below it from the index files', () => {
    const live = history(9); // snapshot at offset 9: pid 1's transaction (from 7) is open there
    const loaded = PartitionProducers.load(log, dir);
    expect(summary(loaded)).toEqual(summary(live));
    expect(JSON.parse(readFileSync(join(dir, 'producer-state.json'), 'utf8')).transactions).toEqual([[1, 7]]);
    // The snapshot is trusted for what is below it: without pid 1's open transaction in it, the
    // scan (from 9) could not know it, so this proves the snapshot's transactions are read.
    live.saveSnapshot(log, dir);
    expect(summary(PartitionProducers.load(log, dir))).toEqual(summary(live));
  });

  it('drops index entries at or beyond the log end (a truncated log) and rewrites the file', () => {
    const live = history();
    const bytes = indexHex();
    new TxnIndex(dir).append({ producerId: 8, firstOffset: 12, lastOffset: 12, lastStableOffset: 13 });
    expect(indexHex().length).toBe(bytes.length + 68);
    const loaded = PartitionProducers.load(log, dir);
    expect(loaded.abortedRanges()).toEqual(live.abortedRanges());
    expect(indexHex()).toBe(bytes);
  });

  it('keeps an aborted transaction whose data went below the log start, and drops an entry the log does not confirm', () => {
    const live = history();
    const bytes = indexHex();
    log.deleteRecordsBefore(2); // pid 1's aborted data (0-1) is gone, its marker (3) is not
    // An entry claiming that the COMMIT at 6 was an ABORT: no ABORT marker of pid 2 there.
    new TxnIndex(dir).append({ producerId: 2, firstOffset: 4, lastOffset: 6, lastStableOffset: 7 });
    const loaded = PartitionProducers.load(log, dir); // no snapshot: the scan starts at the log start
    expect(loaded.abortedRanges()).toEqual(live.abortedRanges());
    expect(indexHex()).toBe(bytes);
  });

  it('after a truncation, forgets the snapshot and the index entries beyond the new end, so a log that grows again is rescanned', () => {
    history(9); // snapshot at 9, open transaction of pid 1 from 7
    log.truncateTo(5);
    PartitionProducers.truncated(log, dir);
    expect(existsSync(join(dir, 'producer-state.json'))).toBe(false);
    expect(new TxnIndex(dir).readAll()).toEqual([{ producerId: 1, firstOffset: 0, lastOffset: 3, lastStableOffset: 2 }]);
    // Another history from 5: plain batches of pid 1, which a stale snapshot would call INVALID_TXN_STATE.
    const state = PartitionProducers.load(log, dir);
    expect(state.openTransactions()).toEqual([{ producerId: 2, producerEpoch: 0, firstOffset: 2 }]);
    for (let i = 0; i < 6; i++) log.append(buildBatch({ records: [{ value: 'x' }] }));
    const again = PartitionProducers.load(log, dir);
    expect(again.openTransactions()).toEqual([{ producerId: 2, producerEpoch: 0, firstOffset: 2 }]);
    expect(again.abortedRanges()).toEqual([{ producerId: 1, firstOffset: 0, lastOffset: 3, lastStableOffset: 2 }]);
  });

  it('keeps each producer\'s coordinator epoch through a reload from the log and from the snapshot; older snapshots fence nothing', () => {
    const state = new PartitionProducers(dir);
    produce(state, 1, 0, 1, true); // 0
    end(state, 1, true, 7); // 1: COMMIT from coordinator epoch 7
    produce(state, 1, 1, 1, true); // 2: pid 1's next transaction, open
    produce(state, 2, 0, 1, true); // 3
    end(state, 2, false, 3); // 4: ABORT from coordinator epoch 3
    /** checkMarker's answer for pid 1 at coordinator epochs 6, 7, 8 and pid 2 at 2, 3. */
    const fences = (s: PartitionProducers) => ({
      pid1: [6, 7, 8].map((ce) => errorCodeOf(() => s.checkMarker(1, 0, ce))),
      pid2: [2, 3].map((ce) => errorCodeOf(() => s.checkMarker(2, 0, ce))),
    });
    const fenced = { pid1: [ErrorCode.TRANSACTION_COORDINATOR_FENCED, ErrorCode.NONE, ErrorCode.NONE], pid2: [ErrorCode.TRANSACTION_COORDINATOR_FENCED, ErrorCode.NONE] };
    expect(fences(state)).toEqual(fenced);
    // No snapshot (kill -9): the markers' values in the log.
    expect(fences(PartitionProducers.load(log, dir))).toEqual(fenced);
    // A snapshot at the log end: nothing left to scan, so the epochs come from the snapshot alone.
    state.saveSnapshot(log, dir);
    const path = join(dir, 'producer-state.json');
    const snap = JSON.parse(readFileSync(path, 'utf8')) as { offset: number; producers: [number, { coordinatorEpoch?: number }][] };
    expect(snap.offset).toBe(5);
    expect(snap.producers.map(([pid, e]) => [pid, e.coordinatorEpoch])).toEqual([[1, 7], [2, 3]]);
    expect(fences(PartitionProducers.load(log, dir))).toEqual(fenced);
    // A snapshot written before marker fencing: no coordinator epoch recorded, every marker passes.
    for (const [, e] of snap.producers) delete e.coordinatorEpoch;
    writeFileSync(path, JSON.stringify(snap));
    const old = PartitionProducers.load(log, dir);
    expect(fences(old)).toEqual({ pid1: [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.NONE], pid2: [ErrorCode.NONE, ErrorCode.NONE] });
    expect(old.openTransactions()).toEqual([{ producerId: 1, producerEpoch: 0, firstOffset: 2 }]);
  });

  it('reads snapshots written before transactions (no transactions field)', () => {
    const live = history();
    live.saveSnapshot(log, dir);
    const path = join(dir, 'producer-state.json');
    const snap = JSON.parse(readFileSync(path, 'utf8')) as { transactions?: unknown };
    expect(snap.transactions).toEqual([[1, 7]]);
    delete snap.transactions;
    writeFileSync(path, JSON.stringify(snap));
    const loaded = PartitionProducers.load(log, dir);
    expect(loaded.openTransactions()).toEqual([]);
    expect(loaded.abortedRanges()).toEqual(live.abortedRanges());
  });
});

describe('ProducerIdAllocator', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'brook-pid-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('records a block before handing out its first id, and a new allocator starts after that block', () => {
    const dir = tempDir();
    const a = new ProducerIdAllocator(dir);
    expect(a.blockFileRead).toBe(false);
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual([0, 1, 2]);
    expect(readFileSync(join(dir, 'producer-id-block'), 'utf8').trim()).toBe('1000');
    const b = new ProducerIdAllocator(dir);
    expect(b.blockFileRead).toBe(true);
    expect(b.allocate()).toBe(1000);
    expect(readFileSync(join(dir, 'producer-id-block'), 'utf8').trim()).toBe('2000');
  });

  it('says when the block file is unreadable instead of silently starting at 0 as if it were new', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'producer-id-block'), 'garbage\n');
    expect(new ProducerIdAllocator(dir).blockFileRead).toBe(false);
    writeFileSync(join(dir, 'producer-id-block'), '-5\n');
    expect(new ProducerIdAllocator(dir).blockFileRead).toBe(false);
  });

  it('never hands out an id at or below one recovered from a log, and records the block that covers it', () => {
    const dir = tempDir();
    const a = new ProducerIdAllocator(dir);
    a.recover(4321);
    expect(a.allocate()).toBe(4322);
    expect(Number(readFileSync(join(dir, 'producer-id-block'), 'utf8'))).toBeGreaterThan(4322);
    a.recover(10); // lower than what is already out: no effect
    expect(a.allocate()).toBe(4323);
    expect(new ProducerIdAllocator(dir).allocate()).toBeGreaterThan(4323);
  });

  it('records the recovered floor at once, so the next start reads it instead of scanning the logs again', () => {
    const dir = tempDir();
    new ProducerIdAllocator(dir).recover(77);
    const again = new ProducerIdAllocator(dir);
    expect(again.blockFileRead).toBe(true);
    expect(again.allocate()).toBe(78);
  });
});
