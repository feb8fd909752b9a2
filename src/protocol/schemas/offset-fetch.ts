/**
 * OffsetFetch (key 9), versions 0-9. Flexible from v6.
 *
 * Request:
 * v0-1    group_id, topics[name, partition_indexes[]] (v0 read ZooKeeper offsets; same layout)
 * v2      topics nullable: null = every partition with a committed offset
 * v6      flexible
 * v7      + require_stable
 * v8      group_id/topics replaced by groups[group_id, topics[name, partition_indexes[]]?]
 *         (several groups per request; require_stable stays last)
 * v9      groups[] + member_id (nullable), member_epoch (KIP-848)
 *
 * Response:
 * v0      topics[name, partitions[partition_index, committed_offset, metadata?, error_code]]
 * v2      + error_code (top level, after topics)
 * v3      + throttle_time_ms (first)
 * v5      partitions[] + committed_leader_epoch (after committed_offset)
 * v6      flexible
 * v8      topics/error_code replaced by groups[group_id, topics[...same partitions...], error_code]
 * No committed offset: committed_offset -1, error NONE.
 */
import { array, bool, defineApi, int16, int32, int64, string } from '../schema.js';

export const offsetFetchApi = defineApi({
  apiKey: 9,
  name: 'OffsetFetch',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 6,
  request: [
    string('groupId', { until: 7 }),
    array('topics', [string('name'), array('partitionIndexes', 'int32')], { until: 7, nullableSince: 2 }),
    array(
      'groups',
      [
        string('groupId'),
        string('memberId', { since: 9, nullableSince: 9, default: null }),
        int32('memberEpoch', { since: 9, default: -1 }),
        array('topics', [string('name'), array('partitionIndexes', 'int32')], { nullableSince: 8 }),
      ],
      { since: 8 },
    ),
    bool('requireStable', { since: 7, default: false }),
  ],
  response: [
    int32('throttleTimeMs', { since: 3 }),
    array(
      'topics',
      [
        string('name'),
        array('partitions', [
          int32('partitionIndex'),
          int64('committedOffset'),
          int32('committedLeaderEpoch', { since: 5, default: -1 }),
          string('metadata', { nullableSince: 0 }),
          int16('errorCode'),
        ]),
      ],
      { until: 7 },
    ),
    int16('errorCode', { since: 2, until: 7, default: 0 }),
    array(
      'groups',
      [
        string('groupId'),
        array('topics', [
          string('name'),
          array('partitions', [
            int32('partitionIndex'),
            int64('committedOffset'),
            int32('committedLeaderEpoch', { default: -1 }),
            string('metadata', { nullableSince: 8 }),
            int16('errorCode'),
          ]),
        ]),
        int16('errorCode', { default: 0 }),
      ],
      { since: 8 },
    ),
  ],
});
