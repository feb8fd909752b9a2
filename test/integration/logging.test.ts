/**
 * The broker's log: one logger per broker (two brokers in one process keep their own lines), JSON
 * lines from a `brook start` child with log.format=json, a bad log.level refused at start, and a
 * client sending garbage on connection after connection held to a few lines per address.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, DEFAULT_PEER_LOG_LIMITS, type LogFormat } from '../../src/util/logger.js';
import { kafkajs, run, spawnBroker, startTestBroker, withAdmin, type BrokerProcess } from './harness.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'brook-logging-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A logger writing into an array, one string per line. */
function sink(format: LogFormat = 'json') {
  const lines: string[] = [];
  const log = createLogger({ format, level: 'info', sink: { write: (s: string) => lines.push(...s.split('\n').filter((l) => l !== '')) } });
  return { lines, log, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/**
 * Opens a connection, sends `bytes` and resolves once the broker closed it. Every frame below
 * makes the broker close the connection, so each frame needs its own connection.
 */
function sendAndWaitClose(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('the broker did not close a connection that sent garbage'));
    }, 10_000);
    s.on('connect', () => s.write(bytes));
    s.on('error', () => {}); // a reset instead of a FIN is still a close
    s.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * SIGTERM once the CLI listens for it: it installs its handler right after startBroker returns,
 * before its event loop turns, so a request answered proves the handler is in place.
 */
async function stop(b: BrokerProcess): Promise<void> {
  await withAdmin(kafkajs(b.bootstrap), (admin) => admin.listTopics());
  b.kill('SIGTERM');
}

/** Malformed frames, each refused with a close: a size below the 8-byte header minimum, an unknown api key, a bad version. */
const GARBAGE = [
  Buffer.from([0, 0, 0, 2, 0xde, 0xad]),
  Buffer.from([0, 0, 0, 8, 0x7f, 0x00, 0, 0, 0, 0, 0, 1]),
  Buffer.from([0, 0, 0, 10, 0, 3, 0x7f, 0x00, 0, 0, 0, 1, 0, 0]),
];

describe('broker logging', () => {
  it('gives each broker in a process its own logger: no line of one lands in the other', async () => {
    const a = sink();
    const b = sink();
    const ta = await startTestBroker({ log: a.log });
    const tb = await startTestBroker({ log: b.log });
    try {
      await withAdmin(kafkajs(ta.bootstrap), (admin) => admin.createTopics({ topics: [{ topic: 'only-on-a', numPartitions: 1 }] }));
      await withAdmin(kafkajs(tb.bootstrap), (admin) => admin.createTopics({ topics: [{ topic: 'only-on-b', numPartitions: 1 }] }));
    } finally {
      await ta.close();
      await tb.close();
    }
    const msgs = (r: ReturnType<typeof sink>) => r.records().map((x) => String(x.msg));
    expect(msgs(a)).toContain('created topic only-on-a with 1 partition(s)');
    expect(msgs(b)).toContain('created topic only-on-b with 1 partition(s)');
    expect(msgs(a).filter((m) => m.includes('only-on-b'))).toEqual([]);
    expect(msgs(b).filter((m) => m.includes('only-on-a'))).toEqual([]);
    expect(msgs(a).find((m) => m.startsWith('listening on'))).toContain(`:${ta.broker.port},`);
    expect(msgs(b).find((m) => m.startsWith('listening on'))).toContain(`:${tb.broker.port},`);
    // Each broker says it stopped once, in its own log.
    expect(msgs(a).filter((m) => m === 'stopped')).toHaveLength(1);
    expect(msgs(b).filter((m) => m === 'stopped')).toHaveLength(1);
  });

  it('still takes a plain function, called with each message at info and above', async () => {
    const got: string[] = [];
    const t = await startTestBroker({ log: (m: string) => got.push(m) });
    await t.close();
    expect(got).toContain(`created topic __consumer_offsets with 50 partition(s)`);
    expect(got.find((m) => m.startsWith('listening on'))).toMatch(/^listening on 127\.0\.0\.1:\d+, advertised as /);
    expect(got.at(-1)).toBe('stopped');
  });

  it('writes JSON lines on stderr with --set log.format=json, down to the last record at exit', async () => {
    const b = await spawnBroker(join(dir, 'json'), undefined, ['--set', 'log.format=json', '--set', 'log.level=debug']);
    await stop(b);
    const exit = await b.exited;
    expect(exit.code).toBe(0);
    // `brook: SIGTERM received` is the CLI's own line (src/cli/main.ts), not the broker's logger.
    const lines = b
      .stderr()
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('brook: '));
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const r of records) {
      expect(['error', 'warn', 'info', 'debug']).toContain(r.level);
      expect(r.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(typeof r.msg).toBe('string');
    }
    expect(records.some((r) => String(r.msg).startsWith(`listening on 127.0.0.1:${b.port}`))).toBe(true);
    expect(records.at(-1)).toMatchObject({ level: 'info', msg: 'stopped' });
  });

  it('writes text lines by default: time, level, brook:, message', async () => {
    const b = await spawnBroker(join(dir, 'text'));
    await stop(b);
    expect((await b.exited).code).toBe(0);
    const lines = b
      .stderr()
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('brook: '));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (ERROR|WARN|INFO|DEBUG) brook: /);
    expect(lines.at(-1)).toMatch(/ INFO brook: stopped$/);
  });

  it('refuses a bad log.level or log.format with exit 2, naming the key', async () => {
    const entry = `import('./src/cli/main.ts').then(async (m) => { process.exitCode = await m.main(process.argv.slice(1)); })`;
    for (const [key, value] of [
      ['log.level', 'verbose'],
      ['log.format', 'xml'],
    ]) {
      const r = await run(process.execPath, ['--import', 'tsx', '-e', entry, '--', 'start', '--port', '0', '--ws-port', '0', '--data-dir', join(dir, 'bad'), '--set', `${key}=${value}`], { timeoutMs: 20_000, cwd: root });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`invalid value "${value}" for ${key}`);
      expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    }
  });

  it('logs a client sending 30,000 malformed frames in a few lines, then says how many it suppressed', async () => {
    const FRAMES = 30_000;
    const CONCURRENCY = 64;
    const b = await spawnBroker(join(dir, 'flood'), undefined, ['--set', 'log.format=json']);
    const before = b.stderr().length;
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < FRAMES) {
          const i = next++;
          await sendAndWaitClose(b.port, GARBAGE[i % GARBAGE.length]!);
        }
      }),
    );
    const elapsedMs = Date.now() - started;
    await stop(b); // closing ends the limiter's open window: its count is written before 'stopped'
    expect((await b.exited).code).toBe(0);
    const stderr = b.stderr();
    const records = stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const closing = records.filter((r) => String(r.msg).startsWith('closing connection from 127.0.0.1:'));
    const summaries = records.filter((r) => String(r.msg).startsWith('suppressed '));
    const { burst, intervalMs } = DEFAULT_PEER_LOG_LIMITS;
    console.log(`logging: ${FRAMES} malformed frames in ${(elapsedMs / 1000).toFixed(1)} s: ${closing.length} lines, ${summaries.length} summaries, ${stderr.length - before} bytes`);

    // Every refusal is either written or counted in a summary: none lost, none counted twice.
    const suppressed = summaries.reduce((n, r) => n + (r.suppressed as number), 0);
    expect(closing.length + suppressed).toBe(FRAMES);
    for (const s of summaries) {
      expect(s).toMatchObject({ level: 'warn', peer: '127.0.0.1' });
      expect(s.msg).toMatch(new RegExp(`^suppressed ${s.suppressed} similar messages from 127\\.0\\.0\\.1 in the last \\d+s$`));
    }
    // The bound: per window of intervalMs (opened by the first refusal after the last one ended),
    // `burst` lines and then one summary. The last window may end before its burst is used up
    // (no summary then); every other one overflows: the flood sends far more than `burst` per window.
    const windows = Math.floor(elapsedMs / intervalMs) + 1;
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(summaries.length).toBeLessThanOrEqual(windows);
    expect(closing.length).toBeGreaterThanOrEqual(burst * summaries.length);
    expect(closing.length).toBeLessThanOrEqual(burst * (summaries.length + 1));
    expect(closing.length + summaries.length).toBeLessThanOrEqual((burst + 1) * windows);
    // Nothing else was written about the flood.
    const others = records.filter((r) => !closing.includes(r) && !summaries.includes(r)).map((r) => String(r.msg));
    expect(others.filter((m) => m.includes('127.0.0.1:') && !m.startsWith('listening on') && !m.startsWith('ws gateway serving'))).toEqual([]);
    // The first lines of the flood show the refusals as they were (then the limiter holds them back).
    expect(closing[0]!.msg).toMatch(/^closing connection from 127\.0\.0\.1:\d+: (request size 2 outside \[8, \d+\]|unsupported api key 32512|unsupported version 32512 of Metadata)/);
  }, 180_000);
});
