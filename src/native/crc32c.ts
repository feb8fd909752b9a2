/**
 * CRC-32C (Castagnoli), the checksum of Kafka RecordBatch v2: CRC of bytes 21..end of a batch.
 * Not Node's `zlib.crc32`, which is the IEEE polynomial.
 *
 * The addon picks the fastest implementation this CPU supports once, at load: `avx512`
 * (VPCLMULQDQ folding), `sse42` (three interleaved crc32q streams), `slice8` (portable tables).
 * `BROOK_CRC32C=<name>` in the environment forces one, for testing the fallbacks.
 * Synchronous; the buffer is only read.
 */
import { addon } from './addon.js';

function checkArgs(buf: Uint8Array, initial: number): void {
  if (!(buf instanceof Uint8Array)) throw new TypeError('crc32c: expected a Uint8Array');
  if (!Number.isInteger(initial) || initial < 0 || initial > 0xffffffff) {
    throw new RangeError(`crc32c: initial must be a uint32, got ${initial}`);
  }
}

/**
 * CRC-32C of `buf` as an unsigned 32-bit number. `initial` is the result of a previous call, so
 * `crc32c(b, crc32c(a)) === crc32c(concat(a, b))`.
 */
export function crc32c(buf: Uint8Array, initial = 0): number {
  checkArgs(buf, initial);
  return addon().crc32c(buf, initial);
}

/** The byte-at-a-time table implementation: the reference and benchmark baseline. */
export function crc32cPortable(buf: Uint8Array, initial = 0): number {
  checkArgs(buf, initial);
  return addon().crc32cPortable(buf, initial);
}

/** The implementation `crc32c` dispatches to: "avx512", "sse42", "slice8" or "table". */
export function crc32cImplementation(): string {
  return addon().crc32cImplementation();
}

/** Every implementation this CPU can run, fastest first (for tests and benchmarks). */
export function crc32cImplementations(): string[] {
  return addon().crc32cImplementations();
}

/**
 * Seconds taken by `iterations` passes of one implementation over `buf`, timed inside C++ so the
 * JS call overhead does not swamp small buffers. For benchmarks.
 */
export function crc32cBench(buf: Uint8Array, iterations: number, implementation: string): number {
  checkArgs(buf, 0);
  return addon().crc32cBench(buf, iterations, implementation);
}
