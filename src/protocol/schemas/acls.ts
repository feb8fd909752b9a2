/**
 * The ACL APIs, versions 0-3, flexible from v2; v1 adds the resource pattern type (LITERAL = 3,
 * PREFIXED = 4; filters also MATCH = 2 and ANY = 1), which v0 lacks and implies LITERAL.
 *
 * DescribeAcls (key 29)
 *   Request:  resource_type_filter, resource_name_filter (nullable), pattern_type_filter (v1+),
 *             principal_filter (nullable), host_filter (nullable), operation, permission_type.
 *   Response: throttle_time_ms, error_code, error_message (nullable),
 *             resources[resource_type, resource_name, pattern_type (v1+),
 *                       acls[principal, host, operation, permission_type]].
 * CreateAcls (key 30)
 *   Request:  creations[resource_type, resource_name, resource_pattern_type (v1+), principal, host,
 *                       operation, permission_type].
 *   Response: throttle_time_ms, results[error_code, error_message (nullable)], one per creation.
 * DeleteAcls (key 31)
 *   Request:  filters[the DescribeAcls request fields].
 *   Response: throttle_time_ms, filter_results[error_code, error_message (nullable),
 *             matching_acls[error_code, error_message (nullable), resource_type, resource_name,
 *                           pattern_type (v1+), principal, host, operation, permission_type]].
 * Resource types, operations and permission types are int8 enums (Kafka's AclOperation etc.).
 */
import { array, defineApi, int16, int32, int8, string } from '../schema.js';

const LITERAL = 3;

const aclFilter = [
  int8('resourceTypeFilter'),
  string('resourceNameFilter', { nullableSince: 0 }),
  int8('patternTypeFilter', { since: 1, default: LITERAL }),
  string('principalFilter', { nullableSince: 0 }),
  string('hostFilter', { nullableSince: 0 }),
  int8('operation'),
  int8('permissionType'),
] as const;

export const describeAclsApi = defineApi({
  apiKey: 29,
  name: 'DescribeAcls',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 2,
  request: aclFilter,
  response: [
    int32('throttleTimeMs'),
    int16('errorCode'),
    string('errorMessage', { nullableSince: 0 }),
    array('resources', [
      int8('resourceType'),
      string('resourceName'),
      int8('patternType', { since: 1, default: LITERAL }),
      array('acls', [string('principal'), string('host'), int8('operation'), int8('permissionType')]),
    ]),
  ],
});

export const createAclsApi = defineApi({
  apiKey: 30,
  name: 'CreateAcls',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 2,
  request: [
    array('creations', [
      int8('resourceType'),
      string('resourceName'),
      int8('resourcePatternType', { since: 1, default: LITERAL }),
      string('principal'),
      string('host'),
      int8('operation'),
      int8('permissionType'),
    ]),
  ],
  response: [int32('throttleTimeMs'), array('results', [int16('errorCode'), string('errorMessage', { nullableSince: 0 })])],
});

export const deleteAclsApi = defineApi({
  apiKey: 31,
  name: 'DeleteAcls',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 2,
  request: [array('filters', aclFilter)],
  response: [
    int32('throttleTimeMs'),
    array('filterResults', [
      int16('errorCode'),
      string('errorMessage', { nullableSince: 0 }),
      array('matchingAcls', [
        int16('errorCode'),
        string('errorMessage', { nullableSince: 0 }),
        int8('resourceType'),
        string('resourceName'),
        int8('patternType', { since: 1, default: LITERAL }),
        string('principal'),
        string('host'),
        int8('operation'),
        int8('permissionType'),
      ]),
    ]),
  ],
});
