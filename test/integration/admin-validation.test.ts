/**
 * Bad input to the admin APIs: every case gets its own error code and a message a person can act
 * on, nothing half-happens, and the broker keeps serving. Requests go through a raw client (our
 * codec) so each version and field is exactly what the test says; kafkajs covers the common cases
 * the way an application meets them.
 */
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { alterConfigsApi } from '../../src/protocol/schemas/alter-configs.js';
import { apiVersionsApi } from '../../src/protocol/schemas/api-versions.js';
import { createPartitionsApi } from '../../src/protocol/schemas/create-partitions.js';
import { createTopicsApi } from '../../src/protocol/schemas/create-topics.js';
import { deleteRecordsApi } from '../../src/protocol/schemas/delete-records.js';
import { deleteTopicsApi } from '../../src/protocol/schemas/delete-topics.js';
import { decodeResponse } from '../../src/protocol/frames.js';
import { describeConfigsApi } from '../../src/protocol/schemas/describe-configs.js';
import { findCoordinatorApi } from '../../src/protocol/schemas/find-coordinator.js';
import { incrementalAlterConfigsApi } from '../../src/protocol/schemas/incremental-alter-configs.js';
import { metadataApi } from '../../src/protocol/schemas/metadata.js';
import { ZERO_UUID } from '../../src/protocol/uuid.js';
import { startWithKafkajs, type KafkajsBroker, type TestBroker } from './harness.js';
import { RawClient } from './raw-client.js';

let clients: KafkajsBroker;
let tb: TestBroker;
let c: RawClient;
let admin: Admin;
let producer: Producer;
let node: number;

beforeAll(async () => {
  ({ tb, admin, producer } = clients = await startWithKafkajs({}, { clientId: 'brook-validation', retry: { retries: 0 } }));
  node = tb.broker.config.nodeId;
  c = await RawClient.connect(tb.broker.port);
});

afterAll(async () => {
  c?.close();
  await clients?.close();
});

type Creatable = { name: string; numPartitions?: number; replicationFactor?: number; assignments?: { partitionIndex: number; brokerIds: number[] }[]; configs?: { name: string; value: string | null }[] };

async function create(topics: Creatable[], version = 7, validateOnly = false) {
  const res = await c.request(createTopicsApi, version, {
    topics: topics.map((t) => ({ numPartitions: 1, replicationFactor: 1, assignments: [], configs: [], ...t })),
    timeoutMs: 5000,
    validateOnly,
  });
  return res.topics.map((t) => [t.name, t.errorCode, t.errorMessage]);
}

function topicNames(): string[] {
  return [...tb.broker.broker.topics.all()].map((t) => t.name);
}

describe('CreateTopics refuses bad input, topic by topic', () => {
  it.each([
    ['', 'topic name is empty'],
    ['a/b', `topic name "a/b" is illegal: it may contain only ASCII alphanumerics, '.', '_' and '-'`],
    ['x'.repeat(250), 'topic name is longer than 249 characters'],
    ['..', 'topic name cannot be ".."'],
    ['.', 'topic name cannot be "."'],
  ])('name %j: INVALID_TOPIC_EXCEPTION', async (name, message) => {
    expect(await create([{ name }])).toEqual([[name, ErrorCode.INVALID_TOPIC_EXCEPTION, message]]);
    expect(topicNames()).not.toContain(name);
  });

  it('accepts a 249-character name and a name starting with "__"', async () => {
    const long = 'y'.repeat(249);
    expect(await create([{ name: long }, { name: '__brook_internal_test' }])).toEqual([
      [long, ErrorCode.NONE, null],
      ['__brook_internal_test', ErrorCode.NONE, null],
    ]);
  });

  it.each([0, -5])('num_partitions %i: INVALID_PARTITIONS', async (n) => {
    expect(await create([{ name: `bad-partitions${n}`, numPartitions: n }])).toEqual([
      [`bad-partitions${n}`, ErrorCode.INVALID_PARTITIONS, `number of partitions must be at least 1 (or -1 for the broker default), not ${n}`],
    ]);
  });

  it('more partitions than a topic may have: INVALID_PARTITIONS, and nothing is created', async () => {
    expect(await create([{ name: 'huge', numPartitions: 2_000_000 }])).toEqual([
      ['huge', ErrorCode.INVALID_PARTITIONS, "number of partitions 2000000 is above Brook's limit of 10000 per topic"],
    ]);
    expect(tb.broker.broker.topics.get('huge')).toBeUndefined();
  });

  it('replication factor 0 and 3: INVALID_REPLICATION_FACTOR, the latter naming the broker count', async () => {
    expect(await create([{ name: 'rf0', replicationFactor: 0 }, { name: 'rf3', replicationFactor: 3 }])).toEqual([
      ['rf0', ErrorCode.INVALID_REPLICATION_FACTOR, 'replication factor must be at least 1 (or -1 for the broker default), not 0'],
      ['rf3', ErrorCode.INVALID_REPLICATION_FACTOR, 'replication factor 3 is larger than the 1 available broker(s)'],
    ]);
    expect(topicNames()).not.toContain('rf0');
    expect(topicNames()).not.toContain('rf3');
  });

  it('unknown config, unparseable or null value: INVALID_CONFIG naming the config', async () => {
    expect(
      await create([
        { name: 'cfg-unknown', configs: [{ name: 'retention.mss', value: '1' }] },
        { name: 'cfg-abc', configs: [{ name: 'retention.ms', value: 'abc' }] },
        { name: 'cfg-null', configs: [{ name: 'segment.bytes', value: null }] },
        { name: 'cfg-range', configs: [{ name: 'min.cleanable.dirty.ratio', value: '2' }] },
        { name: 'cfg-policy', configs: [{ name: 'cleanup.policy', value: 'shred' }] },
      ]),
    ).toEqual([
      ['cfg-unknown', ErrorCode.INVALID_CONFIG, 'unknown topic config retention.mss'],
      ['cfg-abc', ErrorCode.INVALID_CONFIG, 'invalid value "abc" for retention.ms: expected an integer'],
      ['cfg-null', ErrorCode.INVALID_CONFIG, 'segment.bytes needs a value'],
      ['cfg-range', ErrorCode.INVALID_CONFIG, 'invalid value "2" for min.cleanable.dirty.ratio: must be between 0 and 1'],
      ['cfg-policy', ErrorCode.INVALID_CONFIG, 'invalid value "shred" for cleanup.policy: expected one of delete, compact, compact,delete, delete,compact'],
    ]);
    expect(topicNames().filter((n) => n.startsWith('cfg-'))).toEqual([]);
  });

  it('a config given twice: INVALID_REQUEST', async () => {
    expect(await create([{ name: 'cfg-twice', configs: [{ name: 'retention.ms', value: '1' }, { name: 'retention.ms', value: '2' }] }])).toEqual([
      ['cfg-twice', ErrorCode.INVALID_REQUEST, 'config retention.ms appears more than once in the request'],
    ]);
    expect(topicNames()).not.toContain('cfg-twice');
  });

  it('a topic named twice in one request: INVALID_REQUEST for both copies, and neither is created', async () => {
    expect(await create([{ name: 'dup' }, { name: 'dup', numPartitions: 2 }, { name: 'dup-sibling' }])).toEqual([
      ['dup', ErrorCode.INVALID_REQUEST, 'topic dup appears more than once in the request'],
      ['dup', ErrorCode.INVALID_REQUEST, 'topic dup appears more than once in the request'],
      ['dup-sibling', ErrorCode.NONE, null],
    ]);
    expect(topicNames()).not.toContain('dup');
    expect(topicNames()).toContain('dup-sibling');
  });

  it("a name that differs from an existing topic only in '.' vs '_': INVALID_TOPIC_EXCEPTION", async () => {
    expect(await create([{ name: 'metrics.clash' }])).toEqual([['metrics.clash', ErrorCode.NONE, null]]);
    expect(await create([{ name: 'metrics_clash' }])).toEqual([
      ['metrics_clash', ErrorCode.INVALID_TOPIC_EXCEPTION, "topic metrics_clash collides with existing topic metrics.clash: names may not differ only in '.' and '_'"],
    ]);
    expect(topicNames()).toContain('metrics.clash');
    expect(topicNames()).not.toContain('metrics_clash');
  });

  it('manual assignments: only this broker, one replica, partitions 0..n-1', async () => {
    const manual = (name: string, assignments: { partitionIndex: number; brokerIds: number[] }[], numPartitions = -1) =>
      create([{ name, numPartitions, replicationFactor: -1, assignments }]);
    expect(await manual('assign-ok', [{ partitionIndex: 1, brokerIds: [node] }, { partitionIndex: 0, brokerIds: [node] }])).toEqual([['assign-ok', ErrorCode.NONE, null]]);
    expect(tb.broker.broker.topics.get('assign-ok')!.partitions).toHaveLength(2);
    expect(await manual('assign-other', [{ partitionIndex: 0, brokerIds: [node + 1] }])).toEqual([
      ['assign-other', ErrorCode.INVALID_REPLICA_ASSIGNMENT, `partition 0 names broker ${node + 1}, but the only broker is ${node}`],
    ]);
    expect(await manual('assign-two', [{ partitionIndex: 0, brokerIds: [node, node] }])).toEqual([
      ['assign-two', ErrorCode.INVALID_REPLICA_ASSIGNMENT, `partition 0 lists broker ${node} 2 times`],
    ]);
    expect(await manual('assign-none', [{ partitionIndex: 0, brokerIds: [] }])).toEqual([['assign-none', ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'partition 0 has no replicas']]);
    expect(await manual('assign-gap', [{ partitionIndex: 0, brokerIds: [node] }, { partitionIndex: 2, brokerIds: [node] }])).toEqual([
      ['assign-gap', ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'assigned partitions must be numbered 0, 1, 2, ... without gaps'],
    ]);
    expect(await manual('assign-and-count', [{ partitionIndex: 0, brokerIds: [node] }], 3)).toEqual([
      ['assign-and-count', ErrorCode.INVALID_REQUEST, 'num_partitions and replication_factor must be -1 when assignments are given'],
    ]);
    expect(topicNames().filter((n) => n.startsWith('assign-'))).toEqual(['assign-ok']);
  });

  it('v0 (no error_message field) still gets the code; v5+ failures carry -1 counts and no configs', async () => {
    expect(await create([{ name: 'a/b' }], 0)).toEqual([['a/b', ErrorCode.INVALID_TOPIC_EXCEPTION, null]]);
    const res = await c.request(createTopicsApi, 5, { topics: [{ name: 'v5-bad', numPartitions: 0, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000 });
    expect(res.topics[0]).toMatchObject({ errorCode: ErrorCode.INVALID_PARTITIONS, numPartitions: -1, replicationFactor: -1, configs: [] });
  });

  it('validate_only answers like a creation (v7: counts and configs, zero topic id) and creates nothing', async () => {
    const res = await c.request(createTopicsApi, 7, {
      topics: [{ name: 'dry', numPartitions: 4, replicationFactor: -1, assignments: [], configs: [{ name: 'retention.ms', value: '1000' }] }],
      timeoutMs: 1000,
      validateOnly: true,
    });
    const t = res.topics[0];
    expect(t).toMatchObject({ name: 'dry', errorCode: ErrorCode.NONE, topicId: ZERO_UUID, numPartitions: 4, replicationFactor: 1 });
    expect(t.configs!.find((x) => x.name === 'retention.ms')).toEqual({ name: 'retention.ms', value: '1000', readOnly: false, configSource: 1, isSensitive: false });
    expect(t.configs!.find((x) => x.name === 'segment.bytes')).toMatchObject({ value: '1073741824', configSource: 5 });
    expect(topicNames()).not.toContain('dry');
  });

  it('kafkajs sees the same codes for an illegal name and zero partitions', async () => {
    const e = (await admin.createTopics({ topics: [{ topic: 'a/b' }, { topic: 'kjs-zero', numPartitions: 0 }] }).catch((x: unknown) => x)) as { errors: { type: string; topic: string }[] };
    expect(e.errors.map((x) => [x.topic, x.type]).sort()).toEqual([
      ['a/b', 'INVALID_TOPIC_EXCEPTION'],
      ['kjs-zero', 'INVALID_PARTITIONS'],
    ]);
    expect(topicNames()).not.toContain('kjs-zero');
  });
});

describe('DeleteTopics', () => {
  it('v6 deletes by topic id; an unknown id is UNKNOWN_TOPIC_ID; name and id together is INVALID_REQUEST', async () => {
    await create([{ name: 'by-id' }]);
    const id = tb.broker.broker.topics.get('by-id')!.id;
    const del = (topics: { name: string | null; topicId: string }[]) => c.request(deleteTopicsApi, 6, { topics, timeoutMs: 1000 });
    const both = await del([{ name: 'by-id', topicId: id }]);
    expect(both.responses).toEqual([{ name: 'by-id', topicId: id, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'give a topic name or a topic id, not both' }]);
    const res = await del([{ name: null, topicId: id }]);
    expect(res.responses).toEqual([{ name: 'by-id', topicId: id, errorCode: ErrorCode.NONE, errorMessage: null }]);
    expect(topicNames()).not.toContain('by-id');
    const again = await del([{ name: null, topicId: id }]);
    expect(again.responses).toEqual([{ name: null, topicId: id, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: `unknown topic id ${id}` }]);
  });

  it('refuses to delete __consumer_offsets with POLICY_VIOLATION', async () => {
    const res = await c.request(deleteTopicsApi, 5, { topicNames: ['__consumer_offsets'], timeoutMs: 1000 });
    expect(res.responses[0]).toMatchObject({ name: '__consumer_offsets', errorCode: ErrorCode.POLICY_VIOLATION });
    expect(res.responses[0].errorMessage).toMatch(/committed offsets/);
    expect(topicNames()).toContain('__consumer_offsets');
  });

  it('refuses to delete __transaction_state with POLICY_VIOLATION', async () => {
    // The first FindCoordinator for a transactional id creates it.
    expect((await c.request(findCoordinatorApi, 3, { key: 'tx', keyType: 1 })).errorCode).toBe(ErrorCode.NONE);
    expect(topicNames()).toContain('__transaction_state');
    const res = await c.request(deleteTopicsApi, 5, { topicNames: ['__transaction_state'], timeoutMs: 1000 });
    expect(res.responses[0]).toMatchObject({ name: '__transaction_state', errorCode: ErrorCode.POLICY_VIOLATION });
    expect(topicNames()).toContain('__transaction_state');
  });

  it('v0-5 by name: unknown topic is UNKNOWN_TOPIC_OR_PARTITION, a name given twice INVALID_REQUEST', async () => {
    await create([{ name: 'twice-deleted' }]);
    const res = await c.request(deleteTopicsApi, 5, { topicNames: ['never-existed', 'twice-deleted', 'twice-deleted'], timeoutMs: 1000 });
    expect(res.responses).toEqual([
      { name: 'never-existed', topicId: ZERO_UUID, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'unknown topic never-existed' },
      { name: 'twice-deleted', topicId: ZERO_UUID, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'topic twice-deleted appears more than once in the request' },
      { name: 'twice-deleted', topicId: ZERO_UUID, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'topic twice-deleted appears more than once in the request' },
    ]);
    expect(topicNames()).toContain('twice-deleted');
  });

  it('a delete and a create of the same name pipelined on one connection: the new topic starts empty', async () => {
    await create([{ name: 'reborn' }]);
    await producer.send({ topic: 'reborn', messages: [{ value: 'old 1' }, { value: 'old 2' }] });
    const oldId = tb.broker.broker.topics.get('reborn')!.id;
    const deleted = c.nextFrame();
    const created = c.nextFrame();
    c.write(
      Buffer.concat([
        c.encode(deleteTopicsApi, 4, { topicNames: ['reborn'], timeoutMs: 1000 }),
        c.encode(createTopicsApi, 5, { topics: [{ name: 'reborn', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000 }),
      ]),
    );
    expect(decodeResponse(deleteTopicsApi, 4, await deleted).body.responses[0].errorCode).toBe(ErrorCode.NONE);
    expect(decodeResponse(createTopicsApi, 5, await created).body.topics[0].errorCode).toBe(ErrorCode.NONE);
    const reborn = tb.broker.broker.topics.get('reborn')!;
    expect(reborn.id).not.toBe(oldId);
    expect(reborn.partitions[0].logEndOffset).toBe(0);
    const [r] = await producer.send({ topic: 'reborn', messages: [{ value: 'new' }] });
    expect(r.baseOffset).toBe('0');
  });
});

describe('CreatePartitions refuses bad input', () => {
  it('unknown topic, shrinking, wrong assignments', async () => {
    await create([{ name: 'cp', numPartitions: 2 }]);
    const res = await c.request(createPartitionsApi, 3, {
      topics: [
        { name: 'cp-nope', count: 3, assignments: null },
        { name: 'cp', count: 2, assignments: null },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(res.results).toEqual([
      { name: 'cp-nope', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'unknown topic cp-nope' },
      { name: 'cp', errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'topic cp already has 2 partition(s)' },
    ]);
    const assigned = async (count: number, assignments: { brokerIds: number[] }[]) =>
      (await c.request(createPartitionsApi, 1, { topics: [{ name: 'cp', count, assignments }], timeoutMs: 1000, validateOnly: false })).results[0];
    expect(await assigned(4, [{ brokerIds: [node] }])).toEqual({ name: 'cp', errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: '2 partition(s) are being added, but 1 assignment(s) were given' });
    expect(await assigned(3, [{ brokerIds: [node + 7] }])).toEqual({
      name: 'cp',
      errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      errorMessage: `new partition 2 names broker ${node + 7}, but the only broker is ${node}`,
    });
    expect(tb.broker.broker.topics.get('cp')!.partitions).toHaveLength(2);
    // validate_only: checked, not done; then done for real, with a valid assignment.
    const dry = await c.request(createPartitionsApi, 3, { topics: [{ name: 'cp', count: 3, assignments: null }], timeoutMs: 1000, validateOnly: true });
    expect(dry.results[0].errorCode).toBe(ErrorCode.NONE);
    expect(tb.broker.broker.topics.get('cp')!.partitions).toHaveLength(2);
    expect(await assigned(3, [{ brokerIds: [node] }])).toEqual({ name: 'cp', errorCode: ErrorCode.NONE, errorMessage: null });
    expect(tb.broker.broker.topics.get('cp')!.partitions).toHaveLength(3);
  });
});

describe('DescribeConfigs refuses bad resources, one at a time', () => {
  it('unknown and invalid topics, other broker ids, unsupported types; the default broker resource is empty', async () => {
    await create([{ name: 'described' }]);
    const res = await c.request(describeConfigsApi, 4, {
      resources: [
        { resourceType: 2, resourceName: 'no-such-topic', configurationKeys: null },
        { resourceType: 2, resourceName: 'a/b', configurationKeys: null },
        { resourceType: 4, resourceName: String(node + 1), configurationKeys: null },
        { resourceType: 4, resourceName: 'abc', configurationKeys: null },
        { resourceType: 8, resourceName: String(node), configurationKeys: null },
        { resourceType: 4, resourceName: '', configurationKeys: null },
        { resourceType: 2, resourceName: 'described', configurationKeys: ['retention.ms'] },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    expect(res.results.map((r) => [r.resourceName, r.errorCode, r.errorMessage, r.configs.length])).toEqual([
      ['no-such-topic', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'unknown topic no-such-topic', 0],
      ['a/b', ErrorCode.INVALID_TOPIC_EXCEPTION, `topic name "a/b" is illegal: it may contain only ASCII alphanumerics, '.', '_' and '-'`, 0],
      [String(node + 1), ErrorCode.INVALID_REQUEST, `unexpected broker id ${node + 1}: this broker is ${node} (or use "" for the cluster default)`, 0],
      ['abc', ErrorCode.INVALID_REQUEST, 'broker id must be an integer, not "abc"', 0],
      [String(node), ErrorCode.INVALID_REQUEST, 'resource type 8 is not supported by Brook (only topics, 2, and brokers, 4)', 0],
      ['', ErrorCode.NONE, null, 0],
      ['described', ErrorCode.NONE, null, 1],
    ]);
    expect(res.results[6].configs[0]).toEqual({
      name: 'retention.ms',
      value: '604800000',
      readOnly: false,
      configSource: 5,
      isSensitive: false,
      synonyms: [],
      configType: 5,
      documentation: null,
      isDefault: false,
    });
  });

  it('v0 reports is_default instead of a source', async () => {
    expect(await create([{ name: 'described-v0' }])).toEqual([['described-v0', ErrorCode.NONE, null]]);
    await c.request(incrementalAlterConfigsApi, 1, {
      resources: [{ resourceType: 2, resourceName: 'described-v0', configs: [{ name: 'segment.ms', configOperation: 0, value: '60000' }] }],
      validateOnly: false,
    });
    const res = await c.request(describeConfigsApi, 0, { resources: [{ resourceType: 2, resourceName: 'described-v0', configurationKeys: ['segment.ms', 'retention.ms'] }] });
    expect(res.results[0].configs.map((x) => [x.name, x.value, x.isDefault])).toEqual([
      ['retention.ms', '604800000', true],
      ['segment.ms', '60000', false],
    ]);
  });
});

describe('AlterConfigs and IncrementalAlterConfigs refuse bad resources, one at a time', () => {
  it('AlterConfigs: unknown topic, a resource named twice, a broker, a bad value, a config named twice', async () => {
    await create([{ name: 'altered', configs: [{ name: 'retention.ms', value: '5000' }] }]);
    const res = await c.request(alterConfigsApi, 2, {
      resources: [
        { resourceType: 2, resourceName: 'alter-nope', configs: [] },
        { resourceType: 4, resourceName: String(node), configs: [{ name: 'num.partitions', value: '3' }] },
        { resourceType: 2, resourceName: 'altered', configs: [{ name: 'retention.ms', value: '-2' }] },
        { resourceType: 2, resourceName: 'altered', configs: [{ name: 'retention.ms', value: '1' }] },
      ],
      validateOnly: false,
    });
    expect(res.responses.map((r) => [r.resourceName, r.errorCode, r.errorMessage])).toEqual([
      ['alter-nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'unknown topic alter-nope'],
      [String(node), ErrorCode.INVALID_CONFIG, 'Cannot update these configs dynamically: num.partitions'],
      ['altered', ErrorCode.INVALID_REQUEST, 'resource altered (type 2) appears more than once in the request'],
      ['altered', ErrorCode.INVALID_REQUEST, 'resource altered (type 2) appears more than once in the request'],
    ]);
    const one = await c.request(alterConfigsApi, 0, {
      resources: [{ resourceType: 2, resourceName: 'altered', configs: [{ name: 'retention.ms', value: '-2' }] }],
      validateOnly: false,
    });
    expect(one.responses[0]).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'invalid value "-2" for retention.ms: must be -1 or more' });
    const twice = await c.request(alterConfigsApi, 1, {
      resources: [{ resourceType: 2, resourceName: 'altered', configs: [{ name: 'retention.ms', value: '1' }, { name: 'retention.ms', value: '2' }] }],
      validateOnly: false,
    });
    expect(twice.responses[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'config retention.ms appears more than once in the request' });
    // None of it changed the topic.
    expect(tb.broker.broker.topics.get('altered')!.configs).toEqual({ 'retention.ms': 5000 });
  });

  it('IncrementalAlterConfigs: all of a resource\'s operations apply together or not at all', async () => {
    expect(await create([{ name: 'incremental', configs: [{ name: 'retention.ms', value: '5000' }] }])).toEqual([['incremental', ErrorCode.NONE, null]]);
    const res = await c.request(incrementalAlterConfigsApi, 0, {
      resources: [
        {
          resourceType: 2,
          resourceName: 'incremental',
          configs: [
            { name: 'retention.ms', configOperation: 1, value: null },
            { name: 'segment.bytes', configOperation: 0, value: '13' },
          ],
        },
        { resourceType: 2, resourceName: 'alter-nope', configs: [{ name: 'retention.ms', configOperation: 1, value: null }] },
        { resourceType: 2, resourceName: 'incremental-too', configs: [] },
      ],
      validateOnly: false,
    });
    expect(res.responses.map((r) => [r.resourceName, r.errorCode, r.errorMessage])).toEqual([
      ['incremental', ErrorCode.INVALID_CONFIG, 'invalid value "13" for segment.bytes: must be at least 14'],
      ['alter-nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'unknown topic alter-nope'],
      ['incremental-too', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'unknown topic incremental-too'],
    ]);
    expect(tb.broker.broker.topics.get('incremental')!.configs).toEqual({ 'retention.ms': 5000 });
    const op = await c.request(incrementalAlterConfigsApi, 1, {
      resources: [{ resourceType: 2, resourceName: 'incremental', configs: [{ name: 'retention.ms', configOperation: 9, value: '1' }] }],
      validateOnly: false,
    });
    expect(op.responses[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'unknown config operation 9 for retention.ms' });
    const unknown = await c.request(incrementalAlterConfigsApi, 1, {
      resources: [{ resourceType: 2, resourceName: 'incremental', configs: [{ name: 'retention.mss', configOperation: 0, value: '1' }] }],
      validateOnly: false,
    });
    expect(unknown.responses[0]).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'unknown topic config retention.mss' });
    // DELETE of a name that is not set, unknown or not, is a no-op that succeeds, as in Kafka.
    const deleted = await c.request(incrementalAlterConfigsApi, 1, {
      resources: [{ resourceType: 2, resourceName: 'incremental', configs: [{ name: 'message.format.version', configOperation: 1, value: null }] }],
      validateOnly: false,
    });
    expect(deleted.responses[0]).toMatchObject({ errorCode: ErrorCode.NONE });
    expect(tb.broker.broker.topics.get('incremental')!.configs).toEqual({ 'retention.ms': 5000 });
  });
});

describe('DeleteRecords refuses bad input, partition by partition', () => {
  it('unknown partitions, negative offsets, offsets past the high watermark, compacted topics', async () => {
    await create([{ name: 'records', numPartitions: 1 }, { name: 'compacted', configs: [{ name: 'cleanup.policy', value: 'compact' }] }]);
    const res = await c.request(deleteRecordsApi, 2, {
      topics: [
        { name: 'records', partitions: [{ partitionIndex: 0, offset: 1n }, { partitionIndex: 0, offset: -5n }, { partitionIndex: 3, offset: 0n }] },
        { name: 'records-nope', partitions: [{ partitionIndex: 0, offset: 0n }] },
        { name: 'compacted', partitions: [{ partitionIndex: 0, offset: -1n }] },
        { name: 'records', partitions: [{ partitionIndex: 0, offset: 0n }, { partitionIndex: 0, offset: -1n }] },
      ],
      timeoutMs: 1000,
    });
    expect(res.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.lowWatermark])])).toEqual([
      [
        'records',
        [
          [0, ErrorCode.OFFSET_OUT_OF_RANGE, -1n],
          [0, ErrorCode.OFFSET_OUT_OF_RANGE, -1n],
          [3, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n],
        ],
      ],
      ['records-nope', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n]]],
      ['compacted', [[0, ErrorCode.POLICY_VIOLATION, -1n]]],
      // An empty log: deleting before 0 or before the high watermark (0) is a no-op.
      [
        'records',
        [
          [0, ErrorCode.NONE, 0n],
          [0, ErrorCode.NONE, 0n],
        ],
      ],
    ]);
  });
});

describe('after all of that', () => {
  it('the broker still serves: ApiVersions advertises the admin APIs, Metadata lists exactly the topics it holds', async () => {
    const v = await c.request(apiVersionsApi, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
    expect(v.errorCode).toBe(ErrorCode.NONE);
    const advertised = new Map(v.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
    expect([19, 20, 21, 32, 33, 37, 44].map((k) => [k, advertised.get(k)])).toEqual([
      [19, [0, 7]],
      [20, [0, 6]],
      [21, [0, 2]],
      [32, [0, 4]],
      [33, [0, 2]],
      [37, [0, 3]],
      [44, [0, 1]],
    ]);
    const md = await c.request(metadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const names = md.topics.map((t) => t.name);
    // Metadata lists exactly the topics the broker holds (each test above checked its own).
    expect([...names].sort()).toEqual(topicNames().sort());
  });
});
