/**
 * The broker's state and Kafka semantics, independent of sockets: topics and their logs, producer
 * state, fetch waiters, retention, and the log cleaner (compaction). Handlers receive it; the
 * network layer never touches it.
 */
import type { BrokerConfig, Listener } from '../config.js';
import { GroupCoordinator } from '../coordinator/coordinator.js';
import { TransactionCoordinator } from '../coordinator/transactions/coordinator.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { KafkaError } from './errors.js';
import { FetchWaiters } from './fetch-waiters.js';
import { loadDynamicConfigs } from './dynamic-configs.js';
import { LogCleaner, type CleanedLog } from './log-cleaner.js';
import { PartitionProducers, ProducerIdAllocator } from './producers.js';
import type { TxnMarker } from './control-records.js';
import { writeTxnMarker } from './txn-markers.js';
import { BrokerStats } from './stats.js';
import { topicNameProblem, TopicRegistry, type Topic } from './topics.js';
import { join } from 'node:path';
import type { Logger } from '../util/logger.js';
import type { ClusterMembership } from './cluster-membership.js';

export type { Logger } from '../util/logger.js';

/** How long markers of one transaction are retried across leader moves before the coordinator hears an error. */
const TXN_MARKER_TIMEOUT_MS = 30_000;

export class Broker {
  readonly topics: TopicRegistry;
  readonly producerIds: ProducerIdAllocator;
  readonly waiters = new FetchWaiters<PartitionLog>();
  /**
   * Followers' fetches parked at this leader. Apart from `waiters` because they wait for appends
   * only: a high-watermark move (committed()) wakes readers, not followers, which read to the log
   * end and would re-run and park again for nothing on every acknowledgement.
   */
  readonly followerWaiters = new FetchWaiters<PartitionLog>();
  /** Traffic counters (stats.ts): per topic, per API key; read by /metrics and the console. */
  readonly stats = new BrokerStats();
  /** Consumer groups and committed offsets (src/coordinator/). */
  readonly groups: GroupCoordinator;
  /** Transactions: `__transaction_state`, producer ids per transactional id, markers (src/coordinator/transactions/). */
  readonly transactions: TransactionCoordinator;
  private readonly producerState = new Map<PartitionLog, PartitionProducers>();
  private retentionTimer: NodeJS.Timeout | undefined;
  /** Compacts logs with cleanup.policy=compact (log-cleaner.ts); runs when log.cleaner.enable. */
  readonly cleaner: LogCleaner;
  private closing = false;
  /**
   * Membership of a replicated cluster (src/cluster/node.ts), attached by startBroker when
   * etcd.endpoints is set; undefined for the single node, which leads every partition itself.
   */
  cluster: ClusterMembership | undefined;

  /** `opts.clusterId`: the id etcd holds, when joining a cluster (see TopicRegistry). */
  constructor(
    readonly config: BrokerConfig,
    readonly log: Logger,
    opts: { clusterId?: string } = {},
  ) {
    this.advertised = config.advertised;
    this.stats.enabled = config.metricsEnabled !== false; // metrics.enabled=false: the hooks skip counting
    loadDynamicConfigs(config, log); // before any log opens: they change topic defaults
    this.topics = new TopicRegistry(config, log, opts.clusterId);
    this.producerIds = new ProducerIdAllocator(config.dataDir);
    if (!this.producerIds.blockFileRead) this.recoverProducerIds();
    this.groups = new GroupCoordinator(this);
    // After the groups: finishing a transaction found half-done in the log writes markers, and a
    // marker in __consumer_offsets settles the group's pending transactional offsets.
    this.transactions = new TransactionCoordinator(this);
    this.retentionTimer = setInterval(() => this.runRetention(), config.retentionCheckIntervalMs);
    this.retentionTimer.unref();
    this.cleaner = new LogCleaner(this.topics, log, {
      backoffMs: config.cleanerBackoffMs,
      mapBytes: config.cleanerDedupeBufferSize,
      // Compaction stays below the last stable offset and drops aborted transactions' records.
      transactionalBounds: (_topic, _partition, l) => {
        const producers = this.producersOfLog(l);
        return { upTo: producers.lastStableOffset(this.readableEnd(l)), aborted: [...producers.abortedRanges()] };
      },
    });
    if (config.cleanerEnable) this.cleaner.start();
  }

  /**
   * Runs a cleaner round now over every compacted log (after the round in flight, if any) and
   * returns what each pass did; `force` ignores min.cleanable.dirty.ratio. For tests and admin; the
   * cleaner also runs by itself every log.cleaner.backoff.ms.
   */
  compactNow(opts: { force?: boolean; now?: number } = {}): Promise<CleanedLog[]> {
    return this.cleaner.compactNow(opts);
  }

  /** Where clients reach this broker (Metadata); set once the listener is bound. */
  advertised: Listener;

  setAdvertised(l: Listener): void {
    this.advertised = l;
  }

  get clusterId(): string {
    return this.topics.clusterId;
  }

  /** True from the start of a shutdown: parked fetches answer with what they have. */
  get isClosing(): boolean {
    return this.closing || this.draining;
  }

  private draining = false;

  /** First step of a shutdown: wakes parked fetches, which now answer at once (see isClosing). */
  stopServing(): void {
    this.draining = true;
    this.waiters.notifyAll();
    this.followerWaiters.notifyAll();
  }

  /**
   * The topic, auto-created when allowed (auto.create.topics.enable and the request permits it).
   * Returns undefined when it does not exist and may not be created.
   */
  topicOrCreate(name: string, allowCreate: boolean): Topic | undefined {
    const existing = this.topics.get(name);
    if (existing || !allowCreate || !this.config.autoCreateTopics) return existing;
    if (topicNameProblem(name) !== undefined) return undefined;
    if (this.cluster) {
      this.autoCreateInCluster(name);
      return undefined;
    }
    return this.topics.create(name, this.config.numPartitions);
  }

  /**
   * Auto-created topics in a cluster: created through etcd in the background, as Kafka does;
   * meanwhile Metadata answers LEADER_NOT_AVAILABLE for them (isAutoCreating) and clients retry.
   */
  private readonly autoCreating = new Set<string>();

  isAutoCreating(name: string): boolean {
    return this.autoCreating.has(name);
  }

  private autoCreateInCluster(name: string): void {
    if (this.autoCreating.has(name) || !this.cluster) return;
    this.autoCreating.add(name);
    const rf = Math.min(this.config.defaultReplicationFactor, this.cluster.liveBrokers().length);
    this.cluster
      .createTopic(name, this.config.numPartitions, Math.max(1, rf), {})
      .catch((e: Error) => {
        if (!(e instanceof KafkaError && e.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS)) this.log.warn(`auto-creating topic ${name} failed: ${e.message}`);
      })
      .finally(() => this.autoCreating.delete(name));
  }

  /** The partition's idempotent-producer state if it was loaded (a follower's appends update it). */
  producersIfLoaded(topic: Topic, partition: number): PartitionProducers | undefined {
    const log = topic.partitions[partition];
    return log && this.producerState.get(log);
  }

  /** The log was truncated (a follower matching its leader): producer state is rebuilt on next use. */
  forgetProducers(log: PartitionLog): void {
    // A snapshot or .txnindex entries past the new end would be taken as true on the next load.
    PartitionProducers.truncated(log, log.dir);
    this.producerState.delete(log);
  }

  /**
   * A new producer id: from this broker's own blocks on one node, from blocks etcd hands out in a
   * cluster (unique cluster-wide, as Kafka's /latest_producer_id_block).
   */
  allocateProducerId(): number | Promise<number> {
    return this.cluster ? this.cluster.allocateProducerId() : this.producerIds.allocate();
  }

  /**
   * How far readers on this broker may read the log: its high watermark in a cluster (leader or
   * follower replica: committed records only), the log end on one node; `readCommitted` stops at
   * the last stable offset below that (no open transaction's records). The WebSocket gateway reads
   * up to here.
   */
  readableEnd(log: PartitionLog, readCommitted = false): number {
    const end = this.cluster ? Math.min(this.cluster.highWatermarkOf(log) ?? 0, log.logEndOffset) : log.logEndOffset;
    return readCommitted ? this.lastStableOffset(log, end) : end;
  }

  /**
   * The last stable offset: below it every transaction is decided (Kafka's
   * UnifiedLog.lastStableOffset, min of the first open transaction's first offset and the high
   * watermark). read_committed readers stop here.
   */
  lastStableOffset(log: PartitionLog, highWatermark: number): number {
    return this.producersOfLog(log).lastStableOffset(highWatermark);
  }

  /**
   * The leader-only view of a partition: its log and high watermark, or a KafkaError
   * (UNKNOWN_TOPIC_OR_PARTITION; in a cluster NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH,
   * UNKNOWN_LEADER_EPOCH). One node leads everything at epoch 0 with HW = log end.
   */
  leaderView(topic: Topic, partition: number, currentLeaderEpoch = -1): { log: PartitionLog; highWatermark: number; leaderEpoch: number } {
    const log = topic.partitions[partition];
    if (!log) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic or partition ${topic.name}-${partition}`);
    if (!this.cluster) return { log, highWatermark: log.logEndOffset, leaderEpoch: 0 };
    return { log, ...this.cluster.leader(topic.name, partition, currentLeaderEpoch) };
  }

  /**
   * OffsetForLeaderEpoch: where `leaderEpoch` ends in this broker's log (the largest epoch <= it
   * and the start of the next, or the log end). One node writes every batch at epoch 0.
   */
  epochEndOffset(topicName: string, partition: number, currentLeaderEpoch: number, leaderEpoch: number, replicaId: number): { errorCode: number; leaderEpoch: number; endOffset: bigint } {
    const topic = this.topics.get(topicName);
    const log = topic?.partitions[partition];
    if (!topic || !log) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, leaderEpoch: -1, endOffset: -1n };
    if (!this.cluster) {
      if (currentLeaderEpoch > 0) return { errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH, leaderEpoch: -1, endOffset: -1n };
      return leaderEpoch < 0 ? { errorCode: ErrorCode.NONE, leaderEpoch: -1, endOffset: -1n } : { errorCode: ErrorCode.NONE, leaderEpoch: 0, endOffset: BigInt(log.logEndOffset) };
    }
    try {
      const { epoch, endOffset } = this.cluster.epochEndOffset(topicName, partition, currentLeaderEpoch, leaderEpoch, replicaId);
      return { errorCode: ErrorCode.NONE, leaderEpoch: epoch, endOffset: BigInt(endOffset) };
    } catch (e) {
      return { errorCode: e instanceof KafkaError ? e.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR, leaderEpoch: -1, endOffset: -1n };
    }
  }

  /** The partition's producer state (sequences, transactions), rebuilt from its log on first use. */
  producersOf(topic: Topic, partition: number): PartitionProducers {
    return this.producersOfLog(topic.partitions[partition]!);
  }

  /** producersOf() by the log itself (its directory is the partition's). */
  producersOfLog(log: PartitionLog): PartitionProducers {
    let state = this.producerState.get(log);
    if (!state) {
      state = PartitionProducers.load(log, log.dir);
      this.producerState.set(log, state);
    }
    return state;
  }

  /**
   * Without the producer-id block file, the ids in use are known only from the logs: load every
   * partition's producer state and start the allocator above the highest id found, before any id
   * is handed out. Costs a scan of batch headers, once per lost file (recover() records the floor).
   */
  private recoverProducerIds(): void {
    let partitions = 0;
    let maxId = -1;
    for (const topic of this.topics.all()) {
      for (let p = 0; p < topic.partitions.length; p++, partitions++) maxId = Math.max(maxId, this.producersOf(topic, p).maxProducerId());
    }
    this.producerIds.recover(maxId);
    if (partitions > 0) this.log.warn(`producer-id-block missing or unreadable: new producer ids start above ${maxId}, the highest in ${partitions} partition log(s)`);
  }

  /**
   * Writes a transaction marker to each partition (the transaction coordinator's last step before
   * CompleteCommit/CompleteAbort): itself where it leads, in a cluster through the other leaders
   * (WriteTxnMarkers), retried across leader moves for up to TXN_MARKER_TIMEOUT_MS.
   */
  writeTxnMarkers(marker: TxnMarker, partitions: { topic: string; partition: number }[]): Promise<{ topic: string; partition: number; errorCode: number }[]> {
    const local = (t: { topic: string; partition: number }) => writeTxnMarker(this, t.topic, t.partition, marker);
    if (this.cluster) return this.cluster.sendTxnMarkers(marker, partitions, TXN_MARKER_TIMEOUT_MS, local);
    return Promise.all(partitions.map(async (t) => ({ ...t, errorCode: await local(t) })));
  }

  /** Called after every append (and role change) so parked fetches, followers' included, re-check. */
  appended(log: PartitionLog): void {
    this.waiters.notify(log);
    this.followerWaiters.notify(log);
  }

  /** The high watermark moved (a cluster's leader or follower): readers may see more. */
  committed(log: PartitionLog): void {
    this.waiters.notify(log);
  }

  requirePartition(topicName: string, partition: number): { topic: Topic; log: PartitionLog } {
    const topic = this.topics.get(topicName);
    const log = topic?.partitions[partition];
    if (!topic || !log) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic or partition ${topicName}-${partition}`);
    return { topic, log };
  }

  /** Deletes a topic (gone for every later request when this returns) and its committed offsets. */
  async deleteTopic(topic: Topic): Promise<void> {
    this.topics.delete(topic);
    for (const log of topic.partitions) {
      this.producerState.delete(log);
      this.appended(log); // parked fetches re-run and now answer UNKNOWN_TOPIC_OR_PARTITION
    }
    await this.groups.onTopicDeleted(topic.name);
  }

  private partitionDir(topic: Topic, partition: number): string {
    return join(this.config.dataDir, `${topic.name}-${partition}`);
  }

  private runRetention(): void {
    try {
      const deleted = this.topics.applyRetention();
      if (deleted > 0) {
        this.log.info(`retention deleted ${deleted} segment(s)`);
        // Aborted transactions wholly below the new log start leave the index with their segments.
        for (const [log, state] of this.producerState) state.pruneBelow(log.logStartOffset);
      }
    } catch (e) {
      this.log.error(`retention failed: ${(e as Error).message}`);
    }
  }

  /** Flushes every log, saves producer snapshots, closes (clean-shutdown markers). */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.cluster?.close();
    clearInterval(this.retentionTimer);
    const cleaning = this.cleaner.stop(); // the log closes below cancel a pass in flight
    this.groups.close();
    this.transactions.close();
    this.waiters.notifyAll();
    this.followerWaiters.notifyAll();
    await this.topics.flushAll();
    for (const topic of this.topics.all()) {
      topic.partitions.forEach((log, i) => {
        const state = this.producerState.get(log);
        if (state) state.saveSnapshot(log, this.partitionDir(topic, i));
      });
    }
    await this.topics.close();
    await cleaning;
  }
}
