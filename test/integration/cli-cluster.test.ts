/**
 * `brook cluster up` and `brook cluster status` as child processes of the built CLI (bin/brook.js, so
 * `npm run build:ts` first): a real etcd and three real brokers, driven by the other commands
 * (topics, produce, consume). One cluster for the file: started, used, stopped by SIGTERM, started
 * again on the same data dir (same cluster id, same topic), stopped again; after each stop no
 * process of it may remain.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command as clusterCommand, type ClusterStatus } from '../../src/cli/cluster.js';
import { ETCD_BINARY } from '../../src/cluster/etcd-process.js';
import { brook, errorChecks, inProcess, requireBuilt, spawnBrook, type BrookChild } from './cli-harness.js';
import { expectOk, freePort, requireInstalled, startTestBroker, until } from './harness.js';

requireInstalled(existsSync(ETCD_BINARY), 'etcd (apt-get install etcd-server)');

let dir: string;
/** Holds the port given as --etcd-port, so `up` must pick another one and say so. */
let blocker: Server;
let busyPort: number;
let basePort: number;
let up: BrookChild<null> | undefined;

beforeAll(async () => {
  requireBuilt('cluster');
  dir = mkdtempSync(join(tmpdir(), 'brook-cli-cluster-'));
  blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  busyPort = (blocker.address() as { port: number }).port;
  basePort = await threeFreePorts();
});

afterAll(async () => {
  if (up && up.child.exitCode === null) {
    up.child.kill('SIGTERM');
    await up.done;
  }
  blocker?.close();
  // Whatever a failed test left behind: nothing of this file may outlive it.
  for (const pid of processesOf(dir)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A base port with the two above it free too (brokers 1..3 listen on base, base+1, base+2). */
async function threeFreePorts(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p > 65000) continue;
    const free = await Promise.all([p + 1, p + 2].map(portFree));
    if (free.every(Boolean)) return p;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer();
    s.once('error', () => done(false));
    s.listen(port, '127.0.0.1', () => s.close(() => done(true)));
  });
}

/** Pids of processes whose command line names `path` (the brokers' and etcd's data dirs). */
function processesOf(path: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', path], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts `cluster up` and waits for its bootstrap line; returns the bootstrap and the pids it printed. */
async function clusterUp(): Promise<{ bootstrap: string; pids: number[]; stdout: string }> {
  up = spawnBrook(['cluster', 'up', '--brokers', '3', '--port', String(basePort), '--etcd-port', String(busyPort), '--data-dir', dir], 'ignore');
  const current = up;
  await until('cluster up to print its bootstrap line', () => /^bootstrap: .*\n/m.test(current.r.out) || current.child.exitCode !== null, 45_000);
  const m = /^bootstrap: (\S+)$/m.exec(current.r.out);
  if (!m) throw new Error(`cluster up exited ${current.child.exitCode}\nstdout:\n${current.r.out}\nstderr:\n${current.r.err}`);
  const pids = [...current.r.out.matchAll(/ pid (\d+)/g)].map((x) => Number(x[1]));
  return { bootstrap: m[1]!, pids, stdout: current.r.out };
}

/** SIGTERM to `cluster up`: it must exit 0 and leave no broker or etcd behind. */
async function stopAndCheck(pids: number[]): Promise<void> {
  const current = up!;
  current.child.kill('SIGTERM');
  expect(await current.done, current.r.err).toBe(0);
  expect(pids.filter(alive)).toEqual([]);
  expect(processesOf(dir)).toEqual([]);
}

async function status(bootstrap: string): Promise<ClusterStatus> {
  const r = expectOk(await brook(['cluster', 'status', '--bootstrap-server', bootstrap, '--json']), 'cluster status --json');
  return JSON.parse(r.stdout) as ClusterStatus;
}

const { expectFailure, expectUsage } = errorChecks('cluster up');

describe('brook cluster', { timeout: 60_000 }, () => {
  it('documents up and status in its help, and brook --help lists it', async () => {
    const top = await inProcess(clusterCommand, ['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: brook cluster <up\|status>/);
    const upHelp = await inProcess(clusterCommand, ['up', '--help']);
    for (const flag of ['--brokers', '--data-dir', '--port', '--etcd-port', '--set', '--log-level']) expect(upHelp.stdout).toContain(flag);
    const statusHelp = await inProcess(clusterCommand, ['status', '--help']);
    for (const flag of ['--bootstrap-server', '--json', '--timeout-ms']) expect(statusHelp.stdout).toContain(flag);
    const main = await brook(['--help']);
    expect(main.stdout).toMatch(/^ {2}cluster {6}Run a local replicated cluster/m);
  });

  it('refuses bad flags with exit 2 before starting anything', async () => {
    expectUsage(await inProcess(clusterCommand, ['up', '--brokers', '0']), /--brokers must be between 1 and 64/);
    expectUsage(await inProcess(clusterCommand, ['up', '--log-level', 'loud']), /--log-level expects one of error, warn, info, debug/);
    expectUsage(await inProcess(clusterCommand, ['up', '--set', 'node.id=7']), /--set node.id is not allowed here/);
    expectUsage(await inProcess(clusterCommand, ['up', '--port', '65535']), /no room for 3 brokers/);
    const status = await inProcess(clusterCommand, ['status', '--bogus']);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain("Run 'brook cluster status --help'");
    const unknown = await brook(['cluster', 'frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown cluster command "frobnicate" \(up, status\)/);
    expect(processesOf(dir)).toEqual([]);
  });

  it('fails cluster status against an unreachable address with exit 1 and one line', async () => {
    const port = await freePort();
    const r = await brook(['cluster', 'status', '--bootstrap-server', `127.0.0.1:${port}`, '--timeout-ms', '500']);
    expectFailure(r, new RegExp(`^brook cluster status: no broker reachable at 127.0.0.1:${port} within 500 ms`));
    expect(r.stdout).toBe('');
  });

  it('describes a single node too', async () => {
    const tb = await startTestBroker({ properties: { 'ws.enabled': false } });
    try {
      const text = expectOk(await inProcess(clusterCommand, ['status'], tb.bootstrap), 'cluster status').stdout;
      const node = tb.broker.config.nodeId;
      expect(text).toMatch(new RegExp(`^ClusterId: \\S+  Controller: ${node}  Brokers: 1\nBroker: ${node}  127\\.0\\.0\\.1:${tb.broker.port}  Rack: none\n`));
      expect(text).toMatch(/\nUnderReplicatedPartitions: 0 {2}OfflinePartitions: 0\n$/);
      const json = JSON.parse((await inProcess(clusterCommand, ['status', '--json'], tb.bootstrap)).stdout) as ClusterStatus;
      expect(json.brokers).toEqual([{ nodeId: node, host: '127.0.0.1', port: tb.broker.port, rack: null }]);
    } finally {
      await tb.close();
    }
  });

  let clusterId: string | null = null;

  it('starts etcd and three brokers, replicates an RF 3 topic, and stops everything on SIGTERM', async () => {
    const { bootstrap, pids, stdout } = await clusterUp();
    // The --etcd-port was held by this test: up must have moved and said so.
    expect(stdout).toMatch(new RegExp(`^etcd {6}http://127\\.0\\.0\\.1:(?!${busyPort}\\b)\\d+  data \\S+  pid \\d+  \\(port ${busyPort} is busy\\)$`, 'm'));
    for (let i = 1; i <= 3; i++) {
      expect(stdout).toMatch(new RegExp(`^broker ${i}  127\\.0\\.0\\.1:${basePort + i - 1}  data \\S*broker-${i}  ws 127\\.0\\.0\\.1:\\d+  pid \\d+$`, 'm'));
    }
    expect(bootstrap).toBe([0, 1, 2].map((i) => `127.0.0.1:${basePort + i}`).join(','));
    expect(pids).toHaveLength(4);

    const first = await status(bootstrap);
    clusterId = first.clusterId;
    expect(first.brokers.map((b) => [b.nodeId, b.port])).toEqual([1, 2, 3].map((id) => [id, basePort + id - 1]));
    expect([1, 2, 3]).toContain(first.controllerId);

    expectOk(await brook(['topics', '--create', '--topic', 'rf3', '--partitions', '1', '--replication-factor', '3', '--bootstrap-server', bootstrap]), 'topics --create');
    // Followers join the ISR once they have fetched: wait for all three.
    let text = '';
    await until('rf3 to be fully replicated', async () => {
      const r = expectOk(await brook(['cluster', 'status', '--bootstrap-server', bootstrap]), 'cluster status');
      text = r.stdout;
      const line = /^Topic: rf3 {2}Partition: 0 {2}Leader: (\d) {2}LeaderEpoch: \d+ {2}Replicas: ([\d,]+) {2}Isr: ([\d,]+) {2}Offline: $/m.exec(text);
      return line !== null && line[2]!.split(',').sort().join(',') === '1,2,3' && line[3]!.split(',').length === 3;
    }, 20_000);
    expect(text).toMatch(new RegExp(`^ClusterId: ${clusterId}  Controller: [123]  Brokers: 3$`, 'm'));
    expect(text).toMatch(/^Broker: 2 {2}127\.0\.0\.1:\d+ {2}Rack: none$/m);
    expect(text).toMatch(/^UnderReplicatedPartitions: 0 {2}OfflinePartitions: 0$/m);

    expectOk(await brook(['produce', '--topic', 'rf3', '--bootstrap-server', bootstrap], { input: 'hello cluster\n' }), 'produce');
    const consumed = expectOk(await brook(['consume', '--topic', 'rf3', '--from-beginning', '--max-messages', '1', '--timeout-ms', '10000', '--bootstrap-server', bootstrap]), 'consume');
    expect(consumed.stdout).toBe('hello cluster\n');

    await stopAndCheck(pids);
  });

  it('starts the same cluster again from the same data dir', async () => {
    const { bootstrap, pids } = await clusterUp();
    await until('rf3 to have a leader again', async () => {
      const s = await status(bootstrap);
      return s.topics.find((t) => t.name === 'rf3')?.partitions[0]?.leader !== -1;
    }, 20_000);
    const again = await status(bootstrap);
    expect(again.clusterId).toBe(clusterId);
    expect(again.topics.find((t) => t.name === 'rf3')?.partitions[0]?.replicas.slice().sort()).toEqual([1, 2, 3]);
    const consumed = expectOk(await brook(['consume', '--topic', 'rf3', '--from-beginning', '--max-messages', '1', '--timeout-ms', '10000', '--bootstrap-server', bootstrap]), 'consume');
    expect(consumed.stdout).toBe('hello cluster\n');
    await stopAndCheck(pids);
  });
});
