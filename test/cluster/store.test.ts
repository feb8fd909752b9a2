/**
 * ClusterStore against a real etcd (one member for the file; each test has its own key prefix).
 * Session timeout 3000 ms: lease TTL 3 s, renewals every 1 s, self-fence after 2.5 s silent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd } from '../../src/cluster/etcd-process.js';
import { ClusterStore, ClusterIdMismatchError, NodeIdInUseError } from '../../src/cluster/store.js';
import type { ClusterEvent, PartitionState, TopicRecord } from '../../src/cluster/types.js';
import { silentLogger } from '../../src/util/logger.js';
import { uniquePrefix, useEtcd, waitFor } from './etcd-harness.js';

const etcd = useEtcd();
const SESSION_MS = 3000;

let stores: ClusterStore[] = [];
afterEach(async () => {
  await Promise.all(stores.map((s) => s.close()));
  stores = [];
});

function makeStore(prefix: string, nodeId: number): ClusterStore {
  const s = new ClusterStore({ endpoints: [etcd.endpoint], nodeId, sessionTimeoutMs: SESSION_MS, log: silentLogger, prefix });
  stores.push(s);
  return s;
}

async function openRegistered(prefix: string, nodeId: number): Promise<ClusterStore> {
  const s = makeStore(prefix, nodeId);
  await s.open();
  await s.register({ nodeId, host: '127.0.0.1', port: 9000 + nodeId, rack: null });
  return s;
}

const topic = (name: string, assignment: number[][]): TopicRecord => ({ name, id: `id-${name}`, assignment, configs: {} });
const state = (leader: number, isr: number[], leaderEpoch = 0): PartitionState => ({ leader, leaderEpoch, isr, controllerEpoch: 1, version: 0 });

describe('ClusterStore', () => {
  it('creates the cluster id once and refuses a broker whose data dir names another cluster', async () => {
    const prefix = uniquePrefix();
    const a = makeStore(prefix, 1);
    const cid = await a.open('cluster-A');
    expect(cid).toBe('cluster-A');
    const b = makeStore(prefix, 2);
    expect(await b.open()).toBe('cluster-A');
    const c = makeStore(prefix, 3);
    await expect(c.open('cluster-B')).rejects.toBeInstanceOf(ClusterIdMismatchError);
  });

  it('registers a broker with its epoch, visible in every mirror, and refuses a duplicate node id', async () => {
    const prefix = uniquePrefix();
    const a = await openRegistered(prefix, 1);
    const b = await openRegistered(prefix, 2);
    expect(a.sessionLive).toBe(true);
    expect(a.brokerEpoch).toBeGreaterThan(0);
    await waitFor(() => a.brokers().size === 2 && b.brokers().size === 2, 3000, 'both registrations in both mirrors');
    expect(a.brokers().get(2)).toEqual({ nodeId: 2, host: '127.0.0.1', port: 9002, rack: null, epoch: b.brokerEpoch });

    const dup = makeStore(prefix, 1);
    await dup.open();
    await expect(dup.register({ nodeId: 1, host: 'h', port: 1, rack: null })).rejects.toThrow(NodeIdInUseError);
    expect(dup.sessionLive).toBe(false);
    expect(a.sessionLive).toBe(true);
    // With a wait, the same id registers once the holder is gone (a restart after a crash).
    const waiting = dup.register({ nodeId: 1, host: 'h', port: 1, rack: null }, { waitForExpiryMs: 3000 });
    await new Promise((r) => setTimeout(r, 300));
    await a.close();
    await expect(waiting).resolves.toBeGreaterThan(a.brokerEpoch);
    expect(dup.sessionLive).toBe(true);
  });

  it('removes a registration at once on close, and after the TTL when renewals stop', async () => {
    const prefix = uniquePrefix();
    const watcher = await openRegistered(prefix, 9);
    const closing = await openRegistered(prefix, 1);
    const lapsing = await openRegistered(prefix, 2);
    await waitFor(() => watcher.brokers().size === 3, 3000, 'three registrations');

    await closing.close();
    await waitFor(() => !watcher.brokers().has(1), 1000, 'the closed broker to disappear at once');

    const paused = Date.now();
    lapsing.pauseSessionForTest();
    await waitFor(() => !watcher.brokers().has(2), 6000, 'the paused broker to expire');
    const took = Date.now() - paused;
    // Its last renewal happened up to 1 s before the pause; etcd expires the lease TTL after it.
    expect(took).toBeGreaterThan(1500);
    expect(took).toBeLessThan(4500);
  });

  it('deregisters: the registration and controller key go at once, the mirror keeps following etcd', async () => {
    const prefix = uniquePrefix();
    const leaving = await openRegistered(prefix, 1);
    const other = await openRegistered(prefix, 2);
    await leaving.campaign();
    await waitFor(() => other.brokers().size === 2 && other.controller()?.nodeId === 1, 3000, 'both brokers and the controller in the other mirror');
    const events: ClusterEvent[] = [];
    leaving.onChange((e) => events.push(e));

    const at = Date.now();
    await leaving.deregister();
    await waitFor(() => !other.brokers().has(1) && other.controller() === null, 1000, 'the registration and controller key to disappear at once');
    expect(Date.now() - at).toBeLessThan(1000);
    expect(leaving.sessionLive).toBe(false);
    expect(leaving.isController()).toBe(false);

    // The other broker takes over; the deregistered store sees that and later writes too.
    await other.campaign();
    await waitFor(() => leaving.controller()?.nodeId === 2 && !leaving.brokers().has(1), 2000, 'the new controller in the leaving mirror');
    await other.createTopic(topic('after-deregister', [[2]]), [state(2, [2])]);
    await waitFor(() => leaving.topics().has('after-deregister') && leaving.partition('after-deregister', 0)?.leader === 2, 2000, 'a later topic in the leaving mirror');
    // No fence, no re-registration: past the fence deadline (2.5 s) the store stays quietly out.
    await new Promise((r) => setTimeout(r, SESSION_MS));
    expect(events.filter((e) => e.kind === 'session')).toEqual([]);
    expect(other.brokers().has(1)).toBe(false);
    await leaving.close();
    await leaving.close();
  });

  it('fences itself when renewals fail, then registers again with a new epoch', async () => {
    const prefix = uniquePrefix();
    const s = await openRegistered(prefix, 1);
    const events: ClusterEvent[] = [];
    s.onChange((e) => events.push(e));
    const firstEpoch = s.brokerEpoch;
    // Revoke the lease behind the store's back: the next renewal gets TTL 0.
    const raw = new Etcd3({ hosts: [etcd.endpoint] });
    try {
      const kv = await raw.get(`${prefix}/${s.clusterId}/brokers/ids/1`).exec();
      await raw.leaseClient.leaseRevoke({ ID: kv.kvs[0].lease });
    } finally {
      raw.close();
    }
    await waitFor(() => events.some((e) => e.kind === 'session' && !e.live), 3000, 'the self-fence');
    await waitFor(() => s.sessionLive, 4000, 'the re-registration');
    expect(s.brokerEpoch).toBeGreaterThan(firstEpoch);
    expect(events.filter((e) => e.kind === 'session').map((e) => (e as { live: boolean }).live)).toEqual([false, true]);
    await waitFor(() => s.brokers().get(1)?.epoch === s.brokerEpoch, 2000, 'the new epoch in the mirror');
  });

  it('creates, changes and deletes topics; other mirrors see the changes through the watch', async () => {
    const prefix = uniquePrefix();
    const a = await openRegistered(prefix, 1);
    const b = await openRegistered(prefix, 2);
    const seen: ClusterEvent[] = [];
    b.onChange((e) => seen.push(e));
    expect(await a.createTopic(topic('t', [[1, 2], [2, 1]]), [state(1, [1, 2]), state(2, [2, 1])])).toBe('created');
    expect(await a.createTopic(topic('t', [[1]]), [state(1, [1])])).toBe('exists');
    await waitFor(() => b.partition('t', 1), 2000, 'partition t-1 in the other mirror');
    expect(b.topics().get('t')?.assignment).toEqual([[1, 2], [2, 1]]);
    expect(b.partition('t', 0)).toMatchObject({ leader: 1, isr: [1, 2], leaderEpoch: 0 });
    expect(seen.some((e) => e.kind === 'topic' && e.name === 't')).toBe(true);

    await a.addPartitions('t', [[1, 2], [2, 1], [1, 2]], [state(1, [1, 2])]);
    await waitFor(() => b.partition('t', 2), 2000, 'the added partition');
    expect(b.topics().get('t')?.assignment.length).toBe(3);

    await a.setTopicConfigs('t', { 'retention.ms': 1000 });
    await waitFor(() => b.topics().get('t')?.configs['retention.ms'] === 1000, 2000, 'the new config');

    expect(await a.deleteTopic('t')).toBe(true);
    expect(await a.deleteTopic('t')).toBe(false);
    await waitFor(() => !b.topics().has('t') && b.partition('t', 0) === undefined, 2000, 'the deletion');
  });

  it('writes a topic with more partitions than one etcd transaction allows', async () => {
    const prefix = uniquePrefix();
    const a = await openRegistered(prefix, 1);
    const n = 300;
    const assignment = Array.from({ length: n }, () => [1]);
    expect(await a.createTopic(topic('big', assignment), assignment.map(() => state(1, [1])))).toBe('created');
    await waitFor(() => a.partitions('big').size === n, 3000, 'all 300 partition states');
  });

  it('compare-and-sets a partition state on its version, refusing stale versions and other leader epochs', async () => {
    const prefix = uniquePrefix();
    const a = await openRegistered(prefix, 1);
    const b = await openRegistered(prefix, 2);
    await a.createTopic(topic('cas', [[1, 2]]), [state(1, [1, 2], 3)]);
    const s0 = await waitFor(() => a.partition('cas', 0), 2000, 'the state');

    const s1 = await a.compareAndSetPartition('cas', 0, s0.version, { leader: 1, leaderEpoch: 3, isr: [1], controllerEpoch: 1 });
    expect(s1).not.toBeNull();
    expect(s1!.version).toBeGreaterThan(s0.version);
    // The same stale version again: refused.
    expect(await a.compareAndSetPartition('cas', 0, s0.version, { leader: 1, leaderEpoch: 3, isr: [1, 2], controllerEpoch: 1 })).toBeNull();
    // The current version but another leader epoch: refused.
    expect(await a.compareAndSetPartition('cas', 0, s1!.version, { leader: 1, leaderEpoch: 4, isr: [1, 2], controllerEpoch: 1 })).toBeNull();
    await waitFor(() => b.partition('cas', 0)?.version === s1!.version, 2000, 'the CAS in the other mirror');
    expect(b.partition('cas', 0)?.isr).toEqual([1]);
    // Two writers racing on the same version: exactly one wins (decided inside etcd).
    const race = await Promise.all([
      a.compareAndSetPartition('cas', 0, s1!.version, { leader: 1, leaderEpoch: 3, isr: [1, 2], controllerEpoch: 1 }),
      b.compareAndSetPartition('cas', 0, s1!.version, { leader: 1, leaderEpoch: 3, isr: [1, 3], controllerEpoch: 1 }),
    ]);
    expect(race.filter((r) => r !== null).length).toBe(1);
  });

  it('hands out producer id blocks that never overlap across stores allocating concurrently', async () => {
    const prefix = uniquePrefix();
    const all = await Promise.all([1, 2, 3].map((id) => openRegistered(prefix, id)));
    const blocks = (await Promise.all(all.flatMap((s) => Array.from({ length: 10 }, () => s.allocateProducerIdBlock(1000))))).sort((x, y) => x.start - y.start);
    expect(blocks.length).toBe(30);
    expect(blocks[0].start).toBe(0);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i].start).toBe(blocks[i - 1].end);
    expect(blocks.at(-1)!.end).toBe(30_000);
  });

  it('elects one controller among three; on its close another takes over within TTL + 1 s', async () => {
    const prefix = uniquePrefix();
    const all = await Promise.all([1, 2, 3].map((id) => openRegistered(prefix, id)));
    const first = await Promise.race(all.map((s) => s.campaign().then(() => s)));
    await waitFor(() => all.every((s) => s.controller()?.nodeId === first.controller()?.nodeId), 2000, 'all mirrors to agree');
    expect(all.filter((s) => s.isController())).toEqual([first]);
    const epoch1 = first.controller()!.epoch;

    const rest = all.filter((s) => s !== first);
    const closedAt = Date.now();
    await first.close();
    const second = await Promise.race(rest.map((s) => s.campaign().then(() => s)));
    expect(Date.now() - closedAt).toBeLessThan(SESSION_MS + 1000);
    expect(second.controller()!.epoch).toBe(epoch1 + 1);
    await waitFor(() => rest.filter((s) => s.isController()).length === 1, 2000, 'exactly one controller');
  });

  it('rejects the transactions of a controller whose lease lapsed while it still believes it leads', async () => {
    const prefix = uniquePrefix();
    const zombie = await openRegistered(prefix, 1);
    await zombie.campaign();
    const ok = await zombie.controllerTxn().put('marker', '"before"').commit();
    expect(ok.succeeded).toBe(true);

    // Built while still controller, committed after the pause: what a paused process does. Only
    // etcd's compare on the controller key's create revision can stop it.
    const pending = zombie.controllerTxn().put('marker', '"zombie"');
    zombie.pauseSessionForTest();
    const other = await openRegistered(prefix, 2);
    const info = await other.campaign(); // waits until the zombie's key expires with its lease
    expect(info.nodeId).toBe(2);

    expect((await pending.commit()).succeeded).toBe(false);
    // A txn built after its mirror saw the new controller is refused too.
    expect((await zombie.controllerTxn().put('marker', '"zombie"').commit()).succeeded).toBe(false);
    const raw = new Etcd3({ hosts: [etcd.endpoint] });
    try {
      expect(await raw.get(`${prefix}/${zombie.clusterId}/marker`).string()).toBe('"before"');
    } finally {
      raw.close();
    }
    expect((await other.controllerTxn().put('marker', '"new"').commit()).succeeded).toBe(true);
  });

  it('re-reads everything and emits resync when the watch is cancelled by compaction', async () => {
    const prefix = uniquePrefix();
    const a = await openRegistered(prefix, 1);
    const events: ClusterEvent[] = [];
    a.onChange((e) => events.push(e));
    // Cancel the watch the way etcd does after a compaction: simulate by forcing a resync through
    // the watcher's error path (the watcher is private; emitting on it is the test hook).
    (a as unknown as { watcher: { emit(ev: string, err: Error): void } }).watcher.emit('error', new Error('Watcher canceled: compacted'));
    await a.createTopic(topic('after', [[1]]), [state(1, [1])]);
    await waitFor(() => events.some((e) => e.kind === 'resync'), 3000, 'the resync');
    await waitFor(() => a.partition('after', 0), 3000, 'the new topic after the resync');
  });
});

describe('ClusterStore session deadline', () => {
  it('fences itself when etcd stops answering, before the lease could expire, and registers again after', async () => {
    const prefix = uniquePrefix();
    const s = await openRegistered(prefix, 1);
    const firstEpoch = s.brokerEpoch;
    const events: { live: boolean; at: number }[] = [];
    s.onChange((e) => {
      if (e.kind === 'session') events.push({ live: e.live, at: Date.now() });
    });
    const stoppedAt = Date.now();
    etcd.process.kill('SIGSTOP');
    try {
      await waitFor(() => events.length >= 1, 4000, 'the self-fence');
    } finally {
      etcd.process.kill('SIGCONT');
    }
    // Fence deadline: 2.5 s after the last renewal was sent, which was at most 1 s before the stop.
    expect(events[0].live).toBe(false);
    expect(events[0].at - stoppedAt).toBeLessThan(2600);
    await waitFor(() => s.sessionLive, 8000, 'the re-registration');
    expect(s.brokerEpoch).toBeGreaterThan(firstEpoch);
  });
});

describe('ClusterStore across an etcd restart', () => {
  it('resumes its watch and keeps or regains its session when etcd restarts', async () => {
    const prefix = uniquePrefix();
    const a = await openRegistered(prefix, 1);
    const b = await openRegistered(prefix, 2);
    await etcd.process.restart();
    await waitFor(() => a.sessionLive && b.sessionLive, 8000, 'live sessions after the restart');
    // Retried: the client may still be reconnecting.
    await waitFor(async () => (await a.createTopic(topic('later', [[1]]), [state(1, [1])]).catch(() => null)) !== null, 8000, 'a write after the restart');
    await waitFor(() => b.partition('later', 0), 8000, 'the write in the other mirror');
    await waitFor(() => b.brokers().size === 2, 8000, 'both registrations');
  });
});

describe('startEtcd', () => {
  it('fails with the exit status and stderr tail when etcd cannot start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'brook-etcd-bad-'));
    try {
      // The member's client port is taken by the running etcd: the second one cannot listen.
      const port = Number(new URL(etcd.endpoint).port);
      const err = await startEtcd({ dataDir: join(dir, 'etcd'), clientPort: port, startTimeoutMs: 5000 }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/etcd exited during start-up \(code \d+\); stderr tail:\n.*address already in use/s);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
