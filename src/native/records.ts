/**
 * Records of Kafka RecordBatch v2 (layout: native/src/record/batch_header.h and records.h):
 * decoding batches into records, building a batch from records, recompressing a batch.
 * Used by the WebSocket gateway, the CLI producer/consumer and broker-side recompression
 * (topic compression.type). The produce and fetch paths never parse records.
 *
 * Decoding runs in C++ (varints, bounds, CRC, decompression) and returns flat arrays of numbers
 * in one N-API call; this facade turns them into objects lazily, per batch, on first access to
 * `batch.records`. Record keys and values are zero-copy views: of the input buffer for uncompressed
 * batches, of the decompressed section otherwise. Copy them if you keep them and reuse the input.
 *
 * int64 fields (offsets, timestamps, producerId) are numbers: exact up to 2^53.
 *
 * Errors are BrookNativeError: CORRUPT_MESSAGE (size, CRC, malformed records), INVALID_RECORD
 * (magic != 2, null header key), UNSUPPORTED_CODEC, CODEC_ERROR (bad compressed data or over the
 * decompressed-size limit), INVALID_ARGUMENT (builder input).
 */
import { addon } from './addon.js';
import type { NativeDecoded } from './types.js';
import {
  checkMaxSize,
  Codec,
  type CompressOptions,
  DEFAULT_MAX_DECOMPRESSED_SIZE,
  isCodec,
  normalizeCompressOptions,
} from './codec.js';

export { Codec } from './codec.js';

export type TimestampType = 'CreateTime' | 'LogAppendTime';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface KafkaRecord {
  offset: number;
  /** CreateTime: the record's own timestamp; LogAppendTime: the batch maxTimestamp. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface RecordBatch {
  /** Byte offset of this batch in the decoded buffer. */
  position: number;
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  codec: Codec;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
  /** Built on first access. */
  readonly records: KafkaRecord[];
}

export interface DecodeOptions {
  /** Limit on each batch's decompressed records (CODEC_ERROR beyond). Default 64 MiB. */
  maxDecompressedSize?: number;
  /** Check each batch's CRC-32C (CORRUPT_MESSAGE on mismatch). Default true. */
  verifyCrc?: boolean;
  /** Stop before a partial batch at the end (as fetch responses may have) instead of failing. */
  allowTruncated?: boolean;
}

export interface DecodeResult {
  batches: RecordBatch[];
  /** Bytes of input covered by `batches`; less than the input only with allowTruncated. */
  bytesRead: number;
}

// Field orders of the flat arrays: native/src/napi/codec_wrap.cc.
const BATCH_FIELDS = 16;
const RECORD_FIELDS = 8;
const HEADER_FIELDS = 4;


function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

// The header fields are declared once, in RecordBatch; this merged interface gives them to the class.
// The constructor assigns them in RecordBatch's order, which is the key order of toJSON.
interface DecodedBatch extends Omit<RecordBatch, 'records'> {}
class DecodedBatch implements RecordBatch {
  #records: KafkaRecord[] | undefined;
  #source: Buffer;
  #flat: NativeDecoded;
  #firstRecord: number;

  constructor(flat: NativeDecoded, index: number, input: Buffer) {
    const b = flat.batches;
    const i = index * BATCH_FIELDS;
    this.position = b[i]!;
    this.baseOffset = b[i + 1]!;
    this.batchLength = b[i + 2]!;
    this.partitionLeaderEpoch = b[i + 3]!;
    this.magic = b[i + 4]!;
    this.crc = b[i + 5]!;
    this.attributes = b[i + 6]!;
    this.codec = (this.attributes & 0x07) as Codec;
    this.timestampType = this.attributes & 0x08 ? 'LogAppendTime' : 'CreateTime';
    this.isTransactional = (this.attributes & 0x10) !== 0;
    this.isControl = (this.attributes & 0x20) !== 0;
    this.lastOffsetDelta = b[i + 7]!;
    this.baseTimestamp = b[i + 8]!;
    this.maxTimestamp = b[i + 9]!;
    this.producerId = b[i + 10]!;
    this.producerEpoch = b[i + 11]!;
    this.baseSequence = b[i + 12]!;
    this.recordsCount = b[i + 13]!;
    const source = b[i + 14]!;
    this.#firstRecord = b[i + 15]!;
    this.#source = source < 0 ? input : flat.buffers[source]!;
    this.#flat = flat;
  }

  get records(): KafkaRecord[] {
    if (this.#records) return this.#records;
    const { records: r, headers: h } = this.#flat;
    const src = this.#source;
    const out: KafkaRecord[] = new Array(this.recordsCount);
    for (let n = 0; n < this.recordsCount; n++) {
      const i = (this.#firstRecord + n) * RECORD_FIELDS;
      const keyPos = r[i + 2]!, keyLen = r[i + 3]!, valuePos = r[i + 4]!, valueLen = r[i + 5]!;
      const firstHeader = r[i + 6]!, headerCount = r[i + 7]!;
      const headers: RecordHeader[] = new Array(headerCount);
      for (let k = 0; k < headerCount; k++) {
        const j = (firstHeader + k) * HEADER_FIELDS;
        const hk = h[j]!, hkLen = h[j + 1]!, hv = h[j + 2]!, hvLen = h[j + 3]!;
        headers[k] = { key: src.toString('utf8', hk, hk + hkLen), value: hvLen < 0 ? null : src.subarray(hv, hv + hvLen) };
      }
      out[n] = {
        offset: r[i]!,
        timestamp: r[i + 1]!,
        key: keyLen < 0 ? null : src.subarray(keyPos, keyPos + keyLen),
        value: valueLen < 0 ? null : src.subarray(valuePos, valuePos + valueLen),
        headers,
      };
    }
    this.#records = out;
    return out;
  }

  toJSON(): object {
    return { ...this, records: this.records };
  }
}

/** Decodes every batch in `buf` (one batch, or several back to back as in a fetch response). */
export function decodeBatches(buf: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  if (!(buf instanceof Uint8Array)) throw new TypeError('decodeBatches: expected a Uint8Array');
  const max = checkMaxSize(options.maxDecompressedSize ?? DEFAULT_MAX_DECOMPRESSED_SIZE);
  const flat = addon().decodeBatches(buf, max, options.verifyCrc ?? true, options.allowTruncated ?? false);
  const input = asBuffer(buf);
  const n = flat.batches.length / BATCH_FIELDS;
  const batches: RecordBatch[] = new Array(n);
  for (let i = 0; i < n; i++) batches[i] = new DecodedBatch(flat, i, input);
  return { batches, bytesRead: flat.bytesRead };
}

/**
 * The decoder's flat output itself, for hot loops that must not build an object per record (the
 * `brook consume` formatter). Batch i's fields start at batches[i * FLAT.BATCH_FIELDS]: position,
 * baseOffset, batchLength, partitionLeaderEpoch, magic, crc, attributes, lastOffsetDelta,
 * baseTimestamp, maxTimestamp, producerId, producerEpoch, baseSequence, recordsCount, source
 * (index into `buffers` of the decompressed records, or -1 for the input), firstRecord. Record j at
 * records[j * FLAT.RECORD_FIELDS]: offset, timestamp (the batch's maxTimestamp for LogAppendTime),
 * keyPos, keyLen, valuePos, valueLen (-1: null), firstHeader, headerCount; header k at
 * headers[k * FLAT.HEADER_FIELDS]: keyPos, keyLen, valuePos, valueLen. Positions are in the source.
 */
export function decodeBatchesFlat(buf: Uint8Array, options: DecodeOptions = {}): NativeDecoded {
  if (!(buf instanceof Uint8Array)) throw new TypeError('decodeBatchesFlat: expected a Uint8Array');
  const max = checkMaxSize(options.maxDecompressedSize ?? DEFAULT_MAX_DECOMPRESSED_SIZE);
  return addon().decodeBatches(buf, max, options.verifyCrc ?? true, options.allowTruncated ?? false);
}

export const FLAT = { BATCH_FIELDS, RECORD_FIELDS, HEADER_FIELDS } as const;

/** Decodes a buffer that must hold exactly one batch. */
export function decodeBatch(buf: Uint8Array, options: Omit<DecodeOptions, 'allowTruncated'> = {}): RecordBatch {
  const { batches } = decodeBatches(buf, { ...options, allowTruncated: false });
  if (batches.length !== 1) throw new RangeError(`decodeBatch: expected one batch, found ${batches.length}`);
  return batches[0]!;
}

/** Convenience: the records of every batch, in order. */
export function decodeRecords(buf: Uint8Array, options: DecodeOptions = {}): KafkaRecord[] {
  return decodeBatches(buf, options).batches.flatMap((b) => b.records);
}

export type Bytes = Uint8Array | string;

export interface RecordInput {
  key?: Bytes | null;
  value?: Bytes | null;
  headers?: { key: string; value?: Bytes | null }[];
  /** Milliseconds since the epoch; default: now. */
  timestamp?: number;
}

export interface BuildBatchOptions extends CompressOptions {
  records: RecordInput[];
  codec?: Codec;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  timestampType?: TimestampType;
  /** maxTimestamp of a LogAppendTime batch; default: now. */
  logAppendTime?: number;
}

const EMPTY = new Uint8Array(0);

function toBytes(v: Bytes | null | undefined): Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof Uint8Array) return v;
  throw new TypeError('buildBatch: keys, values and header values must be Uint8Array, string or null');
}

function checkInt(name: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`buildBatch: ${name} must be an integer in [${lo}, ${hi}], got ${v}`);
  return v;
}

/**
 * Builds one RecordBatch v2: offsetDeltas 0..n-1, baseTimestamp = the first record's timestamp,
 * maxTimestamp = the largest (or logAppendTime for LogAppendTime batches), lastOffsetDelta = n-1,
 * the batch length and the CRC-32C. Defaults: codec none, baseOffset 0, partitionLeaderEpoch -1,
 * producerId -1, producerEpoch -1, baseSequence -1 (not idempotent), CreateTime.
 */
export function buildBatch(options: BuildBatchOptions): Buffer {
  const { records } = options;
  if (!Array.isArray(records) || records.length === 0) throw new RangeError('buildBatch: a batch needs at least one record');
  const codec = options.codec ?? Codec.None;
  if (!isCodec(codec)) throw new RangeError(`buildBatch: unknown codec ${String(codec)}`);
  const { level, raw } = normalizeCompressOptions(options);
  const now = Date.now();

  let headerCount = 0;
  for (const r of records) headerCount += r.headers?.length ?? 0;
  const lengths = new Int32Array(3 * records.length + 2 * headerCount);
  const timestamps = new Float64Array(records.length);
  const chunks: Uint8Array[] = [];
  let li = 0;
  let total = 0;
  const put = (b: Uint8Array | null): void => {
    lengths[li++] = b === null ? -1 : b.length;
    if (b !== null && b.length > 0) {
      chunks.push(b);
      total += b.length;
    }
  };
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    timestamps[i] = r.timestamp === undefined ? now : checkInt('timestamp', r.timestamp, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    put(toBytes(r.key));
    put(toBytes(r.value));
    const hs = r.headers ?? [];
    lengths[li++] = hs.length;
    for (const h of hs) {
      if (typeof h.key !== 'string') throw new TypeError('buildBatch: header keys must be strings');
      put(Buffer.from(h.key, 'utf8'));
      put(toBytes(h.value));
    }
  }
  const data = chunks.length === 0 ? EMPTY : Buffer.concat(chunks, total);
  const flags = (options.isTransactional ? 1 : 0) | (options.isControl ? 2 : 0) | (options.timestampType === 'LogAppendTime' ? 4 : 0);
  const params = new Float64Array([
    codec,
    level ?? Number.NaN,
    raw ? 1 : 0,
    checkInt('baseOffset', options.baseOffset ?? 0, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    checkInt('partitionLeaderEpoch', options.partitionLeaderEpoch ?? -1, -(2 ** 31), 2 ** 31 - 1),
    checkInt('producerId', options.producerId ?? -1, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    checkInt('producerEpoch', options.producerEpoch ?? -1, -(2 ** 15), 2 ** 15 - 1),
    checkInt('baseSequence', options.baseSequence ?? -1, -(2 ** 31), 2 ** 31 - 1),
    flags,
    checkInt('logAppendTime', options.logAppendTime ?? now, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  ]);
  return addon().buildBatch(data, lengths, timestamps, params);
}

export interface RecompressOptions extends CompressOptions {
  /** Limit on the decompressed records section. Default 64 MiB. */
  maxDecompressedSize?: number;
}

/**
 * Rebuilds one batch (the buffer must hold exactly one) with `codec`, keeping every header field
 * except the batch length, CRC and the codec bits of attributes. The input's size, magic, CRC and
 * record structure are checked first, so garbage is never re-signed with a fresh CRC.
 * `options` is a level or { level, snappyFraming, maxDecompressedSize }. `codec` is checked at run
 * time (RangeError unless 0..4), so a codec id read off the wire can be passed as is.
 */
export function recompressBatch(batch: Uint8Array, codec: Codec | number, options?: number | RecompressOptions): Buffer {
  const a = recompressArgs('recompressBatch', batch, codec, options);
  return addon().recompressBatch(...a);
}

/**
 * `recompressBatch` on the libuv thread pool, for the broker's produce path when a topic's
 * compression.type means gzip (or any codec on large batches): the event loop keeps serving other
 * connections meanwhile. The batch is copied first.
 */
export function recompressBatchAsync(batch: Uint8Array, codec: Codec | number, options?: number | RecompressOptions): Promise<Buffer> {
  const a = recompressArgs('recompressBatchAsync', batch, codec, options);
  return addon().recompressBatchAsync(...a);
}

function recompressArgs(fn: string, batch: Uint8Array, codec: Codec | number, options?: number | RecompressOptions) {
  if (!(batch instanceof Uint8Array)) throw new TypeError(`${fn}: expected a Uint8Array`);
  if (!isCodec(codec)) throw new RangeError(`${fn}: unknown codec ${String(codec)}`);
  const { level, raw } = normalizeCompressOptions(options);
  const max = checkMaxSize((typeof options === 'object' ? options.maxDecompressedSize : undefined) ?? DEFAULT_MAX_DECOMPRESSED_SIZE);
  return [batch, codec, level, raw, max] as const;
}
