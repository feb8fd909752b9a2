import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cBench, crc32cImplementation, crc32cImplementations, crc32cPortable } from '../../src/native/crc32c.js';

// An independent bit-at-a-time CRC-32C, so the checks do not rest on the addon's own table.
function reference(buf: Uint8Array, initial = 0): number {
  let c = ~initial >>> 0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32c', () => {
  it('gives the CRC-32C check value for "123456789"', () => {
    const s = Buffer.from('123456789');
    expect(crc32c(s)).toBe(0xe3069283);
    expect(crc32cPortable(s)).toBe(0xe3069283);
    expect(reference(s)).toBe(0xe3069283);
  });

  it('is not the IEEE CRC that zlib.crc32 computes', () => {
    expect(crc32c(Buffer.from('123456789'))).not.toBe(0xcbf43926);
  });

  it('matches the reference for every length 0..1024 at varied alignments', () => {
    const big = randomBytes(2048 + 64);
    for (let len = 0; len <= 1024; len++) {
      const off = (len * 7) % 64;
      const view = big.subarray(off, off + len);
      const want = reference(view);
      if (crc32c(view) !== want || crc32cPortable(view) !== want) {
        throw new Error(`mismatch at length ${len}, offset ${off}`);
      }
    }
  });

  it('matches the portable table on large buffers and through a plain Uint8Array', () => {
    for (const size of [4096, 65536 + 3, 1 << 20, (4 << 20) + 17]) {
      const b = randomBytes(size);
      expect(crc32c(b)).toBe(crc32cPortable(b));
      expect(crc32c(new Uint8Array(b.buffer, b.byteOffset + 1, size - 1))).toBe(crc32cPortable(b.subarray(1)));
    }
  });

  it('chains: crc32c(b, crc32c(a)) equals crc32c(a ++ b)', () => {
    const all = randomBytes(100_000);
    let crc = 0;
    for (let pos = 0; pos < all.length; ) {
      const n = Math.min(all.length - pos, 1 + Math.floor(Math.random() * 3000));
      crc = crc32c(all.subarray(pos, pos + n), crc);
      pos += n;
    }
    expect(crc).toBe(crc32c(all));
    expect(crc).toBe(reference(all));
  });

  it('names the implementation it dispatches to: the fastest this CPU supports', () => {
    const all = crc32cImplementations();
    expect(all).toContain('table');
    expect(all).toContain('slice8');
    // BROOK_CRC32C, read once when the addon loads, forces a supported implementation by name;
    // unset, or naming one this CPU lacks, the fastest supported is chosen.
    const forced = process.env.BROOK_CRC32C;
    expect(crc32cImplementation()).toBe(forced !== undefined && all.includes(forced) ? forced : all[0]);
    console.info(`[crc32c] implementation: ${crc32cImplementation()} (supported: ${all.join(', ')})`);
  });

  it('times every supported implementation in C++ and refuses unknown names', () => {
    const b = randomBytes(10_000);
    for (const name of crc32cImplementations()) expect(crc32cBench(b, 3, name)).toBeGreaterThanOrEqual(0);
    expect(() => crc32cBench(b, 1, 'nonsense')).toThrow(/no supported CRC-32C implementation/);
  });

  it('BROOK_CRC32C forces a fallback in a fresh process', () => {
    // The build this file's other tests loaded (src/native/addon.ts looks in the same places): it
    // must exist, or the test would check nothing.
    const root = new URL('../../', import.meta.url).pathname;
    const candidates = process.env.BROOK_NATIVE ? [process.env.BROOK_NATIVE] : [`${root}build/Release/brook_native.node`, `${root}build/Debug/brook_native.node`];
    const addonPath = candidates.find((p) => existsSync(p));
    expect(addonPath, `no addon at ${candidates.join(' or ')}`).toBeDefined();
    for (const name of ['slice8', 'table']) {
      const r = spawnSync(
        process.execPath,
        ['-e', `const a = require(${JSON.stringify(addonPath!)}); console.log(a.crc32cImplementation(), a.crc32c(Buffer.from('123456789'), 0))`],
        { env: { ...process.env, BROOK_CRC32C: name }, encoding: 'utf8' },
      );
      expect(r.stdout.trim()).toBe(`${name} ${0xe3069283}`);
    }
  });

  it('rejects what is not a Uint8Array or a uint32 initial value', () => {
    expect(() => crc32c('abc' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => crc32c(Buffer.from('a'), -1)).toThrow(RangeError);
    expect(() => crc32c(Buffer.from('a'), 2 ** 32)).toThrow(RangeError);
    expect(() => crc32c(Buffer.from('a'), 1.5)).toThrow(RangeError);
  });
});
