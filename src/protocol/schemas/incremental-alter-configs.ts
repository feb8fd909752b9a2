/**
 * IncrementalAlterConfigs (key 44), versions 0-1. Flexible from v1 (v1 is only the flexible form).
 *
 * Request: resources[resource_type, resource_name, configs[name, config_operation (0 SET,
 *          1 DELETE, 2 APPEND, 3 SUBTRACT), value (nullable)]], validate_only.
 * Response: throttle_time_ms (first), responses[error_code, error_message?, resource_type,
 *           resource_name].
 */
import { array, bool, defineApi, int16, int32, int8, string } from '../schema.js';

export const incrementalAlterConfigsApi = defineApi({
  apiKey: 44,
  name: 'IncrementalAlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 1,
  request: [
    array('resources', [
      int8('resourceType'),
      string('resourceName'),
      array('configs', [string('name'), int8('configOperation'), string('value', { nullableSince: 0 })]),
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
