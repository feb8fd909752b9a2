/**
 * CRC-32C throughput of the implementation Brook dispatches to (and the other hardware paths)
 * against the portable byte-at-a-time table, on 4 KiB, 64 KiB and 1 MiB buffers that stay in cache
 * (reused pages), plus a 256 MiB buffer that streams from memory. Timed inside C++
 * (crc32cBench) so the JS call does not dominate small buffers; one figure also times the public
 * JS call on 1 MiB to show its overhead is negligible there. Single thread. Target: >= 20 GB/s.
 */
import { randomFillSync } from 'node:crypto';
import { crc32c, crc32cBench, crc32cImplementation, crc32cImplementations } from '../src/native/crc32c.js';
import { measure, rate, sized, type Figure, type Op } from './lib.js';

export const title = 'CRC-32C, one core';

const GB = 1e9;

/** n checksums of `buf` with `impl`, timed in C++ (crc32cBench returns seconds). */
const native = (buf: Uint8Array, impl: string): Op => ({ timed: (n) => crc32cBench(buf, n, impl) * 1000 });

export async function run(): Promise<Figure[]> {
  const chosen = crc32cImplementation();
  const others = crc32cImplementations().filter((n) => n !== chosen && n !== 'table');
  const figures: Figure[] = [];
  for (const [label, size] of [['4 KiB', 4096], ['64 KiB', 65536], ['1 MiB', 1 << 20]] as const) {
    const buf = randomFillSync(Buffer.allocUnsafeSlow(size));
    const ops: Record<string, Op> = { table: native(buf, 'table') };
    for (const impl of [chosen, ...others]) ops[impl] = native(buf, impl);
    const m = await measure(ops, { time: 400 });
    const gbPerOp = size / GB;
    for (const impl of [chosen, ...others]) {
      figures.push({
        name: `${impl} ${label}`,
        ours: rate(m[impl]!, gbPerOp),
        baseline: rate(m.table!, gbPerOp),
        unit: 'GB/s',
        baselineName: 'byte table',
        pages: 'reused',
        target: impl === chosen ? '>= 20 GB/s' : undefined,
      });
    }
  }
  const oneMiB = randomFillSync(Buffer.allocUnsafeSlow(1 << 20));
  const js = await measure({ js: () => crc32c(oneMiB, 0), cpp: native(oneMiB, chosen) }, { time: 400 });
  figures.push({ name: `crc32c() from JS, 1 MiB`, ours: rate(js.js!, oneMiB.length / GB), baseline: rate(js.cpp!, oneMiB.length / GB), unit: 'GB/s', baselineName: 'same, timed in C++', pages: 'reused' });
  // Larger than any cache, so it streams from memory; the table only needs a slice of it to show its speed.
  const big = randomFillSync(Buffer.allocUnsafeSlow(sized(256 << 20, 1 << 20)));
  const slice = big.subarray(0, sized(16 << 20, 256 << 10));
  const mem = await measure({ ours: native(big, chosen), table: native(slice, 'table') }, { time: 1000, iterations: 5, sampleMs: 0 });
  figures.push({ name: `${chosen} ${big.length >> 20} MiB (from memory)`, ours: rate(mem.ours!, big.length / GB), baseline: rate(mem.table!, slice.length / GB), unit: 'GB/s', baselineName: 'byte table', pages: 'reused' });
  return figures;
}
