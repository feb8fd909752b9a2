/**
 * Produce (key 0), advertised v0-11, served v3-11.
 *
 * v0-2 carry magic 0/1 message sets, which Brook does not store: every partition gets
 * UNSUPPORTED_VERSION. They stay advertised because librdkafka 2.0.2 silently stops compressing when
 * Produce v0 is missing from the range (reference §5 #1).
 *
 * Per partition, in request order (the synchronous part of this handler runs in arrival order, so
 * pipelined produces to one partition append in order):
 * 1. the request carries exactly one RecordBatch v2 (Kafka's rule since v3), else INVALID_RECORD;
 *    zstd below v7 is UNSUPPORTED_COMPRESSION_TYPE;
 * 2. a control batch is INVALID_RECORD: only the broker writes transaction markers (Kafka's
 *    LogValidator, before any producer-state check);
 * 3. idempotent batches (producerId >= 0) are checked against the partition's producer state: a
 *    retry of one of the last five batches returns its original offsets without appending; an older
 *    epoch is INVALID_PRODUCER_EPOCH; a non-transactional batch from a producer with a transaction
 *    open on this partition is INVALID_TXN_STATE;
 * 4. a transactional batch that does not continue the producer's open transaction here must belong
 *    to a partition the transaction coordinator has in that producer's Ongoing transaction (KIP-890
 *    part 1, Kafka's "Record was not part of an ongoing transaction"), else INVALID_TXN_STATE. A
 *    request without a transactional id cannot be verified, so such a batch only continues an open
 *    transaction (Kafka skips the coordinator for a null id and its log then refuses the batch);
 * 5. a topic whose compression.type names a codec gets the batch rebuilt with that codec, every
 *    other header field kept (producer id, epoch, sequence, the transactional bit);
 * 6. the storage core validates (size, CRC, counts, max.message.bytes), assigns offsets in place
 *    and appends; its typed errors become this partition's error code.
 *
 * acks: 0 sends no response (a failure closes the connection instead, as Kafka does, so the
 * client notices), 1 answers once appended, -1 once appended and, where the flush policy asks for
 * an fsync (flush.messages=1), durable. Any other value is INVALID_REQUIRED_ACKS.
 * A transactional batch opens (or continues) its producer's transaction on the partition
 * (producers.ts): the last stable offset stops below it until the coordinator's marker lands
 * (write-txn-markers.ts, txn-markers.ts).
 *
 * Nothing here keeps a reference to the request's bytes once handle() returns (the append has
 * written them; the acks=-1 wait holds only the answers): the connection reuses the memory of
 * produce frames for the next one (`recyclableApiKeys` in src/index.ts). Copy anything that must
 * outlive the call.
 */
import type { TopicConfigName, TopicConfigValue } from '../../config.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { Codec, CRC_START, peekBatch, storedCrc } from '../../protocol/record-batch.js';
import { produceApi, type ProduceRequest } from '../../protocol/schemas/produce.js';
import { CloseConnection } from '../../protocol/request-sink.js';
import { codecByName } from '../../native/codec.js';
import { crc32c } from '../../native/crc32c.js';
import { recompressBatch } from '../../native/records.js';
import type { Broker } from '../broker.js';
import { KafkaError, toErrorCode } from '../errors.js';
import { defineHandler } from '../handler.js';
import { lastSequenceOf, type BatchIdentity, type DuplicateOf, type PartitionProducers } from '../producers.js';
import type { Topic } from '../topics.js';

export interface PartitionResult {
  index: number;
  errorCode: number;
  baseOffset: bigint;
  logAppendTimeMs: bigint;
  logStartOffset: bigint;
  errorMessage: string | null;
  /** Resolves when the append is as durable as acks=-1 requires. */
  durable?: Promise<void>;
}

function failed(index: number, errorCode: number, errorMessage: string | null = null): PartitionResult {
  return { index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, errorMessage };
}

/**
 * The producer-state verdict on an idempotent batch. Kafka checks a batch's CRC before its
 * sequence, so a corrupt batch is CORRUPT_MESSAGE, never "duplicate" or "out of order" on the
 * strength of header fields that may be damaged. The common path (in sequence) leaves the CRC to
 * the native append; only the rare verdicts pay for checking it here.
 */
function checkSequence(producers: PartitionProducers, identity: BatchIdentity, records: Buffer): DuplicateOf | undefined {
  const intact = () => crc32c(records.subarray(CRC_START)) === storedCrc(records);
  let dup: DuplicateOf | undefined;
  try {
    dup = producers.check(identity);
  } catch (e) {
    if (!intact()) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'record batch CRC-32C mismatch');
    throw e;
  }
  if (dup && !intact()) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'record batch CRC-32C mismatch');
  return dup;
}

/**
 * Appends one RecordBatch to one partition with every check of the produce path (above, 1-6);
 * failures come back as the partition's error code, never thrown. `version` is the Produce version
 * the batch arrived with (zstd needs 7+); `transactionalId` the request's (v3+, null otherwise).
 * Also the append of the WebSocket gateway's `pub` (never transactional).
 */
export function appendPartition(broker: Broker, topic: Topic, index: number, records: Buffer | null, version: number, wantDurable: boolean, timeoutMs = 30_000, transactionalId: string | null = null): PartitionResult {
  const log = topic.partitions[index];
  if (!log) return failed(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const topicConfig = broker.topics.effectiveConfig(topic);
  const cluster = broker.cluster;
  let leaderEpoch = 0;
  if (cluster) {
    // Only the leader appends; acks=all needs min.insync.replicas in the ISR before anything is
    // written (NOT_ENOUGH_REPLICAS), Kafka's order: both before the records are looked at.
    try {
      leaderEpoch = cluster.leader(topic.name, index).leaderEpoch;
      if (wantDurable) cluster.checkIsrForAcksAll(topic.name, index);
    } catch (e) {
      return failed(index, toErrorCode(e, broker.log).errorCode, (e as Error).message);
    }
  } else {
    // One node is an ISR of one (acks 0 and 1 do not care).
    const minIsr = topicConfig['min.insync.replicas'] as number;
    if (wantDurable && minIsr > 1) {
      return failed(index, ErrorCode.NOT_ENOUGH_REPLICAS, `The size of the current ISR (1) is insufficient to satisfy the min.isr requirement of ${minIsr} for partition ${topic.name}-${index}`);
    }
  }
  try {
    if (!records || records.length === 0) throw new KafkaError(ErrorCode.INVALID_RECORD, 'no record batch in the request');
    const batch = peekBatch(records);
    if (!batch) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record batch of ${records.length} bytes is shorter than its 61-byte header`);
    if (batch.magic !== 2) throw new KafkaError(ErrorCode.INVALID_RECORD, `magic ${batch.magic} is not supported; only RecordBatch v2`);
    if (batch.size !== records.length) {
      // Either several batches (Kafka allows exactly one since Produce v3) or a length that lies.
      const code = batch.size < records.length ? ErrorCode.INVALID_RECORD : ErrorCode.CORRUPT_MESSAGE;
      throw new KafkaError(code, `expected exactly one record batch: its header says ${batch.size} bytes, the request carries ${records.length}`);
    }
    if (batch.codec === Codec.Zstd && version < 7) {
      throw new KafkaError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 'zstd needs Produce v7 or later');
    }

    if (batch.isControl) throw new KafkaError(ErrorCode.INVALID_RECORD, 'control batches are written by the broker only (transaction markers)');

    let producers: PartitionProducers | undefined;
    let identity: BatchIdentity | undefined;
    if (batch.producerId >= 0) {
      if (batch.baseSequence < 0) throw new KafkaError(ErrorCode.INVALID_RECORD, 'idempotent batch without a base sequence');
      producers = broker.producersOf(topic, index);
      identity = {
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        baseSequence: batch.baseSequence,
        lastSequence: lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta),
        isTransactional: batch.isTransactional,
      };
      const dup = checkSequence(producers, identity, records);
      if (dup) {
        return { index, errorCode: ErrorCode.NONE, baseOffset: BigInt(dup.baseOffset), logAppendTimeMs: BigInt(dup.logAppendTime), logStartOffset: BigInt(log.logStartOffset), errorMessage: null };
      }
      // After the epoch check (a fenced producer hears INVALID_PRODUCER_EPOCH, as from Kafka).
      if (batch.isTransactional && !producers.hasOpenTxn(batch.producerId)) verifyTransactional(broker, transactionalId, batch.producerId, batch.producerEpoch, topic.name, index, records);
    } else if (batch.isTransactional) {
      throw new KafkaError(ErrorCode.INVALID_RECORD, 'transactional batch without a producer id');
    }

    const wanted = codecByName(topicConfig['compression.type'] as string);
    const bytes = wanted !== undefined && wanted !== batch.codec ? recompressBatch(records, wanted, levelFor(wanted, topicConfig)) : records;

    const r = log.append(bytes, { leaderEpoch });
    // Per batch, from its header: never per record (src/broker/stats.ts). Bytes as received.
    if (broker.stats.enabled) broker.stats.produced(broker.stats.topic(topic.name), batch.recordsCount, records.length);
    if (producers && identity) producers.record(identity, r.baseOffset, r.lastOffset, r.logAppendTime);
    broker.appended(log);
    let durable = wantDurable ? r.flushed : undefined;
    if (cluster) {
      cluster.afterLeaderAppend(topic.name, index);
      // acks=all in a cluster: answered once the high watermark passes the batch (the ISR has it).
      if (wantDurable) {
        const committed = cluster.waitForCommit(topic.name, index, r.lastOffset, timeoutMs).then((code) => {
          if (code !== ErrorCode.NONE) throw new KafkaError(code, `${topic.name}-${index}: offset ${r.lastOffset} not replicated to the in-sync replicas (${code})`);
        });
        durable = r.flushed ? Promise.all([r.flushed, committed]).then(() => undefined) : committed;
      }
    }
    return {
      index,
      errorCode: ErrorCode.NONE,
      baseOffset: BigInt(r.baseOffset),
      logAppendTimeMs: BigInt(r.logAppendTime),
      logStartOffset: BigInt(log.logStartOffset),
      errorMessage: null,
      // The flush policy decides durability (flush.messages=1: every append); acks=-1 waits for it,
      // and in a cluster for the in-sync replicas.
      durable,
    };
  } catch (e) {
    const { errorCode, message } = toErrorCode(e, broker.log);
    if (broker.stats.enabled) broker.stats.topic(topic.name).failedProduce++;
    return failed(index, errorCode, message);
  }
}

/**
 * A transactional batch that would open a transaction on this partition: the coordinator must have
 * the partition in the producer's Ongoing transaction (AddPartitionsToTxn came first). Without a
 * transactional id in the request there is nothing to verify against, so it is refused too. As in
 * checkSequence, a refusal is CORRUPT_MESSAGE instead when the batch's CRC does not match.
 */
function verifyTransactional(broker: Broker, transactionalId: string | null, producerId: number, producerEpoch: number, topicName: string, partition: number, records: Buffer): void {
  const code = transactionalId === null ? ErrorCode.INVALID_TXN_STATE : broker.transactions.verifyPartition(transactionalId, producerId, producerEpoch, topicName, partition);
  if (code !== ErrorCode.NONE) {
    if (crc32c(records.subarray(CRC_START)) !== storedCrc(records)) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'record batch CRC-32C mismatch');
    throw new KafkaError(code, `producer ${producerId} epoch ${producerEpoch} has no ongoing transaction with ${topicName}-${partition}${transactionalId === null ? ' (no transactional id in the request)' : ''}`);
  }
}

/**
 * The topic's compression.<codec>.level for a batch the broker compresses (Kafka 3.8, KIP-390).
 * Kafka accepts lz4 levels up to 17 (lz4-java's range); liblz4 stops at 12, so 13-17 compress as 12 here.
 */
function levelFor(codec: Codec, cfg: Readonly<Record<TopicConfigName, TopicConfigValue>>): number | undefined {
  switch (codec) {
    case Codec.Gzip:
      return cfg['compression.gzip.level'] as number;
    case Codec.Lz4:
      return Math.min(cfg['compression.lz4.level'] as number, 12);
    case Codec.Zstd:
      return cfg['compression.zstd.level'] as number;
    default:
      return undefined;
  }
}

/** Produce's error codes for the request metrics: one comparison per partition, not per record. */
function countErrors(broker: Broker, results: PartitionResult[]): void {
  for (const p of results) if (p.errorCode !== ErrorCode.NONE) broker.stats.api(ApiKey.Produce).addError(p.errorCode);
}

export const produceHandler = defineHandler({
  api: produceApi,
  minVersion: 0,
  maxVersion: 11,
  handle(req: ProduceRequest, ctx) {
    const { broker, version } = ctx;
    const acks = req.acks;
    const requestError = version < 3 ? ErrorCode.UNSUPPORTED_VERSION : acks !== 0 && acks !== 1 && acks !== -1 ? ErrorCode.INVALID_REQUIRED_ACKS : ErrorCode.NONE;

    const responses = req.topicData.map((t) => {
      const topic = requestError === ErrorCode.NONE ? broker.topics.get(t.name) : undefined;
      const partitionResponses = t.partitionData.map((p) => {
        if (requestError !== ErrorCode.NONE) return failed(p.index, requestError);
        if (!topic) return failed(p.index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        return appendPartition(broker, topic, p.index, p.records, version, acks === -1, req.timeoutMs, req.transactionalId);
      });
      if (broker.stats.enabled) countErrors(broker, partitionResponses);
      return { name: t.name, partitionResponses };
    });

    if (acks === 0) {
      const bad = responses.flatMap((t) => t.partitionResponses.filter((p) => p.errorCode !== ErrorCode.NONE).map((p) => `${t.name}-${p.index}: ${p.errorMessage ?? p.errorCode}`));
      if (bad.length > 0) throw new CloseConnection(`acks=0 produce failed (${bad.join('; ')})`);
      return null;
    }
    const response = { responses, throttleTimeMs: 0 };
    // A failed fsync turns that partition's answer into KAFKA_STORAGE_ERROR: the client retries.
    // countErrors above saw this partition succeed, so the failure is counted here.
    const waits = responses.flatMap((t) =>
      t.partitionResponses.flatMap((p) =>
        p.durable
          ? [
              p.durable.catch((e: Error) => {
                const { errorCode } = toErrorCode(e, broker.log);
                Object.assign(p, failed(p.index, errorCode, e.message));
                if (broker.stats.enabled) {
                  broker.stats.api(ApiKey.Produce).addError(errorCode);
                  broker.stats.topic(t.name).failedProduce++;
                }
              }),
            ]
          : [],
      ),
    );
    return waits.length === 0 ? response : Promise.all(waits).then(() => response);
  },
});
