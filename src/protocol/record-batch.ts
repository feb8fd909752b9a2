/**
 * Reads the fixed header fields of RecordBatch v2 without parsing records: what the produce path
 * needs to route a batch (idempotence, codec, count) at the cost of a few loads. The layout and its
 * rationale are documented in native/src/record/batch_header.h; offsets here mirror it.
 */
const BATCH_LENGTH = 8; // int32: bytes after this field
const MAGIC = 16; // int8
const ATTRIBUTES = 21; // int16
const LAST_OFFSET_DELTA = 23; // int32
const PRODUCER_ID = 43; // int64
const PRODUCER_EPOCH = 51; // int16
const BASE_SEQUENCE = 53; // int32
const RECORDS_COUNT = 57; // int32

const CRC = 17; // uint32: CRC-32C of bytes [ATTRIBUTES, end)

/** Size of the fixed part: the smallest valid batch. */
export const BATCH_HEADER_SIZE = 61;
/** baseOffset + batchLength. */
export const LOG_OVERHEAD = 12;

/** Compression codec ids, attribute bits 0-2. */
export const Codec = { None: 0, Gzip: 1, Snappy: 2, Lz4: 3, Zstd: 4 } as const;
export type Codec = (typeof Codec)[keyof typeof Codec];

export interface BatchPeek {
  /** Bytes of the whole batch (batchLength + 12). */
  size: number;
  magic: number;
  attributes: number;
  codec: Codec;
  isTransactional: boolean;
  isControl: boolean;
  lastOffsetDelta: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

/** The header of the batch at `pos`, or undefined when fewer than 61 bytes remain. */
export function peekBatch(buf: Buffer, pos = 0): BatchPeek | undefined {
  if (buf.length - pos < BATCH_HEADER_SIZE) return undefined;
  const attributes = buf.readInt16BE(pos + ATTRIBUTES);
  return {
    size: buf.readInt32BE(pos + BATCH_LENGTH) + LOG_OVERHEAD,
    magic: buf.readInt8(pos + MAGIC),
    attributes,
    codec: (attributes & 0x07) as Codec,
    isTransactional: (attributes & 0x10) !== 0,
    isControl: (attributes & 0x20) !== 0,
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA),
    // Producer ids are allocated from 0 upwards and stay far below 2^53: read as two int32 halves
    // (exact in that range, and -1 stays -1) rather than through a BigInt.
    producerId: buf.readInt32BE(pos + PRODUCER_ID) * 2 ** 32 + buf.readUInt32BE(pos + PRODUCER_ID + 4),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE),
    recordsCount: buf.readInt32BE(pos + RECORDS_COUNT),
  };
}

/** The CRC-32C the batch at the start of `buf` carries (checked with native crc32c over [21, end)). */
export function storedCrc(buf: Buffer): number {
  return buf.readUInt32BE(CRC);
}

/** Where the CRC-32C of a batch starts: bytes [CRC_START, end) are checksummed. */
export const CRC_START = ATTRIBUTES;

/** Byte position of the first zstd-compressed batch in `buf`, or -1 (for clients below Fetch v10). */
export function firstZstdBatch(buf: Buffer): number {
  for (let pos = 0; buf.length - pos >= BATCH_HEADER_SIZE; ) {
    if ((buf.readInt16BE(pos + ATTRIBUTES) & 0x07) === Codec.Zstd) return pos;
    const size = buf.readInt32BE(pos + BATCH_LENGTH) + LOG_OVERHEAD;
    if (size <= LOG_OVERHEAD) break;
    pos += size;
  }
  return -1;
}
