/**
 * CreatePartitions (key 37), versions 0-3. Flexible from v2.
 *
 * Request: topics[name, count (new total), assignments[broker_ids[]] (nullable)], timeout_ms,
 *          validate_only. v1 same as v0; v2 flexible; v3 same (may throttle, KIP-599).
 * Response: throttle_time_ms (first), results[name, error_code, error_message (nullable)].
 */
import { array, bool, defineApi, int16, int32, string } from '../schema.js';

export const createPartitionsApi = defineApi({
  apiKey: 37,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 2,
  request: [
    array('topics', [
      string('name'),
      int32('count'),
      array('assignments', [array('brokerIds', 'int32')], { nullableSince: 0 }),
    ]),
    int32('timeoutMs'),
    bool('validateOnly'),
  ],
  response: [
    int32('throttleTimeMs'),
    array('results', [string('name'), int16('errorCode'), string('errorMessage', { nullableSince: 0, default: null })]),
  ],
});
