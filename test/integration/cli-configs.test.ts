/**
 * `brook configs` as a child process against a real broker, cross-checked with kafkajs's
 * describeConfigs / alterConfigs: what brook sets, kafkajs reads, and the reverse. Output is compared
 * with fixtures (test/fixtures/cli/configs-*.txt) written from kafka-configs.sh's format (Kafka 4.x
 * ConfigCommand: `Dynamic configs for topic T are:`, `  k=v sensitive=false synonyms={SOURCE:k=v, ...}`,
 * `Completed updating config for topic T.`); `{{BROKER}}` stands for the broker's node id.
 */
import { readFileSync, rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigResourceTypes, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command as configsCommand, splitAddConfig } from '../../src/cli/configs.js';
import { brookFromSources, errorChecks, fixtures, inProcess } from './cli-harness.js';
import { kafkajs, startTestBroker, type ProcessResult, type TestBroker } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'brook-cli-configs-'));

let tb: TestBroker;
let admin: Admin;
let node: string;

beforeAll(async () => {
  // No static log.* settings, so topic configs inherit only built-in defaults; no gateway needed.
  tb = await startTestBroker({ properties: { 'ws.enabled': false } });
  node = String(tb.broker.config.nodeId);
  admin = kafkajs(tb.bootstrap, { retry: { retries: 0 } }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'cli-cfg' }, { topic: 'cli-empty' }, { topic: 'cli-kjs' }] });
});

afterAll(async () => {
  await admin?.disconnect();
  await tb?.close();
  rmSync(dir, { recursive: true, force: true });
});

function configs(args: string[], opts: { bootstrap?: boolean } = {}): Promise<ProcessResult> {
  const boot = opts.bootstrap === false ? [] : ['--bootstrap-server', tb.bootstrap];
  return brookFromSources(['configs', ...args, ...boot], { timeoutMs: 60_000 });
}

function fixture(name: string): string {
  return readFileSync(join(fixtures, name), 'utf8').replaceAll('{{BROKER}}', node);
}

function expectOutput(r: ProcessResult, expected: string): void {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(expected);
}

const { expectFailure, expectUsage } = errorChecks('configs');

/** What kafkajs (DescribeConfigs v2) reads for one resource: name -> {value, source}. */
async function kafkajsConfigs(type: ConfigResourceTypes, name: string): Promise<Map<string, { value: string; source: number }>> {
  const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type, name }] });
  return new Map(res.resources[0]!.configEntries.map((c) => [c.configName, { value: c.configValue, source: (c as unknown as { configSource: number }).configSource }]));
}

describe('--add-config parsing (kafka-configs.sh rules)', () => {
  it('splits pairs on commas outside brackets and removes the brackets', () => {
    expect([...splitAddConfig('a=1,b=[x,y],c=3')]).toEqual([
      ['a', '1'],
      ['b', 'x,y'],
      ['c', '3'],
    ]);
    expect([...splitAddConfig('follower.replication.throttled.replicas=[0:1,1:1]')]).toEqual([['follower.replication.throttled.replicas', '0:1,1:1']]);
  });

  it('keeps an empty value, trims around "=", and refuses a pair without a key', () => {
    expect([...splitAddConfig('ssl.endpoint.identification.algorithm=')]).toEqual([['ssl.endpoint.identification.algorithm', '']]);
    expect([...splitAddConfig(' retention.ms = 5 ')]).toEqual([['retention.ms', '5']]);
    expect(() => splitAddConfig('=1')).toThrow(/"=1" is not key=val/);
    expect(() => splitAddConfig('a=1,,b=2')).toThrow(/"" is not key=val/);
    expect(() => splitAddConfig('[a=1]')).toThrow(/is not key=val/);
  });
});

// Each command is a process started through tsx: seconds each on a loaded machine.
describe('brook configs', { timeout: 120_000 }, () => {
  it('prints its help with exit 0', async () => {
    const r = await configs(['--help'], { bootstrap: false });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: brook configs --describe\|--alter --entity-type topics\|brokers/);
    for (const flag of ['--entity-name', '--entity-default', '--add-config', '--delete-config', '--all', '--json', '--bootstrap-server']) expect(r.stdout).toContain(flag);
  });

  it('describes a topic without overrides as an empty dynamic list', async () => {
    expectOutput(await configs(['--describe', '--entity-type', 'topics', '--entity-name', 'cli-empty']), fixture('configs-describe-topic-empty.txt'));
  });

  it('sets topic configs (a bracketed list value too) that kafkajs reads back, and describes them in Kafka\'s format', async () => {
    const r = await configs(['--alter', '--entity-type', 'topics', '--entity-name', 'cli-cfg', '--add-config', 'retention.ms=1000,cleanup.policy=[compact,delete]']);
    expectOutput(r, fixture('configs-alter-topic.txt'));
    const seen = await kafkajsConfigs(ConfigResourceTypes.TOPIC, 'cli-cfg');
    expect(seen.get('retention.ms')).toEqual({ value: '1000', source: 1 });
    expect(seen.get('cleanup.policy')).toEqual({ value: 'compact,delete', source: 1 });
    expectOutput(await configs(['--describe', '--entity-type', 'topics', '--entity-name', 'cli-cfg']), fixture('configs-describe-topic.txt'));
    // --topic is kafka-configs.sh's shortcut for the same entity.
    expectOutput(await configs(['--describe', '--topic', 'cli-cfg']), fixture('configs-describe-topic.txt'));
  });

  it('describes what kafkajs set (AlterConfigs), with --all listing the defaults too', async () => {
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cli-kjs', configEntries: [{ name: 'max.message.bytes', value: '2048' }] }] });
    const r = await configs(['--describe', '--topic', 'cli-kjs']);
    expectOutput(r, 'Dynamic configs for topic cli-kjs are:\n  max.message.bytes=2048 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:max.message.bytes=2048, DEFAULT_CONFIG:message.max.bytes=1048588}\n');

    const all = await configs(['--describe', '--topic', 'cli-kjs', '--all']);
    expect(all.code, all.stderr).toBe(0);
    const lines = all.stdout.split('\n').filter(Boolean);
    expect(lines[0]).toBe('All configs for topic cli-kjs are:');
    const names = lines.slice(1).map((l) => /^ {2}([^=]+)=/.exec(l)![1]!);
    expect(names).toEqual([...names].sort());
    // Every config kafkajs sees, with the same value.
    const seen = await kafkajsConfigs(ConfigResourceTypes.TOPIC, 'cli-kjs');
    expect(new Set(names)).toEqual(new Set(seen.keys()));
    for (const l of lines.slice(1)) {
      const [, name, value] = /^ {2}([^=]+)=(.*?) sensitive=/.exec(l)!;
      expect(value, name).toBe(seen.get(name!)!.value ?? 'null');
    }

    const json = JSON.parse((await configs(['--describe', '--topic', 'cli-kjs', '--json'])).stdout) as { entityType: string; entityName: string; configs: { name: string; value: string; source: string; synonyms: unknown[] }[] }[];
    expect(json).toEqual([
      {
        entityType: 'topics',
        entityName: 'cli-kjs',
        configs: [
          {
            name: 'max.message.bytes',
            value: '2048',
            source: 'DYNAMIC_TOPIC_CONFIG',
            isDefault: false,
            isSensitive: false,
            readOnly: false,
            synonyms: [
              { name: 'max.message.bytes', value: '2048', source: 'DYNAMIC_TOPIC_CONFIG' },
              { name: 'message.max.bytes', value: '1048588', source: 'DEFAULT_CONFIG' },
            ],
          },
        ],
      },
    ]);
  });

  it('deletes a topic config (kafkajs then sees the default), and refuses to delete one that is not set', async () => {
    expectOutput(await configs(['--alter', '--topic', 'cli-cfg', '--delete-config', 'retention.ms']), fixture('configs-alter-topic.txt'));
    const seen = await kafkajsConfigs(ConfigResourceTypes.TOPIC, 'cli-cfg');
    expect(seen.get('retention.ms')!.source).toBe(5);
    expect(seen.get('cleanup.policy')).toEqual({ value: 'compact,delete', source: 1 });
    expectFailure(await configs(['--alter', '--topic', 'cli-cfg', '--delete-config', 'retention.ms,segment.bytes']), /^brook configs: Invalid config\(s\): retention\.ms,segment\.bytes$/m);
  });

  it('reads --add-config-file', async () => {
    const file = join(dir, 'add.properties');
    writeFileSync(file, '# configs to set\nsegment.ms=600000\nretention.bytes = 1048576\n');
    expectOutput(await configs(['--alter', '--topic', 'cli-empty', '--add-config-file', file]), 'Completed updating config for topic cli-empty.\n');
    const seen = await kafkajsConfigs(ConfigResourceTypes.TOPIC, 'cli-empty');
    expect(seen.get('segment.ms')).toEqual({ value: '600000', source: 1 });
    expect(seen.get('retention.bytes')).toEqual({ value: '1048576', source: 1 });
  });

  it('passes the broker\'s refusals on with the Kafka error name', async () => {
    const [unknownKey, badValue] = await Promise.all([
      configs(['--alter', '--topic', 'cli-cfg', '--add-config', 'no.such.config=1']),
      configs(['--alter', '--topic', 'cli-cfg', '--add-config', 'retention.ms=soon']),
    ]);
    expectFailure(unknownKey, /^brook configs: topic cli-cfg: INVALID_CONFIG/);
    expectFailure(badValue, /^brook configs: topic cli-cfg: INVALID_CONFIG/);
    // Nothing changed.
    expect((await kafkajsConfigs(ConfigResourceTypes.TOPIC, 'cli-cfg')).get('retention.ms')!.source).toBe(5);
  });

  it('fails on an unknown topic or broker', async () => {
    const [describeTopic, alterTopic, describeBroker] = await Promise.all([
      configs(['--describe', '--topic', 'cli-nope']),
      configs(['--alter', '--topic', 'cli-nope', '--add-config', 'retention.ms=1']),
      configs(['--describe', '--entity-type', 'brokers', '--entity-name', '99']),
    ]);
    expectFailure(describeTopic, /^brook configs: The topic 'cli-nope' doesn't exist and doesn't have dynamic config\.$/m);
    expectFailure(alterTopic, /^brook configs: topic cli-nope: UNKNOWN_TOPIC_OR_PARTITION/);
    expectFailure(describeBroker, /^brook configs: The broker '99' doesn't exist and doesn't have dynamic config\.$/m);
  });

  it('alters and describes a broker\'s dynamic config and the cluster default, as kafkajs sees them', async () => {
    expectOutput(await configs(['--describe', '--entity-type', 'brokers', '--entity-name', node]), `Dynamic configs for broker ${node} are:\n`);
    expectOutput(await configs(['--alter', '--entity-type', 'brokers', '--entity-name', node, '--add-config', 'log.retention.ms=7200000']), fixture('configs-alter-broker.txt'));
    expect((await kafkajsConfigs(ConfigResourceTypes.BROKER, node)).get('log.retention.ms')).toEqual({ value: '7200000', source: 2 });
    expectOutput(await configs(['--describe', '--broker', node]), fixture('configs-describe-broker.txt'));

    expectOutput(await configs(['--alter', '--entity-type', 'brokers', '--entity-default', '--add-config', 'log.retention.ms=10800000']), fixture('configs-alter-broker-default.txt'));
    expectOutput(await configs(['--describe', '--entity-type', 'brokers', '--entity-default']), fixture('configs-describe-broker-default.txt'));
    // Without a name: every broker, then the cluster default.
    expectOutput(
      await configs(['--describe', '--entity-type', 'brokers']),
      `Dynamic configs for broker ${node} are:\n` +
        '  log.retention.ms=7200000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=7200000, DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=10800000, DEFAULT_CONFIG:log.retention.ms=604800000}\n' +
        fixture('configs-describe-broker-default.txt'),
    );

    // Deleting the broker's own value leaves the cluster default in effect.
    expectOutput(await configs(['--alter', '--broker', node, '--delete-config', 'log.retention.ms']), fixture('configs-alter-broker.txt'));
    expect((await kafkajsConfigs(ConfigResourceTypes.BROKER, node)).get('log.retention.ms')).toEqual({ value: '10800000', source: 3 });
    expectOutput(await configs(['--alter', '--broker-defaults', '--delete-config', 'log.retention.ms']), fixture('configs-alter-broker-default.txt'));
    expect((await kafkajsConfigs(ConfigResourceTypes.BROKER, node)).get('log.retention.ms')!.source).toBe(5);

    const all = await configs(['--describe', '--broker', node, '--all']);
    expect(all.stdout.split('\n')[0]).toBe(`All configs for broker ${node} are:`);
    expect(all.stdout).toMatch(/^ {2}num\.partitions=1 sensitive=false synonyms=\{DEFAULT_CONFIG:num\.partitions=1\}$/m);
  });

  it('refuses bad flags with exit 2 before connecting', async () => {
    const cases: [string[], RegExp][] = [
      [['--topic', 'x'], /exactly one action: --describe or --alter/],
      [['--describe', '--alter', '--topic', 'x'], /exactly one action/],
      [['--describe'], /give an entity/],
      [['--describe', '--entity-type', 'users'], /entity type users is not supported by brook configs/],
      [['--describe', '--entity-type', 'tables'], /invalid entity type tables/],
      [['--describe', '--entity-type', 'brokers', '--entity-name', 'one'], /must be a valid integer broker id, but it is: one/],
      [['--describe', '--entity-type', 'topics', '--entity-default'], /--entity-default is not allowed with --entity-type topics/],
      [['--describe', '--topic', 'x', '--entity-type', 'topics'], /should not be used in conjunction with specific entity flags/],
      [['--alter', '--entity-type', 'topics', '--add-config', 'a=1'], /An entity name must be specified with --alter of topics/],
      [['--alter', '--topic', 'x'], /At least one of --add-config, --add-config-file, or --delete-config/],
      [['--alter', '--topic', 'x', '--add-config', 'retention.ms'], /"retention\.ms" is not key=val/],
      [['--alter', '--topic', 'x', '--add-config', 'a b=1'], /Invalid character found for config key: a b/],
      [['--describe', '--topic', 'x', '--add-config', 'a=1'], /--add-config cannot be used with --describe/],
      [['--alter', '--topic', 'x', '--add-config', 'a=1', '--json'], /--json cannot be used with --alter/],
      [['--alter', '--topic', 'x', '--add-config-file', join(dir, 'missing.properties')], /cannot read --add-config-file .*ENOENT/],
    ];
    for (const [args, pattern] of cases) expectUsage(await inProcess(configsCommand, args, tb.bootstrap), pattern);
    // And as a process: exit code 2.
    expectUsage(await configs(cases[0]![0]), cases[0]![1]);
  });

  it('fails within about --timeout-ms when no broker is reachable', async () => {
    const started = Date.now();
    const r = await configs(['--describe', '--topic', 'x', '--bootstrap-server', '127.0.0.1:1', '--timeout-ms', '1000'], { bootstrap: false });
    expectFailure(r, /^brook configs: no broker reachable at 127\.0\.0\.1:1 within 1000 ms/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
