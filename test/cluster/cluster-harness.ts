/**
 * A real cluster for tests: one etcd member and N broker processes (`brook start --etcd`, spawned
 * through tsx from the sources), each on its own fixed loopback port and data directory so a
 * broker restarted after kill -9 comes back as the same node. Faults are real signals to real
 * processes: kill('SIGKILL'), pause (SIGSTOP) and resume (SIGCONT).
 *
 *   const c = await startCluster({ brokers: 3 });
 *   ... c.bootstrap, c.kill(2), await c.restart(2), await c.leaderOf('t', 0) ...
 *   await c.close();
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd, type EtcdProcess } from '../../src/cluster/etcd-process.js';
import { KafkaClient } from '../../src/kafka/client.js';
import { freePort, spawnBroker, until, type BrokerProcess } from '../integration/harness.js';

export interface ClusterOptions {
  brokers?: number;
  /** broker.session.timeout.ms (default 3000: the 3 s test TTL of the issue). */
  sessionTimeoutMs?: number;
  /** replica.lag.time.max.ms (default 3000). */
  replicaLagTimeMaxMs?: number;
  /** Extra broker settings by Kafka name, for every broker. */
  properties?: Record<string, string | number>;
}

export interface ClusterNodeHandle {
  id: number;
  port: number;
  dataDir: string;
  process: BrokerProcess | undefined;
}

export interface TestCluster {
  etcd: EtcdProcess;
  nodes: Map<number, ClusterNodeHandle>;
  /** Every broker's address, comma-separated (clients should know them all). */
  bootstrap: string;
  dir: string;
  /** Sends a signal; SIGKILL/SIGTERM also wait for the exit. */
  kill(id: number, signal?: NodeJS.Signals): Promise<void>;
  restart(id: number): Promise<void>;
  /** Metadata from any live broker: the partition's leader (-1 none), epoch and ISR. */
  partition(topic: string, p: number): Promise<{ leader: number; leaderEpoch: number; isr: number[]; replicas: number[] }>;
  /** Waits until the partition has a leader other than `not` (and returns it). */
  awaitLeader(topic: string, p: number, opts?: { not?: number; timeoutMs?: number }): Promise<number>;
  /** Waits until every broker answers Metadata with `count` live brokers. */
  awaitBrokers(count: number, timeoutMs?: number): Promise<void>;
  stderr(id: number): string;
  close(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const count = opts.brokers ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'brook-cluster-'));
  const etcd = await startEtcd({ dataDir: join(dir, 'etcd') });
  const nodes = new Map<number, ClusterNodeHandle>();
  for (let id = 1; id <= count; id++) {
    const dataDir = join(dir, `broker-${id}`);
    mkdirSync(dataDir, { recursive: true });
    nodes.set(id, { id, port: await freePort(), dataDir, process: undefined });
  }
  const settings = {
    'broker.session.timeout.ms': opts.sessionTimeoutMs ?? 3000,
    'replica.lag.time.max.ms': opts.replicaLagTimeMaxMs ?? 3000,
    'replica.fetch.backoff.ms': 200,
    'group.initial.rebalance.delay.ms': 0,
    'log.level': 'info',
    ...opts.properties,
  };
  const args = (id: number) => ['--node-id', String(id), '--etcd', etcd.endpoint, ...Object.entries(settings).flatMap(([k, v]) => ['--set', `${k}=${v}`])];
  const start = async (n: ClusterNodeHandle) => {
    n.process = await spawnBroker(n.dataDir, n.port, args(n.id));
  };
  const logs = new Map<number, string>();
  const anyClient = () => new KafkaClient({ bootstrap: [...nodes.values()].filter((n) => n.process).map((n) => `127.0.0.1:${n.port}`), clientId: 'cluster-harness', timeoutMs: 5000, requestTimeoutMs: 5000 });

  const cluster: TestCluster = {
    etcd,
    nodes,
    dir,
    bootstrap: [...nodes.values()].map((n) => `127.0.0.1:${n.port}`).join(','),
    async kill(id, signal = 'SIGKILL') {
      const n = nodes.get(id)!;
      const p = n.process;
      if (!p) return;
      p.kill(signal);
      if (signal === 'SIGKILL' || signal === 'SIGTERM') {
        await p.exited;
        logs.set(id, (logs.get(id) ?? '') + p.stderr());
        n.process = undefined;
      }
    },
    async restart(id) {
      const n = nodes.get(id)!;
      if (n.process) await cluster.kill(id, 'SIGKILL');
      await start(n);
    },
    async partition(topic, p) {
      const client = anyClient();
      try {
        const md = await client.metadata([topic]);
        const part = md.topics.get(topic)?.partitions.find((x) => x.partition === p);
        if (!part) throw new Error(`no metadata for ${topic}-${p}`);
        return { leader: part.leader, leaderEpoch: part.leaderEpoch, isr: part.isr, replicas: part.replicas };
      } finally {
        client.close();
      }
    },
    async awaitLeader(topic, p, o = {}) {
      let leader = -1;
      await until(
        `a leader of ${topic}-${p}${o.not !== undefined ? ` other than ${o.not}` : ''}`,
        async () => {
          leader = (await cluster.partition(topic, p).catch(() => ({ leader: -1 }))).leader;
          return leader >= 0 && leader !== o.not;
        },
        o.timeoutMs ?? 20_000,
      );
      return leader;
    },
    async awaitBrokers(want, timeoutMs = 20_000) {
      await until(
        `${want} live brokers`,
        async () => {
          const client = anyClient();
          try {
            return (await client.metadata([])).brokers.size === want;
          } catch {
            return false;
          } finally {
            client.close();
          }
        },
        timeoutMs,
      );
    },
    stderr(id) {
      return (logs.get(id) ?? '') + (nodes.get(id)!.process?.stderr() ?? '');
    },
    async close() {
      await Promise.all([...nodes.keys()].map((id) => cluster.kill(id, 'SIGKILL')));
      await etcd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all([...nodes.values()].map(start));
    await cluster.awaitBrokers(count);
  } catch (e) {
    const logs = [...nodes.keys()].map((id) => `--- broker ${id}:\n${cluster.stderr(id).slice(-3000)}`).join('\n');
    await cluster.close();
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
  return cluster;
}
