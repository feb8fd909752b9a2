/**
 * AddPartitionsToTxn (key 24), versions 0-3 only. Flexible from v3.
 *
 * A transactional producer names each partition before its first transactional write to it, so
 * the coordinator knows where to send the COMMIT/ABORT markers at EndTxn.
 *
 * Kafka defines v0-5, but v4 changed the request into a batch of transactions
 * (transactions[transactional_id, producer_id, producer_epoch, verify_only, topics]) with a
 * top-level error_code and results_by_transaction in the response: the broker-to-coordinator form
 * of KIP-890, which Kafka restricts to CLUSTER_ACTION. Clients send v3 and below, the
 * single-transaction form covered here; Kafka's JSON prefixes those fields "V3AndBelow", which we
 * drop since no other form exists in this range.
 *
 * Request:
 * v0      transactional_id, producer_id, producer_epoch, topics[name, partitions (int32[])]
 * v1      same as v0
 * v2      same (PRODUCER_FENCED may be answered)
 * v3      flexible
 *
 * Response:
 * v0      throttle_time_ms, results[name, results_by_partition[partition_index,
 *         partition_error_code]]   (Kafka: results_by_topic_v3_and_below)
 * v1, v2  same as v0
 * v3      flexible
 */
import { array, defineApi, int16, int32, int64, string } from '../schema.js';
import type { Req, ReqInput, Res, ResInput } from '../schema.js';

export const addPartitionsToTxnApi = defineApi({
  apiKey: 24,
  name: 'AddPartitionsToTxn',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 3,
  request: [
    string('transactionalId'),
    int64('producerId'),
    int16('producerEpoch'),
    array('topics', [string('name'), array('partitions', 'int32')]),
  ],
  response: [
    int32('throttleTimeMs'),
    array('results', [
      string('name'),
      array('resultsByPartition', [int32('partitionIndex'), int16('partitionErrorCode')]),
    ]),
  ],
});

export type AddPartitionsToTxnRequest = Req<typeof addPartitionsToTxnApi>;
export type AddPartitionsToTxnRequestInput = ReqInput<typeof addPartitionsToTxnApi>;
export type AddPartitionsToTxnResponse = Res<typeof addPartitionsToTxnApi>;
export type AddPartitionsToTxnResponseInput = ResInput<typeof addPartitionsToTxnApi>;
