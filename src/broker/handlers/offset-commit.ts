/**
 * OffsetCommit (key 8), v2-9. Flexible from v8.
 *
 * Stores committed offsets in `__consumer_offsets` and answers once they are stored (appended,
 * and fsynced when the topic's flush policy asks). Per partition, in Kafka's order:
 * UNKNOWN_TOPIC_OR_PARTITION for a topic or partition that does not exist; then the group's
 * verdict for everything else: members commit with their generation and member id
 * (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS during
 * CompletingRebalance), standalone consumers with generation -1 and an empty member id while the
 * group is Empty or does not exist (kcat, librdkafka assign(), reference §5 #17); then
 * OFFSET_METADATA_TOO_LARGE for metadata over 4096 characters. An empty group id is valid here
 * (Kafka keeps it for old clients).
 *
 * v2-4 retention_time_ms sets an explicit expiry (-1: offsets.retention.minutes); v6 adds the
 * leader epoch, v7 group.instance.id. v2 is kafka-python's only version; the range must overlap
 * [1,2] for librdkafka's feature map.
 * Not implemented: v0-1 (ZooKeeper-era storage, v1 commit timestamps); no client in scope sends them.
 */
import { offsetCommitApi } from '../../protocol/schemas/offset-commit.js';
import { defineHandler } from '../handler.js';

export const offsetCommitHandler = defineHandler({
  api: offsetCommitApi,
  minVersion: 2,
  maxVersion: 9,
  async handle(req, { broker, version }) {
    const topics = await broker.groups.commitOffsets({
      groupId: req.groupId,
      generationId: req.generationIdOrMemberEpoch,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      retentionTimeMs: version <= 4 ? Number(req.retentionTimeMs) : -1,
      topics: req.topics,
    });
    return { throttleTimeMs: 0, topics };
  },
});
