/**
 * The records Brook writes to `__consumer_offsets`, in Apache Kafka's own formats, so Kafka's
 * tools (kafka-console-consumer with the offsets formatters, kafka-dump-log --offsets-decoder)
 * could read a Brook data directory, and so the topic compacts by key like Kafka's: the latest
 * record per key wins and a null value (tombstone) deletes the key.
 *
 * Every key and value starts with an int16 version. Keys are never flexible; the values below are
 * the newest non-flexible versions (Kafka's flexible v4/v5 add only tagged fields). Strings are
 * int16 length + UTF-8 (-1 = null where nullable), bytes int32 length + bytes, arrays int32 count.
 *
 *   Offset commit key, version 1 (Kafka's OffsetCommitKey; versions 0 and 1 share the layout)
 *     version     int16   1
 *     group       string
 *     topic       string
 *     partition   int32
 *
 *   Offset commit value, version 3 (OffsetCommitValue)
 *     version          int16   3
 *     offset           int64
 *     leader_epoch     int32   -1 when the client sent none
 *     metadata         string  (never null: Kafka writes "" for a null commit metadata)
 *     commit_timestamp int64   ms
 *   or, for a commit with an explicit retention (OffsetCommit v2-4 retention_time_ms), version 1,
 *   the only version with an expiry, as Kafka does:
 *     version          int16   1
 *     offset           int64
 *     metadata         string
 *     commit_timestamp int64
 *     expire_timestamp int64   ms
 *
 *   Group metadata key, version 2 (GroupMetadataKey)
 *     version     int16   2
 *     group       string
 *
 *   Group metadata value, version 3 (GroupMetadataValue)
 *     version                  int16   3
 *     protocol_type            string
 *     generation               int32
 *     protocol                 string?  null while the group is Empty
 *     leader                   string?
 *     current_state_timestamp  int64    ms; -1 unknown
 *     members                  [MemberMetadata]
 *       member_id              string
 *       group_instance_id      string?
 *       client_id              string
 *       client_host            string
 *       rebalance_timeout      int32
 *       session_timeout        int32
 *       subscription           bytes    the member's metadata for the selected protocol
 *       assignment             bytes    what the leader assigned it, byte for byte
 *
 * TxnOffsetCommit writes the same offset commit records (value version 3, never with an expiry),
 * but in a transactional batch of the producer (producer id and epoch, transactional attribute
 * bit, no sequence); whether they count is decided by the transaction's COMMIT or ABORT marker
 * later in the same partition (coordinator.ts). Kafka writes them the same way.
 *
 * The key version tells the record type apart: 0 and 1 are offset commits, 2 is group metadata
 * (Kafka's GroupCoordinatorRecordSerde reads it as the record's "api key"). Decoders accept the
 * value versions Kafka may have written (offset v0-v4, group v0-v3); trailing bytes (tagged
 * fields of flexible versions) are ignored.
 */
import { Writer } from '../protocol/writer.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

export const enum RecordType {
  OffsetCommit = 1,
  GroupMetadata = 2,
}

export interface OffsetCommitKey {
  type: RecordType.OffsetCommit;
  group: string;
  topic: string;
  partition: number;
}

export interface GroupMetadataKey {
  type: RecordType.GroupMetadata;
  group: string;
}

export type RecordKey = OffsetCommitKey | GroupMetadataKey;

export interface OffsetCommitValue {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** An explicit expiry (OffsetCommit v2-4 retention_time_ms); null: offsets.retention.minutes. */
  expireTimestamp: number | null;
}

export interface MemberMetadataValue {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeout: number;
  sessionTimeout: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupMetadataValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: number;
  members: MemberMetadataValue[];
}

/** Kafka's partitioning of groups: Utils.abs(groupId.hashCode()) % partitions, abs = x & 0x7fffffff. */
export function partitionFor(groupId: string, partitions: number): number {
  return (javaStringHashCode(groupId) & 0x7fffffff) % partitions;
}

/** java.lang.String.hashCode: s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units, int32 wrap-around. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

// ------------------------------------------------------------------------------------ encoding
// Kafka's primitive types, written by the protocol codec's Writer (the same STRING, BYTES, INT*).

export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  const w = new Writer();
  w.int16(1);
  w.string(group);
  w.string(topic);
  w.int32(partition);
  return w.toBuffer();
}

export function encodeGroupMetadataKey(group: string): Buffer {
  const w = new Writer();
  w.int16(2);
  w.string(group);
  return w.toBuffer();
}

export function encodeOffsetCommitValue(v: OffsetCommitValue): Buffer {
  const w = new Writer();
  if (v.expireTimestamp !== null) {
    w.int16(1);
    w.int64(v.offset);
    w.string(v.metadata);
    w.int64(v.commitTimestamp);
    w.int64(v.expireTimestamp);
  } else {
    w.int16(3);
    w.int64(v.offset);
    w.int32(v.leaderEpoch);
    w.string(v.metadata);
    w.int64(v.commitTimestamp);
  }
  return w.toBuffer();
}

export function encodeGroupMetadataValue(v: GroupMetadataValue): Buffer {
  const w = new Writer();
  w.int16(3);
  w.string(v.protocolType);
  w.int32(v.generation);
  w.nullableString(v.protocol);
  w.nullableString(v.leader);
  w.int64(v.currentStateTimestamp);
  w.int32(v.members.length);
  for (const m of v.members) {
    w.string(m.memberId);
    w.nullableString(m.groupInstanceId);
    w.string(m.clientId);
    w.string(m.clientHost);
    w.int32(m.rebalanceTimeout);
    w.int32(m.sessionTimeout);
    w.bytes(m.subscription);
    w.bytes(m.assignment);
  }
  return w.toBuffer();
}

// ------------------------------------------------------------------------------------ decoding

export class RecordFormatError extends Error {
  override name = 'RecordFormatError';
}

/**
 * Reading does not use the protocol's Reader: a stored record wants its own strictness (a null
 * where a string is required is an error; any negative length reads as null or empty) and bytes
 * copied out (the input is a read buffer the caller reuses), and its failures are
 * RecordFormatError, which the coordinator's replay counts and skips. The transaction coordinator
 * reads `__transaction_state` records with it too.
 */
export class StoredRecordReader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RecordFormatError(`record ends after ${this.buf.length} bytes, needed ${this.pos + n}`);
  }
  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }
  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  nullableString(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  string(): string {
    const s = this.nullableString();
    if (s === null) throw new RecordFormatError('null where a string is required');
    return s;
  }
  bytes(): Buffer {
    const n = this.int32();
    if (n < 0) return Buffer.alloc(0);
    this.need(n);
    // Copied: the input is a view of a read buffer the caller may reuse.
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }
}

export function decodeKey(buf: Buffer): RecordKey {
  const r = new StoredRecordReader(buf);
  const version = r.int16();
  if (version === 0 || version === 1) return { type: RecordType.OffsetCommit, group: r.string(), topic: r.string(), partition: r.int32() };
  if (version === 2) return { type: RecordType.GroupMetadata, group: r.string() };
  throw new RecordFormatError(`unknown __consumer_offsets key version ${version}`);
}

export function decodeOffsetCommitValue(buf: Buffer): OffsetCommitValue {
  const r = new StoredRecordReader(buf);
  const version = r.int16();
  if (version < 0 || version > 4) throw new RecordFormatError(`unknown offset commit value version ${version}`);
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  if (version >= 4) {
    // Flexible: compact string (uvarint length + 1). Kafka 3.x+ may write it; read it too.
    const { value: len, size } = uvarint(buf, r.pos);
    r.pos += size;
    const n = len - 1;
    const metadata = n < 0 ? '' : buf.toString('utf8', r.pos, r.pos + n);
    r.pos += Math.max(n, 0);
    return { offset, leaderEpoch, metadata, commitTimestamp: Number(r.int64()), expireTimestamp: null };
  }
  const metadata = r.nullableString() ?? '';
  const commitTimestamp = Number(r.int64());
  const expireTimestamp = version === 1 ? Number(r.int64()) : null;
  return { offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp };
}

export function decodeGroupMetadataValue(buf: Buffer): GroupMetadataValue {
  const r = new StoredRecordReader(buf);
  const version = r.int16();
  if (version < 0 || version > 3) throw new RecordFormatError(`unsupported group metadata value version ${version}`);
  const protocolType = r.string();
  const generation = r.int32();
  const protocol = r.nullableString();
  const leader = r.nullableString();
  const currentStateTimestamp = version >= 2 ? Number(r.int64()) : -1;
  const count = r.int32();
  const members: MemberMetadataValue[] = [];
  for (let i = 0; i < count; i++) {
    const memberId = r.string();
    const groupInstanceId = version >= 3 ? r.nullableString() : null;
    const clientId = r.string();
    const clientHost = r.string();
    // v0 has only the session timeout; v1+ the rebalance timeout first.
    const first = r.int32();
    const rebalanceTimeout = first;
    const sessionTimeout = version >= 1 ? r.int32() : first;
    members.push({ memberId, groupInstanceId, clientId, clientHost, rebalanceTimeout, sessionTimeout, subscription: r.bytes(), assignment: r.bytes() });
  }
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
}

function uvarint(buf: Buffer, pos: number): { value: number; size: number } {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (pos + i >= buf.length) throw new RecordFormatError('truncated varint');
    const b = buf[pos + i]!;
    value |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) === 0) return { value: value >>> 0, size: i + 1 };
  }
  throw new RecordFormatError('varint longer than 5 bytes');
}
