/**
 * Consumer groups with kafka-python 2.0.2 (Debian python3-kafka): JoinGroup v2, SyncGroup v1,
 * Heartbeat v1, OffsetCommit v2, OffsetFetch v1 (its fixed versions), with the range and
 * roundrobin assignors; resuming from committed offsets.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GROUP_TEST_PROPERTIES, hasKafkaPython, requireInstalled, spawnLive, SYSTEM_PYTHON, useBrokerWithKafkajs, type LiveProcess } from './harness.js';

const MEMBER_SCRIPT = join(import.meta.dirname, 'clients', 'group_member.py');

const k = useBrokerWithKafkajs({ properties: GROUP_TEST_PROPERTIES });

async function produce(topic: string, partitions: number, count: number, tag: string): Promise<string[]> {
  const values = Array.from({ length: count }, (_, i) => `${tag}-${i}`);
  await k.producer.send({ topic, acks: -1, messages: values.map((value, i) => ({ value, partition: i % partitions })) });
  return values;
}

const messages = (p: LiveProcess) => p.events.filter((e) => e.event === 'message');

requireInstalled(hasKafkaPython, 'kafka-python (python3-kafka)');

describe('kafka-python consumer groups', () => {
  for (const assignor of ['range', 'roundrobin']) {
    it(`shares partitions between two members, each message once, and resumes from committed offsets (${assignor})`, async () => {
      const topic = `kp-${assignor}`;
      const group = `kp-group-${assignor}`;
      await k.admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
      const values = await produce(topic, 4, 40, 'first');
      const two = spawnLive(SYSTEM_PYTHON, [MEMBER_SCRIPT, 'kafka-python', k.tb.bootstrap, group, topic, JSON.stringify({ members: 2, assignor, expect: 40, settle_s: 1.0 })]);
      const done = await two.waitFor('done', (e) => e.event === 'done', 40_000);
      expect((await two.exited).code).toBe(0);
      const assignments = done.assignments as number[][];
      expect(assignments.flat().sort()).toEqual([0, 1, 2, 3]);
      expect(assignments.map((a) => a.length)).toEqual([2, 2]);
      const ids = messages(two).map((e) => `${e.partition}@${e.offset}`);
      expect(ids.length).toBe(new Set(ids).size);
      expect(messages(two).map((e) => e.value).sort()).toEqual([...values].sort());

      const [committed] = await k.admin.fetchOffsets({ groupId: group, topics: [topic] });
      expect(committed!.partitions.map((p) => p.offset).sort()).toEqual(['10', '10', '10', '10']);

      const more = await produce(topic, 4, 8, 'more');
      const one = spawnLive(SYSTEM_PYTHON, [MEMBER_SCRIPT, 'kafka-python', k.tb.bootstrap, group, topic, JSON.stringify({ assignor, expect: 8, settle_s: 0.3 })]);
      await one.waitFor('done', (e) => e.event === 'done', 30_000);
      expect((await one.exited).code).toBe(0); // it leaves the group and exits while the broker still runs
      expect(messages(one).map((e) => e.value).sort()).toEqual([...more].sort());
    });
  }
});
