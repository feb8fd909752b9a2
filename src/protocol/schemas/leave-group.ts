/**
 * LeaveGroup (key 13), versions 0-5. Flexible from v4.
 *
 * Request:
 * v0-2    group_id, member_id
 * v3      member_id replaced by members[member_id, group_instance_id?] (batch leave, KIP-345)
 * v4      flexible
 * v5      members[] + reason (nullable, KIP-800)
 *
 * Response:
 * v0      error_code
 * v1      + throttle_time_ms (first)
 * v3      + members[member_id, group_instance_id?, error_code]
 */
import { array, defineApi, int16, int32, string } from '../schema.js';

export const leaveGroupApi = defineApi({
  apiKey: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 4,
  request: [
    string('groupId'),
    string('memberId', { until: 2 }),
    array(
      'members',
      [
        string('memberId'),
        string('groupInstanceId', { nullableSince: 3, default: null }),
        string('reason', { since: 5, nullableSince: 5, default: null }),
      ],
      { since: 3 },
    ),
  ],
  response: [
    int32('throttleTimeMs', { since: 1 }),
    int16('errorCode'),
    array('members', [string('memberId'), string('groupInstanceId', { nullableSince: 3 }), int16('errorCode')], {
      since: 3,
    }),
  ],
});
