/**
 * Kafka's topic configs beyond the basics, through kafkajs: the ones infrastructure code sets on
 * every topic (unclean.leader.election.enable, preallocate, ...) are accepted and described; the
 * ones that change behaviour do: timestamp bounds refuse records (INVALID_TIMESTAMP) and keep the
 * log as it was, min.insync.replicas above one refuses acks=all, compression.<codec>.level reaches the broker's recompression, max.compaction.lag.ms
 * compacts a log whose dirty ratio never would; tiered storage is refused as Kafka refuses it when
 * the broker has it off.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigResourceTypes, type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configEntries, startWithKafkajs, until, type KafkajsBroker, type TestBroker } from './harness.js';

let clients: KafkajsBroker;
let tb: TestBroker;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  ({ tb, admin, producer } = clients = await startWithKafkajs({ properties: { 'log.cleaner.backoff.ms': 50 } }, { clientId: 'topic-configs', retry: { retries: 0 } }));
});

afterAll(async () => {
  await clients?.close();
});

async function describeTopic(topic: string): Promise<Map<string, { value: string; isDefault: boolean }>> {
  const res = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
  const r = res.resources[0];
  expect(r.errorCode).toBe(0);
  return new Map(r.configEntries.map((c) => [c.configName, { value: c.configValue, isDefault: c.isDefault }]));
}

/** The size of every segment of partition 0. */
function segmentBytes(topic: string): number {
  const dir = join(tb.dataDir, `${topic}-0`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .reduce((n, f) => n + readFileSync(join(dir, f)).length, 0);
}

/** The Kafka error type a failed kafkajs send carries (a retriable one arrives as the cause). */
async function sendError(p: Promise<unknown>): Promise<{ type?: string; message: string }> {
  const e = (await p.then(
    () => {
      throw new Error('expected the produce to fail');
    },
    (err: unknown) => err,
  )) as { type?: string; message: string; cause?: { type?: string; message: string } };
  return e.type === undefined && e.cause ? e.cause : e;
}

describe('Kafka topic configs', () => {
  it('accepts the configs infrastructure code sets on every topic, and describes them as set', async () => {
    const configs = {
      'unclean.leader.election.enable': 'false',
      'min.insync.replicas': '1',
      preallocate: 'false',
      'message.downconversion.enable': 'true',
      'segment.jitter.ms': '1000',
      'local.retention.ms': '-2',
      'local.retention.bytes': '-2',
      'remote.storage.enable': 'false',
      'compression.zstd.level': '9',
      'max.compaction.lag.ms': '86400000',
    };
    expect(await admin.createTopics({ topics: [{ topic: 'infra', numPartitions: 1, configEntries: configEntries(configs) }] })).toBe(true);
    const described = await describeTopic('infra');
    for (const [name, value] of Object.entries(configs)) expect(described.get(name), name).toEqual({ value, isDefault: false });
    expect(described.get('message.timestamp.before.max.ms')).toEqual({ value: '9223372036854775807', isDefault: true });
  });

  it('refuses remote.storage.enable=true with INVALID_CONFIG, as Kafka does without tiered storage', async () => {
    const e = (await admin
      .createTopics({ topics: [{ topic: 'tiered', configEntries: configEntries({ 'remote.storage.enable': 'true' }) }] })
      .then(() => null, (err: unknown) => err)) as { errors?: { type: string }[] } | null;
    expect(e?.errors?.[0]).toMatchObject({ type: 'INVALID_CONFIG' });
    expect((await admin.listTopics()).includes('tiered')).toBe(false);
  });

  it('answers acks=all with NOT_ENOUGH_REPLICAS when min.insync.replicas exceeds the one replica, as Kafka does; acks=1 appends', async () => {
    const topic = 'min-isr';
    await admin.createTopics({ topics: [{ topic, configEntries: configEntries({ 'min.insync.replicas': '2' }) }] });
    expect((await sendError(producer.send({ topic, acks: -1, messages: [{ value: 'all' }] }))).type).toBe('NOT_ENOUGH_REPLICAS');
    await producer.send({ topic, acks: 1, messages: [{ value: 'one' }] });
    expect((await admin.fetchTopicOffsets(topic))[0].high).toBe('1');
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: configEntries({ 'min.insync.replicas': '1' }) }] });
    await producer.send({ topic, acks: -1, messages: [{ value: 'all' }] });
    expect((await admin.fetchTopicOffsets(topic))[0].high).toBe('2');
  });

  it('refuses records outside message.timestamp.before/after.max.ms with INVALID_TIMESTAMP and keeps the log as it was', async () => {
    const topic = 'ts-bounds';
    await admin.createTopics({ topics: [{ topic, configEntries: configEntries({ 'message.timestamp.before.max.ms': '60000', 'message.timestamp.after.max.ms': '60000' }) }] });
    const now = Date.now();
    await producer.send({ topic, messages: [{ value: 'ok', timestamp: String(now) }] });
    // The first record is fine; the second, an hour old, spoils the whole batch.
    const old = await sendError(producer.send({ topic, messages: [{ value: 'fine', timestamp: String(now) }, { value: 'old', timestamp: String(now - 3_600_000) }] }));
    expect(old.type).toBe('INVALID_TIMESTAMP');
    const future = await sendError(producer.send({ topic, messages: [{ value: 'future', timestamp: String(now + 3_600_000) }] }));
    expect(future.type).toBe('INVALID_TIMESTAMP');
    const [offsets] = await admin.fetchTopicOffsets(topic);
    expect(offsets.high).toBe('1');
    await producer.send({ topic, messages: [{ value: 'ok again', timestamp: String(Date.now()) }] });
    expect((await admin.fetchTopicOffsets(topic))[0].high).toBe('2');
  });

  it('applies the deprecated message.timestamp.difference.max.ms to both sides, and never to LogAppendTime topics', async () => {
    await admin.createTopics({ topics: [{ topic: 'ts-diff', configEntries: configEntries({ 'message.timestamp.difference.max.ms': '60000' }) }] });
    expect((await sendError(producer.send({ topic: 'ts-diff', messages: [{ value: 'x', timestamp: String(Date.now() - 3_600_000) }] }))).type).toBe('INVALID_TIMESTAMP');
    expect((await sendError(producer.send({ topic: 'ts-diff', messages: [{ value: 'x', timestamp: String(Date.now() + 3_600_000) }] }))).type).toBe('INVALID_TIMESTAMP');
    const lat = { 'message.timestamp.before.max.ms': '60000', 'message.timestamp.type': 'LogAppendTime' };
    await admin.createTopics({ topics: [{ topic: 'ts-append-time', configEntries: configEntries(lat) }] });
    await producer.send({ topic: 'ts-append-time', messages: [{ value: 'x', timestamp: String(Date.now() - 3_600_000) }] });
    expect((await admin.fetchTopicOffsets('ts-append-time'))[0].high).toBe('1');
  });

  it('compresses with the topic compression.gzip.level when the broker recompresses', async () => {
    // Text that compresses well but not trivially: level 9 finds more than level 1.
    const words = Array.from({ length: 400 }, (_, i) => `w${(i * 7919) % 1009}`);
    const value = Array.from({ length: 20_000 }, (_, i) => words[(i * 31 + (i >> 3)) % words.length]).join(' ');
    for (const level of ['1', '9']) {
      const topic = `gzip-level-${level}`;
      await admin.createTopics({ topics: [{ topic, configEntries: configEntries({ 'compression.type': 'gzip', 'compression.gzip.level': level }) }] });
      await producer.send({ topic, messages: [{ value }] }); // sent uncompressed
    }
    const [fast, best] = [segmentBytes('gzip-level-1'), segmentBytes('gzip-level-9')];
    expect(fast).toBeLessThan(value.length / 2); // compressed at all
    expect(best).toBeLessThan(fast);
  });

  it('compacts a log by max.compaction.lag.ms although its dirty ratio is below min.cleanable.dirty.ratio', async () => {
    // Two compacted topics whose segments roll every ~200 ms: by max.compaction.lag.ms (segment.ms
    // is an hour) in the first, by segment.ms in the control. min.cleanable.dirty.ratio=1 lets only
    // a never-cleaned log (ratio exactly 1) be cleaned by ratio.
    const base = { 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '1' };
    const topics = { lag: { ...base, 'max.compaction.lag.ms': '200', 'segment.ms': '3600000' }, control: { ...base, 'segment.ms': '200' } };
    await admin.createTopics({ topics: Object.entries(topics).map(([topic, cfg]) => ({ topic, configEntries: configEntries(cfg) })) });
    const logOf = (t: string) => tb.broker.broker.topics.partition(t, 0)!;
    const allBytes = (t: string) => {
      const dir = join(tb.dataDir, `${t}-0`);
      return Buffer.concat(readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => readFileSync(join(dir, f))));
    };
    const step = async (messages: { key: string; value: string }[]) => {
      await new Promise((r) => setTimeout(r, 250)); // older than 200 ms: this append rolls
      for (const topic of Object.keys(topics)) await producer.send({ topic, messages });
    };
    for (const topic of Object.keys(topics)) await producer.send({ topic, messages: [{ key: 'k', value: 'v1' }] });
    await step([{ key: 'a', value: 'x' }]); // [v1] closed: a first pass cleans it (ratio 1)
    for (const topic of Object.keys(topics)) {
      await until(`${topic}: first pass`, () => {
        const c = logOf(topic).cleanable({ now: Date.now() });
        return c.cleanBytes > 0 && c.dirtyBytes === 0;
      });
    }
    await step([{ key: 'k', value: 'v2' }]); // [a] closed
    await step([{ key: 'b', value: 'y' }]); // [v2] closed: dirty ratio now below 1
    const control = logOf('control').cleanable({ now: Date.now() });
    expect(control.dirtyRatio).toBeLessThan(1);
    expect(control).toMatchObject({ compactionOverdue: false, eligible: false });
    // The background cleaner (every 50 ms here) compacts the overdue log: v1 goes.
    await until('v1 compacted away in lag', () => !allBytes('lag').includes('v1'), 10_000);
    expect(allBytes('lag').includes('v2')).toBe(true);
    // The control had the same chances and kept v1 (its ratio never reached 1).
    expect(allBytes('control').includes('v1')).toBe(true);
  });
});
