/**
 * CreateTopics (key 19), versions 0-7. Flexible from v5.
 *
 * Request:
 * v0      topics[name, num_partitions, replication_factor, assignments[partition_index,
 *         broker_ids[]], configs[name, value?]], timeout_ms
 * v1      + validate_only
 * v4      same layout; num_partitions / replication_factor may be -1 (broker default, KIP-464)
 * v5      flexible
 * v6, v7  same layout (v6 may return THROTTLING_QUOTA_EXCEEDED)
 *
 * Response:
 * v1      topics[] + error_message (nullable)
 * v2      + throttle_time_ms (first)
 * v5      topics[] + num_partitions, replication_factor, configs[name, value?, read_only,
 *         config_source, is_sensitive] (nullable, KIP-525); tagged topic_config_error_code (tag 0)
 * v7      topics[] + topic_id
 */
import { array, bool, defineApi, int16, int32, int8, string, uuid } from '../schema.js';

export const createTopicsApi = defineApi({
  apiKey: 19,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 7,
  flexibleFrom: 5,
  request: [
    array('topics', [
      string('name'),
      int32('numPartitions'),
      int16('replicationFactor'),
      array('assignments', [int32('partitionIndex'), array('brokerIds', 'int32')]),
      array('configs', [string('name'), string('value', { nullableSince: 0 })]),
    ]),
    int32('timeoutMs', { default: 60000 }),
    bool('validateOnly', { since: 1, default: false }),
  ],
  response: [
    int32('throttleTimeMs', { since: 2 }),
    array('topics', [
      string('name'),
      uuid('topicId', { since: 7 }),
      int16('errorCode'),
      string('errorMessage', { since: 1, nullableSince: 1, default: null }),
      int16('topicConfigErrorCode', { since: 5, tag: 0 }),
      int32('numPartitions', { since: 5, default: -1 }),
      int16('replicationFactor', { since: 5, default: -1 }),
      array(
        'configs',
        [
          string('name'),
          string('value', { nullableSince: 5 }),
          bool('readOnly'),
          int8('configSource', { default: -1 }),
          bool('isSensitive'),
        ],
        { since: 5, nullableSince: 5 },
      ),
    ]),
  ],
});
