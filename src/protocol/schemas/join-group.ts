/**
 * JoinGroup (key 11), versions 0-9. Flexible from v6.
 *
 * Request:
 * v0      group_id, session_timeout_ms, member_id, protocol_type, protocols[name, metadata]
 * v1      + rebalance_timeout_ms (after session_timeout_ms; absent = session timeout)
 * v4      same layout; a first join with an empty member_id gets MEMBER_ID_REQUIRED and a new id
 * v5      + group_instance_id (nullable, static membership)
 * v6      flexible
 * v8      + reason (nullable, KIP-800)
 *
 * Response:
 * v0      error_code, generation_id, protocol_name, leader, member_id, members[member_id, metadata]
 * v2      + throttle_time_ms (first)
 * v5      members[] + group_instance_id
 * v7      + protocol_type (nullable, before protocol_name); protocol_name becomes nullable
 * v9      + skip_assignment (after leader)
 */
import { array, bool, bytes, defineApi, int16, int32, string } from '../schema.js';

export const joinGroupApi = defineApi({
  apiKey: 11,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 6,
  request: [
    string('groupId'),
    int32('sessionTimeoutMs'),
    int32('rebalanceTimeoutMs', { since: 1, default: -1 }),
    string('memberId'),
    string('groupInstanceId', { since: 5, nullableSince: 5, default: null }),
    string('protocolType'),
    array('protocols', [string('name'), bytes('metadata')]),
    string('reason', { since: 8, nullableSince: 8, default: null }),
  ],
  response: [
    int32('throttleTimeMs', { since: 2 }),
    int16('errorCode'),
    int32('generationId', { default: -1 }),
    string('protocolType', { since: 7, nullableSince: 7, default: null }),
    string('protocolName', { nullableSince: 7 }),
    string('leader'),
    bool('skipAssignment', { since: 9, default: false }),
    string('memberId'),
    array('members', [
      string('memberId'),
      string('groupInstanceId', { since: 5, nullableSince: 5, default: null }),
      bytes('metadata'),
    ]),
  ],
});
