/**
 * What the admin APIs change stays changed: config overrides take effect on the open logs at once
 * and survive a restart, as do added partitions, deleted records and deleted topics. Restarts use
 * the same data directory (graceful close, then start).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigResourceTypes, Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { deleteRecordsApi } from '../../src/protocol/schemas/delete-records.js';
import { deleteTopicsApi } from '../../src/protocol/schemas/delete-topics.js';
import { fetchApi } from '../../src/protocol/schemas/fetch.js';
import { incrementalAlterConfigsApi } from '../../src/protocol/schemas/incremental-alter-configs.js';
import { listOffsetsApi } from '../../src/protocol/schemas/list-offsets.js';
import { startTestBroker, type TestBroker } from './harness.js';
import { RawClient } from './raw-client.js';

let tb: TestBroker;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;

async function connectClients(): Promise<void> {
  kafka = new Kafka({ clientId: 'brook-persistence', brokers: [tb.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  admin = kafka.admin();
  producer = kafka.producer({ retry: { retries: 0 } });
  await admin.connect();
  await producer.connect();
}

async function disconnectClients(): Promise<void> {
  await producer?.disconnect();
  await admin?.disconnect();
}

async function restart(properties?: Record<string, string | number | boolean>): Promise<void> {
  await disconnectClients();
  await tb.restart(properties ? { properties } : {});
  await connectClients();
}

beforeAll(async () => {
  tb = await startTestBroker();
  await connectClients();
});

afterAll(async () => {
  await disconnectClients();
  await tb?.close();
});

async function topicConfig(topic: string) {
  const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
  return new Map(res.resources[0].configEntries.map((c) => [c.configName, [c.configValue, c.configSource]]));
}

/** Fetch v11 of one partition from `offset`: the error code and the base offset of the first batch returned. */
async function fetchFrom(topic: string, offset: bigint): Promise<{ errorCode: number; firstBase: bigint | null; logStartOffset: bigint }> {
  const c = await RawClient.connect(tb.broker.port);
  try {
    const res = await c.request(fetchApi, 11, {
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }],
    });
    const p = res.responses[0].partitions[0];
    const records = p.records as Buffer | null;
    return { errorCode: p.errorCode, firstBase: records && records.length >= 8 ? records.readBigInt64BE(0) : null, logStartOffset: p.logStartOffset };
  } finally {
    c.close();
  }
}

async function earliest(topic: string): Promise<bigint> {
  const c = await RawClient.connect(tb.broker.port);
  try {
    const res = await c.request(listOffsetsApi, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -2n }] }] });
    expect(res.topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    return res.topics[0].partitions[0].offset;
  } finally {
    c.close();
  }
}

describe('config changes', () => {
  it('take effect on the open log at once: max.message.bytes and message.timestamp.type', async () => {
    await admin.createTopics({ topics: [{ topic: 'live', numPartitions: 1 }] });
    const big = 'x'.repeat(4000);
    await producer.send({ topic: 'live', messages: [{ value: big }] });

    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'live', configEntries: [{ name: 'max.message.bytes', value: '1000' }, { name: 'message.timestamp.type', value: 'LogAppendTime' }] }],
    });
    const refused = (await producer.send({ topic: 'live', messages: [{ value: big }] }).catch((e: unknown) => e)) as { type?: string; cause?: { type?: string } };
    expect(refused.type ?? refused.cause?.type).toBe('MESSAGE_TOO_LARGE');

    const before = Date.now();
    const [small] = await producer.send({ topic: 'live', messages: [{ value: 'small', timestamp: '1000' }] });
    expect(small.errorCode).toBe(0);
    // LogAppendTime: the broker stamped the batch and says when.
    expect(Number(small.logAppendTime)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('take effect on the open log at once: segment.bytes makes the log roll', async () => {
    await admin.createTopics({ topics: [{ topic: 'rolling', numPartitions: 1 }] });
    const log = () => tb.broker.broker.topics.get('rolling')!.partitions[0];
    for (let i = 0; i < 3; i++) await producer.send({ topic: 'rolling', messages: [{ value: `before ${i} ${'y'.repeat(200)}` }] });
    expect(log().segmentCount).toBe(1);
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'rolling', configEntries: [{ name: 'segment.bytes', value: '300' }] }] });
    for (let i = 0; i < 4; i++) await producer.send({ topic: 'rolling', messages: [{ value: `after ${i} ${'y'.repeat(200)}` }] });
    expect(log().segmentCount).toBeGreaterThanOrEqual(4);
  });

  it('survive a restart: describe shows the overrides as TOPIC_CONFIG', async () => {
    await admin.createTopics({ topics: [{ topic: 'kept', numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kept', configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'compression.type', value: 'gzip' }] }],
    });
    await admin.createPartitions({ topicPartitions: [{ topic: 'kept', count: 3 }] });
    await admin.createTopics({ topics: [{ topic: 'kept-limit', numPartitions: 1 }] });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kept-limit', configEntries: [{ name: 'max.message.bytes', value: '1000' }] }] });
    await restart();

    const cfg = await topicConfig('kept');
    expect(cfg.get('retention.ms')).toEqual(['3600000', 1]);
    expect(cfg.get('compression.type')).toEqual(['gzip', 1]);
    // AlterConfigs replaced the whole set: the creation-time override is gone.
    expect(cfg.get('cleanup.policy')).toEqual(['delete', 5]);
    expect((await admin.fetchTopicMetadata({ topics: ['kept'] })).topics[0].partitions).toHaveLength(3);
    // And the restarted log applies them: max.message.bytes from before the restart still refuses.
    const refused = (await producer.send({ topic: 'kept-limit', messages: [{ value: 'z'.repeat(4000) }] }).catch((e: unknown) => e)) as { type?: string; cause?: { type?: string } };
    expect(refused.type ?? refused.cause?.type).toBe('MESSAGE_TOO_LARGE');
  });
});

describe('dynamic broker configs', () => {
  const alterBroker = async (resourceName: string, configs: { name: string; configOperation: number; value: string | null }[]) => {
    const c = await RawClient.connect(tb.broker.port);
    try {
      const r = await c.request(incrementalAlterConfigsApi, 1, { resources: [{ resourceType: 4, resourceName, configs }], validateOnly: false });
      return r.responses[0];
    } finally {
      c.close();
    }
  };

  it('apply to every topic without its own value at once, yield to this broker\'s value, and survive a restart', async () => {
    await admin.createTopics({ topics: [{ topic: 'dyn-a', numPartitions: 1 }, { topic: 'dyn-own', numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '100000' }] }] });
    const big = 'x'.repeat(4000);
    // The cluster default (resource "") caps batches of every topic that does not say otherwise.
    expect(await alterBroker('', [{ name: 'message.max.bytes', configOperation: 0, value: '2000' }])).toMatchObject({ errorCode: 0 });
    const refused = (await producer.send({ topic: 'dyn-a', messages: [{ value: big }] }).catch((e: unknown) => e)) as { type?: string; cause?: { type?: string } };
    expect(refused.type ?? refused.cause?.type).toBe('MESSAGE_TOO_LARGE');
    expect((await producer.send({ topic: 'dyn-own', messages: [{ value: big }] }))[0].errorCode).toBe(0);
    // This broker's own value wins over the cluster default.
    expect(await alterBroker(String(tb.broker.config.nodeId), [{ name: 'message.max.bytes', configOperation: 0, value: '10000' }])).toMatchObject({ errorCode: 0 });
    expect((await producer.send({ topic: 'dyn-a', messages: [{ value: big }] }))[0].errorCode).toBe(0);

    await restart();
    const res = await admin.describeConfigs({ includeSynonyms: true, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'dyn-a' }] });
    const entry = res.resources[0].configEntries.find((e) => e.configName === 'max.message.bytes')!;
    expect(entry).toMatchObject({ configValue: '10000', configSource: 2 });
    expect(entry.configSynonyms.map((x) => [x.configName, x.configValue, x.configSource])).toEqual([
      ['message.max.bytes', '10000', 2],
      ['message.max.bytes', '2000', 3],
      ['message.max.bytes', '1048588', 5],
    ]);
    expect(await alterBroker(String(tb.broker.config.nodeId), [{ name: 'message.max.bytes', configOperation: 1, value: null }])).toMatchObject({ errorCode: 0 });
    const again = (await producer.send({ topic: 'dyn-a', messages: [{ value: big }] }).catch((e: unknown) => e)) as { type?: string; cause?: { type?: string } };
    expect(again.type ?? again.cause?.type).toBe('MESSAGE_TOO_LARGE');
    expect(await alterBroker('', [{ name: 'message.max.bytes', configOperation: 1, value: null }])).toMatchObject({ errorCode: 0 });
    expect((await producer.send({ topic: 'dyn-a', messages: [{ value: big }] }))[0].errorCode).toBe(0);
  });

  it('refuse static settings, unknown names, bad values and APPEND, changing nothing', async () => {
    const node = String(tb.broker.config.nodeId);
    expect(await alterBroker(node, [{ name: 'auto.create.topics.enable', configOperation: 0, value: 'false' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_CONFIG,
      errorMessage: 'Cannot update these configs dynamically: auto.create.topics.enable',
    });
    expect(await alterBroker(node, [{ name: 'log.retention.mss', configOperation: 0, value: '1' }])).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'unknown broker config log.retention.mss' });
    expect(await alterBroker('', [{ name: 'log.segment.bytes', configOperation: 0, value: '10' }])).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG });
    expect(await alterBroker('', [{ name: 'log.cleanup.policy', configOperation: 2, value: 'compact' }])).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG });
    expect(await alterBroker('7', [{ name: 'log.retention.ms', configOperation: 0, value: '1' }])).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST });
    expect(tb.broker.broker.config.dynamic).toEqual({ broker: {}, clusterDefault: {} });
  });

  it('skip an entry that no longer parses at start, with a log line, and keep the rest', async () => {
    await admin.createTopics({ topics: [{ topic: 'dyn-skip', numPartitions: 1 }] });
    // Read only at start: written while the broker runs, it counts from the restart on.
    writeFileSync(join(tb.dataDir, 'broker-configs.json'), JSON.stringify({ version: 1, broker: { 'log.segment.bytes': 'lots', 'num.partitions': 4 }, clusterDefault: { 'log.retention.ms': 3_600_000 } }));
    const logged: string[] = [];
    await disconnectClients();
    await tb.restart({ log: (m: string) => logged.push(m) });
    await connectClients();
    expect(tb.broker.broker.config.dynamic).toEqual({ broker: {}, clusterDefault: { 'log.retention.ms': 3_600_000 } });
    expect(logged.filter((m) => m.includes('skipping'))).toHaveLength(2);
    expect((await topicConfig('dyn-skip')).get('retention.ms')).toEqual(['3600000', 3]);
  });
});

describe('deleted records', () => {
  it('are no longer fetchable, ListOffsets earliest returns the new start, old segments go, and all of it survives a restart', async () => {
    await admin.createTopics({ topics: [{ topic: 'trimmed', numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '200' }] }] });
    // One batch per send: offsets 0..9 in ten batches, a few per segment.
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'trimmed', messages: [{ value: `record-${i}-${'p'.repeat(40)}` }] });
    const log = () => tb.broker.broker.topics.get('trimmed')!.partitions[0];
    const segmentsBefore = log().segmentCount;
    expect(segmentsBefore).toBeGreaterThan(3);
    expect(await fetchFrom('trimmed', 0n)).toEqual({ errorCode: ErrorCode.NONE, firstBase: 0n, logStartOffset: 0n });

    const c = await RawClient.connect(tb.broker.port);
    const res = await c.request(deleteRecordsApi, 1, { topics: [{ name: 'trimmed', partitions: [{ partitionIndex: 0, offset: 6n }] }], timeoutMs: 1000 });
    c.close();
    expect(res.topics[0].partitions).toEqual([{ partitionIndex: 0, lowWatermark: 6n, errorCode: ErrorCode.NONE }]);

    const check = async () => {
      expect(await earliest('trimmed')).toBe(6n);
      expect(await fetchFrom('trimmed', 5n)).toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
      expect(await fetchFrom('trimmed', 0n)).toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
      expect(await fetchFrom('trimmed', 6n)).toEqual({ errorCode: ErrorCode.NONE, firstBase: 6n, logStartOffset: 6n });
      const offsets = await admin.fetchTopicOffsets('trimmed');
      expect(offsets).toEqual([{ partition: 0, offset: '10', high: '10', low: '6' }]);
    };
    await check();
    // Segments wholly below offset 6 are gone from the log.
    expect(log().segmentCount).toBeLessThan(segmentsBefore);
    await restart();
    await check();
  });
});

describe('deleted topics', () => {
  it('stay deleted after a restart and leave no data directory', async () => {
    await admin.createTopics({ topics: [{ topic: 'gone', numPartitions: 2 }] });
    await producer.send({ topic: 'gone', messages: [{ partition: 0, value: 'a' }, { partition: 1, value: 'b' }] });
    await admin.deleteTopics({ topics: ['gone'] });
    await restart();
    expect(await admin.listTopics()).not.toContain('gone');
    expect(readdirSync(tb.dataDir).filter((d) => d.startsWith('gone-'))).toEqual([]);
  });

  it('with delete.topic.enable=false: TOPIC_DELETION_DISABLED from v3, INVALID_REQUEST before, and the topic stays', async () => {
    await admin.createTopics({ topics: [{ topic: 'protected', numPartitions: 1 }] });
    await restart({ 'delete.topic.enable': false });
    const c = await RawClient.connect(tb.broker.port);
    try {
      const v3 = await c.request(deleteTopicsApi, 3, { topicNames: ['protected'], timeoutMs: 1000 });
      expect(v3.responses).toEqual([{ name: 'protected', topicId: '00000000-0000-0000-0000-000000000000', errorCode: ErrorCode.TOPIC_DELETION_DISABLED, errorMessage: null }]);
      const v5 = await c.request(deleteTopicsApi, 5, { topicNames: ['protected'], timeoutMs: 1000 });
      expect(v5.responses[0]).toMatchObject({ errorCode: ErrorCode.TOPIC_DELETION_DISABLED, errorMessage: 'topic deletion is disabled on this broker (delete.topic.enable=false)' });
      const v2 = await c.request(deleteTopicsApi, 2, { topicNames: ['protected'], timeoutMs: 1000 });
      expect(v2.responses[0].errorCode).toBe(ErrorCode.INVALID_REQUEST);
    } finally {
      c.close();
    }
    expect(await admin.listTopics()).toContain('protected');
  });
});
