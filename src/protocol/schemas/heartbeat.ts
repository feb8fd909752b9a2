/**
 * Heartbeat (key 12), versions 0-4. Flexible from v4.
 *
 * Request: group_id, generation_id, member_id; v3 + group_instance_id (nullable).
 * Response: error_code; v1 + throttle_time_ms (first). REBALANCE_IN_PROGRESS tells the member to
 * rejoin.
 */
import { defineApi, int16, int32, string } from '../schema.js';

export const heartbeatApi = defineApi({
  apiKey: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  request: [
    string('groupId'),
    int32('generationId'),
    string('memberId'),
    string('groupInstanceId', { since: 3, nullableSince: 3, default: null }),
  ],
  response: [int32('throttleTimeMs', { since: 1 }), int16('errorCode')],
});
