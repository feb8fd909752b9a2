/**
 * WriteTxnMarkers (key 27), v0-1.
 *
 * A transaction coordinator (another broker of a cluster, or Java's Admin abortTransaction for a
 * hanging transaction) asks this partition leader to end a producer's transaction: per marker, a
 * COMMIT or ABORT control batch is written to each listed partition (txn-markers.ts: leader check,
 * producer epoch check, the marker batch, the partition's producer state and LSO, group offsets
 * for __consumer_offsets). Each partition answers on its own: an unknown topic or partition is
 * UNKNOWN_TOPIC_OR_PARTITION for that entry only; other errors are the ones writeTxnMarker returns
 * (NOT_LEADER_OR_FOLLOWER, INVALID_PRODUCER_EPOCH ...). The response goes out once every marker
 * is written and as durable as acks=all makes a produce (in a cluster: in the ISR).
 *
 * The writes start in request order (writeTxnMarker appends before it first waits, and answers
 * failures as codes, never rejecting), so two markers for one partition in one request land in the
 * order listed.
 */
import { writeTxnMarkersApi } from '../../protocol/schemas/write-txn-markers.js';
import { defineHandler } from '../handler.js';
import type { TxnMarker } from '../control-records.js';
import { writeTxnMarker } from '../txn-markers.js';

export const writeTxnMarkersHandler = defineHandler({
  api: writeTxnMarkersApi,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, { broker }) {
    const markers = req.markers.map((m) => {
      const marker: TxnMarker = { producerId: Number(m.producerId), producerEpoch: m.producerEpoch, commit: m.transactionResult, coordinatorEpoch: m.coordinatorEpoch };
      return {
        producerId: m.producerId,
        topics: m.topics.map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partition) => ({ partitionIndex: partition, done: writeTxnMarker(broker, t.name, partition, marker) })),
        })),
      };
    });
    return {
      markers: await Promise.all(
        markers.map(async (m) => ({
          producerId: m.producerId,
          topics: await Promise.all(
            m.topics.map(async (t) => ({
              name: t.name,
              partitions: await Promise.all(t.partitions.map(async (p) => ({ partitionIndex: p.partitionIndex, errorCode: await p.done }))),
            })),
          ),
        })),
      ),
    };
  },
});
