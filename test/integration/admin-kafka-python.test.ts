/**
 * The admin APIs through kafka-python 2.0.2's KafkaAdminClient (Debian python3-kafka), which
 * negotiates per API: CreateTopics v3, DeleteTopics v3, CreatePartitions v1, DescribeConfigs v2,
 * AlterConfigs v1, Metadata v5. The client script (clients/kafka_python_admin.py) runs every step
 * and prints one JSON object; this file checks it.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPIC_CONFIGS } from '../../src/config.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { expectOk, hasKafkaPython, requireInstalled, run, startTestBroker, SYSTEM_PYTHON, type TestBroker } from './harness.js';

const SCRIPT = fileURLToPath(new URL('./clients/kafka_python_admin.py', import.meta.url));
requireInstalled(hasKafkaPython, "kafka-python (Debian's python3-kafka, under /usr/bin/python3)");

type Configs = Record<string, { error_code: number; configs: Record<string, [string | null, boolean, number]> }>;
interface Outcome {
  create: [string, number, string | null][];
  create_version: number;
  create_again: [string, string];
  create_rf3: [string, string];
  create_bad_config: [string, string];
  describe: Configs;
  describe_broker: Configs;
  alter: [number, string | null][];
  alter_bad: [number, string | null][];
  alter_unknown: [number, string | null][];
  describe_after_alter: Configs;
  grow: [string, number, string | null][];
  shrink: [string, string];
  partitions: Record<string, number>;
  delete: [string, number][];
  topics_after_delete: string[];
  delete_again: [string, string];
}

let tb: TestBroker;
let out: Outcome;

beforeAll(async () => {
  tb = await startTestBroker({ properties: { 'num.partitions': 2 } });
  const r = expectOk(await run(SYSTEM_PYTHON, [SCRIPT, tb.bootstrap, String(tb.broker.config.nodeId)], { timeoutMs: 60_000 }), 'kafka_python_admin.py');
  out = JSON.parse(r.stdout) as Outcome;
});

afterAll(async () => tb?.close());

describe('kafka-python KafkaAdminClient', () => {
  it('creates a topic with configs (CreateTopics v3)', () => {
    expect(out.create_version).toBe(3);
    expect(out.create).toEqual([['py-a', ErrorCode.NONE, null]]);
  });

  it('raises TopicAlreadyExistsError for an existing topic', () => {
    expect(out.create_again[0]).toBe('TopicAlreadyExistsError');
  });

  it('raises InvalidReplicationFactorError for replication factor 3, with the broker\'s message', () => {
    expect(out.create_rf3[0]).toBe('InvalidReplicationFactorError');
    expect(out.create_rf3[1]).toContain(`error_message='replication factor 3 is larger than the 1 available broker(s)'`);
  });

  it('raises InvalidConfigurationError for retention.ms=abc, naming the value', () => {
    expect(out.create_bad_config[0]).toBe('InvalidConfigurationError');
    expect(out.create_bad_config[1]).toContain(`error_message='invalid value "abc" for retention.ms: expected an integer'`);
  });

  it('describes the topic configs (DescribeConfigs v2)', () => {
    const r = out.describe['py-a'];
    expect(r.error_code).toBe(ErrorCode.NONE);
    expect(r.configs['retention.ms']).toEqual(['90000', false, 1]);
    expect(r.configs['cleanup.policy']).toEqual(['delete', false, 5]);
    expect(Object.keys(r.configs).sort()).toEqual(Object.keys(TOPIC_CONFIGS).sort()); // every Kafka topic config Brook knows
  });

  it('describes the broker configs', () => {
    const r = out.describe_broker[String(tb.broker.config.nodeId)];
    expect(r.error_code).toBe(ErrorCode.NONE);
    expect(r.configs['num.partitions']).toEqual(['2', true, 4]);
    expect(r.configs['delete.topic.enable']).toEqual(['true', true, 5]);
  });

  it('alters a topic config (AlterConfigs v1); bad or unknown ones get INVALID_CONFIG with a message', () => {
    expect(out.alter).toEqual([[ErrorCode.NONE, null]]);
    expect(out.alter_bad).toEqual([[ErrorCode.INVALID_CONFIG, 'invalid value "abc" for retention.ms: expected an integer']]);
    expect(out.alter_unknown).toEqual([[ErrorCode.INVALID_CONFIG, 'unknown topic config no.such.config']]);
    expect(out.describe_after_alter['py-a'].configs).toEqual({ 'retention.ms': ['123456', false, 1] });
  });

  it('adds partitions (CreatePartitions v1) and refuses to shrink with InvalidPartitionsError', () => {
    expect(out.grow).toEqual([['py-a', ErrorCode.NONE, null]]);
    expect(out.shrink[0]).toBe('InvalidPartitionsError');
    expect(out.partitions).toEqual({ 'py-a': 4 });
  });

  it('deletes the topic (DeleteTopics v3); deleting it again raises UnknownTopicOrPartitionError', () => {
    expect(out.delete).toEqual([['py-a', ErrorCode.NONE]]);
    expect(out.topics_after_delete).not.toContain('py-a');
    expect(out.delete_again[0]).toBe('UnknownTopicOrPartitionError');
  });
});
