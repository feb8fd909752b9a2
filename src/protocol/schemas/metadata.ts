/**
 * Metadata (key 3), versions 0-12. Flexible from v9.
 *
 * Request:
 * v0      topics[name]; an EMPTY list means all topics (broker semantics, not codec)
 * v1      topics becomes nullable: null = all topics, [] = none
 * v4      + allow_auto_topic_creation (default true)
 * v8-10   + include_cluster_authorized_operations (removed in v11, KIP-700)
 * v8+     + include_topic_authorized_operations
 * v10     topics[] + topic_id (uuid), topic name nullable (look up by ID; Kafka only honours it v12+)
 *
 * Response:
 * v1      brokers[] + rack; + controller_id; topics[] + is_internal
 * v2      + cluster_id
 * v3      + throttle_time_ms (FIRST field)
 * v5      partitions[] + offline_replicas
 * v7      partitions[] + leader_epoch
 * v8      topics[] + topic_authorized_operations; + cluster_authorized_operations (v8-10)
 * v9      flexible
 * v10     topics[] + topic_id
 * v12     topic name nullable
 */
import { array, bool, defineApi, int16, int32, string, uuid } from '../schema.js';
import type { Req, ReqInput, Res, ResInput } from '../schema.js';

/** "Not requested / unknown" for the *_authorized_operations bit fields. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export const metadataApi = defineApi({
  apiKey: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 12,
  flexibleFrom: 9,
  request: [
    array('topics', [uuid('topicId', { since: 10 }), string('name', { nullableSince: 10 })], { nullableSince: 1 }),
    bool('allowAutoTopicCreation', { since: 4, default: true }),
    bool('includeClusterAuthorizedOperations', { since: 8, until: 10 }),
    bool('includeTopicAuthorizedOperations', { since: 8 }),
  ],
  response: [
    int32('throttleTimeMs', { since: 3 }),
    array('brokers', [
      int32('nodeId'),
      string('host'),
      int32('port'),
      string('rack', { since: 1, nullableSince: 1, default: null }),
    ]),
    string('clusterId', { since: 2, nullableSince: 2, default: null }),
    int32('controllerId', { since: 1, default: -1 }),
    array('topics', [
      int16('errorCode'),
      string('name', { nullableSince: 12 }),
      uuid('topicId', { since: 10 }),
      bool('isInternal', { since: 1, default: false }),
      array('partitions', [
        int16('errorCode'),
        int32('partitionIndex'),
        int32('leaderId'),
        int32('leaderEpoch', { since: 7, default: -1 }),
        array('replicaNodes', 'int32'),
        array('isrNodes', 'int32'),
        array('offlineReplicas', 'int32', { since: 5 }),
      ]),
      int32('topicAuthorizedOperations', { since: 8, default: AUTHORIZED_OPERATIONS_OMITTED }),
    ]),
    int32('clusterAuthorizedOperations', { since: 8, until: 10, default: AUTHORIZED_OPERATIONS_OMITTED }),
  ],
});

export type MetadataRequest = Req<typeof metadataApi>;
export type MetadataRequestInput = ReqInput<typeof metadataApi>;
export type MetadataResponse = Res<typeof metadataApi>;
export type MetadataResponseInput = ResInput<typeof metadataApi>;
