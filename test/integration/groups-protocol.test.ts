/**
 * The group APIs over raw frames (our codec, one connection per member as real clients use):
 * exact error codes for bad input, every API's version quirks, session expiry of a member that
 * stops heartbeating, static membership, and the broker still serving afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { apiVersionsApi } from '../../src/protocol/schemas/api-versions.js';
import { createTopicsApi } from '../../src/protocol/schemas/create-topics.js';
import { deleteGroupsApi } from '../../src/protocol/schemas/delete-groups.js';
import { deleteTopicsApi } from '../../src/protocol/schemas/delete-topics.js';
import { describeGroupsApi } from '../../src/protocol/schemas/describe-groups.js';
import { findCoordinatorApi } from '../../src/protocol/schemas/find-coordinator.js';
import { heartbeatApi } from '../../src/protocol/schemas/heartbeat.js';
import { joinGroupApi } from '../../src/protocol/schemas/join-group.js';
import { leaveGroupApi } from '../../src/protocol/schemas/leave-group.js';
import { listGroupsApi } from '../../src/protocol/schemas/list-groups.js';
import { offsetCommitApi } from '../../src/protocol/schemas/offset-commit.js';
import { offsetDeleteApi } from '../../src/protocol/schemas/offset-delete.js';
import { offsetFetchApi } from '../../src/protocol/schemas/offset-fetch.js';
import { syncGroupApi } from '../../src/protocol/schemas/sync-group.js';
import { startTestBroker, type TestBroker } from './harness.js';
import { RawClient } from './raw-client.js';

let tb: TestBroker;
const clients: RawClient[] = [];

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(tb.broker.port);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  tb = await startTestBroker({
    properties: {
      // Members of a new group that join together land in its first generation together.
      'group.initial.rebalance.delay.ms': 100,
      'group.min.session.timeout.ms': 300,
      'group.max.session.timeout.ms': 60_000,
      'group.max.size': 3,
      'offsets.topic.num.partitions': 3,
    },
  });
  const c = await client();
  const r = await c.request(createTopicsApi, 4, {
    topics: [
      { name: 'alpha', numPartitions: 4, replicationFactor: 1, assignments: [], configs: [] },
      { name: 'beta', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] },
    ],
    timeoutMs: 5000,
    validateOnly: false,
  });
  expect(r.topics.map((t) => t.errorCode)).toEqual([0, 0]);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await tb.close();
});

/** ConsumerProtocolSubscription v0: topics and null user data. */
function subscription(...topics: string[]): Buffer {
  const parts = [Buffer.from([0, 0]), Buffer.alloc(4)];
  parts[1]!.writeInt32BE(topics.length);
  for (const t of topics) {
    const len = Buffer.alloc(2);
    len.writeInt16BE(Buffer.byteLength(t));
    parts.push(len, Buffer.from(t));
  }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  return Buffer.concat(parts);
}

interface JoinOpts {
  version?: number;
  memberId?: string;
  instanceId?: string | null;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  protocols?: { name: string; metadata: Buffer }[];
  protocolType?: string;
}

function join(c: RawClient, groupId: string, o: JoinOpts = {}) {
  return c.request(joinGroupApi, o.version ?? 5, {
    groupId,
    sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
    rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? 2000,
    memberId: o.memberId ?? '',
    groupInstanceId: o.instanceId ?? null,
    protocolType: o.protocolType ?? 'consumer',
    protocols: o.protocols ?? [{ name: 'range', metadata: subscription('alpha') }],
  });
}

/** JoinGroup v4+ the way clients do it: MEMBER_ID_REQUIRED, then again with the id. */
async function joinWithId(c: RawClient, groupId: string, o: JoinOpts = {}) {
  const first = await join(c, groupId, o);
  if (first.errorCode !== ErrorCode.MEMBER_ID_REQUIRED) return first;
  return join(c, groupId, { ...o, memberId: first.memberId });
}

function sync(c: RawClient, groupId: string, generationId: number, memberId: string, assignments: { memberId: string; assignment: Buffer }[] = [], version = 3) {
  return c.request(syncGroupApi, version, { groupId, generationId, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments });
}

function commit(c: RawClient, groupId: string, generation: number, memberId: string, partitions: { topic: string; partition: number; offset: bigint; metadata?: string | null }[], version = 7) {
  const topics = [...new Set(partitions.map((p) => p.topic))].map((name) => ({
    name,
    partitions: partitions.filter((p) => p.topic === name).map((p) => ({ partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: -1, committedMetadata: p.metadata ?? null })),
  }));
  return c.request(offsetCommitApi, version, { groupId, generationIdOrMemberEpoch: generation, memberId, groupInstanceId: null, topics });
}

function codes(r: { topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] }) {
  return Object.fromEntries(r.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}-${p.partitionIndex}`, p.errorCode])));
}

/** A one-member Stable group; returns the member's id and generation. */
async function stableSingle(c: RawClient, groupId: string, o: JoinOpts = {}) {
  const j = await joinWithId(c, groupId, o);
  expect(j.errorCode).toBe(0);
  const s = await sync(c, groupId, j.generationId, j.memberId, [{ memberId: j.memberId, assignment: Buffer.from('all') }]);
  expect(s.errorCode).toBe(0);
  return { memberId: j.memberId, generationId: j.generationId };
}

async function stillServes(): Promise<void> {
  const c = await client();
  expect((await c.request(apiVersionsApi, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' })).errorCode).toBe(0);
}

describe('group APIs over raw frames', () => {
  it('advertises the group APIs with the version ranges clients need (minimum 0 for librdkafka)', async () => {
    const c = await client();
    const r = await c.request(apiVersionsApi, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
    const range = (k: number) => {
      const e = r.apiKeys.find((x) => x.apiKey === k);
      return e && [e.minVersion, e.maxVersion];
    };
    expect(range(10)).toEqual([0, 4]); // FindCoordinator
    expect(range(11)).toEqual([0, 9]); // JoinGroup
    expect(range(14)).toEqual([0, 5]); // SyncGroup
    expect(range(12)).toEqual([0, 4]); // Heartbeat
    expect(range(13)).toEqual([0, 5]); // LeaveGroup
    expect(range(8)).toEqual([2, 9]); // OffsetCommit
    expect(range(9)).toEqual([1, 9]); // OffsetFetch
    expect(range(15)).toEqual([0, 5]); // DescribeGroups
    expect(range(16)).toEqual([0, 4]); // ListGroups
    expect(range(42)).toEqual([0, 2]); // DeleteGroups
    expect(range(47)).toEqual([0, 0]); // OffsetDelete
  });

  it('finds this broker as group and transaction coordinator (v0, v3, batched v4)', async () => {
    const c = await client();
    const v0 = await c.request(findCoordinatorApi, 0, { key: 'g' });
    expect(v0).toMatchObject({ errorCode: 0, nodeId: tb.broker.config.nodeId, host: '127.0.0.1', port: tb.broker.port });
    const txn = await c.request(findCoordinatorApi, 3, { key: 'tx', keyType: 1 });
    expect(txn).toMatchObject({ errorCode: 0, nodeId: tb.broker.config.nodeId, host: '127.0.0.1', port: tb.broker.port });
    const v4 = await c.request(findCoordinatorApi, 4, { keyType: 0, coordinatorKeys: ['a', 'b'] });
    expect(v4.coordinators).toEqual([
      { key: 'a', nodeId: 1, host: '127.0.0.1', port: tb.broker.port, errorCode: 0, errorMessage: null },
      { key: 'b', nodeId: 1, host: '127.0.0.1', port: tb.broker.port, errorCode: 0, errorMessage: null },
    ]);
    const v4tx = await c.request(findCoordinatorApi, 4, { keyType: 1, coordinatorKeys: ['t'] });
    expect(v4tx.coordinators[0]).toMatchObject({ key: 't', errorCode: 0, nodeId: tb.broker.config.nodeId });
    const bad = await c.request(findCoordinatorApi, 3, { key: 'x', keyType: 2 });
    expect(bad.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('rejects an empty group id (INVALID_GROUP_ID) and session timeouts out of bounds (INVALID_SESSION_TIMEOUT)', async () => {
    const c = await client();
    expect((await join(c, '')).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await c.request(heartbeatApi, 1, { groupId: '', generationId: 1, memberId: 'm' })).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await sync(c, '', 1, 'm')).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await join(c, 'timeouts', { sessionTimeoutMs: 299 })).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await join(c, 'timeouts', { sessionTimeoutMs: 60_001 })).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await join(c, 'timeouts', { sessionTimeoutMs: 300, version: 3 })).errorCode).toBe(0);
    await stillServes();
  });

  it('requires a member id from v4 and joins straight away before; v0 answers with a non-null protocol name', async () => {
    const c = await client();
    const first = await join(c, 'ids', { version: 4 });
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^raw-test-[0-9a-f-]{36}$/);
    const second = await join(c, 'ids', { version: 4, memberId: first.memberId });
    expect(second).toMatchObject({ errorCode: 0, memberId: first.memberId, generationId: 1, leader: first.memberId, protocolName: 'range' });

    const old = await c.request(joinGroupApi, 0, { groupId: 'v0-group', sessionTimeoutMs: 1000, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('m') }] });
    expect(old).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range' });
    expect(old.members).toEqual([{ memberId: old.memberId, groupInstanceId: null, metadata: Buffer.from('m') }]);
    const bad = await c.request(joinGroupApi, 0, { groupId: 'v0-group', sessionTimeoutMs: 1000, memberId: 'nobody', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] });
    expect(bad).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, protocolName: '' });
  });

  it('answers v7+ joins with the protocol type, v9 with skip_assignment false; v5 syncs echo type and name', async () => {
    const c = await client();
    const j = await joinWithId(c, 'v9', { version: 9 });
    expect(j).toMatchObject({ errorCode: 0, protocolType: 'consumer', protocolName: 'range', skipAssignment: false });
    const s = await sync(c, 'v9', j.generationId, j.memberId, [{ memberId: j.memberId, assignment: Buffer.from([1, 2, 3]) }], 5);
    expect(s).toMatchObject({ errorCode: 0, protocolType: 'consumer', protocolName: 'range', assignment: Buffer.from([1, 2, 3]) });
    const mismatch = await c.request(syncGroupApi, 5, { groupId: 'v9', generationId: j.generationId, memberId: j.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'roundrobin', assignments: [] });
    expect(mismatch.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('refuses a member whose protocols the group does not support (INCONSISTENT_GROUP_PROTOCOL)', async () => {
    const a = await client();
    await stableSingle(a, 'protocols');
    const b = await client();
    const r = await join(b, 'protocols', { protocols: [{ name: 'roundrobin', metadata: Buffer.alloc(0) }] });
    expect(r.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('runs a two-member rebalance: only the leader sees the members; assignments come back byte for byte', async () => {
    const a = await client();
    const b = await client();
    const [ja, jb] = await Promise.all([joinWithId(a, 'pair', { protocols: [{ name: 'range', metadata: Buffer.from('meta-a') }] }), joinWithId(b, 'pair', { protocols: [{ name: 'range', metadata: Buffer.from('meta-b') }] })]);
    const [leader, follower] = ja.leader === ja.memberId ? [{ c: a, j: ja }, { c: b, j: jb }] : [{ c: b, j: jb }, { c: a, j: ja }];
    expect(leader.j.members.map((m) => m.metadata.toString()).sort()).toEqual(['meta-a', 'meta-b']);
    expect(follower.j.members).toEqual([]);
    expect(follower.j.generationId).toBe(leader.j.generationId);
    const bytes = { [leader.j.memberId]: Buffer.from([0, 0xff, 1]), [follower.j.memberId]: Buffer.from([0x80, 0, 0, 7]) };
    const [sf, sl] = await Promise.all([
      sync(follower.c, 'pair', follower.j.generationId, follower.j.memberId),
      sync(leader.c, 'pair', leader.j.generationId, leader.j.memberId, Object.entries(bytes).map(([memberId, assignment]) => ({ memberId, assignment }))),
    ]);
    expect(sf.assignment).toEqual(bytes[follower.j.memberId]);
    expect(sl.assignment).toEqual(bytes[leader.j.memberId]);
    const d = await a.request(describeGroupsApi, 4, { groups: ['pair'], includeAuthorizedOperations: false });
    expect(d.groups[0]).toMatchObject({ groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(d.groups[0]!.members.map((m) => m.memberAssignment.toString('hex')).sort()).toEqual(Object.values(bytes).map((x) => x.toString('hex')).sort());
  });

  it('answers heartbeats from unknown members, unknown groups and wrong generations with the right codes', async () => {
    const c = await client();
    const { memberId, generationId } = await stableSingle(c, 'beats');
    const hb = (groupId: string, gen: number, member: string, version = 1) => c.request(heartbeatApi, version, { groupId, generationId: gen, memberId: member }).then((r) => r.errorCode);
    expect(await hb('beats', generationId, memberId)).toBe(ErrorCode.NONE);
    expect(await hb('beats', generationId, memberId, 4)).toBe(ErrorCode.NONE);
    expect(await hb('beats', generationId, 'stranger')).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(await hb('beats', generationId + 1, memberId)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(await hb('no-such-group', 1, memberId)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    await stillServes();
  });

  it('refuses a member beyond group.max.size (GROUP_MAX_SIZE_REACHED)', async () => {
    const cs = await Promise.all([client(), client(), client(), client()]);
    // Deterministically three members: a first member is Stable, two more join, then it rejoins.
    const first = await stableSingle(cs[0]!, 'crowded');
    const others = Promise.all([joinWithId(cs[1]!, 'crowded'), joinWithId(cs[2]!, 'crowded')]);
    for (let t = 0; ; t++) {
      const d = await cs[3]!.request(describeGroupsApi, 0, { groups: ['crowded'] });
      if (d.groups[0]!.members.length === 3) break;
      if (t > 200) throw new Error('the two new members never joined');
      await new Promise((r) => setTimeout(r, 10));
    }
    const rejoin = await join(cs[0]!, 'crowded', { memberId: first.memberId });
    expect([rejoin.errorCode, ...(await others).map((j) => j.errorCode)]).toEqual([0, 0, 0]);
    expect(rejoin.members).toHaveLength(3);
    const fourth = await joinWithId(cs[3]!, 'crowded');
    expect(fourth.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
  });

  it('expels a member that stops heartbeating after its session timeout; the rest rebalance', async () => {
    const a = await client();
    const b = await client();
    const o = { sessionTimeoutMs: 400, rebalanceTimeoutMs: 3000 };
    const [ja, jb] = await Promise.all([joinWithId(a, 'expiry', o), joinWithId(b, 'expiry', o)]);
    await Promise.all([sync(a, 'expiry', ja.generationId, ja.memberId, [], 3), sync(b, 'expiry', jb.generationId, jb.memberId, [], 3)]);
    // a keeps heartbeating; b goes silent (as a killed process would).
    let code: number = ErrorCode.NONE;
    const started = Date.now();
    while (code === ErrorCode.NONE && Date.now() - started < 5000) {
      await new Promise((r) => setTimeout(r, 100));
      code = (await a.request(heartbeatApi, 1, { groupId: 'expiry', generationId: ja.generationId, memberId: ja.memberId })).errorCode;
    }
    expect(code).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    const again = await join(a, 'expiry', { ...o, memberId: ja.memberId });
    expect(again).toMatchObject({ errorCode: 0, generationId: ja.generationId + 1, leader: ja.memberId });
    expect(again.members.map((m) => m.memberId)).toEqual([ja.memberId]);
    expect((await b.request(heartbeatApi, 1, { groupId: 'expiry', generationId: jb.generationId, memberId: jb.memberId })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('lets a static member restart without a rebalance and fences its old member id (FENCED_INSTANCE_ID)', async () => {
    const a = await client();
    const b = await client();
    const [ja, jb] = await Promise.all([join(a, 'static', { instanceId: 'a' }), join(b, 'static', { instanceId: 'b' })]);
    expect([ja.errorCode, jb.errorCode]).toEqual([0, 0]); // static members skip MEMBER_ID_REQUIRED
    const leader = ja.leader === ja.memberId ? { c: a, j: ja } : { c: b, j: jb };
    const follower = leader.j === ja ? { c: b, j: jb } : { c: a, j: ja };
    const assignments = [
      { memberId: ja.memberId, assignment: Buffer.from('for-a') },
      { memberId: jb.memberId, assignment: Buffer.from('for-b') },
    ];
    await Promise.all([sync(follower.c, 'static', follower.j.generationId, follower.j.memberId), sync(leader.c, 'static', leader.j.generationId, leader.j.memberId, assignments)]);

    // "a" restarts: a new connection, no member id, same instance id.
    a.close();
    const a2 = await client();
    const rejoin = await join(a2, 'static', { instanceId: 'a' });
    expect(rejoin).toMatchObject({ errorCode: 0, generationId: ja.generationId, leader: ja.leader, members: [] });
    expect(rejoin.memberId).not.toBe(ja.memberId);
    const s = await a2.request(syncGroupApi, 3, { groupId: 'static', generationId: rejoin.generationId, memberId: rejoin.memberId, groupInstanceId: 'a', assignments: [] });
    expect(s).toMatchObject({ errorCode: 0, assignment: Buffer.from('for-a') });
    // No rebalance: b's heartbeat says all is well, in the same generation.
    expect((await b.request(heartbeatApi, 3, { groupId: 'static', generationId: jb.generationId, memberId: jb.memberId, groupInstanceId: 'b' })).errorCode).toBe(0);
    // The old incarnation is fenced.
    expect((await b.request(heartbeatApi, 3, { groupId: 'static', generationId: ja.generationId, memberId: ja.memberId, groupInstanceId: 'a' })).errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    const staleCommit = await b.request(offsetCommitApi, 7, {
      groupId: 'static',
      generationIdOrMemberEpoch: ja.generationId,
      memberId: ja.memberId,
      groupInstanceId: 'a',
      topics: [{ name: 'alpha', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(codes(staleCommit)).toEqual({ 'alpha-0': ErrorCode.FENCED_INSTANCE_ID });
    // Leaving by instance id only (kafka-consumer-groups --delete-members style) works at v3+.
    const leave = await b.request(leaveGroupApi, 4, { groupId: 'static', members: [{ memberId: '', groupInstanceId: 'a' }] });
    expect(leave).toMatchObject({ errorCode: 0, members: [{ memberId: '', groupInstanceId: 'a', errorCode: 0 }] });
    expect((await b.request(heartbeatApi, 3, { groupId: 'static', generationId: jb.generationId, memberId: jb.memberId, groupInstanceId: 'b' })).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('leaves by member id (v0-2: one member, its code at the top; v3+: a batch with a code each)', async () => {
    const c = await client();
    const { memberId } = await stableSingle(c, 'leaving');
    const v1 = await c.request(leaveGroupApi, 1, { groupId: 'leaving', memberId: 'ghost' });
    expect(v1.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const v3 = await c.request(leaveGroupApi, 3, { groupId: 'leaving', members: [{ memberId, groupInstanceId: null }, { memberId: 'ghost', groupInstanceId: null }] });
    expect(v3).toMatchObject({ errorCode: 0, members: [{ memberId, errorCode: 0 }, { memberId: 'ghost', errorCode: ErrorCode.UNKNOWN_MEMBER_ID }] });
    const d = await c.request(describeGroupsApi, 0, { groups: ['leaving'] });
    expect(d.groups[0]).toMatchObject({ groupState: 'Empty', members: [] });
    const unknownGroup = await c.request(leaveGroupApi, 3, { groupId: 'never-was', members: [{ memberId: 'm', groupInstanceId: null }] });
    expect(unknownGroup).toMatchObject({ errorCode: 0, members: [{ errorCode: ErrorCode.UNKNOWN_MEMBER_ID }] });
  });
});

describe('offsets over raw frames', () => {
  it('commits from a standalone consumer (generation -1, no member) and fetches -1 where nothing is committed', async () => {
    const c = await client();
    const r = await commit(c, 'standalone', -1, '', [
      { topic: 'alpha', partition: 0, offset: 42n, metadata: 'meta' },
      { topic: 'alpha', partition: 2, offset: 7n },
    ], 2);
    expect(codes(r)).toEqual({ 'alpha-0': 0, 'alpha-2': 0 });
    const f = await c.request(offsetFetchApi, 1, { groupId: 'standalone', topics: [{ name: 'alpha', partitionIndexes: [0, 1, 2] }] });
    expect(f.topics[0]!.partitions).toEqual([
      { partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: -1, metadata: 'meta', errorCode: 0 },
      { partitionIndex: 1, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
      { partitionIndex: 2, committedOffset: 7n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
    ]);
    const nothing = await c.request(offsetFetchApi, 5, { groupId: 'nobody-ever', topics: [{ name: 'alpha', partitionIndexes: [0] }], requireStable: false });
    expect(nothing).toMatchObject({ errorCode: 0, topics: [{ partitions: [{ committedOffset: -1n, errorCode: 0 }] }] });
  });

  it('keeps the leader epoch and metadata; v2+ null topics fetches everything; v8 fetches several groups', async () => {
    const c = await client();
    await c.request(offsetCommitApi, 8, {
      groupId: 'epochs',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'beta', partitions: [{ partitionIndex: 1, committedOffset: 99n, committedLeaderEpoch: 3, committedMetadata: 'x'.repeat(4096) }] }],
    });
    expect(codes(await commit(c, 'standalone-multi', -1, '', [
      { topic: 'alpha', partition: 0, offset: 42n },
      { topic: 'alpha', partition: 2, offset: 7n },
    ], 2))).toEqual({ 'alpha-0': 0, 'alpha-2': 0 });
    const all = await c.request(offsetFetchApi, 7, { groupId: 'epochs', topics: null, requireStable: true });
    expect(all.topics).toEqual([{ name: 'beta', partitions: [{ partitionIndex: 1, committedOffset: 99n, committedLeaderEpoch: 3, metadata: 'x'.repeat(4096), errorCode: 0 }] }]);
    const multi = await c.request(offsetFetchApi, 8, {
      groups: [
        { groupId: 'epochs', topics: [{ name: 'beta', partitionIndexes: [1] }] },
        { groupId: 'standalone-multi', topics: null },
        { groupId: 'nobody-ever', topics: [{ name: 'beta', partitionIndexes: [0] }] },
      ],
      requireStable: false,
    });
    expect(multi.groups.map((g) => [g.groupId, g.errorCode, g.topics.flatMap((t) => t.partitions.map((p) => `${t.name}-${p.partitionIndex}=${p.committedOffset}`))])).toEqual([
      ['epochs', 0, ['beta-1=99']],
      ['standalone-multi', 0, ['alpha-0=42', 'alpha-2=7']],
      ['nobody-ever', 0, ['beta-0=-1']],
    ]);
  });

  it('answers unknown topics or partitions with UNKNOWN_TOPIC_OR_PARTITION, and metadata over 4096 characters with OFFSET_METADATA_TOO_LARGE', async () => {
    const c = await client();
    const r = await commit(c, 'mixed', -1, '', [
      { topic: 'alpha', partition: 1, offset: 5n },
      { topic: 'alpha', partition: 9, offset: 5n },
      { topic: 'no-such-topic', partition: 0, offset: 5n },
      { topic: 'beta', partition: 0, offset: 5n, metadata: 'y'.repeat(4097) },
    ]);
    expect(codes(r)).toEqual({ 'alpha-1': 0, 'alpha-9': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'no-such-topic-0': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'beta-0': ErrorCode.OFFSET_METADATA_TOO_LARGE });
    const f = await c.request(offsetFetchApi, 3, { groupId: 'mixed', topics: null });
    expect(f.topics).toEqual([{ name: 'alpha', partitions: [expect.objectContaining({ partitionIndex: 1, committedOffset: 5n })] }]);
  });

  it('fences commits from wrong generations, unknown members and standalone consumers of an active group', async () => {
    const c = await client();
    const { memberId, generationId } = await stableSingle(c, 'fenced');
    const tp = [{ topic: 'alpha', partition: 0, offset: 1n }];
    expect(codes(await commit(c, 'fenced', generationId, memberId, tp))).toEqual({ 'alpha-0': 0 });
    expect(codes(await commit(c, 'fenced', generationId + 1, memberId, tp))).toEqual({ 'alpha-0': ErrorCode.ILLEGAL_GENERATION });
    expect(codes(await commit(c, 'fenced', generationId, 'stranger', tp))).toEqual({ 'alpha-0': ErrorCode.UNKNOWN_MEMBER_ID });
    expect(codes(await commit(c, 'fenced', -1, '', tp))).toEqual({ 'alpha-0': ErrorCode.UNKNOWN_MEMBER_ID });
    // A generation for a group that does not exist is stale: ILLEGAL_GENERATION.
    expect(codes(await commit(c, 'ghost-group', 3, 'm', tp))).toEqual({ 'alpha-0': ErrorCode.ILLEGAL_GENERATION });
    await stillServes();
  });

  it('refuses to delete a group with members (NON_EMPTY_GROUP) or one that does not exist (GROUP_ID_NOT_FOUND)', async () => {
    const c = await client();
    const { memberId } = await stableSingle(c, 'deletable');
    await commit(c, 'deletable', 1, memberId, [{ topic: 'alpha', partition: 3, offset: 11n }]);
    let r = await c.request(deleteGroupsApi, 2, { groupsNames: ['deletable', 'not-a-group'] });
    expect(r.results).toEqual([
      { groupId: 'deletable', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'not-a-group', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    await c.request(leaveGroupApi, 1, { groupId: 'deletable', memberId });
    r = await c.request(deleteGroupsApi, 0, { groupsNames: ['deletable'] });
    expect(r.results).toEqual([{ groupId: 'deletable', errorCode: 0 }]);
    const f = await c.request(offsetFetchApi, 3, { groupId: 'deletable', topics: null });
    expect(f.topics).toEqual([]);
    const d = await c.request(describeGroupsApi, 5, { groups: ['deletable'], includeAuthorizedOperations: false });
    expect(d.groups[0]).toMatchObject({ errorCode: 0, groupState: 'Dead' });
  });

  it('deletes offsets (OffsetDelete) except of topics an active consumer group subscribes to', async () => {
    const c = await client();
    const { memberId } = await stableSingle(c, 'offdel', { protocols: [{ name: 'range', metadata: subscription('alpha') }] });
    await commit(c, 'offdel', 1, memberId, [
      { topic: 'alpha', partition: 0, offset: 1n },
      { topic: 'beta', partition: 0, offset: 2n },
    ]);
    const r = await c.request(offsetDeleteApi, 0, {
      groupId: 'offdel',
      topics: [
        { name: 'alpha', partitions: [{ partitionIndex: 0 }] },
        { name: 'beta', partitions: [{ partitionIndex: 0 }] },
      ],
    });
    expect(r.errorCode).toBe(0);
    expect(codes(r)).toEqual({ 'alpha-0': ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, 'beta-0': 0 });
    const f = await c.request(offsetFetchApi, 3, { groupId: 'offdel', topics: null });
    expect(f.topics.map((t) => t.name)).toEqual(['alpha']);
    expect((await c.request(offsetDeleteApi, 0, { groupId: 'no-group', topics: [] })).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it("drops a deleted topic's committed offsets (tombstones), as Kafka does", async () => {
    const c = await client();
    const created = await c.request(createTopicsApi, 4, { topics: [{ name: 'short-topic', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    expect(created.topics[0]!.errorCode).toBe(0);
    await commit(c, 'topic-goes', -1, '', [
      { topic: 'short-topic', partition: 0, offset: 3n },
      { topic: 'short-topic', partition: 1, offset: 4n },
      { topic: 'alpha', partition: 0, offset: 5n },
    ]);
    const deleted = await c.request(deleteTopicsApi, 1, { topicNames: ['short-topic'], timeoutMs: 5000 });
    expect(deleted.responses[0]!.errorCode).toBe(0);
    const f = await c.request(offsetFetchApi, 3, { groupId: 'topic-goes', topics: null });
    expect(f.topics.map((t) => t.name)).toEqual(['alpha']);
  });

  it('lists groups with their states; v4 filters by state, case-insensitively', async () => {
    const c = await client();
    await stableSingle(c, 'listed-stable');
    expect(codes(await commit(c, 'listed-empty', -1, '', [{ topic: 'alpha', partition: 0, offset: 1n }], 2))).toEqual({ 'alpha-0': 0 });
    const all = await c.request(listGroupsApi, 4, { statesFilter: [] });
    const byId = new Map(all.groups.map((g) => [g.groupId, g]));
    expect(byId.get('listed-stable')).toMatchObject({ groupId: 'listed-stable', protocolType: 'consumer', groupState: 'Stable' });
    expect(byId.get('listed-empty')).toMatchObject({ groupId: 'listed-empty', protocolType: '', groupState: 'Empty' });
    const empty = await c.request(listGroupsApi, 4, { statesFilter: ['empty'] });
    expect(empty.groups.every((g) => g.groupState === 'Empty')).toBe(true);
    expect(empty.groups.map((g) => g.groupId)).toContain('listed-empty');
    expect(empty.groups.map((g) => g.groupId)).not.toContain('listed-stable');
    const v0 = await c.request(listGroupsApi, 0, {});
    expect(v0.groups.map((g) => g.groupId).sort()).toEqual(all.groups.map((g) => g.groupId).sort());
  });
});
