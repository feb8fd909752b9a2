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
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { buildBatch, decodeBatches } from '../native/records.js';
import type { BrokerConfig } from '../config.js';
import { KafkaError } from '../broker/errors.js';
import type { TopicRegistry } from '../broker/topics.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { OFFSETS_TOPIC } from './records.js';
import type { Logger } from '../util/logger.js';

/**
 * What the store needs of the broker: the registry that holds (or creates) its topic, and the
 * append notice that wakes fetches parked on the topic (Kafka's tools read it too).
 */
export interface OffsetStoreHost {
  readonly config: Pick<BrokerConfig, 'offsetsTopicNumPartitions'>;
  readonly topics: Pick<TopicRegistry, 'get' | 'create' | 'partition'>;
  appended(log: PartitionLog): void;
}

export interface StoredRecord {
  key: Buffer;
  /** null: a tombstone. */
  value: Buffer | null;
}

/** Records per batch stop growing past this many bytes, well under the default max.message.bytes (1 MiB). */
const BATCH_TARGET_BYTES = 512 * 1024;
const REPLAY_READ_BYTES = 1024 * 1024;

export class OffsetStore {
  readonly partitions: number;

  constructor(
    private readonly broker: OffsetStoreHost,
    log: Logger,
  ) {
    const existing = broker.topics.get(OFFSETS_TOPIC);
    if (existing) {
      this.partitions = existing.partitions.length;
      if (this.partitions !== broker.config.offsetsTopicNumPartitions) {
        log.warn(`${OFFSETS_TOPIC} has ${this.partitions} partitions; offsets.topic.num.partitions=${broker.config.offsetsTopicNumPartitions} only applies when the topic is created`);
      }
    } else {
      this.partitions = broker.config.offsetsTopicNumPartitions;
      broker.topics.create(OFFSETS_TOPIC, this.partitions, { 'cleanup.policy': 'compact', 'segment.bytes': 100 * 1024 * 1024 });
    }
  }

  private log(partition: number): PartitionLog {
    const log = this.broker.topics.partition(OFFSETS_TOPIC, partition);
    if (!log) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${OFFSETS_TOPIC}-${partition} does not exist`);
    return log;
  }

  /**
   * Appends the records to one partition, all or nothing (one append of one or more batches).
   * When this returns, the records are written and visible (or it threw: nothing was written);
   * the promise resolves once they are as durable as the topic's flush policy asks.
   */
  append(partition: number, records: StoredRecord[], timestamp = Date.now()): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const log = this.log(partition);
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
    const r = log.append(batches.length === 1 ? batches[0]! : Buffer.concat(batches));
    this.broker.appended(log);
    return r.flushed ?? Promise.resolve();
  }

  /** append() with a synchronous failure turned into a rejection. */
  async write(partition: number, records: StoredRecord[], timestamp = Date.now()): Promise<void> {
    await this.append(partition, records, timestamp);
  }

  /** Calls `visit` for every record of every partition, in offset order per partition. */
  replay(visit: (partition: number, key: Buffer, value: Buffer | null) => void): number {
    let count = 0;
    for (let p = 0; p < this.partitions; p++) {
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
    }
    return count;
  }
}
