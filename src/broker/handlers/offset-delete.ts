/**
 * OffsetDelete (key 47), v0 (KIP-496).
 *
 * Deletes committed offsets of a group (tombstones in `__consumer_offsets`). Group-level errors:
 * GROUP_ID_NOT_FOUND, INVALID_GROUP_ID (empty id), NON_EMPTY_GROUP for an active group that is not
 * a consumer group. In an active consumer group, partitions of topics a member subscribes to are
 * GROUP_SUBSCRIBED_TO_TOPIC; partitions of topics that do not exist are UNKNOWN_TOPIC_OR_PARTITION.
 */
import { offsetDeleteApi } from '../../protocol/schemas/offset-delete.js';
import { defineHandler } from '../handler.js';

export const offsetDeleteHandler = defineHandler({
  api: offsetDeleteApi,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, { broker }) {
    const r = await broker.groups.deleteOffsets(
      req.groupId,
      req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partitionIndex) })),
    );
    return { errorCode: r.errorCode, throttleTimeMs: 0, topics: r.topics };
  },
});
