import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { decodeBinaryFrame, decodeJsonFrame, fromBase64, toBase64, type BrookRecord } from '../../../src/client/frames.js';
import type { KafkaRecord } from '../../../src/native/records.js';
import { checkpointJson, encodeCheckpointFrame, encodeGapFrame, encodeRecordsFrame, gapJson, recordsJson } from '../../../src/ws/frames.js';

const records: KafkaRecord[] = [
  { offset: 5_000_000_000, timestamp: 1_733_400_000_000, key: Buffer.from('k1'), value: Buffer.from('héllo'), headers: [] },
  // Offsets need not be consecutive (compaction, filters); timestamps may go backwards.
  { offset: 5_000_000_007, timestamp: 1_733_399_999_000, key: null, value: null, headers: [{ key: 'trace', value: Buffer.from([0, 255]) }] },
  {
    offset: 5_000_300_000,
    timestamp: 1_733_400_000_000 + 2 ** 40,
    key: Buffer.alloc(300, 7),
    value: Buffer.alloc(20_000, 1),
    headers: [
      { key: 'ünï', value: null },
      { key: '', value: Buffer.from('x') },
    ],
  },
];

function plain(r: BrookRecord) {
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key === null ? null : Buffer.from(r.key),
    value: r.value === null ? null : Buffer.from(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value) })),
    deleted: r.deleted,
  };
}

const expected = records.map((r) => ({ ...r, topic: 'orders', partition: 3, deleted: r.value === null }));

describe('decodeBinaryFrame', () => {
  it('decodes a records frame from the server encoder: offsets past 2^32, deltas, tombstones, headers', () => {
    const frame = encodeRecordsFrame({ subId: 9, topicIndex: 1, partition: 3 }, 5_000_400_000, records);
    const topics = ['other', 'orders'];
    const f = decodeBinaryFrame(frame, (sub, i) => (sub === 9 ? topics[i]! : '?'));
    expect(f.kind).toBe('records');
    if (f.kind !== 'records') return;
    expect(f.sub).toBe(9);
    expect(f.highWatermark).toBe(5_000_400_000);
    expect(f.records.map(plain)).toEqual(expected);
    expect(f.records[0]!.text()).toBe('héllo');
    expect(f.records[1]!.text()).toBeNull();
  });

  it('accepts an ArrayBuffer and a view that does not start at byte 0', () => {
    const frame = encodeRecordsFrame({ subId: 1, topicIndex: 0, partition: 3 }, 0, records.slice(0, 1));
    const arrayBuffer = new Uint8Array(frame).buffer;
    const decoded = decodeBinaryFrame(arrayBuffer, () => 'orders');
    expect(decoded.kind === 'records' && decoded.records.map(plain)).toEqual(expected.slice(0, 1));
    const padded = new Uint8Array(frame.length + 13);
    padded.set(frame, 13);
    const fromView = decodeBinaryFrame(padded.subarray(13), () => 'orders');
    expect(fromView.kind === 'records' && fromView.records.map(plain)).toEqual(expected.slice(0, 1));
  });

  it('decodes gap and checkpoint frames', () => {
    expect(decodeBinaryFrame(encodeGapFrame({ subId: 2, topicIndex: 0, partition: 1 }, 10, 4_294_967_300, 'retention'), () => 't')).toEqual({
      kind: 'gap',
      sub: 2,
      topic: 't',
      partition: 1,
      from: 10,
      to: 4_294_967_300,
      reason: 'retention',
    });
    expect(decodeBinaryFrame(encodeGapFrame({ subId: 2, topicIndex: 0, partition: 1 }, 1, 2, 'conflated')).kind).toBe('gap');
    expect(decodeBinaryFrame(encodeCheckpointFrame(77, 'AbC-_09'))).toEqual({ kind: 'checkpoint', sub: 77, cursor: 'AbC-_09' });
  });

  it('matches a frame built by hand from the doc table', () => {
    // Header: version 1, kind 1, topicIndex 0, subId 4, partition 2, baseOffset 100, hw 102,
    // baseTimestamp 1000, count 1; record: length, attributes 0, tsDelta 3 (zigzag 6), offsetDelta 1
    // (zigzag 2), key null (zigzag -1 = 1), value "ab" (zigzag 2 = 4), headerCount 0.
    const header = new DataView(new ArrayBuffer(40));
    header.setUint8(0, 1);
    header.setUint8(1, 1);
    header.setUint32(4, 4);
    header.setInt32(8, 2);
    header.setBigInt64(12, 100n);
    header.setBigInt64(20, 102n);
    header.setBigInt64(28, 1000n);
    header.setUint32(36, 1);
    const body = [0, 6, 2, 1, 4, 0x61, 0x62, 0];
    const frame = new Uint8Array([...new Uint8Array(header.buffer), body.length * 2, ...body]);
    const f = decodeBinaryFrame(frame, () => 't');
    expect(f.kind === 'records' && f.records.map(plain)).toEqual([
      { topic: 't', partition: 2, offset: 101, timestamp: 1003, key: null, value: Buffer.from('ab'), headers: [], deleted: false },
    ]);
  });

  it('throws RangeError on truncated or unknown frames', () => {
    const frame = encodeRecordsFrame({ subId: 1, topicIndex: 0, partition: 0 }, 0, records);
    expect(() => decodeBinaryFrame(frame.subarray(0, frame.length - 1))).toThrow(RangeError);
    expect(() => decodeBinaryFrame(frame.subarray(0, 39))).toThrow(RangeError);
    const badKind = Buffer.from(frame);
    badKind[1] = 9;
    expect(() => decodeBinaryFrame(badKind)).toThrow(RangeError);
    const badVersion = Buffer.from(frame);
    badVersion[0] = 2;
    expect(() => decodeBinaryFrame(badVersion)).toThrow(RangeError);
  });
});

describe('decodeJsonFrame', () => {
  const target = { subId: 5, topic: 'orders', partition: 3 };
  for (const encoding of ['utf8', 'base64'] as const) {
    it(`decodes the server's records frame (${encoding})`, () => {
      const textual = records.map((r) => ({
        ...r,
        headers: r.headers.map((h) => ({ ...h, value: h.value && encoding === 'utf8' ? Buffer.from('text') : h.value })),
      }));
      const f = decodeJsonFrame(JSON.parse(recordsJson(target, 9, textual, encoding)) as { op: string });
      expect(f?.kind).toBe('records');
      if (f?.kind !== 'records') return;
      expect(f.sub).toBe(5);
      expect(f.highWatermark).toBe(9);
      expect(f.records.map(plain)).toEqual(textual.map((r) => ({ ...r, topic: 'orders', partition: 3, deleted: r.value === null })));
    });
  }

  it('decodes gap and checkpoint frames and ignores control messages', () => {
    expect(decodeJsonFrame(JSON.parse(gapJson(target, 1, 7, 'skipped')) as { op: string })).toEqual({
      kind: 'gap',
      sub: 5,
      topic: 'orders',
      partition: 3,
      from: 1,
      to: 7,
      reason: 'skipped',
    });
    expect(decodeJsonFrame(JSON.parse(checkpointJson(5, 'c1')) as { op: string })).toEqual({ kind: 'checkpoint', sub: 5, cursor: 'c1' });
    expect(decodeJsonFrame({ op: 'ok', id: 1 })).toBeUndefined();
  });
});

it('base64 helpers round-trip every byte value, in both alphabets', () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  expect(toBase64(all)).toBe(Buffer.from(all).toString('base64'));
  expect(fromBase64(Buffer.from(all).toString('base64url'))).toEqual(all);
});

it('src/client compiles for a browser: ES2020 and DOM libraries, no Node types (no Buffer, no node: imports)', () => {
  const root = fileURLToPath(new URL('../../../src/client/', import.meta.url));
  const program = ts.createProgram([`${root}index.ts`], {
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.ES2020,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2020.d.ts', 'lib.dom.d.ts'],
    types: [],
    strict: true,
    noEmit: true,
  });
  expect(program.getSourceFiles().filter((f) => !f.isDeclarationFile).map((f) => f.fileName.slice(root.length)).sort()).toEqual(['frames.ts', 'index.ts']);
  const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  expect(errors).toEqual([]);
});
