/**
 * Fetch (key 1), versions 0-17. Flexible from v12. Brook serves 4-12 first; 13+ address topics
 * by ID and should be advertised only once Metadata returns real topic IDs.
 *
 * Request:
 * v0-2    replica_id, max_wait_ms, min_bytes, topics[topic, partitions[partition, fetch_offset,
 *         partition_max_bytes]]
 * v3      + max_bytes (response size limit; KIP-74: at least one batch is always returned)
 * v4      + isolation_level (0 read_uncommitted, 1 read_committed)
 * v5      partitions[] + log_start_offset (followers only; -1 from consumers)
 * v7      + session_id, session_epoch; + forgotten_topics_data[topic, partitions] (KIP-227)
 * v9      partitions[] + current_leader_epoch
 * v11     + rack_id (KIP-392)
 * v12     flexible; partitions[] + last_fetched_epoch; tagged cluster_id (tag 0)
 * v13     topics[].topic and forgotten_topics_data[].topic replaced by topic_id (uuid)
 * v15     replica_id removed; tagged replica_state{replica_id, replica_epoch} (tag 1)
 * v17     partitions[] tagged replica_directory_id (tag 0)
 *
 * Response (throttle_time_ms is the FIRST field):
 * v1      + throttle_time_ms
 * v4      partitions[] + last_stable_offset, aborted_transactions[producer_id, first_offset]
 *         (nullable)
 * v5      partitions[] + log_start_offset
 * v7      + error_code, session_id (top level)
 * v11     partitions[] + preferred_read_replica
 * v12     flexible; partitions[] tagged diverging_epoch (0), current_leader (1), snapshot_id (2)
 * v13     responses[].topic replaced by topic_id
 * v16     tagged node_endpoints (tag 0, top level)
 *
 * `records` (nullable) encodes from a Buffer or from chunks including external file slices, so
 * record data goes from disk to socket without passing through JavaScript (writer.ts).
 */
import { array, defineApi, int16, int32, int64, int8, records, string, struct, uuid } from '../schema.js';
import type { Req, ReqInput, Res, ResInput } from '../schema.js';

export const fetchApi = defineApi({
  apiKey: 1,
  name: 'Fetch',
  minVersion: 0,
  maxVersion: 17,
  flexibleFrom: 12,
  request: [
    string('clusterId', { since: 12, nullableSince: 12, default: null, tag: 0 }),
    int32('replicaId', { until: 14, default: -1 }),
    struct('replicaState', [int32('replicaId', { default: -1 }), int64('replicaEpoch', { default: -1n })], {
      since: 15,
      tag: 1,
    }),
    int32('maxWaitMs'),
    int32('minBytes'),
    int32('maxBytes', { since: 3, default: 0x7fffffff }),
    int8('isolationLevel', { since: 4, default: 0 }),
    int32('sessionId', { since: 7, default: 0 }),
    int32('sessionEpoch', { since: 7, default: -1 }),
    array('topics', [
      string('topic', { until: 12 }),
      uuid('topicId', { since: 13 }),
      array('partitions', [
        int32('partition'),
        int32('currentLeaderEpoch', { since: 9, default: -1 }),
        int64('fetchOffset'),
        int32('lastFetchedEpoch', { since: 12, default: -1 }),
        int64('logStartOffset', { since: 5, default: -1n }),
        int32('partitionMaxBytes'),
        uuid('replicaDirectoryId', { since: 17, tag: 0 }),
      ]),
    ]),
    array(
      'forgottenTopicsData',
      [string('topic', { until: 12 }), uuid('topicId', { since: 13 }), array('partitions', 'int32')],
      { since: 7 },
    ),
    string('rackId', { since: 11, default: '' }),
  ],
  response: [
    int32('throttleTimeMs', { since: 1 }),
    int16('errorCode', { since: 7 }),
    int32('sessionId', { since: 7, default: 0 }),
    array('responses', [
      string('topic', { until: 12 }),
      uuid('topicId', { since: 13 }),
      array('partitions', [
        int32('partitionIndex'),
        int16('errorCode'),
        int64('highWatermark'),
        int64('lastStableOffset', { since: 4, default: -1n }),
        int64('logStartOffset', { since: 5, default: -1n }),
        struct('divergingEpoch', [int32('epoch', { default: -1 }), int64('endOffset', { default: -1n })], {
          since: 12,
          tag: 0,
        }),
        struct('currentLeader', [int32('leaderId', { default: -1 }), int32('leaderEpoch', { default: -1 })], {
          since: 12,
          tag: 1,
        }),
        struct('snapshotId', [int64('endOffset', { default: -1n }), int32('epoch', { default: -1 })], {
          since: 12,
          tag: 2,
        }),
        array('abortedTransactions', [int64('producerId'), int64('firstOffset')], { since: 4, nullableSince: 4 }),
        int32('preferredReadReplica', { since: 11, default: -1 }),
        records('records'),
      ]),
    ]),
    array(
      'nodeEndpoints',
      [int32('nodeId'), string('host'), int32('port'), string('rack', { nullableSince: 16, default: null })],
      { since: 16, tag: 0 },
    ),
  ],
});

export type FetchRequest = Req<typeof fetchApi>;
export type FetchRequestInput = ReqInput<typeof fetchApi>;
export type FetchResponse = Res<typeof fetchApi>;
export type FetchResponseInput = ResInput<typeof fetchApi>;
