/**
 * Controller against a real etcd: three brokers, each with its ClusterStore and Controller, as in
 * a cluster; brokers "die" by closing their store (the lease is revoked: at once) or by pausing
 * their session (the lease expires after its TTL).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Controller, decidePartition } from '../../src/cluster/controller.js';
import { ClusterStore } from '../../src/cluster/store.js';
import type { PartitionState, TopicRecord } from '../../src/cluster/types.js';
import { silentLogger } from '../../src/util/logger.js';
import { uniquePrefix, useEtcd, waitFor } from './etcd-harness.js';

const etcd = useEtcd();

interface Node {
  id: number;
  store: ClusterStore;
  controller: Controller;
}

let nodes: Node[] = [];
afterEach(async () => {
  await Promise.all(
    nodes.map(async (n) => {
      await n.controller.stop();
      await n.store.close();
    }),
  );
  nodes = [];
});

async function startNode(prefix: string, nodeId: number, opts: { maxPartitionsPerTxn?: number; missingStateGraceMs?: number } = {}): Promise<Node> {
  const store = new ClusterStore({ endpoints: [etcd.endpoint], nodeId, sessionTimeoutMs: 3000, log: silentLogger, prefix });
  await store.open();
  await store.register({ nodeId, host: '127.0.0.1', port: 9000 + nodeId, rack: null });
  const controller = new Controller(store, silentLogger, opts);
  controller.start();
  const node = { id: nodeId, store, controller };
  nodes.push(node);
  return node;
}

async function stopNode(n: Node): Promise<void> {
  await n.controller.stop();
  await n.store.close();
}

const state = (leader: number, isr: number[], leaderEpoch = 0): PartitionState => ({ leader, leaderEpoch, isr, controllerEpoch: 0, version: 0 });
const topic = (name: string, assignment: number[][], configs: TopicRecord['configs'] = {}): TopicRecord => ({ name, id: `id-${name}`, assignment, configs });

describe('decidePartition', () => {
  const live = new Set([2, 3]);
  it('keeps a live leader and drops dead brokers from the ISR without a new leader epoch', () => {
    expect(decidePartition([2, 1, 3], state(2, [2, 1, 3], 4), live, 7, false)).toEqual({ next: { leader: 2, leaderEpoch: 4, isr: [2, 3], controllerEpoch: 7 }, unclean: false });
    expect(decidePartition([2, 3], state(2, [2, 3], 4), live, 7, false)).toBeNull();
  });
  it('elects the first live ISR member in assignment order, not ISR order', () => {
    expect(decidePartition([1, 3, 2], state(1, [1, 2, 3], 4), live, 7, false)?.next).toEqual({ leader: 3, leaderEpoch: 5, isr: [2, 3], controllerEpoch: 7 });
  });
  it('goes offline (leader -1, ISR kept, epoch bumped) without a live ISR member; unclean elects any live replica', () => {
    expect(decidePartition([1, 2], state(1, [1], 4), live, 7, false)?.next).toEqual({ leader: -1, leaderEpoch: 5, isr: [1], controllerEpoch: 7 });
    expect(decidePartition([1, 2], state(-1, [1], 5), live, 7, false)).toBeNull();
    expect(decidePartition([1, 2], state(1, [1], 4), live, 7, true)).toEqual({ next: { leader: 2, leaderEpoch: 5, isr: [2], controllerEpoch: 7 }, unclean: true });
  });
  it('brings an offline partition back when an ISR member returns', () => {
    expect(decidePartition([1, 2], state(-1, [1, 2], 5), new Set([2]), 8, false)?.next).toEqual({ leader: 2, leaderEpoch: 6, isr: [2], controllerEpoch: 8 });
  });
});

describe('Controller', () => {
  it('elects the next ISR member when the leader dies, and leader -1 when no ISR member lives', async () => {
    const prefix = uniquePrefix();
    const [n1, n2, n3] = [await startNode(prefix, 1), await startNode(prefix, 2), await startNode(prefix, 3)];
    const admin = n3.store;
    await admin.createTopic(topic('t', [[1, 2, 3], [1, 3, 2]]), [state(1, [1, 2, 3]), state(1, [1, 3, 2])]);
    await admin.createTopic(topic('solo', [[2]]), [state(2, [2])]);
    await waitFor(() => nodes.some((n) => n.controller.active), 3000, 'a controller');

    await stopNode(n1); // revokes its lease: the registration disappears at once
    await waitFor(() => admin.partition('t', 0)?.leader === 2 && admin.partition('t', 1)?.leader === 3, 3000 + 1000, 'new leaders');
    expect(admin.partition('t', 0)).toMatchObject({ leader: 2, leaderEpoch: 1, isr: [2, 3] });
    expect(admin.partition('t', 1)).toMatchObject({ leader: 3, leaderEpoch: 1, isr: [3, 2] });
    expect(admin.partition('t', 0)!.controllerEpoch).toBe(admin.controller()!.epoch);

    await stopNode(n2);
    await waitFor(() => admin.partition('solo', 0)?.leader === -1, 4000, 'solo offline');
    expect(admin.partition('solo', 0)).toMatchObject({ leader: -1, leaderEpoch: 1, isr: [2] });
    expect(admin.partition('t', 0)).toMatchObject({ leader: 3, leaderEpoch: 2, isr: [3] });
  });

  it('elects a returning ISR member of an offline partition, and a live replica under unclean election', async () => {
    const prefix = uniquePrefix();
    const n1 = await startNode(prefix, 1);
    await n1.store.createTopic(topic('off', [[2, 1]]), [state(-1, [2], 3)]);
    await n1.store.createTopic(topic('dirty', [[2, 1]], { 'unclean.leader.election.enable': true }), [state(2, [2], 3)]);
    await waitFor(() => n1.store.partition('dirty', 0)?.leader === 1, 3000, 'the unclean election');
    expect(n1.store.partition('dirty', 0)).toMatchObject({ leader: 1, leaderEpoch: 4, isr: [1] });
    expect(n1.store.partition('off', 0)).toMatchObject({ leader: -1, leaderEpoch: 3 });

    await startNode(prefix, 2);
    await waitFor(() => n1.store.partition('off', 0)?.leader === 2, 3000, 'the returning ISR member to lead');
    expect(n1.store.partition('off', 0)).toMatchObject({ leader: 2, leaderEpoch: 4, isr: [2] });
  });

  it('fails over the controller role when the controller dies, and the new one reconciles', async () => {
    const prefix = uniquePrefix();
    const all = [await startNode(prefix, 1), await startNode(prefix, 2), await startNode(prefix, 3)];
    const first = await waitFor(() => all.find((n) => n.controller.active), 3000, 'a controller');
    const others = all.filter((n) => n !== first);
    // A partition led by the controller's own broker, followed by another.
    const id = first.id;
    const other = others[0].store;
    const otherId = others[0].id;
    await other.createTopic(topic('x', [[id, otherId]]), [state(id, [id, otherId])]);
    await waitFor(() => other.partition('x', 0), 2000, 'x in the mirror');

    const killedAt = Date.now();
    first.store.pauseSessionForTest(); // a paused process: its lease lapses after the TTL
    await waitFor(() => others.some((n) => n.controller.active), 3000 + 2000, 'a new controller');
    await waitFor(() => other.partition('x', 0)?.leader === otherId, 2000, 'the failover of x');
    expect(Date.now() - killedAt).toBeLessThan(3000 + 2500);
    expect(other.partition('x', 0)).toMatchObject({ leaderEpoch: 1, isr: [otherId] });
    expect(other.partition('x', 0)!.controllerEpoch).toBe(other.controller()!.epoch);
  });

  it('hands the role over at once when the controller stops while its broker stays up', async () => {
    const prefix = uniquePrefix();
    const all = [await startNode(prefix, 1), await startNode(prefix, 2)];
    const first = await waitFor(() => all.find((n) => n.controller.active), 3000, 'a controller');
    const second = all.find((n) => n !== first)!;
    const stoppedAt = Date.now();
    await first.controller.stop();
    expect(first.store.isController()).toBe(false);
    await waitFor(() => second.controller.active, 2000, 'the other broker to take over');
    expect(Date.now() - stoppedAt).toBeLessThan(1500);
    // The stopped controller does not campaign again.
    await new Promise((r) => setTimeout(r, 300));
    expect(first.store.isController()).toBe(false);
    expect(first.store.sessionLive).toBe(true);
  });

  it('writes the initial state of partitions a creator left without one, after the grace period', async () => {
    const prefix = uniquePrefix();
    const n1 = await startNode(prefix, 1, { missingStateGraceMs: 500 });
    await startNode(prefix, 2, { missingStateGraceMs: 500 });
    // A creator that stopped after its first batch: three partitions listed, one state written.
    const startedAt = Date.now();
    await n1.store.createTopic(topic('half', [[1, 2], [2, 1], [3, 2]]), [state(1, [1, 2])]);
    await waitFor(() => n1.store.partitions('half').size === 3, 3000, 'the missing states');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(450);
    expect(n1.store.partition('half', 1)).toMatchObject({ leader: 2, leaderEpoch: 0, isr: [2, 1] });
    expect(n1.store.partition('half', 2)).toMatchObject({ leader: 2, leaderEpoch: 0, isr: [2] });
    expect(n1.store.partition('half', 0)).toMatchObject({ leader: 1, leaderEpoch: 0, isr: [1, 2] });
  });

  it('moves leadership back to the preferred replica on request', async () => {
    const prefix = uniquePrefix();
    const all = [await startNode(prefix, 1), await startNode(prefix, 2)];
    await all[0].store.createTopic(topic('pref', [[1, 2]]), [state(2, [2, 1], 3)]);
    const active = await waitFor(() => all.find((n) => n.controller.active), 3000, 'a controller');
    await waitFor(() => active.store.partition('pref', 0), 2000, 'the state');
    expect(await active.controller.preferredElection('pref', 0)).toBe(true);
    expect(active.store.partition('pref', 0)).toMatchObject({ leader: 1, leaderEpoch: 4, isr: [2, 1] });
    expect(await active.controller.preferredElection('pref', 0)).toBe(false); // already there
    const passive = all.find((n) => n !== active)!;
    expect(await passive.controller.preferredElection('pref', 0)).toBe(false); // not the controller
  });

  it('changes many partitions in batches below etcd\'s transaction limit', async () => {
    const prefix = uniquePrefix();
    const n1 = await startNode(prefix, 1, { maxPartitionsPerTxn: 50 });
    const n2 = await startNode(prefix, 2, { maxPartitionsPerTxn: 50 });
    const count = 300;
    const assignment = Array.from({ length: count }, () => [2, 1]);
    await n1.store.createTopic(topic('many', assignment), assignment.map(() => state(2, [2, 1])));
    await waitFor(() => n1.store.partitions('many').size === count, 3000, 'all states');
    await stopNode(n2);
    await waitFor(() => [...n1.store.partitions('many').values()].every((s) => s.leader === 1), 5000, 'all 300 partitions to move');
    expect([...n1.store.partitions('many').values()].every((s) => s.leaderEpoch === 1 && s.isr.length === 1)).toBe(true);
  });
});
