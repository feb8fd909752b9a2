/**
 * DescribeGroups (key 15), versions 0-5. Flexible from v5.
 *
 * Request: groups[] (group ids); v3 + include_authorized_operations.
 *
 * Response:
 * v0      groups[error_code, group_id, group_state, protocol_type, protocol_data,
 *         members[member_id, client_id, client_host, member_metadata, member_assignment]]
 * v1      + throttle_time_ms (first)
 * v3      groups[] + authorized_operations
 * v4      members[] + group_instance_id (nullable, after member_id)
 * v5      flexible
 */
import { array, bool, bytes, defineApi, int16, int32, string } from '../schema.js';

export const describeGroupsApi = defineApi({
  apiKey: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 5,
  request: [array('groups', 'string'), bool('includeAuthorizedOperations', { since: 3 })],
  response: [
    int32('throttleTimeMs', { since: 1 }),
    array('groups', [
      int16('errorCode'),
      string('groupId'),
      string('groupState'),
      string('protocolType'),
      string('protocolData'),
      array('members', [
        string('memberId'),
        string('groupInstanceId', { since: 4, nullableSince: 4, default: null }),
        string('clientId'),
        string('clientHost'),
        bytes('memberMetadata'),
        bytes('memberAssignment'),
      ]),
      int32('authorizedOperations', { since: 3, default: -2147483648 }),
    ]),
  ],
});
