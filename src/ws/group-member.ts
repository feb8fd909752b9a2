/**
 * A WebSocket subscription's membership in a Kafka consumer group. It is a member of the same
 * in-process GroupCoordinator that Kafka clients talk to over the wire, and behaves like an eager
 * Kafka consumer: protocol type "consumer", subscriptions and assignments in the consumer
 * embedded protocol (coordinator/assignors.ts), so kafka-consumer-groups, kafkajs, librdkafka and
 * Java consumers share a group with it and see it as one of their own.
 *
 * Life of a member:
 * 1. start(): JoinGroup (no MEMBER_ID_REQUIRED round trip: nothing in-process can lose the
 *    answer), then SyncGroup. When the group makes it leader it computes every member's
 *    assignment from their subscriptions and the partition counts the gateway reports.
 * 2. Stable: a heartbeat every min(sessionTimeout / 3, 3 s) (3 s is Kafka's heartbeat.interval.ms;
 *    the coordinator has no push for "rebalance started", so this bounds how long other members
 *    wait for us to rejoin). REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION or UNKNOWN_MEMBER_ID on a
 *    heartbeat: `revoked` with everything (eager protocol), then rejoin. The leader also rejoins
 *    when a subscribed topic's partition count differs from the one its assignment used; a
 *    leader's rejoin makes a Stable group rebalance.
 * 3. detach(): the socket went away. Heartbeats stop but the member stays; with a
 *    group.instance.id (static membership) the group keeps its partitions until the session
 *    expires, and reattach() within that time resumes the same member in the same generation.
 * 4. leave(): LeaveGroup; everything stops.
 *
 * Errors: coordinator unavailability (broker shutting down, store failures) is retried with
 * backoff; INCONSISTENT_GROUP_PROTOCOL, GROUP_MAX_SIZE_REACHED, FENCED_INSTANCE_ID,
 * INVALID_SESSION_TIMEOUT and other non-retriable codes end the member with `failed` (after
 * `revoked` when it held partitions). An exception from anywhere inside, including the gateway's
 * event handlers, also ends it with `failed` (code UNKNOWN_SERVER_ERROR); nothing escapes a timer
 * and no promise is left to reject unhandled.
 */
import { assignFor, ASSIGNOR_PROTOCOLS, decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, type Subscriber, type TopicPartition } from '../coordinator/assignors.js';
import type { GroupCoordinator } from '../coordinator/coordinator.js';
import type { JoinMember, JoinResult, SyncResult } from '../coordinator/group.js';
import { ErrorCode, errorMessage, errorName } from '../protocol/error-codes.js';

export type { TopicPartition } from '../coordinator/assignors.js';

export interface GroupMemberOptions {
  groupId: string;
  /** The subscription. */
  topics: string[];
  /** Shown by DescribeGroups (kafka-consumer-groups --describe --members). */
  clientId: string;
  clientHost: string;
  /** Also the reconnect grace of a detached static member. */
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** The WS session id: static membership, so a reloaded tab that reattaches in time keeps its partitions. */
  groupInstanceId: string | null;
  /** Current partition count of a topic, undefined if unknown. */
  partitionCount(topic: string): number | undefined;
}

export interface GroupMemberEvents {
  /** After a completed SyncGroup: the full new assignment (eager: every rebalance revokes all, then assigns). */
  assigned(partitions: TopicPartition[]): void;
  /** Before rejoining: stop reading these and commit (a commit() called from here still carries the old generation). */
  revoked(partitions: TopicPartition[]): void;
  /** Unrecoverable; the member has stopped. */
  failed(error: { code: string; message: string }): void;
}

/** An Error from commit(): `code` is the Kafka error name. */
export class GroupMemberError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'GroupMemberError';
  }
}

const PROTOCOL_TYPE = 'consumer';
/** Kafka's heartbeat.interval.ms default: the longest wait between heartbeats. */
const MAX_HEARTBEAT_INTERVAL_MS = 3000;
/** Kafka's retry.backoff.ms, doubling up to retry.backoff.max.ms's spirit (kept short in-process). */
const RETRY_BACKOFF_MS = 100;
const MAX_RETRY_BACKOFF_MS = 2000;

/** Codes after which a Kafka consumer looks for the coordinator again and retries. */
const RETRY_LATER: ReadonlySet<number> = new Set([
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.REQUEST_TIMED_OUT,
  // A static member's new id could not be stored (group.ts replaceStaticMember).
  ErrorCode.UNKNOWN_SERVER_ERROR,
]);

type State = 'new' | 'joining' | 'syncing' | 'stable' | 'closed';

/** See the file comment. */
export class WsGroupMember {
  private state: State = 'new';
  private currentMemberId = '';
  private currentGenerationId = -1;
  private current: TopicPartition[] = [];
  /** The attached socket's events; undefined while detached. */
  private events: GroupMemberEvents | undefined;
  /** Whether the attached socket was told `assigned` for `current` (and so must be told `revoked`). */
  private announced = false;
  /** Numbers join attempts: an answer for an older attempt (or after leave) is stale. */
  private attempt = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryBackoffMs = RETRY_BACKOFF_MS;
  /** Why the member ended, for a socket that reattaches afterwards. */
  private failure: { code: string; message: string } | undefined;
  /** As leader: the partition counts its assignment used, to rejoin when one changes. */
  private leaderCounts: Map<string, number | undefined> | undefined;
  private readonly subscription: Buffer;
  private readonly heartbeatIntervalMs: number;

  constructor(
    private readonly coordinator: GroupCoordinator,
    private readonly opts: GroupMemberOptions,
    events: GroupMemberEvents,
  ) {
    this.events = events;
    this.subscription = encodeSubscription(opts.topics);
    this.heartbeatIntervalMs = Math.max(1, Math.min(Math.floor(opts.sessionTimeoutMs / 3), MAX_HEARTBEAT_INTERVAL_MS));
  }

  get assignment(): TopicPartition[] {
    return this.current.map((tp) => ({ ...tp }));
  }

  get memberId(): string {
    return this.currentMemberId;
  }

  get generationId(): number {
    return this.currentGenerationId;
  }

  /** Joins the group. Called once. */
  start(): void {
    if (this.state !== 'new') return;
    this.guard(() => this.join());
  }

  /** The group's committed offset, or undefined when none. */
  committed(topic: string, partition: number): number | undefined {
    const r = this.coordinator.fetchOffsets(this.opts.groupId, [{ name: topic, partitionIndexes: [partition] }]);
    if (r.errorCode !== ErrorCode.NONE) return undefined;
    const o = r.topics[0]?.partitions[0];
    if (!o || o.errorCode !== ErrorCode.NONE || o.committedOffset < 0n) return undefined;
    return Number(o.committedOffset);
  }

  /**
   * OffsetCommit with this member's generation and id, as they are at the call. Rejects with a
   * GroupMemberError (code = Kafka error name) when any partition failed, or before the first join.
   */
  async commit(offsets: { topic: string; partition: number; offset: number }[]): Promise<void> {
    if (this.currentGenerationId < 0 || this.currentMemberId === '') throw new GroupMemberError('ILLEGAL_GENERATION', `not a member of group ${this.opts.groupId} yet`);
    const bad = offsets.find((o) => !Number.isSafeInteger(o.offset) || o.offset < 0 || !Number.isInteger(o.partition));
    if (bad) throw new GroupMemberError('INVALID_REQUEST', `cannot commit offset ${bad.offset} of ${bad.topic}-${bad.partition}`);
    const byTopic = new Map<string, { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string | null }[]>();
    for (const o of offsets) {
      let list = byTopic.get(o.topic);
      if (!list) byTopic.set(o.topic, (list = []));
      list.push({ partitionIndex: o.partition, committedOffset: BigInt(o.offset), committedLeaderEpoch: -1, committedMetadata: '' });
    }
    let result: Awaited<ReturnType<GroupCoordinator['commitOffsets']>>;
    try {
      result = await this.coordinator.commitOffsets({
      groupId: this.opts.groupId,
      generationId: this.currentGenerationId,
      memberId: this.currentMemberId,
      groupInstanceId: this.opts.groupInstanceId,
      retentionTimeMs: -1,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
      });
    } catch (e) {
      throw new GroupMemberError('UNKNOWN_SERVER_ERROR', `commit in group ${this.opts.groupId} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const t of result) {
      for (const p of t.partitions) {
        if (p.errorCode !== ErrorCode.NONE) throw new GroupMemberError(errorName(p.errorCode), `commit of ${t.name}-${p.partitionIndex} failed: ${errorMessage(p.errorCode) ?? errorName(p.errorCode)}`);
      }
    }
  }

  /** The socket went away: heartbeats stop, the membership stays (see the file comment). */
  detach(): void {
    if (this.state === 'closed') return;
    this.events = undefined;
    this.announced = false;
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /**
   * A socket of the same session came back: events go to it and heartbeats resume with one at
   * once. When the group is still Stable in our generation it gets `assigned` now; otherwise the
   * usual rejoin follows.
   */
  reattach(events: GroupMemberEvents): void {
    if (this.state === 'closed') {
      const failure = this.failure ?? { code: 'UNKNOWN_MEMBER_ID', message: `this member left group ${this.opts.groupId}` };
      safely(() => events.failed(failure));
      return;
    }
    this.events = events;
    this.announced = false;
    if (this.state === 'stable') this.guard(() => this.heartbeat());
  }

  /** LeaveGroup (unsubscribe, or the reconnect grace expired); every timer stops. */
  leave(): void {
    if (this.state === 'closed') return;
    const joinInFlight = this.state === 'joining';
    this.current = [];
    this.announced = false;
    this.stop();
    this.sendLeave(joinInFlight);
  }

  // ------------------------------------------------------------------------------- internals

  private stop(): void {
    this.state = 'closed';
    this.attempt++;
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.retryTimer);
    this.heartbeatTimer = this.retryTimer = undefined;
    this.leaderCounts = undefined;
  }

  /**
   * LeaveGroup for this member. A static member whose first JoinGroup is still waiting has no
   * member id yet; it is removed by its instance id, which only this member uses. A dynamic one in
   * that position leaves when its JoinGroup answers (onJoined).
   */
  private sendLeave(joinInFlight: boolean): void {
    const { groupId, groupInstanceId } = this.opts;
    if (this.currentMemberId !== '') this.coordinator.leaveGroup(groupId, [{ memberId: this.currentMemberId, groupInstanceId }]);
    else if (joinInFlight && groupInstanceId !== null) this.coordinator.leaveGroup(groupId, [{ memberId: '', groupInstanceId }]);
  }

  /** Runs fn; an exception ends the member with `failed` instead of escaping. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail('UNKNOWN_SERVER_ERROR', e instanceof Error ? e.message : String(e));
    }
  }

  private fail(code: string, message: string): void {
    if (this.state === 'closed') return;
    const events = this.events;
    const held = this.announced ? this.current : [];
    this.current = [];
    this.announced = false;
    this.stop();
    this.failure = { code, message };
    safely(() => this.sendLeave(false));
    if (held.length > 0) safely(() => events?.revoked(held));
    safely(() => events?.failed({ code, message }));
  }

  private failWith(errorCode: number, what: string): void {
    this.fail(errorName(errorCode), `${what} in group ${this.opts.groupId} failed: ${errorMessage(errorCode) ?? errorName(errorCode)}`);
  }

  /** Eager protocol: the socket gives up everything before the member rejoins. */
  private revokeAll(): void {
    const held = this.current;
    const told = this.announced;
    this.current = [];
    this.announced = false;
    if (told && held.length > 0) this.events?.revoked(held);
  }

  private scheduleRetry(ms: number, fn: () => void): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.guard(fn);
    }, ms);
    this.retryTimer.unref();
  }

  /** Rejoin after a coordinator error, backing off. */
  private rejoinLater(): void {
    const ms = this.retryBackoffMs;
    this.retryBackoffMs = Math.min(this.retryBackoffMs * 2, MAX_RETRY_BACKOFF_MS);
    this.scheduleRetry(ms, () => this.join());
  }

  /** Rejoin at once, from a timer so the stack stays flat. */
  private rejoinNow(): void {
    this.scheduleRetry(0, () => this.join());
  }

  private join(): void {
    if (this.state === 'closed') return;
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    // Called while still 'stable' on purpose: a commit() from `revoked` carries the old generation.
    this.revokeAll();
    this.state = 'joining';
    const attempt = ++this.attempt;
    const { groupId, groupInstanceId, clientId, clientHost, sessionTimeoutMs, rebalanceTimeoutMs } = this.opts;
    const answer = settle(() =>
      this.coordinator.joinGroup(groupId, {
        memberId: this.currentMemberId,
        groupInstanceId,
        requireKnownMemberId: false,
        supportSkippingAssignment: true,
        clientId,
        clientHost,
        rebalanceTimeoutMs,
        sessionTimeoutMs,
        protocolType: PROTOCOL_TYPE,
        protocols: ASSIGNOR_PROTOCOLS.map((name) => ({ name, metadata: this.subscription })),
      }),
    );
    answer.then(
      (r) => this.guard(() => this.onJoined(attempt, r)),
      (e: unknown) => this.guard(() => (attempt === this.attempt ? this.fail('UNKNOWN_SERVER_ERROR', String(e)) : undefined)),
    );
  }

  private onJoined(attempt: number, r: JoinResult): void {
    if (attempt !== this.attempt) {
      // Left (or restarted) while this JoinGroup waited: a membership it created must not linger.
      if (this.state === 'closed' && r.errorCode === ErrorCode.NONE) this.coordinator.leaveGroup(this.opts.groupId, [{ memberId: r.memberId, groupInstanceId: this.opts.groupInstanceId }]);
      return;
    }
    if (r.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      this.currentMemberId = r.memberId;
      return this.rejoinNow();
    }
    if (r.errorCode !== ErrorCode.NONE) return this.recover(r.errorCode, 'JoinGroup');
    this.currentMemberId = r.memberId;
    this.currentGenerationId = r.generationId;
    const assignments: { memberId: string; assignment: Buffer }[] = [];
    this.leaderCounts = undefined;
    if (r.leader === r.memberId && r.protocolName !== null) {
      const subscribers = r.members.map(toSubscriber);
      const counts = new Map<string, number | undefined>();
      const partitionCount = (topic: string) => {
        if (!counts.has(topic)) counts.set(topic, this.opts.partitionCount(topic));
        return counts.get(topic);
      };
      if (!r.skipAssignment) {
        const byMember = assignFor(r.protocolName, subscribers, partitionCount);
        if (!byMember) return this.fail('INCONSISTENT_GROUP_PROTOCOL', `group ${this.opts.groupId} selected protocol ${r.protocolName}, which this member cannot assign`);
        for (const [memberId, partitions] of byMember) assignments.push({ memberId, assignment: encodeAssignment(partitions) });
      } else {
        // A static leader back in a Stable group keeps the current assignment; it only watches counts.
        for (const s of subscribers) for (const t of s.topics) partitionCount(t);
      }
      this.leaderCounts = counts;
    }
    this.sync(attempt, r.protocolName, assignments);
  }

  private sync(attempt: number, protocolName: string | null, assignments: { memberId: string; assignment: Buffer }[]): void {
    this.state = 'syncing';
    const answer = settle(() =>
      this.coordinator.syncGroup(this.opts.groupId, {
        generationId: this.currentGenerationId,
        memberId: this.currentMemberId,
        groupInstanceId: this.opts.groupInstanceId,
        protocolType: PROTOCOL_TYPE,
        protocolName,
        assignments,
      }),
    );
    answer.then(
      (r) => this.guard(() => this.onSynced(attempt, r)),
      (e: unknown) => this.guard(() => (attempt === this.attempt ? this.fail('UNKNOWN_SERVER_ERROR', String(e)) : undefined)),
    );
  }

  /**
   * A JoinGroup or SyncGroup error: a member the group forgot joins afresh, a stale generation
   * rejoins now, a coordinator not ready yet is retried later, anything else ends the member.
   */
  private recover(code: number, what: string): void {
    switch (code) {
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.currentMemberId = '';
        this.currentGenerationId = -1;
        return this.rejoinNow();
      case ErrorCode.ILLEGAL_GENERATION:
      case ErrorCode.REBALANCE_IN_PROGRESS:
        return this.rejoinNow();
      default:
        if (RETRY_LATER.has(code)) return this.rejoinLater();
        return this.failWith(code, what);
    }
  }

  private onSynced(attempt: number, r: SyncResult): void {
    if (attempt !== this.attempt) return;
    if (r.errorCode !== ErrorCode.NONE) return this.recover(r.errorCode, 'SyncGroup');
    let partitions: TopicPartition[];
    try {
      partitions = decodeAssignment(r.assignment);
    } catch (e) {
      return this.fail('INCONSISTENT_GROUP_PROTOCOL', `the leader of group ${this.opts.groupId} sent an unreadable assignment: ${(e as Error).message}`);
    }
    // Like kafkajs and the Java consumer: topics this member does not subscribe to are dropped.
    const subscribed = new Set(this.opts.topics);
    this.current = partitions.filter((tp) => subscribed.has(tp.topic));
    this.state = 'stable';
    this.retryBackoffMs = RETRY_BACKOFF_MS;
    if (this.events) {
      this.announce();
      this.scheduleHeartbeat();
    }
  }

  private announce(): void {
    this.announced = true;
    this.events?.assigned(this.assignment);
  }

  private scheduleHeartbeat(): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = undefined;
      this.guard(() => this.heartbeat());
    }, this.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  private heartbeat(): void {
    if (this.state !== 'stable' || !this.events) return;
    if (this.leaderCounts && [...this.leaderCounts].some(([topic, n]) => this.opts.partitionCount(topic) !== n)) return this.join();
    const { groupId, groupInstanceId } = this.opts;
    const code = this.coordinator.heartbeat(groupId, this.currentMemberId, groupInstanceId, this.currentGenerationId);
    switch (code) {
      case ErrorCode.NONE:
        if (!this.announced) this.announce();
        return this.scheduleHeartbeat();
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.currentMemberId = '';
        this.currentGenerationId = -1;
        return this.join();
      case ErrorCode.ILLEGAL_GENERATION:
      case ErrorCode.REBALANCE_IN_PROGRESS:
        return this.join();
      default:
        if (RETRY_LATER.has(code)) return this.scheduleHeartbeat();
        return this.failWith(code, 'Heartbeat');
    }
  }
}

function toSubscriber(m: JoinMember): Subscriber {
  let topics: string[] = [];
  try {
    topics = decodeSubscription(m.metadata).topics;
  } catch {
    // Kafka's leader would fail the whole assignment; one unreadable member gets nothing instead.
  }
  return { memberId: m.memberId, groupInstanceId: m.groupInstanceId, topics };
}

/** The coordinator answers either at once or with a Promise; this is always a Promise (never a sync throw). */
function settle<T>(call: () => T | Promise<T>): Promise<T> {
  return new Promise<T>((resolve) => resolve(call()));
}

/** Runs a callback of the gateway's (or a best-effort call) whose exception must go nowhere. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // The member is ending already; there is nobody left to tell.
  }
}
