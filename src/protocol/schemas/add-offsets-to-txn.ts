/**
 * AddOffsetsToTxn (key 25), versions 0-4. Flexible from v3.
 *
 * A transactional producer about to commit consumer offsets (TxnOffsetCommit) first tells its
 * transaction coordinator which group they belong to; the coordinator adds that group's
 * __consumer_offsets partition to the transaction, so the EndTxn markers reach it too.
 *
 * Request: transactional_id, producer_id, producer_epoch, group_id; the same in every version.
 * v2 may be answered PRODUCER_FENCED, v3 is flexible, v4 may be answered TRANSACTION_ABORTABLE.
 *
 * Response: throttle_time_ms, error_code; the same in every version (v3+ flexible).
 */
import { defineApi, int16, int32, int64, string } from '../schema.js';
import type { Req, ReqInput, Res, ResInput } from '../schema.js';

export const addOffsetsToTxnApi = defineApi({
  apiKey: 25,
  name: 'AddOffsetsToTxn',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,
  request: [string('transactionalId'), int64('producerId'), int16('producerEpoch'), string('groupId')],
  response: [int32('throttleTimeMs'), int16('errorCode')],
});

export type AddOffsetsToTxnRequest = Req<typeof addOffsetsToTxnApi>;
export type AddOffsetsToTxnRequestInput = ReqInput<typeof addOffsetsToTxnApi>;
export type AddOffsetsToTxnResponse = Res<typeof addOffsetsToTxnApi>;
export type AddOffsetsToTxnResponseInput = ResInput<typeof addOffsetsToTxnApi>;
