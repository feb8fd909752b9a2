/**
 * AlterConfigs (key 33), versions 0-2. Flexible from v2.
 *
 * Replaces a resource's whole dynamic config (prefer IncrementalAlterConfigs). v1 is the same as
 * v0; v2 flexible.
 * Request: resources[resource_type, resource_name, configs[name, value (nullable)]], validate_only.
 * Response: throttle_time_ms (first), responses[error_code, error_message?, resource_type,
 *           resource_name].
 */
import { array, bool, defineApi, int16, int32, int8, string } from '../schema.js';

export const alterConfigsApi = defineApi({
  apiKey: 33,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request: [
    array('resources', [
      int8('resourceType'),
      string('resourceName'),
      array('configs', [string('name'), string('value', { nullableSince: 0 })]),
    ]),
    bool('validateOnly'),
  ],
  response: [
    int32('throttleTimeMs'),
    array('responses', [
      int16('errorCode'),
      string('errorMessage', { nullableSince: 0 }),
      int8('resourceType'),
      string('resourceName'),
    ]),
  ],
});
