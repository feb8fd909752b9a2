import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/protocol/protocol-error.js';
import { Reader } from '../../../src/protocol/reader.js';
import { uuidToKafkaString, ZERO_UUID } from '../../../src/protocol/uuid.js';
import { Writer } from '../../../src/protocol/writer.js';

function bytesOf(write: (w: Writer) => void): Buffer {
  const w = new Writer(1); // tiny start: every test also exercises growth
  write(w);
  return w.toBuffer();
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('fixed-width integers', () => {
  it('writes big-endian two’s complement and reads it back', () => {
    const b = bytesOf((w) => {
      w.int8(-2);
      w.int16(-2);
      w.int32(0x01020304);
      w.uint32(0xfffffffe);
      w.int64(-2n);
      w.uint16(0xfffe);
    });
    expect(b).toEqual(hex('fe fffe 01020304 fffffffe fffffffffffffffe fffe'));
    const r = new Reader(b);
    expect([r.int8(), r.int16(), r.int32(), r.uint32(), r.int64(), r.uint16()]).toEqual([
      -2, -2, 0x01020304, 0xfffffffe, -2n, 0xfffe,
    ]);
    expect(r.remaining).toBe(0);
  });

  it('keeps int64 exact on both sides of the 2^53 fast path', () => {
    const edges = [0n, -1n, 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n), -(2n ** 32n) - 1n];
    for (const e of [2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n]) edges.push(e, -e);
    edges.push(-(2n ** 63n));
    for (const v of edges) {
      const b = bytesOf((w) => w.int64(v));
      const expected = Buffer.alloc(8);
      expected.writeBigInt64BE(v);
      expect(b, `${v}`).toEqual(expected);
      expect(new Reader(b).int64(), `${v}`).toBe(v);
    }
  });

  it('accepts safe integer numbers for int64 and refuses unsafe ones', () => {
    expect(bytesOf((w) => w.int64(-2))).toEqual(bytesOf((w) => w.int64(-2n)));
    expect(bytesOf((w) => w.int64(Number.MAX_SAFE_INTEGER))).toEqual(
      bytesOf((w) => w.int64(BigInt(Number.MAX_SAFE_INTEGER))),
    );
    expect(() => bytesOf((w) => w.int64(2 ** 60))).toThrow(RangeError);
  });

  it('reads negative int16 and int32 values', () => {
    const r = new Reader(hex('8000 ffff 80000000 ffffffff'));
    expect([r.int16(), r.int16(), r.int32(), r.int32()]).toEqual([-32768, -1, -2147483648, -1]);
  });

  it('round-trips float64 and booleans (any non-zero byte is true)', () => {
    expect(new Reader(bytesOf((w) => w.float64(Math.PI))).float64()).toBe(Math.PI);
    expect(new Reader(hex('00 01 7f')).bool()).toBe(false);
    const r = new Reader(hex('01 ff'));
    expect([r.bool(), r.bool()]).toEqual([true, true]);
  });
});

describe('varints', () => {
  const unsigned: Array<[number, string]> = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [2 ** 31 - 1, 'ffffffff07'],
    [2 ** 32 - 1, 'ffffffff0f'],
  ];
  it.each(unsigned)('unsigned varint %d is %s', (v, expected) => {
    const b = bytesOf((w) => w.uvarint(v));
    expect(b.toString('hex')).toBe(expected);
    expect(new Reader(b).uvarint()).toBe(v);
  });

  // Zigzag maps 0,-1,1,-2,2... to 0,1,2,3,4...
  const signed: Array<[number, string]> = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-2, '03'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'],
    [2147483647, 'feffffff0f'],
    [-2147483648, 'ffffffff0f'],
  ];
  it.each(signed)('zigzag varint %d is %s', (v, expected) => {
    const b = bytesOf((w) => w.varint(v));
    expect(b.toString('hex')).toBe(expected);
    expect(new Reader(b).varint()).toBe(v);
  });

  const longs: Array<[bigint, string]> = [
    [0n, '00'],
    [-1n, '01'],
    [1n, '02'],
    [2147483648n, '8080808010'],
    [-2147483649n, '8180808010'],
    [9223372036854775807n, 'feffffffffffffffff01'],
    [-9223372036854775808n, 'ffffffffffffffffff01'],
  ];
  it.each(longs)('zigzag varlong %s is %s', (v, expected) => {
    const b = bytesOf((w) => w.varlong(v));
    expect(b.toString('hex')).toBe(expected);
    expect(new Reader(b).varlong()).toBe(v);
  });

  it('round-trips unsigned varlongs around the 28/32-bit boundaries', () => {
    for (const v of [0n, 2n ** 28n - 1n, 2n ** 28n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 63n, 2n ** 64n - 1n]) {
      expect(new Reader(bytesOf((w) => w.uvarlong(v))).uvarlong()).toBe(v);
    }
  });

  it('rejects varints that are too long or truncated', () => {
    expect(() => new Reader(hex('ffffffff1f')).uvarint()).toThrow(ProtocolError);
    expect(() => new Reader(hex('ffffffffff01')).uvarint()).toThrow(ProtocolError);
    expect(() => new Reader(hex('80')).uvarint()).toThrow(ProtocolError);
    expect(() => new Reader(hex('ffffffffffffffffff02')).uvarlong()).toThrow(ProtocolError);
    expect(() => new Reader(hex('ffffffffff')).uvarlong()).toThrow(ProtocolError);
  });
});

describe('strings and bytes', () => {
  it('encodes STRING with an int16 byte length (UTF-8 bytes, not characters)', () => {
    const b = bytesOf((w) => w.string('größe'));
    expect(b).toEqual(Buffer.concat([hex('0007'), Buffer.from('größe')]));
    expect(new Reader(b).string()).toBe('größe');
  });

  it('encodes a null NULLABLE_STRING as -1 and an empty one as 0', () => {
    expect(bytesOf((w) => w.nullableString(null))).toEqual(hex('ffff'));
    expect(bytesOf((w) => w.nullableString(''))).toEqual(hex('0000'));
    expect(new Reader(hex('ffff')).nullableString()).toBeNull();
    expect(new Reader(hex('0000')).nullableString()).toBe('');
  });

  it('distinguishes compact null (0) from compact empty (1)', () => {
    expect(bytesOf((w) => w.compactNullableString(null))).toEqual(hex('00'));
    expect(bytesOf((w) => w.compactNullableString(''))).toEqual(hex('01'));
    expect(new Reader(hex('00')).compactNullableString()).toBeNull();
    expect(new Reader(hex('01')).compactNullableString()).toBe('');
    expect(bytesOf((w) => w.compactNullableBytes(null))).toEqual(hex('00'));
    expect(bytesOf((w) => w.compactNullableBytes(Buffer.alloc(0)))).toEqual(hex('01'));
    expect(new Reader(hex('00')).compactNullableBytes()).toBeNull();
    expect(new Reader(hex('01')).compactNullableBytes()).toEqual(Buffer.alloc(0));
    expect(bytesOf((w) => w.compactArrayLength(null))).toEqual(hex('00'));
    expect(bytesOf((w) => w.compactArrayLength(0))).toEqual(hex('01'));
    expect(new Reader(hex('00')).compactArrayLength()).toBeNull();
    expect(new Reader(hex('01')).compactArrayLength()).toBe(0);
  });

  it('writes compact strings of every length class, including multi-byte prefixes', () => {
    for (const s of ['a', 'é'.repeat(42), 'x'.repeat(43), 'x'.repeat(126), 'x'.repeat(127), '日'.repeat(300)]) {
      const b = bytesOf((w) => w.compactString(s));
      const r = new Reader(b);
      expect(r.compactString()).toBe(s);
      expect(r.remaining).toBe(0);
    }
  });

  it('reads BYTES as a zero-copy view of the input', () => {
    const input = hex('00000003 aabbcc dd');
    const bytes = new Reader(input).bytes();
    expect(bytes).toEqual(hex('aabbcc'));
    expect(bytes.buffer).toBe(input.buffer);
    input[4] = 0x11;
    expect(bytes[0]).toBe(0x11);
  });

  it('encodes null BYTES / ARRAY as -1', () => {
    expect(bytesOf((w) => w.nullableBytes(null))).toEqual(hex('ffffffff'));
    expect(bytesOf((w) => w.arrayLength(null))).toEqual(hex('ffffffff'));
    expect(new Reader(hex('ffffffff')).nullableBytes()).toBeNull();
    expect(new Reader(hex('ffffffff')).arrayLength()).toBeNull();
  });

  it('rejects a string longer than INT16 allows', () => {
    expect(() => bytesOf((w) => w.string('x'.repeat(40000)))).toThrow(RangeError);
  });
});

describe('UUIDs', () => {
  it('decode to canonical lowercase strings and accept dashed or plain hex', () => {
    const raw = hex('0123456789abcdef0123456789ABCDEF');
    const id = new Reader(raw).uuid();
    expect(id).toBe('01234567-89ab-cdef-0123-456789abcdef');
    expect(bytesOf((w) => w.uuid(id))).toEqual(raw);
    expect(bytesOf((w) => w.uuid('0123456789abcdef0123456789abcdef'))).toEqual(raw);
    expect(bytesOf((w) => w.uuid(ZERO_UUID))).toEqual(Buffer.alloc(16));
  });

  it('refuses strings that are not UUIDs', () => {
    expect(() => bytesOf((w) => w.uuid('not-a-uuid'))).toThrow(TypeError);
  });

  it('formats Kafka’s base64url display form', () => {
    expect(uuidToKafkaString(ZERO_UUID)).toBe('AAAAAAAAAAAAAAAAAAAAAA');
  });
});

describe('truncated input', () => {
  const reads: Array<[string, (r: Reader) => unknown, string]> = [
    ['int8', (r) => r.int8(), ''],
    ['int16', (r) => r.int16(), '00'],
    ['int32', (r) => r.int32(), '000000'],
    ['int64', (r) => r.int64(), '00000000000000'],
    ['uuid', (r) => r.uuid(), '00'.repeat(15)],
    ['string body', (r) => r.string(), '0005616263'],
    ['bytes body', (r) => r.bytes(), '00000004aabb'],
    ['compact string body', (r) => r.compactString(), '05616263'],
    ['array count over the bytes left', (r) => r.arrayLength(), '00000005aabb'],
    ['negative array count', (r) => r.arrayLength(), 'fffffffe'],
    ['negative string length', (r) => r.nullableString(), 'fffe'],
    ['negative bytes length', (r) => r.nullableBytes(), 'fffffffe'],
    ['compact array count over the bytes left', (r) => r.compactArrayLength(), '05aabb'],
  ];
  it.each(reads)('%s throws ProtocolError, not RangeError', (_name, read, input) => {
    expect(() => read(new Reader(hex(input)))).toThrow(ProtocolError);
  });

  it('respects an end smaller than the buffer', () => {
    const r = new Reader(hex('0000000100000002'), 0, 4);
    expect(r.int32()).toBe(1);
    expect(() => r.int32()).toThrow(ProtocolError);
  });

  it('reports where decoding failed', () => {
    const r = new Reader(hex('0001 00'));
    r.int16();
    try {
      r.int16();
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).offset).toBe(2);
    }
  });
});

describe('tag buffers', () => {
  it('skips every tagged field of an unknown TAG_BUFFER', () => {
    // 2 fields: tag 0 size 2 [aa bb], tag 5 size 1 [cc]; then an int8 after the buffer.
    const r = new Reader(hex('02 00 02 aabb 05 01 cc 7f'));
    r.skipTaggedFields();
    expect(r.int8()).toBe(0x7f);
  });

  it('rejects a tagged field that runs past the end', () => {
    expect(() => new Reader(hex('01 00 05 aabb')).skipTaggedFields()).toThrow(ProtocolError);
  });
});
