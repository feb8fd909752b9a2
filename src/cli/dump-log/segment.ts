/**
 * Reading Kafka segment files from outside the broker, for `brook dump-log`: the `.log` (RecordBatch
 * v2 back to back, layout in native/src/record/batch_header.h), the `.index` and the `.timeindex`
 * (layouts in native/src/storage/offset_index.h and time_index.h, repeated below).
 *
 * The files may belong to a running broker, which appends to the active segment while we read. A
 * dump therefore takes the file's size once, when it opens it, and reads only up to there; a batch
 * that runs past that size is a torn tail (still being written, or cut by a crash), reported as
 * trailing bytes, never an error. Reads are positioned (pread), so nothing the broker does to its own
 * descriptors matters to us, and the broker never sees us.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { BATCH_HEADER_SIZE, CRC_START, LOG_OVERHEAD, peekBatch, storedCrc } from '../../protocol/record-batch.js';
import { crc32c } from '../../native/crc32c.js';

/** Bytes needed before the magic byte can be read: baseOffset, batchLength, leader epoch, magic. */
const HEADER_UP_TO_MAGIC = 17;
/** Bytes read ahead per pread: segments hold many small batches; one syscall per batch is slow. */
const WINDOW = 1 << 20;

/** A read-only file with a size fixed at open and a read-ahead window. */
export class SegmentFile {
  readonly size: number;
  #fd: number;
  #window = Buffer.alloc(0);
  #windowPos = 0;

  constructor(readonly path: string) {
    this.#fd = openSync(path, 'r');
    try {
      const st = fstatSync(this.#fd);
      if (!st.isFile()) throw new Error(`${path} is not a regular file`);
      this.size = st.size;
    } catch (e) {
      closeSync(this.#fd);
      throw e;
    }
  }

  /**
   * Bytes [pos, pos + len), clipped to the size taken at open. The result may be a view of the window:
   * valid until the next read.
   */
  read(pos: number, len: number): Buffer {
    const end = Math.min(pos + len, this.size);
    if (end <= pos) return Buffer.alloc(0);
    if (pos >= this.#windowPos && end <= this.#windowPos + this.#window.length) {
      return this.#window.subarray(pos - this.#windowPos, end - this.#windowPos);
    }
    const want = Math.min(Math.max(end - pos, WINDOW), this.size - pos);
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = readSync(this.#fd, buf, got, want - got, pos + got);
      if (n === 0) break; // the file shrank under us (truncated by retention or recovery)
      got += n;
    }
    this.#window = buf.subarray(0, got);
    this.#windowPos = pos;
    return this.#window.subarray(0, Math.min(end - pos, got));
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** The batch header fields dump-log prints; int64s as numbers (exact below 2^53, as everywhere in Brook). */
export interface BatchInfo {
  position: number;
  baseOffset: number;
  lastOffset: number;
  /** Bytes of the whole batch: batchLength + 12. */
  size: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  crcValid: boolean;
  attributes: number;
  codec: number;
  timestampType: 'CreateTime' | 'LogAppendTime';
  isTransactional: boolean;
  isControl: boolean;
  /** KIP-534: with attribute bit 6 set, the base timestamp field holds the delete horizon. */
  deleteHorizonMs: number | null;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastSequence: number;
  count: number;
}

/** How a scan of a `.log` ended. */
export interface ScanEnd {
  /** Bytes covered by whole batches from the start of the scan. */
  validBytes: number;
  /**
   * Bytes after the last whole batch that do not make one: a batch still being appended or torn by
   * a crash (Kafka's "Found N invalid bytes at the end"). 0 when the file ends on a batch boundary.
   */
  trailingBytes: number;
  /** Set when the bytes at `position` cannot be a v2 batch at all: the scan stopped there. */
  corrupt?: { position: number; reason: string };
}

function int64(buf: Buffer, at: number): number {
  // Offsets, timestamps and producer ids stay far below 2^53: two int32 halves are exact there.
  return buf.readInt32BE(at) * 2 ** 32 + buf.readUInt32BE(at + 4);
}

/**
 * Kafka's DefaultRecordBatch.incrementSequence: sequences wrap from Integer.MAX_VALUE to 0, so the
 * last sequence of a batch straddling the wrap is small again.
 */
export function incrementSequence(sequence: number, increment: number): number {
  if (sequence > 0x7fffffff - increment) return increment - (0x7fffffff - sequence) - 1;
  return sequence + increment;
}

/**
 * The header of the whole batch in `buf` (buf.length === its size) and whether its CRC holds: the
 * fields the produce path reads come from peekBatch; dump-log adds the ones it does not need.
 */
function batchInfo(buf: Buffer, position: number): BatchInfo {
  // Layout (big-endian): 0 baseOffset int64, 8 batchLength int32, 12 partitionLeaderEpoch int32,
  // 16 magic int8, 17 crc uint32 (CRC-32C of [21, end)), 21 attributes int16, 23 lastOffsetDelta
  // int32, 27 baseTimestamp int64, 35 maxTimestamp int64, 43 producerId int64, 51 producerEpoch
  // int16, 53 baseSequence int32, 57 recordsCount int32, 61 records.
  const p = peekBatch(buf)!;
  const baseOffset = int64(buf, 0);
  const crc = storedCrc(buf);
  const baseTimestamp = int64(buf, 27);
  return {
    position,
    baseOffset,
    lastOffset: baseOffset + p.lastOffsetDelta,
    size: buf.length,
    partitionLeaderEpoch: buf.readInt32BE(12),
    magic: p.magic,
    crc,
    crcValid: crc32c(buf.subarray(CRC_START)) === crc,
    attributes: p.attributes,
    codec: p.codec,
    timestampType: p.attributes & 0x08 ? 'LogAppendTime' : 'CreateTime',
    isTransactional: p.isTransactional,
    isControl: p.isControl,
    deleteHorizonMs: p.attributes & 0x40 ? baseTimestamp : null,
    lastOffsetDelta: p.lastOffsetDelta,
    baseTimestamp,
    maxTimestamp: int64(buf, 35),
    producerId: p.producerId,
    producerEpoch: p.producerEpoch,
    baseSequence: p.baseSequence,
    lastSequence: p.baseSequence < 0 ? -1 : incrementSequence(p.baseSequence, p.lastOffsetDelta),
    count: p.recordsCount,
  };
}

/**
 * Walks the batches of `file` from `start` to `end` (default: the size at open), calling `onBatch`
 * with each whole batch's bytes (a view, valid during the call) and header. Stops at the first bytes
 * that are not a whole batch: a short tail is trailing bytes; a header that cannot be a v2 batch
 * (magic other than 2, a length below the 61-byte header) is `corrupt`, because the next batch
 * boundary is then unknowable. A bad CRC is not a stop: the length still frames the batch.
 */
export function scanBatches(file: SegmentFile, onBatch: (buf: Buffer, info: BatchInfo) => boolean | void, start = 0, end = file.size): ScanEnd {
  let pos = start;
  while (pos < end) {
    const remaining = end - pos;
    if (remaining < HEADER_UP_TO_MAGIC) return { validBytes: pos - start, trailingBytes: remaining };
    const head = file.read(pos, HEADER_UP_TO_MAGIC);
    if (head.length < HEADER_UP_TO_MAGIC) return { validBytes: pos - start, trailingBytes: remaining };
    const magic = head.readInt8(16);
    const size = head.readInt32BE(8) + LOG_OVERHEAD;
    if (magic !== 2) {
      const why = magic === 0 || magic === 1 ? `a message format v${magic} batch (only v2, Kafka 0.11+, is read)` : `magic byte ${magic}, not 2: not a record batch`;
      return { validBytes: pos - start, trailingBytes: remaining, corrupt: { position: pos, reason: why } };
    }
    if (size < BATCH_HEADER_SIZE) {
      return { validBytes: pos - start, trailingBytes: remaining, corrupt: { position: pos, reason: `batch size ${size} is below the ${BATCH_HEADER_SIZE}-byte batch header` } };
    }
    if (size > remaining) return { validBytes: pos - start, trailingBytes: remaining };
    const buf = file.read(pos, size);
    if (buf.length < size) return { validBytes: pos - start, trailingBytes: remaining };
    if (onBatch(buf, batchInfo(buf, pos)) === false) return { validBytes: pos + size - start, trailingBytes: 0 };
    pos += size;
  }
  return { validBytes: pos - start, trailingBytes: 0 };
}

/**
 * The base offset a segment file's name carries (`00000000000000000042.log` -> 42), or undefined
 * for a name that is not 20 digits (a copy renamed by hand).
 */
export function baseOffsetFromName(path: string): number | undefined {
  const stem = basename(path).split('.')[0]!;
  return /^\d{1,20}$/.test(stem) ? Number(stem) : undefined;
}

/**
 * `.index` entries, 8 bytes each, big-endian: int32 relativeOffset (the LAST offset of the indexed
 * batch minus the segment's base offset), int32 position (where that batch starts in the .log).
 */
export interface OffsetIndexEntry {
  offset: number;
  position: number;
}

/** `.timeindex` entries, 12 bytes each: int64 timestamp, int32 relativeOffset (as in the .index). */
export interface TimeIndexEntry {
  timestamp: number;
  offset: number;
}

export interface IndexRead<E> {
  entries: E[];
  /** Bytes at the end that are less than one entry (a torn write). */
  partialBytes: number;
  /** Entries after the last real one that are all zero: a preallocated file's unused tail. */
  zeroEntries: number;
}

/**
 * Reads an index file. Kafka preallocates index files and fills them as the segment grows, so a
 * file of a live (or crashed) Kafka segment ends in zero entries; as Kafka's tool does, an entry
 * whose offset equals the base offset after the first one ends the real entries. Brook writes only
 * real entries (native/src/storage/index_file.h), but reads Kafka's files the same way.
 */
function readIndex<E extends { offset: number }>(path: string, entrySize: number, decode: (buf: Buffer, at: number) => E, baseOffset: number): IndexRead<E> {
  const file = new SegmentFile(path);
  try {
    const n = Math.floor(file.size / entrySize);
    const entries: E[] = [];
    for (let i = 0; i < n; i++) {
      const raw = file.read(i * entrySize, entrySize);
      const e = decode(raw, 0);
      e.offset += baseOffset;
      if (i > 0 && e.offset === baseOffset) return { entries, partialBytes: file.size % entrySize, zeroEntries: n - i };
      entries.push(e);
    }
    return { entries, partialBytes: file.size % entrySize, zeroEntries: 0 };
  } finally {
    file.close();
  }
}

export function readOffsetIndex(path: string, baseOffset: number): IndexRead<OffsetIndexEntry> {
  return readIndex(path, 8, (b, at) => ({ offset: b.readInt32BE(at), position: b.readInt32BE(at + 4) }), baseOffset);
}

export function readTimeIndex(path: string, baseOffset: number): IndexRead<TimeIndexEntry> {
  return readIndex(path, 12, (b, at) => ({ timestamp: int64(b, at), offset: b.readInt32BE(at + 8) }), baseOffset);
}
