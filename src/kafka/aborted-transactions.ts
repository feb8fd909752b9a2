/**
 * What a read_committed reader delivers of a fetched run of RecordBatches (Kafka's client-side
 * filtering; Fetch v4+ with isolation_level 1). The broker sends data only up to the last stable
 * offset, but it still sends aborted transactions' batches and the control batches (commit and abort
 * markers) among the rest, together with `aborted_transactions`: {producer_id, first_offset} of every
 * aborted transaction that overlaps the response. The reader drops:
 * - every control batch (a marker is never a record to the application, whatever the isolation);
 * - with read_committed, the transactional batches of producer P from an entry's first_offset up to
 *   P's ABORT marker (the marker batch is where that transaction ends).
 *
 * Kept per producer: its aborted first offsets not yet passed, ascending (the list comes sorted by
 * first offset; sorted again here in case a broker sends marker order). A transactional batch of P
 * whose last offset reaches the head of P's queue is aborted; P's ABORT marker pops the head, so a
 * second abort of P in the same response starts only at its own first offset and P's committed
 * transaction between the two is delivered. A transaction whose marker is beyond the response stays
 * open to the end of it: the next response lists it again (its marker is at or after the next fetch
 * offset), so per-response state is enough.
 *
 * Control batch layout (Kafka's EndTransactionMarker, uncompressed, one record): the record's key is
 * int16 version (0), int16 type (0 ABORT, 1 COMMIT); its value int16 version, int32 coordinator epoch.
 */
import { markerAt } from '../protocol/control-record.js';
import { peekBatch } from '../protocol/record-batch.js';

/** One entry of Fetch's aborted_transactions (numbers: producer ids and offsets stay below 2^53). */
export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
}

export class TransactionFilter {
  /** Per producer: aborted first offsets still ahead, ascending, and how many were popped. */
  private readonly pending = new Map<number, { offsets: number[]; head: number }>();

  /** `aborted`: the response's list with read_committed; undefined with read_uncommitted. */
  constructor(aborted: readonly AbortedTransaction[] | undefined) {
    if (!aborted) return;
    const sorted = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
    for (const { producerId, firstOffset } of sorted) {
      let q = this.pending.get(producerId);
      if (!q) this.pending.set(producerId, (q = { offsets: [], head: 0 }));
      q.offsets.push(firstOffset);
    }
  }

  /**
   * Whether the batch that starts at `pos` of `buf` is delivered. Call it for every batch in log
   * order, control batches included (an ABORT marker ends its producer's aborted range).
   */
  keep(buf: Buffer, pos: number): boolean {
    const h = peekBatch(buf, pos);
    if (!h) return false;
    if (h.isControl) {
      if (this.pending.size > 0 && markerAt(buf, pos, h.size)?.commit === false) {
        const q = this.pending.get(h.producerId);
        // Only an aborted transaction that began at or before its marker ends there.
        if (q && q.head < q.offsets.length && q.offsets[q.head]! <= lastOffsetOf(buf, pos, h.lastOffsetDelta)) q.head++;
      }
      return false;
    }
    if (!h.isTransactional || this.pending.size === 0) return true;
    const q = this.pending.get(h.producerId);
    return !(q && q.head < q.offsets.length && q.offsets[q.head]! <= lastOffsetOf(buf, pos, h.lastOffsetDelta));
  }
}

/** baseOffset + lastOffsetDelta of the batch at `pos` (the int64 read as two halves: exact below 2^53). */
function lastOffsetOf(buf: Buffer, pos: number, lastOffsetDelta: number): number {
  return buf.readInt32BE(pos) * 2 ** 32 + buf.readUInt32BE(pos + 4) + lastOffsetDelta;
}

/**
 * The batches of `records` (whole batches; a partial one at the end is left out) a reader
 * delivers: `records` itself when nothing is dropped, else a copy of the kept batches.
 */
export function deliverableBatches(records: Buffer, filter: TransactionFilter): Buffer {
  const kept: Buffer[] = [];
  let pos = 0;
  let dropped = false;
  for (;;) {
    const h = peekBatch(records, pos);
    if (!h || h.size <= 12 || pos + h.size > records.length) break;
    if (filter.keep(records, pos)) kept.push(records.subarray(pos, pos + h.size));
    else dropped = true;
    pos += h.size;
  }
  if (!dropped && pos === records.length) return records;
  return kept.length === 1 ? kept[0]! : Buffer.concat(kept);
}
