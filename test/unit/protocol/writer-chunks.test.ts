import { describe, expect, it } from 'vitest';
import { decodeResponse, encodeResponse } from '../../../src/protocol/frames.js';
import { fetchApi } from '../../../src/protocol/schemas/fetch.js';
import { chunksLength, concatChunks, COPY_THRESHOLD, Writer } from '../../../src/protocol/writer.js';
import type { Chunk, ExternalChunk } from '../../../src/protocol/writer.js';

/** Stand-in for a file slice: the codec may only read `length`. */
function fileSlice(length: number, fill: number): ExternalChunk & { bytes: Buffer } {
  return { length, bytes: Buffer.alloc(length, fill) };
}

/** What the network layer would put on the wire: Buffers as is, file slices as their bytes. */
function wireBytes(chunks: Chunk[]): Buffer {
  return Buffer.concat(chunks.map((c) => (Buffer.isBuffer(c) ? c : (c as unknown as { bytes: Buffer }).bytes)));
}

describe('Writer output chunks', () => {
  it('is a single Buffer when nothing external is written', () => {
    const w = new Writer(4);
    for (let i = 0; i < 1000; i++) w.int32(i);
    const chunks = w.finish();
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toHaveLength(4000);
    expect((chunks[0] as Buffer).readInt32BE(3996)).toBe(999);
  });

  it('cuts around an external chunk and resumes after it', () => {
    const w = new Writer();
    w.int32(1);
    const slice = fileSlice(100, 0xaa);
    w.records({ length: 100, chunks: [slice] }, false);
    w.int16(7);
    const chunks = w.finish();
    expect(chunks).toHaveLength(3);
    expect(chunks[0]).toEqual(Buffer.from('0000000100000064', 'hex')); // int32 1, records length 100
    expect(chunks[1]).toBe(slice);
    expect(chunks[2]).toEqual(Buffer.from('0007', 'hex'));
    expect(chunksLength(chunks)).toBe(4 + 4 + 100 + 2);
  });

  it('coalesces small Buffers inside records into the surrounding bytes', () => {
    const w = new Writer();
    w.int8(1);
    w.records({ length: 6, chunks: [Buffer.from('abc'), Buffer.from('def')] }, true);
    w.int8(2);
    const chunks = w.finish();
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toEqual(Buffer.concat([Buffer.from([1, 7]), Buffer.from('abcdef'), Buffer.from([2])]));
  });

  it('passes large Buffers through by reference instead of copying them', () => {
    const big = Buffer.alloc(COPY_THRESHOLD, 0x42);
    const w = new Writer();
    w.int8(1);
    w.records(big, false);
    w.int8(2);
    const chunks = w.finish();
    expect(chunks).toHaveLength(3);
    expect(chunks[1]).toBe(big);
  });

  it('keeps views handed out valid when the buffer grows after a cut', () => {
    const w = new Writer(8);
    w.int32(0x11111111);
    w.records({ length: 3, chunks: [fileSlice(3, 0)] }, false);
    for (let i = 0; i < 500; i++) w.int32(0x22222222); // forces several reallocations
    const chunks = w.finish();
    expect(chunks[0]).toEqual(Buffer.from('1111111100000003', 'hex'));
    expect(chunks[2]).toHaveLength(2000);
  });

  it('rejects records whose chunks do not add up to the declared length', () => {
    const w = new Writer();
    expect(() => w.records({ length: 10, chunks: [fileSlice(4, 0)] }, false)).toThrow(RangeError);
  });

  it('refuses to concatenate external chunks', () => {
    expect(() => concatChunks([Buffer.alloc(1), fileSlice(1, 0)])).toThrow(TypeError);
  });
});

describe('Fetch response with file-slice records', () => {
  it('has a size prefix covering the external chunks and decodes like inline records', () => {
    const slices = [fileSlice(70, 1), fileSlice(30, 2)];
    const header = Buffer.from('header');
    const body = {
      responses: [
        {
          topic: 'events',
          partitions: [
            { partitionIndex: 0, highWatermark: 10n, records: { length: 106, chunks: [header, ...slices] } },
            { partitionIndex: 1, highWatermark: 0n, records: null },
          ],
        },
      ],
    };
    for (const version of [4, 11, 12]) {
      const chunks = encodeResponse(fetchApi, version, 77, body);
      // Buffer, slice, slice, Buffer: the record header was coalesced into the first Buffer.
      expect(chunks.map((c) => Buffer.isBuffer(c))).toEqual([true, false, false, true]);
      const first = chunks[0] as Buffer;
      expect(first.readInt32BE(0)).toBe(chunksLength(chunks) - 4);

      const wire = wireBytes(chunks);
      const { correlationId, body: decoded } = decodeResponse(fetchApi, version, wire.subarray(4));
      expect(correlationId).toBe(77);
      const [p0, p1] = decoded.responses[0]!.partitions;
      expect(p0!.records).toEqual(Buffer.concat([header, slices[0]!.bytes, slices[1]!.bytes]));
      expect(p1!.records).toBeNull();
    }
  });
});
