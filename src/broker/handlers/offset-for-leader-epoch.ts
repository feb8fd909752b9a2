/**
 * OffsetForLeaderEpoch (key 23), v0-4.
 *
 * Per partition: the end offset of leader_epoch in this broker's log (the start offset of the first
 * larger epoch, or the log end offset when leader_epoch is the latest), and the largest epoch at or
 * below leader_epoch that the log holds. Followers truncate to it after a leader change; KIP-320
 * consumers use it to detect that their position lies past a truncation.
 *
 * This file only maps versions and loops: every per-partition decision (unknown topic or partition,
 * not the leader, current_leader_epoch fencing with FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH,
 * the epoch lookup, bounding a consumer's answer by the high watermark) belongs to
 * Broker.epochEndOffset, the one owner of partition state. What versions change here:
 * - current_leader_epoch is -1 (unchecked) below v2, the schema default;
 * - replica_id is -2 below v3 (REPLICA_ID_BEFORE_V3, Kafka's "debug" id: such askers were never
 *   bounded by the high watermark), -1 for a consumer and the broker id of a follower from v3;
 * - the response drops leader_epoch below v1 and throttle_time_ms below v2 (the codec does).
 * A failure the method throws instead of answering becomes that partition's error code.
 */
import { ApiKey } from '../../protocol/api-keys.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { offsetForLeaderEpochApi } from '../../protocol/schemas/offset-for-leader-epoch.js';
import { toErrorCode } from '../errors.js';
import { defineHandler } from '../handler.js';

/**
 * The one Broker method this handler needs (being added to broker.ts). Named here so the handler
 * type-checks whether or not Broker declares it yet; once it does, the cast below can go.
 */
export interface EpochEndOffsets {
  epochEndOffset(
    topicName: string,
    partition: number,
    /** -1: not checked. */
    currentLeaderEpoch: number,
    leaderEpoch: number,
    /** -1 consumer, >= 0 follower's broker id, -2 a request older than v3. */
    replicaId: number,
  ): { errorCode: number; leaderEpoch: number; endOffset: bigint };
}

/** What a partition answers when the lookup failed: Kafka's UNDEFINED_EPOCH and _OFFSET. */
const UNDEFINED_EPOCH = -1;
const UNDEFINED_OFFSET = -1n;

export const offsetForLeaderEpochHandler = defineHandler({
  api: offsetForLeaderEpochApi,
  minVersion: 0,
  maxVersion: 4,
  handle(req, { broker }) {
    const epochs = broker as unknown as EpochEndOffsets;
    const stats = broker.stats;
    const topics = req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => {
        let answer: { errorCode: number; leaderEpoch: number; endOffset: bigint };
        try {
          answer = epochs.epochEndOffset(t.topic, p.partition, p.currentLeaderEpoch, p.leaderEpoch, req.replicaId);
        } catch (e) {
          answer = { errorCode: toErrorCode(e, broker.log).errorCode, leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET };
        }
        if (answer.errorCode !== ErrorCode.NONE && stats.enabled) stats.api(ApiKey.OffsetForLeaderEpoch).addError(answer.errorCode);
        return { errorCode: answer.errorCode, partition: p.partition, leaderEpoch: answer.leaderEpoch, endOffset: answer.endOffset };
      }),
    }));
    return { throttleTimeMs: 0, topics };
  },
});
