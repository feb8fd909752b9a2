/**
 * LeaveGroup (key 13), v0-5. Flexible from v4.
 *
 * Removes members; a Stable or CompletingRebalance group then rebalances without them.
 * v0-2 name one member (member_id); its error is the top-level error_code. v3+ (KIP-345) name
 * several, each by member id and/or group.instance.id (an empty member id with an instance id
 * removes that static member, as kafka-consumer-groups does), with an error per member and NONE
 * at the top unless the whole request failed (INVALID_GROUP_ID, COORDINATOR_NOT_AVAILABLE).
 * An unknown group gives UNKNOWN_MEMBER_ID per member. v5 reasons are accepted and ignored.
 */
import { leaveGroupApi } from '../../protocol/schemas/leave-group.js';
import { defineHandler } from '../handler.js';

export const leaveGroupHandler = defineHandler({
  api: leaveGroupApi,
  minVersion: 0,
  maxVersion: 5,
  handle(req, { broker, version }) {
    const leaving = version >= 3 ? req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId })) : [{ memberId: req.memberId, groupInstanceId: null }];
    const r = broker.groups.leaveGroup(req.groupId, leaving);
    if (version < 3) return { throttleTimeMs: 0, errorCode: r.errorCode !== 0 ? r.errorCode : (r.members[0] ?? 0) };
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      members: r.members.map((errorCode, i) => ({ memberId: leaving[i]!.memberId, groupInstanceId: leaving[i]!.groupInstanceId, errorCode })),
    };
  },
});
