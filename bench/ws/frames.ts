/**
 * The smallest WebSocket client the bench needs, over a plain `net.Socket`: the HTTP upgrade
 * request, a streaming parser of server frames (unmasked, RFC 6455 §5.2) and masked client frames.
 * `ws` would cost far more per connection and per frame than the server under test; this keeps one
 * client process able to hold thousands of sockets and read millions of frames a second.
 *
 * Also the decoders of what the frames carry: Brook's `brook.v1.bin` data frames (docs/websocket.md)
 * and the raw-uWS baseline's payload.
 */
import { randomBytes } from 'node:crypto';

export const opText = 1;
export const opBinary = 2;
export const opClose = 8;
export const opPing = 9;
export const opPong = 10;

/** The upgrade request for `path` on `host:port`, offering `protocols` (empty: none). */
export function upgradeRequest(host: string, port: number, path: string, protocols: string[]): string {
  const key = randomBytes(16).toString('base64');
  const proto = protocols.length > 0 ? `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n` : '';
  return `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${proto}\r\n`;
}

/**
 * A client frame: FIN set, the payload masked with a fresh 4-byte key (clients must mask, RFC 6455
 * §5.3). Header: byte 0 FIN|opcode, byte 1 MASK|length (126: u16 follows, 127: u64 follows), the key.
 */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = Buffer.allocUnsafe(2 + ext + 4 + len);
  out[0] = 0x80 | opcode;
  if (ext === 0) out[1] = 0x80 | len;
  else if (ext === 2) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  const maskAt = 2 + ext;
  randomBytes(4).copy(out, maskAt);
  for (let i = 0; i < len; i++) out[maskAt + 4 + i] = payload[i]! ^ out[maskAt + (i & 3)]!;
  return out;
}

/**
 * Called once per complete frame. `payload` is the whole payload when the frame is text, control,
 * or the parser was asked for whole frames; otherwise only its first `capture` bytes (fewer if the
 * frame is shorter). `length` is the real payload length. The buffer may be a view into the socket's
 * chunk: valid only during the call.
 */
export type FrameHandler = (opcode: number, payload: Buffer, length: number) => void;

/**
 * Streaming parser of server-to-client frames (never masked). Binary payloads are kept only up to
 * `capture` bytes (Infinity: whole) so counting connections never copy the records they skip.
 */
export class FrameParser {
  /** Header bytes left over from the previous chunk (a header split across two reads). */
  private carry: Buffer | undefined;
  /** In a payload: bytes still to come, the frame's opcode and length, what is captured so far. */
  private remaining = 0;
  private opcode = 0;
  private length = 0;
  private kept: Buffer | undefined;
  private keptLen = 0;
  private want = 0;

  constructor(
    private capture: number,
    private readonly onFrame: FrameHandler,
  ) {}

  /** Captures whole binary payloads from the next frame on (a sampled connection). */
  setCapture(capture: number): void {
    this.capture = capture;
  }

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let pos = 0;
    const end = buf.length;
    while (pos < end) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, end - pos);
        if (this.keptLen < this.want) {
          const take = Math.min(n, this.want - this.keptLen);
          buf.copy(this.kept!, this.keptLen, pos, pos + take);
          this.keptLen += take;
        }
        pos += n;
        this.remaining -= n;
        if (this.remaining === 0) this.onFrame(this.opcode, this.kept!.subarray(0, this.keptLen), this.length);
        continue;
      }
      // Header: byte 0 FIN|RSV|opcode, byte 1 MASK|len7, then a u16 (len7 = 126) or u64 (127) length.
      if (end - pos < 2) break;
      const len7 = buf[pos + 1]! & 0x7f;
      const headerLen = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
      if (end - pos < headerLen) break;
      const opcode = buf[pos]! & 0x0f;
      const length = len7 < 126 ? len7 : len7 === 126 ? buf.readUInt16BE(pos + 2) : Number(buf.readBigUInt64BE(pos + 2));
      pos += headerLen;
      const want = opcode === opBinary ? Math.min(length, this.capture) : length;
      if (end - pos >= length) {
        // The whole frame is in this chunk: no copy.
        this.onFrame(opcode, buf.subarray(pos, pos + want), length);
        pos += length;
        continue;
      }
      this.opcode = opcode;
      this.length = length;
      this.remaining = length;
      this.want = want;
      this.keptLen = 0;
      if (!this.kept || this.kept.length < want) this.kept = Buffer.allocUnsafe(Math.max(want, 64));
    }
    if (pos < end) this.carry = Buffer.from(buf.subarray(pos));
  }
}

// --------------------------------------------------------------------------- brook.v1.bin frames

export const kindRecords = 1;
export const kindGap = 2;
export const kindCheckpoint = 3;

/**
 * The 40-byte header of a `brook.v1.bin` data frame (docs/websocket.md, "Data frames"), big-endian:
 * u8 version @0, u8 kind @1, u16 topicIndex @2, u32 subId @4, i32 partition @8, i64 baseOffset @12,
 * i64 highWatermark @20, i64 baseTimestamp @28, u32 count @36 (a gap's reason, a checkpoint's
 * cursor length). Offsets fit a double here (below 2^53).
 */
export interface DataHeader {
  kind: number;
  partition: number;
  baseOffset: number;
  highWatermark: number;
  count: number;
}

export function readDataHeader(p: Buffer): DataHeader {
  return {
    kind: p[1]!,
    partition: p.readInt32BE(8),
    baseOffset: Number(p.readBigInt64BE(12)),
    highWatermark: Number(p.readBigInt64BE(20)),
    count: p.readUInt32BE(36),
  };
}

/** Zigzag varint (Kafka's varint/varlong) at `pos`: [value, next position]. */
function varint(b: Buffer, pos: number): [number, number] {
  let raw = 0;
  let mul = 1;
  for (;;) {
    const byte = b[pos++]!;
    raw += (byte & 0x7f) * mul;
    if (byte < 0x80) break;
    mul *= 128;
  }
  // Zigzag: even values are non-negative.
  return [raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2, pos];
}

/**
 * Walks the Kafka v2 records of a records frame (body at byte 40): calls `onRecord(offset, value)`
 * per record. A record: varint length, i8 attributes, varlong timestampDelta, varint offsetDelta,
 * varint keyLength + key, varint valueLength + value (-1: null), then headers (skipped through the
 * record's length).
 */
export function forEachRecord(p: Buffer, baseOffset: number, count: number, onRecord: (offset: number, value: Buffer | null) => void): void {
  let pos = 40;
  for (let i = 0; i < count; i++) {
    let len: number;
    [len, pos] = varint(p, pos);
    const recordEnd = pos + len;
    let q = pos + 1; // attributes
    let offsetDelta: number;
    let keyLen: number;
    let valueLen: number;
    [, q] = varint(p, q); // timestampDelta
    [offsetDelta, q] = varint(p, q);
    [keyLen, q] = varint(p, q);
    if (keyLen > 0) q += keyLen;
    [valueLen, q] = varint(p, q);
    onRecord(baseOffset + offsetDelta, valueLen < 0 ? null : p.subarray(q, q + valueLen));
    pos = recordEnd;
  }
}

// ------------------------------------------------------------------------------ bench payloads

/**
 * Every record value and raw-uWS message the bench sends: f64 BE send time (ms on the shared wall
 * clock, `nowMs()`) @0, u32 BE sequence number @8, then padding to the payload size.
 */
export function benchPayload(size: number, seq: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeDoubleBE(nowMs(), 0);
  b.writeUInt32BE(seq >>> 0, 8);
  return b;
}

/**
 * performance.now() plus this is wall-clock ms. Read at the moment Date.now() ticks to a new
 * millisecond; a read delayed by preemption only makes it smaller, so the largest of 8 ticks is
 * kept (8 ms at start-up). `performance.timeOrigin` is not good enough: two processes'
 * `timeOrigin + now()` differed by 12 ms here on a loaded machine, showing as negative latencies.
 */
const wallOffset = (() => {
  let best = -Infinity;
  for (let i = 0; i < 8; i++) {
    const start = Date.now();
    let now = start;
    while (now === start) now = Date.now();
    best = Math.max(best, now - performance.now());
  }
  return best;
})();

/**
 * Wall-clock milliseconds with sub-millisecond resolution, comparable between processes on one
 * machine (every process calibrates against the same realtime clock).
 */
export function nowMs(): number {
  return wallOffset + performance.now();
}
