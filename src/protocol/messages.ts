/**
 * The registry: API key -> schema (request and response) and the versions the codec covers.
 *
 * "Covers" means the codec can decode and encode every version in [minVersion, maxVersion]. What
 * the broker ADVERTISES in ApiVersions is the broker's decision (often a narrower range, e.g.
 * Fetch 4-12 until topic IDs exist; Produce advertised from 0 but answered UNSUPPORTED_VERSION
 * below 3); it lives with the dispatcher, not here.
 */
import type { AnyApi } from './schema.js';
import { createAclsApi, deleteAclsApi, describeAclsApi } from './schemas/acls.js';
import { addOffsetsToTxnApi } from './schemas/add-offsets-to-txn.js';
import { addPartitionsToTxnApi } from './schemas/add-partitions-to-txn.js';
import { alterConfigsApi } from './schemas/alter-configs.js';
import { apiVersionsApi } from './schemas/api-versions.js';
import { createPartitionsApi } from './schemas/create-partitions.js';
import { createTopicsApi } from './schemas/create-topics.js';
import { deleteGroupsApi } from './schemas/delete-groups.js';
import { deleteRecordsApi } from './schemas/delete-records.js';
import { deleteTopicsApi } from './schemas/delete-topics.js';
import { describeConfigsApi } from './schemas/describe-configs.js';
import { describeGroupsApi } from './schemas/describe-groups.js';
import { describeLogDirsApi } from './schemas/describe-log-dirs.js';
import { describeTransactionsApi } from './schemas/describe-transactions.js';
import { electLeadersApi } from './schemas/elect-leaders.js';
import { endTxnApi } from './schemas/end-txn.js';
import { fetchApi } from './schemas/fetch.js';
import { findCoordinatorApi } from './schemas/find-coordinator.js';
import { heartbeatApi } from './schemas/heartbeat.js';
import { incrementalAlterConfigsApi } from './schemas/incremental-alter-configs.js';
import { initProducerIdApi } from './schemas/init-producer-id.js';
import { joinGroupApi } from './schemas/join-group.js';
import { leaveGroupApi } from './schemas/leave-group.js';
import { listGroupsApi } from './schemas/list-groups.js';
import { listOffsetsApi } from './schemas/list-offsets.js';
import { listTransactionsApi } from './schemas/list-transactions.js';
import { metadataApi } from './schemas/metadata.js';
import { offsetCommitApi } from './schemas/offset-commit.js';
import { offsetDeleteApi } from './schemas/offset-delete.js';
import { offsetFetchApi } from './schemas/offset-fetch.js';
import { offsetForLeaderEpochApi } from './schemas/offset-for-leader-epoch.js';
import { produceApi } from './schemas/produce.js';
import { syncGroupApi } from './schemas/sync-group.js';
import { txnOffsetCommitApi } from './schemas/txn-offset-commit.js';
import { writeTxnMarkersApi } from './schemas/write-txn-markers.js';

/** Every API the codec knows, in API key order. */
export const API_SCHEMAS: readonly AnyApi[] = [
  produceApi,
  fetchApi,
  listOffsetsApi,
  metadataApi,
  offsetCommitApi,
  offsetFetchApi,
  findCoordinatorApi,
  joinGroupApi,
  heartbeatApi,
  leaveGroupApi,
  syncGroupApi,
  describeGroupsApi,
  listGroupsApi,
  apiVersionsApi,
  createTopicsApi,
  deleteTopicsApi,
  deleteRecordsApi,
  initProducerIdApi,
  offsetForLeaderEpochApi,
  addPartitionsToTxnApi,
  addOffsetsToTxnApi,
  endTxnApi,
  writeTxnMarkersApi,
  txnOffsetCommitApi,
  describeAclsApi,
  createAclsApi,
  deleteAclsApi,
  describeConfigsApi,
  alterConfigsApi,
  describeLogDirsApi,
  createPartitionsApi,
  deleteGroupsApi,
  electLeadersApi,
  incrementalAlterConfigsApi,
  offsetDeleteApi,
  describeTransactionsApi,
  listTransactionsApi,
];

const BY_KEY: ReadonlyArray<AnyApi | undefined> = (() => {
  const byKey: Array<AnyApi | undefined> = [];
  for (const api of API_SCHEMAS) {
    if (byKey[api.apiKey] !== undefined) throw new Error(`duplicate schema for api key ${api.apiKey}`);
    byKey[api.apiKey] = api;
  }
  return byKey;
})();

/** The schema for `apiKey`, or undefined when the codec does not know the API. */
export function apiSchema(apiKey: number): AnyApi | undefined {
  return BY_KEY[apiKey];
}

/** Whether the codec can decode `apiKey` at `apiVersion`. */
export function isCovered(apiKey: number, apiVersion: number): boolean {
  const api = BY_KEY[apiKey];
  return api !== undefined && apiVersion >= api.minVersion && apiVersion <= api.maxVersion;
}

export {
  addOffsetsToTxnApi,
  addPartitionsToTxnApi,
  alterConfigsApi,
  createAclsApi,
  deleteAclsApi,
  describeAclsApi,
  describeLogDirsApi,
  apiVersionsApi,
  createPartitionsApi,
  createTopicsApi,
  deleteGroupsApi,
  deleteRecordsApi,
  deleteTopicsApi,
  describeConfigsApi,
  describeGroupsApi,
  describeTransactionsApi,
  electLeadersApi,
  endTxnApi,
  fetchApi,
  findCoordinatorApi,
  heartbeatApi,
  incrementalAlterConfigsApi,
  initProducerIdApi,
  joinGroupApi,
  leaveGroupApi,
  listGroupsApi,
  listOffsetsApi,
  listTransactionsApi,
  metadataApi,
  offsetCommitApi,
  offsetDeleteApi,
  offsetFetchApi,
  offsetForLeaderEpochApi,
  produceApi,
  syncGroupApi,
  txnOffsetCommitApi,
  writeTxnMarkersApi,
};
