/**
 * The transaction coordinator (Kafka's TransactionCoordinator + TransactionStateManager, transaction
 * version 1): one TxnMetadata per transactional id, kept in memory and in `__transaction_state`
 * (records.ts), moved by the rules of metadata.ts.
 *
 * Contracts:
 * - Every transition is stored (appended, and as durable as the topic's flush policy asks; in a
 *   cluster, committed by the in-sync replicas) before the request that caused it is answered and
 *   before the in-memory state changes. A failed write leaves the state as it was and answers the
 *   store's code (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE).
 * - EndTxn: PrepareCommit/PrepareAbort is stored, the markers are written to every partition of
 *   the transaction (host.writeTxnMarkers, retried until each partition has it or is gone), then
 *   CompleteCommit/CompleteAbort is stored, and only then is EndTxn answered NONE. Kafka answers
 *   after PrepareX and writes markers afterwards, which makes kafkajs fail on the
 *   CONCURRENT_TRANSACTIONS that follows (reference §1.7-1); synchronous completion avoids that.
 * - A transaction Ongoing past start + timeout is fenced (epoch + 1) and aborted by the broker,
 *   every transaction.abort.timed.out.transaction.cleanup.interval.ms; its producer's next request
 *   is PRODUCER_FENCED (INVALID_PRODUCER_EPOCH from the partitions).
 * - An id with nothing open and no update for transactional.id.expiration.ms is tombstoned and
 *   forgotten, checked every transaction.remove.expired.transaction.cleanup.interval.ms.
 * - Loading replays `__transaction_state` (latest record per id, tombstones delete): a
 *   PrepareCommit/PrepareAbort found is finished (markers, then CompleteX); an Ongoing one keeps its
 *   stored start time, so its timeout still runs. A single node creates the topic at the first
 *   transactional request (as Kafka does) or loads every partition at start when it exists; a
 *   cluster member loads the partitions it leads as leadership arrives (like the group
 *   coordinator) and answers NOT_COORDINATOR for the others. The coordinator epoch written into
 *   markers is the partition's leader epoch (0 on one node).
 *
 * Not implemented: transaction.version 2 (KIP-890 part 2), the batched AddPartitionsToTxn v4+,
 * a TRANSACTION_ABORTABLE answer (InitProducerId v5 is served with v4's behaviour).
 */
import type { BrokerConfig } from '../../config.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { KafkaError, toErrorCode } from '../../broker/errors.js';
import type { ClusterMembership } from '../../broker/cluster-membership.js';
import type { Logger } from '../../util/logger.js';
import { OffsetStore, type OffsetStoreHost } from '../offset-store.js';
import { OFFSETS_TOPIC, RecordFormatError } from '../records.js';
import type { CoordinatorNode } from '../coordinator.js';
import {
  expired,
  fencedCode,
  fromLogValue,
  newTxnMetadata,
  partitionList,
  prepareAddPartitions,
  prepareComplete,
  prepareEndTxn,
  prepareFencedAbort,
  prepareInitProducerId,
  rotateProducerId,
  timedOut,
  toLogValue,
  validTimeout,
  verifyOffsetsPartition,
  verifyPartition,
  type TxnMetadata,
} from './metadata.js';
import { decodeTxnKey, decodeTxnValue, encodeTxnKey, encodeTxnValue, TRANSACTION_STATE_TOPIC, TXN_STATE_NAMES, TxnState, txnPartitionFor } from './records.js';

/** A COMMIT or ABORT marker as the coordinator asks for it (txn-markers.ts's TxnMarker). */
export interface TxnMarkerRequest {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
}

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

/**
 * What the coordinator needs of the broker (broker.ts passes itself): the store's needs, its
 * settings, producer ids, the group partitioning (AddOffsetsToTxn adds the group's
 * `__consumer_offsets` partition), and the marker writer: locally through txn-markers.ts, in a
 * cluster WriteTxnMarkers to each partition's leader. writeTxnMarkers answers one code per
 * partition and never rejects for a single partition's failure.
 */
export interface TransactionCoordinatorHost extends OffsetStoreHost {
  readonly config: Pick<BrokerConfig, 'cluster' | 'transactions'>;
  readonly log: Logger;
  readonly groups: { partitionFor(groupId: string): number };
  allocateProducerId(): number | Promise<number>;
  writeTxnMarkers(marker: TxnMarkerRequest, partitions: TopicPartitionRef[]): Promise<(TopicPartitionRef & { errorCode: number })[]>;
}

export interface InitProducerIdResult {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

export interface PartitionResult {
  partitionIndex: number;
  partitionErrorCode: number;
}

export interface TransactionDescription {
  errorCode: number;
  transactionalId: string;
  transactionState: string;
  transactionTimeoutMs: number;
  transactionStartTimeMs: bigint;
  producerId: bigint;
  producerEpoch: number;
  topics: { topic: string; partitions: number[] }[];
}

export interface TransactionListing {
  errorCode: number;
  unknownStateFilters: string[];
  transactionStates: { transactionalId: string; producerId: bigint; transactionState: string }[];
}

/** The version from which each API answers PRODUCER_FENCED (INVALID_PRODUCER_EPOCH below, as KafkaApis does). */
const FENCED_SINCE = { initProducerId: 4, addPartitions: 2, addOffsets: 2, endTxn: 2 } as const;
const NO_ID = -1;
/** Marker retries back off from this to MARKER_RETRY_MAX_MS. */
const MARKER_RETRY_MS = 100;
const MARKER_RETRY_MAX_MS = 2000;
/** How long EndTxn waits for its markers and CompleteX before answering anyway (see endTxn). */
const ENDTXN_MARKER_WAIT_MS = 10_000;
/** A CompleteX write that failed is tried again after this long. */
const COMPLETE_RETRY_MS = 1000;

export class TransactionCoordinator {
  private readonly txns = new Map<string, TxnMetadata>();
  /** Undefined on one node until transactions are first used (see openStore). */
  private storeIfOpen: OffsetStore | undefined;
  /** Ids whose first InitProducerId is allocating a producer id (a second one meanwhile: CONCURRENT_TRANSACTIONS). */
  private readonly creating = new Set<string>();
  /** The partitions whose ids are in `txns`, with the coordinator epoch (leader epoch) they were loaded at. */
  private readonly served = new Map<number, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private active = true;
  private attached: ClusterMembership | undefined;
  private stopFollowing: (() => void) | undefined;
  private creatingTopic = false;

  constructor(private readonly host: TransactionCoordinatorHost) {
    const cfg = host.config.transactions;
    if (host.config.cluster.enabled || host.topics.get(TRANSACTION_STATE_TOPIC)) this.openStore();
    const every = (ms: number, f: () => void) => {
      const t = setInterval(f, ms);
      t.unref();
      this.timers.push(t);
    };
    every(cfg.abortTimedOutIntervalMs, () => this.abortTimedOut());
    every(cfg.removeExpiredIntervalMs, () => this.removeExpired());
  }

  /**
   * The store, opened on first use: like Kafka, a broker whose clients never use transactions
   * never creates `__transaction_state` (50 partitions by default). One node: created and loaded
   * here (at start when it exists already). In a cluster the store never creates the topic
   * (findCoordinator does, through etcd) and partitions load as leadership arrives.
   */
  private openStore(): OffsetStore {
    if (this.storeIfOpen) return this.storeIfOpen;
    const cfg = this.host.config.transactions;
    const store = new OffsetStore(this.host, this.host.log, {
      name: TRANSACTION_STATE_TOPIC,
      numPartitions: cfg.stateLogNumPartitions,
      numPartitionsSetting: 'transaction.state.log.num.partitions',
      configs: { 'cleanup.policy': 'compact', 'segment.bytes': cfg.stateLogSegmentBytes },
    });
    this.storeIfOpen = store;
    if (!this.host.config.cluster.enabled) {
      for (let p = 0; p < store.partitions; p++) this.load(p, 0);
    }
    return store;
  }

  close(): void {
    this.active = false;
    for (const t of this.timers) clearInterval(t);
    this.stopFollowing?.();
  }

  // ------------------------------------------------------------------------------- ownership

  partitionFor(transactionalId: string): number {
    return txnPartitionFor(transactionalId, this.storeIfOpen?.partitions ?? this.host.config.transactions.stateLogNumPartitions);
  }

  /**
   * FindCoordinator key type 1: undefined on one node (this broker); in a cluster the live leader
   * of the id's `__transaction_state` partition, created on first use like `__consumer_offsets`.
   */
  findCoordinator(transactionalId: string): CoordinatorNode | undefined {
    const cluster = this.cluster;
    if (!cluster) {
      this.openStore();
      return undefined;
    }
    if (!this.openStore().exists) {
      this.createTopic(cluster);
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, message: `${TRANSACTION_STATE_TOPIC} is being created` };
    }
    const p = this.partitionFor(transactionalId);
    const leader = cluster.partitionView(TRANSACTION_STATE_TOPIC, p).leader;
    const node = leader < 0 ? undefined : cluster.liveBrokers().find((b) => b.nodeId === leader);
    if (!node) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, message: `${TRANSACTION_STATE_TOPIC}-${p} has no live leader` };
    return { errorCode: ErrorCode.NONE, node };
  }

  private createTopic(cluster: ClusterMembership): void {
    if (this.creatingTopic) return;
    this.creatingTopic = true;
    const cfg = this.host.config.transactions;
    const replicationFactor = Math.max(1, Math.min(cfg.stateLogReplicationFactor, cluster.liveBrokers().length));
    const configs = { 'cleanup.policy': 'compact', 'segment.bytes': cfg.stateLogSegmentBytes, 'min.insync.replicas': Math.min(cfg.stateLogMinIsr, replicationFactor) };
    cluster
      .createTopic(TRANSACTION_STATE_TOPIC, cfg.stateLogNumPartitions, replicationFactor, configs)
      .then(
        () => this.host.log.info(`created ${TRANSACTION_STATE_TOPIC} with ${cfg.stateLogNumPartitions} partitions, replication factor ${replicationFactor}`),
        (e: Error) => {
          if (!(e instanceof KafkaError && e.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS)) this.host.log.warn(`creating ${TRANSACTION_STATE_TOPIC} failed: ${e.message}`);
        },
      )
      .finally(() => (this.creatingTopic = false));
  }

  /** The membership, or undefined on one node; the first sight subscribes to leadership changes. */
  private get cluster(): ClusterMembership | undefined {
    const cluster = this.host.cluster;
    if (cluster && cluster !== this.attached && this.active) {
      this.stopFollowing?.();
      this.attached = cluster;
      this.stopFollowing = cluster.onLeadershipChange((topic, p, leader) => {
        if (topic !== TRANSACTION_STATE_TOPIC || !this.active) return;
        if (leader) this.loadLed(cluster, p);
        else this.unload(p);
      });
      const store = this.openStore();
      if (store.exists) {
        for (let p = 0; p < store.partitions; p++) {
          if (cluster.isLeader(TRANSACTION_STATE_TOPIC, p)) this.loadLed(cluster, p);
          else this.unload(p);
        }
      }
    }
    return cluster;
  }

  private loadLed(cluster: ClusterMembership, p: number): void {
    let epoch: number;
    try {
      epoch = cluster.leader(TRANSACTION_STATE_TOPIC, p).leaderEpoch;
    } catch {
      return;
    }
    if (this.served.get(p) === epoch) return;
    this.unload(p);
    this.load(p, epoch);
  }

  private unload(p: number): void {
    if (!this.served.delete(p)) return;
    for (const id of [...this.txns.keys()]) if (this.partitionFor(id) === p) this.txns.delete(id);
  }

  /**
   * NONE when this broker coordinates the id now; otherwise NOT_COORDINATOR (clients look again).
   * A single node coordinates every id (with none known before the store is open).
   */
  private owner(transactionalId: string): number {
    void this.cluster; // subscribes on first use in a cluster
    if (!this.storeIfOpen && !this.host.config.cluster.enabled) return ErrorCode.NONE;
    return this.served.has(this.partitionFor(transactionalId)) ? ErrorCode.NONE : ErrorCode.NOT_COORDINATOR;
  }

  private coordinatorEpoch(transactionalId: string): number {
    return this.served.get(this.partitionFor(transactionalId)) ?? 0;
  }

  // ------------------------------------------------------------------------------- loading

  /** Replays partition p into `txns` and finishes the transactions found half-ended. */
  private load(p: number, coordinatorEpoch: number): void {
    const found = new Map<string, TxnMetadata | null>();
    let bad = 0;
    this.openStore().replayPartition(p, (_p, key, value) => {
      try {
        const id = decodeTxnKey(key);
        found.set(id, value === null ? null : fromLogValue(id, decodeTxnValue(value)));
      } catch (e) {
        if (!(e instanceof RecordFormatError)) throw e;
        bad++;
      }
    });
    if (bad > 0) this.host.log.warn(`${TRANSACTION_STATE_TOPIC}-${p}: skipped ${bad} unreadable record(s)`);
    this.served.set(p, coordinatorEpoch);
    for (const [id, md] of found) {
      if (!md || md.state === TxnState.Dead) continue;
      this.txns.set(id, md);
      // Finished once the broker is up (the marker writer needs the rest of it); meanwhile the
      // id answers CONCURRENT_TRANSACTIONS to its producer, which retries.
      if (md.state === TxnState.PrepareCommit || md.state === TxnState.PrepareAbort) {
        this.txns.set(id, { ...md, pending: md.state === TxnState.PrepareCommit ? TxnState.CompleteCommit : TxnState.CompleteAbort });
        setImmediate(() => void this.complete(md));
      }
    }
  }

  // ------------------------------------------------------------------------------- writing

  /** Stores the metadata; NONE, or the store's error code. */
  private async persist(md: TxnMetadata): Promise<number> {
    try {
      const value = md.state === TxnState.Dead ? null : encodeTxnValue(toLogValue(md));
      await this.openStore().append(this.partitionFor(md.transactionalId), [{ key: encodeTxnKey(md.transactionalId), value }], md.lastUpdateMs);
      return ErrorCode.NONE;
    } catch (e) {
      const { errorCode } = toErrorCode(e, this.host.log);
      this.host.log.warn(`${TRANSACTION_STATE_TOPIC}: writing ${md.transactionalId} (${TXN_STATE_NAMES[md.state]}) failed: ${(e as Error).message}`);
      return errorCode === ErrorCode.NOT_COORDINATOR || errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE ? errorCode : ErrorCode.UNKNOWN_SERVER_ERROR;
    }
  }

  /**
   * Writes `next` with `current` marked pending meanwhile; on success `next` becomes current
   * (keeping `pendingAfter` as its pending state, for multi-step operations).
   */
  private async transition(current: TxnMetadata, next: TxnMetadata, pendingAfter?: TxnState): Promise<number> {
    const id = current.transactionalId;
    this.txns.set(id, { ...current, pending: next.state });
    const code = await this.persist(next);
    // An unload (leadership lost) while writing: the id is no longer ours to change.
    if (!this.served.has(this.partitionFor(id))) return code === ErrorCode.NONE ? ErrorCode.NOT_COORDINATOR : code;
    this.txns.set(id, code === ErrorCode.NONE ? { ...next, pending: pendingAfter } : { ...current, pending: undefined });
    return code;
  }

  /**
   * Markers to every partition of a PrepareX transaction, then CompleteX. Resolves true when
   * CompleteX is stored; false when the coordinator closed or lost the id first (the PrepareX in the
   * log is finished by the next load), or CompleteX could not be stored (tried again later).
   */
  private async complete(prepared: TxnMetadata): Promise<boolean> {
    const id = prepared.transactionalId;
    const marker: TxnMarkerRequest = { producerId: prepared.producerId, producerEpoch: prepared.producerEpoch, commit: prepared.state === TxnState.PrepareCommit, coordinatorEpoch: this.coordinatorEpoch(id) };
    let remaining = partitionList(prepared).flatMap((tp) => tp.partitions.map((partition) => ({ topic: tp.topic, partition })));
    for (let attempt = 0; remaining.length > 0; attempt++) {
      if (!this.active || this.txns.get(id)?.state !== prepared.state) return false;
      let results: (TopicPartitionRef & { errorCode: number })[];
      try {
        results = await this.host.writeTxnMarkers(marker, remaining);
      } catch (e) {
        this.host.log.warn(`markers of ${id}: ${(e as Error).message}`);
        results = remaining.map((tp) => ({ ...tp, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR }));
      }
      remaining = results.filter((r) => !this.markerDone(id, marker, r));
      if (remaining.length > 0) await sleep(Math.min(MARKER_RETRY_MS * 2 ** attempt, MARKER_RETRY_MAX_MS));
    }
    const current = this.txns.get(id);
    if (!this.active || !current || current.state !== prepared.state) return false;
    const code = await this.transition(current, prepareComplete(current, Date.now()));
    if (code !== ErrorCode.NONE && this.active && this.txns.get(id)?.state === prepared.state) {
      this.txns.set(id, { ...this.txns.get(id)!, pending: prepared.state === TxnState.PrepareCommit ? TxnState.CompleteCommit : TxnState.CompleteAbort });
      setTimeout(() => void this.complete(prepared), COMPLETE_RETRY_MS).unref();
    }
    return code === ErrorCode.NONE;
  }

  /**
   * Whether a partition's marker answer ends its retries (Kafka's TransactionMarkerRequestCompletionHandler):
   * written; the partition is gone (deleted topic); or the partition has a newer epoch, or refuses
   * the marker for good, which retrying cannot change (logged).
   */
  private markerDone(id: string, m: TxnMarkerRequest, r: TopicPartitionRef & { errorCode: number }): boolean {
    switch (r.errorCode) {
      case ErrorCode.NONE:
        return true;
      case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION: {
        const topic = this.host.topics.get(r.topic);
        return !topic || r.partition >= topic.partitions.length;
      }
      case ErrorCode.INVALID_PRODUCER_EPOCH:
      case ErrorCode.PRODUCER_FENCED:
      case ErrorCode.TRANSACTION_COORDINATOR_FENCED:
      case ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT:
      case ErrorCode.UNSUPPORTED_VERSION:
        this.host.log.warn(`${m.commit ? 'COMMIT' : 'ABORT'} marker of ${id} (producer ${m.producerId}, epoch ${m.producerEpoch}) refused by ${r.topic}-${r.partition} with ${r.errorCode}: given up`);
        return true;
      default:
        return false;
    }
  }

  /** Fences the Ongoing transaction (epoch + 1) and aborts it: PrepareAbort, markers, CompleteAbort. */
  private async fenceAndAbort(md: TxnMetadata): Promise<void> {
    const prepared = prepareFencedAbort(md, Date.now());
    const code = await this.transition(md, prepared);
    if (code !== ErrorCode.NONE) return;
    this.host.log.info(`transactional id ${md.transactionalId}: open transaction of producer ${md.producerId} epoch ${md.producerEpoch} fenced and aborted`);
    await this.complete(prepared);
  }

  private abortTimedOut(): void {
    const now = Date.now();
    for (const md of this.txns.values()) if (timedOut(md, now)) void this.fenceAndAbort(md);
  }

  private removeExpired(): void {
    const now = Date.now();
    const expirationMs = this.host.config.transactions.idExpirationMs;
    for (const md of this.txns.values()) {
      if (!expired(md, now, expirationMs)) continue;
      void this.transition(md, { ...md, state: TxnState.Dead, lastUpdateMs: now }).then((code) => {
        if (code === ErrorCode.NONE && this.txns.get(md.transactionalId)?.state === TxnState.Dead) this.txns.delete(md.transactionalId);
      });
    }
  }

  // ------------------------------------------------------------------------------- requests

  /**
   * InitProducerId with a transactional id (a null one is the handler's: a new id at epoch 0).
   * `producerId`/`producerEpoch`: the v3+ pair (-1/-1 = none; the handler refuses half a pair).
   */
  async initProducerId(transactionalId: string, timeoutMs: number, producerId: number, producerEpoch: number, version: number): Promise<InitProducerIdResult> {
    const answer = (errorCode: number, md?: TxnMetadata): InitProducerIdResult =>
      errorCode === ErrorCode.NONE && md ? { errorCode, producerId: md.producerId, producerEpoch: md.producerEpoch } : { errorCode: fencedCode(errorCode, version, FENCED_SINCE.initProducerId), producerId: NO_ID, producerEpoch: NO_ID };
    if (transactionalId === '') return answer(ErrorCode.INVALID_REQUEST);
    if (!validTimeout(timeoutMs, this.host.config.transactions.maxTimeoutMs)) return answer(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    try {
      this.openStore();
    } catch (e) {
      return answer(toErrorCode(e, this.host.log).errorCode);
    }
    const own = this.owner(transactionalId);
    if (own !== ErrorCode.NONE) return answer(own);
    let md = this.txns.get(transactionalId);
    let created = false;
    if (!md) {
      if (this.creating.has(transactionalId)) return answer(ErrorCode.CONCURRENT_TRANSACTIONS);
      this.creating.add(transactionalId);
      try {
        const pid = await this.host.allocateProducerId();
        md = this.txns.get(transactionalId);
        if (!md) {
          md = newTxnMetadata(transactionalId, pid, timeoutMs, Date.now());
          this.txns.set(transactionalId, md);
          created = true;
        }
      } catch (e) {
        return answer(toErrorCode(e, this.host.log).errorCode);
      } finally {
        this.creating.delete(transactionalId);
      }
    }
    const expected = producerId === NO_ID ? undefined : { producerId, producerEpoch };
    const t = prepareInitProducerId(md, timeoutMs, expected, Date.now());
    let next: TxnMetadata;
    if ('fenceAndAbort' in t) {
      void this.fenceAndAbort(md);
      return answer(ErrorCode.CONCURRENT_TRANSACTIONS);
    } else if ('rotate' in t) {
      this.txns.set(transactionalId, { ...md, pending: TxnState.Empty });
      let pid: number;
      try {
        pid = await this.host.allocateProducerId();
      } catch (e) {
        this.txns.set(transactionalId, { ...md, pending: undefined });
        return answer(toErrorCode(e, this.host.log).errorCode);
      }
      next = rotateProducerId(md, pid, timeoutMs, t.recordLastEpoch, Date.now());
    } else if (t.next) {
      next = t.next;
    } else {
      return answer(t.errorCode);
    }
    const code = await this.transition(md, next);
    if (code !== ErrorCode.NONE && created && this.txns.get(transactionalId)?.producerEpoch === -1) this.txns.delete(transactionalId);
    return answer(code, next);
  }

  /**
   * AddPartitionsToTxn (v0-3). A partition of an unknown topic (or beyond its partitions) fails the
   * request: UNKNOWN_TOPIC_OR_PARTITION there, OPERATION_NOT_ATTEMPTED for the rest (KafkaApis).
   */
  async addPartitions(transactionalId: string, producerId: number, producerEpoch: number, topics: readonly { name: string; partitions: readonly number[] }[], version: number): Promise<{ name: string; resultsByPartition: PartitionResult[] }[]> {
    const all = (code: (topic: string, p: number) => number) => topics.map((t) => ({ name: t.name, resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: code(t.name, p) })) }));
    const unknown = (topic: string, p: number) => {
      const t = this.host.topics.get(topic);
      return !t || p < 0 || p >= t.partitions.length;
    };
    if (topics.some((t) => t.partitions.some((p) => unknown(t.name, p)))) {
      return all((topic, p) => (unknown(topic, p) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED));
    }
    const add = topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
    const code = fencedCode(await this.add(transactionalId, producerId, producerEpoch, add), version, FENCED_SINCE.addPartitions);
    return all(() => code);
  }

  /** AddOffsetsToTxn (v0-4): the group's `__consumer_offsets` partition joins the transaction. */
  async addOffsets(transactionalId: string, producerId: number, producerEpoch: number, groupId: string, version: number): Promise<number> {
    const add = [{ topic: OFFSETS_TOPIC, partition: this.host.groups.partitionFor(groupId) }];
    return fencedCode(await this.add(transactionalId, producerId, producerEpoch, add), version, FENCED_SINCE.addOffsets);
  }

  private async add(transactionalId: string, producerId: number, producerEpoch: number, add: { topic: string; partition: number }[]): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const own = this.owner(transactionalId);
    if (own !== ErrorCode.NONE) return own;
    const md = this.txns.get(transactionalId);
    const t = prepareAddPartitions(md, producerId, producerEpoch, add, Date.now());
    if (!t.next || !md) return t.errorCode;
    return this.transition(md, t.next);
  }

  /**
   * EndTxn (v0-4): answered once the markers and CompleteX are stored (see the file comment); a
   * retried commit/abort that already completed is NONE.
   */
  async endTxn(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean, version: number): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const own = this.owner(transactionalId);
    if (own !== ErrorCode.NONE) return own;
    const md = this.txns.get(transactionalId);
    const t = prepareEndTxn(md, producerId, producerEpoch, commit, Date.now());
    if (!t.next || !md) return fencedCode(t.errorCode, version, FENCED_SINCE.endTxn);
    const code = await this.transition(md, t.next);
    if (code !== ErrorCode.NONE) return code;
    // PrepareX is stored: the outcome is decided. A completion cut short (shutdown) is finished
    // by the next load, so the answer is NONE either way. Markers that cannot be written for a
    // while (a partition without enough in-sync replicas) do not hold the answer past
    // ENDTXN_MARKER_WAIT_MS: they go on being retried, and the producer's next call meets
    // CONCURRENT_TRANSACTIONS (retriable) until CompleteX is stored, as it would on Kafka.
    await Promise.race([this.complete(t.next), sleep(ENDTXN_MARKER_WAIT_MS)]);
    return ErrorCode.NONE;
  }

  /** DescribeTransactions: one entry per id (TRANSACTIONAL_ID_NOT_FOUND for an unknown one). */
  describe(transactionalIds: readonly string[]): TransactionDescription[] {
    return transactionalIds.map((id) => {
      const none: TransactionDescription = { errorCode: ErrorCode.NONE, transactionalId: id, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1n, producerId: -1n, producerEpoch: -1, topics: [] };
      const own = this.owner(id);
      if (own !== ErrorCode.NONE) return { ...none, errorCode: own };
      const md = this.txns.get(id);
      if (!md || md.state === TxnState.Dead || md.producerEpoch === -1) return { ...none, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
      return {
        errorCode: ErrorCode.NONE,
        transactionalId: id,
        transactionState: TXN_STATE_NAMES[md.state]!,
        transactionTimeoutMs: md.timeoutMs,
        transactionStartTimeMs: BigInt(md.startMs),
        producerId: BigInt(md.producerId),
        producerEpoch: md.producerEpoch,
        topics: partitionList(md),
      };
    });
  }

  /**
   * ListTransactions (Kafka's listTransactionStates): ids whose state is among `stateFilters` (any
   * when empty; names Kafka does not know are echoed in unknownStateFilters and match nothing), whose
   * producer is among `producerIdFilters` (any when empty), and, when `durationFilterMs` >= 0,
   * whose transaction started more than that long ago.
   */
  list(stateFilters: readonly string[], producerIdFilters: readonly bigint[], durationFilterMs = -1n): TransactionListing {
    void this.cluster;
    const known = new Set<TxnState>();
    const unknownStateFilters: string[] = [];
    for (const name of stateFilters) {
      const i = TXN_STATE_NAMES.indexOf(name);
      if (i < 0) unknownStateFilters.push(name);
      else known.add(i as TxnState);
    }
    const pids = new Set(producerIdFilters.map(Number));
    const now = Date.now();
    const transactionStates: TransactionListing['transactionStates'] = [];
    for (const md of this.txns.values()) {
      if (md.state === TxnState.Dead || md.producerEpoch === -1) continue;
      if (pids.size > 0 && !pids.has(md.producerId)) continue;
      if (stateFilters.length > 0 && !known.has(md.state)) continue;
      if (durationFilterMs >= 0n && BigInt(now - md.startMs) <= durationFilterMs) continue;
      transactionStates.push({ transactionalId: md.transactionalId, producerId: BigInt(md.producerId), transactionState: TXN_STATE_NAMES[md.state]! });
    }
    return { errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates };
  }

  /** Produce-time check (KIP-890 part 1); NONE for an id coordinated elsewhere. See metadata.verifyPartition. */
  verifyPartition(transactionalId: string, producerId: number, producerEpoch: number, topic: string, partition: number): number {
    if (this.owner(transactionalId) !== ErrorCode.NONE) return ErrorCode.NONE;
    return verifyPartition(this.txns.get(transactionalId), producerId, producerEpoch, topic, partition);
  }

  /** TxnOffsetCommit check; NONE for an id coordinated elsewhere. See metadata.verifyOffsetsPartition. */
  verifyGroup(transactionalId: string, producerId: number, producerEpoch: number, groupId: string): number {
    if (this.owner(transactionalId) !== ErrorCode.NONE) return ErrorCode.NONE;
    return verifyOffsetsPartition(this.txns.get(transactionalId), producerId, producerEpoch, OFFSETS_TOPIC, this.host.groups.partitionFor(groupId));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
