/**
 * Consumer groups with @platformatic/kafka 1.x, which speaks only flexible versions here:
 * FindCoordinator v4 (batched), JoinGroup v9 (with MEMBER_ID_REQUIRED), SyncGroup v5, Heartbeat v4,
 * LeaveGroup v5, OffsetCommit v9, OffsetFetch v9.
 */
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { GROUP_TEST_PROPERTIES, until, useBrokerWithKafkajs } from './harness.js';

const k = useBrokerWithKafkajs({ properties: GROUP_TEST_PROPERTIES });

interface Member {
  consumer: Consumer<string, string, string, string>;
  partitions: number[];
  joins: number;
}

/** A member that joins the group without fetching (platformatic.test.ts covers consuming). */
async function startMember(groupId: string, topic: string): Promise<Member> {
  const consumer = new Consumer({ groupId, clientId: 'plt-member', bootstrapBrokers: [k.tb.bootstrap], deserializers: stringDeserializers, sessionTimeout: 3000, rebalanceTimeout: 4000, heartbeatInterval: 100 });
  const m: Member = { consumer, partitions: [], joins: 0 };
  consumer.on('consumer:group:join', (e: { assignments?: { topic: string; partitions: number[] }[] }) => {
    m.partitions = (e.assignments ?? []).filter((a) => a.topic === topic).flatMap((a) => a.partitions).sort((a, b) => a - b);
    m.joins++;
  });
  consumer.topics.track(topic);
  await consumer.joinGroup({});
  return m;
}

describe('@platformatic/kafka consumer groups (flexible versions)', () => {
  it('splits partitions between two members, rebalances when one leaves, commits and reads offsets back', async () => {
    const topic = 'plt-groups';
    const groupId = 'plt-group';
    await k.admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const a = await startMember(groupId, topic);
    await until('a owns all four', () => a.partitions.length === 4);
    const b = await startMember(groupId, topic);
    // a learns about the rebalance from its heartbeat (REBALANCE_IN_PROGRESS) and rejoins.
    await until('a 2+2 split', () => b.partitions.length === 2 && a.partitions.length === 2);
    expect([...a.partitions, ...b.partitions].sort()).toEqual([0, 1, 2, 3]);
    const described = await k.admin.describeGroups([groupId]);
    expect(described.groups[0]).toMatchObject({ state: 'Stable', protocol: 'roundrobin' });
    expect(described.groups[0]!.members).toHaveLength(2);

    const mine = [...a.partitions];
    await a.consumer.commit({ offsets: mine.map((partition) => ({ topic, partition, offset: 7n, leaderEpoch: 0 })) });
    const committed = await a.consumer.listCommittedOffsets({ topics: [{ topic, partitions: [0, 1, 2, 3] }] });
    const offsets = committed.get(topic)!;
    for (const p of [0, 1, 2, 3]) expect(offsets[p]).toBe(mine.includes(p) ? 7n : -1n);

    const joinsBefore = a.joins;
    await b.consumer.close(true); // LeaveGroup v5
    await until('a owns all four again', () => a.joins > joinsBefore && a.partitions.length === 4);
    await a.consumer.close(true);
    const after = await k.admin.describeGroups([groupId]);
    expect(after.groups[0]).toMatchObject({ state: 'Empty', members: [] });
    const [fetched] = await k.admin.fetchOffsets({ groupId, topics: [topic] });
    expect(fetched!.partitions.filter((p) => p.offset === '7').map((p) => p.partition).sort()).toEqual(mine);
  });
});
