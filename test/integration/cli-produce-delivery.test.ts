/**
 * `brook produce` (kafka-console-producer.sh) as a child process of the built CLI (bin/brook.js, so
 * `npm run build:ts` first) against a real broker; what it writes is read back with kcat and kafkajs.
 * Line parsing as Kafka's LineMessageReader (parse.key, parse.headers), every compression codec (seen
 * in the batches on disk), acks 0/1/all, --partition, keyed records on the partitions kafkajs's
 * Java-compatible partitioner picks, a 1 MB line, CRLF, a last line without newline, empty input, a
 * fast log through `tail -F`, and delivery failures (a record over the topic's max.message.bytes, a
 * topic deleted while producing) reported with Kafka's error name and exit 1.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners, type Admin, type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBatches } from '../../src/native/records.js';
import { brook, errorChecks, requireBuilt, spawnBrook } from './cli-harness.js';
import { expectOk, hasKcat, kafkajs, requireInstalled, run, spawnBroker, startTestBroker, until, type ProcessResult, type TestBroker } from './harness.js';

requireInstalled(hasKcat, 'kcat');

let tb: TestBroker;
let kafka: Kafka;
let admin: Admin;
let scratch: string;

beforeAll(async () => {
  requireBuilt('produce');
  scratch = mkdtempSync(join(tmpdir(), 'brook-cli-produce-'));
  // No auto-creation: a Produce to a deleted topic must fail, not bring the topic back.
  tb = await startTestBroker({ properties: { 'ws.enabled': false, 'auto.create.topics.enable': false } });
  kafka = kafkajs(tb.bootstrap, { retry: { retries: 2 } });
  admin = kafka.admin();
  await admin.connect();
}, 60_000);

afterAll(async () => {
  await admin?.disconnect();
  await tb?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function produce(topic: string, input: string | Buffer, ...args: string[]): Promise<ProcessResult> {
  return brook(['produce', '--bootstrap-server', tb.bootstrap, '--topic', topic, ...args], { input, timeoutMs: 60_000 });
}

async function createTopic(topic: string, numPartitions = 1, configs: Record<string, string> = {}): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }] });
}

/** Every record of `topic` as kcat prints it with `format`, in partition then offset order. */
async function kcatRead(topic: string, format: string, partitions = 1): Promise<string[]> {
  const lines: string[] = [];
  for (let p = 0; p < partitions; p++) {
    const r = expectOk(await run('kcat', ['-C', '-b', tb.bootstrap, '-t', topic, '-p', String(p), '-o', 'beginning', '-e', '-q', '-f', format], { timeoutMs: 60_000 }), 'kcat -C');
    lines.push(...r.stdout.split('\n').filter((l) => l !== ''));
  }
  return lines;
}

function expectOkRun(r: ProcessResult): void {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('');
}

const { expectUsage } = errorChecks('produce');

describe('brook produce', { timeout: 120_000 }, () => {
  it('parse.key with key.separator and parse.headers: kcat and kafkajs read the keys, values and headers', async () => {
    await createTopic('keyed');
    expectOkRun(await produce('keyed', 'user1:login\nuser2:logout:twice\n:empty-key\n', '--property', 'parse.key=true', '--property', 'key.separator=:', '--partition', '0'));
    expectOkRun(await produce('keyed', 'trace:abc,env:prod\tk\tv\n\tk2\tv2\nonly:h\tk3\t\n', '--property', 'parse.key=true', '--property', 'parse.headers=true', '--partition', '0'));
    expect(await kcatRead('keyed', '%k|%s|%h|%p|%K|%S\n')).toEqual([
      'user1|login||0|5|5',
      'user2|logout:twice||0|5|12',
      '|empty-key||0|0|9',
      'k|v|trace=abc,env=prod|0|1|1',
      'k2|v2||0|2|2',
      'k3||only=h|0|2|0',
    ]);
    // kafkajs reads the same records, headers as bytes.
    const consumer = kafka.consumer({ groupId: 'produce-keyed-check' });
    const seen: { key: string | undefined; value: string | undefined; headers: Record<string, string> }[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'keyed', fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push({
            key: message.key?.toString(),
            value: message.value?.toString(),
            headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
          });
        },
      });
      await until('kafkajs read 6 records', () => seen.length >= 6, 30_000);
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toEqual([
      { key: 'user1', value: 'login', headers: {} },
      { key: 'user2', value: 'logout:twice', headers: {} },
      { key: '', value: 'empty-key', headers: {} },
      { key: 'k', value: 'v', headers: { trace: 'abc', env: 'prod' } },
      { key: 'k2', value: 'v2', headers: {} },
      { key: 'k3', value: '', headers: { only: 'h' } },
    ]);
  });

  it('null.marker makes a null key, value or header value; a line without its separator fails with its number', async () => {
    await createTopic('nulls');
    expectOkRun(await produce('nulls', 'NULL:v\nk:NULL\n', '--property', 'parse.key=true', '--property', 'key.separator=:', '--property', 'null.marker=NULL'));
    expect(await kcatRead('nulls', '%K|%S|%k|%s\n')).toEqual(['-1|1||v', '1|-1|k|']);
    expectOkRun(await produce('nulls', 'h:NULL,g:x\tk\tv\n', '--property', 'parse.key=true', '--property', 'parse.headers=true', '--property', 'null.marker=NULL'));
    // brook consume --format prints these exactly as kcat -f does, a null header value included.
    const format = '%k|%s|%h|%K|%S\n';
    const byKcat = await kcatRead('nulls', format);
    expect(byKcat).toEqual(['|v||-1|1', 'k|||1|-1', 'k|v|h=NULL,g=x|1|1']);
    const byBrook = await brook(['consume', '--bootstrap-server', tb.bootstrap, '--topic', 'nulls', '--from-beginning', '--max-messages', '3', '--format', format]);
    expect(byBrook.stdout).toBe(byKcat.join('\n') + '\n');
    const r = await produce('nulls', 'a:1\nno-separator\n', '--property', 'parse.key=true', '--property', 'key.separator=:');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no key separator found on line 2: 'no-separator'/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('each compression codec: the batches on disk carry it, kcat and brook consume read the lines', async () => {
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
    const lines = (c: string) => Array.from({ length: 50 }, (_, i) => `${c}-${i}-${'x'.repeat(100)}`);
    for (const c of codecs) await createTopic(`codec-${c}`);
    const results = await Promise.all(codecs.map((c) => produce(`codec-${c}`, lines(c).join('\n') + '\n', '--compression-codec', c, '--producer-property', 'linger.ms=100')));
    results.forEach(expectOkRun);
    for (const [i, c] of codecs.entries()) {
      expect(await kcatRead(`codec-${c}`, '%s\n'), c).toEqual(lines(c));
      const dir = join(tb.dataDir, `codec-${c}-0`);
      const log = readdirSync(dir).find((f) => f.endsWith('.log'))!;
      const { batches } = decodeBatches(readFileSync(join(dir, log)));
      expect(batches.length, c).toBeGreaterThan(0);
      for (const b of batches) expect(b.codec, c).toBe(i);
      const back = await brook(['consume', '--bootstrap-server', tb.bootstrap, '--topic', `codec-${c}`, '--from-beginning', '--max-messages', '50']);
      expect(back.stdout.trimEnd().split('\n'), c).toEqual(lines(c));
    }
    // compression.type as a producer property does the same.
    await createTopic('codec-prop');
    expectOkRun(await produce('codec-prop', 'z\n', '--producer-property', 'compression.type=zstd'));
    const dir = join(tb.dataDir, 'codec-prop-0');
    const { batches } = decodeBatches(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.log'))!)));
    expect(batches.map((b) => b.codec)).toEqual([4]);
  });

  it('acks=0, 1 and all (--producer-property and --request-required-acks), and --partition', async () => {
    await createTopic('acks', 3);
    for (const [flag, value, partition] of [
      ['--producer-property', 'acks=0', '0'],
      ['--producer-property', 'acks=1', '1'],
      ['--producer-property', 'acks=all', '2'],
      ['--request-required-acks', '-1', '2'],
    ] as const) {
      expectOkRun(await produce('acks', `${value}-a\n${value}-b\n`, flag, value, '--partition', partition));
    }
    await until('the acks=0 records arrived', async () => (await admin.fetchTopicOffsets('acks')).find((p) => p.partition === 0)!.offset === '2');
    expect(await kcatRead('acks', '%p|%s\n', 3)).toEqual(['0|acks=0-a', '0|acks=0-b', '1|acks=1-a', '1|acks=1-b', '2|acks=all-a', '2|acks=all-b', '2|-1-a', '2|-1-b']);
  });

  it('keyed records land where kafkajs\'s default (murmur2, Java-compatible) partitioner puts them', async () => {
    await createTopic('murmur', 7);
    await createTopic('murmur-kafkajs', 7);
    const keys = Array.from({ length: 300 }, (_, i) => `key-${i}-${'é'.repeat(i % 3)}`);
    expectOkRun(await produce('murmur', keys.map((k) => `${k}\t${k}`).join('\n') + '\n', '--property', 'parse.key=true'));
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: 'murmur-kafkajs', messages: keys.map((k) => ({ key: k, value: k })) });
    await producer.disconnect();
    const byBrook = new Map((await kcatRead('murmur', '%k %p\n', 7)).map((l) => l.split(' ') as [string, string]));
    const byKafkajs = new Map((await kcatRead('murmur-kafkajs', '%k %p\n', 7)).map((l) => l.split(' ') as [string, string]));
    expect(byBrook.size).toBe(300);
    // The partitioner function itself too, for the same metadata.
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 7 }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
    for (const k of keys) {
      expect(byBrook.get(k), k).toBe(byKafkajs.get(k));
      expect(Number(byBrook.get(k)), k).toBe(partitioner({ topic: 'murmur', partitionMetadata, message: { key: k, value: k } }));
    }
    // All partitions are used (the keys are not all hashed to one).
    expect(new Set(byBrook.values()).size).toBe(7);
  });

  it('batches by linger.ms and batch.size: lines trickling in share one batch within the linger, a small batch.size splits', async () => {
    /** Records per batch in the partition's log on disk. */
    const batchCounts = (topic: string) => {
      const dir = join(tb.dataDir, `${topic}-0`);
      return decodeBatches(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.log'))!))).batches.map((b) => b.recordsCount);
    };
    /** Ten lines into a running `brook produce`, each after `before(i)` resolves. */
    const trickle = async (topic: string, before: (i: number) => Promise<unknown>, ...args: string[]) => {
      const { child, r: io, done: exited } = spawnBrook(['produce', '--bootstrap-server', tb.bootstrap, '--topic', topic, ...args], 'pipe');
      try {
        for (let i = 0; i < 10; i++) {
          await before(i);
          child.stdin.write(`line-${i}\n`);
        }
        child.stdin.end();
        expect(await exited, io.err).toBe(0);
      } finally {
        child.kill('SIGKILL');
      }
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const end = async (topic: string) => Number((await admin.fetchTopicOffsets(topic))[0]!.offset);
    await createTopic('linger-long');
    await createTopic('linger-zero');
    await createTopic('small-batches');
    // Lines 100 ms apart, well within a 5 s linger: one batch.
    await trickle('linger-long', (i) => sleep(i === 0 ? 1500 : 100), '--producer-property', 'linger.ms=5000');
    expect(batchCounts('linger-long')).toEqual([10]);
    // Without linger each line goes out alone once the previous one is in the log.
    await trickle('linger-zero', (i) => until(`line ${i - 1} in the log`, async () => (await end('linger-zero')) === i, 20_000), '--producer-property', 'linger.ms=0');
    expect(batchCounts('linger-zero')).toEqual(Array.from({ length: 10 }, () => 1));
    // 100-byte lines, batches of at most 1000 bytes: several batches from one write.
    const lines = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(3, '0')}-${'b'.repeat(96)}`);
    expectOkRun(await produce('small-batches', lines.join('\n') + '\n', '--producer-property', 'batch.size=1000', '--producer-property', 'linger.ms=1000'));
    const counts = batchCounts('small-batches');
    expect(counts.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...counts)).toBeLessThanOrEqual(9);
    expect(await kcatRead('small-batches', '%s\n')).toEqual(lines);
  });

  it('a 1 MB line, CRLF line ends, a last line without newline, and empty stdin', async () => {
    await createTopic('lines', 1, { 'max.message.bytes': String(3 * 1024 * 1024) });
    const big = Array.from({ length: 1024 * 1024 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    expectOkRun(await produce('lines', `before\n${big}\nafter\n`, '--producer-property', 'max.request.size=4194304'));
    expectOkRun(await produce('lines', 'crlf-1\r\ncrlf-2\r\nno-newline'));
    expectOkRun(await produce('lines', ''));
    const sizes = await kcatRead('lines', '%S\n');
    expect(sizes).toEqual(['6', String(1024 * 1024), '5', '6', '6', '10']);
    const values = (await brook(['consume', '--bootstrap-server', tb.bootstrap, '--topic', 'lines', '--from-beginning', '--max-messages', '6', '--json'])).stdout
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { value: string }).value);
    expect(values).toEqual(['before', big, 'after', 'crlf-1', 'crlf-2', 'no-newline']);
  });

  it('keeps up with a fast log through tail -F: 200k lines all arrive, once each', async () => {
    await createTopic('logs', 3);
    const file = join(scratch, 'app.log');
    writeFileSync(file, '');
    const tail = spawn('tail', ['-n', '+1', '-F', file], { stdio: ['ignore', 'pipe', 'ignore'] });
    const { child, r: io, done: exited } = spawnBrook(['produce', '--bootstrap-server', tb.bootstrap, '--topic', 'logs'], tail.stdout);
    try {
      const total = 200_000;
      // The log grows in bursts, as an application writes it.
      for (let i = 0; i < total; i += 10_000) {
        let chunk = '';
        for (let j = i; j < i + 10_000; j++) chunk += `2026-12-05T13:00:00.000Z INFO request ${j} served in ${j % 97} ms path=/api/v1/items/${j}\n`;
        appendFileSync(file, chunk);
        await new Promise((r) => setTimeout(r, 20));
      }
      const count = async () => (await admin.fetchTopicOffsets('logs')).reduce((n, p) => n + Number(p.offset), 0);
      await until('200k records in the topic', async () => (await count()) >= total, 90_000);
      tail.kill('SIGTERM'); // EOF on brook's stdin: it flushes and exits
      expect(await exited, io.err).toBe(0);
      expect(io.err).toBe('');
      expect(await count()).toBe(total);
      const read = await kcatRead('logs', '%s\n', 3);
      expect(read).toHaveLength(total);
      const ids = new Set(read.map((l) => Number(/request (\d+) /.exec(l)![1])));
      expect(ids.size).toBe(total);
      for (let i = 0; i < total; i++) if (!ids.has(i)) expect.fail(`line ${i} missing`);
    } finally {
      tail.kill('SIGKILL');
      child.kill('SIGKILL');
    }
  });

  it('a record over the topic\'s max.message.bytes: stderr names MESSAGE_TOO_LARGE, the count of unacknowledged records, exit 1', async () => {
    await createTopic('small-max', 1, { 'max.message.bytes': '1000' });
    const r = await produce('small-max', `ok\n${'y'.repeat(5000)}\n`, '--producer-property', 'batch.size=500');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^brook produce: 1 record\(s\) to small-max-0 not acknowledged: .*MESSAGE_TOO_LARGE/m);
    expect(r.stderr).toMatch(/^brook produce: 1 of 2 record\(s\) were not acknowledged \(first error: .*MESSAGE_TOO_LARGE.*\)$/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await kcatRead('small-max', '%s\n')).toEqual(['ok']);
  });

  it('a topic deleted while producing: the error is named, the failed records counted, exit 1', async () => {
    await createTopic('doomed', 2);
    const { child, r: io, done: exited } = spawnBrook(['produce', '--bootstrap-server', tb.bootstrap, '--topic', 'doomed', '--producer-property', 'delivery.timeout.ms=3000'], 'pipe');
    try {
      child.stdin.write('first\nsecond\n');
      await until('the first records acknowledged', async () => (await admin.fetchTopicOffsets('doomed')).reduce((n, p) => n + Number(p.offset), 0) === 2);
      await admin.deleteTopics({ topics: ['doomed'] });
      child.stdin.end('third\nfourth\n');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('no exit within 30 s'), 30_000))]);
      expect(code, io.err).toBe(1);
      expect(io.err).toMatch(/UNKNOWN_TOPIC_OR_PARTITION/);
      expect(io.err).toMatch(/^brook produce: 2 of 4 record\(s\) were not acknowledged/m);
      expect(io.err).not.toMatch(/\n\s+at /);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a broker that dies: records sent while it is down arrive after it restarts; if it stays down they are counted as failed, exit 1', async () => {
    const dataDir = mkdtempSync(join(scratch, 'killed-'));
    let broker = await spawnBroker(dataDir);
    const port = broker.port;
    try {
      const create = await brook(['topics', '--create', '--topic', 'outage', '--bootstrap-server', broker.bootstrap]);
      expect(create.code, create.stderr).toBe(0);
      const start = () => {
        return spawnBrook(['produce', '--bootstrap-server', broker.bootstrap, '--topic', 'outage', '--producer-property', 'delivery.timeout.ms=4000', '--timeout-ms', '2000'], 'pipe');
      };
      const kcatCount = async () => (await run('kcat', ['-C', '-b', broker.bootstrap, '-t', 'outage', '-o', 'beginning', '-e', '-q'], { timeoutMs: 20_000 })).stdout;

      // Down for a moment: the batch is retried until the broker is back.
      const p1 = start();
      p1.child.stdin.write('before\n');
      await until('the first record stored', async () => (await kcatCount()) === 'before\n');
      broker.kill('SIGKILL');
      await broker.exited;
      p1.child.stdin.write('during-1\nduring-2\n');
      await new Promise((r) => setTimeout(r, 500));
      broker = await spawnBroker(dataDir, port);
      p1.child.stdin.end('after\n');
      expect(await p1.done, p1.r.err).toBe(0);
      expect(p1.r.err).toBe('');
      // Each exactly once. Their order may change: the retried batch waits out its backoff while a newer
      // one goes first, as with a Java producer without idempotence and more than one request in flight.
      expect((await kcatCount()).split('\n').filter(Boolean).sort()).toEqual(['after', 'before', 'during-1', 'during-2']);

      // Down for good: each unacknowledged record counted, the reason named, exit 1.
      const p2 = start();
      p2.child.stdin.write('stored\n');
      await until('the record stored', async () => (await kcatCount()).endsWith('\nstored\n'));
      broker.kill('SIGKILL');
      await broker.exited;
      p2.child.stdin.end('lost-1\nlost-2\n');
      const code = await Promise.race([p2.done, new Promise<string>((r) => setTimeout(() => r('no exit within 30 s'), 30_000))]);
      expect(code, p2.r.err).toBe(1);
      expect(p2.r.err).toMatch(/^brook produce: 2 record\(s\) to outage-0 not acknowledged: .*(no broker reachable|ECONNREFUSED|closed)/m);
      expect(p2.r.err).toMatch(/^brook produce: 2 of 3 record\(s\) were not acknowledged \(first error: .+\)$/m);
      expect(p2.r.err).not.toMatch(/\n\s+at /);
    } finally {
      broker.kill('SIGKILL');
    }
  });

  // With max.in.flight.requests.per.connection=1 a Java producer keeps a partition's order across
  // retries: the partition sends nothing newer while its batch waits to be retried. Without that
  // hold, `after` landed before `during-*`.
  it('max.in.flight.requests.per.connection=1 keeps the order of lines across a broker restart', async () => {
    const dataDir = mkdtempSync(join(scratch, 'order-'));
    let broker = await spawnBroker(dataDir);
    const port = broker.port;
    try {
      expect((await brook(['topics', '--create', '--topic', 'ordered', '--bootstrap-server', broker.bootstrap])).code).toBe(0);
      const { child, r: io, done } = spawnBrook(['produce', '--bootstrap-server', broker.bootstrap, '--topic', 'ordered', '--producer-property', 'max.in.flight.requests.per.connection=1', '--producer-property', 'delivery.timeout.ms=20000'], 'pipe');
      const read = async () => (await run('kcat', ['-C', '-b', broker.bootstrap, '-t', 'ordered', '-o', 'beginning', '-e', '-q'], { timeoutMs: 20_000 })).stdout;
      child.stdin.write('before\n');
      await until('the first record stored', async () => (await read()) === 'before\n');
      broker.kill('SIGKILL');
      await broker.exited;
      child.stdin.write('during-1\nduring-2\n');
      await new Promise((r) => setTimeout(r, 500));
      broker = await spawnBroker(dataDir, port);
      child.stdin.end('after\n');
      expect(await done, io.err).toBe(0);
      expect(await read()).toBe('before\nduring-1\nduring-2\nafter\n');
    } finally {
      broker.kill('SIGKILL');
    }
  });

  it('unknown topic: exit 1, one line', async () => {
    const r = await produce('no-such-topic', 'x\n', '--timeout-ms', '3000');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('brook produce: topic no-such-topic: UNKNOWN_TOPIC_OR_PARTITION\n');
    await createTopic('one-partition');
    const p = await produce('one-partition', 'x\n', '--partition', '3');
    expect(p.code).toBe(1);
    expect(p.stderr).toBe('brook produce: topic one-partition has no partition 3 (it has 1)\n');
  });

  it('bad flags and property values: exit 2 with the problem named', async () => {
    const cases: [string[], RegExp][] = [
      [['--bogus'], /unknown option --bogus/],
      [['--compression-codec', 'brotli'], /unknown compression codec "brotli"/],
      [['--producer-property', 'acks=2'], /acks must be all, -1, 0 or 1, got "2"/],
      [['--producer-property', 'lingerms=5'], /unknown producer property lingerms/],
      [['--producer-property', 'linger.ms=soon'], /linger\.ms expects an integer >= 0, got "soon"/],
      [['--producer-property', 'enable.idempotence=true'], /enable\.idempotence=true is not supported/],
      [['--property', 'parse.key=maybe'], /--property parse\.key must be true or false, got "maybe"/],
      [['--property', 'parse.value=true'], /unknown --property parse\.value/],
      [['--partition', '-1'], /--partition expects a non-negative integer, got "-1"/],
      [['--command-config', '/nonexistent/client.properties'], /cannot read --command-config \/nonexistent\/client\.properties: ENOENT/],
    ];
    const results = await Promise.all(cases.map(([args]) => brook(['produce', '--bootstrap-server', tb.bootstrap, '--topic', 'keyed', ...args], { input: 'x\n' })));
    results.forEach((r, i) => expectUsage(r, cases[i]![1]));
    expectUsage(await brook(['produce'], { input: 'x\n' }), /--topic is required/);
  });

  it('an unreachable broker: exit 1 with one clear line within the timeout', async () => {
    const started = Date.now();
    const r = await brook(['produce', '--bootstrap-server', '127.0.0.1:1', '--topic', 'keyed', '--timeout-ms', '1000'], { input: 'x\n' });
    const elapsed = Date.now() - started;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^brook produce: no broker reachable at 127\.0\.0\.1:1 within 1000 ms \(last error: .*ECONNREFUSED.*\)\n$/);
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(8000);
  });
});
