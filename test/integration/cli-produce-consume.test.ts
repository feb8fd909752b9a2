/**
 * `brook consume` (kafka-console-consumer.sh) as a child process of the built CLI (bin/brook.js, so
 * `npm run build:ts` first) against a real broker; what it prints is cross-checked with kcat and
 * kafkajs writing the records, and with kcat reading them. Console output is compared with fixtures
 * (test/fixtures/cli/console-*.txt) written from Kafka's DefaultMessageFormatter (timestamp,
 * partition, offset, headers, key, value joined by key.separator; `NO_HEADERS`; null.literal) and
 * kcat's `-f` tokens; the records have fixed timestamps, so the fixtures have no placeholders.
 * Groups: two members share a topic without duplicates and their commits are what kafkajs reads.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, brook, errorChecks, fixtures, requireBuilt, spawnBrook } from './cli-harness.js';
import { expectOk, GROUP_TEST_PROPERTIES, hasKcat, kafkajs, requireInstalled, run, startTestBroker, until, type ProcessResult, type TestBroker } from './harness.js';

requireInstalled(hasKcat, 'kcat');

let tb: TestBroker;
let kafka: Kafka;
let admin: Admin;
let scratch: string;

beforeAll(async () => {
  requireBuilt('consume');
  scratch = mkdtempSync(join(tmpdir(), 'brook-cli-consume-'));
  tb = await startTestBroker({ properties: { ...GROUP_TEST_PROPERTIES, 'ws.enabled': false, 'auto.create.topics.enable': false } });
  kafka = kafkajs(tb.bootstrap, { retry: { retries: 2 } });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: 'fmt', numPartitions: 1 },
      { topic: 'kc', numPartitions: 1 },
      { topic: 'many', numPartitions: 1 },
      { topic: 'shared', numPartitions: 4 },
      { topic: 'appendtime', numPartitions: 1, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] },
      { topic: 'empty', numPartitions: 2 },
    ],
  });
  // The fixtures' records: fixed timestamps, a null key, a null value, UTF-8 beyond ASCII.
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: 'fmt',
    messages: [
      { key: 'k1', value: 'v1', headers: { h1: 'x', h2: 'y' }, timestamp: '1700000000000' },
      { key: null, value: 'nokey', timestamp: '1700000000001' },
      { key: 'k3', value: null, headers: { h3: 'z' }, timestamp: '1700000000002' },
      { key: 'ключ', value: 'значение', timestamp: '1700000000003' },
    ],
  });
  await producer.disconnect();
  const lines = Array.from({ length: 50_000 }, (_, i) => String(i + 1)).join('\n') + '\n';
  expectOk(await run('kcat', ['-P', '-b', tb.bootstrap, '-t', 'many'], { input: lines, timeoutMs: 60_000 }), 'kcat -P many');
}, 120_000);

afterAll(async () => {
  await admin?.disconnect();
  await tb?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** `brook consume` of a topic from the beginning, exiting after 1.5 s without records. */
function consume(topic: string, ...args: string[]): Promise<ProcessResult> {
  return brook(['consume', '--bootstrap-server', tb.bootstrap, '--topic', topic, ...args]);
}

function fixture(name: string): string {
  return readFileSync(join(fixtures, name), 'utf8');
}

/** A run that printed records: exit 0 and Kafka's closing line on stderr (and nothing else there). */
function expectProcessed(r: ProcessResult, n: number): void {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe(`Processed a total of ${n} messages\n`);
}

/** Errors: exit 1 with exactly one line on stderr, or exit 2 pointing to the help; nothing on stdout, no stack trace. */
const { expectFailure, expectUsage } = errorChecks('consume', { failure: { emptyStdout: true }, usage: { emptyStdout: true } });

// Each command is a Node process start (about half a second, more on a loaded machine).
describe('brook consume', { timeout: 120_000 }, () => {
  it('prints its help (and brook produce its own) with exit 0', async () => {
    const c = await brook(['consume', '--help']);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^Usage: brook consume --topic <topic>/);
    for (const flag of ['--from-beginning', '--group', '--partition', '--offset', '--max-messages', '--timeout-ms', '--property', '--format', '--json', '--bootstrap-server', '--command-config']) {
      expect(c.stdout).toContain(flag);
    }
    const p = await brook(['produce', '-h']);
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/^Usage: brook produce --topic <topic>/);
    for (const flag of ['--property', '--compression-codec', '--producer-property', '--partition', '--bootstrap-server', '--command-config']) expect(p.stdout).toContain(flag);
  });

  it("prints kafkajs's records as Kafka's DefaultMessageFormatter does, for each print.* property", async () => {
    const all = ['print.timestamp', 'print.partition', 'print.offset', 'print.headers', 'print.key'].flatMap((p) => ['--property', `${p}=true`]);
    const [plain, full, seps, keyOnly] = await Promise.all([
      consume('fmt', '--from-beginning', '--timeout-ms', '1500'),
      consume('fmt', '--from-beginning', '--timeout-ms', '1500', ...all),
      consume('fmt', '--from-beginning', '--timeout-ms', '1500', '--property', 'print.key=true', '--property', 'print.headers=true', '--property', 'key.separator= | ', '--property', 'headers.separator=;', '--property', 'headers.key.separator==', '--property', 'null.literal=<null>'),
      consume('fmt', '--from-beginning', '--timeout-ms', '1500', '--property', 'print.offset=true', '--property', 'print.key=true', '--property', 'print.value=false'),
    ]);
    expect(plain.stdout).toBe(fixture('console-default.txt'));
    expectProcessed(plain, 4);
    expect(full.stdout).toBe(fixture('console-print-all.txt'));
    expectProcessed(full, 4);
    expect(seps.stdout).toBe(fixture('console-separators.txt'));
    expect(keyOnly.stdout).toBe(fixture('console-key-no-value.txt'));

    // Each property alone: its column of the full line, then the value.
    const columns = full.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
    const single = await Promise.all(['print.timestamp', 'print.partition', 'print.offset', 'print.headers', 'print.key'].map((p) => consume('fmt', '--from-beginning', '--timeout-ms', '1500', '--property', `${p}=true`)));
    single.forEach((r, col) => {
      expectProcessed(r, 4);
      expect(r.stdout).toBe(columns.map((c) => `${c[col]}\t${c[5]}\n`).join(''));
    });
  });

  it("prints kcat's --format tokens exactly as kcat -f prints the same records", async () => {
    const format = '%t %p %o %T [%k] [%s] %K %S {%h} 100%%\\n';
    const r = await consume('fmt', '--from-beginning', '--timeout-ms', '1500', '--format', format);
    expectProcessed(r, 4);
    expect(r.stdout).toBe(fixture('console-format-kcat.txt'));
    const k = expectOk(await run('kcat', ['-C', '-b', tb.bootstrap, '-t', 'fmt', '-o', 'beginning', '-e', '-q', '-f', format]), 'kcat -C');
    expect(r.stdout).toBe(k.stdout);
  });

  it('reads what kcat wrote with a key and headers (-K: -H), through each print.* property and --format', async () => {
    expectOk(await run('kcat', ['-P', '-b', tb.bootstrap, '-t', 'kc', '-K:', '-H', 'trace=abc', '-H', 'env=prod'], { input: 'user1:login\nuser2:logout\n' }), 'kcat -P -K:');
    expectOk(await run('kcat', ['-P', '-b', tb.bootstrap, '-t', 'kc'], { input: 'plain\n' }), 'kcat -P');
    const ts = expectOk(await run('kcat', ['-C', '-b', tb.bootstrap, '-t', 'kc', '-o', 'beginning', '-e', '-q', '-f', '%T\n']), 'kcat -C %T').stdout.trimEnd().split('\n');
    expect(ts).toHaveLength(3);
    const all = ['print.timestamp', 'print.partition', 'print.offset', 'print.headers', 'print.key'].flatMap((p) => ['--property', `${p}=true`]);
    const [full, fmt] = await Promise.all([
      consume('kc', '--from-beginning', '--timeout-ms', '1500', ...all),
      consume('kc', '--from-beginning', '--timeout-ms', '1500', '--format', '%k=%s@%p:%o|%h|%T\\n'),
    ]);
    expectProcessed(full, 3);
    expect(full.stdout).toBe(
      [
        `CreateTime:${ts[0]}\tPartition:0\tOffset:0\ttrace:abc,env:prod\tuser1\tlogin`,
        `CreateTime:${ts[1]}\tPartition:0\tOffset:1\ttrace:abc,env:prod\tuser2\tlogout`,
        `CreateTime:${ts[2]}\tPartition:0\tOffset:2\tNO_HEADERS\tnull\tplain`,
        '',
      ].join('\n'),
    );
    expectProcessed(fmt, 3);
    expect(fmt.stdout).toBe(`user1=login@0:0|trace=abc,env=prod|${ts[0]}\nuser2=logout@0:1|trace=abc,env=prod|${ts[1]}\n=plain@0:2||${ts[2]}\n`);
  });

  it('prints LogAppendTime for a topic that stamps records on append', async () => {
    const before = Date.now();
    expectOk(await run('kcat', ['-P', '-b', tb.bootstrap, '-t', 'appendtime'], { input: 'a\n' }), 'kcat -P');
    const r = await consume('appendtime', '--from-beginning', '--timeout-ms', '1500', '--property', 'print.timestamp=true');
    expectProcessed(r, 1);
    const m = /^LogAppendTime:(\d+)\ta\n$/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(before - 1000);
  });

  it('--json: one object per line, UTF-8 text as strings, other bytes as base64, nulls as null', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await admin.createTopics({ topics: [{ topic: 'json', numPartitions: 1 }] });
    const binary = Buffer.from([0xff, 0x00, 0xfe, 0x80]);
    await producer.send({
      topic: 'json',
      messages: [
        { key: 'ключ', value: 'значение ✓', headers: { h: 'v', bin: binary }, timestamp: '1700000000000' },
        { key: binary, value: null, timestamp: '1700000000001' },
      ],
    });
    await producer.disconnect();
    const r = await consume('json', '--from-beginning', '--timeout-ms', '1500', '--json');
    expectProcessed(r, 2);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      { topic: 'json', partition: 0, offset: 0, timestamp: 1700000000000, timestampType: 'CreateTime', key: 'ключ', value: 'значение ✓', headers: [{ key: 'h', value: 'v' }, { key: 'bin', value: { base64: binary.toString('base64') } }] },
      { topic: 'json', partition: 0, offset: 1, timestamp: 1700000000001, timestampType: 'CreateTime', key: { base64: binary.toString('base64') }, value: null, headers: [] },
    ]);
  });

  it('--partition with --offset N, earliest and latest; --max-messages ends with the count on stderr', async () => {
    const [n, earliest, latest, max, maxAll] = await Promise.all([
      consume('many', '--partition', '0', '--offset', '49997', '--timeout-ms', '1500'),
      consume('many', '--partition', '0', '--offset', 'earliest', '--max-messages', '2'),
      consume('many', '--partition', '0', '--offset', 'latest', '--timeout-ms', '1500'),
      consume('many', '--from-beginning', '--max-messages', '5'),
      consume('fmt', '--from-beginning', '--max-messages', '0'),
    ]);
    expect(n.stdout).toBe('49998\n49999\n50000\n');
    expectProcessed(n, 3);
    expect(earliest.stdout).toBe('1\n2\n');
    expectProcessed(earliest, 2);
    expect(latest.stdout).toBe('');
    expectProcessed(latest, 0);
    expect(max.stdout).toBe('1\n2\n3\n4\n5\n');
    expectProcessed(max, 5);
    expect(maxAll.stdout).toBe('');
    expectProcessed(maxAll, 0);
  });

  it('--timeout-ms ends an idle run (no records at all) with exit 0', async () => {
    const started = Date.now();
    const r = await consume('empty', '--timeout-ms', '1000');
    expectProcessed(r, 0);
    expect(r.stdout).toBe('');
    expect(Date.now() - started).toBeLessThan(25_000);
  });

  it('exits promptly and cleanly when the reader goes away (| head -n 3: EPIPE)', async () => {
    const script = `"${process.execPath}" "${bin}" consume --bootstrap-server ${tb.bootstrap} --topic many --from-beginning | head -n 3; echo "brook exit \${PIPESTATUS[0]}" >&2`;
    const r = await run('bash', ['-c', script], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('1\n2\n3\n');
    expect(r.stderr).toMatch(/^Processed a total of \d+ messages\nbrook exit 0\n$/);
  });

  it('SIGINT ends the run with exit 0 and the total of what it printed', async () => {
    const { child, r: io, done: exited } = spawnBrook(['consume', '--bootstrap-server', tb.bootstrap, '--topic', 'many', '--from-beginning'], 'ignore');
    try {
      await until('records printed', () => io.out.split('\n').length > 1000);
      await until('the whole topic printed', () => io.out.endsWith('\n50000\n'));
      child.kill('SIGINT');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('no exit within 10 s'), 10_000))]);
      expect(code, io.err).toBe(0);
      expect(io.err).toBe('Processed a total of 50000 messages\n');
      expect(io.out.split('\n').length - 1).toBe(50_000);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('--group: two members share a 4-partition topic without duplicates, commit, and the group resumes after its commit', async () => {
    const group = 'cli-shared';
    const start = () => {
      const { child, r, done } = spawnBrook(['consume', '--bootstrap-server', tb.bootstrap, '--topic', 'shared', '--group', group, '--from-beginning', '--timeout-ms', '6000', '--consumer-property', 'heartbeat.interval.ms=500'], 'ignore');
      return { child, done: done.then((code) => ({ ...r, code })) };
    };
    const a = start();
    const b = start();
    try {
      // Records go in once both members hold their share, so neither reads the other's partitions.
      await until(
        'two members in a stable group',
        async () => {
          const g = (await admin.describeGroups([group])).groups[0]!;
          return g.state === 'Stable' && g.members.length === 2 && g.members.every((m) => m.memberAssignment.length > 0);
        },
        30_000,
      );
      const messages = Array.from({ length: 400 }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` }));
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: 'shared', messages });
      await producer.disconnect();
      const [ra, rb] = await Promise.all([a.done, b.done]);
      expect(ra.code, ra.err).toBe(0);
      expect(rb.code, rb.err).toBe(0);
      const la = ra.out.trimEnd().split('\n').filter(Boolean);
      const lb = rb.out.trimEnd().split('\n').filter(Boolean);
      expect(la.length).toBeGreaterThan(0);
      expect(lb.length).toBeGreaterThan(0);
      expect(la.length + lb.length).toBe(400);
      expect(new Set([...la, ...lb]).size).toBe(400);
      expect(ra.err).toBe(`Processed a total of ${la.length} messages\n`);
      expect(rb.err).toBe(`Processed a total of ${lb.length} messages\n`);
    } finally {
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
    }
    // The commits on exit are each partition's end.
    const ends = await admin.fetchTopicOffsets('shared');
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: ['shared'] });
    const byPartition = new Map(committed!.partitions.map((p) => [p.partition, p.offset]));
    for (const e of ends) expect(byPartition.get(e.partition), `partition ${e.partition}`).toBe(e.offset);

    // A later run of the group starts after the commit: only the new records.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'shared', messages: Array.from({ length: 40 }, (_, i) => ({ key: `later-${i}`, value: `later-${i}` })) });
    await producer.disconnect();
    const again = await consume('shared', '--group', group, '--from-beginning', '--timeout-ms', '2000');
    expectProcessed(again, 40);
    expect(again.stdout.trimEnd().split('\n').sort()).toEqual(Array.from({ length: 40 }, (_, i) => `later-${i}`).sort());
  });

  it('--group: when one member leaves (SIGINT), the other takes over its partitions from the committed offsets', async () => {
    await admin.createTopics({ topics: [{ topic: 'handover', numPartitions: 4 }] });
    const group = 'cli-handover';
    const start = (...extra: string[]) => {
      return spawnBrook(['consume', '--bootstrap-server', tb.bootstrap, '--topic', 'handover', '--group', group, '--from-beginning', '--consumer-property', 'heartbeat.interval.ms=300', '--property', 'print.partition=true', '--property', 'print.offset=true', ...extra], 'ignore');
    };
    const lines = (s: string) => s.split('\n').filter(Boolean);
    const members = async () => {
      const g = (await admin.describeGroups([group])).groups[0]!;
      return g.state === 'Stable' && g.members.every((m) => m.memberAssignment.length > 0) ? g.members.length : -1;
    };
    const send = async (from: number) => {
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: 'handover', messages: Array.from({ length: 100 }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}` })) });
      await producer.disconnect();
    };
    const a = start('--timeout-ms', '8000');
    const b = start();
    try {
      await until('two members', async () => (await members()) === 2, 30_000);
      await send(0);
      await until('the first 100 printed', () => lines(a.r.out).length + lines(b.r.out).length === 100, 20_000);
      expect(lines(b.r.out).length).toBeGreaterThan(0);
      b.child.kill('SIGINT');
      expect(await b.done, b.r.err).toBe(0);
      expect(b.r.err).toBe(`Processed a total of ${lines(b.r.out).length} messages\n`);
      await until('one member left', async () => (await members()) === 1, 30_000);
      await send(100);
      expect(await a.done, a.r.err).toBe(0);
      const all = [...lines(a.r.out), ...lines(b.r.out)];
      expect(all, `a:\n${a.r.out}\nb:\n${b.r.out}`).toHaveLength(200);
      expect(new Set(all).size).toBe(200);
      // Everything sent after b left went to a.
      expect(lines(a.r.out).filter((l) => Number(l.split('\t')[2]!.slice(1)) >= 100)).toHaveLength(100);
    } finally {
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
    }
  });

  it('--group with --max-messages commits exactly the printed records; SIGINT in a group commits its position', async () => {
    const committed = async (groupId: string) => (await admin.fetchOffsets({ groupId, topics: ['many'] }))[0]!.partitions.find((p) => p.partition === 0)!.offset;
    const first = await consume('many', '--group', 'g-max', '--from-beginning', '--max-messages', '3');
    expect(first.stdout).toBe('1\n2\n3\n');
    expectProcessed(first, 3);
    expect(await committed('g-max')).toBe('3');
    const second = await consume('many', '--group', 'g-max', '--from-beginning', '--max-messages', '2');
    expect(second.stdout).toBe('4\n5\n');
    expectProcessed(second, 2);
    expect(await committed('g-max')).toBe('5');

    const { child, r: io, done: exited } = spawnBrook(['consume', '--bootstrap-server', tb.bootstrap, '--topic', 'many', '--group', 'g-int', '--from-beginning'], 'ignore');
    try {
      await until('the whole topic printed', () => io.out.endsWith('\n50000\n'));
      child.kill('SIGINT');
      expect(await exited, io.err).toBe(0);
      expect(io.err).toBe('Processed a total of 50000 messages\n');
      expect(await committed('g-int')).toBe('50000');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('--command-config supplies bootstrap.servers and client settings', async () => {
    const file = join(scratch, 'client.properties');
    writeFileSync(file, `# a Kafka client properties file\nbootstrap.servers=${tb.bootstrap}\nclient.id=brook-test\nrequest.timeout.ms=10000\n`);
    const r = await brook(['consume', '--command-config', file, '--topic', 'fmt', '--partition', '0', '--offset', '0', '--max-messages', '1']);
    expect(r.stdout).toBe('v1\n');
    expectProcessed(r, 1);
    expectUsage(await brook(['consume', '--command-config', join(scratch, 'missing.properties'), '--topic', 'fmt']), /cannot read --command-config .*missing\.properties: ENOENT/);
  });

  it('a group id the broker refuses: exit 1, one line with the Kafka error name', async () => {
    expectFailure(await consume('fmt', '--group', '', '--timeout-ms', '3000'), /INVALID_GROUP_ID/);
  });

  it('unknown topic: exit 1, one line naming UNKNOWN_TOPIC_OR_PARTITION', async () => {
    expectFailure(await consume('no-such-topic', '--timeout-ms', '3000'), /^brook consume: topic no-such-topic: UNKNOWN_TOPIC_OR_PARTITION\n$/);
    expectFailure(await consume('no-such-topic', '--group', 'g-unknown', '--timeout-ms', '3000'), /UNKNOWN_TOPIC_OR_PARTITION/);
    expectFailure(await consume('fmt', '--partition', '7', '--timeout-ms', '3000'), /^brook consume: topic fmt has no partition 7 \(it has 1\)\n$/);
  });

  it('bad flags and values: exit 2 with the problem named', async () => {
    const cases: [string[], RegExp][] = [
      [['--bogus'], /unknown option --bogus/],
      [['--max-messages', 'ten'], /--max-messages expects a non-negative integer, got "ten"/],
      [['--partition', '0', '--offset', 'middle'], /--offset expects a non-negative integer, got "middle"/],
      [['--offset', '3'], /--offset needs --partition/],
      [['--group', 'g', '--partition', '0'], /--group and --partition cannot be used together/],
      [['--format', '%x'], /unknown token %x/],
      [['--property', 'print.key=yes'], /print\.key must be true or false, got "yes"/],
      [['--property', 'print.key'], /--property expects key=value, got "print\.key"/],
      [['--consumer-property', 'auto.offset.reset=never'], /auto\.offset\.reset must be earliest or latest/],
      [['--bootstrap-server', 'nohostport'], /not host:port/],
    ];
    const results = await Promise.all(cases.map(([args]) => brook(['consume', '--topic', 'fmt', ...args])));
    results.forEach((r, i) => expectUsage(r, cases[i]![1]));
    expectUsage(await brook(['consume']), /--topic is required/);
    expectUsage(await brook(['consume', '--topic']), /--topic needs a value <topic>/);
  });

  it('an unreachable broker: exit 1 with one clear line within the timeout', async () => {
    const started = Date.now();
    const r = await brook(['consume', '--bootstrap-server', '127.0.0.1:1', '--topic', 'fmt', '--timeout-ms', '1000']);
    const elapsed = Date.now() - started;
    expectFailure(r, /^brook consume: no broker reachable at 127\.0\.0\.1:1 within 1000 ms \(last error: .*ECONNREFUSED.*\)\n$/);
    // 1 s of retries plus a Node start; far below the 30 s default.
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(8000);
  });
});
