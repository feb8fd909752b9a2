/**
 * `brook perf produce|consume|e2e` as child processes (the built CLI, bin/brook.js) against a real
 * broker: output lines in Kafka's formats (kafka-producer-perf-test.sh, kafka-consumer-perf-test.sh),
 * numbers that agree with each other and with the log (end offsets read with kafkajs, values read
 * back with kcat), --throughput as a lower bound on the run's duration, --json, and the exit codes
 * of bad input (2) and an unreachable broker (1).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brook, requireBuilt, root } from './cli-harness.js';
import { expectOk, freePort, hasKcat, kafkajs, requireInstalled, run, startTestBroker, type ProcessResult, type TestBroker } from './harness.js';

requireInstalled(hasKcat, 'kcat');

const dir = mkdtempSync(join(tmpdir(), 'brook-cli-perf-'));

let tb: TestBroker;
let admin: Admin;

beforeAll(async () => {
  requireBuilt('perf/produce');
  tb = await startTestBroker({ properties: { 'ws.enabled': false } });
  admin = kafkajs(tb.bootstrap, { retry: { retries: 0 } }).admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
  await tb?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `brook perf ...` from dist/ (npm run build:ts), against the test broker unless `bootstrap` is false. */
function perf(args: string[], opts: { bootstrap?: boolean; timeoutMs?: number } = {}): Promise<ProcessResult> {
  const boot = opts.bootstrap === false ? [] : ['--bootstrap-server', tb.bootstrap];
  return brook(['perf', ...args, ...boot], { timeoutMs: opts.timeoutMs ?? 60_000, cwd: root });
}

async function createTopic(topic: string, partitions = 1): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
}

async function endOffsets(topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

// kafka-producer-perf-test.sh's lines (ProducerPerformance.Stats.printWindow / printTotal).
const WINDOW = /^(\d+) records sent, (\d+\.\d) records\/sec \((\d+\.\d{2}) MB\/sec\), (\d+\.\d) ms avg latency, (\d+\.\d) ms max latency\.$/;
const TOTAL = /^(\d+) records sent, (\d+\.\d{6}) records\/sec \((\d+\.\d{2}) MB\/sec\), (\d+\.\d{2}) ms avg latency, (\d+\.\d{2}) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$/;
// kafka-consumer-perf-test.sh: `yyyy-MM-dd HH:mm:ss:SSS` dates, then %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f.
const DATE = String.raw`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}:\d{3}`;
const CSV = new RegExp(String.raw`^(${DATE}), (${DATE}), (\d+\.\d{4}), (\d+\.\d{4}), (\d+), (\d+\.\d{4}), (\d+), (\d+), (\d+\.\d{4}), (\d+\.\d{4})$`);
const HEADER = 'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec';

function lines(r: ProcessResult): string[] {
  return r.stdout.trimEnd().split('\n');
}

/** A failure: the exit code and exactly one line on stderr, no stack trace. */
function expectOneLine(r: ProcessResult, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const err = r.stderr.trimEnd().split('\n');
  expect(err[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  if (code === 1) expect(err).toHaveLength(1);
}

describe('brook perf produce', () => {
  it('sends --num-records records and prints the total line in Kafka’s format, with numbers that agree', async () => {
    await createTopic('perf-p1', 2);
    const r = expectOk(await perf(['produce', '--topic', 'perf-p1', '--num-records', '20000', '--record-size', '100', '--throughput', '-1', '--producer-props', 'acks=1', 'linger.ms=2']), 'perf produce');
    const last = lines(r).at(-1)!;
    const m = TOTAL.exec(last);
    expect(m, last).not.toBeNull();
    const [, count, rate, mbps, avg, max, p50, p95, p99, p999] = m!.map(Number);
    expect(count).toBe(20000);
    expect(rate).toBeGreaterThan(0);
    // MB/sec is records/sec x 100 B over 1024 * 1024, rounded to 2 decimals.
    expect(Math.abs(mbps! - (rate! * 100) / (1024 * 1024))).toBeLessThanOrEqual(0.006);
    expect(avg).toBeLessThanOrEqual(max!);
    expect(p50).toBeLessThanOrEqual(p95!);
    expect(p95).toBeLessThanOrEqual(p99!);
    expect(p99).toBeLessThanOrEqual(p999!);
    expect(p999).toBeLessThanOrEqual(Math.round(max!) + 1);
    expect(await endOffsets('perf-p1')).toBe(20000);
    expect(r.stderr).toBe(''); // no progress bar without a terminal
  });

  it('keeps to --throughput (a lower bound on the duration) and prints a window line every 5 s', async () => {
    await createTopic('perf-p2');
    const t0 = performance.now();
    const r = expectOk(await perf(['produce', '--topic', 'perf-p2', '--num-records', '9000', '--record-size', '64', '--throughput', '1500']), 'perf produce throttled');
    const seconds = (performance.now() - t0) / 1000;
    expect(seconds).toBeGreaterThanOrEqual((9000 / 1500) * 0.8);
    const out = lines(r);
    const windows = out.slice(0, -1);
    expect(windows.length).toBeGreaterThanOrEqual(1);
    for (const w of windows) {
      const m = WINDOW.exec(w);
      expect(m, w).not.toBeNull();
      // A window of about 5 s at 1500/s: at most ~1500/s (plus the slack of a late acknowledgement).
      expect(Number(m![2])).toBeLessThan(1500 * 1.5);
      expect(Number(m![1])).toBeGreaterThan(0);
    }
    const total = TOTAL.exec(out.at(-1)!);
    expect(total, out.at(-1)).not.toBeNull();
    expect(Number(total![1])).toBe(9000);
    expect(Number(total![2])).toBeLessThanOrEqual(1500 * 1.05);
    expect(windows.reduce((s, w) => s + Number(WINDOW.exec(w)![1]), 0)).toBeLessThanOrEqual(9000);
    expect(await endOffsets('perf-p2')).toBe(9000);
  });

  it('prints one JSON object with --json', async () => {
    await createTopic('perf-p3');
    const r = expectOk(await perf(['produce', '--topic', 'perf-p3', '--num-records', '5000', '--record-size', '1024', '--throughput', '-1', '--json']), 'perf produce --json');
    const j = JSON.parse(r.stdout) as Record<string, number>;
    expect(j.records).toBe(5000);
    expect(j.bytes).toBe(5000 * 1024);
    expect(j.failed).toBe(0);
    for (const k of ['recordsPerSec', 'MBPerSec', 'avgLatencyMs', 'maxLatencyMs', 'p50LatencyMs', 'p95LatencyMs', 'p99LatencyMs', 'p999LatencyMs', 'elapsedMs']) {
      expect(Number.isFinite(j[k]), k).toBe(true);
    }
    expect(j.p50LatencyMs).toBeLessThanOrEqual(j.p999LatencyMs!);
    expect(j.p999LatencyMs).toBeLessThanOrEqual(j.maxLatencyMs!);
    expect(await endOffsets('perf-p3')).toBe(5000);
  });

  it('sends payloads from --payload-file, cut at --payload-delimiter', async () => {
    await createTopic('perf-p4');
    const file = join(dir, 'payloads.txt');
    writeFileSync(file, 'alpha|beta|gamma delta|');
    const r = expectOk(await perf(['produce', '--topic', 'perf-p4', '--num-records', '300', '--payload-file', file, '--payload-delimiter', '|', '--throughput', '-1']), 'perf produce --payload-file');
    const out = lines(r);
    expect(out[0]).toBe(`Reading payloads from: ${file}`);
    expect(out[1]).toBe('Number of messages read: 3');
    expect(Number(TOTAL.exec(out.at(-1)!)![1])).toBe(300);
    const read = expectOk(await run('kcat', ['-C', '-b', tb.bootstrap, '-t', 'perf-p4', '-o', 'beginning', '-e', '-q', '-f', '%s\n']), 'kcat');
    const values = read.stdout.trimEnd().split('\n');
    expect(values).toHaveLength(300);
    expect(new Set(values)).toEqual(new Set(['alpha', 'beta', 'gamma delta']));
  });

  it('refuses bad flags with exit 2 and one line', async () => {
    const bad: [string[], RegExp][] = [
      [['produce', '--num-records', '10', '--record-size', '10', '--throughput', '-1'], /--topic is required/],
      [['produce', '--topic', 't', '--num-records', '0', '--record-size', '10', '--throughput', '-1'], /--num-records should be a positive integer/],
      [['produce', '--topic', 't', '--num-records', '10', '--record-size', '10'], /--throughput is required/],
      [['produce', '--topic', 't', '--num-records', '10', '--record-size', '10', '--throughput', '0'], /--throughput expects/],
      [['produce', '--topic', 't', '--num-records', '10', '--record-size', '10', '--payload-file', 'x', '--throughput', '-1'], /exactly one of --record-size, --payload-file/],
      [['produce', '--topic', 't', '--num-records', '10', '--record-size', '10', '--throughput', '-1', '--producer-props', 'acks=2'], /acks must be/],
      [['produce', '--topic', 't', '--num-records', '10', '--record-size', '10', '--throughput', '-1', '--producer-props', 'no.such=1'], /unknown producer property no\.such/],
      [['produce', '--topic', 't', '--num-records', '10', '--payload-file', join(dir, 'missing'), '--throughput', '-1'], /File does not exist or empty file provided/],
      [['consume', '--topic', 't'], /--messages is required/],
      [['e2e', '--topic', 't', '--num-records', '10', '--throughput', '-1', '--record-size', '8'], /--record-size must be at least 12/],
      [['bench'], /unknown perf command "bench"/],
    ];
    for (const [args, pattern] of bad) expectOneLine(await perf(args), 2, pattern);
  });

  it('fails with exit 1 and one line when no broker answers', async () => {
    const port = await freePort();
    const r = await perf(['produce', '--topic', 't', '--num-records', '10', '--record-size', '10', '--throughput', '-1', '--bootstrap-server', `127.0.0.1:${port}`, '--timeout-ms', '1500'], { bootstrap: false });
    expectOneLine(r, 1, /^brook perf produce: .*127\.0\.0\.1:\d+/);
  });

  it('answers --help for perf and each subcommand', async () => {
    const top = expectOk(await perf(['--help']), 'perf --help');
    expect(top.stdout).toMatch(/produce[\s\S]*consume[\s\S]*e2e/);
    for (const sub of ['produce', 'consume', 'e2e']) {
      const r = expectOk(await perf([sub, '--help']), `perf ${sub} --help`);
      expect(r.stdout).toMatch(new RegExp(`^Usage: brook perf ${sub}`));
      expect(r.stdout).toMatch(/--bootstrap-server/);
    }
  });
});

describe('brook perf consume', () => {
  it('prints Kafka’s CSV header and a line that counts every record produced', async () => {
    await createTopic('perf-c1', 3);
    expectOk(await perf(['produce', '--topic', 'perf-c1', '--num-records', '12000', '--record-size', '200', '--throughput', '-1']), 'perf produce');
    const r = expectOk(await perf(['consume', '--topic', 'perf-c1', '--messages', '12000', '--timeout', '20000']), 'perf consume');
    const out = lines(r);
    expect(out).toHaveLength(2);
    expect(out[0]).toBe(HEADER);
    const m = CSV.exec(out[1]!);
    expect(m, out[1]).not.toBeNull();
    const mb = Number(m![3]);
    expect(Number(m![5])).toBe(12000);
    expect(mb).toBeCloseTo((12000 * 200) / (1024 * 1024), 3);
    expect(Number(m![7])).toBe(0); // no group: no rebalance
    expect(Number(m![8])).toBeGreaterThanOrEqual(0);
  });

  it('joins a group with --group, hides the header, and prints JSON with --json', async () => {
    await createTopic('perf-c2', 2);
    expectOk(await perf(['produce', '--topic', 'perf-c2', '--num-records', '3000', '--record-size', '50', '--throughput', '-1']), 'perf produce');
    const csv = expectOk(await perf(['consume', '--topic', 'perf-c2', '--messages', '3000', '--group', 'perf-g', '--hide-header', '--timeout', '20000']), 'perf consume --group');
    const out = lines(csv);
    expect(out).toHaveLength(1);
    const m = CSV.exec(out[0]!);
    expect(m, out[0]).not.toBeNull();
    expect(Number(m![5])).toBe(3000);
    expect(Number(m![7])).toBeGreaterThan(0); // the join took some time
    const j = JSON.parse(expectOk(await perf(['consume', '--topic', 'perf-c2', '--messages', '1000', '--json']), 'perf consume --json').stdout) as Record<string, unknown>;
    expect(j.records).toBe(1000);
    expect(j.bytes).toBe(1000 * 50);
    expect(j.timedOut).toBe(false);
  });

  it('warns and stops after --timeout when fewer records exist', async () => {
    await createTopic('perf-c3');
    expectOk(await perf(['produce', '--topic', 'perf-c3', '--num-records', '10', '--record-size', '10', '--throughput', '-1']), 'perf produce');
    const r = expectOk(await perf(['consume', '--topic', 'perf-c3', '--messages', '50', '--timeout', '1000', '--hide-header']), 'perf consume short');
    const out = lines(r);
    expect(out[0]).toMatch(/^WARNING: Exiting before consuming the expected number of messages: timeout \(1000 ms\) exceeded\./);
    expect(Number(CSV.exec(out[1]!)![5])).toBe(10);
  });
});

describe('brook perf e2e', () => {
  it('measures produce-to-consume latency at a rate and one record at a time', async () => {
    await createTopic('perf-e1', 2);
    const t0 = performance.now();
    const r = expectOk(await perf(['e2e', '--topic', 'perf-e1', '--num-records', '1500', '--throughput', '1000', '--producer-props', 'acks=1']), 'perf e2e');
    expect((performance.now() - t0) / 1000).toBeGreaterThanOrEqual(1.5 * 0.8);
    const out = lines(r);
    expect(out[0]).toMatch(/^1500 records received of 1500 sent at [\d.]+ records\/sec \(target 1000\), 100 bytes each$/);
    expect(out[1]).toMatch(/^Avg latency: \d+\.\d{4} ms$/);
    const m = /^Percentiles: 50th = (\d+\.\d{3}) ms, 99th = (\d+\.\d{3}) ms, 99\.9th = (\d+\.\d{3}) ms, max = (\d+\.\d{3}) ms$/.exec(out[2]!);
    expect(m, out[2]).not.toBeNull();
    const [, p50, p99, p999, max] = m!.map(Number);
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(p99!);
    expect(p99).toBeLessThanOrEqual(p999!);
    expect(p999).toBeLessThanOrEqual(max!);
    expect(await endOffsets('perf-e1')).toBe(1500);

    const j = JSON.parse(expectOk(await perf(['e2e', '--topic', 'perf-e1', '--num-records', '50', '--throughput', '-1', '--record-size', '12', '--json']), 'perf e2e -1').stdout) as Record<string, number>;
    expect(j.records).toBe(50);
    expect(j.lost).toBe(0);
    expect(j.duplicated).toBe(0);
    expect(j.p50LatencyMs).toBeGreaterThan(0);
    expect(j.p50LatencyMs).toBeLessThanOrEqual(j.maxLatencyMs!);
    expect(await endOffsets('perf-e1')).toBe(1550);
  });
});
