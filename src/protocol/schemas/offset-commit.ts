/**
 * OffsetCommit (key 8), versions 0-9. Flexible from v8.
 *
 * Request:
 * v0      group_id, topics[name, partitions[partition_index, committed_offset,
 *         committed_metadata (nullable)]]
 * v1      + generation_id_or_member_epoch, member_id; partitions[] + commit_timestamp (v1 only)
 * v2-4    + retention_time_ms (after member_id; -1 = broker default); commit_timestamp removed
 * v5      retention_time_ms removed
 * v6      partitions[] + committed_leader_epoch (after committed_offset)
 * v7      + group_instance_id (nullable)
 * v8      flexible
 * v9      same layout (usable with KIP-848 groups)
 * Non-group commits (generation -1, empty member_id) must succeed (kcat, librdkafka assign()).
 *
 * Response: topics[name, partitions[partition_index, error_code]]; v3 + throttle_time_ms (first).
 */
import { array, defineApi, int16, int32, int64, string } from '../schema.js';

export const offsetCommitApi = defineApi({
  apiKey: 8,
  name: 'OffsetCommit',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 8,
  request: [
    string('groupId'),
    int32('generationIdOrMemberEpoch', { since: 1, default: -1 }),
    string('memberId', { since: 1 }),
    string('groupInstanceId', { since: 7, nullableSince: 7, default: null }),
    int64('retentionTimeMs', { since: 2, until: 4, default: -1n }),
    array('topics', [
      string('name'),
      array('partitions', [
        int32('partitionIndex'),
        int64('committedOffset'),
        int32('committedLeaderEpoch', { since: 6, default: -1 }),
        int64('commitTimestamp', { since: 1, until: 1, default: -1n }),
        string('committedMetadata', { nullableSince: 0 }),
      ]),
    ]),
  ],
  response: [
    int32('throttleTimeMs', { since: 3 }),
    array('topics', [string('name'), array('partitions', [int32('partitionIndex'), int16('errorCode')])]),
  ],
});
