/**
 * Independent implementations the codec tests check us against: Debian CLIs and Debian's
 * python3-snappy. Each probe is run once; a file that needs a missing tool fails (requireTool).
 */
import { spawnSync } from 'node:child_process';
import { Codec } from '../../src/native/codec.js';
import { BrookNativeError } from '../../src/native/errors.js';

/** Every codec id, for tests that run once per codec. */
export const ALL_CODECS = [Codec.None, Codec.Gzip, Codec.Snappy, Codec.Lz4, Codec.Zstd] as const;

/** The native error code `fn` throws, or undefined when it returns; other errors propagate. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof BrookNativeError) return e.code;
    throw e;
  }
  return undefined;
}

function works(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0;
}

export const hasZstd = works('zstd', ['--version']);
export const hasLz4 = works('lz4', ['--version']);
// Debian's interpreter: the python3 first on PATH may be a separate install without the package.
export const PYTHON = '/usr/bin/python3';
export const hasPySnappy = works(PYTHON, ['-c', 'import snappy']);

/**
 * Every tool here is installed by npm install in a development checkout (scripts/system-deps.mjs:
 * zstd, lz4, python3-snappy, python3-lz4, python3-zstandard, python3-kafka; kafkajs is a
 * devDependency): a missing one fails the test file that needs it at load, never a silent skip.
 */
export function requireTool(tool: string, present: boolean): void {
  if (!present) throw new Error(`${tool} is not installed here, and these tests need it. npm install in a development checkout installs it (scripts/system-deps.mjs); run npm install again.`);
}

/** Runs a filter command: `input` on stdin, stdout returned; throws with stderr on failure. */
export function pipe(cmd: string, args: string[], input: Uint8Array): Buffer {
  const r = spawnSync(cmd, args, { input, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr?.toString() ?? r.error}`);
  return r.stdout;
}

/** Runs a python3-snappy snippet with stdin bound to `input` (bytes) and returns its stdout bytes. */
export function python(code: string, input: Uint8Array): Buffer {
  return pipe(PYTHON, ['-c', `import sys, snappy\ndata = sys.stdin.buffer.read()\n${code}`], input);
}

/** Debian's python3-kafka (kafka-python 2.0.2) with the codec modules its record batches need. */
export const hasKafkaPython = works(PYTHON, ['-c', 'import kafka.record.default_records, lz4.frame, zstandard, snappy']);
