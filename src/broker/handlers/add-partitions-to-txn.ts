/**
 * AddPartitionsToTxn (key 24), v0-3 (flexible from v3): the single-transaction form every client
 * sends. v4-5 (the batched, broker-to-coordinator form of KIP-890) are not advertised.
 *
 * The transaction coordinator adds the partitions to the producer's transaction (starting it):
 * an unknown transactional id or another producer id is INVALID_PRODUCER_ID_MAPPING, another epoch
 * PRODUCER_FENCED (INVALID_PRODUCER_EPOCH below v2), a transaction being ended or another request
 * for the id in flight CONCURRENT_TRANSACTIONS. A partition of an unknown topic fails the whole
 * request: UNKNOWN_TOPIC_OR_PARTITION there, OPERATION_NOT_ATTEMPTED for every other partition.
 * Answered once the new state is stored in __transaction_state. Not implemented: ACLs
 * (TOPIC_AUTHORIZATION_FAILED).
 */
import { addPartitionsToTxnApi } from '../../protocol/schemas/add-partitions-to-txn.js';
import { defineHandler } from '../handler.js';

export const addPartitionsToTxnHandler = defineHandler({
  api: addPartitionsToTxnApi,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, { broker, version }) {
    const results = await broker.transactions.addPartitions(req.transactionalId, Number(req.producerId), req.producerEpoch, req.topics, version);
    return { throttleTimeMs: 0, results };
  },
});
