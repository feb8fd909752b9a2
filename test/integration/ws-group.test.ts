/**
 * WebSocket sockets as consumer-group members (docs/websocket.md, `sub` with `mode: "group"`),
 * end to end over real sockets: the `assigned` / `revoked` frames, starts at committed offsets,
 * a group shared with a kafkajs consumer, commits by `ack` as Kafka tools see them (OffsetFetch,
 * DescribeGroups, lag), and the reconnect grace that lets a reloaded tab keep its partitions.
 */
import { AssignerProtocol, type Consumer, type Kafka } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kafkajs, startTestBroker, until, withAdmin, withProducer, type TestBroker } from './harness.js';
import { WsProbe, type Json } from './ws-harness.js';

const PARTITIONS = 4;
/** ws.session.grace.ms: how long a cut socket's member keeps its partitions. */
const GRACE_MS = 3000;

let tb: TestBroker;
let kafka: Kafka;
const probes: WsProbe[] = [];
const consumers: Consumer[] = [];

beforeAll(async () => {
  tb = await startTestBroker({
    properties: { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 500, 'ws.session.grace.ms': GRACE_MS },
  });
  kafka = kafkajs(tb.bootstrap, { clientId: 'ws-group-it' });
});

afterEach(async () => {
  expect(tb.broker.wsStats()?.dropped).toBe(0);
  expect(tb.broker.wsStats()?.handlerErrors).toBe(0);
  await Promise.all(probes.splice(0).map((p) => p.close()));
  await Promise.all(consumers.splice(0).map((c) => c.disconnect()));
});

afterAll(async () => {
  await tb?.close();
});

async function open(): Promise<WsProbe> {
  const p = await WsProbe.open(tb.broker.wsPort!);
  probes.push(p);
  return p;
}

async function createTopic(topic: string): Promise<void> {
  await withAdmin(kafka, (a) => a.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true }));
}

/** `perPartition` records on every partition, values `<partition>-<i>`. */
async function produceEach(topic: string, perPartition: number, tag = ''): Promise<string[]> {
  const messages = Array.from({ length: PARTITIONS * perPartition }, (_, i) => ({ partition: i % PARTITIONS, value: `${tag}${i % PARTITIONS}-${Math.floor(i / PARTITIONS)}` }));
  await withProducer(kafka, (p) => p.send({ topic, messages }));
  return messages.map((m) => m.value);
}

type Assigned = { topic: string; partition: number; offset: number }[];

/** The assigned / revoked frames of a subscription, in arrival order. */
function groupFrames(p: WsProbe, sub: number): { op: string; partitions: number[]; raw: Json }[] {
  return p.json
    .filter((m) => (m.op === 'assigned' || m.op === 'revoked') && m.sub === sub)
    .map((m) => ({ op: m.op!, partitions: (m.partitions as Assigned).map((tp) => tp.partition).sort((a, b) => a - b), raw: m }));
}

function latestAssigned(p: WsProbe, sub: number): number[] | undefined {
  return groupFrames(p, sub).filter((f) => f.op === 'assigned').at(-1)?.partitions;
}

interface KafkajsMember {
  consumer: Consumer;
  joins: number;
  assigned: number[];
  values: string[];
}

/** A kafkajs consumer of `topic` in `groupId`, recording its GROUP_JOINs and what it consumes. */
async function startKafkajs(groupId: string, topic: string): Promise<KafkajsMember> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 3000, rebalanceTimeout: 5000, heartbeatInterval: 100, maxWaitTimeInMs: 100 });
  consumers.push(consumer);
  const m: KafkajsMember = { consumer, joins: 0, assigned: [], values: [] };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    m.assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((x, y) => x - y);
    m.joins++;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void m.values.push(message.value?.toString() ?? '') });
  return m;
}

/** Both members hold disjoint parts of the topic that together cover it, each part non-empty. */
function splitCovers(ws: number[] | undefined, k: KafkajsMember): boolean {
  if (!ws || ws.length === 0 || k.assigned.length === 0) return false;
  const all = [...ws, ...k.assigned].sort((a, b) => a - b);
  return JSON.stringify(all) === JSON.stringify([0, 1, 2, 3]);
}

/** A WS member alone, then a kafkajs member joined and the split settled. */
async function sharedGroup(groupId: string, topic: string): Promise<{ p: WsProbe; sub: number; hello: Json; k: KafkajsMember }> {
  const p = await open();
  const hello = await p.waitJson((m) => m.op === 'hello');
  const sub = await p.sub({ topic, mode: 'group', group: groupId });
  await p.waitJson((m) => m.op === 'assigned' && m.sub === sub);
  expect(latestAssigned(p, sub)).toEqual([0, 1, 2, 3]);
  const k = await startKafkajs(groupId, topic);
  await until('the group split between the WS and the kafkajs member', () => splitCovers(latestAssigned(p, sub), k), 15_000);
  return { p, sub, hello, k };
}

describe('a WebSocket group member alone', () => {
  it('gets every partition, starts each at its committed offset, and its acks are Kafka commits', async () => {
    const topic = 'alone';
    const group = 'g-alone';
    await createTopic(topic);
    await produceEach(topic, 5);
    await withAdmin(kafka, (a) => a.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '3' }, { partition: 1, offset: '1' }] }));

    const p = await open();
    const sub = await p.sub({ topic, mode: 'group', group });
    const assigned = (await p.waitJson((m) => m.op === 'assigned' && m.sub === sub)).partitions as Assigned;
    expect([...assigned].sort((a, b) => a.partition - b.partition)).toEqual([
      { topic, partition: 0, offset: 3 },
      { topic, partition: 1, offset: 1 },
      { topic, partition: 2, offset: 0 },
      { topic, partition: 3, offset: 0 },
    ]);
    // 2 + 4 + 5 + 5: from the committed offsets, the earliest where nothing is committed.
    await p.waitRecords(16, sub);
    await new Promise((r) => setTimeout(r, 200));
    const got = p.records(sub);
    for (const [part, first] of [[0, 3], [1, 1], [2, 0], [3, 0]] as const) {
      expect(got.filter((r) => r.partition === part).map((r) => r.offset)).toEqual(Array.from({ length: 5 - first }, (_, i) => first + i));
    }

    // ack carries the next offset to read (Kafka's convention); with an id it is answered.
    expect(await p.request({ op: 'ack', sub, partition: 0, offset: 5 })).toMatchObject({ op: 'ok' });
    expect(await p.request({ op: 'ack', sub, partition: 2, offset: 2 })).toMatchObject({ op: 'ok' });
    await withAdmin(kafka, async (a) => {
      const [committed] = await a.fetchOffsets({ groupId: group, topics: [topic] });
      const byPartition = new Map(committed!.partitions.map((x) => [x.partition, Number(x.offset)]));
      expect(Object.fromEntries(byPartition)).toEqual({ 0: 5, 1: 1, 2: 2, 3: -1 });
      // kafka-consumer-groups' LAG: log end offset minus the committed offset, per committed partition.
      const ends = new Map((await a.fetchTopicOffsets(topic)).map((x) => [x.partition, Number(x.high)]));
      const lag = [0, 1, 2].map((part) => ends.get(part)! - byPartition.get(part)!);
      expect(lag).toEqual([0, 4, 3]);

      const { groups } = await a.describeGroups([group]);
      expect(groups[0]).toMatchObject({ groupId: group, state: 'Stable', protocolType: 'consumer' });
      expect(groups[0]!.members).toHaveLength(1);
      const member = groups[0]!.members[0]!;
      expect(member.clientId.startsWith('brook-ws')).toBe(true);
      expect(member.clientHost).toContain('127.0.0.1');
      // kafka-consumer-groups --describe maps partitions to members by this assignment.
      expect(AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment).toEqual({ [topic]: [0, 1, 2, 3] });
    });
  });
});

describe('a WebSocket member and a kafkajs member in one group', () => {
  it('split the partitions with no overlap and consume each record exactly once; the WS side sees revoked then assigned', async () => {
    const topic = 'shared';
    const group = 'g-shared';
    await createTopic(topic);
    const { p, sub, k } = await sharedGroup(group, topic);
    const frames = groupFrames(p, sub);
    // Eager rebalance: the first assignment, everything revoked, then this member's share.
    expect(frames.map((f) => f.op).slice(0, 3)).toEqual(['assigned', 'revoked', 'assigned']);
    expect(frames[1]!.partitions).toEqual([0, 1, 2, 3]);
    const wsParts = latestAssigned(p, sub)!;

    const values = await produceEach(topic, 10);
    await until('every record consumed by one member', () => p.records(sub).length + k.values.length >= values.length, 15_000);
    await new Promise((r) => setTimeout(r, 500)); // anything consumed twice would show by now
    const wsValues = p.records(sub).map((r) => r.value!);
    expect(new Set(p.records(sub).map((r) => r.partition))).toEqual(new Set(wsParts));
    expect(new Set(k.values.map((v) => Number(v.split('-')[0])))).toEqual(new Set(k.assigned));
    expect([...wsValues, ...k.values].sort()).toEqual([...values].sort());

    // Hand-over: both commit what they consumed, the kafkajs member leaves, and the WS member
    // takes every partition at the committed offsets: nothing old again, everything new once.
    for (const part of wsParts) expect(await p.request({ op: 'ack', sub, partition: part, offset: 10 })).toMatchObject({ op: 'ok' });
    await until('the kafkajs commits', async () => {
      const [t] = await withAdmin(kafka, (a) => a.fetchOffsets({ groupId: group, topics: [topic] }));
      return t!.partitions.every((x) => x.offset === '10');
    });
    const before = p.json.length;
    await k.consumer.disconnect();
    const allOf = (m: Json) => m.op === 'assigned' && (m.partitions as Assigned).length === PARTITIONS;
    await until('the WS member to get every partition', () => p.json.slice(before).some(allOf), 10_000);
    expect((p.json.slice(before).find(allOf)!.partitions as Assigned).map((tp) => tp.offset)).toEqual([10, 10, 10, 10]);
    const already = p.records(sub).length;
    const more = await produceEach(topic, 5, 'more-');
    await p.waitRecords(already + more.length, sub);
    await new Promise((r) => setTimeout(r, 300));
    expect(p.records(sub).slice(already).map((r) => r.value).sort()).toEqual([...more].sort());
  });

  it('keeps its partitions across a cut when it comes back with its session in the grace, and loses them without', async () => {
    const topic = 'grace';
    const group = 'g-grace';
    await createTopic(topic);
    const { p, sub: firstSub, hello, k } = await sharedGroup(group, topic);
    const wsParts = latestAssigned(p, firstSub)!;
    const joins = k.joins;

    p.terminate(); // no close frame: a network cut or a killed tab
    await p.closed;
    const q = await open();
    await q.waitJson((m) => m.op === 'hello');
    expect(await q.request({ op: 'hello', session: hello.session })).toMatchObject({ op: 'ok', session: hello.session });
    const t0 = Date.now();
    const sub = await q.sub({ topic, mode: 'group', group });
    await q.waitJson((m) => m.op === 'assigned' && m.sub === sub, 2000);
    expect(Date.now() - t0).toBeLessThan(1500); // at once: no rebalance to wait for
    expect(latestAssigned(q, sub)).toEqual(wsParts);
    expect(groupFrames(q, sub).map((f) => f.op)).toEqual(['assigned']);
    // Still its partitions: records produced now reach it.
    await produceEach(topic, 2);
    await q.waitRecords(2 * wsParts.length, sub);
    await new Promise((r) => setTimeout(r, GRACE_MS + 500)); // past the grace: nothing expired
    expect(k.joins).toBe(joins);
    expect(k.assigned).not.toEqual([0, 1, 2, 3]);

    // Cut again and stay away: after the grace the kafkajs member takes everything. The member
    // heartbeats every grace / 3 from its reattach (t0): cut 700 ms after one, so a session timeout
    // counted from the last heartbeat instead of the cut would show.
    const sinceBeat = (Date.now() - t0) % (GRACE_MS / 3);
    await new Promise((r) => setTimeout(r, (700 - sinceBeat + GRACE_MS / 3) % (GRACE_MS / 3)));
    q.terminate();
    await q.closed;
    const cutAt = Date.now();
    await until('the kafkajs member to get every partition', () => k.assigned.length === PARTITIONS, GRACE_MS + 5000);
    // ws.session.grace.ms counts from the cut (docs/websocket.md); 100 ms for timer slack.
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(GRACE_MS - 100);
    expect(k.joins).toBe(joins + 1);
  });

  it('keeps its partitions when it comes back late in the grace (grace - 400 ms after the cut)', async () => {
    const topic = 'late';
    const group = 'g-late';
    await createTopic(topic);
    const { p, sub: firstSub, hello, k } = await sharedGroup(group, topic);
    const wsParts = latestAssigned(p, firstSub)!;
    const joins = k.joins;
    // The member heartbeats every grace / 3: cut between two heartbeats, not right after the join.
    await new Promise((r) => setTimeout(r, 700));
    p.terminate();
    await p.closed;
    const cutAt = Date.now();
    await new Promise((r) => setTimeout(r, GRACE_MS - 400));
    const q = await open();
    await q.waitJson((m) => m.op === 'hello');
    await q.request({ op: 'hello', session: hello.session });
    const sub = await q.sub({ topic, mode: 'group', group });
    await q.waitJson((m) => m.op === 'assigned' && m.sub === sub, 3000);
    expect(Date.now() - cutAt).toBeLessThan(GRACE_MS);
    await new Promise((r) => setTimeout(r, 1000));
    expect(groupFrames(q, sub).map((f) => f.op)).toEqual(['assigned']);
    expect(latestAssigned(q, sub)).toEqual(wsParts);
    expect(k.joins).toBe(joins);
  });

  it('a socket taking over the session of one still open (4409) keeps its partitions, no rebalance', async () => {
    const topic = 'takeover';
    const group = 'g-takeover';
    await createTopic(topic);
    const { p, sub: firstSub, hello, k } = await sharedGroup(group, topic);
    const wsParts = latestAssigned(p, firstSub)!;
    const joins = k.joins;
    const q = await open();
    await q.waitJson((m) => m.op === 'hello');
    expect(await q.request({ op: 'hello', session: hello.session })).toMatchObject({ op: 'ok', session: hello.session });
    expect((await p.closed).code).toBe(4409);
    const sub = await q.sub({ topic, mode: 'group', group });
    await q.waitJson((m) => m.op === 'assigned' && m.sub === sub, 1500);
    expect(latestAssigned(q, sub)).toEqual(wsParts);
    await produceEach(topic, 2);
    await q.waitRecords(2 * wsParts.length, sub);
    await new Promise((r) => setTimeout(r, 1000));
    expect(groupFrames(q, sub).map((f) => f.op)).toEqual(['assigned']);
    expect(k.joins).toBe(joins);
  });

  it('leaves the group at once on unsub', async () => {
    const topic = 'unsub';
    const group = 'g-unsub';
    await createTopic(topic);
    const { p, sub, k } = await sharedGroup(group, topic);
    const t0 = Date.now();
    expect(await p.request({ op: 'unsub', sub })).toMatchObject({ op: 'ok' });
    await until('the kafkajs member to get every partition', () => k.assigned.length === PARTITIONS, GRACE_MS);
    expect(Date.now() - t0).toBeLessThan(GRACE_MS - 1000);
  });

  it('leaves the group at once on a clean close (1000)', async () => {
    const topic = 'goodbye';
    const group = 'g-goodbye';
    await createTopic(topic);
    const { p, k } = await sharedGroup(group, topic);
    const closedAt = Date.now();
    expect((await p.close(1000)).code).toBe(1000);
    await until('the kafkajs member to get every partition', () => k.assigned.length === PARTITIONS, GRACE_MS);
    // Well before the grace would have run out.
    expect(Date.now() - closedAt).toBeLessThan(GRACE_MS - 1000);
  });
});
