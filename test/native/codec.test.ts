/**
 * Codecs through the TypeScript facade, against independent implementations in both directions:
 * Node's zlib (gzip), the zstd and lz4 CLIs, and python3-snappy (raw blocks via
 * snappy.compress/uncompress; xerial framing assembled here by hand from python-made raw blocks,
 * since python-snappy 0.5.3 offers only the framing format and Hadoop's framing, neither of which
 * is xerial).
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Codec, codecByName, codecName, compress, compressAsync, decompress, decompressAsync } from '../../src/native/codec.js';
import { BrookNativeError } from '../../src/native/errors.js';
import { hasLz4, hasPySnappy, hasZstd, pipe, python, requireTool, ALL_CODECS as ALL, codeOf } from './tools.js';

requireTool('zstd CLI', hasZstd);
requireTool('lz4 CLI', hasLz4);
requireTool('python3-snappy (/usr/bin/python3)', hasPySnappy);

function logLines(bytes: number): Buffer {
  const paths = ['/api/v1/orders', '/api/v1/users/me', '/static/app.js', '/healthz', '/api/v2/search?q=kafka'];
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = JSON.stringify({ ts: 1700000000000 + i * 37, path: paths[i % 5], status: 200 + (i % 4) * 100, ms: (i * 7919) % 1000, id: `r-${i * 104729}` });
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(lines.join('\n')).subarray(0, bytes);
}

const inputs: Array<[string, Buffer]> = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from([7])],
  ['incompressible 200 KiB', randomBytes(200 * 1024)],
  ['1 MiB of zeros', Buffer.alloc(1 << 20)],
  ['300 KiB of log lines', logLines(300 * 1024)],
];

describe('codec facade', () => {
  for (const codec of ALL) {
    it(`${codecName(codec)} round-trips empty, tiny, random, compressible and multi-block input`, () => {
      for (const [name, input] of inputs) {
        const c = compress(codec, input);
        expect(decompress(codec, c).equals(input), name).toBe(true);
      }
    });
  }

  it('names codecs both ways', () => {
    expect(codecName(Codec.Zstd)).toBe('zstd');
    expect(codecByName('lz4')).toBe(Codec.Lz4);
    expect(codecByName('uncompressed')).toBe(Codec.None);
    expect(codecByName('brotli')).toBeUndefined();
  });

  it('accepts a level or options, and rejects levels out of range with INVALID_ARGUMENT', () => {
    const input = logLines(50_000);
    expect(compress(Codec.Gzip, input, 1).length).toBeGreaterThan(compress(Codec.Gzip, input, 9).length);
    expect(decompress(Codec.Zstd, compress(Codec.Zstd, input, { level: 19 })).equals(input)).toBe(true);
    expect(decompress(Codec.Lz4, compress(Codec.Lz4, input, 9)).equals(input)).toBe(true);
    expect(codeOf(() => compress(Codec.Gzip, input, 10))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => compress(Codec.Zstd, input, 99))).toBe('INVALID_ARGUMENT');
    expect(() => compress(Codec.Gzip, input, 1.5)).toThrow(RangeError);
  });

  it('rejects unknown codec ids with UNSUPPORTED_CODEC', () => {
    expect(codeOf(() => compress(7 as Codec, Buffer.from('x')))).toBe('UNSUPPORTED_CODEC');
    expect(codeOf(() => decompress(5 as Codec, Buffer.from('x')))).toBe('UNSUPPORTED_CODEC');
  });

  for (const codec of [Codec.Gzip, Codec.Snappy, Codec.Lz4, Codec.Zstd] as const) {
    it(`${codecName(codec)}: garbage, truncated and empty input fail with CODEC_ERROR`, () => {
      const input = logLines(40_000);
      const c = compress(codec, input);
      expect(codeOf(() => decompress(codec, Buffer.alloc(0)))).toBe('CODEC_ERROR');
      expect(codeOf(() => decompress(codec, randomBytes(1000)))).toBe('CODEC_ERROR');
      expect(codeOf(() => decompress(codec, c.subarray(0, c.length >> 1)))).toBe('CODEC_ERROR');
      const err = (() => {
        try {
          decompress(codec, randomBytes(100));
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(BrookNativeError);
    });

    it(`${codecName(codec)}: a zip bomb stops at the size limit with CODEC_ERROR`, () => {
      const bomb = compress(codec, Buffer.alloc(32 << 20)); // 32 MiB of zeros
      expect(bomb.length).toBeLessThan(2 << 20);
      expect(codeOf(() => decompress(codec, bomb, 1 << 20))).toBe('CODEC_ERROR');
      expect(codeOf(() => decompress(codec, bomb, (32 << 20) - 1))).toBe('CODEC_ERROR');
      expect(decompress(codec, bomb, 32 << 20).length).toBe(32 << 20);
    });
  }

  it('the default limit is 64 MiB', () => {
    const bomb = compress(Codec.Zstd, Buffer.alloc(65 << 20));
    expect(codeOf(() => decompress(Codec.Zstd, bomb))).toBe('CODEC_ERROR');
  });
});

describe('async codec calls', () => {
  it('round-trip on the thread pool, many at once, and the input may be reused at once', async () => {
    const inputs = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => logLines(100_000 + i * 1000));
    for (const codec of ALL) {
      const scratch = inputs.map((b) => Buffer.from(b));
      const pending = scratch.map((b) => compressAsync(codec, b, codec === Codec.Gzip ? 1 : undefined));
      for (const b of scratch) b.fill(0); // the calls copied their input
      const packed = await Promise.all(pending);
      const unpacked = await Promise.all(packed.map((p) => decompressAsync(codec, p)));
      unpacked.forEach((u, i) => expect(u.equals(inputs[i]!), codecName(codec)).toBe(true));
    }
  });

  it('reject with the same typed errors', async () => {
    await expect(decompressAsync(Codec.Zstd, randomBytes(100))).rejects.toMatchObject({ name: 'BrookNativeError', code: 'CODEC_ERROR' });
    await expect(decompressAsync(Codec.Gzip, compress(Codec.Gzip, Buffer.alloc(1 << 20)), 1000)).rejects.toBeInstanceOf(BrookNativeError);
    await expect(compressAsync(Codec.Gzip, Buffer.from('x'), 42)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('gzip against Node zlib', () => {
  it('Node decodes ours', () => {
    for (const [name, input] of inputs) expect(gunzipSync(compress(Codec.Gzip, input)).equals(input), name).toBe(true);
  });
  it('we decode Node’s, including concatenated members', () => {
    const a = logLines(100_000);
    const b = randomBytes(5000);
    expect(decompress(Codec.Gzip, gzipSync(a)).equals(a)).toBe(true);
    expect(decompress(Codec.Gzip, Buffer.concat([gzipSync(a), gzipSync(b), gzipSync(Buffer.alloc(0))])).equals(Buffer.concat([a, b]))).toBe(true);
  });
});

describe('zstd against the zstd CLI', () => {
  it('we decode CLI frames without content size (stdin), with it, and several in a row', () => {
    const a = logLines(500_000);
    const b = randomBytes(70_000);
    const streamed = pipe('zstd', ['-c', '-q'], a); // from stdin: no content size in the header
    expect(decompress(Codec.Zstd, streamed).equals(a)).toBe(true);
    const level19 = pipe('zstd', ['-c', '-q', '-19', '--content-size'], a);
    expect(decompress(Codec.Zstd, level19).equals(a)).toBe(true);
    const both = Buffer.concat([streamed, pipe('zstd', ['-c', '-q', '--no-check'], b)]);
    expect(decompress(Codec.Zstd, both).equals(Buffer.concat([a, b]))).toBe(true);
  });
  it('the CLI decodes ours', () => {
    for (const [name, input] of inputs) expect(pipe('zstd', ['-d', '-c', '-q'], compress(Codec.Zstd, input)).equals(input), name).toBe(true);
  });
});

describe('lz4 against the lz4 CLI', () => {
  it('we decode CLI frames: default (4 MiB blocks, content checksum), 64 KiB, block checksums', () => {
    const a = logLines(600_000);
    for (const args of [[], ['-B4'], ['-BX'], ['-B4', '-BX', '--no-frame-crc'], ['-9']]) {
      expect(decompress(Codec.Lz4, pipe('lz4', ['-c', '-q', ...args], a)).equals(a), args.join(' ')).toBe(true);
    }
  });
  it('a corrupted content checksum is detected', () => {
    const a = logLines(10_000);
    const framed = Buffer.from(pipe('lz4', ['-c', '-q'], a));
    framed[framed.length - 1]! ^= 0xff;
    expect(codeOf(() => decompress(Codec.Lz4, framed))).toBe('CODEC_ERROR');
  });
  it('dependent blocks (-BD) are rejected, as Kafka rejects them', () => {
    const a = logLines(300_000);
    expect(codeOf(() => decompress(Codec.Lz4, pipe('lz4', ['-c', '-q', '-BD', '-B4'], a)))).toBe('CODEC_ERROR');
  });
  it('the CLI decodes ours', () => {
    for (const [name, input] of inputs) expect(pipe('lz4', ['-d', '-c', '-q'], compress(Codec.Lz4, input)).equals(input), name).toBe(true);
  });
});

describe('snappy against python3-snappy', () => {
  const XERIAL_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);

  // Xerial framing around raw blocks that python-snappy compressed, 32 KiB of input per block.
  function pythonXerial(input: Buffer): Buffer {
    const parts: Buffer[] = [XERIAL_HEADER];
    for (let pos = 0; pos < input.length; pos += 32768) {
      const block = python('sys.stdout.buffer.write(snappy.compress(data))', input.subarray(pos, pos + 32768));
      const len = Buffer.alloc(4);
      len.writeInt32BE(block.length);
      parts.push(len, block);
    }
    return Buffer.concat(parts);
  }

  it('we decode python raw blocks (what librdkafka sends)', () => {
    for (const [name, input] of inputs) {
      expect(decompress(Codec.Snappy, python('sys.stdout.buffer.write(snappy.compress(data))', input)).equals(input), name).toBe(true);
    }
  });
  it('we decode xerial framing of python blocks (what Java and kafka-python send)', () => {
    const a = logLines(200_000);
    expect(decompress(Codec.Snappy, pythonXerial(a)).equals(a)).toBe(true);
  });
  it('python decodes our raw blocks and every block of our xerial stream', () => {
    const a = logLines(200_000);
    expect(python('sys.stdout.buffer.write(snappy.uncompress(data))', compress(Codec.Snappy, a, { snappyFraming: 'raw' })).equals(a)).toBe(true);
    const x = compress(Codec.Snappy, a);
    expect(x.subarray(0, 16).equals(XERIAL_HEADER)).toBe(true);
    const out: Buffer[] = [];
    for (let pos = 16; pos < x.length; ) {
      const n = x.readInt32BE(pos);
      out.push(python('sys.stdout.buffer.write(snappy.uncompress(data))', x.subarray(pos + 4, pos + 4 + n)));
      pos += 4 + n;
    }
    expect(out.length).toBe(Math.ceil(a.length / 32768));
    expect(Buffer.concat(out).equals(a)).toBe(true);
  });
});
