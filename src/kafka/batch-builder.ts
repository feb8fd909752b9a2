/**
 * Builds one RecordBatch v2 by writing each record straight into the batch's buffer as it is
 * appended: no record objects, no second pass. This is the producer's hot path (a log line or a perf
 * record costs a few varint stores and one copy of its bytes); the CRC-32C and any compression are
 * one native call each per batch.
 *
 * Batch header (61 bytes, big-endian; native/src/record/batch_header.h has the rationale):
 *
 *   0  baseOffset int64 (0: the broker assigns)   8 batchLength int32 (bytes after this field)
 *  12  partitionLeaderEpoch int32 (-1)            16 magic int8 (2)
 *  17  crc uint32: CRC-32C of bytes [21, end)      21 attributes int16 (codec in bits 0-2, CreateTime)
 *  23  lastOffsetDelta int32                       27 baseTimestamp int64
 *  35  maxTimestamp int64                          43 producerId int64
 *  51  producerEpoch int16                         53 baseSequence int32
 *  57  recordsCount int32                          61 records (compressed as a whole when a codec is set)
 *
 * Record (varints are zigzag, as Kafka's ByteUtils.writeVarint):
 *
 *   length varint (bytes after it) | attributes int8 (0) | timestampDelta varlong | offsetDelta varint
 *   | keyLength varint (-1 = null) | key | valueLength varint (-1 = null) | value
 *   | headerCount varint | per header: keyLength varint, key (UTF-8), valueLength varint (-1 = null), value
 */
import { compress } from '../native/codec.js';
import { crc32c } from '../native/crc32c.js';
import type { Codec } from '../native/codec.js';

export const BATCH_HEADER_SIZE = 61;

export interface Header {
  key: string;
  value: Buffer | null;
}

/** Bytes of `v` as a zigzag varint (int32 range and, through doubles, the int64 deltas we write). */
function varintSize(v: number): number {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    n++;
  }
  return n;
}

export class BatchBuilder {
  private buf: Buffer;
  private pos = BATCH_HEADER_SIZE;
  count = 0;
  private baseTimestamp = 0;
  private maxTimestamp = 0;
  /** Sum and minimum of the records' creation times (performance.now()), for latency accounting. */
  createdSum = 0;
  createdMin = Infinity;
  /** Each record's creation time, in order, when asked for (perf tools: exact per-record latency). */
  created: Float64Array | undefined;

  /**
   * `capacity`: bytes the batch may reach before append refuses more (the producer's batch.size).
   * `reuse`: a buffer to write into (from an earlier batch, see `buffer`), instead of a new one.
   */
  constructor(
    readonly capacity: number,
    keepCreated = false,
    reuse?: Buffer,
  ) {
    this.buf = reuse !== undefined && reuse.length >= BATCH_HEADER_SIZE + 64 ? reuse : Buffer.allocUnsafe(Math.max(BATCH_HEADER_SIZE + 64, Math.min(capacity, 64 * 1024)));
    if (keepCreated) this.created = new Float64Array(256);
  }

  /**
   * The buffer the records were written into. After finish() an uncompressed batch is a view of it;
   * a producer may hand it to a later builder once nothing reads that batch any more: fresh memory
   * costs a page fault per 4 KiB on first touch, more than the copy into it.
   */
  get buffer(): Buffer {
    return this.buf;
  }

  /** Bytes the batch holds so far (header included, uncompressed). */
  get size(): number {
    return this.pos;
  }

  /**
   * Appends one record; false when it would take the batch past its capacity (an empty batch takes
   * any record, so one larger than batch.size still goes, alone, as Kafka's producer does).
   */
  append(timestamp: number, key: Buffer | null, value: Buffer | null, headers: readonly Header[] | null, created: number): boolean {
    if (this.count === 0) {
      this.baseTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    }
    const tsDelta = timestamp - this.baseTimestamp;
    const keyLen = key === null ? -1 : key.length;
    const valueLen = value === null ? -1 : value.length;
    let headerBytes = varintSize(headers === null ? 0 : headers.length);
    let headerKeys: Buffer[] | undefined;
    if (headers !== null && headers.length > 0) {
      headerKeys = headers.map((h) => Buffer.from(h.key, 'utf8'));
      for (let i = 0; i < headers.length; i++) {
        const hk = headerKeys[i]!;
        const hv = headers[i]!.value;
        headerBytes += varintSize(hk.length) + hk.length + varintSize(hv === null ? -1 : hv.length) + (hv === null ? 0 : hv.length);
      }
    }
    const bodyLen =
      1 + varintSize(tsDelta) + varintSize(this.count) + varintSize(keyLen) + Math.max(keyLen, 0) + varintSize(valueLen) + Math.max(valueLen, 0) + headerBytes;
    const total = varintSize(bodyLen) + bodyLen;
    if (this.count > 0 && this.pos + total > this.capacity) return false;
    this.ensure(total);
    let p = this.writeVarint(this.pos, bodyLen);
    this.buf[p++] = 0; // attributes
    p = this.writeVarint(p, tsDelta);
    p = this.writeVarint(p, this.count);
    p = this.writeVarint(p, keyLen);
    if (key !== null) p += key.copy(this.buf, p);
    p = this.writeVarint(p, valueLen);
    if (value !== null) p += value.copy(this.buf, p);
    p = this.writeVarint(p, headers === null ? 0 : headers.length);
    if (headerKeys !== undefined) {
      for (let i = 0; i < headerKeys.length; i++) {
        const hk = headerKeys[i]!;
        const hv = headers![i]!.value;
        p = this.writeVarint(p, hk.length);
        p += hk.copy(this.buf, p);
        p = this.writeVarint(p, hv === null ? -1 : hv.length);
        if (hv !== null) p += hv.copy(this.buf, p);
      }
    }
    this.pos = p;
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    this.count++;
    this.createdSum += created;
    if (created < this.createdMin) this.createdMin = created;
    if (this.created !== undefined) {
      if (this.count > this.created.length) {
        const grown = new Float64Array(this.created.length * 2);
        grown.set(this.created);
        this.created = grown;
      }
      this.created[this.count - 1] = created;
    }
    return true;
  }

  /**
   * The finished batch: records compressed with `codec` (0: none), header filled, CRC computed. The
   * builder must not be used afterwards.
   */
  finish(codec: Codec, producerId = -1, producerEpoch = -1, baseSequence = -1): Buffer {
    let batch = this.buf.subarray(0, this.pos);
    if (codec !== 0) {
      const compressed = compress(codec, batch.subarray(BATCH_HEADER_SIZE));
      const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + compressed.length);
      compressed.copy(out, BATCH_HEADER_SIZE);
      batch = out;
    }
    batch.writeBigInt64BE(0n, 0);
    batch.writeInt32BE(batch.length - 12, 8);
    batch.writeInt32BE(-1, 12);
    batch.writeInt8(2, 16);
    batch.writeInt16BE(codec, 21);
    batch.writeInt32BE(this.count - 1, 23);
    writeInt64(batch, 27, this.baseTimestamp);
    writeInt64(batch, 35, this.maxTimestamp);
    writeInt64(batch, 43, producerId);
    batch.writeInt16BE(producerEpoch, 51);
    batch.writeInt32BE(baseSequence, 53);
    batch.writeInt32BE(this.count, 57);
    batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
    return batch;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  private writeVarint(p: number, v: number): number {
    const buf = this.buf;
    if (v >= 0 && v < 64) {
      buf[p] = v * 2;
      return p + 1;
    }
    let z = v >= 0 ? v * 2 : -v * 2 - 1;
    while (z >= 128) {
      buf[p++] = (z % 128) | 128;
      z = Math.floor(z / 128);
    }
    buf[p++] = z;
    return p;
  }
}

/** int64 from a safe-integer number (timestamps, producer ids), as two int32 halves. */
function writeInt64(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / 2 ** 32);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * 2 ** 32, at + 4);
}
