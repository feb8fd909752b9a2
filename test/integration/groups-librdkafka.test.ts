/**
 * Consumer groups with librdkafka 2.0.2: kcat -G (balanced consumer) and confluent-kafka under
 * Debian's python, with the range, roundrobin and cooperative-sticky assignors; a member killed
 * with SIGKILL expelled after its session timeout; a static member (group.instance.id) restarting
 * without a rebalance.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOk, GROUP_TEST_PROPERTIES, hasConfluentKafka, hasKcat, requireInstalled, run, spawnLive, SYSTEM_PYTHON, useBrokerWithKafkajs, type LiveProcess } from './harness.js';

const MEMBER_SCRIPT = join(import.meta.dirname, 'clients', 'group_member.py');

const k = useBrokerWithKafkajs({ properties: GROUP_TEST_PROPERTIES });

async function topicWith(topic: string, partitions: number, messages: number, tag = 'm'): Promise<string[]> {
  await k.admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
  return produce(topic, partitions, messages, tag);
}

async function produce(topic: string, partitions: number, messages: number, tag: string): Promise<string[]> {
  const values = Array.from({ length: messages }, (_, i) => `${tag}-${i}`);
  await k.producer.send({ topic, acks: -1, messages: values.map((value, i) => ({ value, partition: i % partitions })) });
  return values;
}

async function lagOf(groupId: string, topic: string): Promise<number[]> {
  const [committed] = await k.admin.fetchOffsets({ groupId, topics: [topic] });
  const ends = await k.admin.fetchTopicOffsets(topic);
  return ends.sort((a, b) => a.partition - b.partition).map((e) => Number(e.high) - Number(committed!.partitions.find((p) => p.partition === e.partition)!.offset));
}

function member(lib: 'confluent' | 'kafka-python', group: string, topic: string, opts: Record<string, unknown>): LiveProcess {
  return spawnLive(SYSTEM_PYTHON, [MEMBER_SCRIPT, lib, k.tb.bootstrap, group, topic, JSON.stringify(opts)]);
}

type Ev = Record<string, unknown>;
const messages = (p: LiveProcess) => p.events.filter((e) => e.event === 'message');
const lastAssignment = (p: LiveProcess, m = 0): number[] | undefined =>
  (p.events.filter((e) => e.event === 'assigned' && e.member === m).at(-1)?.partitions as number[] | undefined) ?? undefined;

function expectPartitioned(assignments: number[][], partitions: number): void {
  expect(assignments.flat().sort((a, b) => a - b)).toEqual([...Array(partitions).keys()]);
}

function expectNoDuplicates(events: Ev[]): void {
  const ids = events.map((e) => `${e.partition}@${e.offset}`);
  expect(ids.length).toBe(new Set(ids).size);
}

requireInstalled(hasKcat, 'kcat');
requireInstalled(hasConfluentKafka, 'confluent-kafka (python3-confluent-kafka)');

describe('kcat -G (librdkafka 2.0.2 balanced consumer)', () => {
  for (const assignor of ['range', 'roundrobin', 'cooperative-sticky']) {
    it(`consumes everything, commits, and resumes from the committed offsets (${assignor})`, async () => {
      const topic = `kcat-${assignor}`;
      const group = `kcat-group-${assignor}`;
      const first = await topicWith(topic, 4, 40, 'first');
      const kcat = (): Promise<string[]> =>
        run('kcat', ['-b', k.tb.bootstrap, '-G', group, topic, '-e', '-q', '-X', 'auto.offset.reset=earliest', '-X', `partition.assignment.strategy=${assignor}`, '-f', '%s\\n'], { timeoutMs: 30_000 }).then(
          (r) => expectOk(r, 'kcat -G').stdout.split('\n').filter((l) => l !== ''),
        );
      expect((await kcat()).sort()).toEqual([...first].sort());
      expect(await lagOf(group, topic)).toEqual([0, 0, 0, 0]);
      const second = await produce(topic, 4, 8, 'second');
      expect((await kcat()).sort()).toEqual([...second].sort());
      const d = await k.admin.describeGroups([group]);
      expect(d.groups[0]).toMatchObject({ state: 'Empty', protocolType: 'consumer' });
    });
  }

  it('splits partitions between two kcat members of one group, each message once', async () => {
    const topic = 'kcat-pair';
    const group = 'kcat-pair-group';
    await k.admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const start = () => spawnLive('kcat', ['-b', k.tb.bootstrap, '-G', group, topic, '-u', '-X', 'auto.offset.reset=earliest', '-X', 'partition.assignment.strategy=roundrobin', '-X', 'session.timeout.ms=6000', '-X', 'heartbeat.interval.ms=100', '-f', '{"event":"message","partition":%p,"offset":%o,"value":"%s"}\\n']);
    const a = start();
    const b = start();
    const assigned = (p: LiveProcess) => (p.stderr().match(/assigned: ([^\n]*)/g) ?? []).at(-1);
    const deadline = Date.now() + 20_000;
    // Both members are in once each holds two partitions (eager rebalance: the first member gives two back).
    while (!(assigned(a)?.match(/\[\d\]/g)?.length === 2 && assigned(b)?.match(/\[\d\]/g)?.length === 2)) {
      if (Date.now() > deadline) throw new Error(`no 2+2 split:\n${a.stderr()}\n${b.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const parts = (s: string) => [...s.matchAll(/\[(\d)\]/g)].map((m) => Number(m[1]));
    expectPartitioned([parts(assigned(a)!), parts(assigned(b)!)], 4);
    const values = await produce(topic, 4, 40, 'pair');
    const until = Date.now() + 20_000;
    while (messages(a).length + messages(b).length < 40) {
      if (Date.now() > until) throw new Error(`only ${messages(a).length}+${messages(b).length} of 40 messages`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300));
    a.kill('SIGTERM');
    b.kill('SIGTERM');
    await Promise.all([a.exited, b.exited]);
    const all = [...messages(a), ...messages(b)];
    expectNoDuplicates(all);
    expect(all.map((e) => e.value).sort()).toEqual([...values].sort());
    // Each member consumed exactly its own partitions.
    expect(new Set(messages(a).map((e) => e.partition))).toEqual(new Set(parts(assigned(a)!)));
  });
});

describe('confluent-kafka (librdkafka 2.0.2)', () => {
  for (const assignor of ['range', 'roundrobin', 'cooperative-sticky']) {
    it(`shares 6 partitions among 3 members, each message once, then resumes (${assignor})`, async () => {
      const topic = `ck-${assignor}`;
      const group = `ck-group-${assignor}`;
      const values = await topicWith(topic, 6, 60, 'ck');
      const three = member('confluent', group, topic, { members: 3, assignor, expect: 60, settle_s: 1.0 });
      const done = await three.waitFor('done', (e) => e.event === 'done', 40_000);
      expect((await three.exited).code).toBe(0);
      const assignments = done.assignments as number[][];
      expectPartitioned(assignments, 6);
      for (const a of assignments) expect(a).toHaveLength(2);
      expectNoDuplicates(messages(three));
      expect(messages(three).map((e) => e.value).sort()).toEqual([...values].sort());
      expect(await lagOf(group, topic)).toEqual([0, 0, 0, 0, 0, 0]);

      const more = await produce(topic, 6, 12, 'more');
      const one = member('confluent', group, topic, { assignor, expect: 12, settle_s: 0.3 });
      await one.waitFor('done', (e) => e.event === 'done', 30_000);
      expect((await one.exited).code).toBe(0); // it leaves the group and exits while the broker still runs
      expect(messages(one).map((e) => e.value).sort()).toEqual([...more].sort());
    });
  }

  it('expels a member killed with SIGKILL after its session timeout and gives its partitions to the survivor', async () => {
    const topic = 'ck-killed';
    const group = 'ck-killed-group';
    await k.admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const opts = { assignor: 'roundrobin', session_ms: 1500 };
    const survivor = member('confluent', group, topic, opts);
    await survivor.waitFor('survivor owns everything', () => lastAssignment(survivor)?.length === 4);
    const victim = member('confluent', group, topic, opts);
    await victim.waitFor('victim assigned', () => lastAssignment(victim)?.length === 2);
    await survivor.waitFor('survivor gave two back', () => lastAssignment(survivor)?.length === 2);
    const victimParts = lastAssignment(victim)!;

    victim.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;
    await survivor.waitFor('survivor owns everything again', () => lastAssignment(survivor)?.length === 4, 15_000);
    const took = Date.now() - killedAt;
    expect(took).toBeGreaterThanOrEqual(1000); // not before the session timeout (1.5 s, heartbeats aside)
    // Messages on the dead member's partitions now reach the survivor.
    const values = await produce(topic, 4, 20, 'after-kill');
    await survivor.waitFor('messages after the kill', () => messages(survivor).filter((e) => String(e.value).startsWith('after-kill')).length === 20);
    const got = new Set(messages(survivor).filter((e) => String(e.value).startsWith('after-kill')).map((e) => e.partition as number));
    for (const p of victimParts) expect(got.has(p)).toBe(true);
    expect(messages(survivor).filter((e) => String(e.value).startsWith('after-kill')).map((e) => e.value).sort()).toEqual(values.sort());
    survivor.kill('SIGTERM');
    await survivor.exited;
  });

  it('lets a static member (group.instance.id) restart and keep its partitions without a rebalance', async () => {
    const topic = 'ck-static';
    const group = 'ck-static-group';
    await k.admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const opts = (id: string) => ({ assignor: 'range', session_ms: 10_000, instance_id: id });
    const a = member('confluent', group, topic, opts('a'));
    await a.waitFor('a owns everything', () => lastAssignment(a)?.length === 4);
    const b = member('confluent', group, topic, opts('b'));
    await b.waitFor('b assigned', () => lastAssignment(b)?.length === 2);
    await a.waitFor('a gave two back', () => lastAssignment(a)?.length === 2);
    const bParts = lastAssignment(b)!;
    const aEvents = a.events.filter((e) => e.event === 'assigned').length;

    b.kill('SIGKILL');
    await b.exited;
    const b2 = member('confluent', group, topic, opts('b'));
    await b2.waitFor('restarted b assigned', () => (lastAssignment(b2)?.length ?? 0) > 0);
    expect(lastAssignment(b2)).toEqual(bParts);
    // Give a rebalance every chance to show up: none does, a never lost its partitions.
    await new Promise((r) => setTimeout(r, 1500));
    expect(a.events.filter((e) => e.event === 'assigned').length).toBe(aEvents);
    const d = await k.admin.describeGroups([group]);
    expect(d.groups[0]!.state).toBe('Stable');
    expect(d.groups[0]!.members).toHaveLength(2);
    // And the restarted member consumes its partitions.
    await produce(topic, 4, 8, 'static');
    await b2.waitFor('b consumes its share', () => messages(b2).filter((e) => String(e.value).startsWith('static')).length === 4);
    a.kill('SIGTERM');
    b2.kill('SIGTERM');
    await Promise.all([a.exited, b2.exited]);
  });
});
