/**
 * DeleteRecords (key 21), versions 0-2. Flexible from v2. v1 is the same as v0.
 *
 * Request: topics[name, partitions[partition_index, offset (delete before; -1 = high watermark)]],
 *          timeout_ms.
 * Response: throttle_time_ms (first), topics[name, partitions[partition_index, low_watermark,
 *           error_code]].
 */
import { array, defineApi, int16, int32, int64, string } from '../schema.js';

export const deleteRecordsApi = defineApi({
  apiKey: 21,
  name: 'DeleteRecords',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request: [
    array('topics', [string('name'), array('partitions', [int32('partitionIndex'), int64('offset')])]),
    int32('timeoutMs'),
  ],
  response: [
    int32('throttleTimeMs'),
    array('topics', [
      string('name'),
      array('partitions', [int32('partitionIndex'), int64('lowWatermark'), int16('errorCode')]),
    ]),
  ],
});
