/**
 * OffsetFetch (key 9), v1-9. Flexible from v6.
 *
 * Committed offsets of a group, whatever its state (standalone consumers have no members). A
 * partition with nothing committed answers offset -1, metadata "" and NONE: clients then apply
 * auto.offset.reset. Offsets are answered regardless of whether the topic exists, as Kafka does.
 *
 * v2+: topics null = every committed offset of the group, and a top-level error_code (before v2 a
 * group-level error goes on each partition). v5 adds the leader epoch. v7 require_stable (sent
 * by librdkafka with read_committed, its default): a partition with an offset committed by a
 * transaction that has no marker yet answers UNSTABLE_OFFSET_COMMIT (88, per partition, offset
 * -1; the client retries); without it the last committed offset is answered, as in Kafka. v8+
 * asks for several groups at once (groups[]), each answered with its own error; v9 member
 * id/epoch (KIP-848) are ignored.
 * Not implemented: v0 (ZooKeeper offsets).
 */
import type { GroupFetchResult } from '../../coordinator/coordinator.js';
import { offsetFetchApi } from '../../protocol/schemas/offset-fetch.js';
import { defineHandler } from '../handler.js';

export const offsetFetchHandler = defineHandler({
  api: offsetFetchApi,
  minVersion: 1,
  maxVersion: 9,
  handle(req, { broker, version }) {
    if (version >= 8) {
      return {
        throttleTimeMs: 0,
        groups: req.groups.map((g) => ({ groupId: g.groupId, ...broker.groups.fetchOffsets(g.groupId, g.topics, req.requireStable) })),
      };
    }
    const r: GroupFetchResult = broker.groups.fetchOffsets(req.groupId, version >= 2 ? req.topics : (req.topics ?? []), req.requireStable);
    if (version < 2 && r.errorCode !== 0) {
      // No top-level error before v2: every asked-for partition carries it.
      const topics = (req.topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: r.errorCode })),
      }));
      return { throttleTimeMs: 0, topics, errorCode: r.errorCode };
    }
    return { throttleTimeMs: 0, topics: r.topics, errorCode: r.errorCode };
  },
});
