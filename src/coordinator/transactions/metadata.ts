/**
 * One transactional id's state and Kafka's rules for moving it (TransactionMetadata and the checks
 * of TransactionCoordinator, transaction.version 1), as pure functions: each takes the current
 * metadata and a request and returns either an error code, "nothing to write" (NONE), or the next
 * metadata, which the coordinator writes to `__transaction_state` before it becomes current.
 *
 *   Empty --AddPartitions--> Ongoing --EndTxn--> PrepareCommit --markers--> CompleteCommit
 *                                      \-------> PrepareAbort  --markers--> CompleteAbort
 *   Complete* --AddPartitions--> Ongoing;  Empty/Complete* --InitProducerId--> Empty (epoch + 1)
 *   Ongoing --InitProducerId or timeout--> (PrepareEpochFence: epoch + 1, never written) PrepareAbort
 *   Empty/Complete* idle past transactional.id.expiration.ms --> Dead (a tombstone)
 *
 * `pending` is Kafka's pendingState: a transition being written (or, for EndTxn, the whole
 * PrepareX-markers-CompleteX sequence). While one is pending every other request for the id is
 * answered CONCURRENT_TRANSACTIONS (after the producer id and epoch checks where Kafka makes them
 * first), which every client retries.
 *
 * PRODUCER_FENCED is returned as such; the handlers turn it into INVALID_PRODUCER_EPOCH for the
 * versions that predate it (fencedCode).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { TxnState, type TxnLogValue } from './records.js';

/** RecordBatch.NO_PRODUCER_ID / NO_PRODUCER_EPOCH. */
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
/** Short.MaxValue: the largest epoch a batch can carry. */
export const MAX_EPOCH = 32767;

export interface TxnMetadata {
  readonly transactionalId: string;
  readonly producerId: number;
  /** The producer id before the last rotation (epoch exhaustion); in memory only, as in Kafka's v0 records. */
  readonly lastProducerId: number;
  readonly producerEpoch: number;
  /** The epoch before the last InitProducerId bump, so a retried InitProducerId is recognized; -1 none. */
  readonly lastProducerEpoch: number;
  readonly timeoutMs: number;
  readonly state: TxnState;
  /** The partitions of the open (or preparing) transaction, by topic. */
  readonly partitions: ReadonlyMap<string, ReadonlySet<number>>;
  /** When the transaction started (first AddPartitions after Empty/Complete*); -1 none. */
  readonly startMs: number;
  readonly lastUpdateMs: number;
  /** The state being written (Kafka's pendingState); undefined when none. */
  readonly pending?: TxnState | undefined;
}

/** What a check answers: an error (or NONE with nothing to write), or the metadata to write. */
export type Transit = { errorCode: number; next?: undefined } | { errorCode: typeof ErrorCode.NONE; next: TxnMetadata };

const fail = (errorCode: number): Transit => ({ errorCode });
const write = (next: TxnMetadata): Transit => ({ errorCode: ErrorCode.NONE, next });
const NOTHING: Transit = { errorCode: ErrorCode.NONE };

/** A transactional id seen for the first time: Empty with a fresh producer id and no epoch yet (the bump makes it 0). */
export function newTxnMetadata(transactionalId: string, producerId: number, timeoutMs: number, now: number): TxnMetadata {
  return {
    transactionalId,
    producerId,
    lastProducerId: NO_PRODUCER_ID,
    producerEpoch: NO_PRODUCER_EPOCH,
    lastProducerEpoch: NO_PRODUCER_EPOCH,
    timeoutMs,
    state: TxnState.Empty,
    partitions: new Map(),
    startMs: -1,
    lastUpdateMs: now,
  };
}

/** Kafka's validateTransactionTimeoutMs: 1..transaction.max.timeout.ms. */
export function validTimeout(timeoutMs: number, maxTimeoutMs: number): boolean {
  return timeoutMs > 0 && timeoutMs <= maxTimeoutMs;
}

/** Kafka's isProducerEpochExhausted: the next bump would reach Short.MaxValue, kept for the fence. */
export function epochExhausted(epoch: number): boolean {
  return epoch >= MAX_EPOCH - 1;
}

/** PRODUCER_FENCED for the versions that know it, INVALID_PRODUCER_EPOCH below `fencedSince`. */
export function fencedCode(errorCode: number, version: number, fencedSince: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && version < fencedSince ? ErrorCode.INVALID_PRODUCER_EPOCH : errorCode;
}

export type InitTransit = Transit | { errorCode: typeof ErrorCode.NONE; rotate: true; recordLastEpoch: boolean; next?: undefined } | { errorCode: typeof ErrorCode.CONCURRENT_TRANSACTIONS; fenceAndAbort: true; next?: undefined };

/**
 * InitProducerId for a known id (Kafka's prepareInitProducerIdTransit). `expected`: the v3+
 * producer_id/epoch pair when not -1/-1. Answers:
 * - an error; or `next`: Empty at the bumped epoch (or the same epoch for a retried bump);
 * - `rotate`: the epoch is exhausted, the caller allocates a new producer id (rotateProducerId);
 * - `fenceAndAbort`: an Ongoing transaction: the caller fences and aborts it (fenceForAbort), and
 *   answers CONCURRENT_TRANSACTIONS; the client's retry then bumps again.
 */
export function prepareInitProducerId(md: TxnMetadata, timeoutMs: number, expected: { producerId: number; producerEpoch: number } | undefined, now: number): InitTransit {
  if (md.pending !== undefined) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
  if (expected && !isValidProducerId(md, expected)) return fail(ErrorCode.PRODUCER_FENCED);
  switch (md.state) {
    case TxnState.PrepareCommit:
    case TxnState.PrepareAbort:
      return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
    case TxnState.Ongoing:
      return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS, fenceAndAbort: true };
    case TxnState.Empty:
    case TxnState.CompleteCommit:
    case TxnState.CompleteAbort: {
      if (epochExhausted(md.producerEpoch) && (!expected || expected.producerEpoch === md.producerEpoch)) {
        return { errorCode: ErrorCode.NONE, rotate: true, recordLastEpoch: expected !== undefined };
      }
      let epoch: number;
      let lastEpoch: number;
      if (!expected) {
        epoch = md.producerEpoch + 1;
        lastEpoch = NO_PRODUCER_EPOCH;
      } else if (md.producerEpoch === NO_PRODUCER_EPOCH || expected.producerEpoch === md.producerEpoch) {
        epoch = md.producerEpoch + 1;
        lastEpoch = md.producerEpoch;
      } else if (expected.producerEpoch === md.lastProducerEpoch) {
        // The producer did not get the answer to its last bump and asks again: the same answer.
        epoch = md.producerEpoch;
        lastEpoch = md.lastProducerEpoch;
      } else {
        return fail(ErrorCode.PRODUCER_FENCED);
      }
      return write({ ...md, producerEpoch: epoch, lastProducerEpoch: lastEpoch, timeoutMs, state: TxnState.Empty, partitions: new Map(), startMs: -1, lastUpdateMs: now, pending: undefined });
    }
    default:
      // Dead (being expired) or PrepareEpochFence (being fenced): transient, retried.
      return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
  }
}

/**
 * Kafka's isValidProducerId: a supplied pair is acceptable when the id has no epoch yet, names the
 * current producer id, or names the previous one with an exhausted epoch (a retry of a rotation).
 */
function isValidProducerId(md: TxnMetadata, expected: { producerId: number; producerEpoch: number }): boolean {
  return md.producerEpoch === NO_PRODUCER_EPOCH || expected.producerId === md.producerId || (expected.producerId === md.lastProducerId && epochExhausted(expected.producerEpoch));
}

/** A new producer id at epoch 0 once the epoch is exhausted (Kafka's prepareProducerIdRotation). */
export function rotateProducerId(md: TxnMetadata, newProducerId: number, timeoutMs: number, recordLastEpoch: boolean, now: number): TxnMetadata {
  return {
    ...md,
    producerId: newProducerId,
    lastProducerId: md.producerId,
    producerEpoch: 0,
    lastProducerEpoch: recordLastEpoch ? md.producerEpoch : NO_PRODUCER_EPOCH,
    timeoutMs,
    state: TxnState.Empty,
    partitions: new Map(),
    startMs: -1,
    lastUpdateMs: now,
    pending: undefined,
  };
}

/** The producer id / epoch checks shared by AddPartitions and AddOffsets (and EndTxn from a client). */
function checkProducer(md: TxnMetadata | undefined, producerId: number, producerEpoch: number): number {
  if (!md || md.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
  if (md.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
  return ErrorCode.NONE;
}

/**
 * AddPartitionsToTxn / AddOffsetsToTxn (Kafka's handleAddPartitionsToTransaction, client form):
 * Ongoing with every partition already in it is NONE with nothing to write; otherwise Ongoing with
 * the partitions added (the start time set when the transaction starts here).
 */
export function prepareAddPartitions(md: TxnMetadata | undefined, producerId: number, producerEpoch: number, add: readonly { topic: string; partition: number }[], now: number): Transit {
  const code = checkProducer(md, producerId, producerEpoch);
  if (code !== ErrorCode.NONE || !md) return fail(code);
  if (md.pending !== undefined || md.state === TxnState.PrepareCommit || md.state === TxnState.PrepareAbort) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
  if (md.state === TxnState.Ongoing && add.every((tp) => md.partitions.get(tp.topic)?.has(tp.partition))) return NOTHING;
  if (md.state !== TxnState.Ongoing && md.state !== TxnState.Empty && md.state !== TxnState.CompleteCommit && md.state !== TxnState.CompleteAbort) {
    return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
  }
  const starting = md.state !== TxnState.Ongoing;
  const partitions = starting ? new Map<string, Set<number>>() : copyPartitions(md.partitions);
  for (const tp of add) {
    let set = partitions.get(tp.topic);
    if (!set) partitions.set(tp.topic, (set = new Set()));
    set.add(tp.partition);
  }
  return write({ ...md, state: TxnState.Ongoing, partitions, startMs: starting ? now : md.startMs, lastUpdateMs: now, pending: undefined });
}

/**
 * EndTxn from a client (Kafka's endTransaction, transaction.version 1): Ongoing -> PrepareCommit
 * or PrepareAbort. A retried commit (CompleteCommit) or abort (CompleteAbort) is NONE; the other
 * result, or anything in Empty, is INVALID_TXN_STATE; the same result while still preparing is
 * CONCURRENT_TRANSACTIONS.
 */
export function prepareEndTxn(md: TxnMetadata | undefined, producerId: number, producerEpoch: number, commit: boolean, now: number): Transit {
  const code = checkProducer(md, producerId, producerEpoch);
  if (code !== ErrorCode.NONE || !md) return fail(code);
  if (md.pending !== undefined) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
  switch (md.state) {
    case TxnState.Ongoing:
      return write({ ...md, state: commit ? TxnState.PrepareCommit : TxnState.PrepareAbort, lastUpdateMs: now, pending: undefined });
    case TxnState.CompleteCommit:
      return commit ? NOTHING : fail(ErrorCode.INVALID_TXN_STATE);
    case TxnState.CompleteAbort:
      return commit ? fail(ErrorCode.INVALID_TXN_STATE) : NOTHING;
    case TxnState.PrepareCommit:
      return fail(commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
    case TxnState.PrepareAbort:
      return fail(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS);
    case TxnState.Empty:
      return fail(ErrorCode.INVALID_TXN_STATE);
    default:
      return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
  }
}

/**
 * The broker aborts an Ongoing transaction itself (a timeout, or InitProducerId of a new instance):
 * the epoch is bumped first (Kafka's PrepareEpochFence, never written) so the old instance is
 * fenced, then PrepareAbort is written at the new epoch, with no previous epoch to retry from.
 */
export function prepareFencedAbort(md: TxnMetadata, now: number): TxnMetadata {
  if (md.state !== TxnState.Ongoing) throw new Error(`only an Ongoing transaction is fenced and aborted (${md.transactionalId} is in state ${md.state})`);
  const producerEpoch = md.producerEpoch < MAX_EPOCH ? md.producerEpoch + 1 : md.producerEpoch;
  return { ...md, producerEpoch, lastProducerEpoch: NO_PRODUCER_EPOCH, state: TxnState.PrepareAbort, lastUpdateMs: now, pending: undefined };
}

/** After every marker is written: PrepareCommit -> CompleteCommit, PrepareAbort -> CompleteAbort; no partitions left. */
export function prepareComplete(md: TxnMetadata, now: number): TxnMetadata {
  if (md.state !== TxnState.PrepareCommit && md.state !== TxnState.PrepareAbort) throw new Error(`${md.transactionalId} completes from state ${md.state}, not a Prepare state`);
  return { ...md, state: md.state === TxnState.PrepareCommit ? TxnState.CompleteCommit : TxnState.CompleteAbort, partitions: new Map(), lastUpdateMs: now, pending: undefined };
}

/** Kafka's timedOutTransactions: Ongoing, nothing pending, and start + timeout passed. */
export function timedOut(md: TxnMetadata, now: number): boolean {
  return md.state === TxnState.Ongoing && md.pending === undefined && md.startMs + md.timeoutMs < now;
}

/** Kafka's removeExpiredTransactionalIds: no transaction in progress and no update for expirationMs. */
export function expired(md: TxnMetadata, now: number, expirationMs: number): boolean {
  const idle = md.state === TxnState.Empty || md.state === TxnState.CompleteCommit || md.state === TxnState.CompleteAbort;
  return idle && md.pending === undefined && md.lastUpdateMs <= now - expirationMs;
}

/**
 * Produce-time check (KIP-890 part 1): the partition is in this producer's Ongoing transaction.
 * NONE then, INVALID_TXN_STATE otherwise (the epoch itself is the partition's producer state's
 * business: a stale one is INVALID_PRODUCER_EPOCH there).
 */
export function verifyPartition(md: TxnMetadata | undefined, producerId: number, producerEpoch: number, topic: string, partition: number): number {
  // A fenced producer's first batch to a partition that never saw the new epoch: the epoch error
  // the partition's producer state would give (clients treat it as fenced), not INVALID_TXN_STATE.
  if (md && md.producerId === producerId && producerEpoch < md.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
  if (!md || md.producerId !== producerId || md.producerEpoch !== producerEpoch || md.state !== TxnState.Ongoing) return ErrorCode.INVALID_TXN_STATE;
  return md.partitions.get(topic)?.has(partition) ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
}

/**
 * TxnOffsetCommit check: AddOffsetsToTxn put the group's `__consumer_offsets` partition in this
 * producer's Ongoing transaction. An older epoch is PRODUCER_FENCED (handlers map it by version).
 */
export function verifyOffsetsPartition(md: TxnMetadata | undefined, producerId: number, producerEpoch: number, offsetsTopic: string, partition: number): number {
  if (md && md.producerId === producerId && producerEpoch < md.producerEpoch) return ErrorCode.PRODUCER_FENCED;
  return verifyPartition(md, producerId, producerEpoch, offsetsTopic, partition);
}

function copyPartitions(p: ReadonlyMap<string, ReadonlySet<number>>): Map<string, Set<number>> {
  return new Map([...p].map(([t, s]) => [t, new Set(s)]));
}

/** The partitions as the log value and DescribeTransactions list them: topics in insertion order, partitions ascending. */
export function partitionList(md: TxnMetadata): { topic: string; partitions: number[] }[] {
  return [...md.partitions].map(([topic, set]) => ({ topic, partitions: [...set].sort((a, b) => a - b) }));
}

export function toLogValue(md: TxnMetadata): TxnLogValue {
  return {
    producerId: md.producerId,
    producerEpoch: md.producerEpoch,
    timeoutMs: md.timeoutMs,
    state: md.state,
    partitions: md.state === TxnState.Empty ? [] : partitionList(md),
    lastUpdateMs: md.lastUpdateMs,
    startMs: md.startMs,
  };
}

/** Metadata as replay finds it in the log (Kafka's readTxnRecordValue: the previous epoch is unknown). */
export function fromLogValue(transactionalId: string, v: TxnLogValue): TxnMetadata {
  const partitions = new Map<string, Set<number>>();
  if (v.state !== TxnState.Empty) {
    for (const tp of v.partitions) {
      let set = partitions.get(tp.topic);
      if (!set) partitions.set(tp.topic, (set = new Set()));
      for (const p of tp.partitions) set.add(p);
    }
  }
  return {
    transactionalId,
    producerId: v.producerId,
    lastProducerId: NO_PRODUCER_ID,
    producerEpoch: v.producerEpoch,
    lastProducerEpoch: NO_PRODUCER_EPOCH,
    timeoutMs: v.timeoutMs,
    state: v.state,
    partitions,
    startMs: v.startMs,
    lastUpdateMs: v.lastUpdateMs,
  };
}
