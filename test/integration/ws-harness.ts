/**
 * A WebSocket test client for the gateway (the `ws` package over a real socket): decodes binary
 * data frames with the server's own decoder (src/ws/frames.ts; test/unit/client checks the browser
 * decoder against it), parses JSON frames, and waits for what a test expects.
 */
import WebSocket from 'ws';
import { decodeFrame, type DecodedFrame } from '../../src/ws/frames.js';
/** Polls `cond` until it holds or `timeoutMs` passes (no throw: callers report what was missing). */
async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

export type Json = Record<string, unknown> & { op?: string };
export type Received = { kind: 'json'; msg: Json } | { kind: 'frame'; frame: DecodedFrame };

export interface OpenOptions {
  protocols?: string[];
  headers?: Record<string, string>;
  query?: string;
}

export interface Delivered {
  sub: number;
  topic?: string;
  topicIndex?: number;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string | null>;
}

export class WsProbe {
  readonly received: Received[] = [];
  closeInfo: { code: number; reason: string } | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;
  private nextId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.received.push({ kind: 'frame', frame: decodeFrame(new Uint8Array(data)) });
      else this.received.push({ kind: 'json', msg: JSON.parse(data.toString('utf8')) as Json });
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
      }),
    );
    ws.on('error', () => {});
  }

  /** Opens /ws/v1 (brook.v1.bin unless told) and waits for the server's hello. */
  static async open(port: number, opts: OpenOptions = {}): Promise<WsProbe> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/v1${opts.query ?? ''}`, opts.protocols ?? ['brook.v1.bin'], { headers: opts.headers });
    const probe = new WsProbe(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return probe;
  }

  get json(): Json[] {
    return this.received.flatMap((r) => (r.kind === 'json' ? [r.msg] : []));
  }

  get frames(): DecodedFrame[] {
    return this.received.flatMap((r) => (r.kind === 'frame' ? [r.frame] : []));
  }

  send(msg: object | string): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Sends a control message with a fresh id and resolves with its ok or error reply. */
  async request(msg: Json, timeoutMs = 10_000): Promise<Json> {
    const id = `r${this.nextId++}`;
    this.send({ ...msg, id });
    let reply: Json | undefined;
    await until(() => (reply = this.json.find((m) => m.id === id && (m.op === 'ok' || m.op === 'error'))) !== undefined || this.closeInfo !== undefined, timeoutMs);
    if (!reply) throw new Error(`no reply to ${JSON.stringify(msg)}; closed ${JSON.stringify(this.closeInfo)}`);
    return reply;
  }

  /** Subscribes and returns the subscription id (throws on an error reply). */
  async sub(msg: Json): Promise<number> {
    const reply = await this.request({ op: 'sub', ...msg });
    if (reply.op !== 'ok') throw new Error(`sub refused: ${JSON.stringify(reply)}`);
    return reply.sub as number;
  }

  /** Every record delivered so far (binary or JSON frames), in arrival order. */
  records(sub?: number): Delivered[] {
    const out: Delivered[] = [];
    const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('utf8'));
    for (const r of this.received) {
      if (r.kind === 'frame' && r.frame.kind === 'records' && (sub === undefined || r.frame.subId === sub)) {
        const f = r.frame;
        for (const rec of f.records) {
          out.push({
            sub: f.subId,
            topicIndex: f.topicIndex,
            partition: f.partition,
            offset: rec.offset,
            timestamp: rec.timestamp,
            key: text(rec.key),
            value: text(rec.value),
            headers: Object.fromEntries(rec.headers.map((h) => [h.key, text(h.value)])),
          });
        }
      } else if (r.kind === 'json' && r.msg.op === 'records' && (sub === undefined || r.msg.sub === sub)) {
        const m = r.msg as { sub: number; topic: string; partition: number; records: { offset: number; timestamp: number; key: string | null; value: string | null; headers: Record<string, string | null> }[] };
        for (const rec of m.records) out.push({ sub: m.sub, topic: m.topic, partition: m.partition, ...rec });
      }
    }
    return out;
  }

  /** Gap frames (binary or JSON). */
  gaps(sub?: number): { partition: number; from: number; to: number; reason: string }[] {
    const out: { partition: number; from: number; to: number; reason: string }[] = [];
    for (const r of this.received) {
      if (r.kind === 'frame' && r.frame.kind === 'gap' && (sub === undefined || r.frame.subId === sub)) out.push({ partition: r.frame.partition, from: r.frame.from, to: r.frame.to, reason: r.frame.reason });
      else if (r.kind === 'json' && r.msg.op === 'gap' && (sub === undefined || r.msg.sub === sub)) out.push(r.msg as never);
    }
    return out;
  }

  /** The latest checkpoint cursor of a subscription. */
  lastCursor(sub: number): string | undefined {
    let cursor: string | undefined;
    for (const r of this.received) {
      if (r.kind === 'frame' && r.frame.kind === 'checkpoint' && r.frame.subId === sub) cursor = r.frame.cursor;
      else if (r.kind === 'json' && r.msg.op === 'checkpoint' && r.msg.sub === sub) cursor = r.msg.cursor as string;
    }
    return cursor;
  }

  async waitRecords(n: number, sub?: number, timeoutMs = 15_000): Promise<Delivered[]> {
    await until(() => this.records(sub).length >= n || this.closeInfo !== undefined, timeoutMs);
    const got = this.records(sub);
    if (got.length < n) throw new Error(`expected ${n} records, got ${got.length}; closed ${JSON.stringify(this.closeInfo)}`);
    return got;
  }

  async waitJson(pred: (m: Json) => boolean, timeoutMs = 15_000): Promise<Json> {
    let found: Json | undefined;
    await until(() => (found = this.json.find(pred)) !== undefined || this.closeInfo !== undefined, timeoutMs);
    if (!found) throw new Error(`no matching message; closed ${JSON.stringify(this.closeInfo)}; got ${JSON.stringify(this.json.slice(-5))}`);
    return found;
  }

  close(code = 1000): Promise<{ code: number; reason: string }> {
    if (!this.closeInfo) this.ws.close(code);
    return this.closed;
  }

  /** Drops the TCP connection without a close frame (a network cut). */
  terminate(): void {
    this.ws.terminate();
  }
}
