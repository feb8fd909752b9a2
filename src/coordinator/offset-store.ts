/**
 * An internal compacted topic as a coordinator's durable store: `__consumer_offsets` for the group
 * coordinator (records.ts formats) and `__transaction_state` for the transaction coordinator
 * (transactions/records.ts). Appends of key/value records and a replay of everything at start.
 * What follows says `__consumer_offsets`; the transaction state topic works the same way with its
 * own settings (transaction.state.log.num.partitions, its segment.bytes).
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
import { parseMarkerKey } from '../protocol/control-record.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { buildBatch, decodeBatches } from '../native/records.js';
import type { BrokerConfig } from '../config.js';
import { KafkaError } from '../broker/errors.js';
import type { TopicRegistry } from '../broker/topics.js';
import type { ClusterMembership } from '../broker/cluster-membership.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { PartitionProducers } from '../broker/producers.js';
import type { Logger } from '../util/logger.js';

/**
 * What the store needs of the broker: the registry that holds (or, on one node, creates) its
 * topic, the append notice that wakes fetches parked on the topic (Kafka's tools read it too), and
 * in a cluster the membership that says who leads and when an append is committed. `cluster` is
 * read on every use: the broker gets it after the coordinator is built.
 */
export interface OffsetStoreHost {
  readonly config: Pick<BrokerConfig, 'cluster'>;
  readonly topics: Pick<TopicRegistry, 'get' | 'create' | 'partition'>;
  readonly cluster?: ClusterMembership | undefined;
  appended(log: PartitionLog): void;
  /**
   * The partition's producer state: a transactional write opens its producer's transaction there
   * (the LSO of the topic, and what a reload rebuilds from the log). Absent in unit tests.
   */
  producersOfLog?(log: PartitionLog): PartitionProducers;
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

/** Which internal topic a store keeps, and how it is made. */
export interface InternalTopicSpec {
  name: string;
  /** The partition count it is created with (the setting; an existing topic keeps its own count). */
  numPartitions: number;
  /** The setting's name, for the warning when an existing topic has another count. */
  numPartitionsSetting: string;
  configs: Readonly<Record<string, string | number>>;
}

/**
 * A transactional write (TxnOffsetCommit): the batch carries the producer's id and epoch and the
 * transactional bit, with no sequence (Kafka's coordinator-origin appends are not sequence-checked),
 * so a COMMIT or ABORT marker for that producer later decides whether its records count.
 */
export interface TransactionalWrite {
  producerId: number;
  producerEpoch: number;
}

/** What replay tells about the batch a record came from. */
export interface ReplayedBatch {
  baseOffset: number;
  lastOffset: number;
  producerId: number;
  producerEpoch: number;
  isTransactional: boolean;
}

/**
 * A replayed control record (transaction marker) of a transactional producer: `commit` false is
 * an ABORT marker.
 */
export interface ReplayedMarker {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  offset: number;
}

/** Records per batch stop growing past this many bytes, well under the default max.message.bytes (1 MiB). */
const BATCH_TARGET_BYTES = 512 * 1024;
const REPLAY_READ_BYTES = 1024 * 1024;

export class OffsetStore {
  /** The partition count of a single node, fixed at start (see the file comment). */
  private readonly localPartitions: number;
  readonly topic: string;

  constructor(
    private readonly broker: OffsetStoreHost,
    log: Logger,
    private readonly spec: InternalTopicSpec,
  ) {
    this.topic = spec.name;
    const existing = broker.topics.get(spec.name);
    if (existing) {
      this.localPartitions = existing.partitions.length;
      if (this.localPartitions !== spec.numPartitions) {
        log.warn(`${spec.name} has ${this.localPartitions} partitions; ${spec.numPartitionsSetting}=${spec.numPartitions} only applies when the topic is created`);
      }
    } else {
      this.localPartitions = spec.numPartitions;
      if (!broker.config.cluster.enabled) broker.topics.create(spec.name, this.localPartitions, spec.configs);
    }
  }

  /**
   * Partitions of the topic. In a cluster, the count etcd holds once the topic exists (the local
   * registry mirrors it), and until then the count it will be created with.
   */
  get partitions(): number {
    if (!this.broker.config.cluster.enabled) return this.localPartitions;
    return this.broker.topics.get(this.topic)?.partitions.length ?? this.spec.numPartitions;
  }

  /** Whether the topic exists (always on one node; in a cluster once etcd's topic reached this broker). */
  get exists(): boolean {
    return this.broker.topics.get(this.topic) !== undefined;
  }

  private log(partition: number): PartitionLog {
    const log = this.broker.topics.partition(this.topic, partition);
    if (!log) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${this.topic}-${partition} does not exist`);
    return log;
  }

  /**
   * Appends the records to one partition, all or nothing (one append of one or more batches).
   * When this returns, the records are written and visible (or it threw: nothing was written);
   * the promise resolves once they are as durable as the topic's flush policy asks and, in a
   * cluster, once the in-sync replicas have them (rejects with NOT_COORDINATOR or
   * COORDINATOR_NOT_AVAILABLE otherwise; the records may still survive: an ambiguous failure,
   * as in Kafka). In a cluster, only the partition's leader appends (NOT_COORDINATOR, thrown).
   * `txn`: written as one transactional batch of that producer (see TransactionalWrite).
   */
  append(partition: number, records: StoredRecord[], timestamp = Date.now(), txn?: TransactionalWrite): Promise<void> {
    return this.appendAt(partition, records, timestamp, txn).durable;
  }

  /** append(), also saying where the records landed (the transaction coordinator needs the offsets). */
  appendAt(partition: number, records: StoredRecord[], timestamp = Date.now(), txn?: TransactionalWrite): { baseOffset: number; lastOffset: number; durable: Promise<void> } {
    if (records.length === 0) return { baseOffset: -1, lastOffset: -1, durable: Promise.resolve() };
    const log = this.log(partition);
    const cluster = this.broker.cluster;
    let leaderEpoch = 0;
    if (cluster) {
      try {
        leaderEpoch = cluster.leader(this.topic, partition).leaderEpoch;
      } catch (e) {
        throw asCoordinatorError(e, this.topic, partition);
      }
    }
    const batches: Buffer[] = [];
    let chunk: StoredRecord[] = [];
    let bytes = 0;
    const producer = txn ? { producerId: txn.producerId, producerEpoch: txn.producerEpoch, isTransactional: true } : {};
    const flush = () => {
      batches.push(buildBatch({ records: chunk.map((c) => ({ key: c.key, value: c.value, timestamp })), ...producer }));
      chunk = [];
      bytes = 0;
    };
    for (const rec of records) {
      chunk.push(rec);
      bytes += rec.key.length + (rec.value?.length ?? 0) + 24;
      if (bytes >= BATCH_TARGET_BYTES && !txn) flush();
    }
    if (chunk.length > 0) flush();
    // A transactional batch carries a producer id without a sequence: an internal append.
    const r = log.append(batches.length === 1 ? batches[0]! : Buffer.concat(batches), { leaderEpoch, internal: txn !== undefined });
    if (txn) {
      const identity = { producerId: txn.producerId, producerEpoch: txn.producerEpoch, baseSequence: -1, lastSequence: -1, isTransactional: true };
      this.broker.producersOfLog?.(log).record(identity, r.baseOffset, r.lastOffset, -1);
    }
    this.broker.appended(log);
    const at = { baseOffset: r.baseOffset, lastOffset: r.lastOffset };
    if (!cluster) return { ...at, durable: r.flushed ?? Promise.resolve() };
    cluster.afterLeaderAppend(this.topic, partition);
    const committed = cluster.waitForCommit(this.topic, partition, r.lastOffset, OFFSETS_COMMIT_TIMEOUT_MS).then((code) => {
      if (code !== ErrorCode.NONE) throw asCoordinatorError(new KafkaError(code, `offset ${r.lastOffset} not replicated to the in-sync replicas (${code})`), this.topic, partition);
    });
    return { ...at, durable: r.flushed ? Promise.all([r.flushed, committed]).then(() => undefined) : committed };
  }

  /** append() with a synchronous failure turned into a rejection. */
  async write(partition: number, records: StoredRecord[], timestamp = Date.now(), txn?: TransactionalWrite): Promise<void> {
    await this.append(partition, records, timestamp, txn);
  }

  /** Calls `visit` for every record of every partition, in offset order per partition. */
  replay(visit: ReplayVisitor, marker?: MarkerVisitor): number {
    let count = 0;
    for (let p = 0; p < this.partitions; p++) count += this.replayPartition(p, visit, marker);
    return count;
  }

  /**
   * Calls `visit` for every data record of one partition, in offset order, from its log start to
   * its log end (a new leader's whole log: what its followers will be made to match), with the
   * batch it came from; `marker` for every transaction marker (control batch) in between, so a
   * coordinator can hold a producer's transactional records until their COMMIT or ABORT.
   */
  replayPartition(p: number, visit: ReplayVisitor, marker?: MarkerVisitor): number {
    let count = 0;
    const log = this.log(p);
    let offset = log.logStartOffset;
    const end = log.logEndOffset;
    while (offset < end) {
      const buf = log.readBuffer(offset, REPLAY_READ_BYTES);
      if (buf.length === 0) break;
      const { batches } = decodeBatches(buf, { allowTruncated: true });
      if (batches.length === 0) throw new Error(`${this.topic}-${p}: no whole batch at offset ${offset}`);
      for (const b of batches) {
        const last = b.baseOffset + b.lastOffsetDelta;
        if (last < offset) continue;
        if (!b.isControl) {
          const batch: ReplayedBatch = { baseOffset: b.baseOffset, lastOffset: last, producerId: b.producerId, producerEpoch: b.producerEpoch, isTransactional: b.isTransactional };
          for (const rec of b.records) {
            if (rec.offset < offset || rec.key === null) continue;
            visit(p, rec.key, rec.value, batch);
            count++;
          }
        } else if (marker && b.isTransactional) {
          const key = b.records[0]?.key;
          const m = key ? parseMarkerKey(key) : undefined;
          if (m) marker(p, { producerId: b.producerId, producerEpoch: b.producerEpoch, commit: m.commit, offset: b.baseOffset });
        }
        offset = last + 1;
      }
    }
    return count;
  }
}

export type ReplayVisitor = (partition: number, key: Buffer, value: Buffer | null, batch: ReplayedBatch) => void;
export type MarkerVisitor = (partition: number, marker: ReplayedMarker) => void;

/**
 * Kafka's GroupMetadataManager mapping of a failed offsets-topic write: leadership gone is
 * NOT_COORDINATOR; too few replicas, a timeout or a missing partition is COORDINATOR_NOT_AVAILABLE.
 * Anything else (storage errors) keeps its own code; the coordinator maps commits further.
 */
function asCoordinatorError(e: unknown, topic: string, partition: number): unknown {
  if (!(e instanceof KafkaError)) return e;
  switch (e.errorCode) {
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.FENCED_LEADER_EPOCH:
      return new KafkaError(ErrorCode.NOT_COORDINATOR, `not the coordinator of ${topic}-${partition}: ${e.message}`);
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
      return new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${topic}-${partition}: ${e.message}`);
    default:
      return e;
  }
}
