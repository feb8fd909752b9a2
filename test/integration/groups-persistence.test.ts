/**
 * Committed offsets and group metadata live in `__consumer_offsets` (Kafka's record formats):
 * they survive a graceful restart and a SIGKILL of the broker process, expire after
 * offsets.retention.minutes with tombstones, and deleted groups stay deleted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeGroupMetadataValue, decodeKey, decodeOffsetCommitValue, OFFSETS_TOPIC, partitionFor, RecordType } from '../../src/coordinator/records.js';
import { decodeBatches } from '../../src/native/records.js';
import { createTopicsApi } from '../../src/protocol/schemas/create-topics.js';
import { deleteGroupsApi } from '../../src/protocol/schemas/delete-groups.js';
import { describeGroupsApi } from '../../src/protocol/schemas/describe-groups.js';
import { heartbeatApi } from '../../src/protocol/schemas/heartbeat.js';
import { joinGroupApi } from '../../src/protocol/schemas/join-group.js';
import { leaveGroupApi } from '../../src/protocol/schemas/leave-group.js';
import { offsetCommitApi } from '../../src/protocol/schemas/offset-commit.js';
import { offsetFetchApi } from '../../src/protocol/schemas/offset-fetch.js';
import { syncGroupApi } from '../../src/protocol/schemas/sync-group.js';
import { spawnBroker, startTestBroker, type TestBroker } from './harness.js';
import { RawClient } from './raw-client.js';

const PROPS = { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 300, 'offsets.topic.num.partitions': 5 };
const dirs: string[] = [];
const brokers: TestBroker[] = [];
afterAll(async () => {
  for (const b of brokers) await b.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function broker(props: Record<string, number> = {}): Promise<TestBroker> {
  const tb = await startTestBroker({ properties: { ...PROPS, ...props } });
  brokers.push(tb);
  return tb;
}

async function createTopic(c: RawClient, name: string, partitions: number): Promise<void> {
  const r = await c.request(createTopicsApi, 4, { topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  expect(r.topics[0]!.errorCode).toBe(0);
}

function commit(c: RawClient, groupId: string, generation: number, memberId: string, topic: string, offsets: [number, bigint][], metadata: string | null = null) {
  return c.request(offsetCommitApi, 7, {
    groupId,
    generationIdOrMemberEpoch: generation,
    memberId,
    groupInstanceId: null,
    topics: [{ name: topic, partitions: offsets.map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, committedMetadata: metadata })) }],
  });
}

async function fetchAll(c: RawClient, groupId: string): Promise<Record<string, string>> {
  const r = await c.request(offsetFetchApi, 5, { groupId, topics: null, requireStable: false });
  return Object.fromEntries(r.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}-${p.partitionIndex}`, `${p.committedOffset}/${p.metadata}`])));
}

async function stableMember(c: RawClient, groupId: string, sessionTimeoutMs = 10_000) {
  const first = await c.request(joinGroupApi, 5, { groupId, sessionTimeoutMs, rebalanceTimeoutMs: 2000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('sub') }] });
  const j = await c.request(joinGroupApi, 5, { groupId, sessionTimeoutMs, rebalanceTimeoutMs: 2000, memberId: first.memberId, groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('sub') }] });
  const s = await c.request(syncGroupApi, 3, { groupId, generationId: j.generationId, memberId: j.memberId, groupInstanceId: null, assignments: [{ memberId: j.memberId, assignment: Buffer.from('assigned') }] });
  expect(s.errorCode).toBe(0);
  return { memberId: j.memberId, generationId: j.generationId };
}

/** Every record of the group's __consumer_offsets partition, decoded. */
function recordsOf(tb: TestBroker, groupId: string) {
  const n = tb.broker.broker.groups.offsetsPartitions;
  const log = tb.broker.broker.topics.partition(OFFSETS_TOPIC, partitionFor(groupId, n))!;
  const buf = log.readBuffer(log.logStartOffset, 10 * 1024 * 1024);
  return decodeBatches(buf).batches.flatMap((b) => b.records).map((r) => ({ key: decodeKey(r.key!), value: r.value }));
}

describe('group persistence', () => {
  it('creates __consumer_offsets with offsets.topic.num.partitions partitions and cleanup.policy=compact', async () => {
    const tb = await broker();
    const topic = tb.broker.broker.topics.get(OFFSETS_TOPIC)!;
    expect(topic.partitions).toHaveLength(5);
    expect(topic.internal).toBe(true);
    expect(tb.broker.broker.topics.effectiveConfig(topic)['cleanup.policy']).toBe('compact');
  });

  it("writes commits and group metadata in Kafka's record formats, in the group's partition", async () => {
    const tb = await broker();
    const c = await RawClient.connect(tb.broker.port);
    await createTopic(c, 'fmt', 2);
    const { memberId, generationId } = await stableMember(c, 'formats');
    await commit(c, 'formats', generationId, memberId, 'fmt', [[1, 17n]], 'hello');
    c.close();
    const recs = recordsOf(tb, 'formats').filter((r) => r.key.group === 'formats');
    const group = recs.filter((r) => r.key.type === RecordType.GroupMetadata).at(-1)!;
    expect(decodeGroupMetadataValue(group.value!)).toMatchObject({
      protocolType: 'consumer',
      generation: generationId,
      protocol: 'range',
      leader: memberId,
      members: [{ memberId, clientId: 'raw-test', clientHost: '/127.0.0.1', sessionTimeout: 10_000, rebalanceTimeout: 2000, subscription: Buffer.from('sub'), assignment: Buffer.from('assigned') }],
    });
    const offset = recs.find((r) => r.key.type === RecordType.OffsetCommit)!;
    expect(offset.key).toEqual({ type: RecordType.OffsetCommit, group: 'formats', topic: 'fmt', partition: 1 });
    expect(decodeOffsetCommitValue(offset.value!)).toMatchObject({ offset: 17n, leaderEpoch: -1, metadata: 'hello', expireTimestamp: null });
  });

  it('keeps offsets and the group across a graceful restart; a member that keeps heartbeating stays in its generation', async () => {
    const tb = await broker();
    let c = await RawClient.connect(tb.broker.port);
    await createTopic(c, 'kept', 3);
    const { memberId, generationId } = await stableMember(c, 'restarted', 5000);
    await commit(c, 'restarted', generationId, memberId, 'kept', [[0, 5n], [1, 6n], [2, 7n]], 'm');
    await commit(c, 'standalone', -1, '', 'kept', [[2, 99n]]);
    c.close();
    await tb.restart();
    c = await RawClient.connect(tb.broker.port);
    expect(await fetchAll(c, 'restarted')).toEqual({ 'kept-0': '5/m', 'kept-1': '6/m', 'kept-2': '7/m' });
    expect(await fetchAll(c, 'standalone')).toEqual({ 'kept-2': '99/' });
    expect((await c.request(heartbeatApi, 1, { groupId: 'restarted', generationId, memberId })).errorCode).toBe(0);
    const d = await c.request(describeGroupsApi, 1, { groups: ['restarted'] });
    expect(d.groups[0]).toMatchObject({ groupState: 'Stable', protocolData: 'range', members: [{ memberId, memberAssignment: Buffer.from('assigned') }] });
    // Committing in the restored generation works as before.
    expect((await commit(c, 'restarted', generationId, memberId, 'kept', [[0, 8n]])).topics[0]!.partitions[0]!.errorCode).toBe(0);
    // The member leaves: the group is Empty in the next generation, and stays so through a restart.
    await c.request(leaveGroupApi, 1, { groupId: 'restarted', memberId });
    const after = await c.request(describeGroupsApi, 1, { groups: ['restarted'] });
    expect(after.groups[0]).toMatchObject({ groupState: 'Empty', members: [] });
    c.close();
    await tb.restart();
    c = await RawClient.connect(tb.broker.port);
    const join = await c.request(joinGroupApi, 3, { groupId: 'restarted', sessionTimeoutMs: 5000, rebalanceTimeoutMs: 1000, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] });
    expect(join.generationId).toBe(generationId + 2); // +1 when it emptied, +1 now: the generation survived
    c.close();
  });

  it('keeps a kafkajs consumer group resuming across a broker restart', async () => {
    const tb = await broker();
    const kafka = () => new Kafka({ brokers: [tb.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'across', numPartitions: 2 }] });
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({ topic: 'across', messages: Array.from({ length: 30 }, (_, i) => ({ value: `a${i}`, partition: i % 2 })) });
    await producer.disconnect();
    const consume = async (expected: number) => {
      const got: string[] = [];
      const consumer = kafka().consumer({ groupId: 'across-group', sessionTimeout: 3000, heartbeatInterval: 100, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic: 'across', fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
      const deadline = Date.now() + 15_000;
      while (got.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      await consumer.disconnect();
      return got;
    };
    expect(await consume(30)).toHaveLength(30);
    await admin.disconnect();
    await tb.restart();
    const p2 = kafka().producer();
    await p2.connect();
    await p2.send({ topic: 'across', messages: Array.from({ length: 10 }, (_, i) => ({ value: `b${i}`, partition: i % 2 })) });
    await p2.disconnect();
    expect((await consume(10)).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `b${i}`).sort());
  });

  it('loses no acknowledged commit when the broker process is killed with SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'brook-groups-kill-'));
    dirs.push(dir);
    const args = ['--set', 'offsets.topic.num.partitions=3', '--set', 'group.initial.rebalance.delay.ms=0'];
    const b = await spawnBroker(dir, undefined, args);
    const c = await RawClient.connect(b.port);
    await createTopic(c, 'durable', 8);
    const expected: Record<string, string> = {};
    // Many groups over every __consumer_offsets partition, many commits each; the last one per
    // partition wins. Every one of them was acknowledged before the kill.
    for (let round = 0; round < 25; round++) {
      for (let g = 0; g < 6; g++) {
        const offsets: [number, bigint][] = [[round % 8, BigInt(round * 100 + g)]];
        const r = await commit(c, `killed-${g}`, -1, '', 'durable', offsets, `r${round}`);
        expect(r.topics[0]!.partitions[0]!.errorCode).toBe(0);
        expected[`killed-${g}/durable-${round % 8}`] = `${round * 100 + g}/r${round}`;
      }
    }
    c.close();
    b.kill('SIGKILL');
    expect((await b.exited).signal).toBe('SIGKILL');

    const again = await spawnBroker(dir, undefined, args);
    const c2 = await RawClient.connect(again.port);
    const actual: Record<string, string> = {};
    for (let g = 0; g < 6; g++) for (const [tp, v] of Object.entries(await fetchAll(c2, `killed-${g}`))) actual[`killed-${g}/${tp}`] = v;
    expect(actual).toEqual(expected);
    c2.close();
    again.kill('SIGTERM');
    await again.exited;
  });

  it('expires offsets after offsets.retention.minutes (tombstones), and the empty group with them, across restarts', async () => {
    const tb = await broker({ 'offsets.retention.minutes': 1 });
    let c = await RawClient.connect(tb.broker.port);
    await createTopic(c, 'expiring', 2);
    await commit(c, 'short-lived', -1, '', 'expiring', [[0, 1n], [1, 2n]]);
    const coordinator = tb.broker.broker.groups;
    expect(await coordinator.expireOffsets(Date.now() + 30_000)).toBe(0);
    expect(await coordinator.expireOffsets(Date.now() + 61_000)).toBe(2);
    expect(await fetchAll(c, 'short-lived')).toEqual({});
    expect(coordinator.group('short-lived')).toBeUndefined();
    const tombstones = recordsOf(tb, 'short-lived').filter((r) => r.key.group === 'short-lived' && r.value === null);
    expect(tombstones.map((r) => r.key)).toEqual([
      { type: RecordType.OffsetCommit, group: 'short-lived', topic: 'expiring', partition: 0 },
      { type: RecordType.OffsetCommit, group: 'short-lived', topic: 'expiring', partition: 1 },
    ]);
    c.close();
    await tb.restart();
    c = await RawClient.connect(tb.broker.port);
    expect(await fetchAll(c, 'short-lived')).toEqual({});
    c.close();
  });

  it('keeps a deleted group deleted after a restart', async () => {
    const tb = await broker();
    let c = await RawClient.connect(tb.broker.port);
    await createTopic(c, 'doomed', 1);
    const { memberId, generationId } = await stableMember(c, 'doomed-group');
    await commit(c, 'doomed-group', generationId, memberId, 'doomed', [[0, 3n]]);
    await c.request(leaveGroupApi, 1, { groupId: 'doomed-group', memberId });
    expect((await c.request(deleteGroupsApi, 1, { groupsNames: ['doomed-group'] })).results[0]!.errorCode).toBe(0);
    c.close();
    await tb.restart();
    c = await RawClient.connect(tb.broker.port);
    expect(await fetchAll(c, 'doomed-group')).toEqual({});
    const d = await c.request(describeGroupsApi, 1, { groups: ['doomed-group'] });
    expect(d.groups[0]!.groupState).toBe('Dead');
    c.close();
  });
});
