/**
 * One consumer group under the classic rebalance protocol (JoinGroup/SyncGroup/Heartbeat/
 * LeaveGroup), as Apache Kafka's GroupCoordinator runs it. The group owns its members, its state,
 * its timers and its committed offsets; the coordinator (coordinator.ts) finds or creates groups,
 * validates what does not depend on a group (group id, session timeout bounds) and persists.
 *
 * States and the transitions between them:
 *
 *                 first member joins                all known members rejoined
 *   +-------+   (after the initial delay)  +--------------------+   (or rebalance timeout)  +---------------------+
 *   | Empty | ---------------------------> | PreparingRebalance | ------------------------> | CompletingRebalance |
 *   +-------+ <--------------------------- +--------------------+ <------------------------ +---------------------+
 *       ^        nobody left when the         ^        ^             a member joins, leaves,        |
 *       |        rebalance completes          |        |             or misses its SyncGroup        | the leader's SyncGroup
 *       |                                     |        |                                            | is stored
 *       |                                     |        +-------------------+                        v
 *       |                                     |   a member joins with new  |                   +--------+
 *       |                                     +--- metadata, the leader ---+------------------ | Stable |
 *       |                                         rejoins, a member leaves or times out        +--------+
 *       |
 *     Dead: deleted (DeleteGroups), expired (no members, no offsets) or unloaded (broker shutdown).
 *
 * A rebalance, step by step:
 * 1. PreparingRebalance: every member must send JoinGroup; the requests wait (their promises stay
 *    pending). It completes when all known members (and no pending ones) have joined, or when the
 *    rebalance timeout (largest among members) expires: members that did not rejoin are removed,
 *    except static ones. A group leaving Empty waits `group.initial.rebalance.delay.ms` instead
 *    (Kafka's InitialDelayedJoin): while new members keep arriving in a new group the delay
 *    restarts, never beyond the rebalance timeout.
 * 2. The generation increments, the protocol every member supports with the most first-choice
 *    votes is selected, and every waiting JoinGroup is answered; only the leader gets the members'
 *    metadata. CompletingRebalance.
 * 3. Members send SyncGroup; followers wait for the leader's, which carries the assignments. Those
 *    are stored (a group metadata record) and then handed out byte for byte. Stable. A member that
 *    has not sent SyncGroup within the rebalance timeout is removed and the group rebalances again.
 * 4. Stable: heartbeats reset each member's session timer. A member whose session expires is
 *    removed and the group rebalances; the others learn it from REBALANCE_IN_PROGRESS on their
 *    heartbeats and rejoin.
 *
 * Member ids: `${clientId}-${uuid}`. From JoinGroup v4 a new dynamic member first gets
 * MEMBER_ID_REQUIRED with its id and joins again with it; until then it is "pending" and the
 * rebalance waits for it (for at most its session timeout).
 *
 * Static members (group.instance.id, KIP-345): a member that rejoins with a known instance id and
 * an empty member id takes over the old member's place: new member id, same assignment. In a
 * Stable group whose selected protocol would not change this needs no rebalance; the old member id
 * is fenced (FENCED_INSTANCE_ID). Static members are not removed when they miss a rebalance, only
 * when their session expires or they leave explicitly.
 *
 * Timers (setTimeout, unref'd): one per member (session; 5 minutes for a member's first join, as
 * Kafka's NewMemberJoinTimeoutMs), one per pending member, one join timer and one sync timer per
 * group. A member waiting in JoinGroup or SyncGroup is never expired by its session timer: the
 * rebalance and sync timers bound those waits.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../protocol/error-codes.js';
import { subscribedTopics } from './consumer-protocol.js';
import type { GroupMetadataValue, OffsetCommitValue } from './records.js';
import type { Logger } from '../util/logger.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinRequest {
  memberId: string;
  groupInstanceId: string | null;
  /** JoinGroup v4+: a new dynamic member first gets MEMBER_ID_REQUIRED. */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+: a static leader rejoining a Stable group is told to skip the assignment. */
  supportSkippingAssignment: boolean;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
}

export interface JoinMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

export interface JoinResult {
  errorCode: number;
  memberId: string;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  members: JoinMember[];
}

export interface SyncRequest {
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface LeavingMember {
  memberId: string;
  groupInstanceId: string | null;
}

/** A committed offset, held in memory as it is stored, with where its record sits in the log. */
export interface CommittedOffset extends OffsetCommitValue {
  /**
   * The `__consumer_offsets` offset of its record (after a replay: of its record's batch, which
   * orders records of different batches just as well, the only comparison made). When a
   * transaction commits, its offset replaces the committed one only if its record is the later
   * of the two (Kafka's rule, so that a compacted log materializes the same offset).
   */
  recordOffset: number;
}

/** What a group needs from its surroundings. */
export interface GroupEnv {
  initialRebalanceDelayMs: number;
  maxSize: number;
  /**
   * Writes the group's metadata record with these assignments; resolves once it may be
   * acknowledged (appended, and fsynced when the log's flush policy asks), rejects on failure.
   */
  storeGroup(group: Group, assignments: Map<string, Buffer>): Promise<void>;
  log: Logger;
}

type JoinCallback = (r: JoinResult) => void;
type SyncCallback = (r: SyncResult) => void;

const EMPTY = Buffer.alloc(0);

export class Member {
  assignment: Buffer = EMPTY;
  awaitingJoin: JoinCallback | undefined;
  awaitingSync: SyncCallback | undefined;
  /** Joined but not yet through a completed rebalance: its session timer is the 5-minute join timer. */
  isNew = false;
  timer: NodeJS.Timeout | undefined;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    public protocolType: string,
    public protocols: Protocol[],
  ) {}

  metadataFor(protocol: string | null): Buffer {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY;
  }

  /** Same protocols, same order, same bytes. */
  matches(protocols: Protocol[]): boolean {
    return protocols.length === this.protocols.length && protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata));
  }

  /** Kafka's MemberMetadata.hasSatisfiedHeartbeat without an explicit heartbeat: waiting in a rebalance counts. */
  get keptAliveByRebalance(): boolean {
    return !this.isNew && (this.awaitingJoin !== undefined || this.awaitingSync !== undefined);
  }
}

function joinError(memberId: string, errorCode: number): JoinResult {
  return { errorCode, memberId, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, members: [] };
}

function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

export class Group {
  state: GroupState = 'Empty';
  generationId = 0;
  /** Set by the first member; kept while the group is Empty. null: only ever used for offsets. */
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** When the group last changed state (ms): offsets of an Empty group expire counting from it. */
  currentStateTimestamp: number;
  readonly members = new Map<string, Member>();
  /** group.instance.id -> member id. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED that have not joined yet, with their expiry timers. */
  readonly pendingMembers = new Map<string, NodeJS.Timeout>();
  /** Members that got this generation's JoinGroup answer but have not sent SyncGroup. */
  readonly pendingSyncMembers = new Set<string>();
  /** Committed offsets: topic -> partition -> offset. */
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();
  /**
   * Offsets written by TxnOffsetCommit whose transaction has no marker yet: producer id -> topic
   * -> partition -> offset. Not visible to OffsetFetch; the COMMIT marker moves them into
   * `offsets`, the ABORT marker drops them (completeTxn).
   */
  readonly pendingTxnOffsets = new Map<number, Map<string, Map<number, CommittedOffset>>>();

  private joinTimer: NodeJS.Timeout | undefined;
  /** The running join timer is Kafka's InitialDelayedJoin: it completes only by expiring. */
  private initialJoin = false;
  /** A member was added to a new group during the initial delay: the delay restarts once. */
  private newMemberAdded = false;
  private syncTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly groupId: string,
    private readonly env: GroupEnv,
    now = Date.now(),
  ) {
    this.currentStateTimestamp = now;
  }

  // ------------------------------------------------------------------------------- queries

  is(state: GroupState): boolean {
    return this.state === state;
  }

  get size(): number {
    return this.members.size;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  /** Largest rebalance timeout among members: how long a rebalance may wait for rejoins. */
  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  get hasOffsets(): boolean {
    return this.offsets.size > 0;
  }

  /** Topics the members subscribe to under the selected protocol (consumer protocol only). */
  subscribedTopics(): Set<string> | undefined {
    if (this.protocolType !== 'consumer' || this.protocolName === null || this.members.size === 0) return undefined;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const t = subscribedTopics(m.metadataFor(this.protocolName));
      if (!t) return undefined;
      for (const name of t) topics.add(name);
    }
    return topics;
  }

  /** The record stored in __consumer_offsets for this group, with these assignments. */
  toRecord(assignments: Map<string, Buffer>): GroupMetadataValue {
    return {
      protocolType: this.protocolType ?? '',
      generation: this.generationId,
      protocol: this.protocolName,
      leader: this.leaderId,
      currentStateTimestamp: this.currentStateTimestamp,
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadataFor(this.protocolName),
        assignment: assignments.get(m.memberId) ?? EMPTY,
      })),
    };
  }

  /**
   * Restores a group from its latest metadata record (broker start). With members it is Stable in
   * its stored generation, each member's session timer running: members still alive keep
   * heartbeating and nothing rebalances; the others expire and the group rebalances without them.
   */
  load(v: GroupMetadataValue): void {
    this.protocolType = v.protocolType;
    this.generationId = v.generation;
    this.protocolName = v.protocol;
    this.leaderId = v.leader;
    this.currentStateTimestamp = v.currentStateTimestamp >= 0 ? v.currentStateTimestamp : Date.now();
    for (const m of v.members) {
      const member = new Member(m.memberId, m.groupInstanceId, m.clientId, m.clientHost, m.rebalanceTimeout, m.sessionTimeout, v.protocolType, [
        { name: v.protocol ?? '', metadata: m.subscription },
      ]);
      member.assignment = m.assignment;
      this.members.set(m.memberId, member);
      if (m.groupInstanceId !== null) this.staticMembers.set(m.groupInstanceId, m.memberId);
    }
    this.state = this.members.size > 0 ? 'Stable' : 'Empty';
    if (this.leaderId !== null && !this.members.has(this.leaderId)) this.leaderId = this.members.keys().next().value ?? null;
  }

  /** Starts the loaded members' session timers (after load()). */
  onLoaded(): void {
    for (const m of this.members.values()) this.scheduleHeartbeat(m, m.sessionTimeoutMs);
    if (this.members.size > this.env.maxSize) this.prepareRebalance('loaded group is over group.max.size');
  }

  // ------------------------------------------------------------------------------- JoinGroup

  /** JoinGroup, once the coordinator validated group id and session timeout. Calls back once. */
  join(req: JoinRequest, respond: JoinCallback): void {
    const isUnknownMember = req.memberId === '';
    if (!this.acceptJoiningMember(req.memberId)) {
      const existing = this.members.get(req.memberId);
      if (existing) this.removeMemberAndUpdateGroup(existing, 'group.max.size reached');
      respond(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
    } else if (isUnknownMember) {
      this.newMemberJoin(req, respond);
    } else {
      this.currentMemberJoin(req, respond);
    }
    if (this.is('PreparingRebalance')) this.tryCompleteJoin();
  }

  private acceptJoiningMember(memberId: string): boolean {
    switch (this.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance': {
        // Counting members already waiting (not all members) lets the last rejoiners be turned away
        // when group.max.size was lowered.
        const m = this.members.get(memberId);
        return (m !== undefined && m.awaitingJoin !== undefined) || this.numAwaitingJoin() < this.env.maxSize;
      }
      case 'CompletingRebalance':
      case 'Stable':
        return this.members.has(memberId) || this.members.size < this.env.maxSize;
    }
  }

  private numAwaitingJoin(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.awaitingJoin) n++;
    return n;
  }

  private newMemberJoin(req: JoinRequest, respond: JoinCallback): void {
    if (this.is('Dead')) return respond(joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!this.supportsProtocols(req.protocolType, req.protocols)) return respond(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    const newMemberId = `${req.clientId}-${randomUUID()}`;
    if (req.groupInstanceId !== null) {
      const oldMemberId = this.staticMembers.get(req.groupInstanceId);
      if (oldMemberId !== undefined) return this.replaceStaticMember(req, oldMemberId, newMemberId, respond);
      return this.addMemberAndRebalance(req, newMemberId, respond);
    }
    if (req.requireKnownMemberId) {
      // KIP-394: hand out the id first, so a client that times out and retries does not leave
      // members nobody will ever use behind.
      this.addPendingMember(newMemberId, req.sessionTimeoutMs);
      return respond(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    this.addMemberAndRebalance(req, newMemberId, respond);
  }

  private currentMemberJoin(req: JoinRequest, respond: JoinCallback): void {
    if (this.is('Dead')) return respond(joinError(req.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!this.supportsProtocols(req.protocolType, req.protocols)) return respond(joinError(req.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    if (this.pendingMembers.has(req.memberId)) {
      // A pending member is never static: static members get their id without the extra round trip.
      return this.addMemberAndRebalance({ ...req, groupInstanceId: null }, req.memberId, respond);
    }
    const error = this.validateCurrentMember(req.memberId, req.groupInstanceId);
    if (error !== ErrorCode.NONE) return respond(joinError(req.memberId, error));
    const member = this.members.get(req.memberId)!;
    switch (this.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(member, req, respond);
      case 'CompletingRebalance':
        // Same metadata: it probably missed our JoinGroup answer; give it again.
        if (member.matches(req.protocols)) return respond(this.joinResultFor(member, this.isLeader(member.memberId)));
        return this.updateMemberAndRebalance(member, req, respond);
      case 'Stable':
        // The leader rejoining forces a rebalance: it saw something (a topic's partition count)
        // that changes the assignment without changing any member's metadata.
        if (this.isLeader(member.memberId) || !member.matches(req.protocols)) return this.updateMemberAndRebalance(member, req, respond);
        return respond(this.joinResultFor(member, false));
      case 'Empty':
      case 'Dead':
        return respond(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private joinResultFor(member: Member, withMembers: boolean, leader = this.leaderId ?? '', skipAssignment = false): JoinResult {
    return {
      errorCode: ErrorCode.NONE,
      memberId: member.memberId,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader,
      skipAssignment,
      members: withMembers ? this.currentMemberMetadata() : [],
    };
  }

  private currentMemberMetadata(): JoinMember[] {
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadataFor(this.protocolName) }));
  }

  private addPendingMember(memberId: string, sessionTimeoutMs: number): void {
    const t = setTimeout(() => {
      if (!this.pendingMembers.has(memberId)) return;
      this.env.log.info(`group ${this.groupId}: pending member ${memberId} never joined; dropped after its session timeout`);
      this.removePendingMember(memberId);
    }, sessionTimeoutMs);
    t.unref();
    this.pendingMembers.set(memberId, t);
  }

  private removePendingMember(memberId: string): void {
    clearTimeout(this.pendingMembers.get(memberId));
    this.pendingMembers.delete(memberId);
    if (this.is('PreparingRebalance')) this.tryCompleteJoin();
  }

  private addMemberAndRebalance(req: JoinRequest, memberId: string, respond: JoinCallback): void {
    const member = new Member(memberId, req.groupInstanceId, req.clientId, req.clientHost, req.rebalanceTimeoutMs, req.sessionTimeoutMs, req.protocolType, req.protocols);
    member.isNew = true;
    if (this.is('PreparingRebalance') && this.generationId === 0) this.newMemberAdded = true;
    if (this.members.size === 0) this.protocolType = req.protocolType;
    const pending = this.pendingMembers.get(memberId);
    if (pending) {
      clearTimeout(pending);
      this.pendingMembers.delete(memberId);
    }
    this.members.set(memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, memberId);
    this.leaderId ??= memberId;
    member.awaitingJoin = respond;
    // Its session cannot run yet (it has no generation to heartbeat with), but a client that gave
    // up on this JoinGroup must not stay a member forever.
    this.scheduleHeartbeat(member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.maybePrepareRebalance(`member ${memberId} joined`);
  }

  private updateMember(member: Member, req: JoinRequest, respond: JoinCallback | undefined): void {
    member.protocols = req.protocols;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    if (respond) {
      // A second JoinGroup while one waits (a client that timed out and retried elsewhere): the
      // old request is answered now so its connection is not held up forever.
      member.awaitingJoin?.(joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
      member.awaitingJoin = respond;
    }
  }

  private updateMemberAndRebalance(member: Member, req: JoinRequest, respond: JoinCallback): void {
    this.updateMember(member, req, respond);
    this.maybePrepareRebalance(`member ${member.memberId} rejoined`);
  }

  private replaceStaticMember(req: JoinRequest, oldMemberId: string, newMemberId: string, respond: JoinCallback): void {
    const instanceId = req.groupInstanceId!;
    const oldLeader = this.leaderId;
    const member = this.members.get(oldMemberId)!;
    const before = { protocols: member.protocols, rebalanceTimeoutMs: member.rebalanceTimeoutMs, sessionTimeoutMs: member.sessionTimeoutMs };
    this.swapMemberId(member, instanceId, newMemberId);
    this.scheduleHeartbeat(member, req.sessionTimeoutMs);
    this.updateMember(member, req, respond);
    this.env.log.info(`group ${this.groupId}: static member ${instanceId} rejoined as ${newMemberId}, replacing ${oldMemberId}`);

    switch (this.state) {
      case 'Stable': {
        if (this.selectProtocol() !== this.protocolName) return this.maybePrepareRebalance(`static member ${instanceId} rejoined with other protocols`);
        // Nothing changes for anyone else: persist the new member id and let the member sync to
        // get its old assignment back, without a rebalance.
        const assignments = new Map([...this.members.values()].map((m) => [m.memberId, m.assignment]));
        const generation = this.generationId;
        this.env.storeGroup(this, assignments).then(
          () => {
            if (member.awaitingJoin !== respond) return;
            member.awaitingJoin = undefined;
            if (req.supportSkippingAssignment && this.isLeader(member.memberId)) {
              // v9+: the leader learns it leads (to watch metadata) but must not reassign.
              respond(this.joinResultFor(member, true, this.leaderId!, true));
            } else {
              // Older clients: tell it the old leader id, so a restarted leader does not run an
              // assignment that a Stable group would never hand out.
              respond(this.joinResultFor(member, false, oldLeader ?? ''));
            }
          },
          (e: Error) => {
            this.env.log.error(`group ${this.groupId}: storing static member ${instanceId}'s new id failed: ${e.message}`);
            if (member.awaitingJoin !== respond) return;
            member.awaitingJoin = undefined;
            if (this.generationId === generation && this.members.get(newMemberId) === member) {
              this.swapMemberId(member, instanceId, oldMemberId);
              Object.assign(member, before);
            }
            respond({ ...joinError('', ErrorCode.UNKNOWN_SERVER_ERROR), generationId: this.generationId, protocolType: this.protocolType, protocolName: this.protocolName, leader: oldLeader ?? '' });
          },
        );
        return;
      }
      case 'CompletingRebalance':
        // The leader may already be assigning to the old id: start over.
        return this.prepareRebalance(`static member ${instanceId} rejoined during CompletingRebalance`);
      case 'PreparingRebalance':
        return; // it now waits like everyone else
      case 'Empty':
      case 'Dead':
        throw new Error(`group ${this.groupId} is ${this.state} but has static member ${instanceId}`);
    }
  }

  /** Moves a static member to a new member id; whoever waits under the old id is fenced. */
  private swapMemberId(member: Member, instanceId: string, newMemberId: string): void {
    const oldMemberId = member.memberId;
    member.awaitingJoin?.(joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    member.awaitingJoin = undefined;
    member.awaitingSync?.(syncError(ErrorCode.FENCED_INSTANCE_ID));
    member.awaitingSync = undefined;
    // Rebuild the map so the member keeps its position (the leader's member list order).
    const entries = [...this.members.entries()].map(([id, m]): [string, Member] => (id === oldMemberId ? [newMemberId, m] : [id, m]));
    this.members.clear();
    for (const [id, m] of entries) this.members.set(id, m);
    member.memberId = newMemberId;
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    this.staticMembers.set(instanceId, newMemberId);
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
  }

  /** Kafka's rule: a first member needs a type and protocols; later ones the same type and a protocol every member supports. */
  private supportsProtocols(protocolType: string, protocols: Protocol[]): boolean {
    if (this.members.size === 0) return protocolType !== '' && protocols.length > 0;
    if (protocolType !== this.protocolType) return false;
    return protocols.some((p) => this.countSupporting(p.name) === this.members.size);
  }

  private countSupporting(name: string): number {
    let n = 0;
    for (const m of this.members.values()) if (m.protocols.some((p) => p.name === name)) n++;
    return n;
  }

  /** Among protocols every member supports, the one most members list first (ties: earliest listed). */
  selectProtocol(): string {
    const first = this.members.values().next().value;
    if (!first) throw new Error(`group ${this.groupId}: selectProtocol on a group without members`);
    const candidates = first.protocols.map((p) => p.name).filter((n) => this.countSupporting(n) === this.members.size);
    if (candidates.length === 0) throw new Error(`group ${this.groupId}: no protocol supported by every member`);
    const votes = new Map<string, number>(candidates.map((c) => [c, 0]));
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => votes.has(p.name))!.name;
      votes.set(choice, votes.get(choice)! + 1);
    }
    let best = candidates[0]!;
    for (const c of candidates) if (votes.get(c)! > votes.get(best)!) best = c;
    return best;
  }

  // ------------------------------------------------------------------------------- rebalance

  private canRebalance(): boolean {
    return this.state === 'Stable' || this.state === 'CompletingRebalance' || this.state === 'Empty';
  }

  private maybePrepareRebalance(reason: string): void {
    if (this.canRebalance()) this.prepareRebalance(reason);
  }

  private transitionTo(state: GroupState): void {
    this.state = state;
    this.currentStateTimestamp = Date.now();
  }

  /** Enters PreparingRebalance: members waiting in SyncGroup are told to rejoin, the join timer starts. */
  prepareRebalance(reason: string): void {
    if (this.is('CompletingRebalance')) this.resetAndPropagateAssignmentError(ErrorCode.REBALANCE_IN_PROGRESS);
    this.clearSyncTimer();
    clearTimeout(this.joinTimer);
    if (this.is('Empty')) {
      const delay = this.env.initialRebalanceDelayMs;
      this.startInitialJoinTimer(delay, Math.max(this.rebalanceTimeoutMs - delay, 0));
    } else {
      this.startJoinTimer(this.rebalanceTimeoutMs);
    }
    this.env.log.info(`group ${this.groupId}: preparing to rebalance from generation ${this.generationId} (${reason})`);
    this.transitionTo('PreparingRebalance');
    this.tryCompleteJoin();
  }

  private startJoinTimer(ms: number): void {
    this.initialJoin = false;
    this.joinTimer = setTimeout(() => this.completeJoin(), ms);
    this.joinTimer.unref();
  }

  private startInitialJoinTimer(delayMs: number, remainingMs: number): void {
    this.initialJoin = true;
    this.joinTimer = setTimeout(() => {
      if (this.newMemberAdded && remainingMs > 0) {
        this.newMemberAdded = false;
        const next = Math.min(this.env.initialRebalanceDelayMs, remainingMs);
        this.startInitialJoinTimer(next, Math.max(remainingMs - next, 0));
      } else {
        this.completeJoin();
      }
    }, delayMs);
    this.joinTimer.unref();
  }

  private hasAllMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const m of this.members.values()) if (!m.awaitingJoin) return false;
    return true;
  }

  private tryCompleteJoin(): void {
    if (this.is('PreparingRebalance') && !this.initialJoin && this.hasAllMembersJoined()) this.completeJoin();
  }

  /** The end of PreparingRebalance: by everyone rejoining, or by the join timer. */
  private completeJoin(): void {
    if (!this.is('PreparingRebalance')) return;
    clearTimeout(this.joinTimer);
    this.joinTimer = undefined;
    this.initialJoin = false;
    for (const m of [...this.members.values()]) {
      if (!m.awaitingJoin && m.groupInstanceId === null) {
        this.env.log.info(`group ${this.groupId}: removing member ${m.memberId}, which did not rejoin in time`);
        this.removeMember(m);
      }
    }
    if (!this.maybeElectNewJoinedLeader() && this.members.size > 0) {
      // Only static members that have not rejoined are left: wait for them (or their sessions).
      this.startJoinTimer(this.rebalanceTimeoutMs);
      return;
    }
    this.generationId++;
    if (this.members.size === 0) {
      this.protocolName = null;
      this.transitionTo('Empty');
      this.env.log.info(`group ${this.groupId}: generation ${this.generationId} is empty`);
      this.env.storeGroup(this, new Map()).catch((e: Error) => this.env.log.error(`group ${this.groupId}: storing the empty group failed: ${e.message}`));
      return;
    }
    this.protocolName = this.selectProtocol();
    this.transitionTo('CompletingRebalance');
    this.env.log.info(`group ${this.groupId}: generation ${this.generationId} with ${this.members.size} member(s), protocol ${this.protocolName}, leader ${this.leaderId}`);
    for (const m of this.members.values()) {
      const respond = m.awaitingJoin;
      m.awaitingJoin = undefined;
      respond?.(this.joinResultFor(m, this.isLeader(m.memberId)));
      this.scheduleHeartbeat(m, m.sessionTimeoutMs);
      m.isNew = false;
      this.pendingSyncMembers.add(m.memberId);
    }
    this.startSyncTimer();
  }

  private maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.awaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.awaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  private startSyncTimer(): void {
    clearTimeout(this.syncTimer);
    const generation = this.generationId;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      if (generation !== this.generationId || !(this.is('CompletingRebalance') || this.is('Stable'))) return;
      if (this.pendingSyncMembers.size === 0) return;
      const late = [...this.pendingSyncMembers];
      for (const id of late) {
        const m = this.members.get(id);
        if (m) this.removeMember(m);
      }
      this.pendingSyncMembers.clear();
      this.prepareRebalance(`members ${late.join(', ')} did not send SyncGroup in time`);
    }, this.rebalanceTimeoutMs);
    this.syncTimer.unref();
  }

  private clearSyncTimer(): void {
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    this.pendingSyncMembers.clear();
  }

  // ------------------------------------------------------------------------------- SyncGroup

  sync(req: SyncRequest, respond: SyncCallback): void {
    if (this.is('Dead')) return respond(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    let error = this.validateCurrentMember(req.memberId, req.groupInstanceId);
    if (error === ErrorCode.NONE && req.generationId !== this.generationId) error = ErrorCode.ILLEGAL_GENERATION;
    if (error === ErrorCode.NONE && req.protocolType !== null && req.protocolType !== this.protocolType) error = ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    if (error === ErrorCode.NONE && req.protocolName !== null && req.protocolName !== this.protocolName) error = ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    if (error !== ErrorCode.NONE) return respond(syncError(error));

    const member = this.members.get(req.memberId)!;
    switch (this.state) {
      case 'Empty':
        return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      case 'PreparingRebalance':
        return respond(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'Stable':
        this.pendingSyncMembers.delete(member.memberId);
        respond({ errorCode: ErrorCode.NONE, protocolType: this.protocolType, protocolName: this.protocolName, assignment: member.assignment });
        this.scheduleHeartbeat(member, member.sessionTimeoutMs);
        return;
      case 'CompletingRebalance': {
        member.awaitingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        member.awaitingSync = respond;
        this.pendingSyncMembers.delete(member.memberId);
        if (!this.isLeader(member.memberId)) return;
        // Members the leader left out get an empty assignment, as in Kafka.
        const given = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
        const assignments = new Map([...this.members.keys()].map((id) => [id, given.get(id) ?? EMPTY]));
        const generation = this.generationId;
        this.env.storeGroup(this, assignments).then(
          () => {
            if (!this.is('CompletingRebalance') || this.generationId !== generation) return;
            for (const m of this.members.values()) m.assignment = assignments.get(m.memberId) ?? EMPTY;
            this.transitionTo('Stable');
            this.propagateAssignment(ErrorCode.NONE);
          },
          (e: Error) => {
            this.env.log.error(`group ${this.groupId}: storing the assignment of generation ${generation} failed: ${e.message}`);
            if (!this.is('CompletingRebalance') || this.generationId !== generation) return;
            this.resetAndPropagateAssignmentError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
            this.maybePrepareRebalance('storing the assignment failed');
          },
        );
        return;
      }
      case 'Dead':
        return respond(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
  }

  private resetAndPropagateAssignmentError(errorCode: number): void {
    for (const m of this.members.values()) m.assignment = EMPTY;
    this.propagateAssignment(errorCode);
  }

  private propagateAssignment(errorCode: number): void {
    for (const m of this.members.values()) {
      const respond = m.awaitingSync;
      if (!respond) continue;
      m.awaitingSync = undefined;
      respond(
        errorCode === ErrorCode.NONE
          ? { errorCode, protocolType: this.protocolType, protocolName: this.protocolName, assignment: m.assignment }
          : syncError(errorCode),
      );
      // Its session may have lapsed while it waited on the leader: start it afresh.
      this.scheduleHeartbeat(m, m.sessionTimeoutMs);
    }
  }

  // ------------------------------------------------------------------------------- Heartbeat

  heartbeat(memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (this.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const error = this.validateCurrentMember(memberId, groupInstanceId);
    if (error !== ErrorCode.NONE) return error;
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (this.is('Empty')) return ErrorCode.UNKNOWN_MEMBER_ID;
    const member = this.members.get(memberId)!;
    this.scheduleHeartbeat(member, member.sessionTimeoutMs);
    return this.is('PreparingRebalance') ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  /** Resets a member's session (heartbeats, and offset commits from members, count). */
  touch(memberId: string): void {
    const m = this.members.get(memberId);
    if (m) this.scheduleHeartbeat(m, m.sessionTimeoutMs);
  }

  private scheduleHeartbeat(member: Member, timeoutMs: number): void {
    clearTimeout(member.timer);
    member.timer = setTimeout(() => this.onSessionExpired(member), timeoutMs);
    member.timer.unref();
  }

  private onSessionExpired(member: Member): void {
    member.timer = undefined;
    if (this.is('Dead') || this.members.get(member.memberId) !== member) return;
    // Waiting in a rebalance keeps a member alive; its timer restarts when the wait ends.
    if (member.keptAliveByRebalance) return;
    this.env.log.info(`group ${this.groupId}: member ${member.memberId} session expired (${member.isNew ? 'never completed its first join' : `${member.sessionTimeoutMs} ms without a heartbeat`})`);
    this.removeMemberAndUpdateGroup(member, `member ${member.memberId} expired`);
  }

  /** FENCED_INSTANCE_ID / UNKNOWN_MEMBER_ID checks shared by every member request (Kafka's validateCurrentMember). */
  validateCurrentMember(memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const current = this.staticMembers.get(groupInstanceId);
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    return this.members.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  // ------------------------------------------------------------------------------- LeaveGroup

  /** Per-member error codes, in request order. */
  leave(leaving: LeavingMember[]): number[] {
    if (this.is('Dead')) return leaving.map(() => ErrorCode.COORDINATOR_NOT_AVAILABLE);
    return leaving.map(({ memberId, groupInstanceId }) => {
      if (memberId === '') {
        // Administrative removal by instance id (kafka-consumer-groups --delete-members... ).
        const current = groupInstanceId === null ? undefined : this.staticMembers.get(groupInstanceId);
        if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
        this.removeMemberAndUpdateGroup(this.members.get(current)!, `static member ${groupInstanceId} left`);
        return ErrorCode.NONE;
      }
      if (this.pendingMembers.has(memberId)) {
        this.removePendingMember(memberId);
        return ErrorCode.NONE;
      }
      const error = this.validateCurrentMember(memberId, groupInstanceId);
      if (error !== ErrorCode.NONE) return error;
      this.removeMemberAndUpdateGroup(this.members.get(memberId)!, `member ${memberId} left`);
      return ErrorCode.NONE;
    });
  }

  private removeMember(member: Member): void {
    clearTimeout(member.timer);
    member.timer = undefined;
    // Whoever still waits on the removed member's behalf learns it is gone (and rejoins if alive).
    member.awaitingJoin?.(joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
    member.awaitingJoin = undefined;
    member.awaitingSync?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    member.awaitingSync = undefined;
    this.members.delete(member.memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === member.memberId) this.staticMembers.delete(member.groupInstanceId);
    this.pendingSyncMembers.delete(member.memberId);
    if (this.leaderId === member.memberId) this.leaderId = this.members.keys().next().value ?? null;
  }

  private removeMemberAndUpdateGroup(member: Member, reason: string): void {
    this.removeMember(member);
    switch (this.state) {
      case 'Stable':
      case 'CompletingRebalance':
        return this.maybePrepareRebalance(reason);
      case 'PreparingRebalance':
        return this.tryCompleteJoin();
      case 'Empty':
      case 'Dead':
        return;
    }
  }

  // ------------------------------------------------------------------------------- offsets

  /**
   * Whether these member fields may commit offsets (Kafka's validateOffsetCommit): a standalone
   * consumer (generation < 0, no member) only while the group is Empty; members of the current
   * generation otherwise, except during CompletingRebalance.
   *
   * `transactional` (TxnOffsetCommit): no member fields at all (v0-2 cannot send them; v3+ may
   * send generation -1 and no member) passes in any state, and the group's state is not
   * enforced; member fields that are sent are checked as for OffsetCommit (KIP-447 fencing).
   */
  validateOffsetCommit(generationId: number, memberId: string, groupInstanceId: string | null, transactional = false): number {
    if (this.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (generationId < 0 && this.is('Empty')) return ErrorCode.NONE;
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      const error = this.validateCurrentMember(memberId, groupInstanceId);
      if (error !== ErrorCode.NONE) return error;
      if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!transactional && !this.is('Empty')) {
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (!transactional && this.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  getOffset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  setOffset(topic: string, partition: number, o: CommittedOffset): void {
    let byPartition = this.offsets.get(topic);
    if (!byPartition) this.offsets.set(topic, (byPartition = new Map()));
    byPartition.set(partition, o);
  }

  removeOffset(topic: string, partition: number): boolean {
    const byPartition = this.offsets.get(topic);
    if (!byPartition?.delete(partition)) return false;
    if (byPartition.size === 0) this.offsets.delete(topic);
    return true;
  }

  // --------------------------------------------------------------- transactional offsets

  /** TxnOffsetCommit (and its replay): held for producer `producerId` until its marker. */
  setPendingOffset(producerId: number, topic: string, partition: number, o: CommittedOffset): void {
    let byTopic = this.pendingTxnOffsets.get(producerId);
    if (!byTopic) this.pendingTxnOffsets.set(producerId, (byTopic = new Map()));
    let byPartition = byTopic.get(topic);
    if (!byPartition) byTopic.set(topic, (byPartition = new Map()));
    byPartition.set(partition, o);
  }

  getPendingOffset(producerId: number, topic: string, partition: number): CommittedOffset | undefined {
    return this.pendingTxnOffsets.get(producerId)?.get(topic)?.get(partition);
  }

  /** Takes back one pending offset (its write failed); true if it was there. */
  removePendingOffset(producerId: number, topic: string, partition: number): boolean {
    const byTopic = this.pendingTxnOffsets.get(producerId);
    const byPartition = byTopic?.get(topic);
    if (!byTopic || !byPartition?.delete(partition)) return false;
    if (byPartition.size === 0) byTopic.delete(topic);
    if (byTopic.size === 0) this.pendingTxnOffsets.delete(producerId);
    return true;
  }

  /** Whether some open transaction holds an offset for this partition (OffsetFetch require_stable). */
  hasPendingOffset(topic: string, partition: number): boolean {
    for (const byTopic of this.pendingTxnOffsets.values()) if (byTopic.get(topic)?.has(partition)) return true;
    return false;
  }

  /** Whether a transaction with offsets of this group is open (the group is not expired meanwhile). */
  get hasOpenTransactions(): boolean {
    return this.pendingTxnOffsets.size > 0;
  }

  /** Every partition with a pending offset, once each. */
  pendingPartitions(): { topic: string; partition: number }[] {
    const seen = new Map<string, { topic: string; partition: number }>();
    for (const byTopic of this.pendingTxnOffsets.values()) {
      for (const [topic, byPartition] of byTopic) for (const partition of byPartition.keys()) seen.set(`${topic}\0${partition}`, { topic, partition });
    }
    return [...seen.values()];
  }

  /**
   * A tombstone for this partition (OffsetDelete, DeleteGroups, a deleted topic): the committed
   * offset and every open transaction's offset for it go (Kafka's replay of a tombstone), so a
   * later COMMIT does not bring a deleted offset back. True if anything was there.
   */
  deleteOffset(topic: string, partition: number): boolean {
    let removed = this.removeOffset(topic, partition);
    for (const producerId of [...this.pendingTxnOffsets.keys()]) removed = this.removePendingOffset(producerId, topic, partition) || removed;
    return removed;
  }

  /**
   * The marker of producer `producerId`'s transaction: COMMIT applies its pending offsets, each
   * only where its record is later than the committed one's; ABORT drops them. Returns how many
   * offsets it applied.
   */
  completeTxn(producerId: number, commit: boolean): number {
    const byTopic = this.pendingTxnOffsets.get(producerId);
    if (!byTopic) return 0;
    this.pendingTxnOffsets.delete(producerId);
    if (!commit) return 0;
    let applied = 0;
    for (const [topic, byPartition] of byTopic) {
      for (const [partition, o] of byPartition) {
        const existing = this.getOffset(topic, partition);
        if (existing && existing.recordOffset >= o.recordOffset) continue;
        this.setOffset(topic, partition, o);
        applied++;
      }
    }
    return applied;
  }

  /**
   * Offsets that have outlived `retentionMs` at `now` (Kafka's rules, KIP-211): in an Empty group
   * all of them, counting from when it became Empty; in a Stable consumer group those of topics no
   * member subscribes to, counting from the commit; in a standalone group (never had members)
   * each from its commit. An explicit expire timestamp (OffsetCommit v2-4) wins. A partition
   * with a pending transactional offset does not expire until the transaction ends.
   */
  expiredOffsets(now: number, retentionMs: number): { topic: string; partition: number }[] {
    let base: ((o: CommittedOffset) => number) | undefined;
    let keep = new Set<string>();
    if (this.protocolType === null) {
      base = (o) => o.commitTimestamp;
    } else if (this.is('Empty')) {
      base = () => this.currentStateTimestamp;
    } else if (this.is('Stable') && this.protocolType === 'consumer') {
      const subscribed = this.subscribedTopics();
      if (subscribed) {
        base = (o) => o.commitTimestamp;
        keep = subscribed;
      }
    }
    if (!base) return [];
    const out: { topic: string; partition: number }[] = [];
    for (const [topic, byPartition] of this.offsets) {
      if (keep.has(topic)) continue;
      for (const [partition, o] of byPartition) {
        if (this.hasPendingOffset(topic, partition)) continue;
        const expired = o.expireTimestamp !== null ? now >= o.expireTimestamp : now - base(o) >= retentionMs;
        if (expired) out.push({ topic, partition });
      }
    }
    return out;
  }

  // ------------------------------------------------------------------------------- ending

  /** DeleteGroups, expiry: the group is gone. Only Empty groups are deleted. */
  markDead(): void {
    this.shutdown(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  }

  /**
   * Stops every timer and answers every waiting request with `errorCode` (NOT_COORDINATOR at
   * broker shutdown: clients look for the coordinator again). The group is Dead afterwards.
   */
  shutdown(errorCode: number = ErrorCode.NOT_COORDINATOR): void {
    clearTimeout(this.joinTimer);
    this.joinTimer = undefined;
    this.clearSyncTimer();
    for (const t of this.pendingMembers.values()) clearTimeout(t);
    this.pendingMembers.clear();
    for (const m of this.members.values()) {
      clearTimeout(m.timer);
      m.timer = undefined;
      m.awaitingJoin?.(joinError(m.memberId, errorCode));
      m.awaitingJoin = undefined;
      m.awaitingSync?.(syncError(errorCode));
      m.awaitingSync = undefined;
    }
    this.state = 'Dead';
  }
}
