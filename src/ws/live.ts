/**
 * Live fan-out: every caught-up `live` subscriber of a partition shares one reader. On each
 * append wake-up the tail reads the new batches once, decodes them once and encodes each frame
 * once per distinct (subscription id, topic index) pair (subscription ids are per socket and start
 * at 1, so most viewers share a single encoding), then hands the same bytes to every subscriber
 * whose socket and credit allow it, each socket corked once per turn (measured 35x faster than
 * uncorked sends: ../shared/reference/websocket.md §2).
 *
 * A subscriber that cannot take a frame (socket half full, credit short, a filter) leaves the tail
 * at that frame's first offset and continues on its own cursor (Subscription.pump) until it
 * catches up, when it joins the tail again. So a slow viewer never holds the others back, and none
 * is ever sent a frame uWS would drop.
 *
 * A partition has one tail per isolation level in use: read_committed members (the default) see
 * up to the last stable offset without aborted data, read_uncommitted ones up to the high watermark.
 */
import type { Broker } from '../broker/broker.js';
import type { KafkaRecord } from '../native/records.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { encodeRecordsFrame, recordsJson } from './frames.js';
import type { PartitionReads } from './reader.js';
import type { PartitionCursor, Subscription } from './subscription.js';

interface Member {
  cursor: PartitionCursor;
  sub: Subscription;
}

/** Most bytes one wake-up reads before yielding the event loop to other work. */
const TURN_BYTES = 1 << 20;
/** Sockets served per event-loop turn in a fan-out. */
const FANOUT_SLICE = 100;

/** A chunk read once, with its encodings by (subprotocol, sub id, topic index). */
interface Frame {
  records: KafkaRecord[];
  start: number;
  end: number;
  encoded: Map<string, Buffer | string>;
}

class LivePartition {
  readonly members = new Set<Member>();
  private readonly byCursor = new Map<PartitionCursor, Member>();
  private unpark: (() => void) | undefined;
  private scheduled = false;
  private closed = false;
  /** The last turn stopped at TURN_BYTES with data left. */
  private cutShort = false;

  constructor(
    private readonly owner: LiveTails,
    readonly log: PartitionLog,
    readonly topicName: string,
    readonly topicId: string,
    readonly partition: number,
    /** The isolation of every member: how far the tail reads and what it drops. */
    private readonly reads: PartitionReads,
    /** Where the tail reads next: every attached member's cursor equals it. */
    public next: number,
  ) {
    this.park();
  }

  attach(cursor: PartitionCursor, sub: Subscription): boolean {
    if (cursor.next !== this.next || cursor.pending.length > 0) return false;
    const m = { cursor, sub };
    this.members.add(m);
    this.byCursor.set(cursor, m);
    cursor.shared = true;
    return true;
  }

  has(cursor: PartitionCursor): boolean {
    return this.byCursor.has(cursor);
  }

  detach(cursor: PartitionCursor): void {
    const m = this.byCursor.get(cursor);
    if (!m) return;
    this.byCursor.delete(cursor);
    this.members.delete(m);
    cursor.shared = false;
  }

  private park(): void {
    this.unpark = this.owner.broker.waiters.park([this.log], () => this.wake());
  }

  /**
   * Appends wake parked readers synchronously inside the produce handler: the turn runs later,
   * after ws.linger.ms, so the appends of that window go out as one frame per subscriber. At a
   * million deliveries a second the sends are the cost (one socket write each, on the event loop
   * Kafka clients share), and a frame of five records costs about what a frame of one does.
   * A turn that stopped with data left (TURN_BYTES) continues at the next loop turn.
   */
  private wake(continuing = false): void {
    this.unpark = undefined;
    if (this.scheduled) return;
    this.scheduled = true;
    const turn = () => this.owner.guard(() => this.turn());
    if (continuing || this.owner.lingerMs === 0) setImmediate(turn);
    else setTimeout(turn, this.owner.lingerMs);
  }

  private turn(): void {
    this.scheduled = false;
    if (this.owner.closed || this.closed) return;
    if (this.owner.broker.topics.byId(this.topicId) === undefined || this.next < this.log.logStartOffset) {
      // The topic was deleted, or records the tail had not read were (DeleteRecords): every member
      // goes on alone, where its pump ends the subscription or sends the gap.
      for (const m of [...this.members]) {
        this.owner.detach(m.cursor);
        m.sub.heldBack(m.cursor);
      }
      return;
    }
    const hw = this.reads.end(this.log);
    const frames: Frame[] = [];
    let bytes = 0;
    this.cutShort = false;
    while (this.next < hw) {
      if (bytes >= TURN_BYTES) {
        this.cutShort = true;
        break;
      }
      const chunk = this.reads.read(this.log, this.next, this.owner.maxFrameBytes, hw);
      if (chunk.end <= this.next) break;
      // An empty chunk (markers, aborted data) still moves every member past it.
      frames.push({ records: chunk.records, start: this.next, end: chunk.end, encoded: new Map() });
      bytes += chunk.bytes;
      this.next = chunk.end;
    }
    if (frames.length > 0) this.fanOut(frames);
    else this.afterTurn();
  }

  /**
   * Once a turn's frames have reached every member: read on at once if the turn stopped at
   * TURN_BYTES, after the linger if appends came during the fan-out, else park.
   */
  private afterTurn(): void {
    if (this.closed) return;
    if (this.next < this.reads.end(this.log)) this.wake(this.cutShort);
    else this.park();
  }

  /**
   * Hands the turn's frames to every member, FANOUT_SLICE sockets per loop turn: between slices
   * the event loop serves other I/O (Kafka requests share this thread), so a fan-out to thousands
   * of sockets delays a produce by one slice, not by the whole fan-out. The next turn waits for
   * the last slice, so every member still gets frames in offset order.
   */
  private fanOut(frames: Frame[]): void {
    const hw = this.reads.end(this.log);
    const members = [...this.members];
    let i = 0;
    const slice = () => {
      if (this.closed) return;
      const leaving: Member[] = [];
      for (const stop = Math.min(i + FANOUT_SLICE, members.length); i < stop; i++) {
        const m = members[i]!;
        if (this.members.has(m) && !this.deliverTo(m, frames, hw)) leaving.push(m);
      }
      for (const m of leaving) {
        this.detach(m.cursor);
        m.sub.heldBack(m.cursor);
      }
      if (i < members.length) setImmediate(() => this.owner.guard(slice));
      else this.afterTurn();
    };
    slice();
  }

  /** The frames this member has not had yet; false when it could not take one (it leaves the tail). */
  private deliverTo(m: Member, frames: Frame[], hw: number): boolean {
    const { cursor, sub } = m;
    const binary = sub.binary;
    const key = `${binary ? 'b' : `j${sub.encoding}`}:${sub.id}:${cursor.topicIndex}`;
    let kept = true;
    sub.withSocket(() => {
      for (const f of frames) {
        if (cursor.next !== f.start) continue;
        if (f.records.length === 0) {
          cursor.next = f.end;
          continue;
        }
        let frame = f.encoded.get(key);
        if (frame === undefined && !sub.filter) {
          frame = binary
            ? encodeRecordsFrame({ subId: sub.id, topicIndex: cursor.topicIndex, partition: this.partition }, hw, f.records)
            : recordsJson({ subId: sub.id, topic: this.topicName, partition: this.partition }, hw, f.records, sub.encoding);
          f.encoded.set(key, frame);
        }
        const taken = sub.deliver(cursor, f.records, f.end, frame);
        if (taken < f.records.length) {
          if (taken > 0) {
            cursor.pending = f.records.slice(taken);
            cursor.pendingEnd = f.end;
          }
          kept = false;
          return;
        }
      }
    });
    return kept;
  }

  close(): void {
    this.closed = true;
    this.unpark?.();
    this.unpark = undefined;
    for (const m of this.members) m.cursor.shared = false;
    this.members.clear();
  }
}

/** The live tails of the gateway, one per partition and isolation level that has live subscribers. */
export class LiveTails {
  private readonly committedTails = new Map<PartitionLog, LivePartition>();
  private readonly uncommittedTails = new Map<PartitionLog, LivePartition>();
  closed = false;

  constructor(
    readonly broker: Broker,
    readonly maxFrameBytes: number,
    readonly lingerMs: number,
    readonly guard: (fn: () => void) => void,
  ) {}

  /** Joins the tail if the cursor is where the tail reads; false leaves the cursor to its own pump. */
  attach(cursor: PartitionCursor, sub: Subscription): boolean {
    const log = cursor.log;
    if (!log) return false;
    const tails = sub.reads.readCommitted ? this.committedTails : this.uncommittedTails;
    let tail = tails.get(log);
    if (!tail) {
      tail = new LivePartition(this, log, cursor.topic.name, cursor.topic.id, cursor.partition, sub.reads, sub.reads.end(log));
      tails.set(log, tail);
    }
    return tail.attach(cursor, sub);
  }

  detach(cursor: PartitionCursor): void {
    const log = cursor.log;
    const tails = log && [this.committedTails, this.uncommittedTails].find((m) => m.get(log)?.has(cursor));
    const tail = log && tails?.get(log);
    if (!log || !tails || !tail) {
      cursor.shared = false;
      return;
    }
    tail.detach(cursor);
    if (tail.members.size === 0) {
      tail.close();
      tails.delete(log);
    }
  }

  /** Subscribers sharing each tail, for the gateway's stats. */
  get size(): number {
    let n = 0;
    for (const t of [...this.committedTails.values(), ...this.uncommittedTails.values()]) n += t.members.size;
    return n;
  }

  close(): void {
    this.closed = true;
    for (const t of [...this.committedTails.values(), ...this.uncommittedTails.values()]) t.close();
    this.committedTails.clear();
    this.uncommittedTails.clear();
  }
}
