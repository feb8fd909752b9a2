/**
 * The compression codecs of Kafka record batches (attributes bits 0-2), backed by the system
 * libraries through the addon (native/src/compress/codec.h has the framing details):
 *
 * | codec  | compress writes                                   | decompress accepts                         |
 * |--------|---------------------------------------------------|--------------------------------------------|
 * | gzip   | one RFC 1952 member                               | concatenated members                       |
 * | snappy | xerial framing, 32 KiB blocks (default), or raw   | xerial and raw blocks                      |
 * | lz4    | LZ4 frame, 64 KiB independent blocks, no checksum | frames with independent blocks (checksums  |
 * |        | (what Kafka writes)                               | verified when present)                     |
 * | zstd   | one frame with content size                       | any frames, with or without content size   |
 *
 * Default levels: gzip 6, lz4 0 (fast mode, as librdkafka; Kafka >= 3.8 uses 9), zstd 3; snappy has
 * none. Snappy defaults to xerial framing because the Java client and Kafka itself write it and
 * every client decodes it; `snappyFraming: 'raw'` writes what librdkafka writes.
 *
 * `compress`/`decompress` are synchronous on the calling thread: they are meant for single batches
 * (max.message.bytes is 1 MiB by default), which every codec but gzip handles in well under a
 * millisecond. `compressAsync`/`decompressAsync` copy the input and run on the libuv thread pool,
 * for gzip or large inputs on a thread that must stay responsive. Output buffers are new and owned
 * by the caller; inputs are only read (sync) or copied before the call returns (async).
 *
 * Errors are BrookNativeError with code CODEC_ERROR (corrupt, truncated, or over the size limit),
 * UNSUPPORTED_CODEC (unknown codec id) or INVALID_ARGUMENT (bad level).
 */
import { addon } from './addon.js';

// Codec ids are a wire fact (batch attribute bits 0-2), defined once with the batch layout.
import { Codec } from '../protocol/record-batch.js';
export { Codec };

export type CodecName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
const NAMES: readonly CodecName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export function codecName(codec: Codec): CodecName {
  const name = NAMES[codec];
  if (name === undefined) throw new RangeError(`unknown codec ${codec}`);
  return name;
}

/** 'gzip' -> Codec.Gzip; also accepts Kafka's 'uncompressed' for none. Undefined if unknown. */
export function codecByName(name: string): Codec | undefined {
  if (name === 'uncompressed') return Codec.None;
  const i = NAMES.indexOf(name as CodecName);
  return i < 0 ? undefined : (i as Codec);
}

export function isCodec(n: unknown): n is Codec {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 4;
}

/** Default limit for decompressed output: 64 MiB. */
export const DEFAULT_MAX_DECOMPRESSED_SIZE = 64 * 1024 * 1024;
/** Hard cap on any limit: batches are int32-sized. */
export const MAX_DECOMPRESSED_SIZE = 0x7fffffff;

export interface CompressOptions {
  /** Codec level; undefined = the codec's default (see above). */
  level?: number;
  /** Snappy only: 'xerial' (default) or 'raw'. */
  snappyFraming?: 'xerial' | 'raw';
}

/** @internal Shared argument normalisation with records.ts. */
export function normalizeCompressOptions(options: number | CompressOptions | undefined): { level: number | undefined; raw: boolean } {
  const o: CompressOptions = typeof options === 'number' ? { level: options } : (options ?? {});
  if (o.level !== undefined && !Number.isInteger(o.level)) throw new RangeError(`compression level must be an integer, got ${o.level}`);
  if (o.snappyFraming !== undefined && o.snappyFraming !== 'xerial' && o.snappyFraming !== 'raw') {
    throw new RangeError(`snappyFraming must be 'xerial' or 'raw', got ${String(o.snappyFraming)}`);
  }
  return { level: o.level, raw: o.snappyFraming === 'raw' };
}

/** @internal */
export function checkMaxSize(maxSize: number): number {
  if (typeof maxSize !== 'number' || Number.isNaN(maxSize) || maxSize < 0) throw new RangeError(`maxSize must be >= 0, got ${maxSize}`);
  return Math.min(maxSize, MAX_DECOMPRESSED_SIZE);
}

function checkCodecAndBuffer(codec: Codec, buf: Uint8Array, fn: string): void {
  if (!(buf instanceof Uint8Array)) throw new TypeError(`${fn}: expected a Uint8Array`);
  if (typeof codec !== 'number') throw new TypeError(`${fn}: codec must be a number (Codec.*)`);
}

/**
 * Compresses `buf` into the payload format of a `codec` batch. `options` is a level or
 * { level, snappyFraming }.
 */
export function compress(codec: Codec, buf: Uint8Array, options?: number | CompressOptions): Buffer {
  checkCodecAndBuffer(codec, buf, 'compress');
  const { level, raw } = normalizeCompressOptions(options);
  return addon().compress(codec, buf, level, raw);
}

/**
 * Decompresses a `codec` payload. Fails with CODEC_ERROR if the output would exceed `maxSize`
 * bytes, before allocating more than that.
 */
export function decompress(codec: Codec, buf: Uint8Array, maxSize: number = DEFAULT_MAX_DECOMPRESSED_SIZE): Buffer {
  checkCodecAndBuffer(codec, buf, 'decompress');
  return addon().decompress(codec, buf, checkMaxSize(maxSize));
}

/** `compress` on the libuv thread pool. The input is copied first: the caller may reuse it at once. */
export function compressAsync(codec: Codec, buf: Uint8Array, options?: number | CompressOptions): Promise<Buffer> {
  checkCodecAndBuffer(codec, buf, 'compressAsync');
  const { level, raw } = normalizeCompressOptions(options);
  return addon().compressAsync(codec, buf, level, raw);
}

/** `decompress` on the libuv thread pool. The input is copied first: the caller may reuse it at once. */
export function decompressAsync(codec: Codec, buf: Uint8Array, maxSize: number = DEFAULT_MAX_DECOMPRESSED_SIZE): Promise<Buffer> {
  checkCodecAndBuffer(codec, buf, 'decompressAsync');
  return addon().decompressAsync(codec, buf, checkMaxSize(maxSize));
}
