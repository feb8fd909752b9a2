/**
 * DescribeTransactions (key 65), v0 (flexible). KIP-664 tooling (kafka-transactions.sh describe).
 *
 * Per transactional id: its state name (Kafka's: "Empty", "Ongoing", "PrepareCommit" ...), timeout,
 * start time of the open transaction (-1 none), producer id and epoch, and the partitions of the
 * transaction. An id this coordinator does not know is TRANSACTIONAL_ID_NOT_FOUND, one another
 * broker coordinates NOT_COORDINATOR. Not implemented: ACLs (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
 */
import { describeTransactionsApi } from '../../protocol/schemas/describe-transactions.js';
import { defineHandler } from '../handler.js';

export const describeTransactionsHandler = defineHandler({
  api: describeTransactionsApi,
  minVersion: 0,
  maxVersion: 0,
  handle(req, { broker }) {
    return { throttleTimeMs: 0, transactionStates: broker.transactions.describe(req.transactionalIds) };
  },
});
