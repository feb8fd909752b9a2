/**
 * Vitest helpers for tests that need a real etcd: one member per test file, on free loopback
 * ports, in a temp data dir that is removed afterwards.
 *
 *   const etcd = useEtcd();            // at the top of a describe/file
 *   it('...', () => { etcd.endpoint }) // inside tests
 *
 * Each test should use its own key prefix (uniquePrefix()) so tests in one file never see each
 * other's keys while sharing the member.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startEtcd, type EtcdProcess } from '../../src/cluster/etcd-process.js';

export interface EtcdHandle {
  /** The running member (throws before beforeAll ran). */
  readonly process: EtcdProcess;
  readonly endpoint: string;
}

/** Starts etcd in beforeAll and stops it (and removes its data dir) in afterAll. */
export function useEtcd(): EtcdHandle {
  let proc: EtcdProcess | null = null;
  let dir: string | null = null;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'brook-etcd-'));
    proc = await startEtcd({ dataDir: join(dir, 'etcd') });
  });
  afterAll(async () => {
    await proc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get process(): EtcdProcess {
      if (!proc) throw new Error('etcd is not started (use it inside tests)');
      return proc;
    },
    get endpoint(): string {
      return this.process.endpoint;
    },
  };
}

let prefixCounter = 0;
/** A key prefix no other test in this process uses. */
export function uniquePrefix(): string {
  prefixCounter += 1;
  return `/brook-test-${process.pid}-${prefixCounter}`;
}

/** Polls `cond` every 25 ms until it is truthy or `timeoutMs` passes (then throws `what`). */
export async function waitFor<T>(cond: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
