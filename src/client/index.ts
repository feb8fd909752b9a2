/**
 * `brook/client`: a small typed WebSocket client for Brook's `/ws/v1` protocol (docs/websocket.md),
 * for browsers and Node (pass `ws`'s class as `WebSocket` on Node 20). No dependencies, no Node APIs.
 *
 *   const c = connect('ws://localhost:9093/ws/v1', { WebSocket });
 *   for await (const r of c.subscribe({ topic: 'orders', mode: 'assign' })) console.log(r.offset, r.text());
 *
 * Reconnects with backoff and resumes each subscription after what the application has consumed,
 * not after what the server sent: records received but not yet consumed are dropped at a disconnect
 * and sent again by the server.
 */
import { decodeBinaryFrame, decodeJsonFrame, toBase64, type BrookRecord, type DataFrame, type GapReason } from './frames.js';

export type { BrookRecord, BrookRecord as Record, GapReason } from './frames.js';

/** Where a subscription starts (docs/websocket.md, `from`). */
export type From =
  | 'earliest'
  | 'latest'
  | 'committed'
  | { offsets: { [partition: string]: number } }
  | { timestamp: number }
  | { cursor: string };

export interface SubscribeOptions {
  topic?: string;
  topics?: string[];
  partitions?: number[];
  /** Default: `group` when `group` is set, else `live`. */
  mode?: 'live' | 'assign' | 'group';
  from?: From;
  group?: string;
  filter?: { key?: string; keyPrefix?: string; headers?: { [name: string]: string } };
  /** The credit window; default the server's, 1,000 records and 1 MiB. */
  credit?: { records: number; bytes: number };
  policy?: 'wait' | 'close' | 'conflate' | 'skip';
  /** JSON protocol only: how keys and values travel (`base64` for binary data). */
  encoding?: 'utf8' | 'base64';
}

export interface ConnectOptions {
  /** Data frames as binary (default) or JSON. */
  protocol?: 'bin' | 'json';
  /** Sent as the subprotocol `bearer.<base64url(token)>`. */
  token?: string;
  /** A WebSocket class (the `ws` package's on Node 20); default globalThis.WebSocket. */
  WebSocket?: WebSocketClass;
  /** Exponential backoff with jitter between attempts; false: never reconnect. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number } | false;
  /** A session to take over at the first connection (group members keep their partitions). */
  session?: string;
}

/** What the client needs of a WebSocket class: the browser's and `ws`'s both fit. */
export type WebSocketClass = new (url: string, protocols: string[]) => object;

interface Socket {
  binaryType: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: { error?: unknown; message?: string }) => void) | null;
}

export interface PublishOptions {
  key?: string | Uint8Array;
  headers?: { [name: string]: string };
  partition?: number;
  acks?: 0 | 1 | -1;
}

export interface GapEvent {
  topic: string;
  partition: number;
  from: number;
  to: number;
  reason: GapReason;
}

export interface PartitionEvent {
  topic: string;
  partition: number;
  offset?: number;
}

export interface Subscription extends AsyncIterable<BrookRecord> {
  on(event: 'records', fn: (records: BrookRecord[]) => void): void;
  on(event: 'gap', fn: (gap: GapEvent) => void): void;
  on(event: 'assigned' | 'revoked', fn: (partitions: PartitionEvent[]) => void): void;
  /** Group mode: commits `r.offset + 1` for its partition (batched, one message per partition per 100 ms). */
  ack(r: BrookRecord): void;
  unsubscribe(): void;
  /** The last checkpoint cursor received. */
  readonly cursor: string | undefined;
}

export interface BrookClient {
  subscribe(opts: SubscribeOptions): Subscription;
  /** Resolves once written (acks 1, -1); with acks 0 at once, with -1 for partition, offset and timestamp. */
  publish(topic: string, value: string | Uint8Array | null, opts?: PublishOptions): Promise<{ partition: number; offset: number; timestamp: number }>;
  /** Closes with 1000 and never reconnects. */
  close(): void;
  readonly session: string | undefined;
  on(event: 'open', fn: () => void): void;
  on(event: 'close', fn: (e: { code: number; reason: string }) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
}

/** An `error` reply from the server; `code` is a Kafka error name or BAD_REQUEST, FORBIDDEN, ... */
export class BrookError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'BrookError';
  }
}

type ServerMessage = { op: string; id?: number; [field: string]: unknown };
type Listener = (arg: never) => void;

const DEFAULT_CREDIT = { records: 1000, bytes: 1024 * 1024 };
/** Closes after which reconnecting cannot help: protocol errors, auth, a newer socket took over. */
const FINAL_CLOSE_CODES = new Set([1000, 1003, 1007, 4400, 4401, 4403, 4409]);
const ACK_INTERVAL_MS = 100;
/** A trickle of consumption is credited back at most this late, however little it is. */
const CREDIT_LINGER_MS = 100;
const utf8 = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

class Emitter {
  private readonly listeners = new Map<string, Listener[]>();
  on(event: string, fn: Listener): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
  }
  has(event: string): boolean {
    return (this.listeners.get(event)?.length ?? 0) > 0;
  }
  emit(event: string, arg: unknown): void {
    for (const fn of this.listeners.get(event) ?? []) (fn as (a: unknown) => void)(arg);
  }
}

/** Queued in arrival order so that consuming a record, a gap or a checkpoint happens in stream order. */
type QueueItem = { frame: DataFrame; next: number; bytesPerRecord: number };

class Sub extends Emitter implements Subscription {
  subId: number | undefined;
  topics: string[] = [];
  cursor: string | undefined;
  private readonly queue: QueueItem[] = [];
  /** topic -> partition -> the next offset after what the application consumed. */
  private readonly positions = new Map<string, Map<number, number>>();
  /** The last cursor the application consumed past, and whether it consumed anything after it. */
  private consumedCursor: string | undefined;
  private consumedSinceCursor = false;
  private readonly window: { records: number; bytes: number };
  private owed = { records: 0, bytes: 0 };
  private creditTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pendingAcks = new Map<string, { topic: string; partition: number; offset: number }>();
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private iterating = false;
  private waiter: { resolve: (r: IteratorResult<BrookRecord>) => void; reject: (e: unknown) => void } | undefined;
  private ended = false;
  private failure: Error | undefined;

  constructor(
    private readonly client: Client,
    readonly opts: SubscribeOptions,
  ) {
    super();
    this.window = opts.credit ?? DEFAULT_CREDIT;
  }

  get mode(): 'live' | 'assign' | 'group' {
    return this.opts.mode ?? (this.opts.group !== undefined ? 'group' : 'live');
  }

  /**
   * The `sub` message for this (re)subscription, resuming after what the application consumed:
   * the last cursor consumed past if nothing was consumed after it, else (one topic) every
   * partition's next offset, else (several topics) that cursor, duplicates then dropped on arrival.
   */
  subMessage(): { [field: string]: unknown } {
    const { credit, ...rest } = this.opts;
    const mode = this.mode;
    const msg: { [field: string]: unknown } = { op: 'sub', ...rest, mode, credit };
    if (mode === 'group') return msg; // committed offsets, and the session keeps the assignment
    const single = this.opts.topic ?? (this.opts.topics?.length === 1 ? this.opts.topics[0] : undefined);
    const consumed = single === undefined ? undefined : this.positions.get(single);
    if (this.consumedCursor !== undefined && !this.consumedSinceCursor) msg.from = { cursor: this.consumedCursor };
    else if (consumed !== undefined && consumed.size > 0) msg.from = { offsets: Object.fromEntries(consumed) };
    else if (this.consumedCursor !== undefined && single === undefined) msg.from = { cursor: this.consumedCursor };
    return msg;
  }

  /** The `ok` of a (re)subscription: each partition's start is where a resume begins if nothing is consumed. */
  subscribed(reply: ServerMessage): void {
    this.subId = reply.sub as number;
    this.topics = (reply.topics as string[] | undefined) ?? [this.opts.topic ?? ''];
    for (const p of (reply.partitions as PartitionEvent[] | undefined) ?? []) {
      if (p.offset !== undefined) this.advance(p.topic, p.partition, p.offset, false);
    }
    this.owed = { records: 0, bytes: 0 };
    this.flushAcks();
  }

  /** Records received but not consumed are dropped: the resubscription asks for them again. */
  disconnected(): void {
    this.subId = undefined;
    this.queue.length = 0;
    clearTimeout(this.creditTimer);
    this.creditTimer = undefined;
  }

  onFrame(frame: DataFrame, bytes: number): void {
    // The server sends an empty cursor when a subscription's would exceed 2 KiB: positions cover it.
    if (this.ended || (frame.kind === 'checkpoint' && frame.cursor === '')) return;
    // Credit is given back per record consumed: the frame's bytes spread over its records.
    const bytesPerRecord = frame.kind === 'records' ? bytes / Math.max(1, frame.records.length) : 0;
    if (frame.kind === 'checkpoint') this.cursor = frame.cursor;
    else if (frame.kind === 'records' && this.mode !== 'group') {
      // After a resume from a cursor older than what was consumed, the application has seen these
      // already. (A group member re-reads from the commits instead, as Kafka consumers do.)
      const next = this.positions.get(frame.topic)?.get(frame.partition) ?? 0;
      const fresh = frame.records.filter((r) => r.offset >= next);
      for (let i = fresh.length; i < frame.records.length; i++) this.owe(bytesPerRecord);
      if (fresh.length === 0) return;
      frame = { ...frame, records: fresh };
    }
    if (frame.kind === 'records' && this.iterating) this.emit('records', frame.records); // watching the iterator's intake
    this.queue.push({ frame, next: 0, bytesPerRecord });
    if (!this.iterating) {
      // Callback mode: delivered is consumed. With neither callback nor iterator yet, the queue
      // waits (bounded by credit) for an iterator.
      if (this.has('records')) this.drainAll();
    } else if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      this.pull().then(w.resolve, w.reject);
    }
  }

  onControl(msg: ServerMessage): void {
    const parts = (msg.partitions as PartitionEvent[]).map((p) => ({ ...p, topic: p.topic ?? this.topics[0] }));
    if (msg.op === 'revoked') {
      this.flushAcks(); // while this member still holds the partitions
      // Another member now owns these: what is queued for them would be read twice.
      // Their credit comes back as if consumed.
      const gone = new Set(parts.map((p) => `${p.topic}\0${p.partition}`));
      const dropped = new Set(this.queue.filter((q) => q.frame.kind !== 'checkpoint' && gone.has(`${q.frame.topic}\0${q.frame.partition}`)));
      for (const q of dropped) if (q.frame.kind === 'records') for (let i = q.next; i < q.frame.records.length; i++) this.owe(q.bytesPerRecord);
      this.queue.splice(0, this.queue.length, ...this.queue.filter((q) => !dropped.has(q)));
    }
    this.emit(msg.op, parts);
  }

  /** Consumes the head of the queue: one record (returned), or a whole gap or checkpoint. */
  private step(): BrookRecord | undefined {
    const item = this.queue[0];
    const f = item.frame;
    if (f.kind === 'records') {
      const r = f.records[item.next++];
      if (item.next >= f.records.length) this.queue.shift();
      if (r === undefined) return undefined;
      this.advance(r.topic, r.partition, r.offset + 1);
      this.owe(item.bytesPerRecord);
      return r;
    }
    this.queue.shift();
    if (f.kind === 'gap') {
      this.advance(f.topic, f.partition, f.to);
      this.emit('gap', { topic: f.topic, partition: f.partition, from: f.from, to: f.to, reason: f.reason });
    } else {
      this.consumedCursor = f.cursor;
      this.consumedSinceCursor = false;
    }
    return undefined;
  }

  /** Consumes queued items up to and including the next record, which it returns. */
  private take(): BrookRecord | undefined {
    while (this.queue.length > 0) {
      const r = this.step();
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** Callback mode: consumes the whole queue, handing each frame's records to the listeners. */
  private drainAll(): void {
    while (this.queue.length > 0) {
      const item = this.queue[0];
      if (item.frame.kind !== 'records') this.step();
      else {
        const rs = item.frame.records.slice(item.next);
        while (this.queue[0] === item) this.step();
        if (rs.length > 0) this.emit('records', rs);
      }
    }
  }

  private advance(topic: string, partition: number, next: number, consumed = true): void {
    let byPartition = this.positions.get(topic);
    if (byPartition === undefined) this.positions.set(topic, (byPartition = new Map()));
    byPartition.set(partition, Math.max(next, byPartition.get(partition) ?? 0));
    if (consumed) this.consumedSinceCursor = true;
  }

  /** One record consumed: give its credit back once half the window is used, or soon after. */
  private owe(bytes: number): void {
    this.owed.records++;
    this.owed.bytes += bytes;
    if (this.owed.records * 2 >= this.window.records || this.owed.bytes * 2 >= this.window.bytes) this.sendCredit();
    else if (this.creditTimer === undefined && this.owed.records > 0) {
      this.creditTimer = setTimeout(() => this.sendCredit(), CREDIT_LINGER_MS);
    }
  }

  private sendCredit(): void {
    clearTimeout(this.creditTimer);
    this.creditTimer = undefined;
    if (this.subId === undefined || this.owed.records === 0) return;
    const records = this.owed.records;
    const bytes = Math.ceil(this.owed.bytes);
    this.owed = { records: 0, bytes: 0 };
    this.client.sendControl({ op: 'credit', sub: this.subId, records, bytes });
  }

  private pull(): Promise<IteratorResult<BrookRecord>> {
    const r = this.take();
    if (r !== undefined) return Promise.resolve({ value: r, done: false });
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<BrookRecord> {
    this.iterating = true;
    return {
      next: () => this.pull(),
      return: () => {
        this.unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  ack(r: BrookRecord): void {
    const key = `${r.topic}\0${r.partition}`;
    const prev = this.pendingAcks.get(key);
    if (prev === undefined || prev.offset < r.offset + 1) this.pendingAcks.set(key, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
    if (this.ackTimer === undefined) this.ackTimer = setTimeout(() => this.flushAcks(), ACK_INTERVAL_MS);
  }

  private flushAcks(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.subId === undefined) return; // kept for the resubscription
    for (const a of this.pendingAcks.values()) this.client.sendControl({ op: 'ack', sub: this.subId, ...a });
    this.pendingAcks.clear();
  }

  unsubscribe(): void {
    if (this.ended) return;
    this.flushAcks();
    if (this.subId !== undefined) this.client.sendControl({ op: 'unsub', sub: this.subId });
    this.client.forget(this);
    this.end();
  }

  /** Ends the iterator: done, or throwing `failure`. */
  end(failure?: Error): void {
    this.ended = true;
    this.failure = failure;
    this.disconnected();
    clearTimeout(this.ackTimer);
    const w = this.waiter;
    this.waiter = undefined;
    if (w !== undefined) this.pull().then(w.resolve, w.reject);
  }
}

class Client extends Emitter implements BrookClient {
  session: string | undefined;
  private ws: Socket | undefined;
  private open = false;
  private closed = false;
  /** Why the client stopped: a final close code, or close(). */
  private failure: Error | undefined;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private nextId = 1;
  private readonly replies = new Map<number, { resolve: (m: ServerMessage) => void; reject: (e: Error) => void }>();
  private readonly subs = new Set<Sub>();
  private readonly subsById = new Map<number, Sub>();
  private subscribing = 0;
  private readonly early: unknown[] = [];
  private openWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly WebSocketClass: WebSocketClass;

  constructor(
    private readonly url: string,
    private readonly opts: ConnectOptions,
  ) {
    super();
    const ctor = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
    if (ctor === undefined) throw new Error('no WebSocket class: pass one as the WebSocket option (e.g. the ws package on Node 20)');
    this.WebSocketClass = ctor;
    this.session = opts.session;
    this.dial();
  }

  private dial(): void {
    const protocols = [this.opts.protocol === 'json' ? 'brook.v1.json' : 'brook.v1.bin'];
    if (this.opts.token !== undefined) protocols.push(`bearer.${base64url(utf8.encode(this.opts.token))}`);
    const ws = new this.WebSocketClass(this.url, protocols) as Socket;
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (ev) => {
      if (ws === this.ws) this.onMessage(ev.data);
    };
    ws.onerror = (ev) => this.emit('error', ev.error instanceof Error ? ev.error : new Error(ev.message ?? 'WebSocket error'));
    ws.onclose = (ev) => {
      if (ws === this.ws) this.onClose(ev.code, ev.reason);
    };
  }

  /** Whether a message for an unknown subscription arrived ahead of its `ok`, and was kept for it. */
  private heldForOk(data: unknown, subId: unknown): boolean {
    if (this.subscribing === 0 || typeof subId !== 'number' || this.subsById.has(subId)) return false;
    // A group member reclaimed within its session's grace can announce its partitions and send
    // records before the `ok` of the sub that reclaimed it: keep them (credit bounds them) until then.
    this.early.push(data);
    return true;
  }

  private onMessage(data: unknown): void {
    try {
      if (typeof data !== 'string') {
        const bytes = data as ArrayBuffer;
        if (bytes.byteLength >= 8 && this.heldForOk(data, new DataView(bytes).getUint32(4))) return;
        const frame = decodeBinaryFrame(bytes, (sub, i) => this.subsById.get(sub)?.topics[i] ?? '');
        this.subsById.get(frame.sub)?.onFrame(frame, bytes.byteLength);
        return;
      }
      const msg = JSON.parse(data) as ServerMessage;
      if (msg.op !== 'ok' && msg.op !== 'error' && this.heldForOk(data, msg.sub)) return;
      const sub = typeof msg.sub === 'number' ? this.subsById.get(msg.sub) : undefined;
      switch (msg.op) {
        case 'hello':
          void this.greeted(msg.session as string);
          return;
        case 'ok':
        case 'error': {
          const reply = this.replies.get(msg.id as number);
          this.replies.delete(msg.id as number);
          if (msg.op === 'ok') reply?.resolve(msg);
          else {
            const err = new BrookError(msg.code as string, msg.message as string);
            if (reply !== undefined) reply.reject(err);
            else if (sub !== undefined) this.failSub(sub, err); // e.g. its group membership failed
            else this.emit('error', err);
          }
          return;
        }
        case 'assigned':
        case 'revoked':
          sub?.onControl(msg);
          return;
        case 'closing':
          // The server's last word: resume points that cover everything it sent before closing.
          for (const [id, cursor] of Object.entries((msg.cursors as { [sub: string]: string }) ?? {})) {
            this.subsById.get(Number(id))?.onFrame({ kind: 'checkpoint', sub: Number(id), cursor }, 0);
          }
          return;
        default: {
          const frame = decodeJsonFrame(msg);
          if (frame !== undefined) this.subsById.get(frame.sub)?.onFrame(frame, data.length);
        }
      }
    } catch (err) {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** After the server's hello: take over our earlier session if any, then (re)subscribe. */
  private async greeted(serverSession: string): Promise<void> {
    const ws = this.ws;
    try {
      if (this.session !== undefined && this.session !== serverSession) {
        await this.request({ op: 'hello', session: this.session });
      } else this.session = serverSession;
      this.open = true;
      this.attempt = 0;
      for (const w of this.openWaiters.splice(0)) w.resolve();
      await Promise.all([...this.subs].map((s) => this.resubscribe(s)));
      if (ws === this.ws) this.emit('open', undefined);
    } catch (err) {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async resubscribe(s: Sub): Promise<void> {
    this.subscribing++;
    try {
      // Synchronously on the reply: a data frame may follow it in the same socket read.
      await this.request(s.subMessage(), (reply) => {
        if (!this.subs.has(s)) this.sendControl({ op: 'unsub', sub: reply.sub }); // unsubscribed meanwhile
        else {
          s.subscribed(reply);
          this.subsById.set(reply.sub as number, s);
          for (const data of this.early.splice(0)) this.onMessage(data);
        }
      });
    } catch (err) {
      if (err instanceof BrookError) this.failSub(s, err);
    } finally {
      if (--this.subscribing === 0) this.early.length = 0;
    }
  }

  private failSub(s: Sub, err: Error): void {
    this.forget(s);
    s.end(err);
  }

  private onClose(code: number, reason: string): void {
    this.ws = undefined;
    this.open = false;
    const err = new Error(`connection closed (${code}${reason ? `: ${reason}` : ''})`);
    for (const r of this.replies.values()) r.reject(err);
    this.replies.clear();
    this.subsById.clear();
    for (const s of this.subs) s.disconnected();
    this.emit('close', { code, reason });
    if (this.closed || this.opts.reconnect === false || FINAL_CLOSE_CODES.has(code)) {
      this.shutDown(this.closed ? undefined : err);
      return;
    }
    const { initialDelayMs = 100, maxDelayMs = 5000 } = this.opts.reconnect ?? {};
    const delay = Math.min(maxDelayMs, initialDelayMs * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    this.reconnectTimer = setTimeout(() => this.dial(), delay);
  }

  private shutDown(failure: Error | undefined): void {
    this.closed = true;
    if (this.failure === undefined) this.failure = failure ?? new Error('client closed');
    clearTimeout(this.reconnectTimer);
    for (const w of this.openWaiters.splice(0)) w.reject(this.failure);
    for (const s of this.subs) s.end(failure);
    this.subs.clear();
  }

  /** Sends a control message now if connected; frequent messages without `id` get no reply. */
  sendControl(msg: { [field: string]: unknown }): void {
    if (this.open) this.ws?.send(JSON.stringify(msg));
  }

  /** Sends `msg` with a fresh id; `onOk` runs synchronously when the `ok` arrives, before later frames. */
  private request(msg: { [field: string]: unknown }, onOk?: (reply: ServerMessage) => void): Promise<ServerMessage> {
    const ws = this.ws;
    if (ws === undefined) return Promise.reject(new Error('not connected'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.replies.set(id, { resolve: (m) => (onOk?.(m), resolve(m)), reject });
      ws.send(JSON.stringify({ ...msg, id }));
    });
  }

  private whenOpen(): Promise<void> {
    if (this.open) return Promise.resolve();
    if (this.closed) return Promise.reject(this.failure ?? new Error('client closed'));
    return new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }));
  }

  forget(s: Sub): void {
    this.subs.delete(s);
    if (s.subId !== undefined) this.subsById.delete(s.subId);
  }

  subscribe(opts: SubscribeOptions): Subscription {
    if (this.closed) throw new Error('client closed');
    const s = new Sub(this, opts);
    this.subs.add(s);
    if (this.open) void this.resubscribe(s);
    return s;
  }

  async publish(topic: string, value: string | Uint8Array | null, opts: PublishOptions = {}) {
    // JSON carries text; binary keys or values travel as base64, and then so do the header
    // values (one `encoding` covers them all).
    const binary = value instanceof Uint8Array || opts.key instanceof Uint8Array;
    const enc = (v: string | Uint8Array | null) =>
      v === null ? null : binary ? toBase64(typeof v === 'string' ? utf8.encode(v) : v) : (v as string);
    const headers = opts.headers && Object.fromEntries(Object.entries(opts.headers).map(([k, v]) => [k, enc(v)]));
    const msg = { op: 'pub', topic, value: enc(value), key: opts.key === undefined ? undefined : enc(opts.key), headers, partition: opts.partition, acks: opts.acks, encoding: binary ? 'base64' : undefined };
    await this.whenOpen();
    if (opts.acks === 0) {
      // The server answers acks=0 only with an error (reported as an `error` event).
      this.sendControl(msg);
      return { partition: -1, offset: -1, timestamp: -1 };
    }
    const reply = await this.request(msg);
    return { partition: reply.partition as number, offset: reply.offset as number, timestamp: reply.timestamp as number };
  }

  close(): void {
    if (this.closed) return;
    for (const s of this.subs) s.unsubscribe();
    this.closed = true;
    this.shutDown(undefined);
    this.ws?.close(1000);
  }
}

/** Opens a client to a Brook gateway (`ws://host:port/ws/v1`); it connects and reconnects by itself. */
export function connect(url: string, opts: ConnectOptions = {}): BrookClient {
  return new Client(url, opts);
}
