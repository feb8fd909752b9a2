/**
 * The group coordinator: every consumer group and its committed offsets. This broker coordinates
 * every group (one node); which `__consumer_offsets` partition holds a group follows Kafka's rule
 * so the data directory means to Kafka's tools what it means to Brook.
 *
 * Responsibilities, by layer:
 * - here: group lookup and creation, what Kafka validates before a group is involved (group id,
 *   session timeout bounds, unknown topics), offsets (commit, fetch, delete, expiry), describe,
 *   list, delete, and persistence of everything through the OffsetStore;
 * - group.ts: the rebalance state machine of one group;
 * - handlers/*: wire versions to and from these calls.
 *
 * Persistence (records.ts has the formats): offset commits and deletions, group metadata after
 * each completed rebalance (the leader's SyncGroup, a static member's new id, a group turning
 * Empty), and tombstones for deleted groups, deleted offsets and expired offsets. Commits are
 * acknowledged only after the append (and fsync when the flush policy asks).
 *
 * At start every record is replayed. A group comes back in its stored generation: Stable with its
 * members when it had some (their sessions run from the start; members still alive keep
 * heartbeating, the rest expire and the group rebalances without them, as in Kafka), otherwise
 * Empty. Groups with offsets but no metadata record (standalone consumers) come back Empty.
 *
 * Expiry (`offsets.retention.minutes`, checked every `offsets.retention.check.interval.ms`, Kafka's
 * default 10 minutes): see Group.expiredOffsets; expired offsets get tombstones, and an Empty group
 * left without offsets is removed (with a tombstone for its metadata).
 */
import { toErrorCode } from '../broker/errors.js';
import type { BrokerConfig } from '../config.js';
import type { Logger } from '../util/logger.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { Group, type CommittedOffset, type GroupEnv, type GroupState, type JoinRequest, type JoinResult, type LeavingMember, type SyncRequest, type SyncResult } from './group.js';
import { OffsetStore, type OffsetStoreHost, type StoredRecord } from './offset-store.js';
import {
  decodeGroupMetadataValue,
  decodeKey,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  OFFSETS_TOPIC,
  partitionFor,
  RecordType,
  type GroupMetadataValue,
} from './records.js';

/** Kafka's offset.metadata.max.bytes default (checked, like Kafka, on the string's length). */
export const OFFSET_METADATA_MAX = 4096;
export interface CoordinatorOptions {
  /** How often offsets are checked for expiry (default offsets.retention.check.interval.ms). */
  expiryCheckIntervalMs?: number;
}

export interface PartitionCommit {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  committedMetadata: string | null;
}

export interface CommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** OffsetCommit v2-4; -1 = offsets.retention.minutes. */
  retentionTimeMs: number;
  topics: { name: string; partitions: PartitionCommit[] }[];
}

export interface TopicPartitionCodes {
  name: string;
  partitions: { partitionIndex: number; errorCode: number }[];
}

export interface FetchedOffset {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface GroupFetchResult {
  errorCode: number;
  topics: { name: string; partitions: FetchedOffset[] }[];
}

export interface GroupSummary {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

/**
 * What the coordinator needs of the broker (broker.ts passes itself): the group and offset
 * settings, the topics (commits to unknown partitions are refused; the store keeps its own topic),
 * and the log.
 */
export interface CoordinatorHost extends OffsetStoreHost {
  readonly config: Pick<
    BrokerConfig,
    | 'offsetsTopicNumPartitions'
    | 'offsetsRetentionMinutes'
    | 'offsetsRetentionCheckIntervalMs'
    | 'groupInitialRebalanceDelayMs'
    | 'groupMaxSize'
    | 'groupMinSessionTimeoutMs'
    | 'groupMaxSessionTimeoutMs'
  >;
  readonly log: Logger;
}

const EMPTY = Buffer.alloc(0);

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly store: OffsetStore;
  private readonly env: GroupEnv;
  private expiryTimer: NodeJS.Timeout | undefined;
  private active = true;

  constructor(
    private readonly broker: CoordinatorHost,
    opts: CoordinatorOptions = {},
  ) {
    const cfg = broker.config;
    this.store = new OffsetStore(broker, broker.log);
    this.env = {
      initialRebalanceDelayMs: cfg.groupInitialRebalanceDelayMs,
      maxSize: cfg.groupMaxSize,
      storeGroup: (group, assignments) => this.storeGroup(group, assignments),
      log: broker.log,
    };
    this.load();
    this.expiryTimer = setInterval(() => void this.expireOffsets().catch((e: Error) => broker.log.error(`offset expiry failed: ${e.message}`)), opts.expiryCheckIntervalMs ?? broker.config.offsetsRetentionCheckIntervalMs);
    this.expiryTimer.unref();
  }

  get offsetsPartitions(): number {
    return this.store.partitions;
  }

  partitionFor(groupId: string): number {
    return partitionFor(groupId, this.store.partitions);
  }

  group(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  private get retentionMs(): number {
    return this.broker.config.offsetsRetentionMinutes * 60_000;
  }

  // ------------------------------------------------------------------------------- loading

  private load(): void {
    const metadata = new Map<string, GroupMetadataValue | null>();
    const offsets = new Map<string, Map<string, { topic: string; partition: number; value: CommittedOffset }>>();
    let bad = 0;
    const records = this.store.replay((_p, keyBuf, valueBuf) => {
      try {
        const key = decodeKey(keyBuf);
        if (key.type === RecordType.GroupMetadata) {
          metadata.set(key.group, valueBuf === null ? null : decodeGroupMetadataValue(valueBuf));
          return;
        }
        let byGroup = offsets.get(key.group);
        if (!byGroup) offsets.set(key.group, (byGroup = new Map()));
        const tp = `${key.topic}\0${key.partition}`;
        if (valueBuf === null) {
          byGroup.delete(tp);
          return;
        }
        byGroup.set(tp, { topic: key.topic, partition: key.partition, value: decodeOffsetCommitValue(valueBuf) });
      } catch (e) {
        bad++;
        if (bad <= 10) this.broker.log.warn(`${OFFSETS_TOPIC}: skipping an unreadable record: ${(e as Error).message}`);
      }
    });
    for (const [groupId, meta] of metadata) {
      if (meta === null) continue;
      const group = new Group(groupId, this.env);
      group.load(meta);
      this.groups.set(groupId, group);
    }
    for (const [groupId, byGroup] of offsets) {
      if (byGroup.size === 0) continue;
      let group = this.groups.get(groupId);
      if (!group) this.groups.set(groupId, (group = new Group(groupId, this.env)));
      for (const o of byGroup.values()) group.setOffset(o.topic, o.partition, o.value);
    }
    for (const g of this.groups.values()) g.onLoaded();
    if (records > 0) this.broker.log.info(`loaded ${this.groups.size} group(s) from ${records} record(s) of ${OFFSETS_TOPIC}`);
  }

  // ------------------------------------------------------------------------------- persistence

  private storeGroup(group: Group, assignments: Map<string, Buffer>): Promise<void> {
    const record = { key: encodeGroupMetadataKey(group.groupId), value: encodeGroupMetadataValue(group.toRecord(assignments)) };
    return this.store.write(this.partitionFor(group.groupId), [record]);
  }

  private tombstones(groupId: string, partitions: { topic: string; partition: number }[], withGroup: boolean): StoredRecord[] {
    const records: StoredRecord[] = partitions.map((tp) => ({ key: encodeOffsetCommitKey(groupId, tp.topic, tp.partition), value: null }));
    if (withGroup) records.push({ key: encodeGroupMetadataKey(groupId), value: null });
    return records;
  }

  // ------------------------------------------------------------------------------- membership

  /** Kafka's isValidGroupId for the membership APIs: a non-empty id. */
  private membershipError(groupId: string): number {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return ErrorCode.NONE;
  }

  joinGroup(groupId: string, req: JoinRequest): JoinResult | Promise<JoinResult> {
    const fail = (errorCode: number): JoinResult => ({ errorCode, memberId: req.memberId, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, members: [] });
    const error = this.membershipError(groupId);
    if (error !== ErrorCode.NONE) return fail(error);
    const cfg = this.broker.config;
    if (req.sessionTimeoutMs < cfg.groupMinSessionTimeoutMs || req.sessionTimeoutMs > cfg.groupMaxSessionTimeoutMs) return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    let group = this.groups.get(groupId);
    if (!group) {
      // Only a member without an id creates a group; a known id for an unknown group is stale.
      if (req.memberId !== '') return fail(ErrorCode.UNKNOWN_MEMBER_ID);
      group = new Group(groupId, this.env);
      this.groups.set(groupId, group);
    }
    return nowOrLater<JoinResult>((done) => group.join(req, done));
  }

  syncGroup(groupId: string, req: SyncRequest): SyncResult | Promise<SyncResult> {
    const fail = (errorCode: number): SyncResult => ({ errorCode, protocolType: null, protocolName: null, assignment: EMPTY });
    const error = this.membershipError(groupId);
    if (error !== ErrorCode.NONE) return fail(error);
    const group = this.groups.get(groupId);
    if (!group) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    return nowOrLater<SyncResult>((done) => group.sync(req, done));
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const error = this.membershipError(groupId);
    if (error !== ErrorCode.NONE) return error;
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    return group.heartbeat(memberId, groupInstanceId, generationId);
  }

  /** Top-level error and per-member errors (in request order). */
  leaveGroup(groupId: string, members: LeavingMember[]): { errorCode: number; members: number[] } {
    const error = this.membershipError(groupId);
    if (error !== ErrorCode.NONE) return { errorCode: error, members: [] };
    const group = this.groups.get(groupId);
    if (!group) return { errorCode: ErrorCode.NONE, members: members.map(() => ErrorCode.UNKNOWN_MEMBER_ID) };
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    return { errorCode: ErrorCode.NONE, members: group.leave(members) };
  }

  // ------------------------------------------------------------------------------- offsets

  /**
   * OffsetCommit. Per partition, in Kafka's order: an unknown topic or partition is
   * UNKNOWN_TOPIC_OR_PARTITION; the group's verdict (generation, member, state) applies to the
   * rest; then metadata over 4096 characters is OFFSET_METADATA_TOO_LARGE. The others are stored
   * together in one append and acknowledged once stored.
   */
  async commitOffsets(req: CommitRequest): Promise<TopicPartitionCodes[]> {
    const codes = new Map<string, Map<number, number>>();
    const setCode = (topic: string, partition: number, code: number) => {
      let m = codes.get(topic);
      if (!m) codes.set(topic, (m = new Map()));
      m.set(partition, code);
    };
    const answer = (): TopicPartitionCodes[] =>
      req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: codes.get(t.name)?.get(p.partitionIndex) ?? ErrorCode.NONE })) }));

    const valid: { topic: string; p: PartitionCommit }[] = [];
    for (const t of req.topics) {
      for (const p of t.partitions) {
        if (!this.broker.topics.partition(t.name, p.partitionIndex)) setCode(t.name, p.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        else valid.push({ topic: t.name, p });
      }
    }
    if (valid.length === 0) return answer();
    const failAll = (code: number) => {
      for (const v of valid) setCode(v.topic, v.p.partitionIndex, code);
      return answer();
    };
    if (!this.active) return failAll(ErrorCode.COORDINATOR_NOT_AVAILABLE);

    let group = this.groups.get(req.groupId);
    if (!group) {
      // No group: a standalone consumer (generation -1) creates one; anything else is stale.
      if (req.generationId >= 0) return failAll(ErrorCode.ILLEGAL_GENERATION);
      group = new Group(req.groupId, this.env);
      this.groups.set(req.groupId, group);
    }
    const verdict = group.validateOffsetCommit(req.generationId, req.memberId, req.groupInstanceId);
    if (verdict !== ErrorCode.NONE) return failAll(verdict);
    // During PreparingRebalance commits are still accepted; the heartbeat answer tells the member to rejoin.
    if (!group.is('Empty')) group.touch(req.memberId);

    const now = Date.now();
    const expireTimestamp = req.retentionTimeMs >= 0 ? now + req.retentionTimeMs : null;
    const records: StoredRecord[] = [];
    const accepted: { topic: string; partition: number; value: CommittedOffset }[] = [];
    for (const { topic, p } of valid) {
      const metadata = p.committedMetadata ?? '';
      if (metadata.length > OFFSET_METADATA_MAX) {
        setCode(topic, p.partitionIndex, ErrorCode.OFFSET_METADATA_TOO_LARGE);
        continue;
      }
      const value: CommittedOffset = { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata, commitTimestamp: now, expireTimestamp };
      accepted.push({ topic, partition: p.partitionIndex, value });
      records.push({ key: encodeOffsetCommitKey(req.groupId, topic, p.partitionIndex), value: encodeOffsetCommitValue(value) });
    }
    if (records.length === 0) return answer();

    try {
      // Written and visible when append returns; the in-memory view follows at once, so commits
      // pipelined on one connection apply in order. The answer waits for durability.
      const durable = this.store.append(this.partitionFor(req.groupId), records, now);
      for (const a of accepted) group.setOffset(a.topic, a.partition, a.value);
      await durable;
    } catch (e) {
      const code = commitStoreError(e, this.broker.log);
      for (const a of accepted) setCode(a.topic, a.partition, code);
    }
    return answer();
  }

  /** OffsetFetch for one group: null topics = every committed offset of the group (v2+). */
  fetchOffsets(groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null): GroupFetchResult {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, topics: [] };
    const group = this.groups.get(groupId);
    const entry = (partitionIndex: number, o: CommittedOffset | undefined): FetchedOffset =>
      o
        ? { partitionIndex, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE }
        : { partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE };
    if (topics === null) {
      const all = group ? [...group.offsets].map(([name, byPartition]) => ({ name, partitions: [...byPartition].map(([p, o]) => entry(p, o)) })) : [];
      return { errorCode: ErrorCode.NONE, topics: all };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => entry(p, group?.getOffset(t.name, p))) })),
    };
  }

  /** OffsetDelete: a group-level error, or per-partition errors. */
  async deleteOffsets(groupId: string, topics: { name: string; partitions: number[] }[]): Promise<{ errorCode: number; topics: TopicPartitionCodes[] }> {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, topics: [] };
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, topics: [] };
    const group = this.groups.get(groupId);
    if (!group || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    let subscribed = new Set<string>();
    if (!group.is('Empty')) {
      const s = group.protocolType === 'consumer' ? group.subscribedTopics() : undefined;
      if (!s) return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
      subscribed = s;
    }
    const deleted: { topic: string; partition: number }[] = [];
    const result = topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        if (!this.broker.topics.partition(t.name, p)) return { partitionIndex: p, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        if (subscribed.has(t.name)) return { partitionIndex: p, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
        if (group.removeOffset(t.name, p)) deleted.push({ topic: t.name, partition: p });
        return { partitionIndex: p, errorCode: ErrorCode.NONE };
      }),
    }));
    if (deleted.length > 0) {
      try {
        await this.store.write(this.partitionFor(groupId), this.tombstones(groupId, deleted, false));
      } catch (e) {
        return { errorCode: toErrorCode(e, this.broker.log).errorCode, topics: [] };
      }
    }
    return { errorCode: ErrorCode.NONE, topics: result };
  }

  // ------------------------------------------------------------------------------- admin

  describeGroup(groupId: string): GroupSummary {
    const base = { groupId, protocolType: '', protocolData: '', members: [] };
    if (!this.active) return { ...base, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groupState: '' };
    const group = this.groups.get(groupId);
    if (!group) return { ...base, errorCode: ErrorCode.NONE, groupState: 'Dead' };
    const stable = group.is('Stable');
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      // Metadata and assignments only mean something once the group is Stable (Kafka's summary).
      protocolData: stable ? (group.protocolName ?? '') : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadataFor(group.protocolName) : EMPTY,
        memberAssignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  /** ListGroups; `states` (v4) filters case-insensitively, empty = all. */
  listGroups(states: string[] = []): { errorCode: number; groups: { groupId: string; protocolType: string; groupState: GroupState }[] } {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const wanted = new Set(states.map((s) => s.toLowerCase()));
    const groups = [...this.groups.values()]
      .filter((g) => wanted.size === 0 || wanted.has(g.state.toLowerCase()))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state }));
    return { errorCode: ErrorCode.NONE, groups };
  }

  /** DeleteGroups: only Empty groups go; their metadata and offsets get tombstones. */
  async deleteGroups(groupIds: string[]): Promise<{ groupId: string; errorCode: number }[]> {
    const doomed: Group[] = [];
    const codes = new Map<string, number>();
    for (const id of groupIds) {
      if (!this.active) {
        codes.set(id, ErrorCode.COORDINATOR_NOT_AVAILABLE);
        continue;
      }
      const group = this.groups.get(id);
      if (!group || group.is('Dead')) codes.set(id, ErrorCode.GROUP_ID_NOT_FOUND);
      else if (!group.is('Empty')) codes.set(id, ErrorCode.NON_EMPTY_GROUP);
      else {
        doomed.push(group);
        codes.set(id, ErrorCode.NONE);
      }
    }
    await Promise.all(
      doomed.map(async (group) => {
        const partitions = [...group.offsets].flatMap(([topic, byPartition]) => [...byPartition.keys()].map((partition) => ({ topic, partition })));
        group.markDead();
        this.groups.delete(group.groupId);
        try {
          await this.store.write(this.partitionFor(group.groupId), this.tombstones(group.groupId, partitions, true));
        } catch (e) {
          codes.set(group.groupId, toErrorCode(e, this.broker.log).errorCode);
        }
      }),
    );
    return groupIds.map((groupId) => ({ groupId, errorCode: codes.get(groupId)! }));
  }

  /**
   * Removes offsets past retention (tombstones) and Empty groups left with no offsets. Runs on a
   * timer; exported for tests, which pass a future `now`.
   */
  async expireOffsets(now = Date.now()): Promise<number> {
    if (!this.active) return 0;
    const writes: Promise<void>[] = [];
    let removed = 0;
    for (const group of [...this.groups.values()]) {
      const expired = group.expiredOffsets(now, this.retentionMs);
      for (const tp of expired) group.removeOffset(tp.topic, tp.partition);
      removed += expired.length;
      const dropGroup = group.is('Empty') && !group.hasOffsets;
      if (dropGroup) {
        group.markDead();
        this.groups.delete(group.groupId);
      }
      // A group never stored (generation 0) has no metadata record to delete.
      const records = this.tombstones(group.groupId, expired, dropGroup && group.generationId > 0);
      if (records.length > 0) writes.push(this.store.write(this.partitionFor(group.groupId), records));
    }
    await Promise.all(writes);
    if (removed > 0) this.broker.log.info(`expired ${removed} committed offset(s)`);
    return removed;
  }

  /** A topic was deleted: its committed offsets go too (Kafka's handleDeletedPartitions). */
  async onTopicDeleted(topic: string): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const group of this.groups.values()) {
      const byPartition = group.offsets.get(topic);
      if (!byPartition) continue;
      const partitions = [...byPartition.keys()].map((partition) => ({ topic, partition }));
      for (const tp of partitions) group.removeOffset(tp.topic, tp.partition);
      writes.push(this.store.write(this.partitionFor(group.groupId), this.tombstones(group.groupId, partitions, false)));
    }
    await Promise.all(writes);
  }

  // ------------------------------------------------------------------------------- lifecycle

  /**
   * Stops coordinating: timers stop and requests waiting in JoinGroup/SyncGroup are answered with
   * NOT_COORDINATOR, so a broker shutdown does not wait on them. Idempotent.
   */
  shutdown(): void {
    if (!this.active) return;
    this.active = false;
    clearInterval(this.expiryTimer);
    for (const g of this.groups.values()) g.shutdown(ErrorCode.NOT_COORDINATOR);
  }

  close(): void {
    this.shutdown();
  }
}

/**
 * Runs `start`, which answers through the callback it is given either before it returns (a group
 * that can answer at once) or later (a rebalance in progress): the answer itself in the first
 * case, so the request is not delayed by a microtask, else a Promise of it.
 */
function nowOrLater<T>(start: (done: (result: T) => void) => void): T | Promise<T> {
  let answered = false;
  let answer: T | undefined;
  let resolve: ((result: T) => void) | undefined;
  start((result) => {
    if (resolve) return resolve(result);
    answered = true;
    answer = result;
  });
  if (answered) return answer as T;
  return new Promise((r) => (resolve = r));
}

/** Kafka's maybeConvertOffsetCommitError: storage failures become codes clients know to retry. */
function commitStoreError(e: unknown, log: Logger): number {
  const { errorCode } = toErrorCode(e, log);
  if (errorCode === ErrorCode.MESSAGE_TOO_LARGE) return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
  if (errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE || errorCode === ErrorCode.NOT_COORDINATOR) return errorCode;
  return ErrorCode.COORDINATOR_NOT_AVAILABLE;
}
