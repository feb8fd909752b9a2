/**
 * One WebSocket connection of the gateway: its control messages (docs/websocket.md), its
 * subscriptions and every byte it sends. Data frames go out only through Subscription.deliver
 * (which checks `canSend()`); control replies through `sendControl`, which queues a reply that
 * would not fit rather than let uWS drop it, and cuts a client that floods requests without
 * reading the answers.
 */
import { randomBytes } from 'node:crypto';
import type { Broker } from '../broker/broker.js';
import { appendPartition } from '../broker/handlers/produce.js';
import type { Topic } from '../broker/topics.js';
import type { WsConfig } from '../config.js';
import { buildBatch } from '../native/records.js';
import { ErrorCode, errorName } from '../protocol/error-codes.js';
import { partitionForKey } from '../protocol/murmur2.js';
import type { Principal, WsAuth } from './auth.js';
import { AuthError } from './auth.js';
import { CloseCode, closeReason } from './close-codes.js';
import { BadRequest, InvalidUnicode, parseControl, ProtocolViolation, type AckMsg, type ControlMessage, type PubMsg, type SubMsg } from './control.js';
import { checkpointJson, encodeCheckpointFrame } from './frames.js';
import { WsGroupMember, type GroupMemberEvents, type TopicPartition } from './group-member.js';
import type { LiveTails } from './live.js';
import { PartitionCursor, Subscription, type Policy, type SubscriptionSocket } from './subscription.js';
import type { WebSocket } from './uws.js';
import type { Logger, PeerLogLimiter } from '../util/logger.js';

/** What a session needs of its gateway. */
export interface SessionHost {
  readonly broker: Broker;
  readonly config: WsConfig;
  readonly live: LiveTails;
  readonly auth: WsAuth;
  readonly counters: { framesSent: number; recordsSent: number; slowConsumerActions: number; dropped: number };
  readonly logger: Logger;
  /** Lines a client can cause (failed requests, cut connections), limited per remote address. */
  readonly peerLog: PeerLogLimiter;
  /** Registers `s` under its session id; an older socket with that id is closed with 4409. */
  takeOver(s: Session, id: string): void;
  /** The group member a disconnected socket of this session (and principal) left waiting for it. */
  reclaimMember(s: Session, groupId: string): WsGroupMember | undefined;
  /** Runs `fn` on a later turn; an exception is counted and logged, never thrown to the loop. */
  defer(fn: () => void): void;
  /** Wraps a timer callback the same way. */
  guarded(where: string, fn: () => void): () => void;
  /** Keeps a member of a socket that went away for ws.session.grace.ms. */
  parkMember(s: Session, groupId: string, member: WsGroupMember): void;
}

export interface SocketData {
  session?: Session;
  protocol: string;
  principal: Principal;
  remoteAddress: string;
  origin: string | undefined;
}

const DEFAULT_CREDIT = { records: 1000, bytes: 1 << 20 };
/** Control replies kept while the socket is full before the client is cut as not reading. */
const MAX_QUEUED_CONTROL = 1000;
/** How long a close waits for a stalled client to read its `closing` frame. */
const CLOSE_WAIT_MS = 10_000;

/** The largest data frame: ws.max.frame.bytes, but at most a quarter of the socket's buffer limit. */
export function frameLimit(c: WsConfig): number {
  return Math.min(c.maxFrameBytes, Math.floor(c.maxBufferedBytes / 4));
}

/** Subscriptions one socket may hold. */
const MAX_SUBSCRIPTIONS = 64;
const utf8 = new TextDecoder('utf-8');

type Reply = Record<string, unknown>;

/** A failure to answer as {op:"error", code}. */
class Refusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function refuseKafka(code: number, message: string): Refusal {
  return new Refusal(errorName(code), message);
}

export class Session implements SubscriptionSocket {
  id: string;
  closed = false;
  /** closeWith() was called: no more data; the close may wait for the socket to drain. */
  private closing = false;
  /** afterDrain: the close waits until uWS has handed every buffered byte to the kernel. */
  private pendingClose: { code: number; reason: string; closing: string | undefined; afterDrain: boolean } | undefined;
  private readonly controlQueue: string[] = [];
  readonly binary: boolean;
  readonly maxFrameBytes: number;
  principal: Principal;
  readonly subs = new Map<number, Subscription>();
  private readonly members = new Map<number, WsGroupMember>();
  private nextSubId = 1;
  private authTimers: NodeJS.Timeout[] = [];
  /** Round-robin position of keyless `pub` records per topic. */
  private readonly roundRobin = new Map<string, number>();

  constructor(
    readonly ws: WebSocket<SocketData>,
    private readonly host: SessionHost,
    readonly data: SocketData,
  ) {
    this.id = randomBytes(12).toString('base64url');
    this.binary = data.protocol === 'brook.v1.bin';
    this.maxFrameBytes = frameLimit(host.config);
    this.principal = data.principal;
    this.armAuthExpiry();
  }

  // ---- sending -------------------------------------------------------------------------------

  /**
   * Data frames go only below half of ws.max.buffered.bytes, and a frame is at most a quarter of
   * it (frameLimit), so data never takes the socket past three quarters: the last quarter is kept
   * for control frames, which uWS would drop above the limit like anything else.
   */
  canSend(): boolean {
    return !this.closed && !this.closing && this.controlQueue.length === 0 && this.ws.getBufferedAmount() < this.host.config.maxBufferedBytes / 2;
  }

  send(frame: Buffer | string, binary: boolean): void {
    if (this.closed) return;
    // A drop (send returning 2) is counted by the gateway's `dropped` handler: canSend() and
    // sendControl's queue exist so that it never happens.
    this.ws.send(frame, binary);
    this.host.counters.framesSent++;
  }

  defer(fn: () => void): void {
    this.host.defer(fn);
  }

  ended(sub: Subscription): void {
    void this.unsubscribe(sub, true).catch(() => {});
  }

  countRecords(n: number): void {
    this.host.counters.recordsSent += n;
  }

  corked(fn: () => void): void {
    if (this.closed) return;
    this.ws.cork(fn);
  }

  /**
   * A control frame. uWS drops any message sent while the socket holds more than maxBackpressure
   * (ws.max.buffered.bytes), so a reply that would not fit waits in a small queue flushed on
   * drain; a client that floods requests without reading the answers overflows it and is cut.
   */
  sendControl(msg: object): void {
    if (this.closed || this.closing) return;
    const text = JSON.stringify(msg);
    if (this.controlQueue.length > 0 || !this.fits(text.length)) {
      if (this.controlQueue.length >= MAX_QUEUED_CONTROL) {
        this.host.peerLog.write('warn', this.data.remoteAddress, `ws gateway: ${this.data.remoteAddress} does not read its replies; connection cut`);
        this.hardClose();
        return;
      }
      this.controlQueue.push(text);
      return;
    }
    this.ws.cork(() => this.send(text, false));
  }

  /** Whether `bytes` more can be sent without uWS dropping them. */
  private fits(bytes: number): boolean {
    return this.ws.getBufferedAmount() + bytes <= this.host.config.maxBufferedBytes;
  }

  /**
   * Sends `closing` (with every subscription's cursor when asked) and closes with `code`. When the
   * socket is too full for them to arrive, they wait for drain (the client must read them to
   * resume without loss); a client that never reads again is cut after CLOSE_WAIT_MS.
   */
  closeWith(code: number, reason: string, withCursors = false, opts: { afterDrain?: boolean } = {}): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    for (const s of this.subs.values()) s.close(); // no more data: the cursors below are final
    let closing: string | undefined;
    if (withCursors) {
      const cursors: Record<string, string> = {};
      for (const s of this.subs.values()) cursors[s.id] = safeCursor(s);
      closing = JSON.stringify({ op: 'closing', code, reason, cursors });
    }
    this.pendingClose = { code, reason, closing, afterDrain: opts.afterDrain ?? false };
    this.flushControl();
    if (!this.closed && this.pendingClose) {
      const t = setTimeout(this.host.guarded('close wait', () => this.hardClose()), CLOSE_WAIT_MS);
      t.unref();
      this.authTimers.push(t);
    }
  }

  /** Sends queued control frames and a pending close while they fit. */
  flushControl(): void {
    if (this.closed) return;
    this.ws.cork(() => {
      while (this.controlQueue.length > 0 && this.fits(this.controlQueue[0]!.length)) this.send(this.controlQueue.shift()!, false);
      const pc = this.pendingClose;
      if (!pc || this.controlQueue.length > 0) return;
      if (pc.afterDrain && this.ws.getBufferedAmount() > 0) return;
      if (pc.closing !== undefined) {
        if (!this.fits(pc.closing.length + 200)) return;
        this.send(pc.closing, false);
      } else if (!this.fits(200)) return;
      this.pendingClose = undefined;
      this.ws.end(pc.code, closeReason(pc.reason));
    });
  }

  /** Closes at once, without a close frame (the client sees 1006): for clients that stopped reading. */
  private hardClose(): void {
    if (this.closed) return;
    this.ws.close();
  }

  // ---- receiving -----------------------------------------------------------------------------

  /** A message from the client. `data` is only valid during this call (uWS neuters it on return). */
  onMessage(data: ArrayBuffer, isBinary: boolean): void {
    if (isBinary) {
      this.closeWith(CloseCode.UnsupportedData, 'control messages are JSON text frames');
      return;
    }
    // uWS has checked the UTF-8 of text frames (an invalid one never reaches here: 1006).
    const text = utf8.decode(data);
    let msg: ControlMessage;
    try {
      msg = parseControl(text);
    } catch (e) {
      if (e instanceof BadRequest) this.sendControl({ op: 'error', id: e.id, code: 'BAD_REQUEST', message: e.message });
      else if (e instanceof InvalidUnicode) this.closeWith(CloseCode.InvalidPayload, e.message);
      else if (e instanceof ProtocolViolation) this.closeWith(CloseCode.ProtocolError, `protocol error: ${e.message}`);
      else throw e;
      return;
    }
    this.dispatch(msg).then(
      (reply) => {
        if (reply) this.sendControl({ op: 'ok', id: msg.id, ...reply });
      },
      (e: unknown) => {
        if (e instanceof Refusal) this.sendControl({ op: 'error', id: msg.id, code: e.code, message: e.message });
        else if (e instanceof AuthError) this.closeWith(e.closeCode, e.message);
        else {
          this.host.peerLog.write('error', this.data.remoteAddress, `ws gateway: ${msg.op} failed: ${(e as Error)?.stack ?? String(e)}`);
          this.sendControl({ op: 'error', id: msg.id, code: 'UNKNOWN_SERVER_ERROR', message: 'internal error' });
        }
      },
    );
  }

  /** The reply's fields, or undefined for no reply. Throws Refusal for an error reply. */
  private async dispatch(msg: ControlMessage): Promise<Reply | undefined> {
    switch (msg.op) {
      case 'hello':
        this.host.takeOver(this, msg.session);
        return { session: this.id };
      case 'sub':
        return this.subscribe(msg);
      case 'unsub': {
        const sub = this.requireSub(msg.sub);
        await this.unsubscribe(sub, true);
        return {};
      }
      case 'credit': {
        this.requireSub(msg.sub).addCredit(msg.records, msg.bytes);
        return msg.id === undefined ? undefined : {};
      }
      case 'ack':
        await this.ack(msg);
        return msg.id === undefined ? undefined : {};
      case 'pub':
        return this.publish(msg);
      case 'auth': {
        const principal = await this.host.auth.authenticateToken(msg.token);
        // A renewal, not a change of identity: sessions and group members belong to a principal.
        if (principal.name !== this.principal.name) throw new Refusal('FORBIDDEN', `the token is ${principal.name}'s, this socket is ${this.principal.name}'s`);
        this.principal = principal;
        this.armAuthExpiry();
        return { expiresAt: principal.expiresAt ?? null };
      }
    }
  }

  private requireSub(id: number): Subscription {
    const sub = this.subs.get(id);
    if (!sub) throw new Refusal('UNKNOWN_SUBSCRIPTION', `no subscription ${id} on this socket`);
    return sub;
  }

  // ---- subscriptions -------------------------------------------------------------------------

  private topicsOf(msg: SubMsg): Topic[] {
    return msg.topics.map((name) => {
      if (!this.host.auth.canRead(this.principal, name)) throw new Refusal('FORBIDDEN', `${this.principal.name} may not read ${name}`);
      const topic = this.host.broker.topics.get(name);
      if (!topic) throw refuseKafka(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
      return topic;
    });
  }

  private async subscribe(msg: SubMsg): Promise<Reply> {
    if (this.subs.size >= MAX_SUBSCRIPTIONS) throw new Refusal('BAD_REQUEST', `at most ${MAX_SUBSCRIPTIONS} subscriptions per socket`);
    const topics = this.topicsOf(msg);
    const policy: Policy = msg.policy ?? (msg.mode === 'live' ? 'skip' : 'wait');
    const sub = new Subscription(
      { id: this.nextSubId++, mode: msg.mode, topics, filter: msg.filter, credit: msg.credit ?? DEFAULT_CREDIT, policy, encoding: msg.encoding ?? 'utf8', group: msg.group, isolation: msg.isolation },
      this.host.broker,
      this,
      msg.mode === 'live' ? this.host.live : undefined,
    );
    if (msg.mode === 'group') {
      this.subs.set(sub.id, sub);
      this.joinGroup(sub, msg);
      return { sub: sub.id, topics: msg.topics, partitions: [] };
    }
    const cursors = this.startCursors(msg, topics, sub);
    if (this.closed) return { sub: sub.id };
    for (const c of cursors) sub.addCursor(c);
    this.subs.set(sub.id, sub);
    // The ok goes first, then data: the client learns the subscription id before frames carry it.
    this.defer(() => sub.pump());
    return { sub: sub.id, topics: msg.topics, partitions: cursors.map((c) => ({ topic: c.topic.name, partition: c.partition, offset: c.next })) };
  }

  /** Where each partition of an assign or live subscription starts (docs/websocket.md `from`). */
  private startCursors(msg: SubMsg, topics: Topic[], sub: Subscription): PartitionCursor[] {
    const from = msg.from ?? { kind: msg.mode === 'live' ? 'latest' : 'earliest' };
    const chosen = (t: Topic): number[] => {
      const all = t.partitions.map((_, i) => i);
      const wanted = msg.partitions ?? (from.kind === 'offsets' ? [...from.offsets.keys()] : all);
      for (const p of wanted) if (!t.partitions[p]) throw refuseKafka(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown partition ${t.name}-${p}`);
      return wanted;
    };
    const cursors: PartitionCursor[] = [];
    if (from.kind === 'cursor') {
      const decoded = from.decoded; // validated by parseControl
      topics.forEach((t, topicIndex) => {
        const saved = decoded.find((d) => d.topicId === t.id);
        // A cursor of a deleted topic must not resume a new topic of the same name at old offsets.
        if (!saved) throw refuseKafka(ErrorCode.UNKNOWN_TOPIC_ID, `the cursor has no position in topic ${t.name} (id ${t.id}): deleted and recreated?`);
        for (const p of msg.partitions ?? t.partitions.map((_, i) => i)) {
          const log = t.partitions[p];
          if (!log) throw refuseKafka(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown partition ${t.name}-${p}`);
          // A partition the cursor lacks was added after it was made: all of it is new.
          cursors.push(new PartitionCursor(t, topicIndex, p, Math.min(saved.next.get(p) ?? log.logStartOffset, this.host.broker.readableEnd(log))));
        }
      });
      return cursors;
    }
    let committed: Map<string, number> | undefined;
    if (from.kind === 'committed') {
      if (!msg.group) throw new Refusal('BAD_REQUEST', 'from "committed" needs a group');
      committed = this.committedOffsets(msg.group, topics.map((t) => ({ name: t.name, partitions: chosen(t) })));
    }
    topics.forEach((t, topicIndex) => {
      for (const p of chosen(t)) {
        const log = t.partitions[p]!;
        let next: number;
        switch (from.kind) {
          case 'earliest':
            next = log.logStartOffset;
            break;
          case 'latest':
            // The end at the subscription's isolation: read_committed starts at the last stable offset, as a Kafka consumer does.
            next = sub.reads.end(log);
            break;
          case 'timestamp':
            next = log.offsetForTimestamp(from.timestamp)?.offset ?? sub.reads.end(log);
            break;
          case 'offsets': {
            next = from.offsets.get(p) ?? log.logStartOffset;
            if (next > this.host.broker.readableEnd(log)) throw refuseKafka(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${next} is beyond the end of ${t.name}-${p} (${this.host.broker.readableEnd(log)})`);
            break;
          }
          case 'committed':
            next = committed!.get(`${t.name}:${p}`) ?? log.logStartOffset;
            break;
        }
        // Below the log start, pump() sends a gap frame first: never a silent jump.
        cursors.push(new PartitionCursor(t, topicIndex, p, next));
      }
    });
    return cursors;
  }

  private committedOffsets(group: string, topics: { name: string; partitions: number[] }[]): Map<string, number> {
    const out = new Map<string, number>();
    const r = this.host.broker.groups.fetchOffsets(group, topics.map((t) => ({ name: t.name, partitionIndexes: t.partitions })));
    for (const t of r.topics) for (const p of t.partitions) if (p.committedOffset >= 0n) out.set(`${t.name}:${p.partitionIndex}`, Number(p.committedOffset));
    return out;
  }

  private joinGroup(sub: Subscription, msg: SubMsg): void {
    const groupId = msg.group!;
    const reset = msg.from?.kind === 'latest' ? 'latest' : 'earliest';
    const events: GroupMemberEvents = {
      assigned: (tps) => this.onAssigned(sub, tps, reset),
      revoked: (tps) => {
        this.sendControl({ op: 'revoked', sub: sub.id, partitions: tps.map((tp) => ({ topic: tp.topic, partition: tp.partition })) });
        for (const tp of tps) sub.removeCursor(sub.topics.findIndex((t) => t.name === tp.topic), tp.partition);
      },
      failed: (err) => {
        this.sendControl({ op: 'error', id: null, sub: sub.id, code: err.code, message: err.message });
        this.subs.delete(sub.id);
        this.members.delete(sub.id);
        sub.close();
      },
    };
    // The member starts (or resumes) on a later turn: the sub's ok goes out first, then `assigned`.
    const reclaimed = this.host.reclaimMember(this, groupId);
    if (reclaimed) {
      this.members.set(sub.id, reclaimed);
      this.defer(() => reclaimed.reattach(events));
      return;
    }
    const member = new WsGroupMember(
      this.host.broker.groups,
      {
        groupId,
        topics: msg.topics,
        clientId: `brook-ws:${this.principal.name}`,
        clientHost: `/${this.data.remoteAddress}`,
        // A detached member stops heartbeating, and the coordinator expires it one session timeout
        // after its last heartbeat, which came up to a third of that before the cut: 1.5 x the
        // grace keeps it alive for the whole grace, whose own timer (parkMember) then ends it.
        sessionTimeoutMs: Math.max(Math.ceil(this.host.config.sessionGraceMs * 1.5), this.host.broker.config.groupMinSessionTimeoutMs),
        rebalanceTimeoutMs: 60_000,
        groupInstanceId: `brook-ws-${this.id}`,
        partitionCount: (name) => this.host.broker.topics.get(name)?.partitions.length,
      },
      events,
    );
    this.members.set(sub.id, member);
    this.defer(() => {
      if (!sub.closed) member.start();
    });
  }

  private onAssigned(sub: Subscription, tps: TopicPartition[], reset: 'earliest' | 'latest'): void {
    if (sub.closed) return;
    const member = this.members.get(sub.id);
    const out: { topic: string; partition: number; offset: number }[] = [];
    for (const tp of tps) {
      const topicIndex = sub.topics.findIndex((t) => t.name === tp.topic);
      const topic = sub.topics[topicIndex];
      const log = topic?.partitions[tp.partition];
      if (!topic || !log) continue;
      if (sub.cursors.has(`${topicIndex}:${tp.partition}`)) {
        out.push({ topic: tp.topic, partition: tp.partition, offset: sub.cursors.get(`${topicIndex}:${tp.partition}`)!.next });
        continue;
      }
      const next = member?.committed(tp.topic, tp.partition) ?? (reset === 'latest' ? sub.reads.end(log) : log.logStartOffset);
      sub.addCursor(new PartitionCursor(topic, topicIndex, tp.partition, next));
      out.push({ topic: tp.topic, partition: tp.partition, offset: next });
    }
    this.sendControl({ op: 'assigned', sub: sub.id, partitions: out });
    sub.pump();
  }

  private async ack(msg: AckMsg): Promise<void> {
    const sub = this.requireSub(msg.sub);
    const topic = msg.topic ?? (sub.topics.length === 1 ? sub.topics[0]!.name : undefined);
    if (topic === undefined) throw new Refusal('BAD_REQUEST', 'ack needs a topic on a subscription of several topics');
    const member = this.members.get(sub.id);
    if (member) {
      try {
        await member.commit([{ topic, partition: msg.partition, offset: msg.offset }]);
      } catch (e) {
        const code = (e as { code?: string }).code;
        throw new Refusal(code ?? 'UNKNOWN_SERVER_ERROR', (e as Error).message);
      }
      return;
    }
    if (!sub.group) throw new Refusal('NOT_GROUP_MODE', 'ack commits for a group: subscribe with mode "group", or "assign" with a group');
    // An assign-mode socket with a group commits as a Kafka consumer using assign() does: generation -1.
    const [t] = await this.host.broker.groups.commitOffsets({
      groupId: sub.group,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: topic, partitions: [{ partitionIndex: msg.partition, committedOffset: BigInt(msg.offset), committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    const code = t?.partitions[0]?.errorCode ?? ErrorCode.NONE;
    if (code !== ErrorCode.NONE) throw refuseKafka(code, `commit of ${topic}-${msg.partition} refused`);
  }

  private async unsubscribe(sub: Subscription, leave: boolean): Promise<void> {
    this.subs.delete(sub.id);
    sub.close();
    const member = this.members.get(sub.id);
    this.members.delete(sub.id);
    if (member && leave) await member.leave();
  }

  // ---- produce -------------------------------------------------------------------------------

  private async publish(msg: PubMsg): Promise<Reply | undefined> {
    if (!this.host.auth.canWrite(this.principal, msg.topic)) throw new Refusal('FORBIDDEN', `${this.principal.name} may not write ${msg.topic}`);
    const broker = this.host.broker;
    const topic = broker.topicOrCreate(msg.topic, true);
    if (!topic) throw refuseKafka(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${msg.topic}`);
    const n = topic.partitions.length;
    let partition: number;
    if (msg.partition !== undefined) partition = msg.partition;
    else if (msg.key) partition = partitionForKey(msg.key, n);
    else {
      partition = (this.roundRobin.get(topic.name) ?? 0) % n;
      this.roundRobin.set(topic.name, partition + 1);
    }
    if (partition >= n) throw refuseKafka(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown partition ${topic.name}-${partition}`);
    const batch = buildBatch({ records: [{ key: msg.key, value: msg.value, headers: msg.headers }] });
    const acks = msg.acks ?? -1;
    const r = appendPartition(broker, topic, partition, batch, 11, acks === -1);
    if (r.errorCode === ErrorCode.NONE && r.durable) {
      try {
        await r.durable;
      } catch (e) {
        throw refuseKafka(ErrorCode.KAFKA_STORAGE_ERROR, (e as Error).message);
      }
    }
    if (r.errorCode !== ErrorCode.NONE) throw refuseKafka(r.errorCode, r.errorMessage ?? `produce to ${topic.name}-${partition} failed`);
    if (acks === 0) return undefined;
    const timestamp = r.logAppendTimeMs >= 0n ? Number(r.logAppendTimeMs) : Date.now();
    return { partition, offset: Number(r.baseOffset), timestamp };
  }

  // ---- auth expiry, checkpoints, close -----------------------------------------------------

  private armAuthExpiry(): void {
    for (const t of this.authTimers) clearTimeout(t);
    this.authTimers = [];
    const at = this.principal.expiresAt;
    if (at === undefined) return;
    const left = at - Date.now();
    const warn = setTimeout(this.host.guarded('auth expiry', () => this.sendControl({ op: 'auth_expiring', expiresAt: at })), Math.max(0, left - 60_000));
    const end = setTimeout(this.host.guarded('auth expiry', () => this.closeWith(CloseCode.Unauthenticated, 'expired')), Math.max(0, left));
    warn.unref();
    end.unref();
    this.authTimers.push(warn, end);
  }

  /** Sends a checkpoint for every subscription that advanced since the last one. */
  checkpoint(): void {
    for (const s of this.subs.values()) {
      if (!s.advanced || s.cursors.size === 0 || !this.canSend()) continue;
      s.advanced = false;
      const cursor = safeCursor(s);
      this.ws.cork(() => this.send(this.binary ? encodeCheckpointFrame(s.id, cursor) : checkpointJson(s.id, cursor), this.binary));
    }
  }

  /** The socket drained below its limit: queued control frames first, then every subscription. */
  onDrain(): void {
    this.flushControl();
    if (this.closing) return;
    for (const s of this.subs.values()) s.pump();
  }

  /** Applies the overflow policy of subscriptions held back longer than ws.slow.consumer.ms. */
  checkSlow(now: number): void {
    for (const s of this.subs.values()) {
      // uWS's drain is a hint, not a promise: a subscription waiting on its socket is also
      // resumed from here once the socket has room.
      if (s.waitingForSocket && this.canSend()) s.pump();
      if (s.heldSince === undefined || now - s.heldSince < this.host.config.slowConsumerMs) continue;
      const verdict = s.overflow();
      if (verdict === 'wait') continue;
      this.host.counters.slowConsumerActions++;
      if (verdict === 'close') {
        this.closeWith(CloseCode.TooSlow, 'too slow', true);
        return;
      }
    }
  }

  /** The socket closed (either side). Group members wait ws.session.grace.ms unless the client said goodbye. */
  onClose(code: number): void {
    this.closed = true;
    this.controlQueue.length = 0;
    for (const t of this.authTimers) clearTimeout(t);
    for (const s of this.subs.values()) s.close();
    const goodbye = code === CloseCode.Normal;
    for (const [subId, member] of this.members) {
      if (goodbye) void Promise.resolve(member.leave()).catch(() => {});
      else {
        member.detach();
        this.host.parkMember(this, this.subs.get(subId)?.group ?? '', member);
      }
    }
    this.members.clear();
    this.subs.clear();
  }
}

function safeCursor(s: Subscription): string {
  try {
    return s.cursor();
  } catch {
    // Over 2 KiB (hundreds of partitions): the client library keeps its own offsets to resume with.
    return '';
  }
}
