/**
 * TxnOffsetCommit (key 28), versions 0-4. Flexible from v3.
 *
 * A transactional producer sends consumer offsets to the group coordinator; they stay pending
 * until the transaction's marker lands on the group's __consumer_offsets partition (meanwhile
 * OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT for those partitions).
 *
 * Request:
 * v0      transactional_id, group_id, producer_id, producer_epoch, topics[name,
 *         partitions[partition_index, committed_offset, committed_metadata (nullable)]]
 * v1      same as v0
 * v2      partitions[] + committed_leader_epoch (-1 = unknown), between committed_offset and
 *         committed_metadata
 * v3      flexible; + generation_id (-1), member_id (''), group_instance_id (nullable, null)
 *         after producer_epoch (KIP-447: the group coordinator fences zombie members)
 * v4      same as v3 (TRANSACTION_ABORTABLE may be answered)
 *
 * Response: throttle_time_ms, topics[name, partitions[partition_index, error_code]]; the same in
 * every version (v3+ flexible).
 */
import { array, defineApi, int16, int32, int64, string } from '../schema.js';
import type { Req, ReqInput, Res, ResInput } from '../schema.js';

export const txnOffsetCommitApi = defineApi({
  apiKey: 28,
  name: 'TxnOffsetCommit',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,
  request: [
    string('transactionalId'),
    string('groupId'),
    int64('producerId'),
    int16('producerEpoch'),
    int32('generationId', { since: 3, default: -1 }),
    string('memberId', { since: 3 }),
    string('groupInstanceId', { since: 3, nullableSince: 3, default: null }),
    array('topics', [
      string('name'),
      array('partitions', [
        int32('partitionIndex'),
        int64('committedOffset'),
        int32('committedLeaderEpoch', { since: 2, default: -1 }),
        string('committedMetadata', { nullableSince: 0 }),
      ]),
    ]),
  ],
  response: [
    int32('throttleTimeMs'),
    array('topics', [string('name'), array('partitions', [int32('partitionIndex'), int16('errorCode')])]),
  ],
});

export type TxnOffsetCommitRequest = Req<typeof txnOffsetCommitApi>;
export type TxnOffsetCommitRequestInput = ReqInput<typeof txnOffsetCommitApi>;
export type TxnOffsetCommitResponse = Res<typeof txnOffsetCommitApi>;
export type TxnOffsetCommitResponseInput = ResInput<typeof txnOffsetCommitApi>;
