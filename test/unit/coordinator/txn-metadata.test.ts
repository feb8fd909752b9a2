import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import {
  expired,
  fencedCode,
  fromLogValue,
  newTxnMetadata,
  partitionList,
  prepareAddPartitions,
  prepareComplete,
  prepareEndTxn,
  prepareFencedAbort,
  prepareInitProducerId,
  rotateProducerId,
  timedOut,
  toLogValue,
  validTimeout,
  verifyOffsetsPartition,
  verifyPartition,
  type TxnMetadata,
} from '../../../src/coordinator/transactions/metadata.js';
import { TxnState } from '../../../src/coordinator/transactions/records.js';

const NOW = 1_000_000;

/** A fresh id after its first InitProducerId: producer 7 at epoch 0, Empty. */
function initialized(): TxnMetadata {
  const t = prepareInitProducerId(newTxnMetadata('t', 7, 60_000, NOW), 60_000, undefined, NOW);
  if (!t.next) throw new Error('init failed');
  return t.next;
}

function ongoing(md = initialized()): TxnMetadata {
  const t = prepareAddPartitions(md, md.producerId, md.producerEpoch, [{ topic: 'a', partition: 0 }], NOW + 10);
  if (!t.next) throw new Error(`add failed: ${t.errorCode}`);
  return t.next;
}

describe('InitProducerId', () => {
  it('starts a new id at epoch 0 and bumps the epoch on every init, keeping the producer id', () => {
    const md = initialized();
    expect([md.producerId, md.producerEpoch, md.state]).toEqual([7, 0, TxnState.Empty]);
    const again = prepareInitProducerId(md, 30_000, undefined, NOW + 1).next!;
    expect([again.producerId, again.producerEpoch, again.timeoutMs, again.lastProducerEpoch]).toEqual([7, 1, 30_000, -1]);
  });

  it('bumps from CompleteCommit and CompleteAbort too, clearing the transaction', () => {
    for (const state of [TxnState.CompleteCommit, TxnState.CompleteAbort]) {
      const next = prepareInitProducerId({ ...initialized(), state, startMs: NOW }, 1000, undefined, NOW).next!;
      expect([next.state, next.producerEpoch, next.startMs]).toEqual([TxnState.Empty, 1, -1]);
    }
  });

  it('answers CONCURRENT_TRANSACTIONS while preparing or while another transition is pending', () => {
    for (const state of [TxnState.PrepareCommit, TxnState.PrepareAbort, TxnState.Dead, TxnState.PrepareEpochFence]) {
      expect(prepareInitProducerId({ ...initialized(), state }, 1000, undefined, NOW).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    }
    expect(prepareInitProducerId({ ...initialized(), pending: TxnState.Ongoing }, 1000, undefined, NOW).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
  });

  it('asks the caller to fence and abort an Ongoing transaction, answering CONCURRENT_TRANSACTIONS', () => {
    const t = prepareInitProducerId(ongoing(), 1000, undefined, NOW);
    expect(t).toEqual({ errorCode: ErrorCode.CONCURRENT_TRANSACTIONS, fenceAndAbort: true });
  });

  it('with the current pair (KIP-360) bumps and remembers the previous epoch; a retry gets the same answer', () => {
    const md = initialized();
    const bumped = prepareInitProducerId(md, 1000, { producerId: 7, producerEpoch: 0 }, NOW).next!;
    expect([bumped.producerEpoch, bumped.lastProducerEpoch]).toEqual([1, 0]);
    const retried = prepareInitProducerId(bumped, 1000, { producerId: 7, producerEpoch: 0 }, NOW).next!;
    expect([retried.producerEpoch, retried.lastProducerEpoch]).toEqual([1, 0]);
  });

  it('fences a stale epoch or another producer id with PRODUCER_FENCED', () => {
    const md = prepareInitProducerId(prepareInitProducerId(initialized(), 1000, undefined, NOW).next!, 1000, undefined, NOW).next!; // epoch 2
    expect(prepareInitProducerId(md, 1000, { producerId: 7, producerEpoch: 0 }, NOW).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(prepareInitProducerId(md, 1000, { producerId: 8, producerEpoch: 2 }, NOW).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('accepts any pair for an id that has no epoch yet (an idempotent producer turning transactional)', () => {
    const t = prepareInitProducerId(newTxnMetadata('t', 7, 1000, NOW), 1000, { producerId: 99, producerEpoch: 5 }, NOW);
    expect([t.next?.producerId, t.next?.producerEpoch]).toEqual([7, 0]);
  });

  it('rotates to a new producer id at epoch 0 once the epoch is exhausted', () => {
    const md = { ...initialized(), producerEpoch: 32766 };
    const t = prepareInitProducerId(md, 1000, undefined, NOW);
    expect(t).toEqual({ errorCode: ErrorCode.NONE, rotate: true, recordLastEpoch: false });
    const rotated = rotateProducerId(md, 8, 1000, false, NOW);
    expect([rotated.producerId, rotated.producerEpoch, rotated.lastProducerId, rotated.state]).toEqual([8, 0, 7, TxnState.Empty]);
    // A rotation asked for with the pair records the old epoch: the producer retrying it (no
    // answer came back) gets the same id and epoch, not PRODUCER_FENCED.
    expect(prepareInitProducerId(md, 1000, { producerId: 7, producerEpoch: 32766 }, NOW)).toMatchObject({ rotate: true, recordLastEpoch: true });
    const asked = rotateProducerId(md, 8, 1000, true, NOW);
    const retry = prepareInitProducerId(asked, 1000, { producerId: 7, producerEpoch: 32766 }, NOW);
    expect([retry.errorCode, retry.next?.producerId, retry.next?.producerEpoch]).toEqual([ErrorCode.NONE, 8, 0]);
    expect(prepareInitProducerId(rotated, 1000, { producerId: 7, producerEpoch: 32766 }, NOW).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('validates the timeout against transaction.max.timeout.ms', () => {
    expect(validTimeout(0, 900_000)).toBe(false);
    expect(validTimeout(-1, 900_000)).toBe(false);
    expect(validTimeout(900_001, 900_000)).toBe(false);
    expect(validTimeout(900_000, 900_000)).toBe(true);
  });

  it('maps PRODUCER_FENCED to INVALID_PRODUCER_EPOCH below the version that knows it', () => {
    expect(fencedCode(ErrorCode.PRODUCER_FENCED, 3, 4)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(fencedCode(ErrorCode.PRODUCER_FENCED, 4, 4)).toBe(ErrorCode.PRODUCER_FENCED);
    expect(fencedCode(ErrorCode.CONCURRENT_TRANSACTIONS, 0, 4)).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
  });
});

describe('AddPartitionsToTxn', () => {
  it('starts the transaction at the first add and keeps its start time afterwards', () => {
    const first = ongoing();
    expect([first.state, first.startMs, partitionList(first)]).toEqual([TxnState.Ongoing, NOW + 10, [{ topic: 'a', partitions: [0] }]]);
    const more = prepareAddPartitions(first, 7, 0, [{ topic: 'b', partition: 3 }, { topic: 'a', partition: 1 }], NOW + 50).next!;
    expect(more.startMs).toBe(NOW + 10);
    expect(partitionList(more)).toEqual([{ topic: 'a', partitions: [0, 1] }, { topic: 'b', partitions: [3] }]);
  });

  it('writes nothing when every partition is already in the transaction', () => {
    expect(prepareAddPartitions(ongoing(), 7, 0, [{ topic: 'a', partition: 0 }], NOW)).toEqual({ errorCode: ErrorCode.NONE });
  });

  it('answers INVALID_PRODUCER_ID_MAPPING for an unknown id or another producer id, PRODUCER_FENCED for another epoch', () => {
    expect(prepareAddPartitions(undefined, 7, 0, [{ topic: 'a', partition: 0 }], NOW).errorCode).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(prepareAddPartitions(initialized(), 8, 0, [{ topic: 'a', partition: 0 }], NOW).errorCode).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(prepareAddPartitions(initialized(), 7, 1, [{ topic: 'a', partition: 0 }], NOW).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('answers CONCURRENT_TRANSACTIONS while preparing or pending, after the producer checks', () => {
    expect(prepareAddPartitions({ ...ongoing(), state: TxnState.PrepareCommit }, 7, 0, [{ topic: 'z', partition: 0 }], NOW).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(prepareAddPartitions({ ...ongoing(), pending: TxnState.PrepareAbort }, 7, 0, [{ topic: 'z', partition: 0 }], NOW).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(prepareAddPartitions({ ...ongoing(), pending: TxnState.PrepareAbort }, 7, 5, [{ topic: 'z', partition: 0 }], NOW).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('starts a new transaction after a completed one, with only the new partitions', () => {
    const done = prepareComplete(prepareEndTxn(ongoing(), 7, 0, true, NOW).next!, NOW);
    const next = prepareAddPartitions(done, 7, 0, [{ topic: 'c', partition: 2 }], NOW + 99).next!;
    expect([next.state, next.startMs, partitionList(next)]).toEqual([TxnState.Ongoing, NOW + 99, [{ topic: 'c', partitions: [2] }]]);
  });
});

describe('EndTxn', () => {
  it('moves Ongoing to PrepareCommit / PrepareAbort, then Complete* without partitions', () => {
    const commit = prepareEndTxn(ongoing(), 7, 0, true, NOW).next!;
    expect(commit.state).toBe(TxnState.PrepareCommit);
    expect(partitionList(commit)).toEqual([{ topic: 'a', partitions: [0] }]);
    const done = prepareComplete(commit, NOW + 1);
    expect([done.state, partitionList(done), done.startMs]).toEqual([TxnState.CompleteCommit, [], NOW + 10]);
    expect(prepareComplete(prepareEndTxn(ongoing(), 7, 0, false, NOW).next!, NOW).state).toBe(TxnState.CompleteAbort);
  });

  it('answers a retried commit or abort NONE and the other outcome INVALID_TXN_STATE', () => {
    const committed = prepareComplete(prepareEndTxn(ongoing(), 7, 0, true, NOW).next!, NOW);
    expect(prepareEndTxn(committed, 7, 0, true, NOW)).toEqual({ errorCode: ErrorCode.NONE });
    expect(prepareEndTxn(committed, 7, 0, false, NOW).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    const aborted = prepareComplete(prepareEndTxn(ongoing(), 7, 0, false, NOW).next!, NOW);
    expect(prepareEndTxn(aborted, 7, 0, false, NOW)).toEqual({ errorCode: ErrorCode.NONE });
    expect(prepareEndTxn(aborted, 7, 0, true, NOW).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('answers INVALID_TXN_STATE with nothing open', () => {
    expect(prepareEndTxn(initialized(), 7, 0, true, NOW).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(prepareEndTxn(initialized(), 7, 0, false, NOW).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('answers the same outcome while preparing CONCURRENT_TRANSACTIONS, the other INVALID_TXN_STATE', () => {
    const preparing = prepareEndTxn(ongoing(), 7, 0, true, NOW).next!;
    expect(prepareEndTxn(preparing, 7, 0, true, NOW).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(prepareEndTxn(preparing, 7, 0, false, NOW).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(prepareEndTxn({ ...ongoing(), pending: TxnState.Ongoing }, 7, 0, true, NOW).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
  });

  it('answers INVALID_PRODUCER_ID_MAPPING and PRODUCER_FENCED for the wrong producer', () => {
    expect(prepareEndTxn(undefined, 7, 0, true, NOW).errorCode).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(prepareEndTxn(ongoing(), 9, 0, true, NOW).errorCode).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(prepareEndTxn(ongoing(), 7, 1, true, NOW).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });
});

describe('fencing, timeouts and expiry', () => {
  it('fences an Ongoing transaction (epoch + 1) and prepares its abort at the new epoch', () => {
    const md = ongoing();
    const fenced = prepareFencedAbort(md, NOW + 5);
    expect([fenced.state, fenced.producerEpoch, fenced.lastProducerEpoch, partitionList(fenced)]).toEqual([TxnState.PrepareAbort, 1, -1, [{ topic: 'a', partitions: [0] }]]);
    expect(prepareEndTxn(fenced, 7, 0, true, NOW).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(prepareAddPartitions(prepareComplete(fenced, NOW), 7, 0, [{ topic: 'a', partition: 0 }], NOW).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(() => prepareFencedAbort(initialized(), NOW)).toThrow(/Ongoing/);
  });

  it('times out an Ongoing transaction once start + timeout has passed, not while pending', () => {
    const md = ongoing(); // started NOW + 10, timeout 60 s
    expect(timedOut(md, NOW + 10 + 60_000)).toBe(false);
    expect(timedOut(md, NOW + 10 + 60_001)).toBe(true);
    expect(timedOut({ ...md, pending: TxnState.PrepareCommit }, NOW + 10 + 60_001)).toBe(false);
    expect(timedOut(initialized(), NOW + 10_000_000)).toBe(false);
  });

  it('expires idle ids with nothing open after transactional.id.expiration.ms', () => {
    const md = initialized(); // last update NOW
    expect(expired(md, NOW + 999, 1000)).toBe(false);
    expect(expired(md, NOW + 1000, 1000)).toBe(true);
    expect(expired(ongoing(), NOW + 10_000, 1000)).toBe(false);
    expect(expired({ ...md, state: TxnState.CompleteAbort }, NOW + 1000, 1000)).toBe(true);
    expect(expired({ ...md, pending: TxnState.Ongoing }, NOW + 1000, 1000)).toBe(false);
  });
});

describe('verification and the log value', () => {
  it('verifies a partition only in the producer\'s Ongoing transaction', () => {
    const md = ongoing();
    expect(verifyPartition(md, 7, 0, 'a', 0)).toBe(ErrorCode.NONE);
    expect(verifyPartition(md, 7, 0, 'a', 1)).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(verifyPartition(md, 8, 0, 'a', 0)).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(verifyPartition(initialized(), 7, 0, 'a', 0)).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(verifyPartition(undefined, 7, 0, 'a', 0)).toBe(ErrorCode.INVALID_TXN_STATE);
    // A fenced (older) epoch gets the epoch error a partition's producer state would give.
    expect(verifyPartition(prepareFencedAbort(md, NOW), 7, 0, 'a', 0)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it('verifies a group\'s offsets partition, fencing an older epoch', () => {
    const md = prepareAddPartitions(ongoing(), 7, 0, [{ topic: '__consumer_offsets', partition: 4 }], NOW).next!;
    expect(verifyOffsetsPartition(md, 7, 0, '__consumer_offsets', 4)).toBe(ErrorCode.NONE);
    expect(verifyOffsetsPartition(md, 7, 0, '__consumer_offsets', 5)).toBe(ErrorCode.INVALID_TXN_STATE);
    const newer = prepareFencedAbort(md, NOW);
    expect(verifyOffsetsPartition(newer, 7, 0, '__consumer_offsets', 4)).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('round-trips through the log value, forgetting the previous epoch as Kafka\'s v0 does', () => {
    const md = prepareAddPartitions(ongoing(), 7, 0, [{ topic: 'b', partition: 2 }], NOW).next!;
    const back = fromLogValue('t', toLogValue(md));
    expect(back).toEqual({ ...md, lastProducerEpoch: -1, lastProducerId: -1, pending: undefined });
    expect(toLogValue(initialized()).partitions).toEqual([]);
  });
});
