/**
 * What the `brook` CLI tests (test/integration/cli-*.test.ts) share: running the CLI as a child
 * process (built, or from the sources through tsx), running one command in this process with its
 * output captured, and the checks of its two kinds of error (exit 1: a failure; exit 2: bad usage).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { expect } from 'vitest';
import { runCommand, type Command } from '../../src/cli/command.js';
import { run, type ProcessResult } from './harness.js';

export const root = join(import.meta.dirname, '..', '..');
export const bin = join(root, 'bin', 'brook.js');
export const fixtures = join(root, 'test', 'fixtures', 'cli');

/**
 * Throws unless dist/ holds the compiled `src/cli/<module>.js`: the tests that run bin/brook.js
 * would otherwise fail on every case with an import error that does not say what to do.
 */
export function requireBuilt(module: string): void {
  if (!existsSync(join(root, 'dist', 'src', 'cli', `${module}.js`))) throw new Error('run `npm run build:ts` first: this test runs the built bin/brook.js');
}

export interface BrookOptions {
  input?: string | Buffer;
  /** 30 s unless told: a node start is about half a second, more on a loaded machine. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** The built CLI (bin/brook.js, so `npm run build:ts` first) as a child process. */
export function brook(args: string[], opts: BrookOptions = {}): Promise<ProcessResult> {
  return run(process.execPath, [bin, ...args], { timeoutMs: opts.timeoutMs ?? 30_000, input: opts.input, env: opts.env, cwd: opts.cwd });
}

/** A child process of the built CLI that a test drives while it runs (signals, stdin written as it goes). */
export interface BrookChild<Stdin extends Writable | null> {
  child: ChildProcessByStdio<Stdin, Readable, Readable>;
  /** stdout and stderr so far. */
  r: { out: string; err: string };
  /** Resolves with the exit code (null when a signal ended it). */
  done: Promise<number | null>;
}

/** The built CLI as a child process, its output collected as it comes; `stdin` a pipe to write to, closed, or a stream's. */
export function spawnBrook(args: string[], stdin: 'pipe'): BrookChild<Writable>;
export function spawnBrook(args: string[], stdin: 'ignore' | Readable): BrookChild<null>;
export function spawnBrook(args: string[], stdin: 'pipe' | 'ignore' | Readable): BrookChild<Writable> | BrookChild<null> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: [stdin, 'pipe', 'pipe'] }) as ChildProcessByStdio<Writable, Readable, Readable>;
  const r = { out: '', err: '' };
  child.stdout.on('data', (d: Buffer) => (r.out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (r.err += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, r, done };
}

/** The CLI from the sources (src/cli/main.ts through tsx, as test/integration/cli.test.ts runs it), from the repository's root. */
export function brookFromSources(args: string[], opts: BrookOptions = {}): Promise<ProcessResult> {
  const entry = `import('./src/cli/main.ts').then(async (m) => { process.exitCode = await m.main(process.argv.slice(1)); })`;
  return run(process.execPath, ['--import', 'tsx', '-e', entry, '--', ...args], { timeoutMs: opts.timeoutMs ?? 30_000, input: opts.input, env: opts.env, cwd: opts.cwd ?? root });
}

/**
 * `command` in this process, stdout and stderr captured: for the usage errors, which are decided
 * before any connection (a process per case would cost seconds each; the exit code of a real
 * process is checked by one case per command). `bootstrap`, if given, is added as
 * --bootstrap-server unless `args` has one.
 */
export async function inProcess(command: Command, args: string[], bootstrap?: string): Promise<ProcessResult> {
  let stdout = '';
  let stderr = '';
  const writes = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await runCommand(command, bootstrap === undefined || args.includes('--bootstrap-server') ? args : [...args, '--bootstrap-server', bootstrap]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
  }
}

/** Whether an error check also requires nothing on stdout (each test file keeps the checks it had). */
export interface ErrorCheckOptions {
  emptyStdout?: boolean;
}

/** A failure: exit 1, exactly one line on stderr (so no stack trace) that matches `pattern`. */
export function expectFailure(r: ProcessResult, pattern: RegExp, opts: ErrorCheckOptions = {}): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  if (opts.emptyStdout) expect(r.stdout).toBe('');
}

/** Bad usage of `brook <command>`: exit 2, `pattern` and the pointer to the command's help on stderr, no stack trace. */
export function expectUsage(r: ProcessResult, command: string, pattern: RegExp, opts: ErrorCheckOptions = {}): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).toContain(`Run 'brook ${command} --help'`);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  if (opts.emptyStdout) expect(r.stdout).toBe('');
}

/** expectFailure and expectUsage for one command with its options bound, so a test file calls them as `(r, pattern)`. */
export function errorChecks(
  command: string,
  opts: { failure?: ErrorCheckOptions; usage?: ErrorCheckOptions } = {},
): { expectFailure(r: ProcessResult, pattern: RegExp): void; expectUsage(r: ProcessResult, pattern: RegExp): void } {
  return {
    expectFailure: (r, pattern) => expectFailure(r, pattern, opts.failure),
    expectUsage: (r, pattern) => expectUsage(r, command, pattern, opts.usage),
  };
}
