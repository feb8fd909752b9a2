/**
 * InitProducerId (key 22), versions 0-5. Flexible from v2 (not v4, whatever kfake's comment says).
 *
 * Request:
 * v0      transactional_id (nullable: null = idempotent producer only), transaction_timeout_ms
 * v2      flexible
 * v3      + producer_id, producer_epoch (-1/-1, or the current pair to bump the epoch, KIP-360)
 * v4, v5  same layout (PRODUCER_FENCED, TRANSACTION_ABORTABLE error codes)
 *
 * Response: throttle_time_ms (first), error_code, producer_id, producer_epoch; same in all versions
 * (v2+ flexible).
 */
import { defineApi, int16, int32, int64, string } from '../schema.js';

export const initProducerIdApi = defineApi({
  apiKey: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 2,
  request: [
    string('transactionalId', { nullableSince: 0 }),
    int32('transactionTimeoutMs'),
    int64('producerId', { since: 3, default: -1n }),
    int16('producerEpoch', { since: 3, default: -1 }),
  ],
  response: [int32('throttleTimeMs'), int16('errorCode'), int64('producerId', { default: -1n }), int16('producerEpoch')],
});
