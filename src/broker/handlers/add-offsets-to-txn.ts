/**
 * AddOffsetsToTxn (key 25), v0-4 (flexible from v3; v4's TRANSACTION_ABORTABLE is never answered).
 *
 * Adds the group's __consumer_offsets partition (partitionFor(group_id)) to the producer's
 * transaction, so its TxnOffsetCommit offsets are committed or dropped by the EndTxn markers. The
 * same answers as AddPartitionsToTxn: INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED
 * (INVALID_PRODUCER_EPOCH below v2), CONCURRENT_TRANSACTIONS.
 */
import { addOffsetsToTxnApi } from '../../protocol/schemas/add-offsets-to-txn.js';
import { defineHandler } from '../handler.js';

export const addOffsetsToTxnHandler = defineHandler({
  api: addOffsetsToTxnApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, { broker, version }) {
    const errorCode = await broker.transactions.addOffsets(req.transactionalId, Number(req.producerId), req.producerEpoch, req.groupId, version);
    return { throttleTimeMs: 0, errorCode };
  },
});
