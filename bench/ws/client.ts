/**
 * The ws bench's load client, a child process driven over IPC (bench/ws/ipc.ts): thousands of
 * WebSocket connections on raw `net` sockets (bench/ws/frames.ts), each counting the records it
 * receives and checking that they arrive once and in order; a sample of them also decodes every
 * record to measure produce-to-receive latency from the send time the producer wrote into the value.
 *
 * Two modes: `brook` (the gateway's `brook.v1.bin` frames: 40-byte header, Kafka v2 records; order is
 * checked by offsets per partition) and `raw` (the raw-uWS baseline: one 100-byte payload per frame;
 * order is checked by the sequence number in the payload).
 *
 * Loss and order are judged from frame headers only: a records frame is taken to hold `count`
 * consecutive offsets from `baseOffset`, which holds for the bench's topics (one plain producer, no
 * compaction, no filters).
 */
import { connect, type Socket } from 'node:net';
import { clientFrame, FrameParser, forEachRecord, kindGap, kindRecords, nowMs, opBinary, opClose, opPing, opPong, opText, readDataHeader, upgradeRequest } from './frames.js';
import { serve, usage } from './ipc.js';

type Mode = 'brook' | 'raw';

interface Target {
  host: string;
  port: number;
  path: string;
  protocols: string[];
  mode: Mode;
  /** The `sub` message (brook mode); `id` and, on a resume, `from` are set per connection. */
  sub?: Record<string, unknown>;
}

interface Gap {
  at: number;
  from: number;
  to: number;
  reason: number;
}

/** The capture of a counting connection: the brook header, or the raw payload's stamp and sequence. */
const headerCapture = (mode: Mode) => (mode === 'brook' ? 40 : 16);

class Conn {
  socket!: Socket;
  parser!: FrameParser;
  records = 0;
  frames = 0;
  bytes = 0;
  lost = 0;
  duplicated = 0;
  /** Records skipped by the server's slow-consumer policy (gap frames), not lost. */
  skipped = 0;
  gaps: Gap[] = [];
  /** Brook: next expected offset per partition; raw: next expected sequence number. */
  readonly next = new Map<number, number>();
  /** Raw: after a reconnect the baseline has no replay, so the first sequence seen restarts the count. */
  resync = false;
  closeCode: number | undefined;
  closing: unknown;
  errors: string[] = [];
  stalled = false;
  /**
   * The stalled connection: send stamps of the last record before its first gap frame (about when
   * the server stopped sending to it) and of the first record after it (about when its policy fired).
   */
  lastBeforeGap: number | undefined;
  firstAfterGap: number | undefined;
  awaitingGapRecord = false;
  sinceCredit = 0;
  private upgraded = false;
  private handshake = '';
  private waitingOk: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private onFirstRecords: (() => void) | undefined;

  constructor(
    readonly index: number,
    readonly target: Target,
    readonly sampled: boolean,
  ) {}

  /**
   * Opens the socket, upgrades, and in brook mode subscribes (from `from`, default the sub's own):
   * resolves when the subscription is confirmed (raw: when upgraded; the server subscribes on open).
   * `firstRecords` is called at the first records frame after this.
   */
  open(from?: unknown, firstRecords?: () => void): Promise<void> {
    const t = this.target;
    this.upgraded = false;
    this.handshake = '';
    this.onFirstRecords = firstRecords;
    this.parser = new FrameParser(this.sampled || this.stalled ? Infinity : headerCapture(t.mode), (op, p, len) => this.onFrame(op, p, len));
    return new Promise<void>((resolve, reject) => {
      const s = connect({ host: t.host, port: t.port, noDelay: true });
      this.socket = s;
      // Settles once: upgraded (raw) or subscribed (brook), or failed, or 10 s passed. Events of a
      // socket a forced reconnect has replaced settle only its own open().
      let settled = false;
      const settle = (e?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.waitingOk === mine) this.waitingOk = undefined;
        if (e) reject(e);
        else resolve();
      };
      const mine = { resolve: () => settle(), reject: (e: Error) => settle(e) };
      const timer = setTimeout(() => settle(new Error(`connection ${this.index}: no upgrade or subscription within 10 s`)), 10_000);
      s.on('error', (e) => settle(e));
      s.on('close', () => settle(new Error(`connection ${this.index} closed (${this.closeCode ?? 'no close frame'})`)));
      s.once('connect', () => s.write(upgradeRequest(t.host, t.port, t.path, t.protocols)));
      s.on('data', (chunk: Buffer) => {
        if (this.socket !== s) return;
        if (this.upgraded) return this.onData(chunk);
        this.handshake += chunk.toString('latin1');
        const end = this.handshake.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!this.handshake.startsWith('HTTP/1.1 101')) return settle(new Error(`upgrade refused: ${this.handshake.slice(0, end)}`));
        this.upgraded = true;
        if (t.mode === 'raw') settle();
        else {
          this.waitingOk = mine;
          this.sendJson({ ...t.sub, id: this.index, ...(from !== undefined ? { from } : {}) });
        }
        const rest = Buffer.from(this.handshake.slice(end + 4), 'latin1');
        if (rest.length > 0) this.onData(rest);
      });
    });
  }

  sendJson(m: unknown): void {
    this.socket.write(clientFrame(opText, Buffer.from(JSON.stringify(m))));
  }

  private onData(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.parser.push(chunk);
  }

  private onFrame(op: number, p: Buffer, length: number): void {
    if (op === opBinary) {
      this.frames++;
      if (this.target.mode === 'raw') this.onRawPayload(p);
      else this.onBrookFrame(p, length);
    } else if (op === opText) this.onControl(p.toString());
    else if (op === opPing) this.socket.write(clientFrame(opPong, Buffer.from(p)));
    else if (op === opClose) {
      this.closeCode = p.length >= 2 ? p.readUInt16BE(0) : 1005;
      this.socket.end(clientFrame(opClose, p.length >= 2 ? Buffer.from(p.subarray(0, 2)) : Buffer.alloc(0)));
    }
  }

  private onRawPayload(p: Buffer): void {
    const seq = p.readUInt32BE(8);
    this.records++;
    this.order(0, seq, 1);
    if (this.sampled && !this.stalled) latencies.push(nowMs() - p.readDoubleBE(0));
    this.firstRecords();
  }

  private onBrookFrame(p: Buffer, length: number): void {
    const h = readDataHeader(p);
    if (h.kind === kindRecords) {
      this.records += h.count;
      this.sinceCredit += h.count;
      this.order(h.partition, h.baseOffset, h.count);
      if (this.sampled && !this.stalled && p.length === length) {
        const now = nowMs();
        forEachRecord(p, h.baseOffset, h.count, (_o, v) => {
          if (!v || v.length < 12) return;
          latencies.push(now - v.readDoubleBE(0));
          receipts.seq.push(v.readUInt32BE(8));
          receipts.at.push(now);
        });
      } else if (this.stalled && p.length === length) {
        // The stalled connection: the send stamps around its first gap, which bracket the policy.
        forEachRecord(p, h.baseOffset, h.count, (_o, v) => {
          if (!v || v.length < 8) return;
          if (this.awaitingGapRecord) {
            this.firstAfterGap ??= v.readDoubleBE(0);
            this.awaitingGapRecord = false;
          } else if (this.gaps.length === 0) this.lastBeforeGap = v.readDoubleBE(0);
        });
      }
      // Credit is spent per record; top it up well before a subscription could run dry.
      const credit = (this.target.sub?.credit as { records?: number } | undefined)?.records;
      if (credit !== undefined && this.sinceCredit > credit / 2) {
        this.sendJson({ op: 'credit', sub: this.subId, records: this.sinceCredit, bytes: this.sinceCredit * 256 });
        this.sinceCredit = 0;
      }
      this.firstRecords();
    } else if (h.kind === kindGap) {
      // A gap: records [from, to) skipped (reason in `count`): the stream continues at `to`.
      const from = h.baseOffset;
      const to = h.highWatermark;
      this.gaps.push({ at: nowMs(), from, to, reason: h.count });
      this.skipped += Math.max(0, to - from);
      const expected = this.next.get(h.partition);
      if (expected === undefined || to > expected) this.next.set(h.partition, to);
      if (this.gaps.length === 1) this.awaitingGapRecord = true;
    }
  }

  subId: number | undefined;

  private onControl(text: string): void {
    let m: { op?: string; id?: unknown; sub?: number; code?: string; message?: string };
    try {
      m = JSON.parse(text) as typeof m;
    } catch {
      this.errors.push(`not JSON: ${text.slice(0, 100)}`);
      return;
    }
    if (m.op === 'ok' && this.waitingOk) {
      this.subId = m.sub;
      const w = this.waitingOk;
      this.waitingOk = undefined;
      w.resolve();
    } else if (m.op === 'error') {
      this.errors.push(`${m.code}: ${m.message}`);
      const w = this.waitingOk;
      this.waitingOk = undefined;
      w?.reject(new Error(`sub refused: ${m.code}: ${m.message}`));
    } else if (m.op === 'closing') this.closing = m;
  }

  /** `count` consecutive positions from `first` arrived on `partition`: counts what was missed or repeated. */
  private order(partition: number, first: number, count: number): void {
    const expected = this.next.get(partition);
    if (expected === undefined || this.resync) {
      this.resync = false;
      this.next.set(partition, first + count);
      return;
    }
    if (first > expected) this.lost += first - expected;
    else if (first < expected) this.duplicated += Math.min(count, expected - first);
    this.next.set(partition, Math.max(expected, first + count));
  }

  private firstRecords(): void {
    const f = this.onFirstRecords;
    if (f) {
      this.onFirstRecords = undefined;
      f();
    }
  }

  reset(): void {
    this.records = this.frames = this.bytes = this.lost = this.duplicated = this.skipped = 0;
    this.gaps = [];
    this.errors = [];
  }
}

let conns: Conn[] = [];
/** Produce-to-receive ms of every record the sampled connections decoded since the last reset. */
let latencies: number[] = [];
/**
 * Brook mode, the same records: the producer's sequence number and the receive time, so the bench
 * can also time from the produce acknowledgement it saw (it knows when each sequence was acked).
 */
let receipts = { seq: [] as number[], at: [] as number[] };

/** Opens `count` connections, at most `parallel` handshakes at a time (a burst overflows the accept queue). */
async function openAll(list: Conn[], parallel = 100): Promise<void> {
  let i = 0;
  const worker = async () => {
    while (i < list.length) await list[i++]!.open();
  };
  await Promise.all(Array.from({ length: Math.min(parallel, list.length) }, worker));
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

serve({
  /**
   * Opens `count` connections to `target`; the first `sampled` of them decode every record for
   * latency. `expectFrom`: the first offset (brook) or sequence (raw) each should receive, so
   * records missed before the first frame count as lost.
   */
  connect: async ({ target, count, sampled, expectFrom }: { target: Target; count: number; sampled: number; expectFrom?: number }) => {
    const t0 = performance.now();
    const list = Array.from({ length: count }, (_, i) => new Conn(conns.length + i, target, i < sampled));
    for (const c of list) if (expectFrom !== undefined) c.next.set(0, expectFrom);
    await openAll(list);
    conns.push(...list);
    return { ms: performance.now() - t0, open: conns.length };
  },
  reset: () => {
    for (const c of conns) c.reset();
    latencies = [];
    receipts = { seq: [], at: [] };
    return usage();
  },
  /**
   * Waits until every connection that is not stalled has reached position `until` (an offset or
   * sequence number) on partition 0, or `timeoutMs` passes. Returns the ms waited and how many fell short.
   */
  waitFor: async ({ until, timeoutMs }: { until: number; timeoutMs: number }) => {
    const t0 = performance.now();
    const short = () => conns.filter((c) => !c.stalled && (c.next.get(0) ?? 0) < until).length;
    while (short() > 0 && performance.now() - t0 < timeoutMs) await sleep(20);
    return { ms: performance.now() - t0, short: short() };
  },
  stats: () => {
    const live = conns.filter((c) => !c.stalled);
    const sorted = Float64Array.from(latencies).sort();
    const sum = (f: (c: Conn) => number) => live.reduce((a, c) => a + f(c), 0);
    const closes: Record<string, number> = {};
    for (const c of conns) if (c.closeCode !== undefined) closes[c.closeCode] = (closes[c.closeCode] ?? 0) + 1;
    return {
      connections: live.length,
      records: sum((c) => c.records),
      frames: sum((c) => c.frames),
      bytes: sum((c) => c.bytes),
      lost: sum((c) => c.lost),
      duplicated: sum((c) => c.duplicated),
      skipped: sum((c) => c.skipped),
      gaps: sum((c) => c.gaps.length),
      minRecords: Math.min(...live.map((c) => c.records)),
      maxRecords: Math.max(...live.map((c) => c.records)),
      errors: conns.flatMap((c) => c.errors).slice(0, 5),
      closes,
      latency: { samples: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999), max: sorted.length ? sorted[sorted.length - 1]! : NaN },
      usage: usage(),
    };
  },
  /** Stops reading connection `index` (raw mode: says "stall" first, so the server can time its drop). */
  stall: ({ index }: { index: number }) => {
    const c = conns[index]!;
    if (c.target.mode === 'raw') c.socket.write(clientFrame(opText, Buffer.from('stall')));
    c.stalled = true;
    c.parser.setCapture(Infinity);
    c.socket.pause();
    return { at: nowMs() };
  },
  /**
   * Reads the stalled connection again for `drainMs` and reports what its policy did: gap frames
   * (with the send stamp of the first record after the last one), a close code, a `closing` message.
   */
  unstall: async ({ index, drainMs }: { index: number; drainMs: number }) => {
    const c = conns[index]!;
    c.socket.resume();
    await sleep(drainMs);
    return { gaps: c.gaps, lastBeforeGap: c.lastBeforeGap, firstAfterGap: c.firstAfterGap, closeCode: c.closeCode, closing: c.closing, records: c.records, lost: c.lost, duplicated: c.duplicated };
  },
  /**
   * `count` forced reconnects spread over `spreadMs`: a random non-sampled connection's socket is
   * destroyed (a dropped network, no close frame) and reopened at once, resuming (brook) from the
   * next offset it expects. Returns each reconnect's ms from the new connect to its first records frame.
   */
  reconnect: async ({ count, spreadMs }: { count: number; spreadMs: number }) => {
    const candidates = conns.filter((c) => !c.sampled && !c.stalled);
    const times: number[] = [];
    const failures: string[] = [];
    const runs: Promise<void>[] = [];
    // Distinct connections (a shuffle's head): one socket reconnected twice at once would race itself.
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
    }
    for (let i = 0; i < Math.min(count, candidates.length); i++) {
      const c = candidates[i]!;
      runs.push(
        (async () => {
          c.socket.destroy();
          const t0 = performance.now();
          let first: () => void = () => {};
          const gotFirst = new Promise<void>((r) => (first = r));
          const from = c.target.mode === 'brook' ? { offsets: Object.fromEntries([...c.next].map(([p, o]) => [String(p), o])) } : undefined;
          if (c.target.mode === 'raw') c.resync = true;
          try {
            await c.open(from, first);
            await Promise.race([gotFirst, sleep(10_000).then(() => Promise.reject(new Error('no records within 10 s of a reconnect')))]);
            times.push(performance.now() - t0);
          } catch (e) {
            failures.push((e as Error).message);
          }
        })(),
      );
      await sleep(spreadMs / count);
    }
    await Promise.all(runs);
    return { times, failures: failures.slice(0, 5), failed: failures.length };
  },
  closeAll: async () => {
    for (const c of conns) c.socket.destroy();
    conns = [];
    await sleep(100);
    return usage();
  },
  /** The sampled connections' (sequence, receive time) pairs since the last reset. */
  receipts: () => receipts,
  usage: () => usage(),
});
