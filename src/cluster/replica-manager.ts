/**
 * This broker's replicas in a cluster (Kafka's ReplicaManager + Partition, reduced to what Brook
 * needs): which partitions it leads or follows, the high watermark (HW), the leader's view of its
 * followers and the ISR, acks=all waits, and the fetchers that copy leaders' logs.
 *
 * Data flow:
 *   etcd (ClusterStore mirror) --partition events--> applyState() --> becomeLeader / becomeFollower
 *   Produce (leader) --append--> afterLeaderAppend() --> HW may move --> acks=all waits, consumer long polls
 *   follower fetch (Fetch with replica id) --> onFollowerFetch() --> follower LEO --> HW, ISR expansion
 *   ReplicaFetcher (follower) --> appendAsFollower / truncate --> follower HW = min(leader HW, LEO)
 *   timer --> ISR shrink (compare-and-swap on the partition key in etcd; counts only once committed)
 *
 * Fencing: the leader epoch from etcd is the token. State from etcd is applied only when its epoch is
 * higher than (or, for ISR updates, equal to) what this broker holds; requests carrying an older
 * epoch are FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH. A broker whose etcd session lapsed
 * (`fenced`) answers NOT_LEADER_OR_FOLLOWER everywhere until it is registered again: the controller
 * may already have elected someone else.
 *
 * The data path never waits on etcd: appends, fetches and HW moves use local state; only an ISR
 * change waits for its etcd write (and while that write is outstanding the old, larger ISR still
 * governs the HW, which is the safe direction).
 */
import { join } from 'node:path';
import type { ClusterConfig } from '../config.js';
import { KafkaError } from '../broker/errors.js';
import type { Topic } from '../broker/topics.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { peekBatch } from '../protocol/record-batch.js';
import { LeaderEpochCache, UNDEFINED_EPOCH } from '../replication/leader-epoch-cache.js';
import { readOffsetCheckpoint, topicPartitionKey, writeOffsetCheckpoint } from '../replication/checkpoint-files.js';
import { canJoinIsr, computeHighWatermark, FollowerState, outOfSyncReplicas } from '../replication/replica-state.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { Logger } from '../util/logger.js';
import type { ClusterStore } from './store.js';
import { partitionKey, type PartitionState } from './types.js';

/** What the replica manager needs of the broker (the broker implements it; no import cycle). */
export interface ReplicaHost {
  readonly nodeId: number;
  readonly dataDir: string;
  readonly log: Logger;
  /** The topic by name from the local registry (mirrored from etcd). */
  topic(name: string): Topic | undefined;
  /** min.insync.replicas of the topic. */
  minInsyncReplicas(topic: Topic): number;
  /** Wakes every long poll parked on this log (consumer and follower fetches): role changes. */
  wake(log: PartitionLog): void;
  /** The high watermark moved: wakes readers only (followers wait for appends). */
  committed(log: PartitionLog): void;
  /** The log was truncated: idempotent-producer state must be rebuilt from it. */
  truncated(log: PartitionLog): void;
  /** Batches appended as follower: producer state follows them (a new leader deduplicates retries). */
  followerAppended(topic: Topic, partition: number, records: Buffer): void;
}

interface AckWait {
  /** The HW this produce needs: its last offset + 1. */
  target: number;
  minIsr: number;
  resolve: (errorCode: number) => void;
  timer: NodeJS.Timeout;
}

export type Role = 'leader' | 'follower' | 'none';

/** This broker's replica of one partition. */
export class Replica {
  role: Role = 'none';
  leaderId = -1;
  leaderEpoch = -1;
  /** The state last applied from etcd: its ISR is the committed ISR, its version the CAS value. */
  state: PartitionState | undefined;
  hw: number;
  /** Leader only: every other replica of the assignment. */
  readonly followers = new Map<number, FollowerState>();
  isrChangeInFlight = false;
  readonly waits: AckWait[] = [];

  constructor(
    readonly topic: Topic,
    readonly index: number,
    readonly log: PartitionLog,
    readonly epochs: LeaderEpochCache,
    hw: number,
  ) {
    this.hw = Math.min(hw, log.logEndOffset);
  }

  get key(): string {
    return partitionKey(this.topic.name, this.index);
  }

  get isr(): number[] {
    return this.state?.isr ?? [];
  }
}

/** replication-offset-checkpoint in the data directory (Kafka's name and format). */
const HW_CHECKPOINT = 'replication-offset-checkpoint';

export class ReplicaManager {
  private readonly replicas = new Map<string, Replica>();
  /** Set while this broker's etcd session is lost: it must not act as leader. */
  fenced = false;
  private isrTimer: NodeJS.Timeout | undefined;
  private hwTimer: NodeJS.Timeout | undefined;
  private checkpointed: Map<string, number>;
  /** Told when this broker gains or loses the leadership of a partition. */
  private readonly leadershipListeners = new Set<(topic: string, partition: number, leader: boolean) => void>();

  onLeadershipChange(listener: (topic: string, partition: number, leader: boolean) => void): () => void {
    this.leadershipListeners.add(listener);
    return () => this.leadershipListeners.delete(listener);
  }

  private setRole(r: Replica, role: Role): void {
    const was = r.role === 'leader';
    r.role = role;
    if (was === (role === 'leader')) return;
    for (const l of this.leadershipListeners) {
      try {
        l(r.topic.name, r.index, role === 'leader');
      } catch (e) {
        this.host.log.error(`leadership listener failed for ${r.key}: ${(e as Error).message}`);
      }
    }
  }

  /** Followers' fetchers by leader id (replica-fetcher.ts); set by the broker at start. */
  fetchers: FetcherPool | undefined;

  constructor(
    private readonly host: ReplicaHost,
    readonly store: ClusterStore,
    private readonly config: ClusterConfig,
  ) {
    this.checkpointed = readCheckpoint(join(host.dataDir, HW_CHECKPOINT), host.log);
  }

  get nodeId(): number {
    return this.host.nodeId;
  }

  start(): void {
    // Kafka's isr-expiration task runs every replica.lag.time.max.ms / 2, so a lagging follower
    // leaves up to 1.5x the lag time late; checking at least every 500 ms (a pass over the led
    // partitions, no I/O unless one leaves) bounds that by the lag time + 0.5 s.
    this.isrTimer = setInterval(() => this.shrinkIsrs(), Math.max(100, Math.min(500, Math.floor(this.config.replicaLagTimeMaxMs / 2))));
    this.isrTimer.unref();
    this.hwTimer = setInterval(() => this.checkpointHighWatermarks(), this.config.hwCheckpointIntervalMs);
    this.hwTimer.unref();
  }

  close(): void {
    clearInterval(this.isrTimer);
    clearInterval(this.hwTimer);
    for (const r of this.replicas.values()) this.failWaits(r, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    this.checkpointHighWatermarks();
  }

  /** This broker's replica that owns `log` (WebSocket readers ask by log). */
  replicaOfLog(log: PartitionLog): Replica | undefined {
    const r = this.byLog.get(log);
    return r && this.replicas.get(r.key) === r ? r : undefined;
  }

  private readonly byLog = new WeakMap<PartitionLog, Replica>();

  replica(topic: string, partition: number): Replica | undefined {
    return this.replicas.get(partitionKey(topic, partition));
  }

  all(): IterableIterator<Replica> {
    return this.replicas.values();
  }

  // ---------------------------------------------------------------- applying etcd state

  /** Re-applies every partition of every local topic (start, resync, session regained). */
  applyAll(): void {
    for (const [name, rec] of this.store.topics()) {
      for (let p = 0; p < rec.assignment.length; p++) this.applyState(name, p);
    }
    for (const r of [...this.replicas.values()]) {
      if (!this.store.topics().has(r.topic.name)) this.dropReplica(r);
    }
  }

  /** The topic was deleted or recreated: forget its replicas (the logs go with the topic). */
  dropTopic(name: string): void {
    for (const r of [...this.replicas.values()]) if (r.topic.name === name) this.dropReplica(r);
  }

  private dropReplica(r: Replica): void {
    this.setRole(r, 'none');
    this.fetchers?.remove(r);
    this.failWaits(r, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    this.replicas.delete(r.key);
  }

  /** Applies etcd's state of one partition to this broker's replica of it. */
  applyState(topicName: string, p: number): void {
    const rec = this.store.topics().get(topicName);
    const topic = this.host.topic(topicName);
    const state = this.store.partition(topicName, p);
    if (!rec || !topic || !state || topic.id !== rec.id) return;
    const log = topic.partitions[p];
    if (!log) return;
    let r = this.replicas.get(partitionKey(topicName, p));
    if (r && (r.topic !== topic || r.log !== log)) {
      this.dropReplica(r); // recreated under the same name
      r = undefined;
    }
    const assigned = rec.assignment[p]?.includes(this.nodeId) ?? false;
    if (!assigned) {
      if (r) this.dropReplica(r);
      return;
    }
    if (!r) {
      const epochs = LeaderEpochCache.load(log.dir, log.logStartOffset, log.logEndOffset, () => batchEpochs(log));
      r = new Replica(topic, p, log, epochs, this.checkpointed.get(topicPartitionKey(topicName, p)) ?? 0);
      this.replicas.set(r.key, r);
      this.byLog.set(log, r);
    }
    if (state.leaderEpoch < r.leaderEpoch) return; // stale: a newer epoch is applied already
    const newEpoch = state.leaderEpoch > r.leaderEpoch;
    const previousLeader = r.leaderId;
    r.state = state;
    if (state.leader === this.nodeId && !this.fenced) {
      if (newEpoch || r.role !== 'leader') this.becomeLeader(r, state);
      else this.isrUpdated(r);
    } else if (newEpoch || r.role === 'leader' || previousLeader !== state.leader || r.role === 'none') {
      this.becomeFollower(r, state);
    }
  }

  private becomeLeader(r: Replica, state: PartitionState): void {
    const now = Date.now();
    this.fetchers?.remove(r);
    r.leaderId = this.nodeId;
    r.leaderEpoch = state.leaderEpoch;
    // Kafka: the new leader's epoch starts at its log end; followers truncate to it (KIP-101).
    r.epochs.assign(state.leaderEpoch, r.log.logEndOffset);
    r.followers.clear();
    const rec = this.store.topics().get(r.topic.name);
    for (const id of rec?.assignment[r.index] ?? []) {
      if (id === this.nodeId) continue;
      const f = new FollowerState();
      f.resetForNewLeader(now, r.log.logEndOffset, state.isr.includes(id));
      r.followers.set(id, f);
    }
    this.host.log.info(`${r.key}: leader at epoch ${state.leaderEpoch}, isr [${state.isr.join(',')}], log end ${r.log.logEndOffset}, hw ${r.hw}`);
    // Listeners (the group coordinator) run once the replica is ready to serve as leader.
    if (r.role === 'leader') this.setRole(r, 'follower'); // a new epoch: unload, then load again
    this.setRole(r, 'leader');
    this.maybeIncrementHw(r, now);
    this.host.wake(r.log);
  }

  private becomeFollower(r: Replica, state: PartitionState): void {
    const wasLeader = r.role === 'leader';
    this.setRole(r, 'follower');
    r.leaderId = state.leader;
    r.leaderEpoch = state.leaderEpoch;
    r.followers.clear();
    this.failWaits(r, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    if (wasLeader) this.host.log.info(`${r.key}: follower of ${state.leader} at epoch ${state.leaderEpoch}`);
    this.fetchers?.remove(r);
    if (state.leader >= 0 && state.leader !== this.nodeId) this.fetchers?.add(r, state.leader);
    this.host.wake(r.log); // parked consumer fetches answer NOT_LEADER_OR_FOLLOWER now
  }

  /** Same epoch, new ISR (our own CAS, or the controller removed a dead broker). */
  private isrUpdated(r: Replica): void {
    this.maybeIncrementHw(r, Date.now());
  }

  /** The etcd session lapsed (fence) or came back. */
  setFenced(fenced: boolean): void {
    if (this.fenced === fenced) return;
    this.fenced = fenced;
    if (fenced) {
      this.host.log.warn('etcd session lost: no longer acting as leader until registered again');
      for (const r of this.replicas.values()) {
        if (r.role !== 'leader') continue;
        this.setRole(r, 'none');
        this.failWaits(r, ErrorCode.NOT_LEADER_OR_FOLLOWER);
        this.host.wake(r.log);
      }
    } else {
      this.host.log.info('etcd session regained');
      for (const r of this.replicas.values()) r.leaderEpoch = Math.min(r.leaderEpoch, (r.state?.leaderEpoch ?? 0) - 1);
      this.applyAll();
    }
  }

  // ---------------------------------------------------------------- leader side

  /**
   * The replica that may serve a leader-only request (produce, consumer fetch, list offsets), or a
   * KafkaError: NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH (the client's epoch is older than
   * ours) or UNKNOWN_LEADER_EPOCH (newer: this broker has not seen that election yet).
   */
  leaderOf(topic: string, partition: number, currentLeaderEpoch = -1): Replica {
    const r = this.replica(topic, partition);
    if (r && currentLeaderEpoch >= 0 && r.role !== 'none') {
      if (currentLeaderEpoch < r.leaderEpoch) throw new KafkaError(ErrorCode.FENCED_LEADER_EPOCH, `${topic}-${partition}: leader epoch ${currentLeaderEpoch} is older than ${r.leaderEpoch}`);
      if (currentLeaderEpoch > r.leaderEpoch) throw new KafkaError(ErrorCode.UNKNOWN_LEADER_EPOCH, `${topic}-${partition}: leader epoch ${currentLeaderEpoch} is newer than ${r.leaderEpoch}`);
    }
    if (!r || r.role !== 'leader' || this.fenced) {
      const leader = this.store.partition(topic, partition)?.leader ?? -1;
      throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `broker ${this.nodeId} is not the leader of ${topic}-${partition} (leader ${leader})`);
    }
    return r;
  }

  /** acks=all: Kafka refuses before appending when the ISR is below min.insync.replicas. */
  checkIsrForAcksAll(r: Replica): void {
    const minIsr = this.host.minInsyncReplicas(r.topic);
    if (r.isr.length < minIsr) {
      throw new KafkaError(ErrorCode.NOT_ENOUGH_REPLICAS, `The size of the current ISR [${r.isr.join(',')}] is insufficient to satisfy the min.isr requirement of ${minIsr} for partition ${r.key}`);
    }
  }

  /** After a leader append: an ISR of one moves the HW at once. */
  afterLeaderAppend(r: Replica): void {
    this.maybeIncrementHw(r, Date.now());
  }

  /**
   * Resolves once the HW passes `lastOffset` (acks=all): NONE, or NOT_ENOUGH_REPLICAS_AFTER_APPEND
   * when the ISR had fallen below min.insync.replicas by then, REQUEST_TIMED_OUT after timeoutMs,
   * NOT_LEADER_OR_FOLLOWER when leadership moved first (the records may be lost: the client retries).
   */
  waitForCommit(r: Replica, lastOffset: number, timeoutMs: number): Promise<number> {
    const minIsr = this.host.minInsyncReplicas(r.topic);
    const target = lastOffset + 1;
    if (r.hw >= target) return Promise.resolve(r.isr.length < minIsr ? ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND : ErrorCode.NONE);
    return new Promise((resolve) => {
      const wait: AckWait = {
        target,
        minIsr,
        resolve,
        timer: setTimeout(() => {
          const i = r.waits.indexOf(wait);
          if (i >= 0) r.waits.splice(i, 1);
          resolve(ErrorCode.REQUEST_TIMED_OUT);
        }, Math.max(0, timeoutMs)),
      };
      r.waits.push(wait);
    });
  }

  private failWaits(r: Replica, code: number): void {
    for (const w of r.waits.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(code);
    }
  }

  private completeWaits(r: Replica): void {
    if (r.waits.length === 0) return;
    const remaining: AckWait[] = [];
    for (const w of r.waits) {
      if (r.hw >= w.target) {
        clearTimeout(w.timer);
        w.resolve(r.isr.length < w.minIsr ? ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND : ErrorCode.NONE);
      } else remaining.push(w);
    }
    r.waits.length = 0;
    r.waits.push(...remaining);
  }

  /** Leader: the HW is the smallest log end among the ISR and caught-up replicas (replica-state.ts). */
  private maybeIncrementHw(r: Replica, now: number): void {
    if (r.role !== 'leader') return;
    const hw = computeHighWatermark({
      leaderId: this.nodeId,
      leaderLogEndOffset: r.log.logEndOffset,
      isr: r.isr,
      followers: r.followers,
      currentHw: r.hw,
      minIsr: this.host.minInsyncReplicas(r.topic),
      nowMs: now,
      replicaLagTimeMaxMs: this.config.replicaLagTimeMaxMs,
      isEligible: (id) => this.store.brokers().has(id),
    });
    if (hw > r.hw) {
      r.hw = hw;
      this.completeWaits(r);
      this.host.committed(r.log);
    }
  }

  /**
   * A follower's fetch reached the leader: its fetch offset is its log end. Updates the
   * follower's state, may move the HW, and may add it back to the ISR. Returns an error code
   * (NONE when the fetch may be served).
   */
  onFollowerFetch(r: Replica, followerId: number, fetchOffset: number, followerStartOffset: number, brokerEpoch: number): void {
    const f = r.followers.get(followerId);
    if (!f) return;
    const now = Date.now();
    f.updateFetchState(fetchOffset, followerStartOffset, now, r.log.logEndOffset, brokerEpoch);
    // Only a registered broker may join (Kafka, KIP-841: not one that is shutting down or fenced;
    // a broker in controlled shutdown still fetches until it leaves).
    const registered = this.store.brokers().has(followerId);
    if (registered && !r.isr.includes(followerId) && canJoinIsr(f, r.hw, r.epochs.startOffsetOf(r.leaderEpoch), r.log.logEndOffset, now, this.config.replicaLagTimeMaxMs)) void this.changeIsr(r, [...r.isr, followerId].sort((a, b) => a - b), `${followerId} caught up`);
    this.maybeIncrementHw(r, now);
  }

  private shrinkIsrs(): void {
    if (this.fenced) return;
    const now = Date.now();
    for (const r of this.replicas.values()) {
      if (r.role !== 'leader' || r.isrChangeInFlight) continue;
      const out = outOfSyncReplicas({ leaderId: this.nodeId, leaderLogEndOffset: r.log.logEndOffset, isr: r.isr, followers: r.followers, nowMs: now, replicaLagTimeMaxMs: this.config.replicaLagTimeMaxMs });
      if (out.length === 0) continue;
      void this.changeIsr(
        r,
        r.isr.filter((id) => !out.includes(id)),
        `${out.join(',')} out of sync for more than replica.lag.time.max.ms=${this.config.replicaLagTimeMaxMs}`,
      );
    }
  }

  /**
   * A leader's ISR change: compare-and-swap on the partition key (same version, same epoch). Counts
   * only once etcd committed it; a failed compare means this broker's view is stale: it re-reads
   * the mirror (the watch brings the newer state, which may make it a follower).
   */
  private async changeIsr(r: Replica, isr: number[], why: string): Promise<void> {
    const state = r.state;
    if (!state || r.isrChangeInFlight || r.role !== 'leader') return;
    r.isrChangeInFlight = true;
    try {
      const next = await this.store.compareAndSetPartition(r.topic.name, r.index, state.version, {
        leader: state.leader,
        leaderEpoch: state.leaderEpoch,
        isr,
        controllerEpoch: state.controllerEpoch,
      });
      if (!next) {
        this.host.log.info(`${r.key}: ISR change to [${isr.join(',')}] refused by etcd (stale state); re-reading`);
        this.applyState(r.topic.name, r.index);
        return;
      }
      const grew = next.isr.length > state.isr.length;
      this.host.log.info(`${r.key}: ISR [${state.isr.join(',')}] -> [${next.isr.join(',')}] (${why})`);
      this.isrChanges[grew ? 'expands' : 'shrinks']++;
      if (r.state && r.state.version <= next.version && r.leaderEpoch === next.leaderEpoch) r.state = next;
      this.maybeIncrementHw(r, Date.now());
    } catch (e) {
      this.host.log.warn(`${r.key}: ISR change failed: ${(e as Error).message}`);
    } finally {
      r.isrChangeInFlight = false;
    }
  }

  /** ISR changes made by this broker as leader (metrics: IsrShrinksPerSec / IsrExpandsPerSec). */
  readonly isrChanges = { shrinks: 0, expands: 0 };

  /**
   * The end offset of `leaderEpoch` in this replica's log (OffsetForLeaderEpoch, and the
   * DivergingEpoch of a follower fetch): the largest epoch <= it and where that epoch ends.
   */
  endOffsetFor(r: Replica, leaderEpoch: number): { epoch: number; endOffset: number } {
    return r.epochs.endOffsetFor(leaderEpoch, r.log.logEndOffset);
  }

  // ---------------------------------------------------------------- follower side

  /** Follower: batches fetched from the leader, appended with the leader's offsets and epochs. */
  appendFromLeader(r: Replica, records: Buffer, leaderHw: number): void {
    if (records.length > 0) {
      r.log.appendAsFollower(records);
      for (let pos = 0; pos < records.length; ) {
        const b = peekBatch(records, pos);
        if (!b) break;
        r.epochs.assign(records.readInt32BE(pos + PARTITION_LEADER_EPOCH), Number(records.readBigInt64BE(pos)));
        pos += b.size;
      }
      this.host.followerAppended(r.topic, r.index, records);
    }
    this.followerHw(r, leaderHw);
  }

  followerHw(r: Replica, leaderHw: number): void {
    const hw = Math.min(leaderHw, r.log.logEndOffset);
    if (hw > r.hw) {
      r.hw = hw;
      this.host.committed(r.log);
    }
  }

  /** Follower: cut the log where it diverges from the leader's (truncation on fetch). */
  truncate(r: Replica, offset: number): void {
    // The epoch cache is cut every time: a replica elected once that wrote nothing keeps an entry
    // at its log end, and would get the same DivergingEpoch forever otherwise.
    if (offset < r.log.logEndOffset) {
      this.host.log.warn(`${r.key}: truncating from ${r.log.logEndOffset} to ${offset} to match leader ${r.leaderId}`);
      r.log.truncateTo(Math.max(offset, r.log.logStartOffset));
      if (r.hw > r.log.logEndOffset) r.hw = r.log.logEndOffset;
      this.host.truncated(r.log);
    }
    r.epochs.truncateFromEnd(r.log.logEndOffset);
  }

  // ---------------------------------------------------------------- persistence

  /** Writes every replica's HW to replication-offset-checkpoint (Kafka's file and format). */
  checkpointHighWatermarks(): void {
    const entries = [...this.replicas.values()].map((r) => ({ topic: r.topic.name, partition: r.index, offset: r.hw }));
    try {
      writeOffsetCheckpoint(join(this.host.dataDir, HW_CHECKPOINT), entries);
      this.checkpointed = new Map(entries.map((e) => [topicPartitionKey(e.topic, e.partition), e.offset]));
    } catch (e) {
      this.host.log.error(`writing ${HW_CHECKPOINT} failed: ${(e as Error).message}`);
    }
  }
}

/** Byte position of partitionLeaderEpoch in a RecordBatch v2 header. */
const PARTITION_LEADER_EPOCH = 12;

/** Fetchers by leader (replica-fetcher.ts); an interface so this file needs no sockets. */
export interface FetcherPool {
  add(r: Replica, leaderId: number): void;
  remove(r: Replica): void;
}

function readCheckpoint(path: string, log: Logger): Map<string, number> {
  try {
    return readOffsetCheckpoint(path);
  } catch (e) {
    log.warn(`${(e as Error).message}: high watermarks start at 0 and catch up from the leaders`);
    return new Map();
  }
}

/** Epoch and base offset of every batch, oldest first (rebuilding a lost leader-epoch-checkpoint). */
function* batchEpochs(log: PartitionLog): Iterable<{ epoch: number; baseOffset: number }> {
  let from = log.logStartOffset;
  for (;;) {
    const headers = log.batchHeaders(from, 1000);
    if (headers.length === 0) return;
    for (const h of headers) yield { epoch: h.leaderEpoch, baseOffset: h.baseOffset };
    from = headers[headers.length - 1]!.lastOffset + 1;
  }
}

export { UNDEFINED_EPOCH };
