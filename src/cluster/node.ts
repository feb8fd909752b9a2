/**
 * One broker's membership of a cluster: its etcd store (mirror, lease, registration), the
 * controller role it may hold, its replicas and their fetchers, and keeping the local topic
 * registry in step with the topics etcd holds. Started after the Kafka listener is bound (the
 * registration carries the advertised address); stopped before the logs close.
 *
 * Topics: etcd is the truth. Each broker keeps a log directory for every partition of every topic
 * (topics.json mirrors etcd so a restart reopens them before etcd is read); only the assigned
 * replicas receive data. A topic etcd no longer lists is deleted locally; one whose id changed was
 * deleted and recreated, so the local copy goes and a fresh one is opened.
 */
import { KafkaError } from '../broker/errors.js';
import type { Broker } from '../broker/broker.js';
import type { ClusterMembership, FollowerFetchAnswer, LeaderState, LiveBroker, PartitionView, ReplicationStats } from '../broker/cluster-membership.js';
import type { Topic } from '../broker/topics.js';
import type { TopicOverrides } from '../config.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { peekBatch } from '../protocol/record-batch.js';
import { lastSequenceOf } from '../broker/producers.js';
import type { TxnMarker } from '../broker/control-records.js';
import { markerAt } from '../protocol/control-record.js';
import { TxnMarkerSender } from './txn-marker-sender.js';
import { Controller } from './controller.js';
import { assignReplicas, initialPartitionState, PlacementError } from './placement.js';
import { ReplicaFetchers } from './replica-fetcher.js';
import { ReplicaManager, type ReplicaHost } from './replica-manager.js';
import type { ClusterStore } from './store.js';
import type { ClusterEvent, TopicRecord } from './types.js';
import { randomUUID } from 'node:crypto';

export class ClusterNode implements ClusterMembership {
  readonly replicas: ReplicaManager;
  readonly controller: Controller;
  private readonly fetchers: ReplicaFetchers;
  private readonly markers: TxnMarkerSender;
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly broker: Broker,
    readonly store: ClusterStore,
  ) {
    const host: ReplicaHost = {
      nodeId: broker.config.nodeId,
      dataDir: broker.config.dataDir,
      log: broker.log,
      topic: (name) => broker.topics.get(name),
      minInsyncReplicas: (topic) => broker.topics.effectiveConfig(topic)['min.insync.replicas'] as number,
      wake: (log) => broker.appended(log),
      committed: (log) => broker.committed(log),
      truncated: (log) => broker.forgetProducers(log),
      followerAppended: (topic, partition, records) => recordProducers(broker, topic, partition, records),
    };
    this.replicas = new ReplicaManager(host, store, broker.config.cluster);
    this.fetchers = new ReplicaFetchers(this.replicas, store, broker.config.cluster, broker.log);
    this.replicas.fetchers = this.fetchers;
    this.markers = new TxnMarkerSender(
      {
        nodeId: broker.config.nodeId,
        partitionView: (topic, p) => (this.store.topics().has(topic) ? this.partitionView(topic, p) : undefined),
        liveBrokers: () => this.liveBrokers(),
      },
      broker.log,
    );
    this.controller = new Controller(store, broker.log, {
      uncleanLeaderElection: String(broker.config.topicDefaults['unclean.leader.election.enable']) === 'true',
      autoLeaderRebalance: broker.config.cluster.autoLeaderRebalance,
      leaderImbalanceCheckIntervalMs: broker.config.cluster.leaderImbalanceCheckIntervalMs,
      leaderImbalancePerBrokerPercentage: broker.config.cluster.leaderImbalancePerBrokerPercentage,
    });
  }

  /** Registers this broker (after the listener is bound), reconciles topics, starts replicating. */
  async start(): Promise<void> {
    const { config } = this.broker;
    this.unsubscribe = this.store.onChange((e) => this.onEvent(e));
    // Not a leader of anything before it is registered: etcd may still name this node as leader
    // from before a restart, and the controller is about to move that leadership away.
    this.replicas.fenced = true;
    this.refuseForeignData();
    this.reconcileTopics();
    // A broker restarted after kill -9 finds its previous registration until that lease expires:
    // wait it out (up to one session timeout) rather than refuse to start.
    await this.store.register(
      { nodeId: config.nodeId, host: this.broker.advertised.host, port: this.broker.advertised.port, rack: config.cluster.rack },
      { waitForExpiryMs: config.cluster.sessionTimeoutMs + 2000 },
    );
    await this.store.waitForRevision(this.store.brokerEpoch, 10_000); // the mirror as of our registration
    this.replicas.fenced = false;
    this.replicas.start();
    this.replicas.applyAll();
    this.controller.start();
  }

  /**
   * Kafka's controlled shutdown (SIGTERM): hand leadership over before leaving. Gives up the
   * controller role, revokes this broker's registration (the controller elects new leaders at
   * once instead of after the session timeout) and waits, up to `timeoutMs`, until no partition
   * with another live in-sync replica still names this broker as leader. Meanwhile this broker
   * keeps serving; each partition becomes a follower here as its new state arrives, so clients
   * are told NOT_LEADER_OR_FOLLOWER and move within milliseconds.
   */
  async controlledShutdown(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    const me = this.broker.config.nodeId;
    const stillLeading = () =>
      [...this.store.topics()].some(([name, rec]) =>
        rec.assignment.some((_, p) => {
          const state = this.store.partition(name, p);
          return state?.leader === me && state.isr.some((id) => id !== me && this.store.brokers().has(id));
        }),
      );
    try {
      await this.controller.stop();
      await this.store.deregister();
      const deadline = Date.now() + timeoutMs;
      while (stillLeading() && Date.now() < deadline) await this.store.nextChange(Math.min(200, deadline - Date.now()));
      if (stillLeading()) this.broker.log.warn(`controlled shutdown: leadership not handed over within ${timeoutMs} ms; leaving anyway`);
      else this.broker.log.info('controlled shutdown: leadership handed over');
    } catch (e) {
      this.broker.log.warn(`controlled shutdown failed: ${(e as Error).message}; leaving anyway`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.fetchers.close();
    this.markers.close();
    this.replicas.close();
    await this.controller.stop();
    await this.store.close();
  }

  private onEvent(e: ClusterEvent): void {
    if (this.closed) return;
    try {
      switch (e.kind) {
        case 'topic':
          this.reconcileTopic(e.name);
          break;
        case 'partition':
          this.replicas.applyState(e.topic, e.partition);
          break;
        case 'resync':
          this.reconcileTopics();
          this.replicas.applyAll();
          break;
        case 'session':
          if (!e.live) this.replicas.setFenced(true);
          else void this.unfenceWhenCurrent();
          break;
        default:
          break;
      }
    } catch (err) {
      this.broker.log.error(`applying cluster change ${e.kind} failed: ${(err as Error).message}`);
    }
  }

  /**
   * Registered again after a lapse (a pause, or etcd unreachable): act on the mirror only once it
   * has caught up with etcd at least to our new registration. Meanwhile the controller may have
   * moved our partitions; a stale mirror would make this broker lead at an epoch already replaced.
   */
  private async unfenceWhenCurrent(): Promise<void> {
    const epoch = this.store.brokerEpoch;
    const current = await this.store.waitForRevision(epoch, 10_000);
    if (this.closed || this.store.brokerEpoch !== epoch || !this.store.sessionLive) return;
    if (!current) this.broker.log.warn(`etcd mirror did not reach revision ${epoch} within 10 s: acting on what it has`);
    this.replicas.setFenced(false);
  }

  /**
   * Topics etcd does not hold are deleted locally (deleted while this broker was down, as Kafka
   * deletes stray logs). But a cluster that holds no topic at all, joined by a data directory that
   * has some, is a single node (or another cluster's broker) pointed at a new etcd: deleting its
   * data would be the wrong guess, so the start is refused and nothing is touched.
   */
  private refuseForeignData(): void {
    if (this.store.topics().size > 0) return;
    const local = [...this.broker.topics.all()].filter((t) => !t.internal).map((t) => t.name);
    if (local.length === 0) return;
    const shown = local.slice(0, 5).join(', ') + (local.length > 5 ? `, ... (${local.length} in all)` : '');
    throw new Error(
      `data directory ${this.broker.config.dataDir} holds topics (${shown}) but the cluster in etcd holds none: ` +
        'it was a single node or belongs to another cluster; start it without --etcd, or give this broker an empty data directory',
    );
  }

  /** Makes the local registry match etcd's topics. */
  private reconcileTopics(): void {
    const remote = this.store.topics();
    for (const t of [...this.broker.topics.all()]) if (!remote.has(t.name)) this.reconcileTopic(t.name);
    for (const name of remote.keys()) this.reconcileTopic(name);
  }

  private reconcileTopic(name: string): void {
    const rec = this.store.topics().get(name);
    let local = this.broker.topics.get(name);
    if (local && (!rec || local.id !== rec.id)) {
      this.replicas.dropTopic(name);
      void this.broker.deleteTopic(local);
      local = undefined;
    }
    if (!rec) return;
    if (!local) {
      local = this.broker.topics.create(name, rec.assignment.length, rec.configs, rec.id);
    } else {
      if (local.partitions.length < rec.assignment.length) this.broker.topics.grow(local, rec.assignment.length);
      if (JSON.stringify(local.configs) !== JSON.stringify(rec.configs)) this.broker.topics.setConfigs(local, rec.configs);
    }
    for (let p = 0; p < rec.assignment.length; p++) this.replicas.applyState(name, p);
  }

  // ---------------------------------------------------------------- admin through etcd

  /**
   * Creates a topic in etcd with Kafka's rack-aware placement over the live brokers and every
   * replica in the ISR, the first replica leading (epoch 0). Resolves once this broker's mirror has
   * it, so the caller's next Metadata sees it. INVALID_REPLICATION_FACTOR when fewer brokers live.
   */
  async createTopic(name: string, partitions: number, replicationFactor: number, configs: TopicOverrides, assignment?: number[][]): Promise<Topic> {
    const live = [...this.store.brokers().values()].map((b) => ({ id: b.nodeId, rack: b.rack }));
    let replicas: number[][];
    if (assignment) {
      for (const list of assignment) {
        const unknown = list.find((id) => !this.store.brokers().has(id));
        if (unknown !== undefined) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `broker ${unknown} is not a live broker`);
        if (new Set(list).size !== list.length) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `a partition lists a broker twice`);
      }
      replicas = assignment;
    } else {
      try {
        replicas = assignReplicas(live, partitions, replicationFactor);
      } catch (e) {
        if (e instanceof PlacementError) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, (e as Error).message);
        throw e;
      }
    }
    const record: TopicRecord = { name, id: randomUUID(), assignment: replicas, configs };
    const outcome = await this.store.createTopic(record, replicas.map((r) => initialPartitionState(r, this.store.brokers(), this.store.controller()?.epoch ?? 0)));
    if (outcome === 'exists') throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic ${name} already exists`);
    return this.awaitLocal(name, (t) => t?.id === record.id) as Promise<Topic>;
  }

  async deleteTopic(name: string): Promise<void> {
    const existed = await this.store.deleteTopic(name);
    if (!existed) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
    await this.awaitLocal(name, (t) => t === undefined);
  }

  async addPartitions(topic: Topic, count: number, assignment?: number[][]): Promise<void> {
    const rec = this.store.topics().get(topic.name);
    if (!rec) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${topic.name} does not exist`);
    const rf = rec.assignment[0]?.length ?? 1;
    const live = [...this.store.brokers().values()].map((b) => ({ id: b.nodeId, rack: b.rack }));
    let added: number[][];
    try {
      added = assignment ?? assignReplicas(live, count - rec.assignment.length, rf, rec.assignment.length);
    } catch (e) {
      if (e instanceof PlacementError) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, (e as Error).message);
      throw e;
    }
    await this.store.addPartitions(topic.name, [...rec.assignment, ...added], added.map((r) => initialPartitionState(r, this.store.brokers(), this.store.controller()?.epoch ?? 0)));
    await this.awaitLocal(topic.name, (t) => (t?.partitions.length ?? 0) >= count);
  }

  async setTopicConfigs(topic: Topic, configs: TopicOverrides): Promise<void> {
    await this.store.setTopicConfigs(topic.name, configs);
    await this.awaitLocal(topic.name, (t) => JSON.stringify(t?.configs) === JSON.stringify(configs));
  }

  /** Resolves when the local registry satisfies `done` (the watch delivered the change), or after 10 s. */
  private awaitLocal(name: string, done: (t: Topic | undefined) => boolean): Promise<Topic | undefined> {
    if (done(this.broker.topics.get(name))) return Promise.resolve(this.broker.topics.get(name));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `etcd accepted the change to ${name}, but this broker did not see it within 10 s`));
      }, 10_000);
      const off = this.store.onChange(() => {
        const t = this.broker.topics.get(name);
        if (!done(t)) return;
        clearTimeout(timer);
        off();
        resolve(t);
      });
    });
  }

  private idBlock = { next: 0, end: 0 };
  private idRefill: Promise<void> | undefined;

  /** Producer ids from blocks etcd hands out (unique cluster-wide); a block lasts 1000 ids. */
  async allocateProducerId(): Promise<number> {
    while (this.idBlock.next >= this.idBlock.end) {
      this.idRefill ??= this.store.allocateProducerIdBlock(PRODUCER_ID_BLOCK).then(
        (b) => {
          this.idBlock = { next: b.start, end: b.end };
          this.idRefill = undefined;
        },
        (e: Error) => {
          this.idRefill = undefined;
          throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `cannot allocate producer ids from etcd: ${e.message}`);
        },
      );
      await this.idRefill;
    }
    return this.idBlock.next++;
  }

  // ---------------------------------------------------------------- the data path (ClusterMembership)

  leader(topic: string, partition: number, currentLeaderEpoch = -1): LeaderState {
    const r = this.replicas.leaderOf(topic, partition, currentLeaderEpoch);
    return { highWatermark: r.hw, leaderEpoch: r.leaderEpoch };
  }

  /** Called right after leader() (same turn of the loop): the replica is the leader, no second check. */
  checkIsrForAcksAll(topic: string, partition: number): void {
    const r = this.replicas.replica(topic, partition);
    if (r) this.replicas.checkIsrForAcksAll(r);
  }

  afterLeaderAppend(topic: string, partition: number): void {
    const r = this.replicas.replica(topic, partition);
    if (r) this.replicas.afterLeaderAppend(r);
  }

  waitForCommit(topic: string, partition: number, lastOffset: number, timeoutMs: number): Promise<number> {
    const r = this.replicas.replica(topic, partition);
    if (!r || r.role !== 'leader') return Promise.resolve(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    return this.replicas.waitForCommit(r, lastOffset, timeoutMs);
  }

  followerFetch(
    topic: string,
    partition: number,
    f: { replicaId: number; brokerEpoch: number; fetchOffset: number; logStartOffset: number; currentLeaderEpoch: number; lastFetchedEpoch: number },
  ): FollowerFetchAnswer {
    const r = this.replicas.leaderOf(topic, partition, f.currentLeaderEpoch);
    if (!r.followers.has(f.replicaId)) {
      throw new KafkaError(f.currentLeaderEpoch >= 0 ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.NOT_LEADER_OR_FOLLOWER, `broker ${f.replicaId} is not a replica of ${topic}-${partition}`);
    }
    // Truncation on fetch (KAFKA-10554): when the follower's last epoch ends earlier here, or is
    // not ours at all, it must cut its log at our end of that epoch before it may fetch.
    if (f.lastFetchedEpoch >= 0) {
      const end = this.replicas.endOffsetFor(r, f.lastFetchedEpoch);
      if (end.epoch < f.lastFetchedEpoch || end.endOffset < f.fetchOffset) return { highWatermark: r.hw, diverging: end };
    }
    this.replicas.onFollowerFetch(r, f.replicaId, f.fetchOffset, f.logStartOffset, f.brokerEpoch);
    return { highWatermark: r.hw, diverging: undefined };
  }

  epochEndOffset(topic: string, partition: number, currentLeaderEpoch: number, leaderEpoch: number, replicaId: number): { epoch: number; endOffset: number } {
    // Kafka answers from the leader only, except for the debugging replica id -2 (which is also
    // what versions 0-2, without the field, read as): any replica of it answers then. The current
    // leader epoch is checked either way (against this replica's epoch).
    if (replicaId !== DEBUGGING_REPLICA_ID) return this.replicas.endOffsetFor(this.replicas.leaderOf(topic, partition, currentLeaderEpoch), leaderEpoch);
    const r = this.replicas.replica(topic, partition);
    if (!r || r.role === 'none') throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `broker ${this.broker.config.nodeId} has no replica of ${topic}-${partition}`);
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch < r.leaderEpoch) throw new KafkaError(ErrorCode.FENCED_LEADER_EPOCH, `${topic}-${partition}: leader epoch ${currentLeaderEpoch} is older than ${r.leaderEpoch}`);
    if (currentLeaderEpoch > r.leaderEpoch) throw new KafkaError(ErrorCode.UNKNOWN_LEADER_EPOCH, `${topic}-${partition}: leader epoch ${currentLeaderEpoch} is newer than ${r.leaderEpoch}`);
    return this.replicas.endOffsetFor(r, leaderEpoch);
  }

  replicationStats(): ReplicationStats {
    let partitions = 0;
    let leaders = 0;
    let underReplicated = 0;
    for (const r of this.replicas.all()) {
      partitions++;
      if (r.role !== 'leader' || this.replicas.fenced) continue;
      leaders++;
      if (r.isr.length < (this.store.topics().get(r.topic.name)?.assignment[r.index]?.length ?? 0)) underReplicated++;
    }
    const isController = this.store.isController();
    let offline = 0;
    if (isController) {
      const live = this.store.brokers();
      for (const [name, rec] of this.store.topics()) {
        for (let p = 0; p < rec.assignment.length; p++) {
          const leader = this.store.partition(name, p)?.leader ?? -1;
          if (!live.has(leader)) offline++;
        }
      }
    }
    return {
      partitions,
      leaders,
      underReplicated,
      activeController: isController ? 1 : 0,
      offline,
      liveBrokers: this.store.brokers().size,
      isrShrinks: this.replicas.isrChanges.shrinks,
      isrExpands: this.replicas.isrChanges.expands,
    };
  }

  highWatermarkOf(log: PartitionLog): number | undefined {
    return this.replicas.replicaOfLog(log)?.hw;
  }

  isLeader(topic: string, partition: number): boolean {
    const r = this.replicas.replica(topic, partition);
    return r !== undefined && r.role === 'leader' && !this.replicas.fenced;
  }

  onLeadershipChange(listener: (topic: string, partition: number, leader: boolean) => void): () => void {
    return this.replicas.onLeadershipChange(listener);
  }

  liveBrokers(): LiveBroker[] {
    return [...this.store.brokers().values()].map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })).sort((a, b) => a.nodeId - b.nodeId);
  }

  controllerId(): number {
    return this.store.controller()?.nodeId ?? -1;
  }

  /** Metadata's view of one partition (leader -1 when the leader is not a live broker). */
  partitionView(topic: string, p: number): PartitionView {
    const rec = this.store.topics().get(topic);
    const state = this.store.partition(topic, p);
    const replicas = rec?.assignment[p] ?? [];
    const live = this.store.brokers();
    const leader = state && live.has(state.leader) ? state.leader : -1;
    return { leader, leaderEpoch: state?.leaderEpoch ?? -1, replicas, isr: state?.isr ?? [], offline: replicas.filter((id) => !live.has(id)) };
  }

  sendTxnMarkers(
    marker: TxnMarker,
    partitions: { topic: string; partition: number }[],
    timeoutMs: number,
    local: (t: { topic: string; partition: number }) => Promise<number>,
  ): Promise<{ topic: string; partition: number; errorCode: number }[]> {
    return this.markers.send(marker, partitions, timeoutMs, local);
  }

  /** ElectLeaders: only the controller elects (Kafka's admin client sends it there). */
  async electLeaders(type: 0 | 1, partitions: { topic: string; partition: number }[] | null, timeoutMs: number): Promise<{ topic: string; partition: number; errorCode: number; errorMessage: string | null }[]> {
    if (!this.controller.active) throw new KafkaError(ErrorCode.NOT_CONTROLLER, `broker ${this.broker.config.nodeId} is not the controller (the controller is ${this.controllerId()})`);
    return this.controller.electLeaders(type, partitions, timeoutMs);
  }
}

/** Kafka's ListOffsetsRequest.DEBUGGING_REPLICA_ID: a request any replica may answer. */
const DEBUGGING_REPLICA_ID = -2;

/** Producer ids per etcd block (Kafka's PRODUCER_ID_BLOCK_SIZE). */
const PRODUCER_ID_BLOCK = 1000;

/**
 * Producer state follows what a follower appends, so a new leader deduplicates retries and knows
 * the open transactions (LSO) and the aborted ones (read_committed fetches): data batches as on
 * the leader, and each transaction marker (control batch) closes its producer's transaction.
 */
function recordProducers(broker: Broker, topic: Topic, partition: number, records: Buffer): void {
  const producers = broker.producersIfLoaded(topic, partition);
  if (!producers) return; // loaded from the log on first use, which then includes these batches
  for (let pos = 0; pos < records.length; ) {
    const b = peekBatch(records, pos);
    if (!b) break;
    const baseOffset = Number(records.readBigInt64BE(pos));
    if (b.isControl) {
      if (b.producerId >= 0) {
        const marker = markerAt(records, pos, b.size);
        // The coordinator epoch too: this replica may lead next, and must then fence as the leader did.
        if (marker) producers.completeTxn({ producerId: b.producerId, producerEpoch: b.producerEpoch, commit: marker.commit, coordinatorEpoch: marker.coordinatorEpoch, offset: baseOffset });
      }
    } else if (b.producerId >= 0 && (b.baseSequence >= 0 || b.isTransactional)) {
      // A transactional batch without a sequence is a coordinator's (transactional offset commits).
      const lastSequence = b.baseSequence >= 0 ? lastSequenceOf(b.baseSequence, b.lastOffsetDelta) : -1;
      producers.record(
        { producerId: b.producerId, producerEpoch: b.producerEpoch, baseSequence: b.baseSequence, lastSequence, isTransactional: b.isTransactional },
        baseOffset,
        baseOffset + b.lastOffsetDelta,
        -1,
      );
    }
    pos += b.size;
  }
}
