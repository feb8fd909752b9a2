/**
 * `brook topics` as a child process against a real broker, cross-checked with kafkajs and kcat:
 * what brook creates, alters and deletes, they see; what they create, brook describes. Output is
 * compared with fixtures (test/fixtures/cli/topics-*.txt) written from kafka-topics.sh's format
 * (Kafka 4.x TopicCommand: tab-separated summary and partition lines, `Elr: N/A` when described
 * through Metadata); `{{TOPIC_ID}}` stands for a 22-character base64url topic id, `{{BROKER}}` for
 * the broker's node id.
 */
import { readFileSync, rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command as topicsCommand } from '../../src/cli/topics.js';
import { brookFromSources, errorChecks, fixtures, inProcess } from './cli-harness.js';
import { expectOk, hasKcat, kafkajs, requireInstalled, run, startTestBroker, type ProcessResult, type TestBroker } from './harness.js';

requireInstalled(hasKcat, 'kcat');

const dir = mkdtempSync(join(tmpdir(), 'brook-cli-topics-'));

let tb: TestBroker;
let kafka: Kafka;
let admin: Admin;
let node: number;

beforeAll(async () => {
  // The gateway is not needed by the commands under test.
  tb = await startTestBroker({ properties: { 'ws.enabled': false } });
  node = tb.broker.config.nodeId;
  kafka = kafkajs(tb.bootstrap, { retry: { retries: 0 } });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
  await tb?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `brook topics ...` from the sources (as test/integration/cli.test.ts does), bootstrap from the flag unless `env` says otherwise. */
function topics(args: string[], opts: { env?: NodeJS.ProcessEnv; bootstrap?: boolean } = {}): Promise<ProcessResult> {
  const boot = opts.bootstrap === false ? [] : ['--bootstrap-server', tb.bootstrap];
  return brookFromSources(['topics', ...args, ...boot], { timeoutMs: 60_000, env: opts.env });
}

/** The fixture as an exact pattern: placeholders become their value (or the topic-id shape). */
function fixture(name: string): RegExp {
  const text = readFileSync(join(fixtures, name), 'utf8');
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replaceAll('\\{\\{TOPIC_ID\\}\\}', '[A-Za-z0-9_-]{22}').replaceAll('\\{\\{BROKER\\}\\}', String(node))}$`);
}

/** A failure: exit 1 and exactly one line on stderr, no stack trace, nothing on stdout. */
const { expectFailure, expectUsage } = errorChecks('topics', { failure: { emptyStdout: true } });

interface KcatMetadata {
  topics: { topic: string; partitions: { partition: number; leader: number; replicas: { id: number }[]; isrs: { id: number }[] }[] }[];
}

async function kcatMetadata(topic: string): Promise<KcatMetadata> {
  const r = expectOk(await run('kcat', ['-L', '-J', '-b', tb.bootstrap, '-t', topic], { timeoutMs: 20_000 }), 'kcat -L');
  return JSON.parse(r.stdout) as KcatMetadata;
}

// Each command is a process started through tsx: seconds each on a loaded machine.
describe('brook topics', { timeout: 120_000 }, () => {
  it('prints its help with exit 0, and brook --help lists it', async () => {
    const r = await topics(['--help'], { bootstrap: false });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: brook topics --create\|--list\|--describe\|--alter\|--delete/);
    for (const flag of ['--topic', '--partitions', '--replication-factor', '--config', '--if-not-exists', '--under-replicated-partitions', '--bootstrap-server', '--command-config', '--json']) {
      expect(r.stdout).toContain(flag);
    }
    const top = await brookFromSources(['--help'], { timeoutMs: 30_000 });
    expect(top.stdout).toMatch(/^ {2}topics {7}Create, list, describe/m);
  });

  it('creates a topic with partitions and configs; kcat and kafkajs see it; --describe prints Kafka\'s lines', async () => {
    const r = await topics(['--create', '--topic', 'cli-fixture', '--partitions', '3', '--config', 'cleanup.policy=compact', '--config', 'retention.ms = 86400000']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(fixture('topics-create.txt'));

    const md = await kcatMetadata('cli-fixture');
    expect(md.topics).toHaveLength(1);
    expect(md.topics[0]!.partitions.map((p) => p.partition).sort()).toEqual([0, 1, 2]);
    const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: 'cli-fixture' }] });
    const cfg = new Map(resources[0]!.configEntries.map((c) => [c.configName, c.configValue]));
    expect(cfg.get('cleanup.policy')).toBe('compact');
    expect(cfg.get('retention.ms')).toBe('86400000');

    const d = await topics(['--describe', '--topic', 'cli-fixture']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(fixture('topics-describe.txt'));
    // The summary line's id is the topic's id (Kafka's base64url form of the UUID in Metadata v10+).
    const json = JSON.parse((await topics(['--describe', '--topic', 'cli-fixture', '--json'])).stdout) as { topicId: string }[];
    expect(d.stdout).toContain(`TopicId: ${json[0]!.topicId}\t`);
  });

  it('prints an empty Configs field for a topic without overrides', async () => {
    expectOk(await topics(['--create', '--topic', 'cli-plain']), 'create');
    const d = await topics(['--describe', '--topic', 'cli-plain']);
    expect(d.stdout).toMatch(fixture('topics-describe-no-configs.txt'));
  });

  it('describes a topic kafkajs created, text and --json agreeing with kafkajs metadata', async () => {
    await admin.createTopics({ topics: [{ topic: 'cli-by-kafkajs', numPartitions: 4, replicationFactor: 1, configEntries: [{ name: 'segment.bytes', value: '1048576' }] }] });
    const kmd = await admin.fetchTopicMetadata({ topics: ['cli-by-kafkajs'] });
    const r = await topics(['--describe', '--topic', 'cli-by-kafkajs', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [view] = JSON.parse(r.stdout) as { topic: string; partitionCount: number; replicationFactor: number; configs: Record<string, string>; partitions: { partition: number; leader: number; replicas: number[]; isr: number[] }[] }[];
    expect(view).toMatchObject({ topic: 'cli-by-kafkajs', partitionCount: 4, replicationFactor: 1, configs: { 'segment.bytes': '1048576' } });
    const expected = kmd.topics[0]!.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr })).sort((a, b) => a.partition - b.partition);
    expect(view!.partitions.map(({ partition, leader, replicas, isr }) => ({ partition, leader, replicas, isr }))).toEqual(expected);

    const text = (await topics(['--describe', '--topic', 'cli-by-kafkajs'])).stdout.split('\n');
    expect(text[0]).toMatch(/^Topic: cli-by-kafkajs\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 4\tReplicationFactor: 1\tConfigs: segment\.bytes=1048576$/);
    expect(text.slice(1, 5)).toEqual(expected.map((p) => `\tTopic: cli-by-kafkajs\tPartition: ${p.partition}\tLeader: ${p.leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}\tElr: N/A\tLastKnownElr: N/A`));
  });

  it('describes a topic kcat created by producing to it (auto-creation)', async () => {
    expectOk(await run('kcat', ['-P', '-b', tb.bootstrap, '-t', 'cli-by-kcat'], { input: 'one\ntwo\n', timeoutMs: 20_000 }), 'kcat -P');
    const r = await topics(['--describe', '--topic', 'cli-by-kcat']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Topic: cli-by-kcat\\tTopicId: [A-Za-z0-9_-]{22}\\tPartitionCount: ${tb.broker.config.numPartitions}\\tReplicationFactor: 1\\tConfigs: \\n`));
  });

  it('lists every topic sorted, like kafkajs; --exclude-internal, a regex --topic and --json', async () => {
    const all = (await admin.listTopics()).sort();
    const r = await topics(['--list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(all.map((t) => `${t}\n`).join(''));

    const md = await admin.fetchTopicMetadata({ topics: [] });
    const internal = new Set(md.topics.filter((t) => t.name.startsWith('__')).map((t) => t.name));
    const ex = await topics(['--list', '--exclude-internal']);
    expect(ex.stdout).toBe(all.filter((t) => !internal.has(t)).map((t) => `${t}\n`).join(''));

    const re = await topics(['--list', '--topic', 'cli-by-.*']);
    expect(re.stdout).toBe('cli-by-kafkajs\ncli-by-kcat\n');
    // Commas mean "or", and the expression matches the whole name.
    expect((await topics(['--list', '--topic', 'cli-plain,cli-fix'])).stdout).toBe('cli-plain\n');
    expect(JSON.parse((await topics(['--list', '--topic', 'cli-by-.*', '--json'])).stdout)).toEqual(['cli-by-kafkajs', 'cli-by-kcat']);
  });

  it('shows only topics with overrides, and only under-replicated partitions (none on one broker)', async () => {
    const o = await topics(['--describe', '--topic', 'cli-fixture,cli-plain', '--topics-with-overrides']);
    expect(o.stdout).toMatch(fixture('topics-describe-overrides.txt'));
    const u = await topics(['--describe', '--under-replicated-partitions']);
    expect(u.code, u.stderr).toBe(0);
    expect(u.stdout).toBe('');
  });

  it('refuses to create an existing topic with TOPIC_ALREADY_EXISTS, unless --if-not-exists', async () => {
    expectFailure(await topics(['--create', '--topic', 'cli-fixture']), /^brook topics: cannot create topic cli-fixture: TOPIC_ALREADY_EXISTS/);
    const r = await topics(['--create', '--topic', 'cli-fixture', '--if-not-exists']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('passes the broker\'s refusals on with the Kafka error name', async () => {
    expectFailure(await topics(['--create', '--topic', 'cli-rf3', '--replication-factor', '3']), /cannot create topic cli-rf3: INVALID_REPLICATION_FACTOR/);
    expectFailure(await topics(['--create', '--topic', 'cli-badcfg', '--config', 'retention.ms=soon']), /cannot create topic cli-badcfg: INVALID_CONFIG/);
    expectFailure(await topics(['--create', '--topic', 'bad/name']), /cannot create topic bad\/name: INVALID_TOPIC_EXCEPTION/);
  });

  it('grows a topic with --alter --partitions; a smaller count fails with INVALID_PARTITIONS', async () => {
    const r = await topics(['--alter', '--topic', 'cli-plain', '--partitions', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const md = await admin.fetchTopicMetadata({ topics: ['cli-plain'] });
    expect(md.topics[0]!.partitions).toHaveLength(3);
    expectFailure(await topics(['--alter', '--topic', 'cli-plain', '--partitions', '2']), /^brook topics: cannot add partitions to topic cli-plain: INVALID_PARTITIONS/);
  });

  it('fails on an unknown topic with one line, unless --if-exists', async () => {
    const actions = [['--describe'], ['--delete'], ['--alter', '--partitions', '2']];
    const failed = await Promise.all(actions.map((action) => topics([...action, '--topic', 'cli-nope'])));
    for (const r of failed) expectFailure(r, /^brook topics: Topic 'cli-nope' does not exist as expected$/m);
    const skipped = await Promise.all(actions.map((action) => topics([...action, '--topic', 'cli-nope', '--if-exists'])));
    for (const r of skipped) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('');
    }
  });

  it('deletes a topic brook created and one kafkajs created', async () => {
    for (const t of ['cli-plain', 'cli-by-kafkajs']) {
      const r = await topics(['--delete', '--topic', t]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('');
    }
    const left = await admin.listTopics();
    expect(left).not.toContain('cli-plain');
    expect(left).not.toContain('cli-by-kafkajs');
    expect(left).toContain('cli-fixture');
  });

  it('refuses bad flags with exit 2 before connecting', async () => {
    const cases: [string[], RegExp][] = [
      [[], /exactly one action/],
      [['--list', '--describe'], /exactly one action/],
      [['--create'], /--create needs --topic/],
      [['--create', '--topic', 'x', '--partitions', 'many'], /--partitions expects an integer, got "many"/],
      [['--create', '--topic', 'x', '--partitions', '0'], /--partitions must be between 1 and/],
      [['--alter', '--topic', 'x', '--partitions', '2', '--config', 'a=b'], /--config cannot be used with --alter \(topic configs are changed with brook configs/],
      [['--alter', '--topic', 'x'], /--alter needs --partitions/],
      [['--create', '--topic', 'x', '--config', 'novalue'], /--config expects key=value, got "novalue"/],
      [['--create', '--topic', 'x', '--json'], /--json cannot be used with --create/],
      [['--list', '--topic', 'a('], /--topic "a\(" is not a valid regular expression/],
      [['--list', '--frobnicate'], /unknown option --frobnicate/],
      [['--list', '--bootstrap-server', 'nohost'], /bootstrap server "nohost" is not host:port/],
    ];
    for (const [args, pattern] of cases) expectUsage(await inProcess(topicsCommand, args, tb.bootstrap), pattern);
    // And as a process: exit code 2.
    expectUsage(await topics(cases[0]![0]), cases[0]![1]);
  });

  it('fails within about --timeout-ms when no broker is reachable', async () => {
    // A refused port (retried until the deadline) and an address nobody answers (connect times out).
    const timed = (server: string) => {
      const started = Date.now();
      return topics(['--list', '--bootstrap-server', server, '--timeout-ms', '1000'], { bootstrap: false }).then((r) => ({ r, elapsed: Date.now() - started }));
    };
    const results = await Promise.all([timed('127.0.0.1:1'), timed('10.255.255.1:9092')]);
    for (const [i, server] of ['127\\.0\\.0\\.1:1', '10\\.255\\.255\\.1:9092'].entries()) {
      const { r, elapsed } = results[i]!;
      expectFailure(r, new RegExp(`^brook topics: no broker reachable at ${server} within 1000 ms`));
      // Process start-up (tsx compiling the sources) included; without the flag it would be 30 s.
      expect(elapsed).toBeGreaterThanOrEqual(1000);
      expect(elapsed).toBeLessThan(15_000);
    }
  });

  it('takes the bootstrap server from BROOK_BOOTSTRAP_SERVER', async () => {
    const r = await topics(['--list', '--topic', 'cli-fixture'], { bootstrap: false, env: { BROOK_BOOTSTRAP_SERVER: tb.bootstrap } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('cli-fixture\n');
    // The flag wins over the environment.
    const f = await topics(['--list', '--topic', 'cli-fixture'], { env: { BROOK_BOOTSTRAP_SERVER: '127.0.0.1:1' } });
    expect(f.stdout).toBe('cli-fixture\n');
  });

  it('sends the client.id of --command-config (seen by a proxy in front of the broker)', async () => {
    const seen: string[] = [];
    const proxy = await clientIdProxy(tb.broker.port, seen);
    try {
      const file = join(dir, 'client.properties');
      writeFileSync(file, '# client properties\nclient.id=brook-topics-test\nrequest.timeout.ms=5000\n');
      const port = (proxy.address() as { port: number }).port;
      const r = await topics(['--list', '--topic', 'cli-fixture', '--command-config', file, '--bootstrap-server', `127.0.0.1:${port}`], { bootstrap: false });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('cli-fixture\n');
      expect(seen.length).toBeGreaterThan(0);
      expect(new Set(seen)).toEqual(new Set(['brook-topics-test']));
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
    expectUsage(await topics(['--list', '--command-config', join(dir, 'missing.properties')]), /cannot read --command-config .*missing\.properties: ENOENT/);
  });
});

/**
 * A TCP proxy to the broker that records the client_id of every request. Request header (v1 and
 * v2 alike up to client_id): INT32 size, INT16 api_key, INT16 api_version, INT32 correlation_id,
 * INT16 client_id length, client_id bytes.
 */
async function clientIdProxy(brokerPort: number, seen: string[]): Promise<Server> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(brokerPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = pending.subarray(4, 4 + pending.readInt32BE(0));
        const len = frame.readInt16BE(8);
        seen.push(len < 0 ? '' : frame.toString('utf8', 10, 10 + len));
        pending = pending.subarray(4 + frame.length);
      }
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
