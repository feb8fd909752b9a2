/**
 * A single node's data directory started with --etcd against a cluster that holds no topics (a
 * new etcd) is refused with one line, and its data stays: the broker must not take "etcd does
 * not know these topics" for "they were deleted".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEtcd, type EtcdProcess } from '../../src/cluster/etcd-process.js';
import { expectOk, hasKcat, requireInstalled, run, spawnBroker } from '../integration/harness.js';

let dir: string;
let etcd: EtcdProcess;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'brook-foreign-'));
  etcd = await startEtcd({ dataDir: join(dir, 'etcd') });
}, 30_000);
afterAll(async () => {
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('refuses to join an empty cluster with a data directory that holds topics, and keeps them', async () => {
  requireInstalled(hasKcat, 'kcat');
  const data = join(dir, 'single');
  const single = await spawnBroker(data);
  expectOk(await run('kcat', ['-P', '-b', single.bootstrap, '-t', 'kept'], { input: 'one\ntwo\n' }), 'kcat produce');
  single.kill('SIGTERM');
  await single.exited;

  await expect(spawnBroker(data, undefined, ['--etcd', etcd.endpoint])).rejects.toThrow(/holds topics \(kept\) but the cluster in etcd holds none/);

  const again = await spawnBroker(data);
  try {
    const r = expectOk(await run('kcat', ['-C', '-b', again.bootstrap, '-t', 'kept', '-e', '-q']), 'kcat consume');
    expect(r.stdout.trim().split('\n')).toEqual(['one', 'two']);
  } finally {
    again.kill('SIGTERM');
    await again.exited;
  }
}, 60_000);
