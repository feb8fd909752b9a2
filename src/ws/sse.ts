/**
 * `GET /sse/v1/topics/:topic`: a topic as Server-Sent Events (docs/websocket.md "SSE").
 *
 * One event per record: `data:` is the value (UTF-8; `?encoding=base64`; `?envelope=json` for
 * key, partition, offset, timestamp and headers around it), `event: delete` for a tombstone, and
 * `id:` the cursor just after that record, so `Last-Event-ID` (which browsers send by themselves
 * on reconnect) or `?cursor=` resumes exactly after the last event received. Records below the
 * log start are announced with `event: gap`. Start: `?from=earliest|latest|<offset>|<ms>Z`
 * (a timestamp) — default latest. `?isolation=read_uncommitted` also shows records of open and
 * aborted transactions; by default (read_committed) events stop at the last stable offset.
 *
 * Flow control is the HTTP response's own: `write()` returning false (the socket buffer is full)
 * stops reading until `onWritable`, so a stalled reader holds at most one chunk of events.
 * Every write outside the request callback is corked (uWS requires it), and nothing is written
 * after the client went away (GuardedResponse).
 */
import type { Topic } from '../broker/topics.js';
import type { KafkaRecord } from '../native/records.js';
import { AuthError, bearerProtocol } from './auth.js';
import { CursorError, decodeCursor, encodeCursor } from './cursor.js';
import type { Broker } from '../broker/broker.js';
import type { WsAuth } from './auth.js';
import type { Guard, GuardedResponse } from './guard.js';
import { PartitionReads } from './reader.js';
import { passes, type RecordFilter } from './subscription.js';
import type { HttpRequest } from './uws.js';

const HEARTBEAT_MS = 15_000;
const CHUNK_BYTES = 64 * 1024;
const utf8 = new TextDecoder();

interface SsePartition {
  partition: number;
  next: number;
  pending: KafkaRecord[];
  pendingEnd: number;
}

class SseStream {
  private readonly parts: SsePartition[];
  private unpark: (() => void) | undefined;
  private blocked = false;
  lastWrite = Date.now();
  done = false;

  constructor(
    private readonly owner: SseStreams,
    private readonly r: GuardedResponse,
    private readonly topic: Topic,
    start: Map<number, number>,
    private readonly filter: RecordFilter | undefined,
    private readonly encoding: 'utf8' | 'base64',
    private readonly envelope: boolean,
    private readonly reads: PartitionReads,
  ) {
    this.parts = topic.partitions.map((_, p) => ({ partition: p, next: start.get(p) ?? 0, pending: [], pendingEnd: 0 }));
    r.onAbort(() => this.stop());
  }

  /** The cursor after everything written so far (per partition: the next offset to send). */
  private cursor(): string {
    return encodeCursor([{ topicId: this.topic.id, next: new Map(this.parts.map((p) => [p.partition, p.next])) }]);
  }

  begin(): void {
    this.r.answered = true;
    this.r.cork(() => {
      const res = this.r.res;
      res.writeStatus('200 OK');
      res.writeHeader('content-type', 'text/event-stream; charset=utf-8');
      res.writeHeader('cache-control', 'no-cache, no-transform');
      res.writeHeader('x-accel-buffering', 'no');
      res.write(`retry: 2000\n: brook sse ${this.topic.name}\n\n`);
    });
    this.pump();
  }

  /** Writes events until the socket is full or every partition is caught up; then parks. */
  pump(): void {
    if (this.done || this.blocked) return;
    this.unpark?.();
    this.unpark = undefined;
    const full = !this.r.cork(() => this.writeSome());
    if (full || this.done) return;
    // Woken inside the appending handler: write on a later turn, guarded.
    if (!this.blocked) this.unpark = this.owner.gateway.broker.waiters.park(this.topic.partitions, () => {
      this.unpark = undefined;
      setImmediate(this.owner.guard.task('sse', () => this.pump()));
    });
  }

  private writeSome(): void {
    // A deleted topic's logs are closed: the stream ends (the browser reconnects and gets 404).
    if (this.owner.gateway.broker.topics.byId(this.topic.id) !== this.topic) {
      this.end();
      return;
    }
    let progress = true;
    while (progress && !this.done && !this.blocked) {
      progress = false;
      for (const p of this.parts) {
        const log = this.topic.partitions[p.partition];
        if (!log) {
          this.end();
          return;
        }
        if (p.pending.length === 0) {
          if (p.next < log.logStartOffset) {
            const from = p.next;
            p.next = log.logStartOffset;
            if (!this.write(`event: gap\nid: ${this.cursor()}\ndata: ${JSON.stringify({ partition: p.partition, from, to: p.next, reason: 'retention' })}\n\n`)) return;
          }
          const end = this.reads.end(log);
          if (p.next >= end) continue;
          const chunk = this.reads.read(log, p.next, CHUNK_BYTES, end);
          p.pending = chunk.records;
          p.pendingEnd = chunk.end;
          if (chunk.records.length === 0) {
            p.next = chunk.end;
            continue;
          }
        }
        progress = true;
        let i = 0;
        let text = '';
        for (; i < p.pending.length; i++) {
          const rec = p.pending[i]!;
          p.next = i + 1 === p.pending.length ? p.pendingEnd : p.pending[i + 1]!.offset;
          if (!passes(this.filter, rec)) continue;
          text += this.event(p.partition, rec);
          if (text.length >= CHUNK_BYTES) {
            i++;
            break;
          }
        }
        if (i >= p.pending.length) i = p.pending.length;
        p.pending = p.pending.slice(i);
        if (text !== '' && !this.write(text)) return;
      }
    }
  }

  private event(partition: number, r: KafkaRecord): string {
    const value = r.value === null ? '' : this.encoding === 'base64' ? Buffer.from(r.value).toString('base64') : utf8.decode(r.value);
    let data = value;
    if (this.envelope) {
      const enc = (b: Uint8Array | null) => (b === null ? null : this.encoding === 'base64' ? Buffer.from(b).toString('base64') : utf8.decode(b));
      data = JSON.stringify({
        partition,
        offset: r.offset,
        timestamp: r.timestamp,
        key: enc(r.key),
        headers: Object.fromEntries(r.headers.map((h) => [h.key, enc(h.value)])),
        value: r.value === null ? null : value,
      });
    }
    // A value with line breaks becomes several data: lines, which the browser joins with \n.
    const lines = data.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`).join('');
    return `${r.value === null ? 'event: delete\n' : ''}id: ${this.cursor()}\n${lines}\n`;
  }

  /** False when the socket is full: the stream waits for onWritable. */
  private write(text: string): boolean {
    this.lastWrite = Date.now();
    const ok = this.r.res.write(text);
    if (!ok) {
      this.blocked = true;
      this.r.res.onWritable(() => {
        this.blocked = false;
        // onWritable runs in a uWS callback: pump corks by itself.
        this.owner.guard.task('sse writable', () => this.pump())();
        return true;
      });
    }
    return ok;
  }

  heartbeat(now: number): void {
    if (this.done || this.blocked || now - this.lastWrite < HEARTBEAT_MS) return;
    this.r.cork(() => this.write(': hb\n\n'));
  }

  /** Ends the response (shutdown, topic deleted): the browser reconnects by itself after `retry`. */
  end(): void {
    if (this.done) return;
    this.r.cork(() => this.r.res.end());
    this.stop();
  }

  private stop(): void {
    this.done = true;
    this.unpark?.();
    this.unpark = undefined;
    this.owner.forget(this);
  }
}

export class SseStreams {
  private readonly streams = new Set<SseStream>();

  constructor(
    readonly gateway: { readonly broker: Broker; readonly auth: WsAuth },
    readonly guard: Guard,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  forget(s: SseStream): void {
    this.streams.delete(s);
  }

  async open(r: GuardedResponse, req: HttpRequest): Promise<void> {
    const name = decodeURIComponent(req.getParameter(0) ?? '');
    const q = new URLSearchParams(req.getQuery() ?? '');
    const lastEventId = req.getHeader('last-event-id') || undefined;
    const origin = req.getHeader('origin') || undefined;
    const authz = /^Bearer\s+(.+)$/i.exec(req.getHeader('authorization'));
    const remoteAddress = Buffer.from(r.res.getRemoteAddressAsText()).toString();
    const fail = (status: string, message: string) => r.end(status, `${message}\n`, { 'content-type': 'text/plain' });

    const { auth, broker } = this.gateway;
    let principal;
    try {
      const protocols = authz ? [bearerProtocol(authz[1]!)] : [];
      principal = await auth.authenticate({ protocols, origin, ticket: q.get('ticket') ?? undefined, remoteAddress });
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      fail(e.closeCode === 4403 ? '403 Forbidden' : '401 Unauthorized', e.message);
      return;
    }
    if (r.aborted) return;
    if (!auth.canRead(principal, name)) return fail('403 Forbidden', `${principal.name} may not read ${name}`);
    const topic = broker.topics.get(name);
    if (!topic) return fail('404 Not Found', `unknown topic ${name}`);

    const isolation = q.get('isolation') ?? 'read_committed';
    if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') return fail('400 Bad Request', `isolation must be read_committed or read_uncommitted; got ${isolation}`);
    const reads = new PartitionReads(broker, isolation);
    const start = new Map<number, number>();
    const resume = lastEventId ?? q.get('cursor') ?? undefined;
    if (resume !== undefined) {
      let saved;
      try {
        saved = decodeCursor(resume).find((t) => t.topicId === topic.id);
      } catch (e) {
        if (!(e instanceof CursorError)) throw e;
        return fail('400 Bad Request', `bad cursor: ${e.message}`);
      }
      if (!saved) return fail('409 Conflict', `the cursor is not of topic ${name} (id ${topic.id}): deleted and recreated?`);
      topic.partitions.forEach((log, p) => start.set(p, Math.min(saved.next.get(p) ?? log.logStartOffset, broker.readableEnd(log))));
    } else {
      const from = q.get('from') ?? 'latest';
      for (const [p, log] of topic.partitions.entries()) {
        if (from === 'earliest') start.set(p, log.logStartOffset);
        else if (from === 'latest') start.set(p, reads.end(log));
        else if (/^\d+Z$/.test(from)) start.set(p, log.offsetForTimestamp(Number(from.slice(0, -1)))?.offset ?? reads.end(log));
        else if (/^\d+$/.test(from)) start.set(p, Math.min(Number(from), broker.readableEnd(log)));
        else return fail('400 Bad Request', `from must be earliest, latest, an offset or a timestamp in ms followed by Z; got ${from}`);
      }
    }
    const filter: RecordFilter = {};
    if (q.has('filter.key')) filter.key = q.get('filter.key')!;
    if (q.has('filter.keyPrefix')) filter.keyPrefix = q.get('filter.keyPrefix')!;
    for (const [k, v] of q) if (k.startsWith('filter.header.')) (filter.headers ??= {})[k.slice('filter.header.'.length)] = v;
    const encoding = q.get('encoding') === 'base64' ? 'base64' : 'utf8';
    const stream = new SseStream(this, r, topic, start, Object.keys(filter).length > 0 ? filter : undefined, encoding, q.get('envelope') === 'json', reads);
    this.streams.add(stream);
    stream.begin();
  }

  tick(now: number): void {
    for (const s of this.streams) s.heartbeat(now);
  }

  close(): void {
    for (const s of [...this.streams]) s.end();
  }
}
