/**
 * The group coordinator: every consumer group and its committed offsets. A single node coordinates
 * every group; which `__consumer_offsets` partition holds a group follows Kafka's rule so the data
 * directory means to Kafka's tools what it means to Brook.
 *
 * In a cluster (`broker.cluster` set), Kafka's way: the coordinator of a group is the leader of the
 * group's `__consumer_offsets` partition, a replicated topic etcd holds. The first FindCoordinator
 * creates that topic through the cluster (COORDINATOR_NOT_AVAILABLE meanwhile; clients retry).
 * Becoming leader of a partition loads its groups (a replay of that one partition; its groups
 * answer COORDINATOR_LOAD_IN_PROGRESS until the replay is done); losing it unloads them (members
 * waiting in a rebalance get NOT_COORDINATOR, and the state leaves memory). Every group request
 * for a partition not led here is NOT_COORDINATOR, and ListGroups lists the groups loaded here.
 * The coordinator follows leadership through `onLeadershipChange`, subscribed when it first sees
 * `broker.cluster` (the broker attaches it after building the coordinator), and each group request
 * also checks leadership and leader epoch itself, so a change it was not told of (before it
 * subscribed) is still caught. Writes wait for the in-sync replicas (offset-store.ts).
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
 *
 * Transactional offsets (TxnOffsetCommit, Kafka's OffsetMetadataManager): the same offset commit
 * records, written as one transactional batch of the producer (its id and epoch, no sequence) to
 * the group's partition. They stay pending per (group, producer id), invisible to OffsetFetch,
 * until the transaction's marker lands in that partition (txn-markers.ts calls onTxnMarker):
 * COMMIT makes each the committed offset unless the committed one's record is later in the log,
 * ABORT drops them. Replay does the same with the markers it meets; a transaction whose marker is
 * not in the log stays pending (its coordinator finishes or aborts it and writes the marker).
 * While one is pending, OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT for that
 * partition, its offset is not expired, and its group is not removed by expiry. A tombstone
 * (OffsetDelete, DeleteGroups, a deleted topic) removes the pending offsets of its partition too,
 * and is written for a partition that only has a pending offset, so a later COMMIT brings
 * nothing back, in memory or on replay.
 */
import type { ClusterMembership, LiveBroker } from '../broker/cluster-membership.js';
import { KafkaError, toErrorCode } from '../broker/errors.js';
import type { BrokerConfig } from '../config.js';
import type { Logger } from '../util/logger.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { Group, type CommittedOffset, type GroupEnv, type GroupState, type JoinRequest, type JoinResult, type LeavingMember, type SyncRequest, type SyncResult } from './group.js';
import { OFFSETS_TOPIC_CONFIGS, OffsetStore, type OffsetStoreHost, type ReplayedBatch, type ReplayedMarker, type StoredRecord } from './offset-store.js';
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

/** TxnOffsetCommit: a transactional producer commits a group's offsets inside its transaction. */
export interface TxnCommitRequest {
  transactionalId: string;
  groupId: string;
  producerId: number;
  producerEpoch: number;
  /** v3+ (KIP-447); -1, '' and null (v0-2 or a producer outside the group) are not checked. */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  topics: { name: string; partitions: PartitionCommit[] }[];
}

/** What the coordinator asks the transaction coordinator (coordinator/transactions/coordinator.ts). */
export interface TxnGroupVerifier {
  /**
   * NONE when AddOffsetsToTxn added this group to the producer's ongoing transaction (or the id is
   * coordinated elsewhere); otherwise the error TxnOffsetCommit answers (INVALID_TXN_STATE,
   * PRODUCER_FENCED, INVALID_PRODUCER_EPOCH ...).
   */
  verifyGroup(transactionalId: string, producerId: number, producerEpoch: number, groupId: string): number;
}

/**
 * What the coordinator needs of the broker (broker.ts passes itself): the group and offset
 * settings, the topics (commits to unknown partitions are refused; the store keeps its own topic),
 * the log, and the transaction coordinator that vouches for TxnOffsetCommit (absent: not checked).
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
    | 'cluster'
  >;
  readonly log: Logger;
  readonly transactions?: TxnGroupVerifier | undefined;
}

const EMPTY = Buffer.alloc(0);

/** FindCoordinator's answer in a cluster: the coordinator broker, or why there is none yet. */
export type CoordinatorNode = { errorCode: typeof ErrorCode.NONE; node: LiveBroker } | { errorCode: number; message: string };

/** Cluster mode: a `__consumer_offsets` partition this broker leads and serves the groups of. */
interface ServedPartition {
  /** The leader epoch its groups were loaded at: a new epoch means another leader came between. */
  epoch: number;
  /**
   * True while its records are replayed (COORDINATOR_LOAD_IN_PROGRESS for its groups). The replay
   * is synchronous today, so no request sees it yet; an asynchronous load would keep this contract.
   */
  loading: boolean;
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly store: OffsetStore;
  private readonly env: GroupEnv;
  private expiryTimer: NodeJS.Timeout | undefined;
  private active = true;
  /** Cluster mode: the partitions whose groups are in `groups`, by partition index. */
  private readonly served = new Map<number, ServedPartition>();
  /** The membership whose leadership changes this coordinator follows, and the unsubscribe. */
  private attached: ClusterMembership | undefined;
  private stopFollowing: (() => void) | undefined;
  /** Cluster mode: a creation of `__consumer_offsets` through etcd is under way. */
  private creatingOffsetsTopic = false;
  /**
   * Producer id -> the groups holding pending offsets of its open transaction, so a marker finds
   * them without visiting every group. May name groups that have since been deleted or completed
   * (a marker then finds nothing to do); unloading a partition drops its groups.
   */
  private readonly openTxnGroups = new Map<number, Set<string>>();

  constructor(
    private readonly broker: CoordinatorHost,
    opts: CoordinatorOptions = {},
  ) {
    const cfg = broker.config;
    this.store = new OffsetStore(broker, broker.log, {
      name: OFFSETS_TOPIC,
      numPartitions: cfg.offsetsTopicNumPartitions,
      numPartitionsSetting: 'offsets.topic.num.partitions',
      configs: OFFSETS_TOPIC_CONFIGS,
    });
    this.env = {
      initialRebalanceDelayMs: cfg.groupInitialRebalanceDelayMs,
      maxSize: cfg.groupMaxSize,
      storeGroup: (group, assignments) => this.storeGroup(group, assignments),
      log: broker.log,
    };
    // One node loads everything now; a cluster member loads partitions as it comes to lead them.
    if (!cfg.cluster.enabled) this.loadPartitions(null);
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

  // ------------------------------------------------------------------------------- cluster

  /**
   * The cluster membership, or undefined on one node. The first time it is seen, the coordinator
   * subscribes to leadership changes and serves what this broker leads already.
   */
  private get cluster(): ClusterMembership | undefined {
    const cluster = this.broker.cluster;
    if (cluster && cluster !== this.attached && this.active) {
      this.stopFollowing?.();
      this.attached = cluster;
      this.stopFollowing = cluster.onLeadershipChange((topic, p, leader) => {
        if (topic !== OFFSETS_TOPIC || !this.active) return;
        if (leader) this.loadPartition(cluster, p);
        else this.unloadPartition(p, 'no longer its leader');
      });
      this.reconcile(cluster);
    }
    return cluster;
  }

  /** Serves exactly the partitions this broker leads now (loads the missing, unloads the lost). */
  private reconcile(cluster: ClusterMembership): void {
    if (!this.store.exists) return;
    for (let p = 0; p < this.store.partitions; p++) {
      if (cluster.isLeader(OFFSETS_TOPIC, p)) this.loadPartition(cluster, p);
      else if (this.served.has(p)) this.unloadPartition(p, 'no longer its leader');
    }
  }

  /** The leader epoch of partition p when this broker leads it, else undefined. */
  private leaderEpochOf(cluster: ClusterMembership, p: number): number | undefined {
    if (!cluster.isLeader(OFFSETS_TOPIC, p)) return undefined;
    try {
      return cluster.leader(OFFSETS_TOPIC, p).leaderEpoch;
    } catch {
      return undefined;
    }
  }

  /** Became leader of partition p: replays it and serves its groups (a no-op at the same epoch). */
  private loadPartition(cluster: ClusterMembership, p: number): void {
    const epoch = this.leaderEpochOf(cluster, p);
    if (epoch === undefined) return;
    const current = this.served.get(p);
    if (current?.epoch === epoch) return;
    if (current) this.unloadPartition(p, `leader epoch ${current.epoch} ended`);
    const state: ServedPartition = { epoch, loading: true };
    this.served.set(p, state);
    try {
      this.loadPartitions(p);
      state.loading = false;
    } catch (e) {
      // Not served: the next request for one of its groups tries again.
      this.served.delete(p);
      this.broker.log.error(`loading ${OFFSETS_TOPIC}-${p} failed: ${(e as Error).message}`);
    }
  }

  /** Stops serving partition p: its groups leave memory and their waiting members get NOT_COORDINATOR. */
  private unloadPartition(p: number, why: string): void {
    this.served.delete(p);
    let count = 0;
    for (const group of [...this.groups.values()]) {
      if (this.partitionFor(group.groupId) !== p) continue;
      group.shutdown(ErrorCode.NOT_COORDINATOR);
      this.groups.delete(group.groupId);
      for (const producerId of group.pendingTxnOffsets.keys()) this.forgetOpenTxn(producerId, group.groupId);
      count++;
    }
    this.broker.log.info(`unloaded ${count} group(s) of ${OFFSETS_TOPIC}-${p}: ${why}`);
  }

  /**
   * Whether this broker coordinates the group now, as Kafka's validateGroupStatus answers after its
   * id and active checks: NONE (always on one node), COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR,
   * or COORDINATOR_NOT_AVAILABLE when loading its partition failed.
   */
  private coordinatorError(groupId: string): number {
    const cluster = this.cluster;
    if (!cluster) return ErrorCode.NONE;
    const p = this.partitionFor(groupId);
    const epoch = this.leaderEpochOf(cluster, p);
    if (epoch === undefined) {
      if (this.served.has(p)) this.unloadPartition(p, 'no longer its leader');
      return ErrorCode.NOT_COORDINATOR;
    }
    if (this.served.get(p)?.epoch !== epoch) this.loadPartition(cluster, p);
    const state = this.served.get(p);
    if (!state) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return state.loading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
  }

  /**
   * FindCoordinator for a group in a cluster: the live leader of the group's partition. The
   * first call creates `__consumer_offsets` through etcd when it does not exist
   * (offsets.topic.replication.factor capped to the live brokers), answering
   * COORDINATOR_NOT_AVAILABLE until it does, as Kafka does. Undefined on one node.
   */
  findCoordinator(groupId: string): CoordinatorNode | undefined {
    const cluster = this.cluster;
    if (!cluster) return undefined;
    if (!this.store.exists) {
      this.createOffsetsTopic(cluster);
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, message: `${OFFSETS_TOPIC} is being created` };
    }
    const p = this.partitionFor(groupId);
    const leader = cluster.partitionView(OFFSETS_TOPIC, p).leader;
    const node = leader < 0 ? undefined : cluster.liveBrokers().find((b) => b.nodeId === leader);
    if (!node) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, message: `${OFFSETS_TOPIC}-${p} has no live leader` };
    return { errorCode: ErrorCode.NONE, node };
  }

  private createOffsetsTopic(cluster: ClusterMembership): void {
    if (this.creatingOffsetsTopic) return;
    this.creatingOffsetsTopic = true;
    const cfg = this.broker.config;
    const replicationFactor = Math.max(1, Math.min(cfg.cluster.offsetsTopicReplicationFactor, cluster.liveBrokers().length));
    cluster
      .createTopic(OFFSETS_TOPIC, cfg.offsetsTopicNumPartitions, replicationFactor, { ...OFFSETS_TOPIC_CONFIGS })
      .then(
        () => this.broker.log.info(`created ${OFFSETS_TOPIC} with ${cfg.offsetsTopicNumPartitions} partitions, replication factor ${replicationFactor}`),
        (e: Error) => {
          // Another broker created it first: its watch brings the topic here.
          if (!(e instanceof KafkaError && e.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS)) this.broker.log.warn(`creating ${OFFSETS_TOPIC} failed: ${e.message}`);
        },
      )
      .finally(() => (this.creatingOffsetsTopic = false));
  }

  // ------------------------------------------------------------------------------- loading

  /**
   * Replays one partition (a cluster member that became its leader) or every partition (null: a
   * single node at start) into `groups`. A group's records all live in its one partition.
   */
  private loadPartitions(partition: number | null): void {
    type Loaded = { topic: string; partition: number; value: CommittedOffset };
    const metadata = new Map<string, GroupMetadataValue | null>();
    /** Group -> topic/partition -> committed offset. */
    const offsets = new Map<string, Map<string, Loaded>>();
    /**
     * Transactional offsets waiting for their marker: `__consumer_offsets` partition -> producer
     * id -> group -> topic/partition. By partition because a marker decides only the records of
     * its own partition (a crash may leave one partition's marker written and another's not).
     */
    const pending = new Map<number, Map<number, Map<string, Map<string, Loaded>>>>();
    let bad = 0;
    const visit = (p: number, keyBuf: Buffer, valueBuf: Buffer | null, batch: ReplayedBatch): void => {
      try {
        const key = decodeKey(keyBuf);
        if (key.type === RecordType.GroupMetadata) {
          metadata.set(key.group, valueBuf === null ? null : decodeGroupMetadataValue(valueBuf));
          return;
        }
        const tp = `${key.topic}\0${key.partition}`;
        if (valueBuf === null) {
          // A tombstone also deletes what open transactions hold for the partition (Kafka's replay).
          offsets.get(key.group)?.delete(tp);
          for (const byGroup of pending.get(p)?.values() ?? []) byGroup.get(key.group)?.delete(tp);
          return;
        }
        const entry: Loaded = { topic: key.topic, partition: key.partition, value: { ...decodeOffsetCommitValue(valueBuf), recordOffset: batch.baseOffset } };
        if (batch.isTransactional) {
          let byProducer = pending.get(p);
          if (!byProducer) pending.set(p, (byProducer = new Map()));
          let byGroup = byProducer.get(batch.producerId);
          if (!byGroup) byProducer.set(batch.producerId, (byGroup = new Map()));
          let tps = byGroup.get(key.group);
          if (!tps) byGroup.set(key.group, (tps = new Map()));
          tps.set(tp, entry);
          return;
        }
        let byGroup = offsets.get(key.group);
        if (!byGroup) offsets.set(key.group, (byGroup = new Map()));
        byGroup.set(tp, entry);
      } catch (e) {
        bad++;
        if (bad <= 10) this.broker.log.warn(`${OFFSETS_TOPIC}: skipping an unreadable record: ${(e as Error).message}`);
      }
    };
    const marker = (p: number, m: ReplayedMarker): void => {
      const byProducer = pending.get(p);
      const byGroup = byProducer?.get(m.producerId);
      if (!byProducer || !byGroup) return;
      byProducer.delete(m.producerId);
      if (!m.commit) return;
      for (const [groupId, tps] of byGroup) {
        let committed = offsets.get(groupId);
        if (!committed) offsets.set(groupId, (committed = new Map()));
        for (const [tp, o] of tps) {
          const existing = committed.get(tp);
          if (!existing || existing.value.recordOffset < o.value.recordOffset) committed.set(tp, o);
        }
      }
    };
    const records = partition === null ? this.store.replay(visit, marker) : this.store.replayPartition(partition, visit, marker);
    // Built aside, then added: groups loaded earlier from other partitions keep running untouched.
    const loaded = new Map<string, Group>();
    const groupOf = (groupId: string): Group => {
      let group = loaded.get(groupId);
      if (!group) loaded.set(groupId, (group = new Group(groupId, this.env)));
      return group;
    };
    for (const [groupId, meta] of metadata) {
      if (meta === null) continue;
      groupOf(groupId).load(meta);
    }
    for (const [groupId, byGroup] of offsets) {
      if (byGroup.size === 0) continue;
      const group = groupOf(groupId);
      for (const o of byGroup.values()) group.setOffset(o.topic, o.partition, o.value);
    }
    let open = 0;
    for (const byProducer of pending.values()) {
      for (const [producerId, byGroup] of byProducer) {
        for (const [groupId, tps] of byGroup) {
          if (tps.size === 0) continue;
          // A group with only pending offsets exists (Kafka creates the simple group at the record).
          const group = groupOf(groupId);
          for (const o of tps.values()) group.setPendingOffset(producerId, o.topic, o.partition, o.value);
          this.rememberOpenTxn(producerId, groupId);
          open++;
        }
      }
    }
    for (const [groupId, group] of loaded) {
      this.groups.set(groupId, group);
      group.onLoaded();
    }
    const txns = open > 0 ? `, ${open} open transactional commit(s)` : '';
    if (partition !== null) this.broker.log.info(`loaded ${loaded.size} group(s) from ${records} record(s) of ${OFFSETS_TOPIC}-${partition}${txns}`);
    else if (records > 0) this.broker.log.info(`loaded ${loaded.size} group(s) from ${records} record(s) of ${OFFSETS_TOPIC}${txns}`);
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

  /** Kafka's isValidGroupId for the membership APIs (a non-empty id), then the coordinator checks. */
  private membershipError(groupId: string): number {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return this.coordinatorError(groupId);
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
    const { setCode, answer, valid, failAll } = this.partitionCodes(req.topics);
    if (valid.length === 0) return answer();
    if (!this.active) return failAll(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const notHere = this.coordinatorError(req.groupId);
    if (notHere !== ErrorCode.NONE) return failAll(notHere);

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
      const value: CommittedOffset = { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata, commitTimestamp: now, expireTimestamp, recordOffset: -1 };
      accepted.push({ topic, partition: p.partitionIndex, value });
      records.push({ key: encodeOffsetCommitKey(req.groupId, topic, p.partitionIndex), value: encodeOffsetCommitValue(value) });
    }
    if (records.length === 0) return answer();

    const previous = accepted.map((a) => group.getOffset(a.topic, a.partition));
    let applied = false;
    try {
      // Written and visible when append returns; the in-memory view follows at once, so commits
      // pipelined on one connection apply in order. The answer waits for durability.
      const { baseOffset, durable } = this.store.appendAt(this.partitionFor(req.groupId), records, now);
      // One append takes consecutive offsets, record i at baseOffset + i.
      accepted.forEach((a, i) => (a.value.recordOffset = baseOffset + i));
      for (const a of accepted) group.setOffset(a.topic, a.partition, a.value);
      applied = true;
      await durable;
    } catch (e) {
      const code = commitStoreError(e, this.broker.log);
      for (const a of accepted) setCode(a.topic, a.partition, code);
      // A cluster serves only what the in-sync replicas hold (Kafka's pending offsets are dropped
      // on failure): a commit that was not replicated is taken back, unless a later one replaced it.
      if (applied && this.broker.cluster && this.groups.get(req.groupId) === group) {
        takeBack(accepted, previous, {
          get: (t, p) => group.getOffset(t, p),
          set: (t, p, o) => group.setOffset(t, p, o),
          remove: (t, p) => group.removeOffset(t, p),
        });
      }
    }
    return answer();
  }

  /**
   * TxnOffsetCommit. Per partition, in Kafka's order: UNKNOWN_TOPIC_OR_PARTITION; then for the
   * rest INVALID_GROUP_ID (empty id), the coordinator errors, the transaction coordinator's
   * verdict (the group added to the producer's ongoing transaction by AddOffsetsToTxn), the
   * group's verdict (a missing group is created for generation -1, ILLEGAL_GENERATION otherwise;
   * member fields checked as for OffsetCommit when sent, KIP-447); then OFFSET_METADATA_TOO_LARGE.
   * The others are written as one transactional batch and held pending until the marker
   * (onTxnMarker); answered once stored.
   */
  async txnCommitOffsets(req: TxnCommitRequest): Promise<TopicPartitionCodes[]> {
    const { setCode, answer, valid, failAll } = this.partitionCodes(req.topics);
    if (valid.length === 0) return answer();
    if (!this.active) return failAll(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (req.groupId === '') return failAll(ErrorCode.INVALID_GROUP_ID);
    const notHere = this.coordinatorError(req.groupId);
    if (notHere !== ErrorCode.NONE) return failAll(notHere);
    // Checked in the same turn as the append below: the marker cannot come between them.
    const txnError = this.broker.transactions?.verifyGroup(req.transactionalId, req.producerId, req.producerEpoch, req.groupId) ?? ErrorCode.NONE;
    if (txnError !== ErrorCode.NONE) return failAll(txnError);

    let group = this.groups.get(req.groupId);
    if (!group) {
      if (req.generationId >= 0) return failAll(ErrorCode.ILLEGAL_GENERATION);
      group = new Group(req.groupId, this.env);
      this.groups.set(req.groupId, group);
    }
    const verdict = group.validateOffsetCommit(req.generationId, req.memberId, req.groupInstanceId, true);
    if (verdict !== ErrorCode.NONE) return failAll(verdict);

    const now = Date.now();
    const records: StoredRecord[] = [];
    const accepted: { topic: string; partition: number; value: CommittedOffset }[] = [];
    for (const { topic, p } of valid) {
      const metadata = p.committedMetadata ?? '';
      if (metadata.length > OFFSET_METADATA_MAX) {
        setCode(topic, p.partitionIndex, ErrorCode.OFFSET_METADATA_TOO_LARGE);
        continue;
      }
      const value: CommittedOffset = { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata, commitTimestamp: now, expireTimestamp: null, recordOffset: -1 };
      accepted.push({ topic, partition: p.partitionIndex, value });
      records.push({ key: encodeOffsetCommitKey(req.groupId, topic, p.partitionIndex), value: encodeOffsetCommitValue(value) });
    }
    if (records.length === 0) return answer();

    const { producerId } = req;
    const previous = accepted.map((a) => group.getPendingOffset(producerId, a.topic, a.partition));
    let applied = false;
    try {
      const { baseOffset, durable } = this.store.appendAt(this.partitionFor(req.groupId), records, now, { producerId, producerEpoch: req.producerEpoch });
      accepted.forEach((a, i) => {
        a.value.recordOffset = baseOffset + i;
        group.setPendingOffset(producerId, a.topic, a.partition, a.value);
      });
      this.rememberOpenTxn(producerId, req.groupId);
      applied = true;
      await durable;
    } catch (e) {
      const code = commitStoreError(e, this.broker.log);
      for (const a of accepted) setCode(a.topic, a.partition, code);
      // As commitOffsets: a cluster takes back what the in-sync replicas do not hold.
      if (applied && this.broker.cluster && this.groups.get(req.groupId) === group) {
        takeBack(accepted, previous, {
          get: (t, p) => group.getPendingOffset(producerId, t, p),
          set: (t, p, o) => group.setPendingOffset(producerId, t, p, o),
          remove: (t, p) => group.removePendingOffset(producerId, t, p),
        });
      }
    }
    return answer();
  }

  /**
   * A transaction marker of `producerId` landed in `__consumer_offsets-partition` (written by
   * txn-markers.ts): COMMIT applies the producer's pending offsets of the groups in that
   * partition (each unless the committed offset's record is later), ABORT drops them.
   */
  onTxnMarker(partition: number, m: { producerId: number; commit: boolean }): void {
    const groupIds = this.openTxnGroups.get(m.producerId);
    if (!groupIds) return;
    for (const groupId of [...groupIds]) {
      if (this.partitionFor(groupId) !== partition) continue;
      groupIds.delete(groupId);
      this.groups.get(groupId)?.completeTxn(m.producerId, m.commit);
    }
    if (groupIds.size === 0) this.openTxnGroups.delete(m.producerId);
  }

  private rememberOpenTxn(producerId: number, groupId: string): void {
    let groupIds = this.openTxnGroups.get(producerId);
    if (!groupIds) this.openTxnGroups.set(producerId, (groupIds = new Set()));
    groupIds.add(groupId);
  }

  private forgetOpenTxn(producerId: number, groupId: string): void {
    const groupIds = this.openTxnGroups.get(producerId);
    if (!groupIds?.delete(groupId)) return;
    if (groupIds.size === 0) this.openTxnGroups.delete(producerId);
  }

  /**
   * The per-partition answer of a commit: unknown topics or partitions get
   * UNKNOWN_TOPIC_OR_PARTITION at once, the rest (`valid`) are decided by the caller.
   */
  private partitionCodes(topics: { name: string; partitions: PartitionCommit[] }[]) {
    const codes = new Map<string, Map<number, number>>();
    const setCode = (topic: string, partition: number, code: number): void => {
      let m = codes.get(topic);
      if (!m) codes.set(topic, (m = new Map()));
      m.set(partition, code);
    };
    const answer = (): TopicPartitionCodes[] =>
      topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: codes.get(t.name)?.get(p.partitionIndex) ?? ErrorCode.NONE })) }));
    const valid: { topic: string; p: PartitionCommit }[] = [];
    for (const t of topics) {
      for (const p of t.partitions) {
        if (!this.broker.topics.partition(t.name, p.partitionIndex)) setCode(t.name, p.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        else valid.push({ topic: t.name, p });
      }
    }
    const failAll = (code: number): TopicPartitionCodes[] => {
      for (const v of valid) setCode(v.topic, v.p.partitionIndex, code);
      return answer();
    };
    return { setCode, answer, valid, failAll };
  }

  /**
   * OffsetFetch for one group: null topics = every committed offset of the group (v2+).
   * `requireStable` (v7+): a partition with a pending transactional offset answers
   * UNSTABLE_OFFSET_COMMIT (per partition, the top-level code stays NONE, as Kafka answers it);
   * clients retry until the transaction ends.
   */
  fetchOffsets(groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null, requireStable = false): GroupFetchResult {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, topics: [] };
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return { errorCode: notHere, topics: [] };
    const group = this.groups.get(groupId);
    const none = (partitionIndex: number, errorCode: number): FetchedOffset => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode });
    const entry = (topic: string, partitionIndex: number): FetchedOffset => {
      if (requireStable && group?.hasPendingOffset(topic, partitionIndex)) return none(partitionIndex, ErrorCode.UNSTABLE_OFFSET_COMMIT);
      const o = group?.getOffset(topic, partitionIndex);
      return o ? { partitionIndex, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE } : none(partitionIndex, ErrorCode.NONE);
    };
    if (topics === null) {
      // Every committed offset; a partition with only a pending offset is not listed (Kafka).
      const all = group ? [...group.offsets].map(([name, byPartition]) => ({ name, partitions: [...byPartition.keys()].map((p) => entry(name, p)) })) : [];
      return { errorCode: ErrorCode.NONE, topics: all };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => entry(t.name, p)) })),
    };
  }

  /** OffsetDelete: a group-level error, or per-partition errors. */
  async deleteOffsets(groupId: string, topics: { name: string; partitions: number[] }[]): Promise<{ errorCode: number; topics: TopicPartitionCodes[] }> {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, topics: [] };
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, topics: [] };
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return { errorCode: notHere, topics: [] };
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
        // A partition with only a pending transactional offset gets its tombstone too (Kafka).
        if (group.deleteOffset(t.name, p)) deleted.push({ topic: t.name, partition: p });
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
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return { ...base, errorCode: notHere, groupState: '' };
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

  /**
   * ListGroups; `states` (v4) filters case-insensitively, empty = all. In a cluster, the groups of
   * the partitions this broker leads (Kafka's behaviour), with COORDINATOR_LOAD_IN_PROGRESS while
   * one of them is still loading.
   */
  listGroups(states: string[] = []): { errorCode: number; groups: { groupId: string; protocolType: string; groupState: GroupState }[] } {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const cluster = this.cluster;
    if (cluster) this.reconcile(cluster);
    const loading = [...this.served.values()].some((s) => s.loading);
    const wanted = new Set(states.map((s) => s.toLowerCase()));
    const groups = [...this.groups.values()]
      .filter((g) => wanted.size === 0 || wanted.has(g.state.toLowerCase()))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state }));
    return { errorCode: loading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE, groups };
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
      const notHere = this.coordinatorError(id);
      if (notHere !== ErrorCode.NONE) {
        codes.set(id, notHere);
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
        // Tombstones for the committed offsets and for the partitions only open transactions hold
        // (Kafka's deleteAllOffsets): their COMMIT, when it comes, finds nothing to apply.
        const partitions = [...group.offsets].flatMap(([topic, byPartition]) => [...byPartition.keys()].map((partition) => ({ topic, partition })));
        for (const tp of group.pendingPartitions()) if (!group.getOffset(tp.topic, tp.partition)) partitions.push(tp);
        for (const producerId of group.pendingTxnOffsets.keys()) this.forgetOpenTxn(producerId, group.groupId);
        group.pendingTxnOffsets.clear();
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
      // A group with an open transaction stays: its COMMIT would otherwise land in no group.
      const dropGroup = group.is('Empty') && !group.hasOffsets && !group.hasOpenTransactions;
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
      // Committed and pending offsets of the topic alike (Kafka's onPartitionsDeleted).
      const partitions = [...(group.offsets.get(topic)?.keys() ?? [])].map((partition) => ({ topic, partition }));
      for (const tp of group.pendingPartitions()) if (tp.topic === topic && !group.getOffset(topic, tp.partition)) partitions.push(tp);
      if (partitions.length === 0) continue;
      for (const tp of partitions) group.deleteOffset(tp.topic, tp.partition);
      const write = this.store.write(this.partitionFor(group.groupId), this.tombstones(group.groupId, partitions, false));
      // In a cluster every broker deletes the topic when etcd's watch says so, in the background:
      // a tombstone that cannot be written (leadership moved) is the new leader's business.
      writes.push(this.broker.cluster ? write.catch((e: Error) => this.broker.log.warn(`group ${group.groupId}: tombstones for deleted topic ${topic} not written: ${e.message}`)) : write);
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
    this.stopFollowing?.();
    this.stopFollowing = undefined;
    this.served.clear();
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

/**
 * Undoes offsets that were applied in memory but not stored (replicated): each goes back to what
 * it replaced, unless a later commit replaced it meanwhile. For committed and pending offsets alike.
 */
function takeBack(
  accepted: readonly { topic: string; partition: number; value: CommittedOffset }[],
  previous: readonly (CommittedOffset | undefined)[],
  offsets: { get(topic: string, partition: number): CommittedOffset | undefined; set(topic: string, partition: number, o: CommittedOffset): void; remove(topic: string, partition: number): void },
): void {
  accepted.forEach((a, i) => {
    if (offsets.get(a.topic, a.partition) !== a.value) return;
    const before = previous[i];
    if (before) offsets.set(a.topic, a.partition, before);
    else offsets.remove(a.topic, a.partition);
  });
}
