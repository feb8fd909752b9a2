import { describe, expect, it } from 'vitest';
import {
  decodeGroupMetadataValue,
  decodeKey,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  javaStringHashCode,
  partitionFor,
  RecordType,
} from '../../../src/coordinator/records.js';

describe('group partitioning', () => {
  it("hashes like java.lang.String.hashCode", () => {
    expect(javaStringHashCode('')).toBe(0);
    expect(javaStringHashCode('a')).toBe(97);
    expect(javaStringHashCode('hello')).toBe(99162322);
    expect(javaStringHashCode('Hello World')).toBe(-862545276);
    // Famous for hashing to Integer.MIN_VALUE, where Math.abs would stay negative.
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648);
  });

  it("maps a group to abs(hash) % partitions with Kafka's abs (x & 0x7fffffff)", () => {
    expect(partitionFor('hello', 50)).toBe(99162322 % 50);
    expect(partitionFor('Hello World', 50)).toBe((-862545276 & 0x7fffffff) % 50);
    expect(partitionFor('polygenelubricants', 50)).toBe(0);
    expect(partitionFor('anything', 1)).toBe(0);
  });
});

describe('__consumer_offsets record formats', () => {
  it('writes the offset commit key as version 1: group, topic, partition', () => {
    const key = encodeOffsetCommitKey('g', 'tp', 7);
    expect(key.toString('hex')).toBe('0001' + '0001' + '67' + '0002' + '7470' + '00000007');
    expect(decodeKey(key)).toEqual({ type: RecordType.OffsetCommit, group: 'g', topic: 'tp', partition: 7 });
  });

  it('writes the group metadata key as version 2', () => {
    const key = encodeGroupMetadataKey('grp');
    expect(key.toString('hex')).toBe('0002' + '0003' + Buffer.from('grp').toString('hex'));
    expect(decodeKey(key)).toEqual({ type: RecordType.GroupMetadata, group: 'grp' });
  });

  it('writes the offset commit value as version 3: offset, leader epoch, metadata, commit timestamp', () => {
    const v = { offset: 42n, leaderEpoch: 5, metadata: 'm', commitTimestamp: 1700000000000, expireTimestamp: null };
    const buf = encodeOffsetCommitValue(v);
    const expected = Buffer.alloc(2 + 8 + 4 + 3 + 8);
    expected.writeInt16BE(3, 0);
    expected.writeBigInt64BE(42n, 2);
    expected.writeInt32BE(5, 10);
    expected.writeInt16BE(1, 14);
    expected.write('m', 16);
    expected.writeBigInt64BE(1700000000000n, 17);
    expect(buf).toEqual(expected);
    expect(decodeOffsetCommitValue(buf)).toEqual(v);
  });

  it('writes a commit with an explicit retention as version 1 with its expire timestamp', () => {
    const v = { offset: 1n, leaderEpoch: -1, metadata: '', commitTimestamp: 10, expireTimestamp: 20 };
    const buf = encodeOffsetCommitValue(v);
    expect(buf.readInt16BE(0)).toBe(1);
    expect(buf.length).toBe(2 + 8 + 2 + 8 + 8);
    expect(decodeOffsetCommitValue(buf)).toEqual(v);
  });

  it('reads version 0 and 2 offset values (written by older Kafka)', () => {
    const v0 = Buffer.alloc(2 + 8 + 2 + 8);
    v0.writeInt16BE(0, 0);
    v0.writeBigInt64BE(9n, 2);
    v0.writeInt16BE(0, 10);
    v0.writeBigInt64BE(77n, 12);
    expect(decodeOffsetCommitValue(v0)).toEqual({ offset: 9n, leaderEpoch: -1, metadata: '', commitTimestamp: 77, expireTimestamp: null });
    v0.writeInt16BE(2, 0);
    expect(decodeOffsetCommitValue(v0).commitTimestamp).toBe(77);
  });

  it('round-trips group metadata value version 3 with nullable fields and opaque bytes', () => {
    const v = {
      protocolType: 'consumer',
      generation: 12,
      protocol: 'range',
      leader: 'c-1',
      currentStateTimestamp: 1234,
      members: [
        { memberId: 'c-1', groupInstanceId: 'i1', clientId: 'c', clientHost: '/127.0.0.1', rebalanceTimeout: 300000, sessionTimeout: 10000, subscription: Buffer.from([0, 1, 2]), assignment: Buffer.from([9, 9]) },
        { memberId: 'c-2', groupInstanceId: null, clientId: 'c', clientHost: '/127.0.0.1', rebalanceTimeout: 1, sessionTimeout: 2, subscription: Buffer.alloc(0), assignment: Buffer.alloc(0) },
      ],
    };
    const buf = encodeGroupMetadataValue(v);
    expect(buf.readInt16BE(0)).toBe(3);
    expect(decodeGroupMetadataValue(buf)).toEqual(v);
    const empty = { protocolType: 'consumer', generation: 3, protocol: null, leader: null, currentStateTimestamp: 5, members: [] };
    const emptyBuf = encodeGroupMetadataValue(empty);
    // protocol and leader are written as int16 -1
    expect(emptyBuf.subarray(2 + 2 + 8 + 4, 2 + 2 + 8 + 4 + 4).toString('hex')).toBe('ffffffff');
    expect(decodeGroupMetadataValue(emptyBuf)).toEqual(empty);
  });

  it('rejects unknown key versions and truncated records', () => {
    expect(() => decodeKey(Buffer.from([0, 9, 0, 0]))).toThrow(/key version 9/);
    expect(() => decodeKey(encodeOffsetCommitKey('g', 't', 1).subarray(0, 8))).toThrow(/ends after/);
  });
});
