/**
 * DescribeGroups (key 15), v0-5. Flexible from v5.
 *
 * Per group: state (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead), protocol type,
 * and the members with client id and host. Only a Stable group shows its selected protocol
 * (protocol_data) and each member's metadata and assignment, as Kafka does; otherwise they are
 * empty. An unknown group is answered as Dead with NONE (Kafka before v6). v3 adds
 * authorized_operations (Brook has no ACLs: -2^31, "not requested/unknown"), v4 members'
 * group.instance.id.
 * Not implemented: v6 (GROUP_ID_NOT_FOUND for unknown groups, error messages).
 */
import { describeGroupsApi } from '../../protocol/schemas/describe-groups.js';
import { defineHandler } from '../handler.js';

export const describeGroupsHandler = defineHandler({
  api: describeGroupsApi,
  minVersion: 0,
  maxVersion: 5,
  handle(req, { broker }) {
    return { throttleTimeMs: 0, groups: req.groups.map((id) => broker.groups.describeGroup(id)) };
  },
});
