/**
 * The `brook` client commands under load, each beside a C client doing the same job against the
 * same broker in the same run (issue 10). Brook runs as a child process (throughput.bench.ts's
 * startBrook); every client is a child process too, timed from spawn to exit (so Node's start-up,
 * about 0.1 s, counts against the brook commands) unless it reports its own clock, and its CPU is
 * user + system time from /usr/bin/time. The broker's CPU comes from /proc/<pid>/stat.
 *
 * Rows:
 * - `brook perf produce` 100 B and 1 KiB, acks=1, vs bench/loadgen/rdkafka-load produce (librdkafka,
 *   the load generator of bench/throughput): records/s by each tool's own clock (both start after
 *   metadata), and CPU s/GB of each client; broker cores in `extra`. Target >= 90% of its records/s.
 * - `brook produce < file` of 200-byte lines vs `kcat -P` from the same file: MB/s of lines ingested
 *   (spawn to exit, acks=all as both default) and the command's cores. Target >= 200 MB/s, <= 1 core.
 * - `brook consume > /dev/null`, 1 KiB records, vs `kcat -C -e -o beginning -q > /dev/null`: GB/s
 *   of values (spawn to exit) and CPU. Target >= 1 GB/s.
 * - `brook perf e2e` at 50% of the records/s `brook perf produce` reached at 100 B: p99 latency,
 *   beside the same tool one record at a time (Kafka's EndToEndLatency mode, the unloaded floor);
 *   p50 and p99.9 in `extra`. Goal p99 < 5 ms.
 *
 * Environment: BENCH_RUNS (default 3), BENCH_SCALE (record counts x this), BROOK_BENCH_DIR (data
 * directory parent), BENCH_PROFILE=1 (node --cpu-prof of the brook commands, summarised with
 * bench/loadgen/cpuprofile-top.ts).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSmoke, sized, statsOf, type Figure } from './lib.js';
import { topSelf } from './loadgen/cpuprofile-top.js';
import { buildDist, buildLoadgen, cpuSeconds, exec, lastJson, startBrook, type Brook } from './throughput.bench.js';

export const title = 'cli: brook perf / produce / consume beside librdkafka and kcat on the same broker (child processes)';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const brookBin = join(root, 'bin', 'brook.js');
const MB = 1e6;
const GB = 1e9;

interface Timed {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Spawn to exit. */
  seconds: number;
  /** User + system CPU seconds of the command (from /usr/bin/time). */
  cpu: number;
}

/**
 * Runs `cmd args` under /usr/bin/time, stdin from `stdinFile` (or nothing), stdout to `stdoutFile`
 * (or captured); the broker's CPU over the same span is returned too.
 */
function timed(cmd: string, args: string[], brook: Brook, opts: { stdinFile?: string; stdoutFile?: string; timeoutMs?: number } = {}): Promise<Timed & { brokerCpu: number }> {
  return new Promise((resolve, reject) => {
    const stdin = opts.stdinFile ? openSync(opts.stdinFile, 'r') : 'ignore';
    const stdout = opts.stdoutFile ? openSync(opts.stdoutFile, 'w') : 'pipe';
    const c0 = cpuSeconds(brook.pid);
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'CMD_CPU %U %S', cmd, ...args], { stdio: [stdin, stdout, 'pipe'] });
    if (typeof stdin === 'number') closeSync(stdin);
    if (typeof stdout === 'number') closeSync(stdout);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      const brokerCpu = cpuSeconds(brook.pid) - c0;
      const m = /CMD_CPU ([\d.]+) ([\d.]+)/.exec(err);
      if (code !== 0 || !m) {
        reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${code}):\n${err.slice(-2000)}`));
        return;
      }
      resolve({ code, stdout: out, stderr: err, seconds, cpu: Number(m[1]) + Number(m[2]), brokerCpu });
    });
  });
}

/** Node flags for the brook commands: a CPU profile per command with BENCH_PROFILE=1. */
function nodeArgs(profileDir: string | undefined, what: string): string[] {
  if (!profileDir) return [brookBin];
  const dir = join(profileDir, what);
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, brookBin];
}

function profileSummary(profileDir: string | undefined, what: string, n = 10): string[] {
  if (!profileDir) return [];
  const dir = join(profileDir, what);
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return [`${what}: (no profile written)`];
  const { rows, busyMs } = topSelf(join(dir, files[0]!), n + 1);
  return [
    `${what}: busy ${busyMs.toFixed(0)} ms`,
    ...rows.filter((r) => r.fn !== '(idle)').slice(0, n).map((r) => `  ${r.selfPct.toFixed(1).padStart(5)}%  ${r.selfMs.toFixed(0).padStart(6)} ms  ${r.fn}  ${r.where}`),
  ];
}

interface PerfJson {
  records: number;
  bytes: number;
  elapsedMs: number;
  recordsPerSec: number;
}

interface E2eJson {
  records: number;
  recordsPerSec: number;
  p50LatencyMs: number;
  p99LatencyMs: number;
  p999LatencyMs: number;
  maxLatencyMs: number;
}

interface Sample {
  ours: number;
  base: number;
  oursCpu: number;
  baseCpu: number;
  oursBroker: number;
  baseBroker: number;
  extra?: Record<string, number>;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const r2 = (x: number) => Number(x.toFixed(2));

export async function run(): Promise<Figure[]> {
  buildDist();
  const loadgen = buildLoadgen();
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  const runs = isSmoke() ? 1 : Number(process.env.BENCH_RUNS ?? 3);
  const parent = process.env.BROOK_BENCH_DIR ?? tmpdir();
  const work = mkdtempSync(join(tmpdir(), 'brook-cli-bench-'));
  const profileDir = process.env.BENCH_PROFILE === '1' ? join(here, 'results', `cli-profiles-${new Date().toISOString().replace(/[:.]/g, '-')}`) : undefined;
  // --smoke: every row but perf produce 1 KiB, on tiny counts (each brook command costs a Node start).
  const sizes = isSmoke() ? [100] : [100, 1024];
  const n = (full: number, tiny: number) => Math.max(1, Math.round(sized(full, tiny) * scale));

  // 200-byte log lines (199 characters and \n), varied so a codec would not flatter them.
  const lineCount = n(2_500_000, 5_000);
  const linesFile = join(work, 'lines.txt');
  {
    const file = Buffer.allocUnsafe(lineCount * 200);
    let seed = 12345;
    for (let i = 0; i < lineCount; i++) {
      const at = i * 200;
      const head = `${new Date(1_700_000_000_000 + i * 7).toISOString()} INFO app[${i % 97}] request ${i} `;
      file.write(head, at, 'latin1');
      for (let j = head.length; j < 199; j++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        file[at + j] = 97 + (seed % 26);
      }
      file[at + 199] = 0x0a;
    }
    writeFileSync(linesFile, file);
  }
  const lineBytes = lineCount * 200;

  const t0 = performance.now();
  /** Progress on stderr: which phase, how far into the run (the phases are processes; a slow one shows here). */
  const step = (what: string) => process.stderr.write(`  cli bench ${((performance.now() - t0) / 1000).toFixed(1)} s: ${what}\n`);
  const samples = new Map<string, Sample[]>();
  const add = (k: string, s: Sample) => samples.set(k, [...(samples.get(k) ?? []), s]);
  const profiles: string[] = [];
  let startup = 0;
  let dataDir = '';
  let brook: Brook | undefined;
  try {
    step(`${lineCount} lines written`);
    for (let r = 0; r < runs; r++) {
      dataDir = mkdtempSync(join(parent, 'brook-cli-bench-'));
      brook = await startBrook(dataDir);
      const b = brook.bootstrap;
      const create = async (topic: string) => lastJson(await exec(loadgen, ['create', b, topic, '1']), `create ${topic}`);
      const tag = `r${r}`;
      if (!isSmoke()) startup = (await timed(process.execPath, [brookBin, '--version'], brook)).seconds;

      // perf produce vs rdkafka-load produce.
      let maxRate = 0;
      for (const size of sizes) {
        const count = size === 100 ? n(3_000_000, 5_000) : n(1_000_000, 10_000);
        step(`perf produce ${size} B`);
        await create(`perf-${size}-${tag}`);
        const what = `perf-produce-${size}-${tag}`;
        const ours = await timed(process.execPath, [...nodeArgs(profileDir, what), 'perf', 'produce', '--bootstrap-server', b, '--topic', `perf-${size}-${tag}`, '--num-records', String(count), '--record-size', String(size), '--throughput', '-1', '--producer-props', 'acks=1', '--json'], brook);
        const oj = JSON.parse(ours.stdout) as PerfJson;
        if (oj.records !== count) throw new Error(`perf produce sent ${oj.records} of ${count}`);
        profiles.push(...profileSummary(profileDir, what));
        step(`rdkafka-load produce ${size} B`);
        await create(`rdk-${size}-${tag}`);
        const base = await timed(loadgen, ['produce', b, `rdk-${size}-${tag}`, String(count), String(size), '1'], brook);
        const bj = lastJson<{ msgs: number; seconds: number; errors: number }>({ code: base.code, stdout: base.stdout, stderr: base.stderr }, 'rdkafka-load produce');
        if (bj.errors > 0) throw new Error(`rdkafka-load produce: ${bj.errors} errors`);
        const gb = (count * size) / GB;
        if (size === 100) maxRate = oj.recordsPerSec;
        add(`produce-${size}`, {
          ours: oj.recordsPerSec,
          base: bj.msgs / bj.seconds,
          oursCpu: ours.cpu / gb,
          baseCpu: base.cpu / gb,
          oursBroker: ours.brokerCpu / (oj.elapsedMs / 1000),
          baseBroker: base.brokerCpu / bj.seconds,
        });
      }

      // brook produce < lines vs kcat -P < lines.
      step('brook produce < lines');
      await create(`lines-brook-${tag}`);
      const what = `produce-stdin-${tag}`;
      const ours = await timed(process.execPath, [...nodeArgs(profileDir, what), 'produce', '--bootstrap-server', b, '--topic', `lines-brook-${tag}`], brook, { stdinFile: linesFile });
      profiles.push(...profileSummary(profileDir, what));
      step('kcat -P < lines');
      await create(`lines-kcat-${tag}`);
      const base = await timed('kcat', ['-P', '-b', b, '-t', `lines-kcat-${tag}`, '-X', 'linger.ms=5', '-X', 'queue.buffering.max.kbytes=1048576'], brook, { stdinFile: linesFile });
      add('stdin', { ours: lineBytes / MB / ours.seconds, base: lineBytes / MB / base.seconds, oursCpu: ours.cpu / ours.seconds, baseCpu: base.cpu / base.seconds, oursBroker: ours.brokerCpu / ours.seconds, baseBroker: base.brokerCpu / base.seconds });

      // brook consume > /dev/null vs kcat -C > /dev/null, 1 KiB records written by rdkafka-load.
      const ccount = n(1_000_000, 2_000);
      await create(`consume-${tag}`);
      lastJson(await exec(loadgen, ['produce', b, `consume-${tag}`, String(ccount), '1024', '1']), 'rdkafka-load produce (consume data)');
      // One untimed read first: right after the write the broker's reads wait on writeback of the
      // fresh pages, and whichever reader went first paid for it (0.3 GB/s then, ~0.9 after). Then the
      // two readers in turns, each run starting with the other one.
      await timed('kcat', ['-C', '-b', b, '-t', `consume-${tag}`, '-e', '-o', 'beginning', '-q'], brook, { stdoutFile: '/dev/null' });
      const cwhat = `consume-${tag}`;
      const running = brook;
      const readOurs = async () => {
        step('brook consume > /dev/null');
        const t = await timed(process.execPath, [...nodeArgs(profileDir, cwhat), 'consume', '--bootstrap-server', b, '--topic', `consume-${tag}`, '--from-beginning', '--max-messages', String(ccount)], running, { stdoutFile: '/dev/null' });
        if (!t.stderr.includes(`Processed a total of ${ccount} messages`)) throw new Error(`brook consume: ${t.stderr.slice(-500)}`);
        profiles.push(...profileSummary(profileDir, cwhat));
        return t;
      };
      const readKcat = async () => {
        step('kcat -C > /dev/null');
        return timed('kcat', ['-C', '-b', b, '-t', `consume-${tag}`, '-e', '-o', 'beginning', '-q'], running, { stdoutFile: '/dev/null' });
      };
      let cours: Awaited<ReturnType<typeof readOurs>>;
      let cbase: Awaited<ReturnType<typeof readKcat>>;
      if (r % 2 === 0) {
        cours = await readOurs();
        cbase = await readKcat();
      } else {
        cbase = await readKcat();
        cours = await readOurs();
      }
      const cgb = (ccount * 1024) / GB;
      add('consume', { ours: cgb / cours.seconds, base: cgb / cbase.seconds, oursCpu: cours.cpu / cgb, baseCpu: cbase.cpu / cgb, oursBroker: cours.brokerCpu / cours.seconds, baseBroker: cbase.brokerCpu / cbase.seconds });

      // perf e2e at half the measured maximum, beside one record at a time.
      const rate = Math.max(100, Math.round(maxRate / 2));
      const ecount = isSmoke() ? 500 : Math.max(2000, Math.round(rate * 10 * scale));
      step(`perf e2e at ${rate}/s`);
      await create(`e2e-${tag}`);
      const ewhat = `e2e-${tag}`;
      const e = await timed(process.execPath, [...nodeArgs(profileDir, ewhat), 'perf', 'e2e', '--bootstrap-server', b, '--topic', `e2e-${tag}`, '--num-records', String(ecount), '--throughput', String(rate), '--producer-props', 'acks=1', '--json'], brook);
      profiles.push(...profileSummary(profileDir, ewhat));
      const ej = JSON.parse(e.stdout) as E2eJson;
      step('perf e2e one at a time');
      const one = await timed(process.execPath, [brookBin, 'perf', 'e2e', '--bootstrap-server', b, '--topic', `e2e-${tag}`, '--num-records', String(n(2000, 50)), '--throughput', '-1', '--producer-props', 'acks=1', '--json'], brook);
      const oj = JSON.parse(one.stdout) as E2eJson;
      add('e2e', {
        ours: ej.p99LatencyMs,
        base: oj.p99LatencyMs,
        oursCpu: e.cpu / e.seconds,
        baseCpu: one.cpu / one.seconds,
        oursBroker: e.brokerCpu / e.seconds,
        baseBroker: one.brokerCpu / one.seconds,
        extra: { rate, achieved: Math.round(ej.recordsPerSec), records: ecount, p50: ej.p50LatencyMs, p999: ej.p999LatencyMs, max: ej.maxLatencyMs, oneAtATimeP50: oj.p50LatencyMs },
      });
      step(`run ${r + 1}/${runs} done`);
      await brook.stop();
      brook = undefined;
      rmSync(dataDir, { recursive: true, force: true });
    }
  } finally {
    await brook?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }

  console.log(`\nnode ${process.version}; ${runs} run(s); node start-up (brook --version, spawn to exit): ${startup.toFixed(3)} s`);
  for (const [k, ss] of samples) {
    for (const s of ss) console.log(`  ${k}: ours ${r2(s.ours)} vs ${r2(s.base)}; client CPU ${r2(s.oursCpu)} vs ${r2(s.baseCpu)}; broker cores ${r2(s.oursBroker)} vs ${r2(s.baseBroker)}${s.extra ? ` ${JSON.stringify(s.extra)}` : ''}`);
  }
  if (profiles.length) console.log(`\nprofiles of the brook commands (${profileDir}):\n${profiles.join('\n')}`);

  // Process-level samples, one per run, in lower-is-better units (ms per unit); a rate is 1000 over their mean.
  const perSecond = (msPer: number) => 1000 / msPer;
  const rate = (xs: number[]) => statsOf(xs.map((x) => 1000 / x), perSecond);
  const cost = (xs: number[]) => statsOf(xs);
  const figures: Figure[] = [];
  const brokerExtra = (ss: Sample[]) => ({ brokerCoresOurs: r2(mean(ss.map((s) => s.oursBroker))), brokerCoresBaseline: r2(mean(ss.map((s) => s.baseBroker))) });
  for (const size of sizes) {
    const ss = samples.get(`produce-${size}`)!;
    const label = `perf produce ${size === 100 ? '100 B' : '1 KiB'}, acks=1`;
    figures.push({ name: `${label}: records/s`, unit: 'records/s', ours: await rate(ss.map((s) => s.ours)), baseline: await rate(ss.map((s) => s.base)), baselineName: 'rdkafka-load produce', target: '>= 90%', extra: brokerExtra(ss) });
    figures.push({ name: `${label}: client CPU`, unit: 'CPU s/GB', higherIsBetter: false, ours: await cost(ss.map((s) => s.oursCpu)), baseline: await cost(ss.map((s) => s.baseCpu)), baselineName: 'rdkafka-load produce', extra: brokerExtra(ss) });
  }
  {
    const ss = samples.get('stdin')!;
    figures.push({
      name: 'brook produce < 200 B lines: MB/s',
      unit: 'MB/s',
      ours: await rate(ss.map((s) => s.ours)),
      baseline: await rate(ss.map((s) => s.base)),
      baselineName: 'kcat -P < same file',
      target: '>= 200 MB/s',
      extra: { ...brokerExtra(ss), lines: lineCount },
    });
    figures.push({ name: 'brook produce < 200 B lines: command cores', unit: 'cores', higherIsBetter: false, ours: await cost(ss.map((s) => s.oursCpu)), baseline: await cost(ss.map((s) => s.baseCpu)), baselineName: 'kcat -P', target: '<= 1 core' });
  }
  {
    const ss = samples.get('consume')!;
    figures.push({ name: 'brook consume > /dev/null, 1 KiB: GB/s', unit: 'GB/s', ours: await rate(ss.map((s) => s.ours)), baseline: await rate(ss.map((s) => s.base)), baselineName: 'kcat -C -e -q > /dev/null', target: '>= 1 GB/s', extra: brokerExtra(ss) });
    figures.push({ name: 'brook consume > /dev/null, 1 KiB: client CPU', unit: 'CPU s/GB', higherIsBetter: false, ours: await cost(ss.map((s) => s.oursCpu)), baseline: await cost(ss.map((s) => s.baseCpu)), baselineName: 'kcat -C' });
  }
  {
    const ss = samples.get('e2e')!;
    const last = ss.at(-1)!.extra!;
    figures.push({
      name: `perf e2e at 50% of max (${last.rate}/s), 100 B: p99`,
      unit: 'ms',
      higherIsBetter: false,
      ours: await cost(ss.map((s) => s.ours)),
      baseline: await cost(ss.map((s) => s.base)),
      baselineName: 'perf e2e one at a time',
      target: 'p99 < 5 ms',
      extra: { p50: r2(mean(ss.map((s) => s.extra!.p50!))), p999: r2(mean(ss.map((s) => s.extra!.p999!))), max: r2(mean(ss.map((s) => s.extra!.max!))), achievedPerSec: Math.round(mean(ss.map((s) => s.extra!.achieved!))), oneAtATimeP50: r2(mean(ss.map((s) => s.extra!.oneAtATimeP50!))) },
    });
  }
  return figures;
}
