/**
 * The internal topic `__consumer_offsets` as the coordinator's durable store: appends of
 * key/value records (records.ts formats) and a replay of everything at start.
 *
 * - The topic has `offsets.topic.num.partitions` partitions (default 50) and cleanup.policy=compact
 *   (and Kafka's segment.bytes of 100 MiB for it). It is created at the first start; afterwards the
 *   existing partition count is what counts, even if the setting changes (re-partitioning would
 *   move groups to partitions that do not hold their history, which is why Kafka forbids it too).
 * - A group lives in partition `partitionFor(groupId)`. Each write is one append of RecordBatch v2
 *   batches built by the native record builder, through the same storage core as every topic.
 *   "Stored" means appended (in the page cache: survives a crash of the process, kill -9) and, when
 *   the topic's flush policy (flush.messages / flush.ms) makes the append due for fsync, fsynced.
 * - Replay reads every partition from its log start to its end: the latest record per key wins and
 *   a null value (tombstone) deletes the key, which is also exactly what compaction keeps.
 *
 * In a cluster (`broker.cluster` set) the topic is a replicated topic that etcd holds, created
 * through the cluster by the coordinator (never here: a local-only copy would be deleted again by
 * the etcd mirror), so it may not exist yet and its partition count is whatever etcd says. Only
 * the partition's leader writes: each append carries the leader epoch and "stored" means
 * committed, i.e. the in-sync replicas have it (Kafka writes offsets with acks=all), so a commit
 * acknowledged here survives the loss of this broker. Failures come back as the codes Kafka's
 * GroupMetadataManager gives clients: NOT_COORDINATOR when leadership moved, otherwise
 * COORDINATOR_NOT_AVAILABLE (both make clients look for the coordinator again and retry).
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { buildBatch, decodeBatches } from '../native/records.js';
import type { BrokerConfig } from '../config.js';
import { KafkaError } from '../broker/errors.js';
import type { TopicRegistry } from '../broker/topics.js';
import type { ClusterMembership } from '../broker/cluster-membership.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { OFFSETS_TOPIC } from './records.js';
import type { Logger } from '../util/logger.js';

/**
 * What the store needs of the broker: the registry that holds (or, on one node, creates) its
 * topic, the append notice that wakes fetches parked on the topic (Kafka's tools read it too), and
 * in a cluster the membership that says who leads and when an append is committed. `cluster` is
 * read on every use: the broker gets it after the coordinator is built.
 */
export interface OffsetStoreHost {
  readonly config: Pick<BrokerConfig, 'offsetsTopicNumPartitions' | 'cluster'>;
  readonly topics: Pick<TopicRegistry, 'get' | 'create' | 'partition'>;
  readonly cluster?: ClusterMembership | undefined;
  appended(log: PartitionLog): void;
}

/** Kafka's offsets.commit.timeout.ms default: how long a write waits for the in-sync replicas. */
export const OFFSETS_COMMIT_TIMEOUT_MS = 5000;

/** Kafka's segment.bytes for the offsets topic (offsets.topic.segment.bytes), and its cleanup policy. */
export const OFFSETS_TOPIC_CONFIGS = { 'cleanup.policy': 'compact', 'segment.bytes': 100 * 1024 * 1024 } as const;

export interface StoredRecord {
  key: Buffer;
  /** null: a tombstone. */
  value: Buffer | null;
}

/** Records per batch stop growing past this many bytes, well under the default max.message.bytes (1 MiB). */
const BATCH_TARGET_BYTES = 512 * 1024;
const REPLAY_READ_BYTES = 1024 * 1024;

export class OffsetStore {
  /** The partition count of a single node, fixed at start (see the file comment). */
  private readonly localPartitions: number;

  constructor(
    private readonly broker: OffsetStoreHost,
    log: Logger,
  ) {
    const existing = broker.topics.get(OFFSETS_TOPIC);
    if (existing) {
      this.localPartitions = existing.partitions.length;
      if (this.localPartitions !== broker.config.offsetsTopicNumPartitions) {
        log.warn(`${OFFSETS_TOPIC} has ${this.localPartitions} partitions; offsets.topic.num.partitions=${broker.config.offsetsTopicNumPartitions} only applies when the topic is created`);
      }
    } else {
      this.localPartitions = broker.config.offsetsTopicNumPartitions;
      if (!broker.config.cluster.enabled) broker.topics.create(OFFSETS_TOPIC, this.localPartitions, OFFSETS_TOPIC_CONFIGS);
    }
  }

  /**
   * Partitions of the topic. In a cluster, the count etcd holds once the topic exists (the local
   * registry mirrors it), and until then the count it will be created with.
   */
  get partitions(): number {
    if (!this.broker.config.cluster.enabled) return this.localPartitions;
    return this.broker.topics.get(OFFSETS_TOPIC)?.partitions.length ?? this.broker.config.offsetsTopicNumPartitions;
  }

  /** Whether the topic exists (always on one node; in a cluster once etcd's topic reached this broker). */
  get exists(): boolean {
    return this.broker.topics.get(OFFSETS_TOPIC) !== undefined;
  }

  private log(partition: number): PartitionLog {
    const log = this.broker.topics.partition(OFFSETS_TOPIC, partition);
    if (!log) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${OFFSETS_TOPIC}-${partition} does not exist`);
    return log;
  }

  /**
   * Appends the records to one partition, all or nothing (one append of one or more batches).
   * When this returns, the records are written and visible (or it threw: nothing was written);
   * the promise resolves once they are as durable as the topic's flush policy asks and, in a
   * cluster, once the in-sync replicas have them (rejects with NOT_COORDINATOR or
   * COORDINATOR_NOT_AVAILABLE otherwise; the records may still survive: an ambiguous failure,
   * as in Kafka). In a cluster, only the partition's leader appends (NOT_COORDINATOR, thrown).
   */
  append(partition: number, records: StoredRecord[], timestamp = Date.now()): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const log = this.log(partition);
    const cluster = this.broker.cluster;
    let leaderEpoch = 0;
    if (cluster) {
      try {
        leaderEpoch = cluster.leader(OFFSETS_TOPIC, partition).leaderEpoch;
      } catch (e) {
        throw asCoordinatorError(e, partition);
      }
    }
    const batches: Buffer[] = [];
    let chunk: StoredRecord[] = [];
    let bytes = 0;
    const flush = () => {
      batches.push(buildBatch({ records: chunk.map((c) => ({ key: c.key, value: c.value, timestamp })) }));
      chunk = [];
      bytes = 0;
    };
    for (const rec of records) {
      chunk.push(rec);
      bytes += rec.key.length + (rec.value?.length ?? 0) + 24;
      if (bytes >= BATCH_TARGET_BYTES) flush();
    }
    if (chunk.length > 0) flush();
    const r = log.append(batches.length === 1 ? batches[0]! : Buffer.concat(batches), { leaderEpoch });
    this.broker.appended(log);
    if (!cluster) return r.flushed ?? Promise.resolve();
    cluster.afterLeaderAppend(OFFSETS_TOPIC, partition);
    const committed = cluster.waitForCommit(OFFSETS_TOPIC, partition, r.lastOffset, OFFSETS_COMMIT_TIMEOUT_MS).then((code) => {
      if (code !== ErrorCode.NONE) throw asCoordinatorError(new KafkaError(code, `offset ${r.lastOffset} not replicated to the in-sync replicas (${code})`), partition);
    });
    return r.flushed ? Promise.all([r.flushed, committed]).then(() => undefined) : committed;
  }

  /** append() with a synchronous failure turned into a rejection. */
  async write(partition: number, records: StoredRecord[], timestamp = Date.now()): Promise<void> {
    await this.append(partition, records, timestamp);
  }

  /** Calls `visit` for every record of every partition, in offset order per partition. */
  replay(visit: (partition: number, key: Buffer, value: Buffer | null) => void): number {
    let count = 0;
    for (let p = 0; p < this.partitions; p++) count += this.replayPartition(p, visit);
    return count;
  }

  /**
   * Calls `visit` for every record of one partition, in offset order, from its log start to its
   * log end (a new leader's whole log: what its followers will be made to match).
   */
  replayPartition(p: number, visit: (partition: number, key: Buffer, value: Buffer | null) => void): number {
    let count = 0;
    const log = this.log(p);
    let offset = log.logStartOffset;
    const end = log.logEndOffset;
    while (offset < end) {
      const buf = log.readBuffer(offset, REPLAY_READ_BYTES);
      if (buf.length === 0) break;
      const { batches } = decodeBatches(buf, { allowTruncated: true });
      if (batches.length === 0) throw new Error(`${OFFSETS_TOPIC}-${p}: no whole batch at offset ${offset}`);
      for (const b of batches) {
        const last = b.baseOffset + b.lastOffsetDelta;
        if (last < offset) continue;
        if (!b.isControl) {
          for (const rec of b.records) {
            if (rec.offset < offset || rec.key === null) continue;
            visit(p, rec.key, rec.value);
            count++;
          }
        }
        offset = last + 1;
      }
    }
    return count;
  }
}

/**
 * Kafka's GroupMetadataManager mapping of a failed offsets-topic write: leadership gone is
 * NOT_COORDINATOR; too few replicas, a timeout or a missing partition is COORDINATOR_NOT_AVAILABLE.
 * Anything else (storage errors) keeps its own code; the coordinator maps commits further.
 */
function asCoordinatorError(e: unknown, partition: number): unknown {
  if (!(e instanceof KafkaError)) return e;
  switch (e.errorCode) {
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.FENCED_LEADER_EPOCH:
      return new KafkaError(ErrorCode.NOT_COORDINATOR, `not the coordinator of ${OFFSETS_TOPIC}-${partition}: ${e.message}`);
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
      return new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${OFFSETS_TOPIC}-${partition}: ${e.message}`);
    default:
      return e;
  }
}
