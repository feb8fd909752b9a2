/**
 * EndTxn (key 26), v0-4 (flexible from v3; v4's TRANSACTION_ABORTABLE is never answered; v5 of
 * transaction.version 2 is not served).
 *
 * Commits or aborts the producer's open transaction. Unlike Kafka, which answers once
 * PrepareCommit/PrepareAbort is logged, this answers after the markers are written to every
 * partition of the transaction and CompleteCommit/CompleteAbort is stored, so the producer's next
 * request never meets CONCURRENT_TRANSACTIONS (kafkajs fails on it). A retried commit or abort of a
 * completed transaction is NONE; the other outcome, or EndTxn with no transaction open,
 * INVALID_TXN_STATE; another producer id INVALID_PRODUCER_ID_MAPPING; another epoch
 * PRODUCER_FENCED (INVALID_PRODUCER_EPOCH below v2).
 */
import { endTxnApi } from '../../protocol/schemas/end-txn.js';
import { defineHandler } from '../handler.js';

export const endTxnHandler = defineHandler({
  api: endTxnApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, { broker, version }) {
    const errorCode = await broker.transactions.endTxn(req.transactionalId, Number(req.producerId), req.producerEpoch, req.committed, version);
    return { throttleTimeMs: 0, errorCode };
  },
});
