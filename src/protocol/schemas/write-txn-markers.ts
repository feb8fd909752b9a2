/**
 * WriteTxnMarkers (key 27), versions 0-1. Flexible from v1.
 *
 * The transaction coordinator asks a partition leader to append a COMMIT or ABORT control batch
 * for a producer to each listed partition. Java's Admin abortTransaction also sends it, straight
 * to the partition leader, to end a hanging transaction.
 *
 * Request:
 * v0      markers[producer_id, producer_epoch, transaction_result (false = ABORT, true =
 *         COMMIT), topics[name, partition_indexes (int32[])], coordinator_epoch]
 * v1      flexible
 * coordinator_epoch comes last in a marker, after topics; it is the epoch of the coordinator's
 * __transaction_state partition and ends up in the control record's value.
 *
 * Response:
 * v0      markers[producer_id, topics[name, partitions[partition_index, error_code]]]
 * v1      flexible
 */
import { array, bool, defineApi, int16, int32, int64, string } from '../schema.js';
import type { Req, ReqInput, Res, ResInput } from '../schema.js';

export const writeTxnMarkersApi = defineApi({
  apiKey: 27,
  name: 'WriteTxnMarkers',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 1,
  request: [
    array('markers', [
      int64('producerId'),
      int16('producerEpoch'),
      bool('transactionResult'),
      array('topics', [string('name'), array('partitionIndexes', 'int32')]),
      int32('coordinatorEpoch'),
    ]),
  ],
  response: [
    array('markers', [
      int64('producerId'),
      array('topics', [string('name'), array('partitions', [int32('partitionIndex'), int16('errorCode')])]),
    ]),
  ],
});

export type WriteTxnMarkersRequest = Req<typeof writeTxnMarkersApi>;
export type WriteTxnMarkersRequestInput = ReqInput<typeof writeTxnMarkersApi>;
export type WriteTxnMarkersResponse = Res<typeof writeTxnMarkersApi>;
export type WriteTxnMarkersResponseInput = ResInput<typeof writeTxnMarkersApi>;
