/**
 * Followers copy leaders with Kafka's own Fetch (cluster.md §1.2): one fetcher, one connection per
 * leader broker, carrying every partition this broker follows on that leader. Each round sends
 * Fetch v12 with replica_id = this node, current_leader_epoch (the leader fences a stale follower),
 * fetch_offset = our log end and last_fetched_epoch = our latest epoch (truncation on fetch,
 * KAFKA-10554: the leader answers DivergingEpoch when our log parts from its own, and we cut it
 * there before fetching again). The leader holds the request up to replica.fetch.wait.max.ms and
 * answers as soon as anything is appended (its long poll), so replication latency is one round
 * trip after an append.
 *
 * On errors the fetcher backs off replica.fetch.backoff.ms and tries again; leadership changes come
 * from etcd (the replica manager moves partitions between fetchers), never from fetch errors.
 */
import type { ClusterConfig } from '../config.js';
import { BrokerConnection } from '../kafka/connection.js';
import { ErrorCode, errorName } from '../protocol/error-codes.js';
import { fetchApi } from '../protocol/schemas/fetch.js';
import { truncationOffset } from '../replication/truncation.js';
import type { Logger } from '../util/logger.js';
import type { FetcherPool, Replica, ReplicaManager } from './replica-manager.js';
import type { ClusterStore } from './store.js';

/** Bytes of one fetch response (Kafka's replica.fetch.response.max.bytes default). */
const RESPONSE_MAX_BYTES = 10 * 1024 * 1024;

class LeaderFetcher {
  readonly partitions = new Set<Replica>();
  private conn: BrokerConnection | undefined;
  private running = false;
  private stopped = false;
  private wakeBackoff: (() => void) | undefined;

  constructor(
    readonly leaderId: number,
    private readonly pool: ReplicaFetchers,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop().finally(() => {
      this.running = false;
    });
  }

  stop(): void {
    this.stopped = true;
    this.conn?.close();
    this.wakeBackoff?.();
  }

  private async loop(): Promise<void> {
    const { config, log } = this.pool;
    while (!this.stopped && this.partitions.size > 0) {
      try {
        await this.fetchOnce();
      } catch (e) {
        if (this.stopped) return;
        log.debug(`fetcher from ${this.leaderId}: ${(e as Error).message}`);
        this.conn?.close();
        this.conn = undefined;
        await this.backoff(config.replicaFetchBackoffMs);
      }
    }
  }

  private backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeBackoff = done;
    });
  }

  private async connection(): Promise<BrokerConnection> {
    if (this.conn && !this.conn.closed) return this.conn;
    const leader = this.pool.store.brokers().get(this.leaderId);
    if (!leader) throw new Error(`leader ${this.leaderId} is not registered`);
    this.conn = await BrokerConnection.open(leader.host, leader.port, {
      clientId: `brook-replica-${this.pool.manager.nodeId}`,
      connectTimeoutMs: 3000,
      requestTimeoutMs: 10_000,
    });
    return this.conn;
  }

  private async fetchOnce(): Promise<void> {
    const { config, manager } = this.pool;
    const conn = await this.connection();
    const byTopic = new Map<string, Replica[]>();
    for (const r of this.partitions) {
      const list = byTopic.get(r.topic.name) ?? [];
      list.push(r);
      byTopic.set(r.topic.name, list);
    }
    const sent = new Map<Replica, number>();
    const res = await conn.request(
      fetchApi,
      {
        replicaId: manager.nodeId,
        maxWaitMs: config.replicaFetchWaitMaxMs,
        minBytes: config.replicaFetchMinBytes,
        maxBytes: RESPONSE_MAX_BYTES,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic].map(([topic, replicas]) => ({
          topic,
          partitions: replicas.map((r) => {
            sent.set(r, r.log.logEndOffset);
            return {
              partition: r.index,
              currentLeaderEpoch: r.leaderEpoch,
              fetchOffset: BigInt(r.log.logEndOffset),
              lastFetchedEpoch: r.epochs.latestEpoch(),
              logStartOffset: BigInt(r.log.logStartOffset),
              partitionMaxBytes: config.replicaFetchMaxBytes,
            };
          }),
        })),
        forgottenTopicsData: [],
        rackId: '',
      },
      { version: 12, extraWaitMs: config.replicaFetchWaitMaxMs },
    );
    let failures = 0;
    for (const t of res.responses) {
      for (const p of t.partitions) {
        const r = manager.replica(t.topic, p.partitionIndex);
        // Only partitions still followed from this leader, at the offset we asked from (a
        // truncation or a role change meanwhile makes the answer stale).
        if (!r || !this.partitions.has(r) || sent.get(r) !== r.log.logEndOffset) continue;
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE && r.log.logEndOffset > Number(p.highWatermark)) {
          // Our log runs past the leader's, and no epoch of ours tells where (an empty epoch cache,
          // or an unclean election): Kafka's follower truncates to the leader's end; its high
          // watermark is the most that is certainly the leader's, so cut there and fetch again.
          manager.truncate(r, Number(p.highWatermark));
          continue;
        }
        if (p.errorCode !== ErrorCode.NONE) {
          failures++;
          this.pool.log.debug(`fetch of ${r.key} from ${this.leaderId}: ${errorName(p.errorCode)}`);
          continue;
        }
        if (p.divergingEpoch.epoch >= 0 || p.divergingEpoch.endOffset >= 0n) {
          const target = truncationOffset({ epoch: p.divergingEpoch.epoch, endOffset: Number(p.divergingEpoch.endOffset) }, r.epochs, r.log.logEndOffset);
          manager.truncate(r, target.offset);
          continue;
        }
        const records = p.records ?? Buffer.alloc(0);
        try {
          manager.appendFromLeader(r, records, Number(p.highWatermark));
        } catch (e) {
          failures++;
          this.pool.log.warn(`${r.key}: appending ${records.length} bytes from leader ${this.leaderId} failed: ${(e as Error).message}`);
        }
      }
    }
    // Every partition failed (a leader that no longer leads them, say): wait before asking again.
    if (failures > 0 && failures >= this.partitions.size) await this.backoff(config.replicaFetchBackoffMs);
  }
}

/** Every fetcher of this broker, one per leader. */
export class ReplicaFetchers implements FetcherPool {
  private readonly byLeader = new Map<number, LeaderFetcher>();
  private readonly leaderOf = new Map<Replica, number>();

  constructor(
    readonly manager: ReplicaManager,
    readonly store: ClusterStore,
    readonly config: ClusterConfig,
    readonly log: Logger,
  ) {}

  add(r: Replica, leaderId: number): void {
    this.remove(r);
    let f = this.byLeader.get(leaderId);
    if (!f) {
      f = new LeaderFetcher(leaderId, this);
      this.byLeader.set(leaderId, f);
    }
    f.partitions.add(r);
    this.leaderOf.set(r, leaderId);
    f.start();
  }

  remove(r: Replica): void {
    const leaderId = this.leaderOf.get(r);
    if (leaderId === undefined) return;
    this.leaderOf.delete(r);
    const f = this.byLeader.get(leaderId);
    if (!f) return;
    f.partitions.delete(r);
    if (f.partitions.size === 0) {
      f.stop();
      this.byLeader.delete(leaderId);
    }
  }

  close(): void {
    for (const f of this.byLeader.values()) f.stop();
    this.byLeader.clear();
    this.leaderOf.clear();
  }
}
