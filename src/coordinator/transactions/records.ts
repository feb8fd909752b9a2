/**
 * The records of `__transaction_state`, in Apache Kafka's own format (TransactionLog), so the topic
 * compacts by key like Kafka's (latest record per transactional id wins, a null value forgets the
 * id) and Kafka's tools (kafka-dump-log --transaction-log-decoder) could read a Brook data directory.
 * Strings are int16 length + UTF-8, arrays int32 count + elements (-1 = null).
 *
 *   Key (Kafka's TransactionLogKey, prefixed by its coordinator record type 0)
 *     type              int16   0   (TRANSACTION_LOG)
 *     transactional_id  string
 *
 *   Value version 0 (TransactionLogValue v0, the newest non-flexible version: Kafka writes it
 *   until transaction.version >= 1, which Brook never finalizes)
 *     version               int16   0
 *     producer_id           int64
 *     producer_epoch        int16
 *     transaction_timeout   int32   ms
 *     state                 int8    TxnState (Empty 0 ... PrepareEpochFence 7)
 *     partitions            [topic string, partition_ids [int32]]   null when the state is Empty
 *     last_update_ms        int64
 *     start_ms              int64   -1 while no transaction was started
 *
 * Kafka groups the partitions by topic in a hash map's order; here topics come in the order they
 * were added (any order reads back the same). A tombstone (null value) is written when an id
 * expires (transactional.id.expiration.ms).
 */
import { partitionFor, RecordFormatError, StoredRecordReader } from '../records.js';
import { Writer } from '../../protocol/writer.js';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

/** The key's record type prefix (Kafka's CoordinatorRecordType.TRANSACTION_LOG). */
const TRANSACTION_LOG_KEY = 0;
const VALUE_VERSION = 0;

/** Kafka's TransactionState ids, as stored in the value's state byte. */
export const enum TxnState {
  Empty = 0,
  Ongoing = 1,
  PrepareCommit = 2,
  PrepareAbort = 3,
  CompleteCommit = 4,
  CompleteAbort = 5,
  Dead = 6,
  PrepareEpochFence = 7,
}

/** The names DescribeTransactions and ListTransactions use (Kafka's TransactionState.stateName). */
export const TXN_STATE_NAMES: readonly string[] = ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead', 'PrepareEpochFence'];

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface TxnLogValue {
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  /** Empty when the state is Empty (written as null then). */
  partitions: TopicPartitions[];
  lastUpdateMs: number;
  startMs: number;
}

/** Kafka's TransactionStateManager.partitionFor: abs(transactionalId.hashCode) % partitions. */
export function txnPartitionFor(transactionalId: string, partitions: number): number {
  return partitionFor(transactionalId, partitions);
}

export function encodeTxnKey(transactionalId: string): Buffer {
  const w = new Writer();
  w.int16(TRANSACTION_LOG_KEY);
  w.string(transactionalId);
  return w.toBuffer();
}

export function encodeTxnValue(v: TxnLogValue): Buffer {
  if (v.state === TxnState.Empty && v.partitions.length > 0) throw new Error(`an Empty transaction has no partitions (${v.partitions.length} given)`);
  const w = new Writer();
  w.int16(VALUE_VERSION);
  w.int64(v.producerId);
  w.int16(v.producerEpoch);
  w.int32(v.timeoutMs);
  w.int8(v.state);
  if (v.state === TxnState.Empty) {
    w.int32(-1);
  } else {
    w.int32(v.partitions.length);
    for (const tp of v.partitions) {
      w.string(tp.topic);
      w.int32(tp.partitions.length);
      for (const p of tp.partitions) w.int32(p);
    }
  }
  w.int64(v.lastUpdateMs);
  w.int64(v.startMs);
  return w.toBuffer();
}

/** The transactional id of a key; RecordFormatError for any other record type. */
export function decodeTxnKey(buf: Buffer): string {
  const r = new StoredRecordReader(buf);
  const type = r.int16();
  if (type !== TRANSACTION_LOG_KEY) throw new RecordFormatError(`unknown __transaction_state key type ${type}`);
  return r.string();
}

/** A value of version 0 (the only one Brook writes); other versions are RecordFormatError. */
export function decodeTxnValue(buf: Buffer): TxnLogValue {
  const r = new StoredRecordReader(buf);
  const version = r.int16();
  if (version !== VALUE_VERSION) throw new RecordFormatError(`unsupported __transaction_state value version ${version}`);
  const producerId = Number(r.int64());
  const producerEpoch = r.int16();
  const timeoutMs = r.int32();
  const state = r.int8();
  if (state < TxnState.Empty || state > TxnState.PrepareEpochFence) throw new RecordFormatError(`unknown transaction state ${state}`);
  const topics = r.int32();
  const partitions: TopicPartitions[] = [];
  for (let i = 0; i < topics; i++) {
    const topic = r.string();
    const n = r.int32();
    const ids: number[] = [];
    for (let j = 0; j < n; j++) ids.push(r.int32());
    partitions.push({ topic, partitions: ids });
  }
  return { producerId, producerEpoch, timeoutMs, state: state as TxnState, partitions, lastUpdateMs: Number(r.int64()), startMs: Number(r.int64()) };
}
