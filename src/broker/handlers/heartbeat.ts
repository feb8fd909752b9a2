/**
 * Heartbeat (key 12), v0-4. Flexible from v4.
 *
 * Resets the member's session timer. NONE in Stable and CompletingRebalance,
 * REBALANCE_IN_PROGRESS while the group prepares a rebalance (the member must rejoin),
 * ILLEGAL_GENERATION for another generation, UNKNOWN_MEMBER_ID for a member the group does not
 * have (expired, or never joined), FENCED_INSTANCE_ID for a replaced static member,
 * INVALID_GROUP_ID for an empty group id. v3 adds group.instance.id.
 */
import { heartbeatApi } from '../../protocol/schemas/heartbeat.js';
import { defineHandler } from '../handler.js';

export const heartbeatHandler = defineHandler({
  api: heartbeatApi,
  minVersion: 0,
  maxVersion: 4,
  handle(req, { broker }) {
    return { throttleTimeMs: 0, errorCode: broker.groups.heartbeat(req.groupId, req.memberId, req.groupInstanceId, req.generationId) };
  },
});
