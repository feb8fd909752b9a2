/**
 * TxnOffsetCommit (key 28), v0-4. Flexible from v3.
 *
 * A transactional producer commits a consumer group's offsets inside its transaction (the
 * exactly-once consume-transform-produce loop: kafkajs `sendOffsets`, librdkafka
 * `send_offsets_to_transaction`), after AddOffsetsToTxn added the group's `__consumer_offsets`
 * partition to the transaction. The offsets are written as one transactional batch and stay
 * pending until the transaction's marker: COMMIT makes them the group's committed offsets, ABORT
 * drops them (coordinator.ts). Answered once written, per partition: UNKNOWN_TOPIC_OR_PARTITION;
 * INVALID_GROUP_ID for an empty group id; NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE /
 * COORDINATOR_LOAD_IN_PROGRESS; the transaction coordinator's verdict (INVALID_TXN_STATE when the
 * group is not in the producer's ongoing transaction, PRODUCER_FENCED / INVALID_PRODUCER_EPOCH for
 * an older epoch); the group's; OFFSET_METADATA_TOO_LARGE.
 *
 * v2 adds the committed leader epoch. v3 (KIP-447) adds generation_id, member_id and
 * group_instance_id: when sent they are checked as OffsetCommit checks them (ILLEGAL_GENERATION,
 * UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID), so a zombie member's producer cannot commit; generation
 * -1 with no member (v0-2, or a producer outside the group) is not checked, and a missing group is
 * then created as a standalone one. The group's rebalance state is not enforced (Kafka). v4 only
 * allows TRANSACTION_ABORTABLE, which this broker never answers.
 */
import { txnOffsetCommitApi } from '../../protocol/schemas/txn-offset-commit.js';
import { defineHandler } from '../handler.js';

export const txnOffsetCommitHandler = defineHandler({
  api: txnOffsetCommitApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, { broker }) {
    const topics = await broker.groups.txnCommitOffsets({
      transactionalId: req.transactionalId,
      groupId: req.groupId,
      // Producer ids are handed out by this cluster, far below 2^53.
      producerId: Number(req.producerId),
      producerEpoch: req.producerEpoch,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      topics: req.topics,
    });
    return { throttleTimeMs: 0, topics };
  },
});
