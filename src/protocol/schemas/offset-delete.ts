/**
 * OffsetDelete (key 47), version 0 only. Never flexible.
 *
 * Request: group_id, topics[name, partitions[partition_index]].
 * Response: error_code, throttle_time_ms (second, not first), topics[name,
 *           partitions[partition_index, error_code]] (GROUP_SUBSCRIBED_TO_TOPIC per partition).
 */
import { array, defineApi, int16, int32, string } from '../schema.js';

export const offsetDeleteApi = defineApi({
  apiKey: 47,
  name: 'OffsetDelete',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: null,
  request: [string('groupId'), array('topics', [string('name'), array('partitions', [int32('partitionIndex')])])],
  response: [
    int16('errorCode'),
    int32('throttleTimeMs'),
    array('topics', [string('name'), array('partitions', [int32('partitionIndex'), int16('errorCode')])]),
  ],
});
