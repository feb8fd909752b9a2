/**
 * The classic rebalance state machine (src/coordinator/group.ts) driven directly, with fake timers:
 * every transition, timer and error code a client can observe.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Group, NEW_MEMBER_JOIN_TIMEOUT_MS, type GroupEnv, type JoinRequest, type JoinResult, type SyncResult } from '../../../src/coordinator/group.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { silentLogger } from '../../../src/util/logger.js';

interface Env extends GroupEnv {
  stored: { generation: number; assignments: Map<string, Buffer> }[];
  failStore: boolean;
}

function makeEnv(over: Partial<GroupEnv> = {}): Env {
  const env: Env = {
    initialRebalanceDelayMs: 0,
    maxSize: 100,
    stored: [],
    failStore: false,
    storeGroup(group, assignments) {
      env.stored.push({ generation: group.generationId, assignments });
      return env.failStore ? Promise.reject(new Error('disk on fire')) : Promise.resolve();
    },
    log: silentLogger,
    ...over,
  };
  return env;
}

const meta = (s: string) => Buffer.from(s);

function req(over: Partial<JoinRequest> = {}): JoinRequest {
  return {
    memberId: '',
    groupInstanceId: null,
    requireKnownMemberId: false,
    supportSkippingAssignment: false,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    rebalanceTimeoutMs: 1000,
    sessionTimeoutMs: 500,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: meta('m') }],
    ...over,
  };
}

/** A JoinGroup whose answer may come later. */
function join(g: Group, r: JoinRequest): { result: JoinResult | undefined; done: Promise<JoinResult> } {
  const out: { result: JoinResult | undefined; done: Promise<JoinResult> } = { result: undefined, done: undefined as never };
  out.done = new Promise((resolve) =>
    g.join(r, (res) => {
      out.result = res;
      resolve(res);
    }),
  );
  return out;
}

function sync(g: Group, memberId: string, generationId: number, assignments: { memberId: string; assignment: Buffer }[] = []) {
  const out: { result: SyncResult | undefined; done: Promise<SyncResult> } = { result: undefined, done: undefined as never };
  out.done = new Promise((resolve) =>
    g.sync({ memberId, generationId, groupInstanceId: null, protocolType: null, protocolName: null, assignments }, (res) => {
      out.result = res;
      resolve(res);
    }),
  );
  return out;
}

/** Joins `n` dynamic members and completes the rebalance; returns member ids (leader first). */
async function stableGroup(g: Group, n: number, over: Partial<JoinRequest> = {}): Promise<string[]> {
  const joins = Array.from({ length: n }, () => join(g, req(over)));
  await settle();
  const results = await Promise.all(joins.map((j) => j.done));
  const leader = results.find((r) => r.leader === r.memberId)!;
  const ids = [leader.memberId, ...results.filter((r) => r !== leader).map((r) => r.memberId)];
  const syncs = ids.map((id) => sync(g, id, leader.generationId, id === leader.memberId ? ids.map((m) => ({ memberId: m, assignment: meta(`a-${m}`) })) : []));
  await settle();
  await Promise.all(syncs.map((s) => s.done));
  expect(g.state).toBe('Stable');
  return ids;
}

/** Joins two dynamic members and lets the join phase end (CompletingRebalance, generation 1). */
async function joinedPair(g: Group, over: Partial<JoinRequest> = {}): Promise<{ leader: string; follower: string }> {
  const a = join(g, req(over));
  const b = join(g, req(over));
  await settle();
  const leader = (await a.done).leader;
  const follower = [a.result!, b.result!].find((r) => r.memberId !== leader)!.memberId;
  return { leader, follower };
}

/** Lets due timers (Node runs a 0 ms timer after 1 ms) and promise callbacks run. */
const settle = () => vi.advanceTimersByTimeAsync(2);

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('JoinGroup', () => {
  it('answers the first v4+ join with MEMBER_ID_REQUIRED and a `${clientId}-${uuid}` member id', () => {
    const g = new Group('g', makeEnv());
    const j = join(g, req({ requireKnownMemberId: true, clientId: 'my-app' }));
    expect(j.result?.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(j.result?.memberId).toMatch(/^my-app-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(g.state).toBe('Empty');
    expect(g.pendingMembers.has(j.result!.memberId)).toBe(true);
  });

  it('completes a rebalance: generation 1, the leader alone gets the members and their metadata', async () => {
    const g = new Group('g', makeEnv());
    const a = join(g, req({ requireKnownMemberId: true }));
    const idA = a.result!.memberId;
    const a2 = join(g, req({ memberId: idA, protocols: [{ name: 'range', metadata: meta('A') }] }));
    const b = join(g, req({ protocols: [{ name: 'range', metadata: meta('B') }] }));
    expect(g.state).toBe('PreparingRebalance');
    await settle();
    const [ra, rb] = await Promise.all([a2.done, b.done]);
    expect(g.state).toBe('CompletingRebalance');
    expect(ra).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range', protocolType: 'consumer', leader: idA, memberId: idA });
    expect(ra.members.map((m) => [m.memberId, m.metadata.toString()])).toEqual([
      [idA, 'A'],
      [rb.memberId, 'B'],
    ]);
    expect(rb).toMatchObject({ errorCode: 0, generationId: 1, leader: idA, members: [] });
  });

  it('waits for a pending member (MEMBER_ID_REQUIRED handed out) before completing, at most its session timeout', async () => {
    const g = new Group('g', makeEnv());
    const [leader] = await stableGroup(g, 1);
    const pending = join(g, req({ requireKnownMemberId: true }));
    expect(pending.result?.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    // The leader rejoins (e.g. on the next heartbeat): the rebalance now waits for the pending member.
    const again = join(g, req({ memberId: leader }));
    expect(g.state).toBe('PreparingRebalance');
    await vi.advanceTimersByTimeAsync(499);
    expect(again.result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(g.pendingMembers.size).toBe(0);
    expect((await again.done).generationId).toBe(2);
  });

  it('delays the first rebalance of a new group, restarting the delay while members arrive, capped by the rebalance timeout', async () => {
    const g = new Group('g', makeEnv({ initialRebalanceDelayMs: 100 }));
    const a = join(g, req({ rebalanceTimeoutMs: 250 }));
    await vi.advanceTimersByTimeAsync(50);
    join(g, req({ rebalanceTimeoutMs: 250 }));
    await vi.advanceTimersByTimeAsync(50); // t=100: a member arrived during the delay -> wait another 100
    expect(a.result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(60);
    join(g, req({ rebalanceTimeoutMs: 250 }));
    await vi.advanceTimersByTimeAsync(40); // t=200: again -> only 50 ms of the 250 ms timeout left
    expect(a.result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(49);
    expect(a.result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1); // t=250
    expect(a.result?.generationId).toBe(1);
    expect(g.size).toBe(3);
  });

  it('does not delay when nobody else arrives during the initial delay', async () => {
    const g = new Group('g', makeEnv({ initialRebalanceDelayMs: 100 }));
    const a = join(g, req());
    await vi.advanceTimersByTimeAsync(99);
    expect(a.result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(a.result?.generationId).toBe(1);
  });

  it('refuses a member with no protocol in common as INCONSISTENT_GROUP_PROTOCOL, and an empty first protocol list', async () => {
    const g = new Group('g', makeEnv());
    expect(join(g, req({ protocols: [] })).result?.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(join(g, req({ protocolType: '' })).result?.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    await stableGroup(g, 1);
    expect(join(g, req({ protocols: [{ name: 'roundrobin', metadata: meta('') }] })).result?.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(join(g, req({ protocolType: 'connect' })).result?.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('selects the protocol every member supports that most members prefer', async () => {
    const g = new Group('g', makeEnv());
    const p = (...names: string[]) => names.map((name) => ({ name, metadata: meta(name) }));
    join(g, req({ protocols: p('cooperative-sticky', 'range') }));
    join(g, req({ protocols: p('range', 'roundrobin', 'cooperative-sticky') }));
    const c = join(g, req({ protocols: p('range', 'cooperative-sticky') }));
    await settle();
    expect((await c.done).protocolName).toBe('range');
  });

  it('refuses members beyond group.max.size with GROUP_MAX_SIZE_REACHED', async () => {
    const g = new Group('g', makeEnv({ maxSize: 2 }));
    await stableGroup(g, 2);
    const third = join(g, req());
    expect(third.result?.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
    expect(g.state).toBe('Stable');
  });

  it('gives a follower that rejoins a Stable group with the same metadata the current generation, without a rebalance', async () => {
    const g = new Group('g', makeEnv());
    const [, follower] = await stableGroup(g, 2);
    const j = join(g, req({ memberId: follower }));
    expect(j.result).toMatchObject({ errorCode: 0, generationId: 1, members: [] });
    expect(g.state).toBe('Stable');
  });

  it('rebalances when the leader rejoins a Stable group (it saw a metadata change)', async () => {
    const g = new Group('g', makeEnv());
    const [leader] = await stableGroup(g, 2);
    join(g, req({ memberId: leader }));
    expect(g.state).toBe('PreparingRebalance');
  });

  it('answers a JoinGroup with an unknown member id for an existing group with UNKNOWN_MEMBER_ID', async () => {
    const g = new Group('g', makeEnv());
    await stableGroup(g, 1);
    expect(join(g, req({ memberId: 'who-is-this' })).result?.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe('SyncGroup', () => {
  it('holds followers until the leader syncs, then hands each its assignment byte for byte', async () => {
    const env = makeEnv();
    const g = new Group('g', env);
    const { leader, follower } = await joinedPair(g);
    const fs = sync(g, follower, 1);
    await settle();
    expect(fs.result).toBeUndefined();
    const bytes = Buffer.from([0, 1, 0xff, 0x80, 0]);
    const ls = sync(g, leader, 1, [
      { memberId: leader, assignment: Buffer.from('L') },
      { memberId: follower, assignment: bytes },
    ]);
    await settle();
    expect((await fs.done).assignment).toEqual(bytes);
    expect((await ls.done).assignment.toString()).toBe('L');
    expect(g.state).toBe('Stable');
    expect(env.stored.at(-1)!.generation).toBe(1);
    expect(env.stored.at(-1)!.assignments.get(follower)).toEqual(bytes);
    // In Stable, a repeated SyncGroup gets the stored assignment at once.
    expect(sync(g, follower, 1).result?.assignment).toEqual(bytes);
  });

  it('gives members the leader left out an empty assignment', async () => {
    const g = new Group('g', makeEnv());
    const { leader, follower } = await joinedPair(g);
    const fs = sync(g, follower, 1);
    sync(g, leader, 1, [{ memberId: leader, assignment: meta('x') }]);
    await settle();
    expect((await fs.done)).toMatchObject({ errorCode: 0, assignment: Buffer.alloc(0) });
  });

  it('rejects a wrong generation (ILLEGAL_GENERATION), an unknown member, and a mismatched protocol (v5)', async () => {
    const g = new Group('g', makeEnv());
    const [leader] = await stableGroup(g, 1);
    expect(sync(g, leader, 7).result?.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(sync(g, 'nobody', 1).result?.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const r = new Promise<SyncResult>((resolve) => g.sync({ memberId: leader, generationId: 1, groupInstanceId: null, protocolType: 'consumer', protocolName: 'roundrobin', assignments: [] }, resolve));
    expect((await r).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('answers REBALANCE_IN_PROGRESS to members waiting in SyncGroup when a rebalance starts', async () => {
    const g = new Group('g', makeEnv());
    const { leader, follower } = await joinedPair(g);
    const fs = sync(g, follower, 1);
    g.leave([{ memberId: leader, groupInstanceId: null }]);
    expect((await fs.done).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(g.state).toBe('PreparingRebalance');
  });

  it('removes members that do not send SyncGroup within the rebalance timeout and rebalances', async () => {
    const g = new Group('g', makeEnv());
    const { leader, follower } = await joinedPair(g, { sessionTimeoutMs: 5000 });
    const ls = sync(g, leader, 1, []);
    await settle();
    await ls.done; // Stable, but the follower never synced
    await vi.advanceTimersByTimeAsync(1000);
    expect(g.members.has(follower)).toBe(false);
    expect(g.state).toBe('PreparingRebalance');
  });

  it('rebalances again when storing the assignment fails', async () => {
    const env = makeEnv();
    const g = new Group('g', env);
    const a = join(g, req());
    await settle();
    env.failStore = true;
    const s = sync(g, (await a.done).memberId, 1, []);
    await settle();
    expect((await s.done).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(g.state).toBe('PreparingRebalance');
  });
});

describe('Heartbeat and sessions', () => {
  it('answers NONE when Stable, REBALANCE_IN_PROGRESS while preparing, ILLEGAL_GENERATION and UNKNOWN_MEMBER_ID', async () => {
    const g = new Group('g', makeEnv());
    const [leader, follower] = await stableGroup(g, 2);
    expect(g.heartbeat(follower, null, 1)).toBe(ErrorCode.NONE);
    expect(g.heartbeat(follower, null, 0)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(g.heartbeat('stranger', null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    join(g, req({ memberId: leader }));
    expect(g.heartbeat(follower, null, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('answers heartbeats in CompletingRebalance with NONE (clients heartbeat between join and sync)', async () => {
    const g = new Group('g', makeEnv());
    const a = join(g, req());
    await settle();
    expect(g.state).toBe('CompletingRebalance');
    expect(g.heartbeat((await a.done).memberId, null, 1)).toBe(ErrorCode.NONE);
  });

  it('expels a member whose session expires and rebalances the rest; heartbeats keep the others', async () => {
    const g = new Group('g', makeEnv());
    const [leader, follower] = await stableGroup(g, 2);
    for (let t = 0; t < 2; t++) {
      await vi.advanceTimersByTimeAsync(200);
      expect(g.heartbeat(leader, null, 1)).toBe(ErrorCode.NONE);
    }
    expect(g.members.has(follower)).toBe(true);
    await vi.advanceTimersByTimeAsync(200);
    // 600 ms without a heartbeat from the follower (session 500): gone.
    expect(g.members.has(follower)).toBe(false);
    expect(g.state).toBe('PreparingRebalance');
    expect(g.heartbeat(leader, null, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const again = join(g, req({ memberId: leader }));
    expect((await again.done)).toMatchObject({ errorCode: 0, generationId: 2, members: [{ memberId: leader }] });
  });

  it('does not expire a member while it waits in JoinGroup; the rebalance timeout drops members that never rejoin', async () => {
    const g = new Group('g', makeEnv());
    const [leader, follower] = await stableGroup(g, 2, { sessionTimeoutMs: 300, rebalanceTimeoutMs: 1000 });
    const j = join(g, req({ memberId: leader, sessionTimeoutMs: 300, rebalanceTimeoutMs: 1000 }));
    // The follower keeps heartbeating but never rejoins; the leader waits well past its session.
    for (let t = 0; t < 9; t++) {
      await vi.advanceTimersByTimeAsync(100);
      g.heartbeat(follower, null, 1);
    }
    expect(j.result).toBeUndefined();
    expect(g.members.has(leader)).toBe(true);
    await vi.advanceTimersByTimeAsync(120);
    expect(j.result).toMatchObject({ errorCode: 0, generationId: 2 });
    expect(g.members.has(follower)).toBe(false);
  });

  it('drops a new member that never completes its first join after 5 minutes', async () => {
    const g = new Group('g', makeEnv({ initialRebalanceDelayMs: 0 }));
    const [leader] = await stableGroup(g, 1, { rebalanceTimeoutMs: 10 * 60_000, sessionTimeoutMs: 60_000 });
    const newcomer = join(g, req({ rebalanceTimeoutMs: 10 * 60_000, sessionTimeoutMs: 60_000 }));
    // The old member keeps heartbeating (answered REBALANCE_IN_PROGRESS) but never rejoins.
    for (let t = 0; t < NEW_MEMBER_JOIN_TIMEOUT_MS / 30_000; t++) {
      await vi.advanceTimersByTimeAsync(30_000);
      g.heartbeat(leader, null, 1);
    }
    expect(newcomer.result?.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe('LeaveGroup', () => {
  it('removes the member and rebalances the rest; an unknown member gets UNKNOWN_MEMBER_ID', async () => {
    const g = new Group('g', makeEnv());
    const [leader, follower] = await stableGroup(g, 2);
    expect(g.leave([{ memberId: follower, groupInstanceId: null }, { memberId: 'ghost', groupInstanceId: null }])).toEqual([ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(g.state).toBe('PreparingRebalance');
    const j = join(g, req({ memberId: leader }));
    expect((await j.done).generationId).toBe(2);
  });

  it('the last member leaving leaves an Empty group with a bumped generation, stored', async () => {
    const env = makeEnv();
    const g = new Group('g', env);
    const [only] = await stableGroup(g, 1);
    g.leave([{ memberId: only, groupInstanceId: null }]);
    expect(g.state).toBe('Empty');
    expect(g.generationId).toBe(2);
    expect(g.protocolType).toBe('consumer');
    expect(env.stored.at(-1)).toMatchObject({ generation: 2 });
  });
});

describe('static membership', () => {
  it('lets a restarted static member take its place without a rebalance; the old member id is fenced', async () => {
    const env = makeEnv();
    const g = new Group('g', env);
    const a = join(g, req({ groupInstanceId: 'a', requireKnownMemberId: true }));
    const b = join(g, req({ groupInstanceId: 'b', requireKnownMemberId: true }));
    await settle();
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.errorCode).toBe(0); // static members never get MEMBER_ID_REQUIRED
    const leader = ra.leader;
    const syncs = [sync(g, ra.memberId, 1, leader === ra.memberId ? [{ memberId: ra.memberId, assignment: meta('A') }, { memberId: rb.memberId, assignment: meta('B') }] : []), sync(g, rb.memberId, 1, leader === rb.memberId ? [{ memberId: ra.memberId, assignment: meta('A') }, { memberId: rb.memberId, assignment: meta('B') }] : [])];
    await settle();
    await Promise.all(syncs.map((s) => s.done));

    const restarted = join(g, req({ groupInstanceId: 'a', requireKnownMemberId: true }));
    await settle();
    const r = await restarted.done;
    expect(r.errorCode).toBe(0);
    expect(r.generationId).toBe(1);
    expect(r.memberId).not.toBe(ra.memberId);
    expect(r.leader).toBe(leader); // the old leader id: a restarted leader must not reassign a Stable group
    expect(g.state).toBe('Stable');
    expect(sync(g, r.memberId, 1).result?.assignment.toString()).toBe('A');
    expect(g.heartbeat(rb.memberId, 'b', 1)).toBe(ErrorCode.NONE);
    expect(g.heartbeat(ra.memberId, 'a', 1)).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(env.stored.at(-1)!.assignments.get(r.memberId)?.toString()).toBe('A');
  });

  it('keeps a static member that sits out a rebalance, and removes it when it then misses SyncGroup (Kafka 3.x)', async () => {
    const g = new Group('g', makeEnv());
    const s = join(g, req({ groupInstanceId: 's', sessionTimeoutMs: 5000 }));
    const d = join(g, req({ sessionTimeoutMs: 5000 }));
    await settle();
    const [rs, rd] = await Promise.all([s.done, d.done]);
    sync(g, rs.leader, 1, []);
    sync(g, rs.leader === rs.memberId ? rd.memberId : rs.memberId, 1, []);
    await settle();
    expect(g.state).toBe('Stable');
    // The dynamic member rejoins with new metadata: a rebalance the static member sits out.
    const dj = join(g, req({ memberId: rd.memberId, sessionTimeoutMs: 5000, protocols: [{ name: 'range', metadata: meta('changed') }] }));
    expect(g.state).toBe('PreparingRebalance');
    await vi.advanceTimersByTimeAsync(1000); // the rebalance timeout
    const r2 = await dj.done;
    expect(r2).toMatchObject({ generationId: 2, leader: rd.memberId });
    expect(r2.members.map((m) => m.memberId).sort()).toEqual([rd.memberId, rs.memberId].sort());
    const ds = sync(g, rd.memberId, 2, [{ memberId: rs.memberId, assignment: meta('S') }, { memberId: rd.memberId, assignment: meta('D') }]);
    await settle();
    expect((await ds.done).assignment.toString()).toBe('D');
    expect(g.members.has(rs.memberId)).toBe(true);
    await vi.advanceTimersByTimeAsync(1000); // no SyncGroup from the static member within the rebalance timeout
    expect(g.members.has(rs.memberId)).toBe(false);
    expect(g.state).toBe('PreparingRebalance');
  });
});

describe('offset commits', () => {
  it('accepts standalone commits (generation -1, no member) only while the group is Empty', async () => {
    const g = new Group('g', makeEnv());
    expect(g.validateOffsetCommit(-1, '', null)).toBe(ErrorCode.NONE);
    const [leader] = await stableGroup(g, 1);
    expect(g.validateOffsetCommit(-1, '', null)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(g.validateOffsetCommit(1, leader, null)).toBe(ErrorCode.NONE);
    expect(g.validateOffsetCommit(0, leader, null)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(g.validateOffsetCommit(1, 'nobody', null)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('answers REBALANCE_IN_PROGRESS to commits during CompletingRebalance', async () => {
    const g = new Group('g', makeEnv());
    const a = join(g, req());
    await settle();
    expect(g.validateOffsetCommit(1, (await a.done).memberId, null)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('expires offsets of an Empty group counting from when it became Empty, of a standalone group from each commit', async () => {
    const g = new Group('g', makeEnv());
    const [only] = await stableGroup(g, 1);
    const o = (ts: number) => ({ offset: 1n, leaderEpoch: -1, metadata: '', commitTimestamp: ts, expireTimestamp: null, recordOffset: -1 });
    g.setOffset('t', 0, o(Date.now()));
    expect(g.expiredOffsets(Date.now() + 10_000, 1000)).toEqual([]); // Stable and subscribed-unknown: kept
    g.leave([{ memberId: only, groupInstanceId: null }]);
    const emptySince = g.currentStateTimestamp;
    g.setOffset('t', 1, o(emptySince + 5000));
    expect(g.expiredOffsets(emptySince + 999, 1000)).toEqual([]);
    expect(g.expiredOffsets(emptySince + 1000, 1000)).toEqual([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);

    const simple = new Group('s', makeEnv());
    simple.setOffset('t', 0, o(1000));
    simple.setOffset('t', 1, o(5000));
    simple.setOffset('t', 2, { ...o(1000), expireTimestamp: 99_999 });
    expect(simple.expiredOffsets(2000, 1000)).toEqual([{ topic: 't', partition: 0 }]);
    expect(simple.expiredOffsets(100_000, 1_000_000)).toEqual([{ topic: 't', partition: 2 }]);
  });
});

describe('loading', () => {
  it('restores a stored group as Stable in its generation, members expiring unless they heartbeat', () => {
    const g = new Group('g', makeEnv());
    g.load({
      protocolType: 'consumer',
      generation: 7,
      protocol: 'range',
      leader: 'm1',
      currentStateTimestamp: 1,
      members: ['m1', 'm2'].map((memberId) => ({ memberId, groupInstanceId: null, clientId: 'c', clientHost: 'h', rebalanceTimeout: 1000, sessionTimeout: 500, subscription: meta('s'), assignment: meta(`a-${memberId}`) })),
    });
    g.onLoaded();
    expect(g.state).toBe('Stable');
    expect(g.heartbeat('m1', null, 7)).toBe(ErrorCode.NONE);
    expect(sync(g, 'm2', 7).result?.assignment.toString()).toBe('a-m2');
    vi.advanceTimersByTime(400);
    expect(g.heartbeat('m1', null, 7)).toBe(ErrorCode.NONE);
    vi.advanceTimersByTime(200); // m2 silent for 600 ms
    expect(g.members.has('m2')).toBe(false);
    expect(g.state).toBe('PreparingRebalance');
  });
});
