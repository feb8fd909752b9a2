/**
 * The read_committed filter of fetched batches (src/kafka/aborted-transactions.ts): markers never
 * delivered, aborted transactions' batches dropped from their first offset to their producer's
 * ABORT marker, over batches built by the native builder as a broker would store them.
 */
import { describe, expect, it } from 'vitest';
import { deliverableBatches, TransactionFilter, type AbortedTransaction } from '../../../src/kafka/aborted-transactions.js';
import { buildBatch, decodeBatches } from '../../../src/native/records.js';

/** A transactional data batch of `producerId` with `count` records from `baseOffset`. */
function txn(producerId: number, baseOffset: number, count = 1): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ value: `p${producerId}@${baseOffset + i}`, timestamp: 1000 }));
  return buildBatch({ records, baseOffset, producerId, producerEpoch: 0, baseSequence: baseOffset, isTransactional: true });
}

/** A non-transactional batch (no producer id). */
function plain(baseOffset: number): Buffer {
  return buildBatch({ records: [{ value: `plain@${baseOffset}`, timestamp: 1000 }], baseOffset });
}

/** Kafka's EndTransactionMarker control batch: key int16 version 0, int16 type; value int16 0, int32 coordinator epoch. */
function marker(producerId: number, offset: number, commit: boolean): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(commit ? 1 : 0, 2);
  const value = Buffer.alloc(6);
  value.writeInt32BE(3, 2);
  return buildBatch({ records: [{ key, value, timestamp: 1000 }], baseOffset: offset, producerId, producerEpoch: 0, isTransactional: true, isControl: true });
}

/** Offsets of the records delivered from a response holding `batches`. */
function delivered(batches: Buffer[], aborted: AbortedTransaction[] | undefined): number[] {
  const kept = deliverableBatches(Buffer.concat(batches), new TransactionFilter(aborted));
  return decodeBatches(kept).batches.flatMap((b) => b.records.map((r) => r.offset));
}

describe('TransactionFilter', () => {
  it('drops markers but keeps aborted data with read_uncommitted', () => {
    const log = [txn(1, 0, 2), marker(1, 2, false), txn(2, 3), marker(2, 4, true), plain(5)];
    expect(delivered(log, undefined)).toEqual([0, 1, 3, 5]);
  });

  it('drops an aborted producer between interleaved transactions and keeps the committed one', () => {
    // P1 (aborted) and P2 (committed) write in turns; their markers come in the other order.
    const log = [txn(1, 0), txn(2, 1, 2), txn(1, 3), txn(2, 4), marker(2, 5, true), marker(1, 6, false), plain(7), txn(2, 8), marker(2, 9, true)];
    expect(delivered(log, [{ producerId: 1, firstOffset: 0 }])).toEqual([1, 2, 4, 7, 8]);
  });

  it('ends each of two aborts of one producer at its own marker, delivering the commit between', () => {
    const log = [txn(7, 0, 2), marker(7, 2, false), txn(7, 3), marker(7, 4, true), plain(5), txn(7, 6), marker(7, 7, false), txn(7, 8), marker(7, 9, true)];
    const aborted = [
      { producerId: 7, firstOffset: 0 },
      { producerId: 7, firstOffset: 6 },
    ];
    expect(delivered(log, aborted)).toEqual([3, 5, 8]);
    // Marker order from a broker that does not sort: the filter sorts by first offset itself.
    expect(delivered(log, [...aborted].reverse())).toEqual([3, 5, 8]);
  });

  it('keeps dropping an aborted transaction whose marker is in a later response', () => {
    // Response 1 (fetch from 0) ends before P1's marker; P2 commits within it.
    const first = [txn(1, 0), txn(2, 1), marker(2, 2, true), txn(1, 3)];
    expect(delivered(first, [{ producerId: 1, firstOffset: 0 }])).toEqual([1]);
    // Response 2 (fetch from 4): the broker lists the transaction again (its marker is at 5 >= 4).
    const second = [txn(1, 4), marker(1, 5, false), txn(1, 6), marker(1, 7, true)];
    expect(delivered(second, [{ producerId: 1, firstOffset: 0 }])).toEqual([6]);
  });

  it('drops an aborted transaction that began before the fetch offset', () => {
    expect(delivered([txn(3, 10, 3), marker(3, 13, false), plain(14)], [{ producerId: 3, firstOffset: 4 }])).toEqual([14]);
  });

  it("delivers a producer's transactions before its aborted first offset", () => {
    // Committed at 0 (marker 1), aborted from 2: the entry does not reach back to 0.
    expect(delivered([txn(5, 0), marker(5, 1, true), txn(5, 2), marker(5, 3, false)], [{ producerId: 5, firstOffset: 2 }])).toEqual([0]);
  });

  it('ignores an ABORT marker of a producer the list does not name (a fetch between data and marker elsewhere)', () => {
    expect(delivered([marker(9, 0, false), txn(1, 1), marker(1, 2, false), plain(3)], [{ producerId: 1, firstOffset: 1 }])).toEqual([3]);
  });

  it('never drops non-transactional batches, even of a listed producer id', () => {
    const idempotent = buildBatch({ records: [{ value: 'x', timestamp: 1 }], baseOffset: 5, producerId: 1, producerEpoch: 0, baseSequence: 0 });
    expect(delivered([txn(1, 4), idempotent], [{ producerId: 1, firstOffset: 4 }])).toEqual([5]);
  });
});

describe('deliverableBatches', () => {
  it('returns the same buffer when nothing is dropped, and leaves out a partial batch at the end', () => {
    const whole = Buffer.concat([plain(0), txn(1, 1)]);
    expect(deliverableBatches(whole, new TransactionFilter([]))).toBe(whole);
    const cut = Buffer.concat([whole, plain(2).subarray(0, 30)]);
    const kept = deliverableBatches(cut, new TransactionFilter(undefined));
    expect(kept.length).toBe(whole.length);
    expect(decodeBatches(kept).batches.map((b) => b.baseOffset)).toEqual([0, 1]);
  });

  it('is empty when every batch is dropped', () => {
    expect(deliverableBatches(Buffer.concat([txn(1, 0), marker(1, 1, false)]), new TransactionFilter([{ producerId: 1, firstOffset: 0 }])).length).toBe(0);
  });
});
