/**
 * ListTransactions (key 66), v0-1 (flexible). KIP-664 tooling (kafka-transactions.sh list).
 *
 * The transactional ids this coordinator holds, filtered by state names (state_filters; names it
 * does not know are echoed in unknown_state_filters and match nothing), producer ids, and from v1
 * duration_filter: only transactions started more than that many ms ago (-1: no filter, KIP-994).
 */
import { listTransactionsApi } from '../../protocol/schemas/list-transactions.js';
import { defineHandler } from '../handler.js';

export const listTransactionsHandler = defineHandler({
  api: listTransactionsApi,
  minVersion: 0,
  maxVersion: 1,
  handle(req, { broker }) {
    return { throttleTimeMs: 0, ...broker.transactions.list(req.stateFilters, req.producerIdFilters, req.durationFilter) };
  },
});
