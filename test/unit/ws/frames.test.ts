import { describe, expect, it } from 'vitest';
import type { KafkaRecord } from '../../../src/native/records.js';
import {
  checkpointJson,
  decodeFrame,
  encodeCheckpointFrame,
  encodeGapFrame,
  encodeRecordsFrame,
  FRAME_HEADER_BYTES,
  FrameError,
  gapJson,
  recordFrameBytes,
  recordsJson,
  setFrameSubId,
} from '../../../src/ws/frames.js';
import { mulberry32 } from '../../prng.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function rec(offset: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: KafkaRecord['headers'] = []): KafkaRecord {
  return { offset, timestamp, key, value, headers };
}

/** Deterministic PRNG so a failing fuzz case reproduces. */

describe('records frames', () => {
  it('encodes the documented header and Kafka v2 record bytes', () => {
    const frame = encodeRecordsFrame({ subId: 7, topicIndex: 2, partition: 3 }, 100, [
      rec(5, 1000, null, b('v'), [{ key: 'hé', value: null }]),
      rec(9, 999, b('k'), null),
    ]);
    expect(frame).toEqual(
      hex(`
        01 01 0002 00000007 00000003
        0000000000000005 0000000000000064 00000000000003e8 00000002
        18 00 00 00 01 02 76 02 06 68c3a9 01
        0e 00 01 08 02 6b 01 00`),
    );
    // record 1: length 12, attributes, tsDelta 0, offsetDelta 0, key null (-1), value len 1 "v",
    // 1 header: key len 3 "hé", value null. record 2: length 7, tsDelta -1, offsetDelta 4, key "k",
    // value null, 0 headers.
  });

  it('round-trips null keys and values, headers, big offsets, negative deltas', () => {
    const big = 2 ** 53 - 100;
    const records = [
      rec(big, 1_733_400_000_000, b('key'), b('value'), [
        { key: 'trace-id', value: b('abc') },
        { key: 'empty', value: Buffer.alloc(0) },
        { key: 'nul', value: null },
        { key: '😀 ünï', value: hex('00ff80') },
      ]),
      rec(big + 1, 1_733_399_000_000, null, null), // tombstone, earlier timestamp
      rec(big + 90, 1_733_500_000_000, Buffer.alloc(0), Buffer.alloc(300, 7)),
      rec(big + 2, -1, b('k'), b('v')), // offsets out of order, timestamp -1 (none)
    ];
    const frame = encodeRecordsFrame({ subId: 0xffffffff, topicIndex: 0xffff, partition: 2 ** 31 - 1 }, 2 ** 53 - 1, records);
    expect(frame.length).toBe(FRAME_HEADER_BYTES + records.reduce((n, r) => n + recordFrameBytes(r, big, 1_733_400_000_000), 0));
    const decoded = decodeFrame(frame);
    expect(decoded).toEqual({
      kind: 'records',
      subId: 0xffffffff,
      topicIndex: 0xffff,
      partition: 2 ** 31 - 1,
      highWatermark: 2 ** 53 - 1,
      records,
    });
  });

  it('round-trips negative base timestamps and wide timestamp deltas', () => {
    const records = [rec(0, -5000, null, b('a')), rec(1, 2 ** 51, null, b('b')), rec(2, -(2 ** 51), null, b('c'))];
    const decoded = decodeFrame(encodeRecordsFrame({ subId: 1, topicIndex: 0, partition: 0 }, 3, records));
    expect(decoded.kind === 'records' && decoded.records).toEqual(records);
  });

  it('decodes from a Uint8Array that is a view into a larger buffer', () => {
    const frame = encodeRecordsFrame({ subId: 1, topicIndex: 0, partition: 0 }, 1, [rec(0, 1, b('k'), b('v'))]);
    const backing = new Uint8Array(frame.length + 10);
    backing.set(frame, 5);
    const decoded = decodeFrame(new Uint8Array(backing.buffer, 5, frame.length));
    expect(decoded.kind === 'records' && decoded.records[0]!.value).toEqual(b('v'));
  });

  it('sizes each record exactly, length prefix included', () => {
    const r = rec(10, 100, b('key'), Buffer.alloc(200), [{ key: 'é', value: b('x') }]);
    const one = encodeRecordsFrame({ subId: 1, topicIndex: 0, partition: 0 }, 11, [r]);
    expect(recordFrameBytes(r, 10, 100)).toBe(one.length - FRAME_HEADER_BYTES);
    // Against other bases the deltas (and their varints) grow.
    expect(recordFrameBytes(r, 0, 0)).toBe(recordFrameBytes(r, 10, 100) + 1);
  });

  it('refuses what it cannot encode', () => {
    const t = { subId: 1, topicIndex: 0, partition: 0 };
    expect(() => encodeRecordsFrame(t, 0, [])).toThrow(RangeError);
    expect(() => encodeRecordsFrame(t, 0, [rec(0, 0, null, null), rec(2 ** 32, 0, null, null)])).toThrow(RangeError);
    expect(() => encodeRecordsFrame(t, 0, [rec(0.5, 0, null, null)])).toThrow(RangeError);
    expect(() => encodeRecordsFrame({ ...t, partition: -1 }, 0, [rec(0, 0, null, null)])).toThrow(RangeError);
    expect(() => encodeRecordsFrame({ ...t, topicIndex: 65536 }, 0, [rec(0, 0, null, null)])).toThrow(RangeError);
    expect(() => encodeRecordsFrame(t, 2 ** 53, [rec(0, 0, null, null)])).toThrow(RangeError);
  });

  it('setFrameSubId retargets an encoded frame in place', () => {
    const frame = encodeRecordsFrame({ subId: 1, topicIndex: 0, partition: 4 }, 9, [rec(8, 0, null, b('x'))]);
    setFrameSubId(frame, 123456);
    const decoded = decodeFrame(frame);
    expect(decoded.kind === 'records' && [decoded.subId, decoded.partition]).toEqual([123456, 4]);
  });
});

describe('gap and checkpoint frames', () => {
  it('round-trips a gap for each reason', () => {
    for (const reason of ['retention', 'skipped', 'conflated'] as const) {
      const frame = encodeGapFrame({ subId: 3, topicIndex: 1, partition: 5 }, 10, 2 ** 53 - 1, reason);
      expect(frame.length).toBe(FRAME_HEADER_BYTES);
      expect(frame[1]).toBe(2);
      expect(decodeFrame(frame)).toEqual({ kind: 'gap', subId: 3, topicIndex: 1, partition: 5, from: 10, to: 2 ** 53 - 1, reason });
    }
  });

  it('round-trips a checkpoint with partition -1 and the cursor as its body', () => {
    const frame = encodeCheckpointFrame(9, 'AaGyw9QA_-');
    expect(frame.readInt32BE(8)).toBe(-1);
    expect(frame.readUInt32BE(36)).toBe(10);
    expect(frame.subarray(FRAME_HEADER_BYTES).toString('latin1')).toBe('AaGyw9QA_-');
    expect(decodeFrame(frame)).toEqual({ kind: 'checkpoint', subId: 9, cursor: 'AaGyw9QA_-' });
    expect(() => encodeCheckpointFrame(9, 'é')).toThrow(RangeError);
  });
});

describe('decodeFrame on malformed input', () => {
  const valid = encodeRecordsFrame({ subId: 1, topicIndex: 0, partition: 0 }, 3, [
    rec(0, 10, b('k'), b('v'), [{ key: 'h', value: b('x') }]),
    rec(1, 11, null, null),
  ]);

  it('refuses every truncation and any trailing byte', () => {
    for (let n = 0; n < valid.length; n++) expect(() => decodeFrame(valid.subarray(0, n)), `length ${n}`).toThrow(FrameError);
    expect(() => decodeFrame(Buffer.concat([valid, Buffer.from([0])]))).toThrow(FrameError);
    const gap = encodeGapFrame({ subId: 1, topicIndex: 0, partition: 0 }, 0, 1, 'skipped');
    expect(() => decodeFrame(Buffer.concat([gap, Buffer.from([0])]))).toThrow(FrameError);
  });

  it('names what is wrong', () => {
    const withVersion = Buffer.from(valid);
    withVersion[0] = 2;
    expect(() => decodeFrame(withVersion)).toThrow(/version 2/);
    const withKind = Buffer.from(valid);
    withKind[1] = 9;
    expect(() => decodeFrame(withKind)).toThrow(/kind 9/);
    const hugeCount = Buffer.from(valid);
    hugeCount.writeUInt32BE(0xffffffff, 36);
    expect(() => decodeFrame(hugeCount)).toThrow(/count/);
    const beyond = Buffer.from(valid);
    beyond.writeUInt32BE(0x00200000, 12); // baseOffset = 2^53
    expect(() => decodeFrame(beyond)).toThrow(/beyond 2\^53/);
    const gap = encodeGapFrame({ subId: 1, topicIndex: 0, partition: 0 }, 0, 1, 'skipped');
    gap.writeUInt32BE(4, 36);
    expect(() => decodeFrame(gap)).toThrow(/gap reason 4/);
  });

  it('refuses overlong varints and varlongs beyond 2^53', () => {
    const header = Buffer.from(valid.subarray(0, FRAME_HEADER_BYTES));
    header.writeUInt32BE(1, 36);
    // A record length as a 6-byte varint.
    expect(() => decodeFrame(Buffer.concat([header, hex('ffffffffff01'), Buffer.alloc(8)]))).toThrow(/varint/);
    // length 11: attributes, then a timestampDelta varlong of 2^56 (8 continuation bytes + 01).
    expect(() => decodeFrame(Buffer.concat([header, hex('16 00 8080808080808080 01 00')]))).toThrow(/varlong/);
  });

  it('never throws anything but FrameError, and stays fast, on 10,000 mutations and random bytes', () => {
    const seeds = [
      valid,
      encodeGapFrame({ subId: 1, topicIndex: 0, partition: 0 }, 0, 1, 'retention'),
      encodeCheckpointFrame(1, 'AQ'),
      encodeRecordsFrame({ subId: 2, topicIndex: 1, partition: 1 }, 2 ** 40, [
        rec(2 ** 40, 2 ** 41, Buffer.alloc(40, 1), Buffer.alloc(100, 2), [{ key: 'a', value: b('b') }, { key: 'c', value: null }]),
        rec(2 ** 40 + 5, 2 ** 41 - 100, null, b('z')),
      ]),
    ];
    const random = mulberry32(1);
    const int = (n: number): number => Math.floor(random() * n);
    const started = Date.now();
    let decodedOk = 0;
    for (let i = 0; i < 10_000; i++) {
      let input: Buffer;
      if (i % 10 === 9) {
        input = Buffer.from(Array.from({ length: int(200) }, () => int(256)));
        if (input.length > 1 && random() < 0.5) input[0] = 1; // get past the version check
      } else {
        input = Buffer.from(seeds[i % seeds.length]!);
        const mutations = 1 + int(4);
        for (let m = 0; m < mutations; m++) {
          const what = int(3);
          if (what === 0 && input.length > 0) input[int(input.length)] = int(256);
          else if (what === 1) input = input.subarray(0, int(input.length + 1));
          else input = Buffer.concat([input, Buffer.from([int(256)])]);
        }
      }
      try {
        decodeFrame(input);
        decodedOk++;
      } catch (err) {
        if (!(err instanceof FrameError)) throw new Error(`input ${input.toString('hex')} threw ${String(err)}`);
      }
    }
    expect(decodedOk).toBeGreaterThan(0); // some mutations (payload bytes) stay valid
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('JSON frames', () => {
  const t = { subId: 1, topic: 'orders', partition: 0 };

  it('renders records with utf8 keys, header objects and tombstones', () => {
    const json = recordsJson(
      t,
      100,
      [
        rec(42, 1733400000000, b('k'), b('v "quoted"\n'), [{ key: 'h', value: b('x') }, { key: 'gone', value: null }]),
        rec(43, 1733400000001, b('k'), null),
      ],
      'utf8',
    );
    expect(json).toBe(
      '{"op":"records","sub":1,"topic":"orders","partition":0,"highWatermark":100,"records":[' +
        '{"offset":42,"timestamp":1733400000000,"key":"k","value":"v \\"quoted\\"\\n","headers":{"h":"x","gone":null}},' +
        '{"offset":43,"timestamp":1733400000001,"key":"k","value":null,"delete":true,"headers":{}}],"encoding":"utf8"}',
    );
    expect(JSON.parse(json).records[1].delete).toBe(true);
  });

  it('renders binary as base64 when asked, null keys as null', () => {
    const json = recordsJson(t, 1, [rec(0, 0, null, hex('00ff'), [{ key: 'bin', value: hex('80') }])], 'base64');
    const parsed = JSON.parse(json);
    expect(parsed.encoding).toBe('base64');
    expect(parsed.records[0]).toEqual({ offset: 0, timestamp: 0, key: null, value: 'AP8=', headers: { bin: 'gA==' } });
  });

  it('renders gap and checkpoint frames', () => {
    expect(JSON.parse(gapJson(t, 0, 100, 'retention'))).toEqual({ op: 'gap', sub: 1, topic: 'orders', partition: 0, from: 0, to: 100, reason: 'retention' });
    expect(checkpointJson(4, 'AQ')).toBe('{"op":"checkpoint","sub":4,"cursor":"AQ"}');
  });
});
