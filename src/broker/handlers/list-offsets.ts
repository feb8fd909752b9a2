/**
 * ListOffsets (key 2), v1-7.
 * timestamp -2: the log start offset; -1: the high watermark (on one node the log end offset), or
 * with isolation_level 1 (read_committed, v2+) the last stable offset, below which every
 * transaction is decided (Kafka's Partition.fetchOffsetForTimestamp); -3 (v7, KIP-734): the offset and
 * timestamp of the record with the largest timestamp; any other value: the first offset whose
 * timestamp is at or after it, from the time index, or -1 when there is none. Lookups by time never
 * answer an offset at or past what "latest" answers.
 * Not implemented: v0 (old-style offset lists; no client in scope sends it), v8+ tiered-storage
 * timestamps.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { listOffsetsApi } from '../../protocol/schemas/list-offsets.js';
import { toErrorCode } from '../errors.js';
import { defineHandler } from '../handler.js';

const EARLIEST = -2n;
const LATEST = -1n;
const MAX_TIMESTAMP = -3n;
const READ_COMMITTED = 1;

export const listOffsetsHandler = defineHandler({
  api: listOffsetsApi,
  minVersion: 1,
  maxVersion: 7,
  handle(req, { broker }) {
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          const base = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, timestamp: -1n, offset: -1n, leaderEpoch: 0 };
          const topic = broker.topics.get(t.name);
          if (!topic || !topic.partitions[p.partitionIndex]) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, leaderEpoch: -1 };
          try {
            // The leader answers (current_leader_epoch checked from v4).
            const { log, highWatermark, leaderEpoch } = broker.leaderView(topic, p.partitionIndex, p.currentLeaderEpoch);
            base.leaderEpoch = leaderEpoch;
            if (p.timestamp === EARLIEST) return { ...base, offset: BigInt(log.logStartOffset) };
            // What a consumer of this isolation level may fetch; lookups answer nothing at or past it.
            const fetchable = req.isolationLevel === READ_COMMITTED ? broker.producersOf(topic, p.partitionIndex).lastStableOffset(highWatermark) : highWatermark;
            if (p.timestamp === LATEST) return { ...base, offset: BigInt(fetchable) };
            const found = p.timestamp === MAX_TIMESTAMP ? log.maxTimestampOffset() : log.offsetForTimestamp(Number(p.timestamp));
            return found && found.offset < fetchable ? { ...base, offset: BigInt(found.offset), timestamp: BigInt(found.timestamp) } : base;
          } catch (e) {
            return { ...base, errorCode: toErrorCode(e, broker.log).errorCode, leaderEpoch: -1 };
          }
        }),
      })),
    };
  },
});
