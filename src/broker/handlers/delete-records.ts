/**
 * DeleteRecords (key 21), v0-2.
 *
 * Per partition, moves the log start offset up to `offset` (-1: the high watermark, i.e. delete
 * everything; on one node the high watermark is the log end offset). The answer's low_watermark is
 * the new log start offset. Below it nothing is fetchable any more (Fetch answers
 * OFFSET_OUT_OF_RANGE, ListOffsets earliest returns it), segments wholly below it are deleted, and
 * the new start survives a restart (the storage facade's deleteRecordsBefore checkpoints it).
 * An offset at or below the current start changes nothing and answers the current start, as Kafka
 * does; an offset above the high watermark, or negative other than -1, is OFFSET_OUT_OF_RANGE.
 * A topic whose cleanup.policy lacks "delete" (compact only) is POLICY_VIOLATION, as in Kafka.
 * Unknown topic or partition: UNKNOWN_TOPIC_OR_PARTITION. Errors carry low_watermark -1.
 * The change is done when the response is sent, so timeout_ms is not needed.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { deleteRecordsApi } from '../../protocol/schemas/delete-records.js';
import { KafkaError, toErrorCode } from '../errors.js';
import { defineHandler } from '../handler.js';
import { cleanupPolicyOf } from '../topics.js';

const HIGH_WATERMARK = -1n;

export const deleteRecordsHandler = defineHandler({
  api: deleteRecordsApi,
  minVersion: 0,
  maxVersion: 2,
  handle(req, { broker }) {
    const topics = [];
    for (const t of req.topics) {
      const partitions = [];
      for (const p of t.partitions) {
        try {
          const { topic, log } = broker.requirePartition(t.name, p.partitionIndex);
          const policy = cleanupPolicyOf(broker.topics.effectiveConfig(topic)['cleanup.policy']);
          if (policy === 'compact') {
            throw new KafkaError(ErrorCode.POLICY_VIOLATION, `records of ${t.name}-${p.partitionIndex} cannot be deleted: its cleanup.policy is ${policy}`);
          }
          const hw = BigInt(log.logEndOffset);
          const offset = p.offset === HIGH_WATERMARK ? hw : p.offset;
          if (offset < 0n || offset > hw) {
            throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `cannot delete records of ${t.name}-${p.partitionIndex} before offset ${p.offset}: the high watermark is ${hw}`);
          }
          if (offset > BigInt(log.logStartOffset)) {
            log.deleteRecordsBefore(Number(offset));
            // Aborted transactions wholly below the new start leave the .txnindex.
            broker.producersOfLog(log).pruneBelow(log.logStartOffset);
            broker.waiters.notify(log);
          }
          partitions.push({ partitionIndex: p.partitionIndex, lowWatermark: BigInt(log.logStartOffset), errorCode: ErrorCode.NONE });
        } catch (e) {
          partitions.push({ partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: toErrorCode(e, broker.log).errorCode });
        }
      }
      topics.push({ name: t.name, partitions });
    }
    return { throttleTimeMs: 0, topics };
  },
});
