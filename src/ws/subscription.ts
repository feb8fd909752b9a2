/**
 * One subscription of one socket: a cursor (next offset) per partition, credit, a filter and an
 * overflow policy. Every data frame of the gateway leaves through `deliver()` here, which checks
 * the socket's buffered amount and the subscription's credit first, so no path can push uWS past
 * its maxBackpressure (where it would silently drop the message: ../shared/reference/websocket.md).
 *
 * Who moves a cursor:
 * - `own` cursors (assign and group modes; live cursors that fell behind) are read by `pump()`,
 *   which reads, decodes, filters, encodes and sends until the socket is half full, credit runs
 *   out or every partition is at its high watermark, and then parks on the broker's append
 *   wake-ups (the same FetchWaiters a Kafka long poll parks on);
 * - `shared` cursors (live mode, caught up) are fed by the topic's LiveTail (live.ts), which reads
 *   and encodes each batch once for every subscriber.
 *
 * Held back: when the socket (not credit: that is the application's own pace) keeps records from
 * going out, `heldSince` is set; after ws.slow.consumer.ms the session applies the policy
 * (`overflow()`): wait, skip (gap to the end), conflate (latest value per key), close (4429).
 *
 * "The end" of a partition is its readable end at the subscription's isolation (reader.ts): the
 * last stable offset with read_committed (the default), the high watermark with read_uncommitted.
 */
import type { Broker } from '../broker/broker.js';
import type { Topic } from '../broker/topics.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { KafkaRecord } from '../native/records.js';
import { encodeCursor, type CursorTopic } from './cursor.js';
import { encodeGapFrame, encodeRecordsFrame, gapJson, recordFrameBytes, recordsJson, type GapReason, type ValueEncoding } from './frames.js';
import { PartitionReads, type Isolation } from './reader.js';

export type Mode = 'live' | 'assign' | 'group';
export type Policy = 'wait' | 'skip' | 'conflate' | 'close';

export interface RecordFilter {
  key?: string;
  keyPrefix?: string;
  headers?: Record<string, string>;
}

/** What a subscription needs of its socket (session.ts). */
export interface SubscriptionSocket {
  readonly binary: boolean;
  readonly maxFrameBytes: number;
  /** Open and below half of ws.max.buffered.bytes. */
  canSend(): boolean;
  /** Sends one data frame (corked by the caller or inside). */
  send(frame: Buffer | string, binary: boolean): void;
  /** Runs sends corked together. */
  corked(fn: () => void): void;
  /** Counts records sent (the gateway's stats). */
  countRecords(n: number): void;
  /** The subscription ended by itself (its topic was deleted): forget it. */
  ended(sub: Subscription): void;
  /** Runs `fn` on a later turn, guarded: append wake-ups arrive inside the producer's handler. */
  defer(fn: () => void): void;
  /** A JSON control frame (assigned, revoked, error). */
  sendControl(msg: object): void;
}

export class PartitionCursor {
  /** Records read but not yet sent (credit or frame size stopped them), and where they end. */
  pending: KafkaRecord[] = [];
  pendingEnd = 0;
  /** Fed by the topic's LiveTail rather than read by pump(). */
  shared = false;

  constructor(
    readonly topic: Topic,
    readonly topicIndex: number,
    readonly partition: number,
    public next: number,
  ) {}

  get log() {
    return this.topic.partitions[this.partition];
  }

  /** Whether records wait beyond what was sent (`readableEnd`: the subscription's PartitionReads.end). */
  hasData(readableEnd: (log: PartitionLog) => number): boolean {
    const log = this.log;
    return this.pending.length > 0 || (log !== undefined && this.next < readableEnd(log));
  }
}

export interface Credit {
  records: number;
  bytes: number;
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** Whether a record passes the filter. Tombstones pass key filters (a delete must reach a view of that key). */
export function passes(f: RecordFilter | undefined, r: KafkaRecord): boolean {
  if (!f) return true;
  if (f.key !== undefined || f.keyPrefix !== undefined) {
    const key = r.key === null ? null : textDecoder.decode(r.key);
    if (f.key !== undefined && key !== f.key) return false;
    if (f.keyPrefix !== undefined && (key === null || !key.startsWith(f.keyPrefix))) return false;
  }
  if (f.headers) {
    for (const [name, want] of Object.entries(f.headers)) {
      const h = r.headers.find((x) => x.key === name);
      if (!h || h.value === null || textDecoder.decode(h.value) !== want) return false;
    }
  }
  return true;
}

export interface SubscriptionOptions {
  id: number;
  mode: Mode;
  topics: Topic[];
  filter?: RecordFilter;
  credit: Credit;
  policy: Policy;
  encoding: ValueEncoding;
  group?: string;
  /** Default read_committed. */
  isolation?: Isolation;
}

export class Subscription {
  readonly id: number;
  readonly mode: Mode;
  readonly topics: Topic[];
  readonly filter: RecordFilter | undefined;
  readonly policy: Policy;
  readonly encoding: ValueEncoding;
  readonly group: string | undefined;
  /** How far it reads and what it drops (aborted transactions with read_committed). */
  readonly reads: PartitionReads;
  credit: Credit;
  /** By `${topicIndex}:${partition}`. */
  readonly cursors = new Map<string, PartitionCursor>();
  /** Since when the socket has held back records that wait (undefined: not held). */
  heldSince: number | undefined;
  /** A cursor moved since the last checkpoint frame. */
  advanced = false;
  closed = false;
  /** Set by the policy: on the next send, skip or conflate what waits instead of sending it. */
  private resumeAction: 'skip' | 'conflate' | undefined;
  private unpark: (() => void) | undefined;
  private pumping = false;
  private pumpAgain = false;

  constructor(
    opts: SubscriptionOptions,
    private readonly broker: Broker,
    private readonly socket: SubscriptionSocket,
    /** Called when a shared cursor caught up again, or one must leave its tail. */
    private readonly live?: { attach(c: PartitionCursor, s: Subscription): boolean; detach(c: PartitionCursor): void },
  ) {
    this.id = opts.id;
    this.mode = opts.mode;
    this.topics = opts.topics;
    this.filter = opts.filter;
    this.credit = { ...opts.credit };
    this.policy = opts.policy;
    this.encoding = opts.encoding;
    this.group = opts.group;
    this.reads = new PartitionReads(broker, opts.isolation ?? 'read_committed');
  }

  /** Whether its socket speaks brook.v1.bin (else brook.v1.json). */
  get binary(): boolean {
    return this.socket.binary;
  }

  addCursor(c: PartitionCursor): void {
    this.cursors.set(`${c.topicIndex}:${c.partition}`, c);
  }

  removeCursor(topicIndex: number, partition: number): void {
    const key = `${topicIndex}:${partition}`;
    const c = this.cursors.get(key);
    if (!c) return;
    if (c.shared) this.live?.detach(c);
    this.cursors.delete(key);
  }

  addCredit(records: number, bytes: number): void {
    // Bounded so a client adding credit forever cannot overflow the counters into nonsense.
    this.credit.records = Math.min(this.credit.records + records, 2 ** 40);
    this.credit.bytes = Math.min(this.credit.bytes + bytes, 2 ** 50);
    this.pump();
  }

  /** The resume cursor: per topic its id and per partition the next offset to deliver. */
  cursor(): string {
    const byTopic = new Map<number, CursorTopic>();
    for (const c of this.cursors.values()) {
      let t = byTopic.get(c.topicIndex);
      if (!t) byTopic.set(c.topicIndex, (t = { topicId: c.topic.id, next: new Map() }));
      t.next.set(c.partition, c.next);
    }
    return encodeCursor([...byTopic.values()]);
  }

  /**
   * Sends one frame for cursor `c` if credit and the socket allow, and returns how many of
   * `records` it took (0: nothing sent). Records failing the filter are taken but not sent (the
   * cursor moves past them); `end` is where the cursor goes when every record given is taken.
   */
  deliver(c: PartitionCursor, records: readonly KafkaRecord[], end: number, sharedFrame?: Buffer | string): number {
    // The live fan-out calls this a million times a second: no allocation, one native call
    // (the buffered amount) before the send.
    if (this.credit.records <= 0 || this.credit.bytes <= 0 || !this.socket.canSend()) return 0;
    if (sharedFrame !== undefined && !this.filter && records.length <= this.credit.records) {
      this.socket.send(sharedFrame, this.socket.binary);
      this.spend(records.length, sharedFrame.length);
      c.next = end;
      this.advanced = true;
      return records.length;
    }
    const hw = c.log ? this.reads.end(c.log) : end;
    // Take records up to the credit and the frame size (at least one: a record larger than the
    // frame limit still goes, alone).
    const base = records[0];
    let n = 0;
    let bytes = 40;
    const out: KafkaRecord[] = [];
    while (n < records.length && out.length < this.credit.records) {
      const r = records[n]!;
      const size = recordFrameBytes(r, base?.offset ?? 0, base?.timestamp ?? 0);
      if (out.length > 0 && (bytes + size > this.socket.maxFrameBytes || bytes + size > this.credit.bytes)) break;
      n++;
      if (!passes(this.filter, r)) continue;
      out.push(r);
      bytes += size;
    }
    const next = n === records.length ? end : records[n]!.offset;
    if (out.length > 0) this.sendRecords(c, hw, out);
    c.next = next;
    this.advanced = true;
    return n;
  }

  private sendRecords(c: PartitionCursor, hw: number, records: KafkaRecord[]): void {
    const frame = this.socket.binary
      ? encodeRecordsFrame({ subId: this.id, topicIndex: c.topicIndex, partition: c.partition }, hw, records)
      : recordsJson({ subId: this.id, topic: c.topic.name, partition: c.partition }, hw, records, this.encoding);
    this.socket.send(frame, this.socket.binary);
    this.spend(records.length, frame.length);
  }

  private spend(records: number, bytes: number): void {
    this.credit.records -= records;
    this.credit.bytes -= bytes;
    this.socket.countRecords(records);
    this.heldSince = undefined;
  }

  /** Runs sends corked together (the live tail's fan-out). */
  withSocket(fn: () => void): void {
    this.socket.corked(fn);
  }

  /** A shared cursor left its tail because this subscription could not take a frame: go on alone. */
  heldBack(c: PartitionCursor): void {
    if (!this.socket.canSend() && c.hasData((log) => this.reads.end(log))) this.heldSince ??= Date.now();
    this.pump();
  }

  sendGap(c: PartitionCursor, from: number, to: number, reason: GapReason): void {
    const frame = this.socket.binary
      ? encodeGapFrame({ subId: this.id, topicIndex: c.topicIndex, partition: c.partition }, from, to, reason)
      : gapJson({ subId: this.id, topic: c.topic.name, partition: c.partition }, from, to, reason);
    this.socket.send(frame, this.socket.binary);
    this.advanced = true;
  }

  /**
   * Reads and sends for every own cursor until the socket is half full, credit runs out or every
   * partition is caught up; then parks on the partitions' append wake-ups. Re-entrant calls (a
   * wake-up during a send) run once more after the current pass.
   */
  pump(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.socket.corked(() => this.pumpOnce());
      } while (this.pumpAgain && !this.closed);
    } finally {
      this.pumping = false;
    }
  }

  private pumpOnce(): void {
    this.unpark?.();
    this.unpark = undefined;
    // A deleted topic's logs are closed: the subscription ends with an error, not a read of a closed file.
    const gone = this.topics.find((t) => this.broker.topics.byId(t.id) !== t);
    if (gone) {
      this.socket.sendControl({ op: 'error', id: null, sub: this.id, code: 'UNKNOWN_TOPIC_OR_PARTITION', message: `topic ${gone.name} was deleted; the subscription ended` });
      this.socket.ended(this);
      return;
    }
    const idle: PartitionCursor[] = [];
    let progress = true;
    // Round robin over the partitions, one frame each per turn, so one busy partition does not starve the rest.
    while (progress && !this.closed) {
      progress = false;
      for (const c of this.cursors.values()) {
        if (c.shared) continue;
        const log = c.log;
        if (!log) continue;
        if (!this.socket.canSend()) {
          if (c.hasData((log) => this.reads.end(log))) this.heldSince ??= Date.now();
          return; // drain() pumps again
        }
        if (this.credit.records <= 0 || this.credit.bytes <= 0) {
          this.heldSince = undefined; // the application's pace, not its socket: no policy
          return; // credit() pumps again
        }
        if (this.resumeAction) this.applyResumeAction();
        if (c.pending.length === 0 && c.next < log.logStartOffset) {
          // Retention (or DeleteRecords) removed records this cursor had not read: say so.
          this.sendGap(c, c.next, log.logStartOffset, 'retention');
          c.next = log.logStartOffset;
        }
        if (c.pending.length === 0) {
          const hw = this.reads.end(log);
          if (c.next >= hw) {
            // A live cursor that caught up joins its tail; if the tail is mid-turn it parks and tries again.
            if (!(this.live && this.mode === 'live' && this.live.attach(c, this))) idle.push(c);
            continue;
          }
          const chunk = this.reads.read(log, c.next, this.socket.maxFrameBytes, hw);
          c.pending = chunk.records;
          c.pendingEnd = chunk.end;
          if (chunk.records.length === 0) {
            c.next = chunk.end; // only control batches or compacted-away records
            progress = true;
            continue;
          }
        }
        const taken = this.deliver(c, c.pending, c.pendingEnd);
        if (taken > 0) {
          c.pending = c.pending.length === taken ? [] : c.pending.slice(taken);
          progress = true;
        }
      }
    }
    if (idle.length > 0 && !this.closed) {
      const logs = idle.map((c) => c.log).filter((l) => l !== undefined);
      // The wake-up runs inside whichever handler appended: pump on a later turn, so a Kafka
      // produce is never held up by WebSocket sends and an error here cannot reach the producer.
      this.unpark = this.broker.waiters.park(logs, () => {
        this.unpark = undefined;
        this.socket.defer(() => this.pump());
      });
    }
  }

  /** Held back by its socket, or with a policy action to apply: drain (or the gateway's tick) resumes it. */
  get waitingForSocket(): boolean {
    return this.heldSince !== undefined || this.resumeAction !== undefined;
  }

  /** The policy's decision when the socket has held records back for ws.slow.consumer.ms. */
  overflow(): 'close' | 'wait' | 'armed' {
    if (this.policy === 'close') return 'close';
    if (this.policy === 'wait') return 'wait';
    this.resumeAction = this.policy;
    this.heldSince = undefined;
    // Shared cursors leave the tail now: they resume by themselves once the socket drains.
    for (const c of this.cursors.values()) if (c.shared) this.live?.detach(c);
    return 'armed';
  }

  /** Skip: a gap to the high watermark. Conflate: a gap, then the latest record per key. */
  private applyResumeAction(): void {
    const action = this.resumeAction;
    this.resumeAction = undefined;
    for (const c of this.cursors.values()) {
      const log = c.log;
      if (!log || c.shared) continue;
      const from = c.next;
      const hw = this.reads.end(log);
      if (from >= hw) continue;
      c.pending = [];
      if (action === 'skip') {
        this.sendGap(c, from, hw, 'skipped');
        c.next = hw;
        continue;
      }
      const latest = conflate(this.reads, log, from, hw, this.socket.maxFrameBytes);
      this.sendGap(c, from, hw, 'conflated');
      c.next = hw;
      if (latest.length > 0) {
        c.pending = latest;
        c.pendingEnd = hw;
      }
    }
  }

  close(): void {
    this.closed = true;
    this.unpark?.();
    this.unpark = undefined;
    for (const c of this.cursors.values()) if (c.shared) this.live?.detach(c);
  }
}

/** Most distinct keys a conflation keeps; beyond, the oldest keys are dropped (the gap says so). */
const CONFLATE_MAX_KEYS = 10_000;

/** The latest record per key (keyless records each count as their own key) in [from, hw), in offset order. */
function conflate(reads: PartitionReads, log: NonNullable<PartitionCursor['log']>, from: number, hw: number, chunkBytes: number): KafkaRecord[] {
  const latest = new Map<string, KafkaRecord>();
  let at = from;
  while (at < hw) {
    const chunk = reads.read(log, at, Math.max(chunkBytes, 1 << 20), hw);
    for (const r of chunk.records) {
      const key = r.key === null ? `#${r.offset}` : Buffer.from(r.key.buffer, r.key.byteOffset, r.key.byteLength).toString('latin1');
      latest.delete(key);
      latest.set(key, copyRecord(r));
      if (latest.size > CONFLATE_MAX_KEYS) latest.delete(latest.keys().next().value!);
    }
    if (chunk.end <= at) break;
    at = chunk.end;
  }
  return [...latest.values()].sort((a, b) => a.offset - b.offset);
}

/** A record detached from its read buffer (conflation keeps a few across many reads). */
function copyRecord(r: KafkaRecord): KafkaRecord {
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key && Buffer.from(r.key),
    value: r.value && Buffer.from(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: h.value && Buffer.from(h.value) })),
  };
}
