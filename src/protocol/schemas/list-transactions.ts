/**
 * ListTransactions (key 66), versions 0-1. Flexible from v0 (KIP-664).
 *
 * Admin tooling lists the transactional ids a coordinator owns, filtered.
 *
 * Request:
 * v0      state_filters (string[], state names; empty = any state), producer_id_filters (int64[];
 *         empty = any producer)
 * v1      + duration_filter (int64 ms, last): only transactions open longer than this; -1 = no
 *         filter, also what a v0 request means (KIP-994)
 *
 * Response: throttle_time_ms, error_code, unknown_state_filters (the request's state names the
 * coordinator does not know, echoed back), transaction_states[transactional_id, producer_id,
 * transaction_state]; the same in both versions.
 */
import { array, defineApi, int16, int32, int64, string } from '../schema.js';
import type { Req, ReqInput, Res, ResInput } from '../schema.js';

export const listTransactionsApi = defineApi({
  apiKey: 66,
  name: 'ListTransactions',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 0,
  request: [
    array('stateFilters', 'string'),
    array('producerIdFilters', 'int64'),
    int64('durationFilter', { since: 1, default: -1n }),
  ],
  response: [
    int32('throttleTimeMs'),
    int16('errorCode'),
    array('unknownStateFilters', 'string'),
    array('transactionStates', [string('transactionalId'), int64('producerId'), string('transactionState')]),
  ],
});

export type ListTransactionsRequest = Req<typeof listTransactionsApi>;
export type ListTransactionsRequestInput = ReqInput<typeof listTransactionsApi>;
export type ListTransactionsResponse = Res<typeof listTransactionsApi>;
export type ListTransactionsResponseInput = ResInput<typeof listTransactionsApi>;
