/**
 * Produce (key 0), versions 0-11. Flexible from v9.
 *
 * Request:
 * v0-2    acks, timeout_ms, topic_data[name, partition_data[index, records]]; records are magic 0/1
 *         message sets (Brook answers these versions with UNSUPPORTED_VERSION, see the reference)
 * v3      + transactional_id (nullable, FIRST field); records are RecordBatch v2 from here on
 * v4-8    same layout (v4 KAFKA_STORAGE_ERROR, v7 zstd allowed, v8 errors below)
 * v9      flexible
 * v10-11  same layout (KIP-951, KIP-890 error codes)
 *
 * `records` decodes to a zero-copy Buffer view of the request: the codec never parses batches.
 *
 * Response:
 * v1      + throttle_time_ms, the LAST field (unlike most APIs)
 * v2      partition_responses[] + log_append_time_ms (-1 unless the topic uses LogAppendTime)
 * v5      partition_responses[] + log_start_offset
 * v8      partition_responses[] + record_errors[batch_index, batch_index_error_message], error_message
 * v10     tagged: partition_responses[].current_leader (tag 0), node_endpoints (tag 0, top level);
 *         both optional, omitted unless given
 */
import { array, defineApi, int16, int32, int64, records, string, struct } from '../schema.js';
import type { Req, ReqInput, Res, ResInput } from '../schema.js';

export const produceApi = defineApi({
  apiKey: 0,
  name: 'Produce',
  minVersion: 0,
  maxVersion: 11,
  flexibleFrom: 9,
  request: [
    string('transactionalId', { since: 3, nullableSince: 3, default: null }),
    int16('acks'),
    int32('timeoutMs'),
    array('topicData', [string('name'), array('partitionData', [int32('index'), records('records')])]),
  ],
  response: [
    array('responses', [
      string('name'),
      array('partitionResponses', [
        int32('index'),
        int16('errorCode'),
        int64('baseOffset'),
        int64('logAppendTimeMs', { since: 2, default: -1n }),
        int64('logStartOffset', { since: 5, default: -1n }),
        array('recordErrors', [int32('batchIndex'), string('batchIndexErrorMessage', { nullableSince: 8, default: null })], {
          since: 8,
        }),
        string('errorMessage', { since: 8, nullableSince: 8, default: null }),
        struct('currentLeader', [int32('leaderId', { default: -1 }), int32('leaderEpoch', { default: -1 })], {
          since: 10,
          tag: 0,
        }),
      ]),
    ]),
    int32('throttleTimeMs', { since: 1 }),
    array(
      'nodeEndpoints',
      [int32('nodeId'), string('host'), int32('port'), string('rack', { nullableSince: 10, default: null })],
      { since: 10, tag: 0 },
    ),
  ],
});

export type ProduceRequest = Req<typeof produceApi>;
export type ProduceRequestInput = ReqInput<typeof produceApi>;
export type ProduceResponse = Res<typeof produceApi>;
export type ProduceResponseInput = ResInput<typeof produceApi>;
