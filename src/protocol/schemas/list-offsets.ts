/**
 * ListOffsets (key 2), versions 0-10. Flexible from v6.
 *
 * Request:
 * v0      replica_id, topics[name, partitions[partition_index, timestamp, max_num_offsets]]
 * v1      max_num_offsets removed (one offset per partition from here on)
 * v2      + isolation_level
 * v4      partitions[] + current_leader_epoch
 * v6      flexible
 * v7      same layout; timestamp -3 = offset of the max timestamp (KIP-734)
 * v8, v9  same layout; timestamps -4 (local log start), -5 (last tiered offset)
 * v10     + timeout_ms (KIP-1075)
 * Timestamps: -1 latest, -2 earliest.
 *
 * Response:
 * v0      topics[name, partitions[partition_index, error_code, old_style_offsets[]]]
 * v1      old_style_offsets replaced by timestamp, offset
 * v2      + throttle_time_ms (first)
 * v4      partitions[] + leader_epoch
 * v6      flexible
 */
import { array, defineApi, int16, int32, int64, int8, string } from '../schema.js';
import type { Req, ReqInput, Res, ResInput } from '../schema.js';

export const listOffsetsApi = defineApi({
  apiKey: 2,
  name: 'ListOffsets',
  minVersion: 0,
  maxVersion: 10,
  flexibleFrom: 6,
  request: [
    int32('replicaId'),
    int8('isolationLevel', { since: 2 }),
    array('topics', [
      string('name'),
      array('partitions', [
        int32('partitionIndex'),
        int32('currentLeaderEpoch', { since: 4, default: -1 }),
        int64('timestamp'),
        int32('maxNumOffsets', { until: 0, default: 1 }),
      ]),
    ]),
    int32('timeoutMs', { since: 10 }),
  ],
  response: [
    int32('throttleTimeMs', { since: 2 }),
    array('topics', [
      string('name'),
      array('partitions', [
        int32('partitionIndex'),
        int16('errorCode'),
        array('oldStyleOffsets', 'int64', { until: 0 }),
        int64('timestamp', { since: 1, default: -1n }),
        int64('offset', { since: 1, default: -1n }),
        int32('leaderEpoch', { since: 4, default: -1 }),
      ]),
    ]),
  ],
});

export type ListOffsetsRequest = Req<typeof listOffsetsApi>;
export type ListOffsetsRequestInput = ReqInput<typeof listOffsetsApi>;
export type ListOffsetsResponse = Res<typeof listOffsetsApi>;
export type ListOffsetsResponseInput = ResInput<typeof listOffsetsApi>;
