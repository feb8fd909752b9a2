/**
 * ListGroups (key 16), v0-4. Flexible from v3.
 *
 * Every group this broker coordinates (all of them: one node), with its protocol type ("consumer",
 * or "" for groups only used to store offsets). v4 adds states_filter (case-insensitive; empty =
 * every state) and each group's state.
 * Not implemented: v5 types_filter (every group here is a classic group).
 */
import { listGroupsApi } from '../../protocol/schemas/list-groups.js';
import { defineHandler } from '../handler.js';

export const listGroupsHandler = defineHandler({
  api: listGroupsApi,
  minVersion: 0,
  maxVersion: 4,
  handle(req, { broker, version }) {
    const r = broker.groups.listGroups(version >= 4 ? req.statesFilter : []);
    return { throttleTimeMs: 0, errorCode: r.errorCode, groups: r.groups };
  },
});
