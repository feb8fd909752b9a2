/**
 * SyncGroup (key 14), v0-5. Flexible from v4.
 *
 * The second half of a rebalance: followers wait for the leader's SyncGroup; once the leader's
 * assignments are stored in `__consumer_offsets`, every member gets its own assignment, byte for
 * byte as the leader sent it (members the leader left out get empty bytes). In a Stable group a
 * member gets its current assignment at once. Errors: UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
 * FENCED_INSTANCE_ID (a static member replaced by a newer instance), REBALANCE_IN_PROGRESS (a
 * rebalance started meanwhile: rejoin), INVALID_GROUP_ID for an empty group id.
 *
 * v3 adds group.instance.id; v5 adds protocol type and name, checked against the group's
 * (INCONSISTENT_GROUP_PROTOCOL, KIP-559) and echoed in the answer.
 */
import { syncGroupApi } from '../../protocol/schemas/sync-group.js';
import type { SyncResult } from '../../coordinator/group.js';
import { defineHandler } from '../handler.js';

export const syncGroupHandler = defineHandler({
  api: syncGroupApi,
  minVersion: 0,
  maxVersion: 5,
  handle(req, { broker }) {
    const result = broker.groups.syncGroup(req.groupId, {
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      protocolType: req.protocolType,
      protocolName: req.protocolName,
      assignments: req.assignments,
    });
    const encode = (r: SyncResult) => ({ throttleTimeMs: 0, errorCode: r.errorCode, protocolType: r.protocolType, protocolName: r.protocolName, assignment: r.assignment });
    return result instanceof Promise ? result.then(encode) : encode(result);
  },
});
