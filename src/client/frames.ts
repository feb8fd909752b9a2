/**
 * Decoding of the gateway's data frames (docs/websocket.md, "Server → client") for the browser and
 * Node alike: DataView and TextDecoder only, no Buffer, no node: imports.
 *
 * Binary frame (`brook.v1.bin`), all integers big-endian:
 *
 * | offset | type | records (kind 1)    | gap (kind 2)        | checkpoint (kind 3) |
 * |--------|------|---------------------|---------------------|---------------------|
 * | 0      | u8   | version 1           | 1                   | 1                   |
 * | 1      | u8   | kind 1              | 2                   | 3                   |
 * | 2      | u16  | topicIndex          | topicIndex          | 0                   |
 * | 4      | u32  | subId               | subId               | subId               |
 * | 8      | i32  | partition           | partition           | -1                  |
 * | 12     | i64  | baseOffset          | from                | 0                   |
 * | 20     | i64  | highWatermark       | to                  | 0                   |
 * | 28     | i64  | baseTimestamp       | 0                   | 0                   |
 * | 36     | u32  | record count        | reason (1, 2, 3)    | cursor length       |
 * | 40     |      | Kafka v2 records    | empty               | cursor (ASCII)      |
 *
 * A record in the body is Kafka's v2 record with deltas against the header: varint length,
 * int8 attributes, varlong timestampDelta, varint offsetDelta, varint keyLength (-1 null), key,
 * varint valueLength (-1 null: a tombstone), value, varint headerCount, then per header varint
 * keyLength, key (UTF-8), varint valueLength (-1 null), value. Varints are zigzag.
 *
 * Offsets and timestamps become Numbers: exact below 2^53, which Kafka offsets and millisecond
 * timestamps never reach in practice.
 */

/** One Kafka record as the client hands it to the application. */
export interface BrookRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: { key: string; value: Uint8Array | null }[];
  /** `value === null`: a tombstone, a delete event for its key. */
  deleted: boolean;
  /** The value as UTF-8 text, null for a tombstone. */
  text(): string | null;
}

export type GapReason = 'retention' | 'skipped' | 'conflated';

/** A data frame, binary or JSON, decoded; `topic` is resolved by the caller for binary frames. */
export type DataFrame =
  | { kind: 'records'; sub: number; topic: string; partition: number; highWatermark: number; records: BrookRecord[] }
  | { kind: 'gap'; sub: number; topic: string; partition: number; from: number; to: number; reason: GapReason }
  | { kind: 'checkpoint'; sub: number; cursor: string };

export const FRAME_HEADER_BYTES = 40;
const KIND_RECORDS = 1;
const KIND_GAP = 2;
const KIND_CHECKPOINT = 3;
const GAP_REASONS: Record<number, GapReason> = { 1: 'retention', 2: 'skipped', 3: 'conflated' };

const utf8 = new TextDecoder('utf-8', { fatal: false });

class DecodedRecord implements BrookRecord {
  constructor(
    public topic: string,
    public partition: number,
    public offset: number,
    public timestamp: number,
    public key: Uint8Array | null,
    public value: Uint8Array | null,
    public headers: { key: string; value: Uint8Array | null }[],
  ) {}

  get deleted(): boolean {
    return this.value === null;
  }

  text(): string | null {
    return this.value === null ? null : utf8.decode(this.value);
  }
}

/** A cursor over a byte range that reads Kafka's zigzag varints. */
class VarintReader {
  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
  ) {}

  /**
   * A zigzag varint of up to 64 bits, as a Number. Multiplication instead of shifts keeps bits
   * above 31 (timestamp deltas are varlongs).
   */
  varint(): number {
    let raw = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.bytes.length) throw new RangeError('varint runs past the end of the frame');
      const b = this.bytes[this.pos++];
      raw += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      scale *= 128;
    }
    throw new RangeError('varint longer than 10 bytes');
  }

  /** `length` bytes as a view into the frame (no copy), or null for length -1. */
  bytesOrNull(length: number): Uint8Array | null {
    if (length < 0) return null;
    if (this.pos + length > this.bytes.length) throw new RangeError('field runs past the end of the frame');
    const view = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }
}

function asBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  return data instanceof Uint8Array
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);
}

/**
 * Decodes one binary data frame. `topicOf(sub, topicIndex)` names the topic (the sub's `topics`
 * from its `ok` reply). Records are views into `data`: keep `data` unmodified while they live.
 * Throws RangeError on a malformed frame.
 */
export function decodeBinaryFrame(
  data: ArrayBuffer | ArrayBufferView,
  topicOf: (sub: number, topicIndex: number) => string = () => '',
): DataFrame {
  const bytes = asBytes(data);
  if (bytes.length < FRAME_HEADER_BYTES) throw new RangeError(`frame of ${bytes.length} bytes is shorter than its header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(0);
  if (version !== 1) throw new RangeError(`unknown frame version ${version}`);
  const kind = view.getUint8(1);
  const topicIndex = view.getUint16(2);
  const sub = view.getUint32(4);
  const partition = view.getInt32(8);
  const first = Number(view.getBigInt64(12));
  const second = Number(view.getBigInt64(20));
  const baseTimestamp = Number(view.getBigInt64(28));
  const count = view.getUint32(36);

  if (kind === KIND_CHECKPOINT) {
    if (FRAME_HEADER_BYTES + count > bytes.length) throw new RangeError('cursor runs past the end of the frame');
    const cursor = utf8.decode(bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + count));
    return { kind: 'checkpoint', sub, cursor };
  }
  const topic = topicOf(sub, topicIndex);
  if (kind === KIND_GAP) {
    const reason = GAP_REASONS[count];
    if (reason === undefined) throw new RangeError(`unknown gap reason ${count}`);
    return { kind: 'gap', sub, topic, partition, from: first, to: second, reason };
  }
  if (kind !== KIND_RECORDS) throw new RangeError(`unknown frame kind ${kind}`);

  const records: BrookRecord[] = [];
  const r = new VarintReader(bytes, FRAME_HEADER_BYTES);
  for (let i = 0; i < count; i++) {
    const length = r.varint();
    const end = r.pos + length;
    if (length < 0 || end > bytes.length) throw new RangeError(`record ${i} runs past the end of the frame`);
    r.pos++; // attributes: unused
    const timestamp = baseTimestamp + r.varint();
    const offset = first + r.varint();
    const key = r.bytesOrNull(r.varint());
    const value = r.bytesOrNull(r.varint());
    const headerCount = r.varint();
    const headers: { key: string; value: Uint8Array | null }[] = [];
    for (let h = 0; h < headerCount; h++) {
      const hk = r.bytesOrNull(r.varint());
      headers.push({ key: hk === null ? '' : utf8.decode(hk), value: r.bytesOrNull(r.varint()) });
    }
    if (r.pos !== end) throw new RangeError(`record ${i} length ${length} disagrees with its fields`);
    records.push(new DecodedRecord(topic, partition, offset, timestamp, key, value, headers));
  }
  return { kind: 'records', sub, topic, partition, highWatermark: second, records };
}

/** Bytes of a base64 (or base64url) string; atob exists in browsers and Node >= 16. */
export function fromBase64(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Base64 (standard alphabet, padded) of bytes. */
export function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

const utf8Encoder = new TextEncoder();

interface JsonRecord {
  offset: number;
  timestamp: number;
  key?: string | null;
  value?: string | null;
  headers?: { [name: string]: string | null };
}

/**
 * Decodes a JSON data frame (`records`, `gap`, `checkpoint`); returns undefined for any other
 * `op` (control replies, handled by the caller). Text fields are UTF-8 or base64 per `encoding`.
 */
export function decodeJsonFrame(msg: { op: string; [field: string]: unknown }): DataFrame | undefined {
  const sub = msg.sub as number;
  if (msg.op === 'checkpoint') return { kind: 'checkpoint', sub, cursor: msg.cursor as string };
  const topic = msg.topic as string;
  const partition = msg.partition as number;
  if (msg.op === 'gap') {
    return { kind: 'gap', sub, topic, partition, from: msg.from as number, to: msg.to as number, reason: msg.reason as GapReason };
  }
  if (msg.op !== 'records') return undefined;
  const decode = msg.encoding === 'base64' ? fromBase64 : (s: string) => utf8Encoder.encode(s);
  const field = (s: string | null | undefined) => (s === null || s === undefined ? null : decode(s));
  const records = (msg.records as JsonRecord[]).map((j) =>
    new DecodedRecord(
      topic,
      partition,
      j.offset,
      j.timestamp,
      field(j.key),
      field(j.value),
      Object.entries(j.headers ?? {}).map(([key, v]) => ({ key, value: field(v) })),
    ),
  );
  return { kind: 'records', sub, topic, partition, highWatermark: msg.highWatermark as number, records };
}
