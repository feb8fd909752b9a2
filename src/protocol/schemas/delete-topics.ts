/**
 * DeleteTopics (key 20), versions 0-6. Flexible from v4.
 *
 * Request:
 * v0-5    topic_names[], timeout_ms
 * v4      flexible
 * v6      topic_names replaced by topics[name (nullable), topic_id]: delete by name or by ID
 *
 * Response:
 * v0      responses[name, error_code]
 * v1      + throttle_time_ms (first)
 * v3      may return TOPIC_DELETION_DISABLED
 * v5      responses[] + error_message (nullable)
 * v6      responses[] name nullable, + topic_id
 */
import { array, defineApi, int16, int32, string, uuid } from '../schema.js';

export const deleteTopicsApi = defineApi({
  apiKey: 20,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: 4,
  request: [
    array('topics', [string('name', { nullableSince: 6, default: null }), uuid('topicId')], { since: 6 }),
    array('topicNames', 'string', { until: 5 }),
    int32('timeoutMs'),
  ],
  response: [
    int32('throttleTimeMs', { since: 1 }),
    array('responses', [
      string('name', { nullableSince: 6 }),
      uuid('topicId', { since: 6 }),
      int16('errorCode'),
      string('errorMessage', { since: 5, nullableSince: 5, default: null }),
    ]),
  ],
});
