/**
 * Data frames of the `/ws/v1` gateway (docs/websocket.md, "Server → client"): the binary frames of
 * `brook.v1.bin`, encoded once per batch and sent to every subscriber (only the subId differs, and
 * `setFrameSubId` rewrites it in place), a decoder for tests, the bench and Node clients, and the
 * JSON text frames of `brook.v1.json`.
 *
 * Binary layout: a 40-byte header then a body, all integers big-endian as in Kafka.
 *
 * | offset | type | field         | records (kind 1)                   | gap (kind 2)                      | checkpoint (kind 3)      |
 * |--------|------|---------------|------------------------------------|-----------------------------------|--------------------------|
 * | 0      | u8   | version       | 1                                  | 1                                 | 1                        |
 * | 1      | u8   | kind          | 1                                  | 2                                 | 3                        |
 * | 2      | u16  | topicIndex    | index into the sub's `topics`      | same                              | 0                        |
 * | 4      | u32  | subId         |                                    |                                   |                          |
 * | 8      | i32  | partition     |                                    |                                   | -1                       |
 * | 12     | i64  | baseOffset    | offset of the first record         | first offset skipped (`from`)     | 0                        |
 * | 20     | i64  | highWatermark | partition's high watermark at read | next offset delivered (`to`)      | 0                        |
 * | 28     | i64  | baseTimestamp | timestamp of the first record      | 0                                 | 0                        |
 * | 36     | u32  | count         | records in the body                | reason: 1 retention, 2 skipped, 3 conflated | cursor length in bytes |
 * | 40     |      | body          | `count` records, Kafka v2 encoding | empty                             | the cursor (ASCII)       |
 *
 * A record in the body is Kafka's v2 record, uncompressed, with deltas against the header (so a
 * browser decodes it with the same code as a Kafka batch, minus the batch header and compression):
 *
 * | field          | type                      | note                                          |
 * |----------------|---------------------------|-----------------------------------------------|
 * | length         | varint                    | bytes of the record after this field          |
 * | attributes     | int8                      | 0                                             |
 * | timestampDelta | varlong                   | timestamp - baseTimestamp (may be negative)   |
 * | offsetDelta    | varint                    | offset - baseOffset (offsets may have holes)  |
 * | keyLength      | varint                    | -1: null key                                  |
 * | key            | bytes                     |                                               |
 * | valueLength    | varint                    | -1: null value, a tombstone (delete event)    |
 * | value          | bytes                     |                                               |
 * | headerCount    | varint                    |                                               |
 * | headers        | per header: varint keyLength, key (UTF-8), varint valueLength (-1 null), value |
 *
 * Varints are zigzag, as in Kafka (varint: 32-bit, at most 5 bytes; varlong: 64-bit, at most 10).
 * Offsets and timestamps are JS numbers, exact to 2^53, in the API and i64 on the wire; the decoder
 * refuses values it could not represent exactly rather than rounding them.
 *
 * The encoder measures the frame exactly, allocates it once (`Buffer.allocUnsafe`, every byte is
 * then written) and copies keys and values with `set`: no temporary Buffer per record, because one
 * live topic's batch is encoded once for up to thousands of subscribers and this is that path.
 */
import type { KafkaRecord, RecordHeader } from '../native/records.js';

export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 40;
export const FrameKind = { Records: 1, Gap: 2, Checkpoint: 3 } as const;
export type FrameKindValue = (typeof FrameKind)[keyof typeof FrameKind];

export type GapReason = 'retention' | 'skipped' | 'conflated';
/** The u32 at offset 36 of a gap frame. */
export const GapReasonCode: Readonly<Record<GapReason, number>> = { retention: 1, skipped: 2, conflated: 3 };
const GAP_REASONS: readonly (GapReason | undefined)[] = [undefined, 'retention', 'skipped', 'conflated'];

/** Where a frame goes: the subscription, the index of the topic in its `topics`, the partition. */
export interface FrameTarget {
  subId: number;
  topicIndex: number;
  partition: number;
}

/** Thrown by `decodeFrame` on any malformed frame; nothing else escapes the decoder. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

const TWO_32 = 0x1_0000_0000;
const MAX_DELTA = 2 ** 52; // |timestampDelta| below this keeps its zigzag form under 2^53, exact
const MAX_I32 = 0x7fff_ffff;

// ---------------------------------------------------------------------------------------------
// Sizes. `zigzag32` maps an int32 to its unsigned zigzag form; sizes count 7 bits per byte.

function zigzag32(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

function uvarintSize(z: number): number {
  if (z < 0x80) return 1;
  if (z < 0x4000) return 2;
  if (z < 0x20_0000) return 3;
  if (z < 0x1000_0000) return 4;
  if (z < 0x8_0000_0000) return 5;
  let n = 5;
  for (let rest = Math.floor(z / 0x8_0000_0000); rest > 0; rest = Math.floor(rest / 128)) n++;
  return n;
}

/** The zigzag form of a varlong delta; |d| < 2^52 is checked by the caller. */
function zigzagNumber(d: number): number {
  return d >= 0 ? d * 2 : -d * 2 - 1;
}

function varintSize(v: number): number {
  return uvarintSize(zigzag32(v));
}

function bytesLengthSize(b: Buffer | null): number {
  return b === null ? 1 : varintSize(b.length) + b.length;
}

/**
 * UTF-8 byte length. Header keys are short and almost always ASCII, where a charCode scan beats
 * Buffer.byteLength's native call several times over.
 */
function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  }
  return s.length;
}

// Reused across calls (encoding is synchronous): header key byte lengths, so each key is
// measured once per frame, and record body sizes.
let scratchKeyLengths: number[] = [];
let scratchBodySizes: number[] = [];

function checkDeltas(r: KafkaRecord, baseOffset: number, baseTimestamp: number): void {
  if (!Number.isSafeInteger(r.offset) || !Number.isSafeInteger(r.timestamp)) {
    throw new RangeError(`record offset and timestamp must be safe integers (offset ${r.offset})`);
  }
  const offsetDelta = r.offset - baseOffset;
  if (offsetDelta < -MAX_I32 - 1 || offsetDelta > MAX_I32) {
    throw new RangeError(`offset ${r.offset} is too far from the frame's base offset ${baseOffset}`);
  }
  const timestampDelta = r.timestamp - baseTimestamp;
  if (!(Math.abs(timestampDelta) < MAX_DELTA)) {
    throw new RangeError(`timestamp ${r.timestamp} is too far from the frame's base timestamp ${baseTimestamp}`);
  }
}

/** The record's body size (after its length varint); pushes each header key's byte length. */
function measureBody(r: KafkaRecord, baseOffset: number, baseTimestamp: number, keyLengths: number[] | null): number {
  checkDeltas(r, baseOffset, baseTimestamp);
  let size =
    1 + // attributes
    uvarintSize(zigzagNumber(r.timestamp - baseTimestamp)) +
    varintSize(r.offset - baseOffset) +
    bytesLengthSize(r.key) +
    bytesLengthSize(r.value) +
    varintSize(r.headers.length);
  for (const h of r.headers) {
    const keyLength = utf8Length(h.key);
    keyLengths?.push(keyLength);
    size += varintSize(keyLength) + keyLength + bytesLengthSize(h.value);
  }
  return size;
}

/**
 * Bytes one record takes in a records frame body, length prefix included (to budget frames against
 * credit and `ws.max.frame.bytes`). A frame's size is FRAME_HEADER_BYTES plus the sum over its
 * records. Throws a RangeError for a record no frame with these bases can carry.
 */
export function recordFrameBytes(r: KafkaRecord, baseOffset: number, baseTimestamp: number): number {
  const body = measureBody(r, baseOffset, baseTimestamp, null);
  return uvarintSize(body * 2) + body;
}

// ---------------------------------------------------------------------------------------------
// Writing.

function writeUvarint(buf: Buffer, pos: number, z: number): number {
  while (z > MAX_I32) {
    buf[pos++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  while (z > 0x7f) {
    buf[pos++] = (z & 0x7f) | 0x80;
    z >>>= 7;
  }
  buf[pos++] = z;
  return pos;
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  return writeUvarint(buf, pos, zigzag32(v));
}

function writeBytesField(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) {
    buf[pos] = 1; // zigzag(-1)
    return pos + 1;
  }
  const length = b.length;
  pos = writeVarint(buf, pos, length);
  if (length < 16) {
    // Short keys: a loop beats set()'s fixed cost.
    for (let i = 0; i < length; i++) buf[pos + i] = b[i]!;
  } else {
    buf.set(b, pos);
  }
  return pos + length;
}

/** i64 big-endian from a safe integer: high 32 bits signed, low 32 unsigned. */
function writeI64(buf: Buffer, pos: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(v - hi * TWO_32, pos + 4);
}

function checkTarget(t: FrameTarget): void {
  if (!(t.subId >= 0 && t.subId < TWO_32 && Number.isInteger(t.subId))) throw new RangeError(`subId out of u32 range: ${t.subId}`);
  if (!(t.topicIndex >= 0 && t.topicIndex <= 0xffff && Number.isInteger(t.topicIndex))) {
    throw new RangeError(`topicIndex out of u16 range: ${t.topicIndex}`);
  }
  if (!(t.partition >= 0 && t.partition <= MAX_I32 && Number.isInteger(t.partition))) {
    throw new RangeError(`partition out of range: ${t.partition}`);
  }
}

function checkI64(name: string, v: number): void {
  if (!Number.isSafeInteger(v)) throw new RangeError(`${name} must be a safe integer, got ${v}`);
}

function writeHeader(
  buf: Buffer,
  kind: FrameKindValue,
  topicIndex: number,
  subId: number,
  partition: number,
  a: number,
  b: number,
  c: number,
  count: number,
): void {
  buf[0] = FRAME_VERSION;
  buf[1] = kind;
  buf.writeUInt16BE(topicIndex, 2);
  buf.writeUInt32BE(subId, 4);
  buf.writeInt32BE(partition, 8);
  writeI64(buf, 12, a);
  writeI64(buf, 20, b);
  writeI64(buf, 28, c);
  buf.writeUInt32BE(count, 36);
}

/**
 * A records frame (kind 1) carrying `records` (non-empty) for `t`; baseOffset and baseTimestamp
 * are those of records[0]. Keys and values are copied: the frame owns its bytes.
 */
export function encodeRecordsFrame(t: FrameTarget, highWatermark: number, records: readonly KafkaRecord[]): Buffer {
  if (records.length === 0) throw new RangeError('a records frame needs at least one record');
  checkTarget(t);
  checkI64('highWatermark', highWatermark);
  const baseOffset = records[0]!.offset;
  const baseTimestamp = records[0]!.timestamp;
  const keyLengths = scratchKeyLengths;
  const bodySizes = scratchBodySizes;
  keyLengths.length = 0;
  bodySizes.length = 0;
  let size = FRAME_HEADER_BYTES;
  for (const r of records) {
    const body = measureBody(r, baseOffset, baseTimestamp, keyLengths);
    bodySizes.push(body);
    size += uvarintSize(body * 2) + body;
  }

  const buf = Buffer.allocUnsafe(size);
  writeHeader(buf, FrameKind.Records, t.topicIndex, t.subId, t.partition, baseOffset, highWatermark, baseTimestamp, records.length);
  let pos = FRAME_HEADER_BYTES;
  let keyIndex = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    pos = writeUvarint(buf, pos, bodySizes[i]! * 2);
    buf[pos++] = 0; // attributes
    pos = writeUvarint(buf, pos, zigzagNumber(r.timestamp - baseTimestamp));
    pos = writeVarint(buf, pos, r.offset - baseOffset);
    pos = writeBytesField(buf, pos, r.key);
    pos = writeBytesField(buf, pos, r.value);
    pos = writeVarint(buf, pos, r.headers.length);
    for (const h of r.headers) {
      const keyLength = keyLengths[keyIndex++]!;
      pos = writeVarint(buf, pos, keyLength);
      if (keyLength === h.key.length) {
        // ASCII (utf8Length says so): a byte per unit; Buffer.write costs ~200 ns per call.
        for (let c = 0; c < keyLength; c++) buf[pos + c] = h.key.charCodeAt(c);
        pos += keyLength;
      } else {
        pos += buf.write(h.key, pos, keyLength, 'utf8');
      }
      pos = writeBytesField(buf, pos, h.value);
    }
  }
  if (pos !== size) throw new Error(`records frame size mismatch: measured ${size}, wrote ${pos}`);
  // Keep the scratch arrays from pinning a huge frame's worth of numbers.
  if (keyLengths.length > 65536) scratchKeyLengths = [];
  if (bodySizes.length > 65536) scratchBodySizes = [];
  return buf;
}

/** A gap frame (kind 2): offsets [from, to) of `t` will not be delivered, for `reason`. */
export function encodeGapFrame(t: FrameTarget, from: number, to: number, reason: GapReason): Buffer {
  checkTarget(t);
  checkI64('from', from);
  checkI64('to', to);
  const code = GapReasonCode[reason];
  if (code === undefined) throw new RangeError(`unknown gap reason: ${String(reason)}`);
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  writeHeader(buf, FrameKind.Gap, t.topicIndex, t.subId, t.partition, from, to, 0, code);
  return buf;
}

/** A checkpoint frame (kind 3) carrying `cursor` (an encodeCursor string: ASCII). */
export function encodeCheckpointFrame(subId: number, cursor: string): Buffer {
  checkTarget({ subId, topicIndex: 0, partition: 0 });
  const length = Buffer.byteLength(cursor, 'utf8');
  if (length !== cursor.length) throw new RangeError('a cursor is ASCII');
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  writeHeader(buf, FrameKind.Checkpoint, 0, subId, -1, 0, 0, 0, length);
  buf.write(cursor, FRAME_HEADER_BYTES, length, 'latin1');
  return buf;
}

/** Rewrites the subId (bytes 4..7) of an encoded frame in place: one encoding, many subscribers. */
export function setFrameSubId(frame: Buffer, subId: number): void {
  frame.writeUInt32BE(subId, 4);
}

// ---------------------------------------------------------------------------------------------
// Decoding. Every read is bounds-checked against `end` (the frame, or the current record), and
// every loop consumes at least one byte per turn, so no input reads out of bounds or loops forever.

export type DecodedFrame =
  | {
      kind: 'records';
      subId: number;
      topicIndex: number;
      partition: number;
      highWatermark: number;
      records: KafkaRecord[];
    }
  | { kind: 'gap'; subId: number; topicIndex: number; partition: number; from: number; to: number; reason: GapReason }
  | { kind: 'checkpoint'; subId: number; cursor: string };

const MIN_RECORD_BYTES = 7; // length, attributes, timestampDelta, offsetDelta, keyLength, valueLength, headerCount
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

class FrameReader {
  pos = FRAME_HEADER_BYTES;
  end: number;

  constructor(readonly buf: Buffer) {
    this.end = buf.length;
  }

  fail(message: string): never {
    throw new FrameError(`${message} (at byte ${this.pos})`);
  }

  byte(): number {
    if (this.pos >= this.end) this.fail('truncated frame');
    return this.buf[this.pos++]!;
  }

  /** Zigzag varint, at most 5 bytes, int32. */
  varint(): number {
    let z = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      if (shift === 28 && b > 0x0f) this.fail('varint longer than 32 bits');
      z |= (b & 0x7f) << shift;
      if (b < 0x80) return (z >>> 1) ^ -(z & 1);
    }
    return this.fail('varint longer than 5 bytes');
  }

  /** Zigzag varlong whose magnitude stays below 2^52, so it is an exact number. */
  varlong(): number {
    let z = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      // The 8th byte holds bits 49..55: below 16 keeps z under 2^53, and it must be the last.
      if (i === 7 && b > 0x0f) this.fail('varlong beyond 2^53');
      z += (b & 0x7f) * scale;
      if (b < 0x80) return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      scale *= 128;
    }
    return this.fail('varlong beyond 2^53');
  }

  /** -1 → null; otherwise a view of the frame's bytes. */
  bytesOrNull(what: string): Buffer | null {
    const length = this.varint();
    if (length === -1) return null;
    if (length < 0) this.fail(`negative ${what} length ${length}`);
    if (length > this.end - this.pos) this.fail(`${what} longer than the record`);
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
}

function readI64(buf: Buffer, at: number, what: string): number {
  const hi = buf.readInt32BE(at);
  const v = hi * TWO_32 + buf.readUInt32BE(at + 4);
  if (!Number.isSafeInteger(v)) throw new FrameError(`${what} beyond 2^53 (at byte ${at})`);
  return v;
}

function decodeRecords(r: FrameReader, count: number, baseOffset: number, baseTimestamp: number): KafkaRecord[] {
  if (count === 0) r.fail('records frame with no records');
  if (count > (r.end - r.pos) / MIN_RECORD_BYTES) r.fail(`count ${count} exceeds what the body can hold`);
  const records: KafkaRecord[] = new Array<KafkaRecord>(count);
  for (let i = 0; i < count; i++) {
    const length = r.varint();
    if (length < 0 || length > r.end - r.pos) r.fail(`record length ${length} out of bounds`);
    const frameEnd = r.end;
    r.end = r.pos + length;
    r.byte(); // attributes: unused (always 0 from us); any value is tolerated, as Kafka does
    const timestamp = baseTimestamp + r.varlong();
    const offset = baseOffset + r.varint();
    if (!Number.isSafeInteger(timestamp) || !Number.isSafeInteger(offset)) r.fail('offset or timestamp beyond 2^53');
    const key = r.bytesOrNull('key');
    const value = r.bytesOrNull('value');
    const headerCount = r.varint();
    if (headerCount < 0 || headerCount > (r.end - r.pos) / 2) r.fail(`header count ${headerCount} out of bounds`);
    const headers: RecordHeader[] = new Array<RecordHeader>(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const keyBytes = r.bytesOrNull('header key');
      if (keyBytes === null) r.fail('null header key');
      let headerKey: string;
      try {
        headerKey = utf8Strict.decode(keyBytes);
      } catch {
        r.fail('header key is not UTF-8');
      }
      headers[h] = { key: headerKey, value: r.bytesOrNull('header value') };
    }
    if (r.pos !== r.end) r.fail(`record has ${r.end - r.pos} bytes past its headers`);
    r.end = frameEnd;
    records[i] = { offset, timestamp, key, value, headers };
  }
  if (r.pos !== r.end) r.fail(`${r.end - r.pos} bytes after the last record`);
  return records;
}

/**
 * Decodes one binary data frame. Record keys, values and header values are views of `buf` (copy
 * them to keep them past `buf`'s reuse). Throws FrameError on anything malformed: unknown version or
 * kind, truncation, trailing bytes, bad lengths or varints, values beyond 2^53.
 */
export function decodeFrame(buf: Uint8Array): DecodedFrame {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < FRAME_HEADER_BYTES) throw new FrameError(`frame of ${b.length} bytes is shorter than its header`);
  if (b[0] !== FRAME_VERSION) throw new FrameError(`unsupported frame version ${b[0]}`);
  const kind = b[1];
  const topicIndex = b.readUInt16BE(2);
  const subId = b.readUInt32BE(4);
  const partition = b.readInt32BE(8);
  const count = b.readUInt32BE(36);
  const r = new FrameReader(b);
  switch (kind) {
    case FrameKind.Records: {
      if (partition < 0) throw new FrameError(`negative partition ${partition}`);
      const baseOffset = readI64(b, 12, 'baseOffset');
      const highWatermark = readI64(b, 20, 'highWatermark');
      const baseTimestamp = readI64(b, 28, 'baseTimestamp');
      const records = decodeRecords(r, count, baseOffset, baseTimestamp);
      return { kind: 'records', subId, topicIndex, partition, highWatermark, records };
    }
    case FrameKind.Gap: {
      if (partition < 0) throw new FrameError(`negative partition ${partition}`);
      const reason = GAP_REASONS[count];
      if (reason === undefined) throw new FrameError(`unknown gap reason ${count}`);
      if (b.length !== FRAME_HEADER_BYTES) throw new FrameError('gap frame with a body');
      return { kind: 'gap', subId, topicIndex, partition, from: readI64(b, 12, 'from'), to: readI64(b, 20, 'to'), reason };
    }
    case FrameKind.Checkpoint: {
      if (b.length - FRAME_HEADER_BYTES !== count) {
        throw new FrameError(`checkpoint cursor length ${count} but ${b.length - FRAME_HEADER_BYTES} body bytes`);
      }
      for (let i = FRAME_HEADER_BYTES; i < b.length; i++) {
        if (b[i]! >= 0x80) throw new FrameError(`checkpoint cursor is not ASCII (at byte ${i})`);
      }
      return { kind: 'checkpoint', subId, cursor: b.toString('latin1', FRAME_HEADER_BYTES) };
    }
    default:
      throw new FrameError(`unknown frame kind ${kind}`);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON text frames (brook.v1.json). Strings are built by concatenation: one JSON.stringify per
// string field, never of a whole object graph, and no intermediate objects per record.

export type ValueEncoding = 'utf8' | 'base64';

/** Where a JSON frame goes: JSON frames name the topic instead of indexing it. */
export interface JsonFrameTarget {
  subId: number;
  topic: string;
  partition: number;
}

function jsonBytes(b: Buffer | null, encoding: ValueEncoding): string {
  if (b === null) return 'null';
  // base64's alphabet needs no JSON escaping.
  return encoding === 'base64' ? `"${b.toString('base64')}"` : JSON.stringify(b.toString('utf8'));
}

function jsonPrefix(op: string, t: JsonFrameTarget): string {
  return `{"op":"${op}","sub":${t.subId},"topic":${JSON.stringify(t.topic)},"partition":${t.partition}`;
}

/**
 * The `records` text frame. Keys, values and header values are UTF-8 text or base64 per
 * `encoding`; headers become an object (a repeated header name keeps its last value there); a
 * tombstone is `"value":null,"delete":true`.
 */
export function recordsJson(
  t: JsonFrameTarget,
  highWatermark: number,
  records: readonly KafkaRecord[],
  encoding: ValueEncoding,
): string {
  let s = `${jsonPrefix('records', t)},"highWatermark":${highWatermark},"records":[`;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (i > 0) s += ',';
    s += `{"offset":${r.offset},"timestamp":${r.timestamp},"key":${jsonBytes(r.key, encoding)},"value":`;
    s += r.value === null ? 'null,"delete":true' : jsonBytes(r.value, encoding);
    s += ',"headers":{';
    for (let h = 0; h < r.headers.length; h++) {
      const header = r.headers[h]!;
      if (h > 0) s += ',';
      s += `${JSON.stringify(header.key)}:${jsonBytes(header.value, encoding)}`;
    }
    s += '}}';
  }
  return `${s}],"encoding":"${encoding}"}`;
}

/** The `gap` text frame: offsets [from, to) will not be delivered, for `reason`. */
export function gapJson(t: JsonFrameTarget, from: number, to: number, reason: GapReason): string {
  return `${jsonPrefix('gap', t)},"from":${from},"to":${to},"reason":"${reason}"}`;
}

/** The `checkpoint` text frame. */
export function checkpointJson(subId: number, cursor: string): string {
  return `{"op":"checkpoint","sub":${subId},"cursor":${JSON.stringify(cursor)}}`;
}
