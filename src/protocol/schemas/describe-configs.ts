/**
 * DescribeConfigs (key 32), versions 0-4. Flexible from v4.
 *
 * Request:
 * v0      resources[resource_type (2 topic, 4 broker, 8 broker logger), resource_name,
 *         configuration_keys[] (nullable: null = all)]
 * v1      + include_synonyms
 * v3      + include_documentation
 * v4      flexible
 *
 * Response (throttle_time_ms first in every version):
 * v0      results[error_code, error_message?, resource_type, resource_name, configs[name, value?,
 *         read_only, is_default, is_sensitive]]
 * v1      configs[]: is_default replaced by config_source; + synonyms[name, value?, source]
 * v3      configs[] + config_type, documentation (nullable)
 * v4      flexible
 */
import { array, bool, defineApi, int16, int32, int8, string } from '../schema.js';

export const describeConfigsApi = defineApi({
  apiKey: 32,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  request: [
    array('resources', [
      int8('resourceType'),
      string('resourceName'),
      array('configurationKeys', 'string', { nullableSince: 0 }),
    ]),
    bool('includeSynonyms', { since: 1, default: false }),
    bool('includeDocumentation', { since: 3, default: false }),
  ],
  response: [
    int32('throttleTimeMs'),
    array('results', [
      int16('errorCode'),
      string('errorMessage', { nullableSince: 0 }),
      int8('resourceType'),
      string('resourceName'),
      array('configs', [
        string('name'),
        string('value', { nullableSince: 0 }),
        bool('readOnly'),
        bool('isDefault', { until: 0 }),
        int8('configSource', { since: 1, default: -1 }),
        bool('isSensitive'),
        array('synonyms', [string('name'), string('value', { nullableSince: 0 }), int8('source')], { since: 1 }),
        int8('configType', { since: 3, default: 0 }),
        string('documentation', { since: 3, nullableSince: 0 }),
      ]),
    ]),
  ],
});
