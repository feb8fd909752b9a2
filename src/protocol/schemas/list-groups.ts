/**
 * ListGroups (key 16), versions 0-5. Flexible from v3.
 *
 * Request: empty in v0-3; v4 + states_filter[]; v5 + types_filter[].
 * Response: error_code, groups[group_id, protocol_type]; v1 + throttle_time_ms (first);
 *           v4 groups[] + group_state; v5 groups[] + group_type.
 */
import { array, defineApi, int16, int32, string } from '../schema.js';

export const listGroupsApi = defineApi({
  apiKey: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 3,
  request: [array('statesFilter', 'string', { since: 4 }), array('typesFilter', 'string', { since: 5 })],
  response: [
    int32('throttleTimeMs', { since: 1 }),
    int16('errorCode'),
    array('groups', [
      string('groupId'),
      string('protocolType'),
      string('groupState', { since: 4 }),
      string('groupType', { since: 5 }),
    ]),
  ],
});
