/**
 * FindCoordinator (key 10), versions 0-6. Flexible from v3.
 *
 * Request:
 * v0      key (group id)
 * v1      + key_type (0 group, 1 transaction; 2 share group from v6)
 * v3      flexible
 * v4      key replaced by coordinator_keys[] (batched lookup, KIP-699)
 * v5, v6  same layout (TRANSACTION_ABORTABLE; share groups)
 *
 * Response:
 * v0      error_code, node_id, host, port
 * v1      + throttle_time_ms (first), error_message (nullable, after error_code)
 * v3      flexible
 * v4      all single-key fields replaced by coordinators[key, node_id, host, port, error_code,
 *         error_message?]
 */
import { array, defineApi, int16, int32, int8, string } from '../schema.js';

export const findCoordinatorApi = defineApi({
  apiKey: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: 3,
  request: [
    string('key', { until: 3 }),
    int8('keyType', { since: 1, default: 0 }),
    array('coordinatorKeys', 'string', { since: 4 }),
  ],
  response: [
    int32('throttleTimeMs', { since: 1 }),
    int16('errorCode', { until: 3 }),
    string('errorMessage', { since: 1, until: 3, nullableSince: 1, default: null }),
    int32('nodeId', { until: 3 }),
    string('host', { until: 3 }),
    int32('port', { until: 3 }),
    array(
      'coordinators',
      [
        string('key'),
        int32('nodeId'),
        string('host'),
        int32('port'),
        int16('errorCode'),
        string('errorMessage', { nullableSince: 4, default: null }),
      ],
      { since: 4 },
    ),
  ],
});
