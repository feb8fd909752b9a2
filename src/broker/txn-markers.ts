/**
 * Writing a transaction marker (control-records.ts has its bytes) to a partition this broker leads:
 * the partition side of WriteTxnMarkers, and the transaction coordinator's local path.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { Logger } from '../util/logger.js';
import type { ClusterMembership } from './cluster-membership.js';
import { buildMarkerBatch, type TxnMarker } from './control-records.js';
import { KafkaError, toErrorCode } from './errors.js';
import type { PartitionProducers } from './producers.js';
import type { Topic } from './topics.js';

/** What writing a marker needs of the broker (broker.ts passes itself; it calls writeTxnMarker). */
export interface MarkerHost {
  readonly topics: { get(name: string): Topic | undefined };
  readonly cluster: ClusterMembership | undefined;
  readonly groups: { onTxnMarker(partition: number, m: { producerId: number; commit: boolean }): void };
  readonly log: Logger;
  leaderView(topic: Topic, partition: number): { log: PartitionLog; leaderEpoch: number };
  producersOf(topic: Topic, partition: number): PartitionProducers;
  appended(log: PartitionLog): void;
}

/** Kafka's request.timeout.ms default: how long a marker waits for the in-sync replicas (Kafka's marker appends use it). */
const MARKER_REPLICATION_TIMEOUT_MS = 30_000;

/**
 * Writes a marker to a partition this broker leads (cluster: leader check + leader epoch, waits for the
 * ISR like acks=all; one node: the flush policy). Checks checkMarker; appends with {internal:true};
 * completeTxn; broker.appended(log); for __consumer_offsets calls broker.groups.onTxnMarker(partition, m).
 * Errors come back as codes (UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, INVALID_PRODUCER_EPOCH,
 * TRANSACTION_COORDINATOR_FENCED for a coordinator epoch below that of the producer's last marker ...).
 *
 * Order, as Kafka's: producer state (LSO, aborted index) changes at the append, since readers are
 * bounded by the high watermark anyway; the group coordinator applies or drops the pending offsets
 * only once the marker is committed (replicated, or flushed per policy), as Kafka's
 * scheduleHandleTxnCompletion runs from the append's completion. A failure after the append leaves
 * the marker in the log: the coordinator retries, and the second marker finds no open transaction
 * (a no-op for producer state) and applies the group's offsets then.
 *
 * The append happens synchronously, before the first await: markers started one after another
 * land in that order (the WriteTxnMarkers handler relies on it).
 */
export async function writeTxnMarker(broker: MarkerHost, topicName: string, partition: number, m: TxnMarker): Promise<number> {
  try {
    const topic = broker.topics.get(topicName);
    if (!topic || !topic.partitions[partition]) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic or partition ${topicName}-${partition}`);
    }
    const { log, leaderEpoch } = broker.leaderView(topic, partition);
    const cluster = broker.cluster;
    // Kafka appends markers with acks=-1: too small an ISR is NOT_ENOUGH_REPLICAS before writing.
    if (cluster) cluster.checkIsrForAcksAll(topicName, partition);
    const producers = broker.producersOf(topic, partition);
    producers.checkMarker(m.producerId, m.producerEpoch, m.coordinatorEpoch);
    const r = log.append(buildMarkerBatch(m, Date.now(), leaderEpoch), { leaderEpoch, internal: true });
    producers.completeTxn({ producerId: m.producerId, producerEpoch: m.producerEpoch, commit: m.commit, coordinatorEpoch: m.coordinatorEpoch, offset: r.baseOffset });
    broker.appended(log);
    if (cluster) {
      cluster.afterLeaderAppend(topicName, partition);
      const code = await cluster.waitForCommit(topicName, partition, r.lastOffset, MARKER_REPLICATION_TIMEOUT_MS);
      if (code !== ErrorCode.NONE) return code;
    }
    if (r.flushed) await r.flushed;
    if (topicName === GROUP_OFFSETS_TOPIC) broker.groups.onTxnMarker(partition, { producerId: m.producerId, commit: m.commit });
    return ErrorCode.NONE;
  } catch (e) {
    return toErrorCode(e, broker.log).errorCode;
  }
}

const GROUP_OFFSETS_TOPIC = '__consumer_offsets';
