/**
 * WsGroupMember in a real broker's group coordinator, sharing groups with kafkajs consumers: the
 * split of partitions whoever leads, commits and DescribeGroups as Kafka tools see them, and a
 * detached static member keeping its partitions until its session expires.
 */
import type { Consumer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeAssignment } from '../../src/coordinator/assignors.js';
import type { GroupCoordinator } from '../../src/coordinator/coordinator.js';
import { WsGroupMember, type GroupMemberEvents, type GroupMemberOptions, type TopicPartition } from '../../src/ws/group-member.js';
import { GROUP_TEST_PROPERTIES, startWithKafkajs, until, type KafkajsBroker } from './harness.js';

const PARTITIONS = 4;
/** Heartbeats every 666 ms; a detached member is gone 2 s after its last one. */
const WS_SESSION_MS = 2000;

let b: KafkajsBroker;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  b = await startWithKafkajs({ properties: GROUP_TEST_PROPERTIES }, { clientId: 'ws-group-it' });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

afterAll(async () => {
  await b?.close();
});

const coordinator = (): GroupCoordinator => b.tb.broker.broker.groups;

async function createTopic(topic: string): Promise<void> {
  await b.admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
}

interface Recorder extends GroupMemberEvents {
  assignedLog: TopicPartition[][];
  revokedLog: TopicPartition[][];
  failures: { code: string; message: string }[];
  /** The latest `assigned`, as partition numbers (one topic per test). */
  latest(): number[] | undefined;
}

function recorder(): Recorder {
  const r: Recorder = {
    assignedLog: [],
    revokedLog: [],
    failures: [],
    assigned: (p) => void r.assignedLog.push(p),
    revoked: (p) => void r.revokedLog.push(p),
    failed: (e) => void r.failures.push(e),
    latest: () => r.assignedLog.at(-1)?.map((tp) => tp.partition).sort((x, y) => x - y),
  };
  return r;
}

function startWs(groupId: string, topic: string, opts: Partial<GroupMemberOptions> = {}): { member: WsGroupMember; events: Recorder } {
  const events = recorder();
  const member = new WsGroupMember(
    coordinator(),
    {
      groupId,
      topics: [topic],
      clientId: 'ws-gateway',
      clientHost: '/10.1.2.3',
      sessionTimeoutMs: WS_SESSION_MS,
      rebalanceTimeoutMs: 10_000,
      groupInstanceId: `ws-session-${groupId}`,
      partitionCount: (t) => b.tb.broker.broker.topics.get(t)?.partitions.length,
      ...opts,
    },
    events,
  );
  member.start();
  cleanups.push(() => member.leave());
  return { member, events };
}

interface KafkajsMember {
  consumer: Consumer;
  joins: number;
  assigned: number[];
  memberId: string;
}

async function startKafkajs(groupId: string, topic: string): Promise<KafkajsMember> {
  const consumer = b.kafka.consumer({ groupId, sessionTimeout: 3000, rebalanceTimeout: 5000, heartbeatInterval: 100, maxWaitTimeInMs: 100 });
  const m: KafkajsMember = { consumer, joins: 0, assigned: [], memberId: '' };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    m.assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((x, y) => x - y);
    m.memberId = e.payload.memberId;
    m.joins++;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async () => {} });
  cleanups.push(() => consumer.disconnect());
  return m;
}

/**
 * The group is Stable and both members got this generation's assignment (what the coordinator
 * handed out), which covers the topic exactly once with something for each.
 */
function splitCovers(groupId: string, ws: WsGroupMember, events: Recorder, k: KafkajsMember): boolean {
  const group = coordinator().group(groupId);
  if (!group?.is('Stable') || group.size !== 2 || ws.generationId !== group.generationId) return false;
  const given = (memberId: string) => decodeAssignment(group.members.get(memberId)?.assignment ?? Buffer.alloc(0)).map((tp) => tp.partition).sort((x, y) => x - y);
  const mine = events.latest() ?? [];
  if (mine.join() !== given(ws.memberId).join() || k.assigned.join() !== given(k.memberId).join()) return false;
  const all = [...mine, ...k.assigned].sort((x, y) => x - y);
  return mine.length > 0 && k.assigned.length > 0 && all.join() === [...Array(PARTITIONS).keys()].join();
}

describe('WsGroupMember', () => {
  it('alone in a group gets every partition, then leaves it Empty', async () => {
    await createTopic('solo');
    const { member, events } = startWs('solo-group', 'solo');
    await until('assigned', () => events.assignedLog.length > 0);
    expect(events.latest()).toEqual([0, 1, 2, 3]);
    expect(member.assignment).toHaveLength(PARTITIONS);
    expect(member.generationId).toBeGreaterThan(0);
    expect(member.memberId).toMatch(/^ws-gateway-/);
    member.leave();
    expect(coordinator().group('solo-group')!.state).toBe('Empty');
    expect(events.failures).toEqual([]);
  });

  for (const first of ['ws', 'kafkajs'] as const) {
    it(`shares a group with a kafkajs consumer (${first} joins first and leads): no overlap, full coverage`, async () => {
      const topic = `mixed-${first}`;
      const groupId = `mixed-${first}-group`;
      await createTopic(topic);
      let ws: ReturnType<typeof startWs>;
      let k: KafkajsMember;
      if (first === 'ws') {
        ws = startWs(groupId, topic);
        await until('the WS member assigned', () => ws.events.assignedLog.length > 0);
        k = await startKafkajs(groupId, topic);
      } else {
        k = await startKafkajs(groupId, topic);
        await until('kafkajs assigned', () => k.joins > 0);
        ws = startWs(groupId, topic);
      }
      await until('the split', () => splitCovers(groupId, ws.member, ws.events, k));
      const group = coordinator().group(groupId)!;
      expect(group.protocolName).toBe('RoundRobinAssigner');
      expect(group.leaderId).toBe(first === 'ws' ? ws.member.memberId : k.memberId);
      expect(ws.events.failures).toEqual([]);
      if (first === 'ws') expect(ws.events.revokedLog.at(-1)?.map((tp) => tp.partition).sort()).toEqual([0, 1, 2, 3]); // eager: all revoked before the rejoin

      // kafkajs leaves: the WS member gets everything back.
      await k.consumer.disconnect();
      await until('the WS member holding all partitions', () => ws.events.latest()?.length === PARTITIONS);
      expect(coordinator().group(groupId)!.leaderId).toBe(ws.member.memberId);
    });
  }

  it('commits offsets that kafkajs admin fetches, and shows in describeGroups with its client id and host', async () => {
    const topic = 'commits';
    const groupId = 'commits-group';
    await createTopic(topic);
    const k = await startKafkajs(groupId, topic);
    await until('kafkajs assigned', () => k.joins > 0);
    const ws = startWs(groupId, topic);
    await until('the split', () => splitCovers(groupId, ws.member, ws.events, k));

    const p = ws.member.assignment[0]!.partition;
    expect(ws.member.committed(topic, p)).toBeUndefined();
    await ws.member.commit([{ topic, partition: p, offset: 0 }]);
    expect(ws.member.committed(topic, p)).toBe(0);
    const [fetched] = await b.admin.fetchOffsets({ groupId, topics: [topic] });
    expect(fetched!.partitions.find((x) => x.partition === p)?.offset).toBe('0');

    const failed = ws.member.commit([{ topic: 'no-such-topic', partition: 0, offset: 1 }]);
    await expect(failed).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(ws.member.commit([{ topic, partition: p, offset: -5 }])).rejects.toMatchObject({ code: 'INVALID_REQUEST' });

    const { groups } = await b.admin.describeGroups([groupId]);
    const me = groups[0]!.members.find((m) => m.memberId === ws.member.memberId)!;
    expect(groups[0]!.protocolType).toBe('consumer');
    expect(me).toMatchObject({ clientId: 'ws-gateway', clientHost: '/10.1.2.3' });
    expect(decodeAssignment(me.memberAssignment)).toEqual(ws.member.assignment);
  });

  it('detach() then reattach() within the session keeps the assignment and the generation; a detached member that never returns loses its partitions at the session timeout', async () => {
    const topic = 'reattach';
    const groupId = 'reattach-group';
    await createTopic(topic);
    const ws = startWs(groupId, topic);
    await until('the WS member assigned', () => ws.events.assignedLog.length > 0);
    const k = await startKafkajs(groupId, topic);
    await until('the split', () => splitCovers(groupId, ws.member, ws.events, k));
    const generation = ws.member.generationId;
    const held = ws.events.latest();
    const kafkajsJoins = k.joins;

    ws.member.detach();
    await new Promise((r) => setTimeout(r, WS_SESSION_MS * 0.6));
    const back = recorder();
    ws.member.reattach(back);
    expect(back.assignedLog).toHaveLength(1); // at once
    expect(back.latest()).toEqual(held);
    await new Promise((r) => setTimeout(r, WS_SESSION_MS * 0.6)); // past the first session: heartbeats resumed
    expect(ws.member.generationId).toBe(generation);
    expect(coordinator().group(groupId)!.generationId).toBe(generation);
    expect(k.joins).toBe(kafkajsJoins);
    expect(back.revokedLog).toEqual([]);

    ws.member.detach();
    const detachedAt = Date.now();
    await until('kafkajs holding all partitions', () => k.assigned.length === PARTITIONS && k.joins > kafkajsJoins, 10_000);
    expect(Date.now() - detachedAt).toBeGreaterThanOrEqual(WS_SESSION_MS - 700); // its last heartbeat may predate detach()
    expect(back.assignedLog).toHaveLength(1); // a detached socket hears nothing
  });

  it('as leader rejoins when a subscribed topic grows, and assigns the new partitions', async () => {
    await createTopic('growing');
    const { events } = startWs('growing-group', 'growing');
    await until('assigned', () => events.latest()?.length === PARTITIONS);
    await b.admin.createPartitions({ topicPartitions: [{ topic: 'growing', count: PARTITIONS + 2 }] });
    await until('the new partitions assigned', () => events.latest()?.length === PARTITIONS + 2, 5000);
    expect(events.revokedLog).toHaveLength(1);
  });

  it('a second member with the same instance id fences the first, which fails with FENCED_INSTANCE_ID', async () => {
    await createTopic('fenced');
    const first = startWs('fenced-group', 'fenced', { groupInstanceId: 'tab-1' });
    await until('the first assigned', () => first.events.assignedLog.length > 0);
    const second = startWs('fenced-group', 'fenced', { groupInstanceId: 'tab-1' });
    await until('the second assigned', () => second.events.assignedLog.length > 0);
    expect(second.events.latest()).toEqual([0, 1, 2, 3]); // the static member's assignment, no rebalance
    await until('the first fenced', () => first.events.failures.length > 0, 5000);
    expect(first.events.failures[0]!.code).toBe('FENCED_INSTANCE_ID');
    expect(first.events.revokedLog.at(-1)).toHaveLength(PARTITIONS);
    expect(second.events.failures).toEqual([]);
    expect(coordinator().group('fenced-group')!.size).toBe(1);
    const late = recorder();
    first.member.reattach(late); // a socket coming back to an ended member learns why
    expect(late.failures.map((f) => f.code)).toEqual(['FENCED_INSTANCE_ID']);
  });

  it('fails with INCONSISTENT_GROUP_PROTOCOL in a group whose members offer none of its protocols', async () => {
    await createTopic('other-protocol');
    const consumer = b.kafka.consumer({
      groupId: 'other-protocol-group',
      sessionTimeout: 3000,
      heartbeatInterval: 100,
      maxWaitTimeInMs: 100,
      partitionAssigners: [(cfg) => ({ ...cfg, name: 'custom', version: 0, assign: async () => [], protocol: () => ({ name: 'custom', metadata: Buffer.from([0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]) }) })],
    });
    await consumer.connect();
    cleanups.push(() => consumer.disconnect());
    await consumer.subscribe({ topic: 'other-protocol' });
    await consumer.run({ eachMessage: async () => {} });
    await until('the kafkajs group stable', () => coordinator().group('other-protocol-group')?.is('Stable') === true);
    const { member, events } = startWs('other-protocol-group', 'other-protocol');
    await until('failed', () => events.failures.length > 0);
    expect(events.failures[0]!.code).toBe('INCONSISTENT_GROUP_PROTOCOL');
    expect(member.assignment).toEqual([]);
  });

  it('leave() while the first JoinGroup waits leaves no member behind (static and dynamic)', async () => {
    await createTopic('early-leave');
    const k = await startKafkajs('early-leave-group', 'early-leave');
    await until('kafkajs assigned', () => k.joins > 0);
    const joins = k.joins;
    const staticOne = startWs('early-leave-group', 'early-leave');
    const dynamicOne = startWs('early-leave-group', 'early-leave', { groupInstanceId: null });
    staticOne.member.leave();
    dynamicOne.member.leave();
    await until('kafkajs alone again with everything', () => {
      const g = coordinator().group('early-leave-group')!;
      return g.is('Stable') && g.size === 1 && k.joins > joins && k.assigned.length === PARTITIONS;
    });
    expect(staticOne.events.assignedLog).toEqual([]);
    expect(dynamicOne.events.assignedLog).toEqual([]);
  });
});
