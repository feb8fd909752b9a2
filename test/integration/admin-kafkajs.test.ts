/**
 * The admin APIs through kafkajs 2.2.4's admin client (CreateTopics v3, DeleteTopics v1,
 * CreatePartitions v1, DescribeConfigs v2, AlterConfigs v1, DeleteRecords v1, Metadata v6,
 * ListOffsets v3), against a real broker over TCP.
 */
import { ConfigResourceTypes, type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithKafkajs, type KafkajsBroker, type TestBroker } from './harness.js';

let clients: KafkajsBroker;
let tb: TestBroker;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  ({ tb, admin, producer } = clients = await startWithKafkajs({ properties: { 'log.retention.ms': 3_600_000 } }, { clientId: 'brook-admin-test', retry: { retries: 0 } }));
});

afterAll(async () => {
  await clients?.close();
});

/** The error kafkajs raises for a failed topic in a CreateTopics answer (an aggregate of per-topic errors). */
async function createError(p: Promise<unknown>): Promise<{ type: string; topic: string }[]> {
  const e = (await p.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (err: unknown) => err,
  )) as { name: string; errors?: { type: string; topic: string }[] };
  expect(e.name).toBe('KafkaJSAggregateError');
  return e.errors!.map((x) => ({ type: x.type, topic: x.topic }));
}

function configsOf(res: Awaited<ReturnType<Admin['describeConfigs']>>, name: string) {
  const r = res.resources.find((x) => x.resourceName === name)!;
  expect(r.errorCode).toBe(0);
  return new Map(r.configEntries.map((c) => [c.configName, c]));
}

describe('kafkajs admin', () => {
  it('creates a topic with partitions and configs, and Metadata shows it', async () => {
    const created = await admin.createTopics({
      topics: [{ topic: 'kjs-orders', numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '120000' }] }],
    });
    expect(created).toBe(true);
    const md = await admin.fetchTopicMetadata({ topics: ['kjs-orders'] });
    expect(md.topics[0].name).toBe('kjs-orders');
    expect(md.topics[0].partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
    expect(md.topics[0].partitions.every((p) => p.leader === tb.broker.config.nodeId)).toBe(true);
    const cfg = configsOf(await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-orders' }] }), 'kjs-orders');
    expect(cfg.get('retention.ms')?.configValue).toBe('120000');
    expect(await admin.listTopics()).toContain('kjs-orders');
  });

  it('uses the broker defaults for -1 partitions and replication factor', async () => {
    // kafkajs sends CreateTopics v3; -1 is Kafka's "broker default" since KIP-464.
    await admin.createTopics({ topics: [{ topic: 'kjs-defaults', numPartitions: -1, replicationFactor: -1 }] });
    const md = await admin.fetchTopicMetadata({ topics: ['kjs-defaults'] });
    expect(md.topics[0].partitions).toHaveLength(tb.broker.config.numPartitions);
  });

  it('validateOnly checks without creating', async () => {
    // waitForLeaders would wait for a topic that validateOnly does not create.
    await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'kjs-dry-run', numPartitions: 2 }] });
    expect(await admin.listTopics()).not.toContain('kjs-dry-run');
    // ... and still reports what would fail.
    expect(await createError(admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'kjs-dry-run', numPartitions: 0 }] }))).toEqual([
      { type: 'INVALID_PARTITIONS', topic: 'kjs-dry-run' },
    ]);
  });

  it('reports an existing topic as TOPIC_ALREADY_EXISTS (kafkajs then returns false)', async () => {
    await admin.createTopics({ topics: [{ topic: 'kjs-twice' }] });
    expect(await admin.createTopics({ topics: [{ topic: 'kjs-twice' }] })).toBe(false);
    // Mixed with another error, the code is visible per topic.
    expect(await createError(admin.createTopics({ topics: [{ topic: 'kjs-twice' }, { topic: 'kjs-bad-rf', replicationFactor: 2 }] }))).toEqual(
      expect.arrayContaining([
        { type: 'TOPIC_ALREADY_EXISTS', topic: 'kjs-twice' },
        { type: 'INVALID_REPLICATION_FACTOR', topic: 'kjs-bad-rf' },
      ]),
    );
  });

  it('refuses replication factor 3 on one broker with INVALID_REPLICATION_FACTOR', async () => {
    expect(await createError(admin.createTopics({ topics: [{ topic: 'kjs-rf3', numPartitions: 1, replicationFactor: 3 }] }))).toEqual([
      { type: 'INVALID_REPLICATION_FACTOR', topic: 'kjs-rf3' },
    ]);
    expect(await admin.listTopics()).not.toContain('kjs-rf3');
  });

  it('grows partitions and refuses to shrink with INVALID_PARTITIONS', async () => {
    await admin.createTopics({ topics: [{ topic: 'kjs-grow', numPartitions: 2 }] });
    await admin.createPartitions({ topicPartitions: [{ topic: 'kjs-grow', count: 5 }] });
    const md = await admin.fetchTopicMetadata({ topics: ['kjs-grow'] });
    expect(md.topics[0].partitions).toHaveLength(5);
    // A new partition takes writes.
    const [r] = await producer.send({ topic: 'kjs-grow', messages: [{ partition: 4, value: 'into a new partition' }] });
    expect(r.partition).toBe(4);
    expect(r.errorCode).toBe(0);

    const shrink = await admin.createPartitions({ topicPartitions: [{ topic: 'kjs-grow', count: 3 }] }).catch((e: { type: string }) => e);
    expect((shrink as { type: string }).type).toBe('INVALID_PARTITIONS');
    const same = await admin.createPartitions({ topicPartitions: [{ topic: 'kjs-grow', count: 5 }] }).catch((e: { type: string }) => e);
    expect((same as { type: string }).type).toBe('INVALID_PARTITIONS');
    expect((await admin.fetchTopicMetadata({ topics: ['kjs-grow'] })).topics[0].partitions).toHaveLength(5);
  });

  it('describes topic configs with their sources and synonyms', async () => {
    await admin.createTopics({ topics: [{ topic: 'kjs-describe', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    const res = await admin.describeConfigs({ includeSynonyms: true, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-describe' }] });
    const cfg = configsOf(res, 'kjs-describe');
    // The topic override: source TOPIC_CONFIG (1), listed first among the synonyms.
    const policy = cfg.get('cleanup.policy')!;
    expect(policy.configValue).toBe('compact');
    expect(policy.configSource).toBe(1);
    expect(policy.isDefault).toBe(false);
    expect(policy.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource])).toEqual([
      ['cleanup.policy', 'compact', 1],
      ['log.cleanup.policy', 'delete', 5],
    ]);
    // Set in the broker's config (log.retention.ms=3600000 at start): STATIC_BROKER_CONFIG (4).
    const retention = cfg.get('retention.ms')!;
    expect(retention.configValue).toBe('3600000');
    expect(retention.configSource).toBe(4);
    expect(retention.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource])).toEqual([
      ['log.retention.ms', '3600000', 4],
      ['log.retention.ms', '604800000', 5],
    ]);
    // Nobody set it: DEFAULT_CONFIG (5).
    const segment = cfg.get('segment.bytes')!;
    expect(segment.configValue).toBe('1073741824');
    expect(segment.configSource).toBe(5);
    expect(segment.readOnly).toBe(false);
    expect(segment.isSensitive).toBe(false);
    // "Never" prints as Kafka prints Long.MAX_VALUE.
    expect(cfg.get('flush.messages')!.configValue).toBe('9223372036854775807');
  });

  it('describes only the asked-for config names, leaving out unknown ones', async () => {
    await admin.createTopics({ topics: [{ topic: 'kjs-describe-names' }] });
    const res = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-describe-names', configNames: ['segment.bytes', 'no.such.config'] }],
    });
    expect([...configsOf(res, 'kjs-describe-names').keys()]).toEqual(['segment.bytes']);
  });

  it('describes the broker config', async () => {
    const id = String(tb.broker.config.nodeId);
    const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.BROKER, name: id }] });
    const cfg = configsOf(res, id);
    expect(cfg.get('log.retention.ms')).toMatchObject({ configValue: '3600000', configSource: 4, readOnly: false }); // dynamic
    expect(cfg.get('num.partitions')).toMatchObject({ configValue: '1', configSource: 5, readOnly: true });
    expect(cfg.get('log.dirs')!.configValue).toBe(tb.dataDir);
    // listeners as configured (port 0 here: any free port); advertised.listeners as clients are told.
    expect(cfg.get('listeners')!.configValue).toBe('PLAINTEXT://127.0.0.1:0');
    expect(cfg.get('advertised.listeners')!.configValue).toBe(`PLAINTEXT://127.0.0.1:${tb.broker.port}`);
  });

  it('answers DescribeConfigs for an unknown topic with UNKNOWN_TOPIC_OR_PARTITION on that resource', async () => {
    const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-nope' }] }).catch((e: { type: string }) => e);
    expect((res as { type: string }).type).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('alterConfigs replaces the override set, and the change shows in describeConfigs', async () => {
    await admin.createTopics({ topics: [{ topic: 'kjs-alter', configEntries: [{ name: 'retention.ms', value: '1000' }, { name: 'segment.bytes', value: '1048576' }] }] });
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-alter', configEntries: [{ name: 'retention.ms', value: '86400000' }] }],
    });
    const cfg = configsOf(await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-alter' }] }), 'kjs-alter');
    expect(cfg.get('retention.ms')).toMatchObject({ configValue: '86400000', configSource: 1 });
    // Left out of the new set: back to the default.
    expect(cfg.get('segment.bytes')).toMatchObject({ configValue: '1073741824', configSource: 5 });
  });

  it('alterConfigs with validateOnly changes nothing, and bad values fail with INVALID_CONFIG', async () => {
    const topic = 'kjs-alter-validate';
    await admin.createTopics({ topics: [{ topic, configEntries: [{ name: 'retention.ms', value: '86400000' }] }] });
    await admin.alterConfigs({
      validateOnly: true,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '5' }] }],
    });
    const bad = await admin
      .alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: 'abc' }] }] })
      .catch((e: { type: string }) => e);
    expect((bad as { type: string }).type).toBe('INVALID_CONFIG');
    const cfg = configsOf(await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] }), topic);
    expect(cfg.get('retention.ms')!.configValue).toBe('86400000');
  });

  it('deletes a topic; recreating the name starts empty', async () => {
    await admin.createTopics({ topics: [{ topic: 'kjs-doomed', numPartitions: 1 }] });
    await producer.send({ topic: 'kjs-doomed', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    expect((await admin.fetchTopicOffsets('kjs-doomed'))[0].high).toBe('3');

    await admin.deleteTopics({ topics: ['kjs-doomed'] });
    expect(await admin.listTopics()).not.toContain('kjs-doomed');

    await admin.createTopics({ topics: [{ topic: 'kjs-doomed', numPartitions: 1 }] });
    expect(await admin.fetchTopicOffsets('kjs-doomed')).toEqual([{ partition: 0, offset: '0', high: '0', low: '0' }]);
  });

  it('deleting an unknown topic fails with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    // The code is retriable, so kafkajs retries (none here) and then wraps it.
    const e = (await admin.deleteTopics({ topics: ['kjs-never-was'] }).catch((err: unknown) => err)) as { name: string; cause?: { type: string } };
    expect(e.name).toBe('KafkaJSNumberOfRetriesExceeded');
    expect(e.cause?.type).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('deleteTopicRecords moves the low watermark, and fetchTopicOffsets shows it', async () => {
    await admin.createTopics({ topics: [{ topic: 'kjs-records', numPartitions: 2 }] });
    const messages = Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `m${i}` }));
    await producer.send({ topic: 'kjs-records', messages });
    await producer.send({ topic: 'kjs-records', messages: [{ partition: 1, value: 'x' }, { partition: 1, value: 'y' }] });
    // kafkajs finds partition leaders in the admin's metadata cache, which this call fills.
    expect((await admin.fetchTopicOffsets('kjs-records')).find((o) => o.partition === 0)).toMatchObject({ low: '0', high: '10' });

    await admin.deleteTopicRecords({ topic: 'kjs-records', partitions: [{ partition: 0, offset: '7' }] });
    let offsets = await admin.fetchTopicOffsets('kjs-records');
    expect(offsets.find((o) => o.partition === 0)).toMatchObject({ low: '7', high: '10' });
    expect(offsets.find((o) => o.partition === 1)).toMatchObject({ low: '0', high: '2' });

    // -1: everything up to the high watermark.
    await admin.deleteTopicRecords({ topic: 'kjs-records', partitions: [{ partition: 1, offset: '-1' }] });
    offsets = await admin.fetchTopicOffsets('kjs-records');
    expect(offsets.find((o) => o.partition === 1)).toMatchObject({ low: '2', high: '2' });

    // Beyond the high watermark: OFFSET_OUT_OF_RANGE, and nothing moves.
    // kafkajs wraps its per-partition error in the retrier's non-retriable error.
    const e = (await admin.deleteTopicRecords({ topic: 'kjs-records', partitions: [{ partition: 0, offset: '11' }] }).catch((err: unknown) => err)) as {
      cause: { name: string; partitions: { partition: number; error: { type: string } }[] };
    };
    expect(e.cause.name).toBe('KafkaJSDeleteTopicRecordsError');
    expect(e.cause.partitions.map((p) => [p.partition, p.error.type])).toEqual([[0, 'OFFSET_OUT_OF_RANGE']]);
    offsets = await admin.fetchTopicOffsets('kjs-records');
    expect(offsets.find((o) => o.partition === 0)).toMatchObject({ low: '7', high: '10' });
  });
});
