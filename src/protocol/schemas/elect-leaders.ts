/**
 * ElectLeaders (key 43), versions 0-2. Flexible from v2.
 *
 * Asks the controller to elect leaders for partitions (KIP-183; election types from KIP-460).
 *
 * Request:
 * v0      topic_partitions (nullable: null = every partition), timeout_ms. Always a preferred
 *         election.
 * v1      + election_type (first): 0 PREFERRED (the first replica in the assignment), 1 UNCLEAN
 *         (any live replica when no ISR member is alive).
 * v2      flexible
 * topic_partitions: [topic, partition_id[] (int32 partition indexes)]. timeout_ms defaults to 60000.
 *
 * Response:
 * v0      throttle_time_ms, replica_election_results[topic, partition_result[partition_id,
 *         error_code, error_message (nullable)]]
 * v1      + error_code (top level, after throttle_time_ms)
 * v2      flexible
 */
import { array, defineApi, int16, int32, int8, string } from '../schema.js';
import type { Req, ReqInput, Res, ResInput } from '../schema.js';

/** election_type values (v1+; v0 requests are always PREFERRED). */
export const ElectionType = { PREFERRED: 0, UNCLEAN: 1 } as const;

export const electLeadersApi = defineApi({
  apiKey: 43,
  name: 'ElectLeaders',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request: [
    int8('electionType', { since: 1, default: ElectionType.PREFERRED }),
    array('topicPartitions', [string('topic'), array('partitionId', 'int32')], { nullableSince: 0 }),
    int32('timeoutMs', { default: 60000 }),
  ],
  response: [
    int32('throttleTimeMs'),
    int16('errorCode', { since: 1 }),
    array('replicaElectionResults', [
      string('topic'),
      array('partitionResult', [
        int32('partitionId'),
        int16('errorCode'),
        string('errorMessage', { nullableSince: 0 }),
      ]),
    ]),
  ],
});

export type ElectLeadersRequest = Req<typeof electLeadersApi>;
export type ElectLeadersRequestInput = ReqInput<typeof electLeadersApi>;
export type ElectLeadersResponse = Res<typeof electLeadersApi>;
export type ElectLeadersResponseInput = ResInput<typeof electLeadersApi>;
