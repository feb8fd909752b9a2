/**
 * Divergent logs, after Kafka's KIP-101/KIP-279 acceptance tests (EpochDrivenReplicationProtocol-
 * AcceptanceTest, removed with ZooKeeper, read at 7c429f3^): a leader that wrote records no
 * follower copied, or lost records it had acknowledged to itself, comes back as a follower; once
 * the replicas are in sync again their `.log` bytes and `leader-epoch-checkpoint` files must be
 * identical and no acknowledged (acks=all) record may be missing.
 */
import { readdirSync, readFileSync, truncateSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { until } from '../integration/harness.js';
import type { TestCluster } from './cluster-harness.js';
import { kafkajsOf, logBrokersOnFailure, useCluster } from './cluster-fixture.js';

let c: TestCluster;
useCluster({ brokers: 3 }, (started) => (c = started));

const kafka = (only?: number) => kafkajsOf(c, 'divergence-test', only);

/** Every segment's bytes of one replica, in base-offset order, and its epoch checkpoint. */
function replicaFiles(id: number, topic: string, p: number): { log: Buffer; epochs: string } {
  const dir = join(c.nodes.get(id)!.dataDir, `${topic}-${p}`);
  const segments = readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();
  const epochsPath = join(dir, 'leader-epoch-checkpoint');
  return { log: Buffer.concat(segments.map((f) => readFileSync(join(dir, f)))), epochs: existsSync(epochsPath) ? readFileSync(epochsPath, 'utf8') : '' };
}

async function createTopic(topic: string): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
  await admin.disconnect();
}

async function produce(topic: string, values: string[], acks: number, only?: number): Promise<void> {
  const producer = kafka(only).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (const value of values) await producer.send({ topic, acks, messages: [{ value }] });
  } finally {
    await producer.disconnect();
  }
}

/** Reads the partition from the start until `last` (the last value written) has been read. */
async function readAll(topic: string, last: string): Promise<string[]> {
  const consumer = kafka().consumer({ groupId: `read-${topic}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read ${seen.length} records, not up to ${last}`)), 30_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value!.toString());
        if (seen.at(-1) === last) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return seen;
}

/** Waits until every replica is in the ISR and holds the same log end (its .log size). */
async function awaitInSync(topic: string): Promise<void> {
  await until(`${topic}-0 fully in sync`, async () => {
    const s = await c.partition(topic, 0).catch(() => undefined);
    if (!s || s.isr.length !== 3) return false;
    const sizes = [1, 2, 3].map((id) => replicaFiles(id, topic, 0).log.length);
    return sizes.every((n) => n === sizes[0]);
  }, 30_000);
}

function expectIdenticalReplicas(topic: string): void {
  const [a, b, d] = [1, 2, 3].map((id) => replicaFiles(id, topic, 0));
  expect(a!.log.length).toBeGreaterThan(0);
  expect(b!.log.equals(a!.log)).toBe(true);
  expect(d!.log.equals(a!.log)).toBe(true);
  expect(b!.epochs).toBe(a!.epochs);
  expect(d!.epochs).toBe(a!.epochs);
}

describe('divergent logs after leader failures (KIP-101, KIP-279)', () => {
  it('a leader that appended records no follower copied truncates them when it returns as a follower', async () => {
    logBrokersOnFailure(c);
    await createTopic('diverge');
    const committed = Array.from({ length: 20 }, (_, i) => `a${i}`);
    await produce('diverge', committed, -1);
    const leader = (await c.partition('diverge', 0)).leader;
    const followers = [1, 2, 3].filter((id) => id !== leader);
    // The followers stop fetching (paused well inside the session timeout and the lag time), the
    // leader takes acks=1 records only it will ever hold, then dies.
    for (const f of followers) await c.kill(f, 'SIGSTOP');
    try {
      await produce('diverge', ['lost1', 'lost2', 'lost3'], 1, leader);
    } finally {
      await c.kill(leader, 'SIGKILL');
      for (const f of followers) await c.kill(f, 'SIGCONT');
    }
    const newLeader = await c.awaitLeader('diverge', 0, { not: leader, timeoutMs: 30_000 });
    expect(followers).toContain(newLeader);
    const after = Array.from({ length: 10 }, (_, i) => `b${i}`);
    await produce('diverge', after, -1);
    await c.restart(leader);
    await awaitInSync('diverge');
    expectIdenticalReplicas('diverge');
    // What the paused followers had not taken from the old leader's socket is cut from its log
    // (a record already in a follower's socket buffer may survive: acks=1 promises nothing more).
    expect(c.stderr(leader)).toMatch(/diverge\/0: truncating from 23 to 2[0-2] to match leader/);
    const read = await readAll('diverge', after.at(-1)!);
    expect(read.filter((v) => !v.startsWith('lost'))).toEqual([...committed, ...after]);
  }, 150_000);

  it('a leader that lost its unflushed tail (power loss) comes back, catches up, and the replicas match byte for byte', async () => {
    logBrokersOnFailure(c);
    await createTopic('powerloss');
    const first = Array.from({ length: 30 }, (_, i) => `p${i}`);
    await produce('powerloss', first, -1);
    const leader = (await c.partition('powerloss', 0)).leader;
    await c.kill(leader, 'SIGKILL');
    // Power loss: the page cache is gone, so the log ends early. Cut the last third of the active
    // segment (mid-batch: recovery must drop the torn batch), as Kafka's test cuts the leader's .log.
    const dir = join(c.nodes.get(leader)!.dataDir, 'powerloss-0');
    const active = readdirSync(dir).filter((f) => f.endsWith('.log')).sort().at(-1)!;
    const size = statSync(join(dir, active)).size;
    truncateSync(join(dir, active), Math.floor((size * 2) / 3));
    await c.awaitLeader('powerloss', 0, { not: leader, timeoutMs: 30_000 });
    const second = Array.from({ length: 15 }, (_, i) => `q${i}`);
    await produce('powerloss', second, -1);
    await c.restart(leader);
    await awaitInSync('powerloss');
    expectIdenticalReplicas('powerloss');
    const read = await readAll('powerloss', second.at(-1)!);
    expect(read).toEqual([...first, ...second]);
  }, 150_000);

  it('fast leader changes: every replica led in turn, offsets never go backwards, replicas identical', async () => {
    logBrokersOnFailure(c);
    await createTopic('fastchange');
    const written: string[] = [];
    let lastEnd = -1;
    for (let round = 0; round < 3; round++) {
      const values = Array.from({ length: 10 }, (_, i) => `r${round}-${i}`);
      await produce('fastchange', values, -1);
      written.push(...values);
      const leader = (await c.partition('fastchange', 0)).leader;
      await awaitInSync('fastchange');
      const end = replicaFiles(leader, 'fastchange', 0).log.length;
      expect(end).toBeGreaterThan(lastEnd);
      lastEnd = end;
      await c.kill(leader, 'SIGKILL');
      await c.awaitLeader('fastchange', 0, { not: leader, timeoutMs: 30_000 });
      await c.restart(leader);
    }
    // Followers learn an epoch from its first batch (as in Kafka): the last leader writes once.
    const last = ['final-0', 'final-1'];
    await produce('fastchange', last, -1);
    written.push(...last);
    await awaitInSync('fastchange');
    expectIdenticalReplicas('fastchange');
    const epochs = replicaFiles(1, 'fastchange', 0).epochs.trim().split('\n');
    expect(Number(epochs[1])).toBeGreaterThanOrEqual(3); // one entry per leader that wrote
    expect(await readAll('fastchange', written.at(-1)!)).toEqual(written);
  }, 200_000);
});
