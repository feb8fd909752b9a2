/**
 * InitProducerId (key 22), v0-4.
 * Idempotent producers (transactional_id null) get a fresh producer id with epoch 0. From v3
 * (KIP-360) a producer that sends its current id and epoch gets the same id with the epoch bumped,
 * which lets it reset its sequence numbers without losing its identity; at the epoch limit it gets
 * a new id instead.
 * Not implemented: transactions. A transactional_id gets INVALID_REQUEST (non-retriable, so the
 * client fails fast and says so) because no transaction coordinator exists.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { initProducerIdApi } from '../../protocol/schemas/init-producer-id.js';
import { defineHandler } from '../handler.js';

const MAX_EPOCH = 32767;

export const initProducerIdHandler = defineHandler({
  api: initProducerIdApi,
  minVersion: 0,
  maxVersion: 4,
  handle(req, { broker }) {
    if (req.transactionalId !== null) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1 };
    }
    const bump = req.producerId >= 0n && req.producerEpoch >= 0 && req.producerEpoch < MAX_EPOCH - 1;
    if (bump) return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: req.producerId, producerEpoch: req.producerEpoch + 1 };
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(broker.producerIds.allocate()), producerEpoch: 0 };
  },
});
