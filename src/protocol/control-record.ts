/**
 * Reading transaction markers: the one record of a control batch that ends a transaction
 * (Kafka's EndTransactionMarker). Its layout, inside an uncompressed RecordBatch v2 (control batches
 * are never compressed):
 *
 *   key    int16 version (0), int16 type: 0 ABORT, 1 COMMIT (other types, e.g. Raft's
 *          LEADER_CHANGE, are not transaction markers)
 *   value  int16 version (0), int32 coordinatorEpoch
 *
 * Written by src/broker/control-records.ts; read here by the broker (producer state, replication,
 * coordinator replay) and by Brook's own consumer (aborted-transaction filtering).
 */
import { BATCH_HEADER_SIZE } from './record-batch.js';
import { Reader } from './reader.js';

/** Kafka's ControlRecordType ids in the key. */
export const ABORT = 0;
export const COMMIT = 1;

/** { commit } for a transaction marker's key, undefined for anything else (another type, a negative version, short). */
export function parseMarkerKey(key: Buffer): { commit: boolean } | undefined {
  if (key.length < 4 || key.readInt16BE(0) < 0) return undefined;
  const type = key.readInt16BE(2);
  return type === COMMIT ? { commit: true } : type === ABORT ? { commit: false } : undefined;
}

/**
 * A marker value's coordinator epoch, or -1 (no coordinator: fences nothing) when the value is
 * missing, short or of a negative version. A version above 0 is read the same way, as Kafka's
 * EndTransactionMarker does (fields are only ever added after the epoch).
 */
export function parseMarkerValue(value: Buffer | null | undefined): number {
  if (!value || value.length < 6 || value.readInt16BE(0) < 0) return -1;
  return value.readInt32BE(2);
}

/** A control record read as a transaction marker (key and value); undefined when it is not one. */
export function parseMarker(key: Buffer | null | undefined, value: Buffer | null | undefined): { commit: boolean; coordinatorEpoch: number } | undefined {
  const k = key ? parseMarkerKey(key) : undefined;
  return k && { commit: k.commit, coordinatorEpoch: parseMarkerValue(value) };
}

/**
 * The marker of the control batch at `pos` of `buf` (`size` bytes), read from its first record
 * without decoding the batch: record length varint, attributes int8, timestampDelta varlong,
 * offsetDelta varint, key length varint, key, value length varint, value. Undefined when the
 * record is not a marker or the bytes end early.
 */
export function markerAt(buf: Buffer, pos: number, size: number): { commit: boolean; coordinatorEpoch: number } | undefined {
  try {
    const r = new Reader(buf, pos + BATCH_HEADER_SIZE, Math.min(pos + size, buf.length));
    r.varint(); // record length
    r.int8(); // attributes
    r.varlong(); // timestamp delta
    r.varint(); // offset delta
    const keyLength = r.varint();
    if (keyLength < 0) return undefined;
    const key = r.raw(keyLength);
    const valueLength = r.varint();
    return parseMarker(key, valueLength < 0 ? null : r.raw(valueLength));
  } catch {
    return undefined; // truncated: not readable as a marker
  }
}
