/**
 * Fetch (key 1), v4-17.
 * v13+ name topics by id (the ids Metadata v10+ hands out, kept in topics.json); an unknown id is
 * UNKNOWN_TOPIC_ID. v15 moves replica_id into a tagged field (with the follower's broker epoch);
 * v17 adds a tagged directory id, ignored. @platformatic/kafka needs v13+ (its v12 request carries
 * ids where names belong), and the Java client uses ids whenever every topic has one.
 *
 * Per partition: the batch containing fetch_offset first (clients drop the records before their
 * offset), at least one whole batch even when it exceeds the byte limits (KIP-74), never past the
 * high watermark for consumers. The response's limit is the smaller of max_bytes and the broker's
 * fetch.max.bytes. On one node the high watermark is the log end offset.
 *
 * Transactions: last_stable_offset is the partition's LSO (min of the first offset of its oldest
 * open transaction and the high watermark) whatever the isolation level, as Kafka reports it.
 * isolation_level 1 (read_committed) reads only below the LSO, so min_bytes counts only what lies
 * below it, and aborted_transactions lists the aborted transactions whose range overlaps the
 * records returned ([fetch_offset, end of the last returned batch)), sorted by first offset (those
 * that began before fetch_offset by where the read first meets them, see inReadingOrder): the
 * client drops their data. Sorted because kafkajs only looks at the head of the list; bounded by
 * what is returned because @platformatic/kafka 1.35 keys the ranges by producer id and keeps the
 * last one, so an abort of the same producer past the returned data would hide an earlier one
 * (reference §1.7). read_uncommitted gets null there, as from Kafka. Followers read to the log end.
 *
 * In a cluster (broker.cluster) only the leader answers (else NOT_LEADER_OR_FOLLOWER, and
 * current_leader_epoch is checked: FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH). A fetch with a
 * replica id >= 0 is a follower's: it reads up to the log end, its fetch offset tells the leader
 * the follower's log end (high watermark, ISR), and when its last_fetched_epoch ends earlier here
 * (or is not ours) the answer carries DivergingEpoch and no records, at once, so the follower
 * truncates before fetching again (KAFKA-10554).
 *
 * Record bytes leave as file slices that the connection sends with sendfile (zero copy); each owns
 * its segment file until the connection releases it, and a read that does not satisfy the long
 * poll is released before it parks, so a parked fetch keeps no deleted segment open. Below v10
 * clients cannot read zstd, so those versions read into a Buffer and check each batch's codec: the
 * answer stops before the first zstd batch, and is UNSUPPORTED_COMPRESSION_TYPE only when that is
 * the first batch (Kafka refuses the whole read if any batch is zstd, which stalls such a consumer
 * on records it could have read). kafka-python, at v4, is the only such client in scope.
 *
 * Long poll: with fewer than min_bytes available, the request parks on every partition it asked for
 * and re-runs on the next append to any of them, or answers with what there is after max_wait_ms.
 * One predicate (`satisfied`) decides when a wait ends. A transaction marker is an append too, so a
 * read_committed long poll re-reads when the LSO moves (and in a cluster when the high watermark
 * does). A long poll whose connection closes stops at once and answers nothing: its timer, waiter
 * and read would otherwise stay until max_wait_ms, and a client pipelining long polls and hanging
 * up, again and again, could grow memory unbounded.
 *
 * Fetch sessions (v7+) are not kept: session_id is always 0, so clients send full fetches, which
 * every client supports (reference §5 #12). Not implemented: rack-aware preferred read replica,
 * node endpoints (v16, tagged).
 */
import { ApiKey } from '../../protocol/api-keys.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { firstZstdBatch } from '../../protocol/record-batch.js';
import { fetchApi, type FetchRequest } from '../../protocol/schemas/fetch.js';
import { releaseSlices, type OutChunk } from '../../protocol/request-sink.js';
import type { ChunkedRecords } from '../../protocol/writer.js';
import type { PartitionLog } from '../../storage/partition-log.js';
import type { Broker } from '../broker.js';
import { toErrorCode } from '../errors.js';
import { defineHandler } from '../handler.js';
import type { PartitionProducers } from '../producers.js';
import type { Topic } from '../topics.js';

const EMPTY = Buffer.alloc(0);
const READ_COMMITTED = 1;
/** Batch headers fetched per lookup when finding where a read ends. */
const HEADERS_PER_LOOKUP = 64;

interface PartitionAnswer {
  partitionIndex: number;
  divergingEpoch?: { epoch: number; endOffset: bigint };
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null;
  preferredReadReplica: number;
  records: Buffer | ChunkedRecords;
}

interface TopicAnswer {
  topic: string;
  topicId: string;
  partitions: PartitionAnswer[];
  // For the metrics only (the codec writes schema fields and ignores these): the topic answered,
  // undefined for an unknown name or id, and the record bytes this answer carries for it.
  known: Topic | undefined;
  bytes: number;
}

interface FetchResult {
  topics: TopicAnswer[];
  bytes: number;
  /** A partition answered with an error: Kafka responds at once rather than waiting. */
  hasError: boolean;
  logs: PartitionLog[];
}

function readAll(broker: Broker, req: FetchRequest, version: number): FetchResult {
  // The broker's fetch.max.bytes caps what a request may ask for, as in Kafka: it bounds the
  // memory of the Buffer path below v10 and the size of any one response.
  let budget = Math.min(req.maxBytes, broker.config.fetchMaxBytes);
  let bytes = 0;
  let hasError = false;
  const logs: PartitionLog[] = [];
  const byId = version >= 13;
  // A follower's fetch (Kafka: replica id >= 0; v15+ in the tagged replica state, with its broker epoch).
  const replicaId = version >= 15 ? req.replicaState.replicaId : req.replicaId;
  const brokerEpoch = version >= 15 ? Number(req.replicaState.replicaEpoch) : -1;
  const readCommitted = replicaId < 0 && req.isolationLevel === READ_COMMITTED;
  const topics = req.topics.map((t): TopicAnswer => {
    const topic = byId ? broker.topics.byId(t.topicId) : broker.topics.get(t.topic);
    const bytesBefore = bytes;
    const partitions = t.partitions.map((p): PartitionAnswer => {
      const answer: PartitionAnswer = {
        partitionIndex: p.partition,
        errorCode: ErrorCode.NONE,
        highWatermark: -1n,
        lastStableOffset: -1n,
        logStartOffset: -1n,
        abortedTransactions: null,
        preferredReadReplica: -1,
        records: EMPTY,
      };
      const log = topic?.partitions[p.partition];
      if (!log) {
        answer.errorCode = byId && !topic ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        hasError = true;
        return answer;
      }
      const offset = Number(p.fetchOffset);
      // What this request may read: a consumer up to the high watermark (on one node the log end),
      // a follower up to the log end. In a cluster only the leader serves either.
      let hw = log.logEndOffset;
      let upTo = hw;
      if (broker.cluster) {
        try {
          if (replicaId >= 0) {
            const a = broker.cluster.followerFetch(topic.name, p.partition, {
              replicaId,
              brokerEpoch,
              fetchOffset: offset,
              logStartOffset: Number(p.logStartOffset),
              currentLeaderEpoch: p.currentLeaderEpoch,
              lastFetchedEpoch: p.lastFetchedEpoch,
            });
            hw = a.highWatermark;
            if (a.diverging) {
              answer.divergingEpoch = { epoch: a.diverging.epoch, endOffset: BigInt(a.diverging.endOffset) };
              answer.highWatermark = answer.lastStableOffset = BigInt(hw);
              answer.logStartOffset = BigInt(log.logStartOffset);
              hasError = true; // answered at once: the follower truncates before it fetches again
              return answer;
            }
          } else {
            hw = upTo = broker.cluster.leader(topic.name, p.partition, p.currentLeaderEpoch).highWatermark;
          }
        } catch (e) {
          answer.errorCode = toErrorCode(e, broker.log).errorCode;
          hasError = true;
          return answer;
        }
      }
      logs.push(log);
      const producers = broker.producersOf(topic, p.partition);
      const lastStable = producers.lastStableOffset(hw);
      answer.highWatermark = BigInt(hw);
      answer.lastStableOffset = BigInt(lastStable);
      answer.logStartOffset = BigInt(log.logStartOffset);
      if (readCommitted) {
        upTo = Math.min(upTo, lastStable);
        answer.abortedTransactions = [];
      }
      if (offset < log.logStartOffset || offset > log.logEndOffset) {
        answer.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
        hasError = true;
        return answer;
      }
      if (offset >= upTo) return answer;
      // KIP-74: the first partition with data gets at least one batch, whatever the budget.
      const limit = Math.max(0, Math.min(p.partitionMaxBytes, budget));
      if (limit === 0 && bytes > 0) return answer;
      try {
        if (version < 10) {
          let buf = log.readBuffer(offset, limit, upTo);
          const zstdAt = firstZstdBatch(buf);
          if (zstdAt === 0) {
            answer.errorCode = ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
            hasError = true;
            return answer;
          }
          if (zstdAt > 0) buf = buf.subarray(0, zstdAt);
          answer.records = buf;
          bytes += buf.length;
          budget -= buf.length;
          if (readCommitted && buf.length > 0) answer.abortedTransactions = abortedWithin(producers, log, offset, buf.length);
        } else {
          const r = log.read(offset, limit, upTo);
          answer.records = r.slices.length === 0 ? EMPTY : { length: r.bytes, chunks: r.slices };
          bytes += r.bytes;
          budget -= r.bytes;
          if (readCommitted && r.bytes > 0) answer.abortedTransactions = abortedWithin(producers, log, offset, r.bytes);
        }
      } catch (e) {
        answer.errorCode = toErrorCode(e, broker.log).errorCode;
        hasError = true;
      }
      return answer;
    });
    return { topic: t.topic, topicId: t.topicId, partitions, known: topic, bytes: bytes - bytesBefore };
  });
  return { topics, bytes, hasError, logs };
}

/**
 * The aborted transactions a read_committed answer carries: those overlapping [offset, end of the
 * `bytes` returned from `offset`). The end is looked up (batch headers of the returned bytes) only
 * when some aborted transaction ends at or after `offset`: aborts are in marker order, so the last
 * one tells, and most reads past the last abort pay nothing.
 */
function abortedWithin(producers: PartitionProducers, log: PartitionLog, offset: number, bytes: number): { producerId: bigint; firstOffset: bigint }[] {
  const all = producers.abortedRanges();
  if (all.length === 0 || all[all.length - 1]!.lastOffset < offset) return [];
  const end = endOfRead(log, offset, bytes);
  let aborted = producers.abortedTransactions(offset, end);
  if (aborted.some((a) => a.firstOffset < offset)) aborted = inReadingOrder(aborted, log, offset, end);
  return aborted.map((a) => ({ producerId: BigInt(a.producerId), firstOffset: BigInt(a.firstOffset) }));
}

/**
 * The order clients meet the aborted transactions in a read that starts inside some of them:
 * kafkajs 2.2.4 (filterAbortedMessages) takes at most one entry off the head of the list per record
 * it reads, once the record's offset reaches the entry's first offset, so two transactions that both
 * began before `offset` would be taken one record apart and the second one's first record would get
 * through. Ordering by where each transaction's producer first shows up in the returned batches (a
 * transactional data batch, or its ABORT marker) takes each one off the list no later than its first
 * record. For transactions that begin at or after `offset` this is their first offset, the order
 * Kafka's rule gives; librdkafka and the Java client sort the list themselves, and
 * @platformatic/kafka keys it by producer, so neither minds.
 */
function inReadingOrder<A extends { producerId: number; firstOffset: number }>(aborted: A[], log: PartitionLog, offset: number, end: number): A[] {
  const firstSeen = new Map<number, number>();
  for (let at = offset; at < end && firstSeen.size < aborted.length; ) {
    const headers = log.batchHeaders(at, HEADERS_PER_LOOKUP);
    if (headers.length === 0 || headers[headers.length - 1]!.lastOffset < at) break;
    for (const h of headers) {
      if (h.baseOffset >= end) break;
      if (h.isTransactional && !firstSeen.has(h.producerId)) firstSeen.set(h.producerId, Math.max(h.baseOffset, offset));
      at = h.lastOffset + 1;
    }
  }
  const key = (a: A) => Math.max(a.firstOffset, firstSeen.get(a.producerId) ?? end);
  return [...aborted].sort((x, y) => key(x) - key(y));
}

/**
 * One past the last offset of the whole batches that make up the first `bytes` bytes read from
 * `offset` (a read starts at the batch containing `offset` and returns whole batches).
 */
function endOfRead(log: PartitionLog, offset: number, bytes: number): number {
  let end = offset;
  let seen = 0;
  while (seen < bytes) {
    const headers = log.batchHeaders(end, HEADERS_PER_LOOKUP);
    if (headers.length === 0 || headers[headers.length - 1]!.lastOffset < end) break;
    for (const h of headers) {
      seen += h.sizeInBytes;
      end = h.lastOffset + 1;
      if (seen >= bytes) break;
    }
  }
  return end;
}

/**
 * Releases the file slices of a read that will not be sent (the long poll parks and reads again
 * later): each slice holds its segment file open until released (FileSlice). Sent slices are
 * released by the connection.
 */
function release(r: FetchResult): void {
  // The codec sees the chunks as opaque; here they are the FileSlices log.read() returned.
  for (const t of r.topics) for (const p of t.partitions) if (!Buffer.isBuffer(p.records)) releaseSlices(p.records.chunks as readonly OutChunk[]);
}

/**
 * The answer that goes out. Counts it (src/broker/stats.ts): per topic, the bytes readAll summed;
 * per partition only when one failed (a pass over the partitions then).
 */
function respond(broker: Broker, r: FetchResult) {
  const stats = broker.stats;
  if (stats.enabled) {
    for (const t of r.topics) {
      // Only topics that exist: a client asking for made-up names must not grow the metrics.
      if (t.known && t.bytes > 0) stats.fetched(stats.topic(t.known.name), t.bytes);
      if (!r.hasError) continue;
      for (const p of t.partitions) {
        if (p.errorCode === ErrorCode.NONE) continue;
        stats.api(ApiKey.Fetch).addError(p.errorCode);
        if (t.known) stats.topic(t.known.name).failedFetch++;
      }
    }
  }
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses: r.topics };
}

export const fetchHandler = defineHandler({
  api: fetchApi,
  minVersion: 4,
  maxVersion: 17,
  handle(req: FetchRequest, ctx) {
    const { broker, version } = ctx;
    const first = readAll(broker, req, version);
    const follower = (version >= 15 ? req.replicaState.replicaId : req.replicaId) >= 0;
    const satisfied = (r: FetchResult) => r.bytes >= req.minBytes || r.hasError || broker.isClosing;
    if (satisfied(first) || req.maxWaitMs <= 0 || first.logs.length === 0) return respond(broker, first);

    return new Promise((resolve) => {
      let unpark = () => {};
      let forgetClose = () => {};
      const finish = (r: FetchResult | null) => {
        clearTimeout(timer);
        unpark();
        forgetClose();
        resolve(r && respond(broker, r));
      };
      const timer = setTimeout(() => finish(readAll(broker, req, version)), req.maxWaitMs);
      const park = (r: FetchResult) => {
        release(r);
        unpark = (follower ? broker.followerWaiters : broker.waiters).park(r.logs, wake);
      };
      const wake = () => {
        const r = readAll(broker, req, version);
        if (satisfied(r)) finish(r);
        else park(r);
      };
      park(first);
      forgetClose = ctx.onConnectionClose?.(() => finish(null)) ?? forgetClose;
    });
  },
});
