/**
 * dump-log's reading of segment files, on batches built here: the cases a broker fed by kcat does not
 * produce (control markers, LogAppendTime, delete horizons, sequence wrap-around, Kafka's
 * preallocated index files, short and corrupt tails). The CLI end to end: test/integration/cli-dump-log.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dumpIndex, dumpLog, type DumpOptions, type Sink } from '../../../src/cli/dump-log/dump.js';
import { incrementSequence, readOffsetIndex, readTimeIndex } from '../../../src/cli/dump-log/segment.js';
import { crc32c } from '../../../src/native/crc32c.js';
import { buildBatch } from '../../../src/native/records.js';

const dir = mkdtempSync(join(tmpdir(), 'brook-dump-log-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OPTS: DumpOptions = { json: false, printDataLog: false, deepIteration: false, skipRecordMetadata: false, verifyIndexOnly: false, indexSanityCheck: false, maxBytes: undefined };

function capture(fn: (sink: Sink) => unknown) {
  const out: string[] = [];
  const err: string[] = [];
  let partial = '';
  const result = fn({ out: (l) => (out.push(partial + l), (partial = '')), write: (t) => (partial += t), err: (l) => err.push(l) });
  return { out, err, result };
}

let n = 0;
function segment(bytes: Buffer, name = `${String(n++).padStart(20, '0')}.log`): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Sets attribute bits of a built batch and recomputes its CRC-32C over [21, end). */
function withAttributes(batch: Buffer, bits: number): Buffer {
  batch.writeUInt16BE(batch.readUInt16BE(21) | bits, 21);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

describe('dump-log segment reading', () => {
  it('prints COMMIT and ABORT markers of control batches as Kafka does, without key or payload', () => {
    // Control record: key int16 version, int16 type (0 ABORT, 1 COMMIT); value int16 version, int32 coordinatorEpoch.
    const key = (type: number) => Buffer.from([0, 0, 0, type]);
    const value = Buffer.from([0, 0, 0, 0, 0, 7]);
    const batch = buildBatch({ records: [{ key: key(1), value, timestamp: 1000 }], isControl: true, isTransactional: true, producerId: 42, producerEpoch: 3, baseOffset: 5, partitionLeaderEpoch: 2 });
    const abort = buildBatch({ records: [{ key: key(0), value, timestamp: 1001 }], isControl: true, isTransactional: true, producerId: 42, producerEpoch: 3, baseOffset: 6 });
    const path = segment(Buffer.concat([batch, abort]), '00000000000000000005.log');
    const { out } = capture((sink) => dumpLog(path, { ...OPTS, printDataLog: true }, sink));
    expect(out[0]).toBe('Log starting offset: 5');
    expect(out[1]).toMatch(/^baseOffset: 5 lastOffset: 5 count: 1 baseSequence: -1 lastSequence: -1 producerId: 42 producerEpoch: 3 partitionLeaderEpoch: 2 isTransactional: true isControl: true deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1000 size: \d+ magic: 2 compresscodec: none crc: \d+ isvalid: true$/);
    expect(out[2]).toBe('| offset: 5 CreateTime: 1000 keySize: 4 valueSize: 6 sequence: -1 headerKeys: [] endTxnMarker: COMMIT coordinatorEpoch: 7');
    expect(out[4]).toBe('| offset: 6 CreateTime: 1001 keySize: 4 valueSize: 6 sequence: -1 headerKeys: [] endTxnMarker: ABORT coordinatorEpoch: 7');
  });

  it('shows LogAppendTime batches with the append time on every record, and a delete horizon', () => {
    const lat = buildBatch({ records: [{ value: 'a', timestamp: 1 }, { value: 'b', timestamp: 2 }], timestampType: 'LogAppendTime', logAppendTime: 5000 });
    const compacted = withAttributes(buildBatch({ records: [{ key: 'k', value: null, timestamp: 7000 }], baseOffset: 2 }), 0x40);
    const path = segment(Buffer.concat([lat, compacted]));
    const { out } = capture((sink) => dumpLog(path, { ...OPTS, printDataLog: true }, sink));
    expect(out[1]).toContain(' LogAppendTime: 5000 ');
    expect(out[2]).toBe('| offset: 0 LogAppendTime: 5000 keySize: -1 valueSize: 1 sequence: -1 headerKeys: [] payload: a');
    // KIP-534: with attribute bit 6 the base timestamp is the delete horizon. A tombstone has no payload.
    expect(out[4]).toContain(' deleteHorizonMs: OptionalLong[7000] ');
    expect(out[5]).toBe('| offset: 2 CreateTime: 7000 keySize: 1 valueSize: -1 sequence: -1 headerKeys: [] key: k');
  });

  it("prints only key and payload with --skip-record-metadata, Kafka's spacing included", () => {
    const path = segment(buildBatch({ records: [{ key: 'k', value: 'v' }, { value: 'w' }, { key: 'n', value: null }] }));
    const { out } = capture((sink) => dumpLog(path, { ...OPTS, printDataLog: true, skipRecordMetadata: true }, sink));
    expect(out.slice(2)).toEqual(['| key: k payload: v', ' payload: w', '| key: n']);
  });

  it('wraps sequences past Integer.MAX_VALUE as Kafka does', () => {
    expect(incrementSequence(5, 3)).toBe(8);
    expect(incrementSequence(0x7fffffff, 1)).toBe(0);
    expect(incrementSequence(0x7ffffffe, 4)).toBe(2);
    const path = segment(buildBatch({ records: [{ value: 'a' }, { value: 'b' }, { value: 'c' }], producerId: 1, producerEpoch: 0, baseSequence: 0x7ffffffe }));
    const { out } = capture((sink) => dumpLog(path, { ...OPTS, deepIteration: true }, sink));
    expect(out[1]).toContain(' baseSequence: 2147483646 lastSequence: 0 ');
    expect(out.slice(2).map((l) => l.match(/sequence: (-?\d+)/)![1])).toEqual(['2147483646', '2147483647', '0']);
  });

  it('treats a tail shorter than a batch header as trailing bytes, and a too-short batch length as corrupt', () => {
    const good = buildBatch({ records: [{ value: 'a' }] });
    const short = segment(Buffer.concat([good, Buffer.alloc(10, 1)]));
    const a = capture((sink) => dumpLog(short, OPTS, sink));
    expect(a.result).toEqual({ failed: false, mismatches: 0 });
    expect(a.out.at(-1)).toMatch(/^Found 10 invalid bytes at the end of \d+\.log$/);

    const bad = Buffer.from(good);
    bad.writeInt32BE(20, 8); // batchLength 20: 32 bytes in all, under the 61-byte header
    const corrupt = segment(Buffer.concat([good, bad]));
    const b = capture((sink) => dumpLog(corrupt, OPTS, sink));
    expect(b.result).toEqual({ failed: true, mismatches: 0 });
    expect(b.err).toEqual([`brook dump-log: ${corrupt}: corrupt data at position ${good.length} (batch size 32 is below the 61-byte batch header); the ${good.length} bytes from there were not dumped`]);
    // The JSON document, written batch by batch, is still one valid document per file.
    const j = capture((sink) => dumpLog(corrupt, { ...OPTS, json: true, deepIteration: true }, sink));
    expect(j.out).toHaveLength(1);
    expect(JSON.parse(j.out[0]!)).toMatchObject({
      file: corrupt,
      type: 'log',
      batches: [{ baseOffset: 0, crcValid: true, records: [{ offset: 0, keySize: -1, valueSize: 1 }] }],
      validBytes: good.length,
      trailingBytes: good.length,
      corrupt: { position: good.length },
      nonConsecutiveOffsets: [],
    });
  });

  it("stops at the zero entries of Kafka's preallocated index files", () => {
    // .index entries: int32 relative offset, int32 position; a preallocated file ends in zeros.
    const idx = Buffer.alloc(8 * 6);
    idx.writeInt32BE(3, 0);
    idx.writeInt32BE(100, 4);
    idx.writeInt32BE(9, 8);
    idx.writeInt32BE(250, 12);
    const idxPath = join(dir, '00000000000000000100.index');
    writeFileSync(idxPath, idx);
    expect(readOffsetIndex(idxPath, 100)).toEqual({ entries: [{ offset: 103, position: 100 }, { offset: 109, position: 250 }], partialBytes: 0, zeroEntries: 4 });
    // .timeindex entries: int64 timestamp, int32 relative offset.
    const tidx = Buffer.alloc(12 * 3 + 5);
    tidx.writeBigInt64BE(1000n, 0);
    tidx.writeInt32BE(3, 8);
    const tPath = join(dir, '00000000000000000100.timeindex');
    writeFileSync(tPath, tidx);
    expect(readTimeIndex(tPath, 100)).toEqual({ entries: [{ timestamp: 1000, offset: 103 }], partialBytes: 5, zeroEntries: 2 });
  });

  it('reports an index entry pointing inside a batch as a mismatch with log offset -1', () => {
    const b0 = buildBatch({ records: [{ value: 'a' }, { value: 'b' }], baseOffset: 0 });
    const b1 = buildBatch({ records: [{ value: 'c' }], baseOffset: 2 });
    const log = join(dir, '00000000000000000000.log');
    writeFileSync(log, Buffer.concat([b0, b1]));
    const idx = Buffer.alloc(16);
    idx.writeInt32BE(2, 0);
    idx.writeInt32BE(b0.length, 4); // right: the batch at b0.length ends at offset 2
    idx.writeInt32BE(3, 8);
    idx.writeInt32BE(b0.length + 5, 12); // wrong: no batch starts there
    const path = join(dir, '00000000000000000000.index');
    writeFileSync(path, idx);
    const { out, err, result } = capture((sink) => dumpIndex(path, { ...OPTS, verifyIndexOnly: true }, sink));
    expect(out).toEqual([]);
    expect(err).toEqual([`Mismatches in :${path}`, '  Index offset: 3, log offset: -1']);
    expect(result).toEqual({ failed: false, mismatches: 1 });
  });
});
