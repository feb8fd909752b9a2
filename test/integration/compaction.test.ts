/**
 * Log compaction through real clients: a topic created with cleanup.policy=compact by kafkajs's
 * admin, many updates per key produced by kafkajs, compaction by the broker's cleaner (a round
 * forced with compactNow(), and the background timer), and reads from the beginning by kcat and a
 * kafkajs consumer: exactly the latest value per key, tombstones while delete.retention.ms lasts,
 * the same after a restart. Then crashes: a broker process SIGKILLed while a big pass is writing
 * its .cleaned files, and at each step of the swap (BROOK_TEST_CLEANER_CRASH_AT), restarted, with
 * every key's latest value present exactly once.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { configEntries, expectOk, hasKcat, kafkajs, requireInstalled, run, spawnBroker, startTestBroker, withAdmin, withProducer, type BrokerProcess } from './harness.js';

requireInstalled(hasKcat, 'kcat');

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Msg {
  offset: number;
  key: string | null;
  payload: string | null;
}

/** Everything in partition 0 from the beginning, read by kcat (librdkafka) until the end. */
async function kcatAll(bootstrap: string, topic: string): Promise<Msg[]> {
  const r = expectOk(await run('kcat', ['-C', '-b', bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-J', '-q'], { timeoutMs: 60_000 }), 'kcat -C');
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Msg);
}

/** Everything in the topic read by a kafkajs consumer group from the beginning up to `end`. */
async function kafkajsAll(kafka: Kafka, topic: string, end: number): Promise<Msg[]> {
  const consumer = kafka.consumer({ groupId: `g-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: Msg[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kafkajs read ${got.length} messages, never reached offset ${end - 1}`)), 30_000);
    void consumer
      .run({
        eachMessage: async ({ message }) => {
          const offset = Number(message.offset);
          got.push({ offset, key: message.key?.toString() ?? null, payload: message.value?.toString() ?? null });
          if (offset >= end - 1) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return got;
}

/** The latest message per key (by offset), and how many messages each key has. */
function perKey(msgs: Msg[]): Map<string, { latest: Msg; count: number }> {
  const m = new Map<string, { latest: Msg; count: number }>();
  for (const x of msgs) {
    const e = m.get(x.key!);
    if (!e) m.set(x.key!, { latest: x, count: 1 });
    else m.set(x.key!, { latest: x.offset > e.latest.offset ? x : e.latest, count: e.count + 1 });
  }
  return m;
}

function expectIncreasingOffsets(msgs: Msg[]): void {
  for (let i = 1; i < msgs.length; i++) expect(msgs[i]!.offset).toBeGreaterThan(msgs[i - 1]!.offset);
}

const KEYS = 40;
const ROUNDS = 15;
const value = (round: number, k: number) => `v${round}-k${k}-${'p'.repeat(60)}`;

describe('compaction through real clients', () => {
  it('keeps exactly the latest value per key for kcat and kafkajs, tombstones until delete.retention.ms, and after a restart', async () => {
    const tb = await startTestBroker({ properties: { 'log.cleaner.backoff.ms': 3_600_000, 'group.initial.rebalance.delay.ms': 0 } });
    try {
      const kafka = kafkajs(tb.bootstrap, { clientId: 'compaction-it' });
      const admin = kafka.admin();
      await admin.connect();
      const topic = 'compacted-users';
      const configs = { 'cleanup.policy': 'compact', 'segment.bytes': '4096', 'min.cleanable.dirty.ratio': '0.1', 'delete.retention.ms': '60000' };
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: configEntries(configs) }] });
      const described = await admin.describeConfigs({ resources: [{ type: 2, name: topic }], includeSynonyms: false });
      expect(described.resources[0]!.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue).toBe('compact');
      await admin.disconnect();

      const producer = kafka.producer();
      await producer.connect();
      for (let round = 0; round < ROUNDS; round++) {
        // Several sends per round: batches of a few records, so batches are rebuilt, not only dropped.
        for (let k = 0; k < KEYS; k += 8) {
          await producer.send({ topic, acks: -1, messages: Array.from({ length: 8 }, (_, j) => ({ key: `k${k + j}`, value: value(round, k + j) })) });
        }
      }
      // k13..k15 again: the last three records of the last round's batch [k8..k15] go, so that
      // batch is rebuilt with a gap at its end (lastOffsetDelta kept) that consumers must skip.
      const FINAL = [13, 14, 15];
      await producer.send({ topic, acks: -1, messages: FINAL.map((k) => ({ key: `k${k}`, value: `final-${k}` })) });
      // Tombstones for k0..k4, then a keyless record is refused (Kafka's rule for compacted topics).
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 5 }, (_, k) => ({ key: `k${k}`, value: null })) });
      await expect(producer.send({ topic, acks: -1, messages: [{ value: 'no key' }] })).rejects.toThrow();
      // A last record, alone in the active segment after a roll, so that every update above is in
      // a closed (compactable) segment.
      await producer.send({ topic, acks: -1, messages: [{ key: 'filler', value: 'f'.repeat(4000) }] });
      await producer.send({ topic, acks: -1, messages: [{ key: 'end', value: 'end' }] });
      await producer.disconnect();

      const log = tb.broker.broker.topics.partition(topic, 0)!;
      const leo = log.logEndOffset;
      expect(log.segmentCount).toBeGreaterThan(10);
      const before = await kcatAll(tb.bootstrap, topic);
      expect(before).toHaveLength(leo);

      const [pass] = (await tb.broker.broker.compactNow()).filter((c) => c.name === `${topic}-0`);
      expect(pass?.error).toBeUndefined();
      expect(pass?.result?.skipped).toBeUndefined();
      expect(pass!.result!.recordsDropped).toBeGreaterThan(KEYS * (ROUNDS - 2));
      expect(pass!.result!.batchesRebuilt).toBeGreaterThan(0);
      // Some batch now holds fewer records than the offsets it spans (the [k8..k15] one).
      expect(log.batchHeaders(0, 100_000).some((h) => h.recordsCount > 0 && h.recordsCount < h.lastOffset - h.baseOffset + 1)).toBe(true);

      const check = async (expectTombstones: boolean) => {
        for (const [reader, msgs] of [
          ['kcat', await kcatAll(tb.bootstrap, topic)],
          ['kafkajs', await kafkajsAll(kafka, topic, leo)],
        ] as const) {
          expectIncreasingOffsets(msgs);
          const keys = perKey(msgs);
          for (let k = 0; k < KEYS; k++) {
            const e = keys.get(`k${k}`);
            if (k < 5) {
              if (expectTombstones) {
                expect(e, `${reader} k${k}`).toMatchObject({ count: 1, latest: { payload: null } });
              } else {
                expect(e, `${reader} k${k}`).toBeUndefined();
              }
            } else {
              const v = FINAL.includes(k) ? `final-${k}` : value(ROUNDS - 1, k);
              expect(e, `${reader} k${k}`).toMatchObject({ count: 1, latest: { payload: v } });
              // The offset is the one the record was written at.
              expect(before.find((b) => b.offset === e!.latest.offset)?.payload).toBe(v);
            }
          }
          expect(keys.get('end')?.latest.offset).toBe(leo - 1);
        }
      };
      await check(true);
      expect(log.logEndOffset).toBe(leo);
      expect(log.logStartOffset).toBe(0);

      // Past delete.retention.ms (clock injected): the tombstones go too.
      const [later] = (await tb.broker.broker.compactNow({ now: Date.now() + 61_000 })).filter((c) => c.name === `${topic}-0`);
      expect(later?.result?.tombstonesDropped).toBe(5);
      await check(false);

      await tb.restart({ properties: { 'log.cleaner.backoff.ms': 3_600_000, 'group.initial.rebalance.delay.ms': 0 } });
      await check(false);
    } finally {
      await tb.close();
    }
  }, 120_000);

  it('the background cleaner compacts by itself every log.cleaner.backoff.ms, __consumer_offsets included', async () => {
    const tb = await startTestBroker({ properties: { 'log.cleaner.backoff.ms': 100, 'offsets.topic.num.partitions': 1, 'group.initial.rebalance.delay.ms': 0 } });
    try {
      const kafka = kafkajs(tb.bootstrap, { clientId: 'compaction-bg' });
      await withAdmin(kafka, (admin) => admin.createTopics({ topics: [{ topic: 'bg', configEntries: configEntries({ 'cleanup.policy': 'compact', 'segment.bytes': '2048' }) }] }));
      await withProducer(kafka, async (producer) => {
        for (let round = 0; round < 20; round++) await producer.send({ topic: 'bg', messages: Array.from({ length: 10 }, (_, k) => ({ key: `k${k}`, value: value(round, k) })) });
      });
      // Commits to __consumer_offsets: a compacted topic written by the coordinator.
      const offsets = tb.broker.broker.topics.partition('__consumer_offsets', 0)!;
      offsets.updateConfig({ segmentBytes: 1024 });
      const committer = kafka.consumer({ groupId: 'committer' });
      await committer.connect();
      await committer.subscribe({ topic: 'bg', fromBeginning: true });
      const joined = new Promise((resolve) => committer.on(committer.events.GROUP_JOIN, resolve));
      await committer.run({ autoCommit: false, eachMessage: async () => undefined });
      await joined;
      for (let i = 0; i < 30; i++) await committer.commitOffsets([{ topic: 'bg', partition: 0, offset: String(i) }]);
      await committer.disconnect();
      const log = tb.broker.broker.topics.partition('bg', 0)!;
      const deadline = Date.now() + 20_000;
      while ((log.stats().cleanOffset === 0 || offsets.stats().cleanOffset === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(log.stats().cleanOffset).toBeGreaterThan(0);
      expect(offsets.stats().cleanOffset).toBeGreaterThan(0);
      // The clean offset as of before the read: a pass may finish while kcat reads, and then the
      // newer clean offset would cover records kcat saw before that pass removed them.
      const cleanOffset = log.stats().cleanOffset;
      const msgs = (await kcatAll(tb.bootstrap, 'bg')).filter((m) => m.offset < cleanOffset);
      expect(new Set(msgs.map((m) => m.key)).size).toBe(msgs.length);
      // The committed offset survives compaction of __consumer_offsets and a restart (replay).
      await tb.restart();
      const committed = await withAdmin(kafkajs(tb.bootstrap, { clientId: 'compaction-bg2' }), (admin) => admin.fetchOffsets({ groupId: 'committer', topics: ['bg'] }));
      expect(committed[0]!.partitions[0]!.offset).toBe('29');
    } finally {
      await tb.close();
    }
  }, 60_000);
});

// ---- crashes -------------------------------------------------------------------------------------

const CRASH_KEYS = 200;

/** Produces `rounds` updates of every key; returns the latest acknowledged value per key. */
async function produceRounds(bootstrap: string, topic: string, from: number, rounds: number, create: boolean): Promise<Map<string, string>> {
  const kafka = kafkajs(bootstrap, { clientId: 'crash-it' });
  if (create) {
    const configs = { 'cleanup.policy': 'compact', 'segment.bytes': String(256 * 1024), 'min.cleanable.dirty.ratio': '0.01' };
    await withAdmin(kafka, (admin) => admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: configEntries(configs) }] }));
  }
  const latest = new Map<string, string>();
  await withProducer(kafka, async (producer) => {
    for (let round = from; round < from + rounds; round++) {
      const messages = Array.from({ length: CRASH_KEYS }, (_, k) => ({ key: `key-${k}`, value: `r${round}-${k}-${'z'.repeat(300)}` }));
      for (let i = 0; i < messages.length; i += 100) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 100) });
      for (const m of messages) latest.set(m.key, m.value);
    }
  });
  return latest;
}

/** Every key's latest acknowledged value is present exactly once, offsets increase, no record twice. */
async function expectLatestExactlyOnce(bootstrap: string, topic: string, latest: Map<string, string>, what: string): Promise<Msg[]> {
  const msgs = await kcatAll(bootstrap, topic);
  expectIncreasingOffsets(msgs);
  const byValue = new Map<string, number>();
  for (const m of msgs) byValue.set(m.payload!, (byValue.get(m.payload!) ?? 0) + 1);
  for (const [key, v] of latest) {
    expect(byValue.get(v), `${what}: ${key}`).toBe(1);
    // and nothing written before it for this key comes after it
    const at = msgs.find((m) => m.payload === v)!.offset;
    expect(msgs.filter((m) => m.key === key && m.offset > at), `${what}: ${key} after its latest`).toEqual([]);
  }
  return msgs;
}

/** The offset in a partition's cleaner-offset-checkpoint (0 when there is none yet). */
function cleanerCheckpoint(dir: string): number {
  const path = join(dir, 'cleaner-offset-checkpoint');
  return existsSync(path) ? Number(readFileSync(path, 'utf8').split('\n')[1]) : 0;
}

/** The process's exit, or a failure when it is still running after `ms`. */
function exitWithin(b: BrokerProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return Promise.race([
    b.exited,
    new Promise<never>((_, reject) =>
      setTimeout(() => {
        b.kill('SIGKILL');
        reject(new Error(`broker still running after ${ms} ms:\n${b.stderr()}`));
      }, ms),
    ),
  ]);
}

function leftovers(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.cleaned') || n.endsWith('.swap')) : [];
}

describe('compaction survives a crash mid-clean', () => {
  it('SIGKILL while a big pass writes its .cleaned files: nothing lost, nothing twice, and compaction resumes', async () => {
    const data = mkdtempSync(join(tmpdir(), 'brook-compact-crash-'));
    dirs.push(data);
    const topic = 'big-compacted';
    const partDir = join(data, `${topic}-0`);
    // The cleaner is idle (long backoff) while the log is built, so the first pass is a big one.
    let b: BrokerProcess = await spawnBroker(data, undefined, ['--set', 'log.cleaner.backoff.ms=3600000']);
    let latest = await produceRounds(b.bootstrap, topic, 0, 40, true); // ~8000 records, ~2.6 MB
    b.kill('SIGTERM');
    await b.exited;

    let killedMidPass = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      // The first round starts a second after the broker does, while this test already watches.
      b = await spawnBroker(data, undefined, ['--set', 'log.cleaner.backoff.ms=1000']);
      // Wait for the worker to create its first .cleaned file, then kill at once.
      const deadline = Date.now() + 15_000;
      while (leftovers(partDir).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      b.kill('SIGKILL');
      await b.exited;
      if (leftovers(partDir).length > 0) killedMidPass++;
      b = await spawnBroker(data, undefined, ['--set', 'log.cleaner.backoff.ms=3600000']);
      await expectLatestExactlyOnce(b.bootstrap, topic, latest, `after kill ${attempt}`);
      expect(leftovers(partDir)).toEqual([]);
      // More updates, so the next attempt has a dirty log again.
      const more = await produceRounds(b.bootstrap, topic, 100 + attempt * 10, 10, false);
      latest = new Map([...latest, ...more]);
      b.kill('SIGTERM');
      await b.exited;
    }
    expect(killedMidPass).toBeGreaterThan(0);

    // Left alone, the cleaner finishes: below its checkpoint every key appears once.
    const before = cleanerCheckpoint(partDir);
    b = await spawnBroker(data, undefined, ['--set', 'log.cleaner.backoff.ms=10']);
    const deadline = Date.now() + 30_000;
    while (cleanerCheckpoint(partDir) <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const clean = cleanerCheckpoint(partDir);
    expect(clean).toBeGreaterThan(before);
    const msgs = await expectLatestExactlyOnce(b.bootstrap, topic, latest, 'after the cleaner ran');
    const below = msgs.filter((m) => m.offset < clean);
    expect(new Set(below.map((m) => m.key)).size).toBe(below.length);
    b.kill('SIGTERM');
    await b.exited;
  }, 240_000);

  for (const step of [2, 3, 5, 7]) {
    it(`SIGKILL at swap step ${step}: Open completes or rolls back the swap`, async () => {
      const data = mkdtempSync(join(tmpdir(), `brook-compact-step${step}-`));
      dirs.push(data);
      const topic = 'stepped';
      let b = await spawnBroker(data, undefined, ['--set', 'log.cleaner.backoff.ms=3600000']);
      const latest = await produceRounds(b.bootstrap, topic, 0, 12, true);
      b.kill('SIGTERM');
      await b.exited;
      // The first pass fails at `step` and the process SIGKILLs itself (log-cleaner.ts test hook).
      process.env.BROOK_TEST_CLEANER_CRASH_AT = String(step);
      try {
        b = await spawnBroker(data, undefined, ['--set', 'log.cleaner.backoff.ms=500']);
      } finally {
        delete process.env.BROOK_TEST_CLEANER_CRASH_AT;
      }
      const { signal } = await exitWithin(b, 20_000);
      expect(signal).toBe('SIGKILL');
      const partDir = join(data, `${topic}-0`);
      const files = readdirSync(partDir);
      if (step >= 3 && step < 7) expect(files.some((n) => n.endsWith('.swap') || n.endsWith('.deleted'))).toBe(true);
      b = await spawnBroker(data, undefined, ['--set', 'log.cleaner.backoff.ms=3600000']);
      await expectLatestExactlyOnce(b.bootstrap, topic, latest, `crash at step ${step}`);
      expect(leftovers(partDir)).toEqual([]);
      b.kill('SIGTERM');
      await b.exited;
    }, 120_000);
  }
});
