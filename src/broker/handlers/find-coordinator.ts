/**
 * FindCoordinator (key 10), v0-4. Flexible from v3.
 *
 * key_type 0 (group): a single node coordinates every group and answers with its own advertised
 * address (`__consumer_offsets` exists from broker start, so never "not available yet"). In a
 * cluster the coordinator is the live leader of the group's `__consumer_offsets` partition
 * (GroupCoordinator.findCoordinator); COORDINATOR_NOT_AVAILABLE while the topic is being created
 * (the first FindCoordinator creates it) or the partition has no live leader; clients retry.
 * key_type 1 (transaction): the transaction coordinator of the transactional id, by the same rules
 * over `__transaction_state` (TransactionCoordinator.findCoordinator): this broker on one node; in a
 * cluster the live leader of the id's partition, COORDINATOR_NOT_AVAILABLE until there is one.
 * Any other key type is INVALID_REQUEST. v4 (KIP-699) batches keys: one answer per key, same rules.
 *
 * v0 must stay served: librdkafka 2.0.2 disables its group coordinator feature unless FindCoordinator
 * v0 is inside the advertised range (reference §5 #2).
 * Not implemented: v5-6 (transaction abort codes, share groups).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { findCoordinatorApi } from '../../protocol/schemas/find-coordinator.js';
import type { Broker } from '../broker.js';
import { defineHandler } from '../handler.js';

const GROUP = 0;
const TRANSACTION = 1;

function coordinatorFor(broker: Broker, keyType: number, key: string): { nodeId: number; host: string; port: number; errorCode: number; errorMessage: string | null } {
  if (keyType === GROUP || keyType === TRANSACTION) {
    const found = keyType === GROUP ? broker.groups.findCoordinator(key) : broker.transactions.findCoordinator(key);
    if (!found) return { nodeId: broker.config.nodeId, host: broker.advertised.host, port: broker.advertised.port, errorCode: ErrorCode.NONE, errorMessage: null };
    if ('node' in found) return { nodeId: found.node.nodeId, host: found.node.host, port: found.node.port, errorCode: ErrorCode.NONE, errorMessage: null };
    return { nodeId: -1, host: '', port: -1, errorCode: found.errorCode, errorMessage: found.message };
  }
  return { nodeId: -1, host: '', port: -1, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `unknown key type ${keyType}` };
}

export const findCoordinatorHandler = defineHandler({
  api: findCoordinatorApi,
  minVersion: 0,
  maxVersion: 4,
  handle(req, { broker, version }) {
    if (version >= 4) {
      return { throttleTimeMs: 0, coordinators: req.coordinatorKeys.map((key) => ({ key, ...coordinatorFor(broker, req.keyType, key) })) };
    }
    return { throttleTimeMs: 0, ...coordinatorFor(broker, req.keyType, req.key) };
  },
});
