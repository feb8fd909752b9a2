/**
 * ListOffsets (key 2), v1-7.
 * timestamp -2: the log start offset; -1: the log end offset (= high watermark and last stable
 * offset on one node, so isolation_level changes nothing); -3 (v7, KIP-734): the offset and
 * timestamp of the record with the largest timestamp; any other value: the first offset whose
 * timestamp is at or after it, from the time index, or -1 when there is none.
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
            // The leader answers (current_leader_epoch checked from v4); "latest" is the high
            // watermark, and lookups by time never return an offset at or past it.
            const { log, highWatermark, leaderEpoch } = broker.leaderView(topic, p.partitionIndex, p.currentLeaderEpoch);
            base.leaderEpoch = leaderEpoch;
            if (p.timestamp === EARLIEST) return { ...base, offset: BigInt(log.logStartOffset) };
            if (p.timestamp === LATEST) return { ...base, offset: BigInt(highWatermark) };
            const found = p.timestamp === MAX_TIMESTAMP ? log.maxTimestampOffset() : log.offsetForTimestamp(Number(p.timestamp));
            return found && found.offset < highWatermark ? { ...base, offset: BigInt(found.offset), timestamp: BigInt(found.timestamp) } : base;
          } catch (e) {
            return { ...base, errorCode: toErrorCode(e, broker.log).errorCode, leaderEpoch: -1 };
          }
        }),
      })),
    };
  },
});
