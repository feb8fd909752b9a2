/**
 * Reads records for the gateway from a partition log: the same native read as Fetch (readBuffer:
 * whole batches from the one containing the offset, KIP-74), decoded by the addon (which
 * decompresses gzip/snappy/lz4/zstd: browsers have none of those codecs). Control batches (there
 * are none before transactions) are passed over. Records are zero-copy views of the read buffer.
 */
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

/**
 * Up to about `maxBytes` of batches from `offset`, never past `upTo` (the high watermark). At
 * least one batch when there is data, whatever its size. Empty when offset >= upTo.
 */
export function readRecords(log: PartitionLog, offset: number, maxBytes: number, upTo: number): ReadChunk {
  if (offset >= upTo) return { records: [], end: offset, bytes: 0 };
  const buf = log.readBuffer(offset, maxBytes, upTo);
  const { batches } = decodeBatches(buf, { verifyCrc: false });
  const records: KafkaRecord[] = [];
  let end = offset;
  for (const b of batches) {
    // Compaction can leave a batch whose last records are gone: its lastOffsetDelta still
    // counts them, so the next read starts after the batch, not after its last surviving record.
    end = Math.max(end, b.baseOffset + b.lastOffsetDelta + 1);
    if (b.isControl) continue;
    for (const r of b.records) if (r.offset >= offset) records.push(r);
  }
  return { records, end, bytes: buf.length };
}
