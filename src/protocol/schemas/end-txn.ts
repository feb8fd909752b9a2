/**
 * EndTxn (key 26), versions 0-4. Flexible from v3.
 *
 * Commits or aborts the producer's open transaction: the coordinator logs PrepareCommit or
 * PrepareAbort, then writes the markers (WriteTxnMarkers) to every partition in the transaction.
 *
 * Request: transactional_id, producer_id, producer_epoch, committed (true = commit, false =
 * abort); the same in every version. v2 may be answered PRODUCER_FENCED, v3 is flexible, v4 may
 * be answered TRANSACTION_ABORTABLE.
 *
 * Response: throttle_time_ms, error_code; the same in every version (v3+ flexible).
 *
 * Kafka's v5 (KIP-890 part 2, transaction.version 2) adds producer_id and producer_epoch to the
 * response, because the epoch is bumped at every EndTxn. Clients use it only when the broker
 * finalizes transaction.version >= 2, which Brook does not, so the schema stops at v4.
 */
import { bool, defineApi, int16, int32, int64, string } from '../schema.js';
import type { Req, ReqInput, Res, ResInput } from '../schema.js';

export const endTxnApi = defineApi({
  apiKey: 26,
  name: 'EndTxn',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,
  request: [string('transactionalId'), int64('producerId'), int16('producerEpoch'), bool('committed')],
  response: [int32('throttleTimeMs'), int16('errorCode')],
});

export type EndTxnRequest = Req<typeof endTxnApi>;
export type EndTxnRequestInput = ReqInput<typeof endTxnApi>;
export type EndTxnResponse = Res<typeof endTxnApi>;
export type EndTxnResponseInput = ResInput<typeof endTxnApi>;
