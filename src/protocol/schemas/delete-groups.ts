/**
 * DeleteGroups (key 42), versions 0-2. Flexible from v2. v1 is the same as v0.
 *
 * Request: groups_names[] (Kafka's spelling).
 * Response: throttle_time_ms (first), results[group_id, error_code] (NON_EMPTY_GROUP,
 *           GROUP_ID_NOT_FOUND, ...).
 */
import { array, defineApi, int16, int32, string } from '../schema.js';

export const deleteGroupsApi = defineApi({
  apiKey: 42,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request: [array('groupsNames', 'string')],
  response: [int32('throttleTimeMs'), array('results', [string('groupId'), int16('errorCode')])],
});
