/**
 * The opaque resume cursor of `/ws/v1` (docs/websocket.md, "Cursors and resume"): per topic its id
 * and, per partition, the next offset to deliver. Clients only store it and hand it back
 * (`sub {from: {cursor}}`, SSE `Last-Event-ID`), so its shape is ours to change behind the version
 * byte.
 *
 * Text form: base64url without padding of this binary layout:
 *
 * | field            | type            | note                                                 |
 * |------------------|-----------------|------------------------------------------------------|
 * | version          | u8              | 1                                                    |
 * | then per topic, until the end of the bytes:                                            |
 * | topicId          | 16 bytes        | the topic's UUID: a recreated topic is recognised    |
 * | partitionCount   | unsigned varint |                                                      |
 * | then per partition, ascending:                                                          |
 * | partition        | unsigned varint | 0..2^31-1                                            |
 * | next             | unsigned varint | next offset to deliver, 0..2^53-1                    |
 *
 * Unsigned varints are little-endian base 128 (protobuf's, not zigzag: nothing here is
 * negative), minimal: a trailing 0x00 continuation is refused, so each cursor has one encoding.
 * Topic ids rather than names because a name can be deleted and recreated; the gateway refuses a
 * cursor whose id no longer matches (UNKNOWN_TOPIC_ID).
 *
 * A cursor travels in HTTP headers (SSE `Last-Event-ID`), and uWebSockets.js limits a request's
 * headers to 4 KiB, hence MAX_CURSOR_CHARS. At 2,048 characters (1,536 bytes) a cursor holds
 * about 190 partitions with offsets near 10^12, more with small offsets.
 */
import { uuidFromBytes, uuidToBytes } from '../protocol/uuid.js';

export const CURSOR_VERSION = 1;
export const MAX_CURSOR_CHARS = 2048;

/** One topic's position: partition → next offset to deliver. */
export interface CursorTopic {
  topicId: string;
  next: Map<number, number>;
}

/** A cursor that cannot be encoded (too large, bad id or number) or decoded (malformed). */
export class CursorError extends Error {
  override readonly name = 'CursorError';
}

const MAX_PARTITION = 0x7fff_ffff;
const MAX_OFFSET = Number.MAX_SAFE_INTEGER;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeUvarint(buf: Buffer, pos: number, v: number): number {
  while (v >= 128) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/**
 * The cursor string for `topics`. Partitions are written in ascending order, so equal positions
 * give equal cursors. Throws CursorError for a topic id that is not a UUID, a partition or offset
 * out of range, or a result over MAX_CURSOR_CHARS.
 */
export function encodeCursor(topics: readonly CursorTopic[]): string {
  let size = 1;
  const sorted: [number, number][][] = [];
  for (const t of topics) {
    const entries = [...t.next].sort((a, b) => a[0] - b[0]);
    sorted.push(entries);
    size += 16 + uvarintSize(entries.length);
    for (const [partition, next] of entries) {
      if (!Number.isInteger(partition) || partition < 0 || partition > MAX_PARTITION) {
        throw new CursorError(`partition ${partition} of topic ${t.topicId} is out of range`);
      }
      if (!Number.isInteger(next) || next < 0 || next > MAX_OFFSET) {
        throw new CursorError(`offset ${next} of ${t.topicId}/${partition} is out of range 0..2^53-1`);
      }
      size += uvarintSize(partition) + uvarintSize(next);
    }
  }
  // base64 without padding: 4 characters per 3 bytes, rounded up.
  const chars = Math.ceil((size * 4) / 3);
  if (chars > MAX_CURSOR_CHARS) {
    throw new CursorError(`cursor would take ${chars} characters, over the limit of ${MAX_CURSOR_CHARS}`);
  }
  const buf = Buffer.allocUnsafe(size);
  buf[0] = CURSOR_VERSION;
  let pos = 1;
  for (let i = 0; i < topics.length; i++) {
    try {
      uuidToBytes(topics[i]!.topicId, buf, pos);
    } catch (err) {
      throw new CursorError((err as Error).message);
    }
    pos = writeUvarint(buf, pos + 16, sorted[i]!.length);
    for (const [partition, next] of sorted[i]!) {
      pos = writeUvarint(buf, pos, partition);
      pos = writeUvarint(buf, pos, next);
    }
  }
  return buf.toString('base64url');
}

class CursorReader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  fail(message: string): never {
    throw new CursorError(`malformed cursor: ${message} (at byte ${this.pos})`);
  }

  /** Minimal unsigned varint up to `max` (at most 2^53-1: 8 bytes of 7 bits cover it). */
  uvarint(max: number, what: string): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) this.fail(`truncated ${what}`);
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * scale;
      if (v > max) this.fail(`${what} beyond ${max}`);
      if (b < 0x80) {
        if (b === 0 && i > 0) this.fail(`${what} has a redundant trailing byte`);
        return v;
      }
      scale *= 128;
    }
    return this.fail(`${what} longer than 8 bytes`);
  }
}

/**
 * The positions a cursor string holds. Throws CursorError, with what is wrong, for a string over
 * MAX_CURSOR_CHARS, characters outside base64url, another version, truncation, trailing bytes,
 * a repeated topic or partition, partitions out of order, or offsets beyond 2^53-1.
 */
export function decodeCursor(s: string): CursorTopic[] {
  if (typeof s !== 'string') throw new CursorError('cursor must be a string');
  if (s.length > MAX_CURSOR_CHARS) throw new CursorError(`cursor of ${s.length} characters is over ${MAX_CURSOR_CHARS}`);
  if (s.length === 0) throw new CursorError('empty cursor');
  if (!BASE64URL.test(s) || s.length % 4 === 1) throw new CursorError('cursor is not base64url');
  const buf = Buffer.from(s, 'base64url');
  // Non-zero leftover bits in the last character would give another string for the same bytes.
  if (buf.toString('base64url') !== s) throw new CursorError('cursor is not canonical base64url');
  const r = new CursorReader(buf);
  if (buf[0] !== CURSOR_VERSION) throw new CursorError(`unsupported cursor version ${buf[0]}`);
  r.pos = 1;
  const topics: CursorTopic[] = [];
  const seen = new Set<string>();
  while (r.pos < buf.length) {
    if (buf.length - r.pos < 17) r.fail('truncated topic');
    const topicId = uuidFromBytes(buf, r.pos);
    if (seen.has(topicId)) r.fail(`topic ${topicId} appears twice`);
    seen.add(topicId);
    r.pos += 16;
    // Each partition takes at least 2 bytes, which bounds the count before any allocation.
    const count = r.uvarint((buf.length - r.pos) / 2, 'partition count');
    const next = new Map<number, number>();
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const partition = r.uvarint(MAX_PARTITION, 'partition');
      if (partition <= previous) r.fail(`partition ${partition} out of order or repeated`);
      previous = partition;
      next.set(partition, r.uvarint(MAX_OFFSET, 'offset'));
    }
    topics.push({ topicId, next });
  }
  return topics;
}
