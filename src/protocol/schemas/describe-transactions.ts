/**
 * DescribeTransactions (key 65), version 0. Flexible from v0 (KIP-664).
 *
 * Admin tooling asks a transaction coordinator for the state of transactional ids it owns.
 *
 * Request: transactional_ids (string[]); empty asks for nothing.
 *
 * Response: throttle_time_ms, transaction_states[error_code, transactional_id, transaction_state
 * (Kafka's state name, e.g. "Ongoing"), transaction_timeout_ms, transaction_start_time_ms (-1
 * when no transaction is open), producer_id, producer_epoch, topics[topic, partitions (int32[])]].
 * error_code comes first in each entry; an id this coordinator does not know is answered with
 * TRANSACTIONAL_ID_NOT_FOUND (105), one it does not own with NOT_COORDINATOR.
 */
import { array, defineApi, int16, int32, int64, string } from '../schema.js';
import type { Req, ReqInput, Res, ResInput } from '../schema.js';

export const describeTransactionsApi = defineApi({
  apiKey: 65,
  name: 'DescribeTransactions',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request: [array('transactionalIds', 'string')],
  response: [
    int32('throttleTimeMs'),
    array('transactionStates', [
      int16('errorCode'),
      string('transactionalId'),
      string('transactionState'),
      int32('transactionTimeoutMs'),
      int64('transactionStartTimeMs'),
      int64('producerId'),
      int16('producerEpoch'),
      array('topics', [string('topic'), array('partitions', 'int32')]),
    ]),
  ],
});

export type DescribeTransactionsRequest = Req<typeof describeTransactionsApi>;
export type DescribeTransactionsRequestInput = ReqInput<typeof describeTransactionsApi>;
export type DescribeTransactionsResponse = Res<typeof describeTransactionsApi>;
export type DescribeTransactionsResponseInput = ResInput<typeof describeTransactionsApi>;
