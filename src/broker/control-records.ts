/**
 * Transaction markers as bytes: the control batch Kafka writes to every partition of a transaction
 * when it ends (Kafka's EndTransactionMarker / MemoryRecords.withEndTransactionMarker); reading
 * one back is protocol/control-record.ts, writing one to a partition txn-markers.ts.
 *
 * The marker batch, byte for byte as Kafka writes it (RecordBatch v2, 78 bytes):
 *
 *   offset  size  field
 *        0     8  baseOffset            0 here; the append assigns it
 *        8     4  batchLength           66 (the bytes after this field)
 *       12     4  partitionLeaderEpoch  -1 here; the append writes the leader's epoch (outside the CRC)
 *       16     1  magic                 2
 *       17     4  crc                   CRC-32C of bytes 21..77
 *       21     2  attributes            0x0030: transactional (0x10) | control (0x20), no codec, CreateTime
 *       23     4  lastOffsetDelta       0
 *       27     8  baseTimestamp         the marker's timestamp
 *       35     8  maxTimestamp          the same
 *       43     8  producerId            the transaction's producer id
 *       51     2  producerEpoch         the marker's epoch (the coordinator's, possibly bumped)
 *       53     4  baseSequence          -1 (markers carry no sequence)
 *       57     4  recordsCount          1
 *       61    17  the one record:
 *                   varint length 16, int8 attributes 0, varint timestampDelta 0, varint offsetDelta 0,
 *                   varint keyLength 4, key = int16 version 0, int16 type (0 ABORT, 1 COMMIT),
 *                   varint valueLength 6, value = int16 version 0, int32 coordinatorEpoch,
 *                   varint headerCount 0   (varints zigzag-encoded, as in every v2 record)
 *
 * A marker takes one offset: a transaction of N records moves the log end by N + 1.
 */
import { crc32c } from '../native/crc32c.js';
import { ABORT, COMMIT } from '../protocol/control-record.js';

/** A COMMIT or ABORT marker to write: the transaction's producer and the coordinator's epoch. */
export interface TxnMarker {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
}

const MARKER_BATCH_BYTES = 78;
const CRC_POSITION = 17;
const ATTRIBUTES_POSITION = 21;
/** isTransactional (bit 4) | isControl (bit 5); codec bits 0 (none), timestamp type bit 3 clear (CreateTime). */
const MARKER_ATTRIBUTES = 0x30;

/**
 * Kafka's control batch, byte for byte (layout above): attributes 0x30, baseSequence -1, one record
 * key int16 0,int16 type (0 ABORT, 1 COMMIT), value int16 0,int32 coordinatorEpoch.
 * `leaderEpoch` is the partitionLeaderEpoch field; PartitionLog.append overwrites it anyway.
 */
export function buildMarkerBatch(m: TxnMarker, timestamp: number, leaderEpoch = -1): Buffer {
  const b = Buffer.alloc(MARKER_BATCH_BYTES);
  b.writeBigInt64BE(0n, 0);
  b.writeInt32BE(MARKER_BATCH_BYTES - 12, 8);
  b.writeInt32BE(leaderEpoch, 12);
  b.writeInt8(2, 16);
  b.writeInt16BE(MARKER_ATTRIBUTES, ATTRIBUTES_POSITION);
  b.writeInt32BE(0, 23);
  b.writeBigInt64BE(BigInt(timestamp), 27);
  b.writeBigInt64BE(BigInt(timestamp), 35);
  b.writeBigInt64BE(BigInt(m.producerId), 43);
  b.writeInt16BE(m.producerEpoch, 51);
  b.writeInt32BE(-1, 53);
  b.writeInt32BE(1, 57);
  // The record. Single-byte zigzag varints: 16 -> 0x20, 0 -> 0x00, 4 -> 0x08, 6 -> 0x0c.
  let p = 61;
  for (const v of [0x20, 0x00, 0x00, 0x00, 0x08]) b[p++] = v;
  b.writeInt16BE(0, p); // key: version
  b.writeInt16BE(m.commit ? COMMIT : ABORT, p + 2); // key: type
  p += 4;
  b[p++] = 0x0c;
  b.writeInt16BE(0, p); // value: version
  b.writeInt32BE(m.coordinatorEpoch, p + 2);
  p += 6;
  b[p++] = 0x00; // headers
  b.writeUInt32BE(crc32c(b.subarray(ATTRIBUTES_POSITION)), CRC_POSITION);
  return b;
}
