/**
 * InitProducerId (key 22), v0-5 (v5 has v4's layout; Brook never answers its TRANSACTION_ABORTABLE).
 *
 * An idempotent producer (transactional_id null) always gets a NEW producer id at epoch 0, as in
 * Kafka (TransactionCoordinator.handleInitProducerId: a null transactional id is blindly accepted
 * and answered from the id manager). The producer_id/producer_epoch pair of v3+ (KIP-360) is only
 * meaningful with a transactional id: an idempotent client that needs a fresh sequence space bumps
 * its epoch locally and never asks the broker. Echoing the client's pair back would hand two
 * clients the same identity whenever they send the same pair (@platformatic/kafka 1.x sends 0/0 by
 * default), and the second one's batches would then be answered as duplicates of the first one's
 * and dropped.
 * v3+: the pair must be both -1 or both set; one -1 without the other is INVALID_REQUEST (Kafka
 * checks this before looking at the transactional id).
 *
 * With a transactional id the transaction coordinator answers (coordinator/transactions/): ""
 * is INVALID_REQUEST, a timeout outside 1..transaction.max.timeout.ms INVALID_TRANSACTION_TIMEOUT;
 * the id keeps its producer id and gets the epoch + 1 (fencing older instances; a new producer id
 * once the epoch is exhausted); an open transaction of the previous instance is fenced and aborted
 * and this request answered CONCURRENT_TRANSACTIONS, which clients retry. PRODUCER_FENCED from v4,
 * INVALID_PRODUCER_EPOCH below.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { initProducerIdApi } from '../../protocol/schemas/init-producer-id.js';
import { toErrorCode } from '../errors.js';
import { defineHandler } from '../handler.js';

const NO_PRODUCER_ID = -1n;
const NO_PRODUCER_EPOCH = -1;

export const initProducerIdHandler = defineHandler({
  api: initProducerIdApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, { broker, version }) {
    const refused = { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH };
    // Below v3 the schema fills in -1/-1, so this only ever refuses a v3+ request.
    if ((req.producerId === NO_PRODUCER_ID) !== (req.producerEpoch === NO_PRODUCER_EPOCH)) return refused;
    if (req.transactionalId !== null) {
      const r = await broker.transactions.initProducerId(req.transactionalId, req.transactionTimeoutMs, Number(req.producerId), req.producerEpoch, version);
      return { throttleTimeMs: 0, errorCode: r.errorCode, producerId: BigInt(r.producerId), producerEpoch: r.producerEpoch };
    }
    // In a cluster the id comes from a block etcd handed this broker (unique cluster-wide).
    try {
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(await broker.allocateProducerId()), producerEpoch: 0 };
    } catch (e) {
      return { ...refused, errorCode: toErrorCode(e, broker.log).errorCode };
    }
  },
});
