/**
 * DeleteGroups (key 42), v0-2. Flexible from v2.
 *
 * Deletes Empty groups: their metadata and every committed offset get tombstones in
 * `__consumer_offsets`, and the answer waits for those. Per group: NON_EMPTY_GROUP while it has
 * members, GROUP_ID_NOT_FOUND when it does not exist. An empty group id is a valid id here (Kafka
 * keeps it for offset-only users).
 */
import { deleteGroupsApi } from '../../protocol/schemas/delete-groups.js';
import { defineHandler } from '../handler.js';

export const deleteGroupsHandler = defineHandler({
  api: deleteGroupsApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, { broker }) {
    return { throttleTimeMs: 0, results: await broker.groups.deleteGroups(req.groupsNames) };
  },
});
