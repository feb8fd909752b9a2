/**
 * OffsetForLeaderEpoch (key 23), versions 0-4. Flexible from v4.
 *
 * A follower (or a KIP-320 consumer) asks, per partition: where does leader_epoch end in your log?
 * The answer is the start offset of the first epoch above it (the log end offset for the current
 * epoch), and the largest epoch at or below the one asked for, so the asker truncates there.
 *
 * Request:
 * v0, v1  topics[topic, partitions[partition, leader_epoch]]
 * v2      partitions[] + current_leader_epoch (fencing; -1 = not checked), before leader_epoch
 * v3      + replica_id (first): the follower's broker id, -1 for a consumer. Absent before v3,
 *         where it reads as -2, Kafka's "debug" replica id: old askers were not bounded by the
 *         high watermark, and -2 keeps them that way.
 * v4      flexible
 *
 * Response:
 * v0      topics[topic, partitions[error_code, partition, end_offset]]
 * v1      partitions[] + leader_epoch, between partition and end_offset (-1 when unknown)
 * v2      + throttle_time_ms (first)
 * v3      same as v2
 * v4      flexible
 *
 * Note the response's partition entry opens with error_code, then partition: the reverse of most
 * APIs.
 */
import { array, defineApi, int16, int32, int64, string } from '../schema.js';
import type { Req, ReqInput, Res, ResInput } from '../schema.js';

/** replica_id of a request older than v3 (Kafka's DEBUGGING_REPLICA_ID). */
export const REPLICA_ID_BEFORE_V3 = -2;

export const offsetForLeaderEpochApi = defineApi({
  apiKey: 23,
  name: 'OffsetForLeaderEpoch',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  request: [
    int32('replicaId', { since: 3, default: REPLICA_ID_BEFORE_V3 }),
    array('topics', [
      string('topic'),
      array('partitions', [
        int32('partition'),
        int32('currentLeaderEpoch', { since: 2, default: -1 }),
        int32('leaderEpoch'),
      ]),
    ]),
  ],
  response: [
    int32('throttleTimeMs', { since: 2 }),
    array('topics', [
      string('topic'),
      array('partitions', [
        int16('errorCode'),
        int32('partition'),
        int32('leaderEpoch', { since: 1, default: -1 }),
        int64('endOffset', { default: -1n }),
      ]),
    ]),
  ],
});

export type OffsetForLeaderEpochRequest = Req<typeof offsetForLeaderEpochApi>;
export type OffsetForLeaderEpochRequestInput = ReqInput<typeof offsetForLeaderEpochApi>;
export type OffsetForLeaderEpochResponse = Res<typeof offsetForLeaderEpochApi>;
export type OffsetForLeaderEpochResponseInput = ResInput<typeof offsetForLeaderEpochApi>;
