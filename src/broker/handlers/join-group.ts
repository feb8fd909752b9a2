/**
 * JoinGroup (key 11), v0-9. Flexible from v6.
 *
 * The first half of a rebalance (src/coordinator/group.ts has the state machine): the request
 * waits until every known member has joined or the rebalance timeout passes, then every member
 * gets the new generation, the selected protocol and the leader's id; only the leader gets the
 * members and their metadata. Checked first, as Kafka does: an empty group id is INVALID_GROUP_ID,
 * a session timeout outside group.min/max.session.timeout.ms is INVALID_SESSION_TIMEOUT.
 *
 * Per version: v0 has no rebalance timeout (the session timeout serves as both); from v4 a new
 * dynamic member gets MEMBER_ID_REQUIRED with its id and joins again (KIP-394); v5 adds
 * group.instance.id (static membership, KIP-345); v7 answers the protocol type and a nullable
 * protocol name; v8 carries a reason (logged only); v9 tells a static leader rejoining a Stable
 * group to skip its assignment (skip_assignment).
 *
 * The minimum stays 0 for librdkafka's feature map (reference §5 #2).
 */
import { joinGroupApi } from '../../protocol/schemas/join-group.js';
import { defineHandler } from '../handler.js';
import type { JoinResult } from '../../coordinator/group.js';

export const joinGroupHandler = defineHandler({
  api: joinGroupApi,
  minVersion: 0,
  maxVersion: 9,
  handle(req, { broker, version, header, clientAddress }) {
    const result = broker.groups.joinGroup(req.groupId, {
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      requireKnownMemberId: version >= 4,
      supportSkippingAssignment: version >= 9,
      clientId: header.clientId ?? '',
      clientHost: clientAddress ? `/${clientAddress}` : '',
      rebalanceTimeoutMs: version >= 1 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      sessionTimeoutMs: req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
    });
    const encode = (r: JoinResult) => ({
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      generationId: r.generationId,
      protocolType: r.protocolType,
      // Nullable only from v7; before, "no protocol" is the empty string.
      protocolName: r.protocolName ?? (version >= 7 ? null : ''),
      leader: r.leader,
      skipAssignment: r.skipAssignment,
      memberId: r.memberId,
      members: r.members,
    });
    return result instanceof Promise ? result.then(encode) : encode(result);
  },
});
