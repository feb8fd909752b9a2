/**
 * DescribeLogDirs (key 35), versions 0-4. Flexible from v2; v1 is the same as v0 (Kafka 4 dropped
 * v0, which kafka-python still sends).
 *
 * Request:  topics[topic, partitions[] (int32)], nullable: null asks for every partition.
 * Response: throttle_time_ms, error_code (v3+),
 *           results[error_code, log_dir, topics[name, partitions[partition_index, partition_size,
 *                   offset_lag, is_future_key]], total_bytes (v4+), usable_bytes (v4+)].
 */
import { array, bool, defineApi, int16, int32, int64, string } from '../schema.js';

export const describeLogDirsApi = defineApi({
  apiKey: 35,
  name: 'DescribeLogDirs',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 2,
  request: [array('topics', [string('topic'), array('partitions', 'int32')], { nullableSince: 0 })],
  response: [
    int32('throttleTimeMs'),
    int16('errorCode', { since: 3 }),
    array('results', [
      int16('errorCode'),
      string('logDir'),
      array('topics', [
        string('name'),
        array('partitions', [int32('partitionIndex'), int64('partitionSize'), int64('offsetLag'), bool('isFutureKey')]),
      ]),
      int64('totalBytes', { since: 4, default: -1n }),
      int64('usableBytes', { since: 4, default: -1n }),
    ]),
  ],
});
