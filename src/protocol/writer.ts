/**
 * Big-endian writer for Kafka's primitive types (layouts: see the table in reader.ts).
 *
 * Output is a list of chunks, not necessarily one Buffer, so a Fetch response can carry record
 * data the protocol layer never touches:
 *
 * - A `records` value may be a Buffer or a {@link ChunkedRecords}: a declared length plus chunks,
 *   each a Buffer or an opaque {@link ExternalChunk} (a file slice the network layer sends with
 *   sendfile). The codec only reads `.length` of an external chunk.
 * - Bytes written field by field go into one growing Buffer (capacity doubles), so the common case
 *   (no external chunks) ends as a single Buffer: `finish()` returns `[oneBuffer]`.
 * - An external chunk cuts the current Buffer: the bytes so far become one output chunk, the
 *   external chunk follows, and writing resumes in the same allocation after the cut (the cut-off
 *   part is never written again, so the view handed out stays valid).
 * - A Buffer inside records shorter than COPY_THRESHOLD is copied into the current Buffer
 *   (coalesced, so small batches do not become many small socket writes); a longer one is passed
 *   through by reference (a large `pread` result is not copied a second time).
 *
 * Consecutive bytes written here therefore always come out as one Buffer; the only boundaries in
 * the output are around external chunks and large pass-through Buffers.
 */
import { uuidToBytes } from './uuid.js';

/** A piece of the output the protocol layer does not look inside (e.g. a file slice). */
export interface ExternalChunk {
  readonly length: number;
}

/** Record data given as pieces; `length` must equal the sum of the chunk lengths. */
export interface ChunkedRecords {
  readonly length: number;
  readonly chunks: ReadonlyArray<Buffer | ExternalChunk>;
}

/** What a `records` field accepts on encode. */
export type RecordsValue = Buffer | ChunkedRecords;

/** One piece of encoded output: bytes, or an external chunk to be sent as is. */
export type Chunk = Buffer | ExternalChunk;

/** Buffers inside records at least this long are passed through instead of copied. */
export const COPY_THRESHOLD = 16 * 1024;

const INITIAL_CAPACITY = 256;

/** Strings up to this many UTF-16 units try the ASCII copy loop first. */
const SHORT_STRING = 64;

export class Writer {
  private buf: Buffer;
  /** Next write position in `buf`. */
  private pos = 0;
  /** Start of the bytes in `buf` not yet handed out as a chunk. */
  private segmentStart = 0;
  /** Chunks already cut off; null until the first external or pass-through chunk. */
  private out: Chunk[] | null = null;
  /** Total length of the chunks in `out`. */
  private cutLength = 0;

  constructor(initialCapacity = INITIAL_CAPACITY) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  /** Bytes written so far, external chunks included. */
  get length(): number {
    return this.cutLength + this.pos - this.segmentStart;
  }

  /** Makes room for `n` more bytes in `buf`. */
  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    // Only the pending segment moves; views already handed out keep the old allocation alive.
    const pending = this.pos - this.segmentStart;
    const capacity = Math.max(this.buf.length * 2, pending + n, INITIAL_CAPACITY);
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, this.segmentStart, this.pos);
    this.buf = next;
    this.segmentStart = 0;
    this.pos = pending;
  }

  /** Hands out the pending segment as a chunk and appends `chunk` after it. */
  private cut(chunk: Chunk): void {
    const out = (this.out ??= []);
    if (this.pos > this.segmentStart) {
      out.push(this.buf.subarray(this.segmentStart, this.pos));
      this.cutLength += this.pos - this.segmentStart;
      this.segmentStart = this.pos;
    }
    if (chunk.length > 0) {
      out.push(chunk);
      this.cutLength += chunk.length;
    }
  }

  // Fixed-width integers are stored byte by byte: no range check (values are truncated to the
  // field's width), which is measurably faster than Buffer's checked writeInt32BE & co. on the
  // per-partition path. Callers pass values that fit; the schema types say which.

  int8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int16(v: number): void {
    this.ensure(2);
    const buf = this.buf;
    const pos = this.pos;
    buf[pos] = (v >>> 8) & 0xff;
    buf[pos + 1] = v & 0xff;
    this.pos = pos + 2;
  }

  uint16(v: number): void {
    this.int16(v);
  }

  int32(v: number): void {
    this.ensure(4);
    const buf = this.buf;
    const pos = this.pos;
    buf[pos] = (v >>> 24) & 0xff;
    buf[pos + 1] = (v >>> 16) & 0xff;
    buf[pos + 2] = (v >>> 8) & 0xff;
    buf[pos + 3] = v & 0xff;
    this.pos = pos + 4;
  }

  uint32(v: number): void {
    this.int32(v);
  }

  /**
   * INT64 from a bigint or a safe integer number. Values within +-(2^53 - 1), i.e. every offset
   * and timestamp in practice, avoid bigint arithmetic entirely (Buffer.writeBigInt64BE allocates
   * intermediate bigints and was the largest single cost of encoding a Produce response).
   */
  int64(v: bigint | number): void {
    const n = typeof v === 'number' ? v : Number(v);
    if (n <= Number.MAX_SAFE_INTEGER && n >= -Number.MAX_SAFE_INTEGER) {
      // Exact: Number(v) of a bigint inside the safe range loses nothing.
      const high = Math.floor(n / 0x1_0000_0000);
      this.int32(high);
      this.int32(n - high * 0x1_0000_0000);
      return;
    }
    if (typeof v === 'number') throw new RangeError(`int64 number ${v} is not a safe integer; pass a bigint`);
    this.ensure(8);
    this.pos = this.buf.writeBigInt64BE(v, this.pos);
  }

  float64(v: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleBE(v, this.pos);
  }

  /** UNSIGNED_VARINT of `v` in [0, 2^32). */
  uvarint(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** VARINT: zigzag then unsigned, for signed 32-bit `v`. */
  varint(v: number): void {
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** UNSIGNED_VARLONG of `v` in [0, 2^64). */
  uvarlong(v: bigint): void {
    if (v < 0x1_0000_0000n) {
      this.uvarint(Number(v));
      return;
    }
    this.ensure(10);
    while (v > 0x7fn) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  /** VARLONG: zigzag then unsigned, for signed 64-bit `v`. */
  varlong(v: bigint): void {
    this.uvarlong(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)));
  }

  /** UUID from its string form (see uuid.ts). */
  uuid(v: string): void {
    this.ensure(16);
    uuidToBytes(v, this.buf, this.pos);
    this.pos += 16;
  }

  /** Copies `bytes` into the output. */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /**
   * Writes `v` as UTF-8 at `at` (capacity already ensured) and returns the byte count. Short
   * ASCII strings (topic names, client ids, member ids) are copied in a loop: cheaper than the
   * native call for the lengths we see.
   */
  private utf8At(v: string, at: number): number {
    const len = v.length;
    if (len <= SHORT_STRING) {
      const buf = this.buf;
      let i = 0;
      for (; i < len; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + i] = c;
      }
      if (i === len) return len;
    }
    return this.buf.write(v, at, 'utf8');
  }

  /** STRING / NULLABLE_STRING: INT16 byte length (-1 for null), then UTF-8. */
  nullableString(v: string | null): void {
    if (v === null) {
      this.int16(-1);
      return;
    }
    // Write the text first at its final place (UTF-8 needs at most 3 bytes per UTF-16 unit),
    // then fill in the length: one pass over the string.
    this.ensure(2 + v.length * 3);
    const n = this.utf8At(v, this.pos + 2);
    if (n > 0x7fff) throw new RangeError(`string of ${n} bytes exceeds the INT16 length`);
    this.buf[this.pos] = n >>> 8;
    this.buf[this.pos + 1] = n & 0xff;
    this.pos += 2 + n;
  }

  string(v: string): void {
    this.nullableString(v);
  }

  /** COMPACT_STRING / COMPACT_NULLABLE_STRING: UNSIGNED_VARINT N+1 (0 for null), then UTF-8. */
  compactNullableString(v: string | null): void {
    if (v === null) {
      this.uvarint(0);
      return;
    }
    if (v.length <= 42) {
      // At most 126 bytes, so the length prefix N+1 is a single byte: write text first, then it.
      this.ensure(1 + v.length * 3);
      const n = this.utf8At(v, this.pos + 1);
      this.buf[this.pos] = n + 1;
      this.pos += 1 + n;
      return;
    }
    const n = Buffer.byteLength(v, 'utf8');
    this.uvarint(n + 1);
    this.ensure(n);
    this.pos += this.buf.write(v, this.pos, 'utf8');
  }

  compactString(v: string): void {
    this.compactNullableString(v);
  }

  /** BYTES / NULLABLE_BYTES: INT32 length (-1 for null), then the bytes. */
  nullableBytes(v: Uint8Array | null): void {
    if (v === null) {
      this.int32(-1);
      return;
    }
    this.int32(v.length);
    this.raw(v);
  }

  bytes(v: Uint8Array): void {
    this.nullableBytes(v);
  }

  /** COMPACT_BYTES / COMPACT_NULLABLE_BYTES: UNSIGNED_VARINT N+1 (0 for null), then the bytes. */
  compactNullableBytes(v: Uint8Array | null): void {
    if (v === null) {
      this.uvarint(0);
      return;
    }
    this.uvarint(v.length + 1);
    this.raw(v);
  }

  compactBytes(v: Uint8Array): void {
    this.compactNullableBytes(v);
  }

  /** ARRAY count: INT32, -1 for null. */
  arrayLength(n: number | null): void {
    this.int32(n === null ? -1 : n);
  }

  /** COMPACT_ARRAY count: UNSIGNED_VARINT N+1, 0 for null. */
  compactArrayLength(n: number | null): void {
    this.uvarint(n === null ? 0 : n + 1);
  }

  /** A TAG_BUFFER with no fields: a single zero byte. */
  emptyTaggedFields(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0;
  }

  /**
   * RECORDS (nullable BYTES, or COMPACT_NULLABLE_BYTES when `compact`): the length prefix, then
   * the record data, copied, passed through or cut in as external chunks (see the file comment).
   */
  records(v: RecordsValue | null, compact: boolean): void {
    if (v === null) {
      if (compact) this.uvarint(0);
      else this.int32(-1);
      return;
    }
    if (compact) this.uvarint(v.length + 1);
    else this.int32(v.length);
    if (Buffer.isBuffer(v)) {
      this.appendBuffer(v);
      return;
    }
    let sum = 0;
    for (const chunk of v.chunks) {
      sum += chunk.length;
      if (Buffer.isBuffer(chunk)) this.appendBuffer(chunk);
      else this.cut(chunk);
    }
    if (sum !== v.length) {
      throw new RangeError(`records declare ${v.length} bytes but their chunks hold ${sum}`);
    }
  }

  private appendBuffer(b: Buffer): void {
    if (b.length < COPY_THRESHOLD) this.raw(b);
    else this.cut(b);
  }

  /**
   * The output: Buffers and external chunks in order. Without external or pass-through chunks this
   * is exactly one Buffer (a view of the writer's allocation). The writer must not be used after.
   */
  finish(): Chunk[] {
    const tail = this.buf.subarray(this.segmentStart, this.pos);
    if (this.out === null) return [tail];
    if (tail.length > 0) this.out.push(tail);
    return this.out;
  }

  /**
   * Like finish(), for output framed by a size prefix: the caller wrote `int32(0)` as the very first
   * field; this patches it with the length of everything after it (external chunks included).
   */
  finishFrame(): Chunk[] {
    const size = this.length - 4;
    const chunks = this.finish();
    const first = chunks[0];
    if (!Buffer.isBuffer(first) || first.length < 4) {
      throw new Error('finishFrame(): the frame does not start with a reserved INT32 size');
    }
    first.writeInt32BE(size, 0);
    return chunks;
  }

  /** The output as one Buffer; only for output without external chunks (requests, tests). */
  toBuffer(): Buffer {
    return concatChunks(this.finish());
  }
}

/** Total byte length of a chunk list. */
export function chunksLength(chunks: ReadonlyArray<Chunk>): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

/** Joins Buffer chunks; throws if any chunk is external (the codec cannot read those). */
export function concatChunks(chunks: ReadonlyArray<Chunk>): Buffer {
  if (chunks.length === 1 && Buffer.isBuffer(chunks[0])) return chunks[0];
  const buffers: Buffer[] = [];
  for (const c of chunks) {
    if (!Buffer.isBuffer(c)) throw new TypeError('cannot concatenate an external chunk');
    buffers.push(c);
  }
  return Buffer.concat(buffers);
}
