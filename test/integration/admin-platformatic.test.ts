/**
 * The admin APIs through @platformatic/kafka 1.x, which speaks only flexible versions:
 * CreateTopics v7, DeleteTopics v6, Metadata 12, CreatePartitions v3, DescribeConfigs v4,
 * IncrementalAlterConfigs v1, DeleteRecords v2, ListOffsets (via listOffsets).
 */
import { Admin, Producer, ConfigResourceTypes, ConfigSources, ConfigTypes, IncrementalAlterConfigOperationTypes, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from './harness.js';

let tb: TestBroker;
let admin: Admin;

beforeAll(async () => {
  tb = await startTestBroker();
  admin = new Admin({ clientId: 'brook-plt-admin', bootstrapBrokers: [tb.bootstrap], retries: 0 });
});

afterAll(async () => {
  await admin?.close();
  await tb?.close();
});

interface PltError {
  code?: string;
  apiId?: string;
  serverErrorMessage?: string | null;
  errors?: PltError[];
}

/**
 * The broker's errors inside a failed call: [Kafka error name, the broker's message] for every
 * protocol error, however deep platformatic nests them (some calls wrap the response error once more).
 */
async function failure(p: Promise<unknown>): Promise<[string, string | null][]> {
  const e = (await p.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (err: unknown) => err,
  )) as PltError;
  const out: [string, string | null][] = [];
  const walk = (x: PltError) => {
    if (x.code === 'PLT_KFK_PROTOCOL') out.push([x.apiId!, x.serverErrorMessage ?? null]);
    for (const c of x.errors ?? []) walk(c);
  };
  walk(e);
  expect(out.length, `no protocol error in ${String(e)}`).toBeGreaterThan(0);
  return out;
}

describe('@platformatic/kafka admin', () => {
  it('creates topics (CreateTopics v7) and gets the topic id, counts and effective configs back', async () => {
    const created = await admin.createTopics({ topics: ['plt-a', 'plt-b'], partitions: 3, replicas: 1, configs: [{ name: 'retention.ms', value: '60000' }] });
    expect(created.map((t) => t.name)).toEqual(['plt-a', 'plt-b']);
    for (const t of created) {
      expect(t.partitions).toBe(3);
      expect(t.replicas).toBe(1);
      expect(t.id).toBe([...tb.broker.broker.topics.all()].find((x) => x.name === t.name)!.id);
      expect(t.configuration['retention.ms']).toBe('60000');
      expect(t.configuration['segment.bytes']).toBe('1073741824');
    }
    expect(await admin.listTopics()).toEqual(expect.arrayContaining(['plt-a', 'plt-b']));
  });

  it('reports a duplicate name and a too-large replication factor with their messages', async () => {
    await admin.createTopics({ topics: ['plt-dup'], partitions: 1, replicas: 1 });
    expect(await failure(admin.createTopics({ topics: ['plt-dup'] }))).toEqual([['TOPIC_ALREADY_EXISTS', 'topic plt-dup already exists']]);
    expect(await failure(admin.createTopics({ topics: ['plt-rf'], partitions: 1, replicas: 3 }))).toEqual([
      ['INVALID_REPLICATION_FACTOR', 'replication factor 3 is larger than the 1 available broker(s)'],
    ]);
  });

  it('grows partitions (CreatePartitions v3) and refuses to shrink', async () => {
    await admin.createTopics({ topics: ['plt-grow'], partitions: 3, replicas: 1 });
    await admin.createPartitions({ topics: [{ name: 'plt-grow', count: 5 }] });
    const md = await admin.metadata({ topics: ['plt-grow'] });
    expect(md.topics.get('plt-grow')!.partitionsCount).toBe(5);
    expect(await failure(admin.createPartitions({ topics: [{ name: 'plt-grow', count: 2 }] }))).toEqual([
      ['INVALID_PARTITIONS', 'topic plt-grow has 5 partition(s); 2 would not be an increase (partitions cannot be removed)'],
    ]);
  });

  it('describes configs (v4) with types and documentation', async () => {
    await admin.createTopics({ topics: ['plt-describe'], partitions: 1, replicas: 1, configs: [{ name: 'retention.ms', value: '60000' }] });
    const [res] = await admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: 'plt-describe', configurationKeys: ['retention.ms', 'cleanup.policy', 'min.cleanable.dirty.ratio'] }],
      includeSynonyms: true,
      includeDocumentation: true,
    });
    const byName = new Map(res.configs.map((c) => [c.name, c]));
    expect([...byName.keys()].sort()).toEqual(['cleanup.policy', 'min.cleanable.dirty.ratio', 'retention.ms']);
    expect(byName.get('retention.ms')).toMatchObject({ value: '60000', configSource: ConfigSources.TOPIC_CONFIG, configType: ConfigTypes.LONG, readOnly: false });
    expect(byName.get('retention.ms')!.documentation).toMatch(/deleted/);
    expect(byName.get('cleanup.policy')).toMatchObject({ value: 'delete', configSource: ConfigSources.DEFAULT_CONFIG, configType: ConfigTypes.LIST });
    expect(byName.get('min.cleanable.dirty.ratio')).toMatchObject({ value: '0.5', configType: ConfigTypes.DOUBLE });
  });

  it('changes configs incrementally (IncrementalAlterConfigs v1): SET, DELETE, APPEND, SUBTRACT', async () => {
    await admin.createTopics({ topics: ['plt-incremental'], partitions: 1, replicas: 1, configs: [{ name: 'retention.ms', value: '60000' }] });
    const alter = (configs: { name: string; configOperation: number; value?: string }[]) =>
      admin.incrementalAlterConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: 'plt-incremental', configs: configs as never }] });
    const current = async () => {
      const [res] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: 'plt-incremental' }] });
      return new Map(res.configs.map((c) => [c.name, [c.value, c.configSource]]));
    };

    await alter([
      { name: 'segment.ms', configOperation: IncrementalAlterConfigOperationTypes.SET, value: '3600000' },
      { name: 'retention.ms', configOperation: IncrementalAlterConfigOperationTypes.DELETE },
      { name: 'cleanup.policy', configOperation: IncrementalAlterConfigOperationTypes.APPEND, value: 'compact' },
    ]);
    let cfg = await current();
    expect(cfg.get('segment.ms')).toEqual(['3600000', ConfigSources.TOPIC_CONFIG]);
    expect(cfg.get('retention.ms')).toEqual(['604800000', ConfigSources.DEFAULT_CONFIG]);
    expect(cfg.get('cleanup.policy')).toEqual(['delete,compact', ConfigSources.TOPIC_CONFIG]);

    await alter([{ name: 'cleanup.policy', configOperation: IncrementalAlterConfigOperationTypes.SUBTRACT, value: 'delete' }]);
    cfg = await current();
    expect(cfg.get('cleanup.policy')).toEqual(['compact', ConfigSources.TOPIC_CONFIG]);

    // APPEND to a non-list config, and SUBTRACT that would leave no policy, are INVALID_CONFIG; nothing changes.
    expect(await failure(alter([{ name: 'segment.ms', configOperation: IncrementalAlterConfigOperationTypes.APPEND, value: '5' }]))).toEqual([
      ['INVALID_CONFIG', 'APPEND is only allowed for list configs (cleanup.policy), not segment.ms'],
    ]);
    const [[code, message]] = await failure(alter([{ name: 'cleanup.policy', configOperation: IncrementalAlterConfigOperationTypes.SUBTRACT, value: 'compact' }]));
    expect(code).toBe('INVALID_CONFIG');
    expect(message).toContain('cleanup.policy');
    expect((await current()).get('cleanup.policy')).toEqual(['compact', ConfigSources.TOPIC_CONFIG]);
  });

  it('alters dynamic broker configs (IncrementalAlterConfigs on BROKER resources) and refuses static ones, saying why', async () => {
    await admin.createTopics({ topics: ['plt-dynamic'], partitions: 1, replicas: 1, configs: [{ name: 'retention.ms', value: '60000' }] });
    const node = String(tb.broker.config.nodeId);
    const alterBroker = (resourceName: string, configs: { name: string; configOperation: number; value?: string }[]) =>
      admin.incrementalAlterConfigs({ resources: [{ resourceType: ConfigResourceTypes.BROKER, resourceName, configs: configs as never }] });
    expect(await failure(alterBroker(node, [{ name: 'num.partitions', configOperation: IncrementalAlterConfigOperationTypes.SET, value: '3' }]))).toEqual([
      ['INVALID_CONFIG', 'Cannot update these configs dynamically: num.partitions'],
    ]);
    // platformatic routes a BROKER resource to the broker it names, so it cannot name "" (the
    // cluster default); admin-persistence.test.ts covers that level over raw frames.
    await alterBroker(node, [
      { name: 'log.retention.ms', configOperation: IncrementalAlterConfigOperationTypes.SET, value: '7200000' },
      { name: 'log.segment.bytes', configOperation: IncrementalAlterConfigOperationTypes.SET, value: '2097152' },
    ]);
    const [res] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: 'plt-dynamic' }] });
    const cfg = new Map(res.configs.map((c) => [c.name, [c.value, c.configSource]]));
    // plt-dynamic overrides retention.ms itself; segment.bytes comes from this broker's dynamic value.
    expect(cfg.get('retention.ms')).toEqual(['60000', ConfigSources.TOPIC_CONFIG]);
    expect(cfg.get('segment.bytes')).toEqual(['2097152', ConfigSources.DYNAMIC_BROKER_CONFIG]);
    const [brokerRes] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.BROKER, resourceName: node }] });
    expect(brokerRes.configs.find((c) => c.name === 'log.retention.ms')).toMatchObject({ value: '7200000', configSource: ConfigSources.DYNAMIC_BROKER_CONFIG, readOnly: false });
    expect(brokerRes.configs.find((c) => c.name === 'num.partitions')).toMatchObject({ readOnly: true });
    await alterBroker(node, [
      { name: 'log.retention.ms', configOperation: IncrementalAlterConfigOperationTypes.DELETE },
      { name: 'log.segment.bytes', configOperation: IncrementalAlterConfigOperationTypes.DELETE },
    ]);
    const [after] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: 'plt-dynamic' }] });
    expect(after.configs.find((c) => c.name === 'segment.bytes')).toMatchObject({ value: '1073741824', configSource: ConfigSources.DEFAULT_CONFIG });
  });

  it('deletes records (DeleteRecords v2) and reports the new low watermark', async () => {
    await admin.createTopics({ topics: ['plt-records'], partitions: 1 });
    const producer = new Producer({ clientId: 'brook-plt-producer', bootstrapBrokers: [tb.bootstrap], serializers: stringSerializers, retries: 0 });
    try {
      await producer.send({ messages: Array.from({ length: 6 }, (_, i) => ({ topic: 'plt-records', partition: 0, value: `v${i}` })) });
    } finally {
      await producer.close();
    }
    const [deleted] = await admin.deleteRecords({ topics: [{ name: 'plt-records', partitions: [{ partition: 0, offset: 4n }] }] });
    expect(deleted.partitions).toEqual([{ partition: 0, lowWatermark: 4n }]);
    // Deleting before an offset that is already gone changes nothing.
    const [again] = await admin.deleteRecords({ topics: [{ name: 'plt-records', partitions: [{ partition: 0, offset: 2n }] }] });
    expect(again.partitions).toEqual([{ partition: 0, lowWatermark: 4n }]);
  });

  it('deletes topics (DeleteTopics v6) and they are gone from the list', async () => {
    await admin.createTopics({ topics: ['plt-doomed-a', 'plt-doomed-b'], partitions: 2, replicas: 1 });
    expect(await admin.listTopics()).toEqual(expect.arrayContaining(['plt-doomed-a', 'plt-doomed-b']));
    await admin.deleteTopics({ topics: ['plt-doomed-a', 'plt-doomed-b'] });
    const topics = await admin.listTopics();
    expect(topics).not.toContain('plt-doomed-a');
    expect(topics).not.toContain('plt-doomed-b');
    expect(await failure(admin.deleteTopics({ topics: ['plt-doomed-a'] }))).toEqual([['UNKNOWN_TOPIC_OR_PARTITION', 'unknown topic plt-doomed-a']]);
  });
});
