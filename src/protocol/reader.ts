/**
 * Big-endian reader over a Buffer, for Kafka's primitive types.
 *
 * Every read checks the bounds first and throws a ProtocolError (never Buffer's RangeError), so a
 * truncated or lying frame becomes one catchable error the network layer answers by closing the
 * connection. `end` may be smaller than `buf.length`: a frame inside a larger read buffer, or a
 * tagged field's bytes, is read without copying.
 *
 * Byte and records fields are returned as `subarray`s of the input: zero-copy, and therefore valid
 * only as long as the caller keeps the input buffer unmodified.
 *
 * Primitive layouts (https://kafka.apache.org/protocol#protocol_types):
 *
 * | type                 | layout                                                          |
 * |----------------------|-----------------------------------------------------------------|
 * | INT8/16/32/64        | two's complement, big-endian                                    |
 * | UINT32               | big-endian unsigned                                             |
 * | BOOLEAN              | one byte, any non-zero value is true                            |
 * | FLOAT64              | IEEE 754 binary64, big-endian                                   |
 * | UNSIGNED_VARINT      | 7 bits per byte, least significant group first, high bit = more |
 * | VARINT / VARLONG     | zigzag-encoded `(n << 1) ^ (n >> 31/63)`, then as unsigned      |
 * | UUID                 | 16 raw bytes                                                    |
 * | STRING               | INT16 length N, then N bytes of UTF-8; N = -1 is null           |
 * | COMPACT_STRING       | UNSIGNED_VARINT N+1, then N bytes; 0 is null                    |
 * | BYTES                | INT32 length N, then N bytes; N = -1 is null                    |
 * | COMPACT_BYTES        | UNSIGNED_VARINT N+1, then N bytes; 0 is null                    |
 * | ARRAY                | INT32 count N, then N elements; N = -1 is null                  |
 * | COMPACT_ARRAY        | UNSIGNED_VARINT N+1, then N elements; 0 is null                 |
 * | TAG_BUFFER           | UNSIGNED_VARINT count, then per field: UNSIGNED_VARINT tag,     |
 * |                      | UNSIGNED_VARINT size, size bytes (tags in increasing order)     |
 */
import { ProtocolError } from './protocol-error.js';
import { uuidFromBytes } from './uuid.js';

export class Reader {
  /** The whole input; reads never go at or beyond `end`. */
  readonly buf: Buffer;
  /** Position of the next byte to read. */
  offset: number;
  /** Exclusive limit of this reader (a frame or tagged-field boundary). */
  end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Throws unless `n` more bytes are available; returns the offset where they start. */
  private take(n: number): number {
    const at = this.offset;
    if (n > this.end - at) throw new ProtocolError(`need ${n} bytes, ${this.end - at} left`, at);
    this.offset = at + n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.take(1));
  }

  bool(): boolean {
    return this.buf[this.take(1)] !== 0;
  }

  int16(): number {
    const at = this.take(2);
    return ((this.buf[at]! << 24) | (this.buf[at + 1]! << 16)) >> 16;
  }

  uint16(): number {
    return this.buf.readUInt16BE(this.take(2));
  }

  int32(): number {
    const at = this.take(4);
    const buf = this.buf;
    return (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
  }

  uint32(): number {
    return this.buf.readUInt32BE(this.take(4));
  }

  /**
   * INT64 as a bigint. When the value fits in 53 bits (every offset and timestamp in practice) it
   * is assembled as a number and converted once, instead of Buffer.readBigInt64BE's bigint
   * arithmetic.
   */
  int64(): bigint {
    const at = this.take(8);
    const buf = this.buf;
    const high = (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
    if (high < 0x200000 && high >= -0x200000) {
      const low = ((buf[at + 4]! << 24) | (buf[at + 5]! << 16) | (buf[at + 6]! << 8) | buf[at + 7]!) >>> 0;
      return BigInt(high * 0x1_0000_0000 + low);
    }
    return buf.readBigInt64BE(at);
  }

  float64(): number {
    return this.buf.readDoubleBE(this.take(8));
  }

  /** UNSIGNED_VARINT, at most 5 bytes, as a number in [0, 2^32). */
  uvarint(): number {
    const buf = this.buf;
    const start = this.offset;
    const end = this.end;
    let pos = start;
    let result = 0;
    // Unrolled over the five possible bytes; the last one may only carry 4 bits.
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= end) throw new ProtocolError('truncated varint', start);
      const b = buf[pos++]!;
      if (shift === 28) {
        if (b > 0x0f) throw new ProtocolError('varint longer than 32 bits', start);
        // `<< 28` would overflow into the sign bit; multiply keeps the value unsigned.
        result += b * 0x10000000;
        this.offset = pos;
        return result;
      }
      result |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.offset = pos;
        return result >>> 0;
      }
    }
    /* c8 ignore next */
    throw new ProtocolError('unreachable varint state', start);
  }

  /** VARINT: zigzag-decoded signed 32-bit value. */
  varint(): number {
    const raw = this.uvarint();
    return (raw >>> 1) ^ -(raw & 1);
  }

  /** UNSIGNED_VARLONG, at most 10 bytes, as a bigint in [0, 2^64). */
  uvarlong(): bigint {
    const buf = this.buf;
    const start = this.offset;
    let pos = start;
    // Accumulate the first 28 bits in a number (the common case), the rest as bigint.
    let low = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= this.end) throw new ProtocolError('truncated varlong', start);
      const b = buf[pos++]!;
      low |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.offset = pos;
        return BigInt(low);
      }
    }
    let result = BigInt(low);
    for (let shift = 28n; shift < 70n; shift += 7n) {
      if (pos >= this.end) throw new ProtocolError('truncated varlong', start);
      const b = buf[pos++]!;
      if (shift === 63n && b > 0x01) throw new ProtocolError('varlong longer than 64 bits', start);
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        this.offset = pos;
        return result;
      }
    }
    /* c8 ignore next */
    throw new ProtocolError('unreachable varlong state', start);
  }

  /** VARLONG: zigzag-decoded signed 64-bit value. */
  varlong(): bigint {
    const raw = this.uvarlong();
    return BigInt.asIntN(64, (raw >> 1n) ^ -(raw & 1n));
  }

  /** UUID as a lowercase canonical string (see uuid.ts). */
  uuid(): string {
    const at = this.take(16);
    return uuidFromBytes(this.buf, at);
  }

  /** `n` raw bytes as a zero-copy view. */
  raw(n: number): Buffer {
    const at = this.take(n);
    return this.buf.subarray(at, at + n);
  }

  skip(n: number): void {
    this.take(n);
  }

  private utf8(n: number): string {
    const at = this.take(n);
    return this.buf.toString('utf8', at, at + n);
  }

  /** STRING or NULLABLE_STRING: INT16 length, -1 = null. */
  nullableString(): string | null {
    const n = this.int16();
    if (n < 0) {
      if (n === -1) return null;
      throw new ProtocolError(`invalid string length ${n}`, this.offset - 2);
    }
    return this.utf8(n);
  }

  /** STRING; a null on the wire reads as '' (lenient: Kafka would reject it). */
  string(): string {
    return this.nullableString() ?? '';
  }

  /** COMPACT_NULLABLE_STRING: UNSIGNED_VARINT N+1, 0 = null. */
  compactNullableString(): string | null {
    const n = this.uvarint();
    return n === 0 ? null : this.utf8(n - 1);
  }

  compactString(): string {
    return this.compactNullableString() ?? '';
  }

  /** BYTES or NULLABLE_BYTES: INT32 length, -1 = null; a zero-copy view. */
  nullableBytes(): Buffer | null {
    const n = this.int32();
    if (n < 0) {
      if (n === -1) return null;
      throw new ProtocolError(`invalid bytes length ${n}`, this.offset - 4);
    }
    return this.raw(n);
  }

  bytes(): Buffer {
    return this.nullableBytes() ?? EMPTY;
  }

  /** COMPACT_NULLABLE_BYTES: UNSIGNED_VARINT N+1, 0 = null; a zero-copy view. */
  compactNullableBytes(): Buffer | null {
    const n = this.uvarint();
    return n === 0 ? null : this.raw(n - 1);
  }

  compactBytes(): Buffer {
    return this.compactNullableBytes() ?? EMPTY;
  }

  /**
   * ARRAY count: INT32, -1 = null. A count larger than the bytes left is rejected before anything
   * is allocated (every element of every array we decode takes at least one byte).
   */
  arrayLength(): number | null {
    const n = this.int32();
    if (n === -1) return null;
    if (n < 0 || n > this.end - this.offset) {
      throw new ProtocolError(`invalid array length ${n}`, this.offset - 4);
    }
    return n;
  }

  /** COMPACT_ARRAY count: UNSIGNED_VARINT N+1, 0 = null. */
  compactArrayLength(): number | null {
    const start = this.offset;
    const n = this.uvarint();
    if (n === 0) return null;
    if (n - 1 > this.end - this.offset) {
      throw new ProtocolError(`invalid compact array length ${n - 1}`, start);
    }
    return n - 1;
  }

  /** Skips a whole TAG_BUFFER (used where no tagged field is known, e.g. request header v2). */
  skipTaggedFields(): void {
    let count = this.uvarint();
    while (count-- > 0) {
      this.uvarint(); // tag
      this.skip(this.uvarint());
    }
  }
}

const EMPTY: Buffer = Buffer.alloc(0);
