/**
 * Reads records for the gateway from a partition log: the same native read as Fetch (readBuffer:
 * whole batches from the one containing the offset, KIP-74), decoded by the addon (which
 * decompresses gzip/snappy/lz4/zstd: browsers have none of those codecs). Records are zero-copy
 * views of the read buffer.
 *
 * Transactions: control batches (commit and abort markers) are never records to a viewer. A
 * read_committed reader (the gateway's default) reads only up to the last stable offset and drops
 * the batches of aborted transactions, with the same client-side rule as the Kafka consumer
 * (src/kafka/aborted-transactions.ts) over the partition's aborted list for the range read.
 */
import type { Broker } from '../broker/broker.js';
import { TransactionFilter, type AbortedTransaction } from '../kafka/aborted-transactions.js';
import { decodeBatches, type KafkaRecord } from '../native/records.js';
import type { PartitionLog } from '../storage/partition-log.js';

export interface ReadChunk {
  /** Records with offset >= the requested offset, in order. */
  records: KafkaRecord[];
  /** The offset after the last batch read: where the next read starts once every record is taken. */
  end: number;
  /** Bytes read from the log. */
  bytes: number;
}

/** What a subscription or stream sees of its partitions (`isolation`, docs/websocket.md). */
export type Isolation = 'read_committed' | 'read_uncommitted';

/**
 * Up to about `maxBytes` of batches from `offset`, never past `upTo` (the readable end). At
 * least one batch when there is data, whatever its size. Empty when offset >= upTo. `aborted`: the
 * aborted transactions overlapping [offset, upTo) for a read_committed reader, undefined otherwise.
 */
export function readRecords(log: PartitionLog, offset: number, maxBytes: number, upTo: number, aborted?: readonly AbortedTransaction[]): ReadChunk {
  if (offset >= upTo) return { records: [], end: offset, bytes: 0 };
  const buf = log.readBuffer(offset, maxBytes, upTo);
  const { batches } = decodeBatches(buf, { verifyCrc: false });
  const filter = new TransactionFilter(aborted);
  const records: KafkaRecord[] = [];
  let end = offset;
  for (const b of batches) {
    // Compaction can leave a batch whose last records are gone: its lastOffsetDelta still
    // counts them, so the next read starts after the batch, not after its last surviving record.
    // Dropped batches (markers, aborted data) move the end too.
    end = Math.max(end, b.baseOffset + b.lastOffsetDelta + 1);
    if (!filter.keep(buf, b.position)) continue;
    for (const r of b.records) if (r.offset >= offset) records.push(r);
  }
  return { records, end, bytes: buf.length };
}

/** A reader's view of partitions at one isolation level: how far it reads, and the read itself. */
export class PartitionReads {
  readonly readCommitted: boolean;

  constructor(
    private readonly broker: Broker,
    readonly isolation: Isolation,
  ) {
    this.readCommitted = isolation === 'read_committed';
  }

  /** The high watermark, or with read_committed the last stable offset (never above it). */
  end(log: PartitionLog): number {
    return this.broker.readableEnd(log, this.readCommitted);
  }

  read(log: PartitionLog, offset: number, maxBytes: number, upTo: number): ReadChunk {
    const aborted = this.readCommitted && offset < upTo ? this.broker.producersOfLog(log).abortedTransactions(offset, upTo) : undefined;
    return readRecords(log, offset, maxBytes, upTo, aborted);
  }
}
