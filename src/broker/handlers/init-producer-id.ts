/**
 * InitProducerId (key 22), v0-4.
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
 * Not implemented: transactions. A transactional_id gets INVALID_REQUEST (non-retriable, so the
 * client fails fast and says so) because no transaction coordinator exists.
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
  maxVersion: 4,
  async handle(req, { broker }) {
    const refused = { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH };
    // Below v3 the schema fills in -1/-1, so this only ever refuses a v3+ request.
    if ((req.producerId === NO_PRODUCER_ID) !== (req.producerEpoch === NO_PRODUCER_EPOCH)) return refused;
    if (req.transactionalId !== null) return refused;
    // In a cluster the id comes from a block etcd handed this broker (unique cluster-wide).
    try {
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(await broker.allocateProducerId()), producerEpoch: 0 };
    } catch (e) {
      return { ...refused, errorCode: toErrorCode(e, broker.log).errorCode };
    }
  },
});
