/**
 * SyncGroup (key 14), versions 0-5. Flexible from v4.
 *
 * Request:
 * v0      group_id, generation_id, member_id, assignments[member_id, assignment] (leader only)
 * v3      + group_instance_id (nullable)
 * v4      flexible
 * v5      + protocol_type, protocol_name (nullable; checked against the group's, KIP-559)
 *
 * Response:
 * v0      error_code, assignment (bytes, passed through byte for byte)
 * v1      + throttle_time_ms (first)
 * v4      flexible
 * v5      + protocol_type, protocol_name (nullable, before assignment)
 */
import { array, bytes, defineApi, int16, int32, string } from '../schema.js';

export const syncGroupApi = defineApi({
  apiKey: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 4,
  request: [
    string('groupId'),
    int32('generationId'),
    string('memberId'),
    string('groupInstanceId', { since: 3, nullableSince: 3, default: null }),
    string('protocolType', { since: 5, nullableSince: 5, default: null }),
    string('protocolName', { since: 5, nullableSince: 5, default: null }),
    array('assignments', [string('memberId'), bytes('assignment')]),
  ],
  response: [
    int32('throttleTimeMs', { since: 1 }),
    int16('errorCode'),
    string('protocolType', { since: 5, nullableSince: 5, default: null }),
    string('protocolName', { since: 5, nullableSince: 5, default: null }),
    bytes('assignment'),
  ],
});
