/**
 * Consumer groups with kafkajs: members joining one by one and leaving, every rebalance handing
 * each partition to exactly one member, no message consumed twice while membership is steady,
 * committed offsets surviving a consumer restart, lag, and the admin group APIs.
 */
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offsetCommitApi } from '../../src/protocol/schemas/offset-commit.js';
import { GROUP_TEST_PROPERTIES, startWithKafkajs, until, type KafkajsBroker, type TestBroker } from './harness.js';
import { RawClient } from './raw-client.js';

let clients: KafkajsBroker;
let tb: TestBroker;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  ({ tb, kafka, admin, producer } = clients = await startWithKafkajs({ properties: GROUP_TEST_PROPERTIES }, { clientId: 'groups-it' }, { allowAutoTopicCreation: false }));
});

afterAll(async () => {
  await clients?.close();
});

async function produce(topic: string, count: number, partitions: number, tag: string): Promise<void> {
  await producer.send({ topic, acks: -1, messages: Array.from({ length: count }, (_, i) => ({ partition: i % partitions, value: `${tag}-${i}` })) });
}

async function committedEqualsEnd(groupId: string, topic: string): Promise<boolean> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const ends = await admin.fetchTopicOffsets(topic);
  return ends.every((e) => committed!.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
}

interface Member {
  name: string;
  consumer: Consumer;
  /** GROUP_JOIN events seen (one per completed rebalance) and the latest assignment. */
  joins: number;
  assigned: number[];
}

describe('consumer groups (kafkajs)', () => {
  it('shares partitions among members joining one by one and leaving, each partition with exactly one member, no message twice', async () => {
    const topic = 'shared';
    const groupId = 'sharing';
    const PARTITIONS = 6;
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
    const consumed: string[] = [];
    const seen = new Set<string>();
    const duplicates: string[] = [];
    const members: Member[] = [];

    const start = async (name: string): Promise<Member> => {
      const consumer = kafka.consumer({ groupId, sessionTimeout: 3000, rebalanceTimeout: 5000, heartbeatInterval: 100, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
      const m: Member = { name, consumer, joins: 0, assigned: [] };
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        m.assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
        m.joins++;
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          const id = `${partition}@${message.offset}`;
          if (seen.has(id)) duplicates.push(`${name}:${id}`);
          seen.add(id);
          consumed.push(message.value!.toString());
        },
      });
      members.push(m);
      return m;
    };

    /** Waits until every live member went through the rebalance (`before`: join counts before the change), then checks the split. */
    const expectBalanced = async (live: Member[], before: Map<Member, number>) => {
      await until(`${live.map((m) => m.name).join('+')} rebalanced`, async () => {
        if (!live.every((m) => m.joins > (before.get(m) ?? 0))) return false;
        const d = await admin.describeGroups([groupId]);
        return d.groups[0]!.state === 'Stable' && d.groups[0]!.members.length === live.length;
      });
      const all = live.flatMap((m) => m.assigned).sort((a, b) => a - b);
      expect(all).toEqual([...Array(PARTITIONS).keys()]); // every partition exactly once
      for (const m of live) expect(m.assigned.length).toBeGreaterThanOrEqual(Math.floor(PARTITIONS / live.length));
      const described = await admin.describeGroups([groupId]);
      expect(described.groups[0]).toMatchObject({ state: 'Stable', protocolType: 'consumer' });
      expect(described.groups[0]!.members).toHaveLength(live.length);
    };

    /** Produces a round of messages in steady state and waits until consumed and committed. */
    let produced = 0;
    const round = async (tag: string) => {
      await produce(topic, 60, PARTITIONS, tag);
      produced += 60;
      await until(`round ${tag} consumed`, () => consumed.length >= produced);
      await until(`round ${tag} committed`, () => committedEqualsEnd(groupId, topic));
    };

    const counts = () => new Map(members.map((m) => [m, m.joins]));
    let before = counts();
    const a = await start('a');
    await expectBalanced([a], before);
    await round('r1');
    before = counts();
    const b = await start('b');
    await expectBalanced([a, b], before);
    await round('r2');
    before = counts();
    const c = await start('c');
    await expectBalanced([a, b, c], before);
    await round('r3');
    before = counts();
    await c.consumer.disconnect();
    await expectBalanced([a, b], before);
    await round('r4');
    before = counts();
    await b.consumer.disconnect();
    await expectBalanced([a], before);
    await round('r5');
    await a.consumer.disconnect();

    expect(duplicates).toEqual([]);
    expect(consumed).toHaveLength(produced);
    expect(new Set(consumed).size).toBe(produced);
    const described = await admin.describeGroups([groupId]);
    expect(described.groups[0]).toMatchObject({ state: 'Empty', members: [] });
  });

  it('resumes from committed offsets after a consumer restart', async () => {
    const topic = 'resume';
    const groupId = 'resumer';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await produce(topic, 40, 2, 'first');

    const consumeAll = async (expected: number): Promise<string[]> => {
      const got: string[] = [];
      const consumer = kafka.consumer({ groupId, sessionTimeout: 3000, heartbeatInterval: 100, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
      await until(`${expected} messages`, () => got.length >= expected);
      await until('offsets committed', () => committedEqualsEnd(groupId, topic));
      await new Promise((r) => setTimeout(r, 300)); // anything beyond would show up now
      await consumer.disconnect();
      return got;
    };

    const first = await consumeAll(40);
    expect(first.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `first-${i}`).sort());
    await produce(topic, 20, 2, 'second');
    const second = await consumeAll(20);
    expect(second.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `second-${i}`).sort());
  });

  it('reports lag (log end minus committed) for a half-consumed group', async () => {
    const topic = 'lagging';
    const groupId = 'lagger';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await produce(topic, 100, 2, 'old');
    const consumer = kafka.consumer({ groupId, sessionTimeout: 3000, heartbeatInterval: 100, maxWaitTimeInMs: 100 });
    let n = 0;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async () => void n++ });
    await until('100 consumed', () => n >= 100);
    await until('committed', () => committedEqualsEnd(groupId, topic));
    await consumer.disconnect();
    await produce(topic, 100, 2, 'new');

    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    const lag = ends.map((e) => Number(e.high) - Number(committed!.partitions.find((p) => p.partition === e.partition)!.offset));
    expect(lag).toEqual([50, 50]);
  });

  it('lists, describes and deletes groups; refuses to delete a group with members (NON_EMPTY_GROUP)', async () => {
    const topic = 'admin-groups';
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const consumer = kafka.consumer({ groupId: 'busy', sessionTimeout: 3000, heartbeatInterval: 100, maxWaitTimeInMs: 100 });
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => void (joined = true));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    await until('joined', () => joined);

    // A standalone consumer's commit (generation -1, no member id) makes a group with no protocol type.
    const raw = await RawClient.connect(tb.broker.port);
    const commit = await raw.request(offsetCommitApi, 2, {
      groupId: 'idle',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 0n, committedMetadata: null }] }],
    });
    raw.close();
    expect(commit.topics[0]!.partitions[0]!.errorCode).toBe(0);
    const { groups } = await admin.listGroups();
    expect(groups).toEqual(expect.arrayContaining([{ groupId: 'busy', protocolType: 'consumer' }, { groupId: 'idle', protocolType: '' }]));
    expect(groups.some((g) => g.groupId === '__consumer_offsets')).toBe(false);

    const described = await admin.describeGroups(['busy', 'no-such-group']);
    expect(described.groups[0]).toMatchObject({ groupId: 'busy', state: 'Stable', protocol: 'RoundRobinAssigner' });
    expect(described.groups[0]!.members[0]).toMatchObject({ clientId: 'groups-it', clientHost: '/127.0.0.1' });
    expect(described.groups[0]!.members[0]!.memberAssignment.length).toBeGreaterThan(0);
    expect(described.groups[1]).toMatchObject({ groupId: 'no-such-group', state: 'Dead', errorCode: 0 });

    await expect(admin.deleteGroups(['busy'])).rejects.toMatchObject({ groups: [expect.objectContaining({ groupId: 'busy', errorCode: 68 })] });
    await consumer.disconnect();
    expect(await admin.deleteGroups(['busy', 'idle'])).toEqual([
      expect.objectContaining({ groupId: 'busy', errorCode: 0 }),
      expect.objectContaining({ groupId: 'idle', errorCode: 0 }),
    ]);
    const [after] = await admin.fetchOffsets({ groupId: 'idle', topics: [topic] });
    expect(after!.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '-1' })]);
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain('busy');
  });
});
