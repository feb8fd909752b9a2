import { describe, expect, it } from 'vitest';
import { partitionFor, RecordFormatError } from '../../../src/coordinator/records.js';
import {
  decodeTxnKey,
  decodeTxnValue,
  encodeTxnKey,
  encodeTxnValue,
  TxnState,
  txnPartitionFor,
  type TxnLogValue,
} from '../../../src/coordinator/transactions/records.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('__transaction_state records', () => {
  it('partitions transactional ids like Kafka: abs(String.hashCode) % n', () => {
    expect(txnPartitionFor('hello', 50)).toBe(99162322 % 50);
    expect(txnPartitionFor('polygenelubricants', 50)).toBe(0);
    expect(txnPartitionFor('Hello World', 7)).toBe(partitionFor('Hello World', 7));
  });

  it('writes the key as int16 0 (TRANSACTION_LOG) and the id', () => {
    expect(encodeTxnKey('t1')).toEqual(hex('0000 0002 7431'));
    expect(decodeTxnKey(hex('0000 0002 7431'))).toBe('t1');
  });

  it('writes value v0 byte for byte, with the partitions grouped by topic', () => {
    const v: TxnLogValue = {
      producerId: 5,
      producerEpoch: 2,
      timeoutMs: 60_000,
      state: TxnState.Ongoing,
      partitions: [
        { topic: 'a', partitions: [0, 1] },
        { topic: 'bc', partitions: [7] },
      ],
      lastUpdateMs: 1000,
      startMs: 900,
    };
    const bytes = hex(`
      0000                              # version 0
      0000000000000005                  # producer id
      0002                              # epoch
      0000ea60                          # timeout 60000
      01                                # Ongoing
      00000002                          # 2 topics
        0001 61   00000002 00000000 00000001   # "a" [0, 1]
        0002 6263 00000001 00000007            # "bc" [7]
      00000000000003e8                  # last update
      0000000000000384                  # start
    `.replace(/#.*$/gm, ''));
    expect(encodeTxnValue(v)).toEqual(bytes);
    expect(decodeTxnValue(bytes)).toEqual(v);
  });

  it('writes a null partition array for Empty, as Kafka does', () => {
    const v: TxnLogValue = { producerId: 1, producerEpoch: 0, timeoutMs: 1, state: TxnState.Empty, partitions: [], lastUpdateMs: 2, startMs: -1 };
    const bytes = hex('0000 0000000000000001 0000 00000001 00 ffffffff 0000000000000002 ffffffffffffffff');
    expect(encodeTxnValue(v)).toEqual(bytes);
    expect(decodeTxnValue(bytes)).toEqual(v);
    expect(() => encodeTxnValue({ ...v, partitions: [{ topic: 'a', partitions: [0] }] })).toThrow(/Empty/);
  });

  it('keeps an empty (not null) array for the other states and round-trips every state', () => {
    for (let s = TxnState.Ongoing; s <= TxnState.PrepareEpochFence; s++) {
      const v: TxnLogValue = { producerId: 2 ** 40, producerEpoch: 32767, timeoutMs: 900_000, state: s, partitions: [], lastUpdateMs: 1_700_000_000_000, startMs: 1_699_999_999_000 };
      const bytes = encodeTxnValue(v);
      expect(bytes.readInt32BE(2 + 8 + 2 + 4 + 1)).toBe(0);
      expect(decodeTxnValue(bytes)).toEqual(v);
    }
  });

  it('refuses other key types, value versions, states and truncated records', () => {
    expect(() => decodeTxnKey(hex('0001 0002 7431'))).toThrow(RecordFormatError);
    expect(() => decodeTxnKey(hex('0000 0005 7431'))).toThrow(RecordFormatError);
    const good = encodeTxnValue({ producerId: 1, producerEpoch: 0, timeoutMs: 1, state: TxnState.CompleteCommit, partitions: [], lastUpdateMs: 2, startMs: 3 });
    const v1 = Buffer.from(good);
    v1.writeInt16BE(1, 0);
    expect(() => decodeTxnValue(v1)).toThrow(/version 1/);
    const badState = Buffer.from(good);
    badState.writeInt8(9, 16);
    expect(() => decodeTxnValue(badState)).toThrow(/state 9/);
    expect(() => decodeTxnValue(good.subarray(0, good.length - 1))).toThrow(RecordFormatError);
  });
});
