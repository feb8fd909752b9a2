/**
 * Produce/consume throughput through a real Kafka client: one librdkafka producer, then one
 * consumer, against Brook running as a child process (`node bin/brook.js start`, so its CPU is
 * read from /proc/<pid>/stat and the load generator never shares its event loop).
 *
 * Workloads: 100 B and 1 KiB messages, acks=1, 1 partition (BENCH_PARTITIONS=1,4 adds more
 * layouts). The load generator is bench/loadgen/rdkafka-load.c, compiled here against the system
 * librdkafka into bench/results/bin/ (git-ignored); its settings are printed with the results.
 *
 * Baselines measured in the same run:
 * - loopback TCP: iperf3, one stream, 3 s (bandwidth, and its sender/receiver CPU per GB);
 * - the page cache: the same number of bytes written with write(2) in 1 MiB calls into a new file
 *   in the data directory, just before each produce (a produce cannot beat the copy into the page
 *   cache it has to make; on this VM fresh pages cost far more than the copy, and vary run to run);
 * - Redis Streams XADD with redis-benchmark (one connection, pipeline 100), when redis-server is
 *   installed: the in-memory peer the issue compares against.
 *
 * Each run (BENCH_RUNS, default 3) repeats every baseline and workload once, giving one sample per
 * figure; the samples go through tinybench's statistics (lib.ts statsOf), so these figures carry
 * means and margins of error like the in-process ones, in the same table and JSON. --smoke: one
 * run of a few thousand messages, iperf3 for 64 MB.
 *
 * Environment: BENCH_RUNS (default 3), BENCH_PARTITIONS (default "1"), BENCH_SCALE (message counts x this, default 1),
 * BROOK_BENCH_DIR (data directory parent, default the OS temp dir: a disk), BENCH_PROFILE=1 (a V8
 * CPU profile of the broker per phase, summarised), BENCH_PERF=1 (perf record of the broker per
 * phase, summarised), BENCH_REDIS=0 (skip the Redis peer), BROOK_NODE_FLAGS (extra node flags).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSmoke, sized, statsOf, type Figure } from './lib.js';
import { topSelf } from './loadgen/cpuprofile-top.js';

export const title = 'throughput: librdkafka producer then consumer against Brook (child process), beside loopback TCP (iperf3)';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const resultsDir = join(here, 'results');
const MB = 1e6;
const GB = 1e9;

const workloads = () => [
  { size: 100, count: sized(5_000_000, 20_000) },
  { size: 1024, count: sized(2_000_000, 10_000) },
];

// ------------------------------------------------------------------------------------ processes

export interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function exec(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Done> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function lastJson<T>(d: Done, what: string): T {
  const line = d.stdout.trim().split('\n').pop() ?? '';
  if (d.code !== 0 || !line.startsWith('{')) throw new Error(`${what} failed (exit ${d.code}): ${d.stderr.slice(-2000)}`);
  return JSON.parse(line) as T;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** utime + stime of a process (all its threads), in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------- builds

/** Newest modification time of any file under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export function buildDist(): void {
  // tsc takes seconds on this VM (most of a smoke run); npm test has just run it.
  const built = join(root, 'dist/src/index.js');
  if (existsSync(built) && statSync(built).mtimeMs > newestMtime(join(root, 'src'))) return;
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    if (!existsSync(join(root, 'dist/src/cli/main.js'))) throw new Error(`tsc failed and there is no dist/: ${r.stdout}${r.stderr}`);
    console.warn(`warning: tsc reported errors; running the dist/ it emitted:\n${(r.stdout + r.stderr).slice(0, 2000)}`);
  }
}

export function buildLoadgen(): string {
  const src = join(here, 'loadgen', 'rdkafka-load.c');
  const out = join(resultsDir, 'bin', 'rdkafka-load');
  mkdirSync(dirname(out), { recursive: true });
  if (existsSync(out) && statSync(out).mtimeMs > statSync(src).mtimeMs) return out;
  const pc = spawnSync('pkg-config', ['--cflags', '--libs', 'rdkafka'], { encoding: 'utf8' });
  if (pc.status !== 0) throw new Error('pkg-config cannot find rdkafka: apt-get install librdkafka-dev');
  const cc = spawnSync('cc', ['-O2', '-Wall', '-o', out, src, ...pc.stdout.trim().split(/\s+/)], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`compiling ${src} failed:\n${cc.stderr}`);
  return out;
}

// ------------------------------------------------------------------------------------- broker

export interface Brook {
  pid: number;
  port: number;
  bootstrap: string;
  stop(): Promise<void>;
}

/** Brook as a child process; `extraArgs` go to `brook start` (e.g. --set key=value, --ws-port). */
export async function startBrook(dataDir: string, profileDir?: string, extraArgs: string[] = []): Promise<Brook> {
  const port = await freePort();
  const nodeFlags = (process.env.BROOK_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  if (profileDir) nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, join(root, 'bin/brook.js'), 'start', '--port', String(port), '--data-dir', dataDir, ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`brook did not start in 20 s:\n${log}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`brook exited with ${code}:\n${log}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    port,
    bootstrap: `127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------- baselines

interface Iperf {
  MBps: number;
  /** CPU seconds per GB moved, sender and receiver. */
  senderCpuPerGB: number;
  receiverCpuPerGB: number;
}

async function iperf3(): Promise<Iperf> {
  const port = await freePort();
  const server = spawn('iperf3', ['-s', '-1', '-p', String(port)], { stdio: 'ignore' });
  try {
    let d: Done | undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      await sleep(150);
      d = await exec('iperf3', ['-c', '127.0.0.1', '-p', String(port), ...(isSmoke() ? ['-n', '64M'] : ['-t', '3']), '-J']);
      if (d.code === 0) break;
    }
    const j = JSON.parse(d!.stdout) as {
      end: { sum_received: { bits_per_second: number; seconds: number; bytes: number }; cpu_utilization_percent: { host_total: number; remote_total: number } };
    };
    const r = j.end.sum_received;
    const gb = r.bytes / GB;
    return {
      MBps: r.bits_per_second / 8 / MB,
      senderCpuPerGB: ((j.end.cpu_utilization_percent.host_total / 100) * r.seconds) / gb,
      receiverCpuPerGB: ((j.end.cpu_utilization_percent.remote_total / 100) * r.seconds) / gb,
    };
  } finally {
    server.kill();
  }
}

function hasCommand(cmd: string, args = ['--version']): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

/** Redis Streams XADD of `size`-byte values: msgs/s and server CPU cores, or undefined if absent. */
async function redisXadd(size: number, count: number): Promise<{ msgsPerSec: number; cores: number } | undefined> {
  if (process.env.BENCH_REDIS === '0' || !hasCommand('redis-server') || !hasCommand('redis-benchmark')) return undefined;
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    await sleep(300);
    const c0 = cpuSeconds(server.pid!);
    const t0 = performance.now();
    const d = await exec('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-n', String(count), '-P', '100', '-c', '1', '--csv', 'XADD', 'bench', '*', 'f', 'x'.repeat(size)]);
    const seconds = (performance.now() - t0) / 1000;
    const cores = (cpuSeconds(server.pid!) - c0) / seconds;
    const row = d.stdout.trim().split('\n').pop()!.split('","');
    return { msgsPerSec: Number(row[1]), cores };
  } finally {
    server.kill();
  }
}

// ---------------------------------------------------------------------------------- workloads

interface LoadResult {
  msgs: number;
  bytes: number;
  seconds: number;
  errors: number;
  settings: Record<string, string>;
}

interface Phase {
  what: string;
  size: number;
  partitions: number;
  msgsPerSec: number;
  MBps: number;
  seconds: number;
  brokerCpu: number;
  brokerCores: number;
  cpuPerGB: number;
  clientCpu?: number;
  settings: Record<string, string>;
  profile?: string[];
  /** The page-cache baseline written just before this produce. */
  pageCacheMBps?: number;
}

/** Runs `args` through the load generator while measuring the broker's CPU (and the client's via /usr/bin/time). */
async function measure(loadgen: string, brook: Brook, args: string[], what: string, size: number, partitions: number, perfDir?: string): Promise<Phase> {
  let perf: ChildProcess | undefined;
  const perfData = perfDir ? join(perfDir, `${what}-${size}B-${partitions}p.perf.data`) : undefined;
  if (perfData) {
    perf = spawn('perf', ['record', '-g', '-o', perfData, '-p', String(brook.pid)], { stdio: 'ignore' });
    await sleep(300);
  }
  const time = existsSync('/usr/bin/time');
  const c0 = cpuSeconds(brook.pid);
  const d = time ? await exec('/usr/bin/time', ['-f', 'CLIENT_CPU %U %S', loadgen, ...args]) : await exec(loadgen, args);
  const brokerCpu = cpuSeconds(brook.pid) - c0;
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((r) => perf!.once('exit', r));
  }
  const r = lastJson<LoadResult>(d, `${what} ${size} B`);
  if (r.errors > 0) throw new Error(`${what} ${size} B: ${r.errors} errors: ${d.stderr.slice(-1000)}`);
  const m = /CLIENT_CPU ([\d.]+) ([\d.]+)/.exec(d.stderr);
  const phase: Phase = {
    what,
    size,
    partitions,
    msgsPerSec: r.msgs / r.seconds,
    MBps: r.bytes / r.seconds / MB,
    seconds: r.seconds,
    brokerCpu,
    brokerCores: brokerCpu / r.seconds,
    cpuPerGB: brokerCpu / (r.bytes / GB),
    clientCpu: m ? Number(m[1]) + Number(m[2]) : undefined,
    settings: r.settings,
  };
  if (perfData) phase.profile = perfTop(perfData);
  return phase;
}

function perfTop(file: string, n = 15): string[] {
  const r = spawnSync('perf', ['report', '-i', file, '--no-children', '--sort', 'dso,sym', '-g', 'none', '--stdio'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .slice(0, n)
    .map((l) => l.trim());
}

function v8Top(dir: string, n = 12): string[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return ['(no .cpuprofile written)'];
  const { rows, busyMs } = topSelf(join(dir, files[0]!), n + 1);
  return [
    `busy ${busyMs.toFixed(0)} ms (V8 samples; native and kernel time shows under the JS function that called it)`,
    ...rows.filter((r) => r.fn !== '(idle)').slice(0, n).map((r) => `${r.selfPct.toFixed(1).padStart(5)}%  ${r.selfMs.toFixed(0).padStart(6)} ms  ${r.fn}  ${r.where}`),
  ];
}

// ---------------------------------------------------------------------------------------- run

/** Appends to the list under `key`. */
function push<K>(m: Map<K, number[]>, key: K, v: number): void {
  const list = m.get(key);
  if (list) list.push(v);
  else m.set(key, [v]);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function run(): Promise<Figure[]> {
  if (!hasCommand('iperf3')) throw new Error('iperf3 is not installed (apt-get install iperf3)');
  buildDist();
  const loadgen = buildLoadgen();
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  const runs = isSmoke() ? 1 : Number(process.env.BENCH_RUNS ?? 3);
  const partitionsList = (process.env.BENCH_PARTITIONS ?? '1').split(',').map(Number);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = join(resultsDir, `throughput-${stamp}`);
  const profile = process.env.BENCH_PROFILE === '1';
  const perf = process.env.BENCH_PERF === '1' && hasCommand('perf');
  if (profile || perf) mkdirSync(outDir, { recursive: true });
  const parent = process.env.BROOK_BENCH_DIR ?? tmpdir();

  const ips: Iperf[] = [];
  const phases: Phase[] = [];
  const pageCache = new Map<string, number[]>(); // ms per MB, per run
  const redis = new Map<number, { msgsPerSec: number; cores: number }[]>();
  for (let r = 0; r < runs; r++) {
    const ip = await iperf3();
    ips.push(ip);
    console.log(`run ${r + 1}/${runs}: iperf3 loopback ${ip.MBps.toFixed(0)} MB/s, sender ${ip.senderCpuPerGB.toFixed(2)} CPU s/GB, receiver ${ip.receiverCpuPerGB.toFixed(2)} CPU s/GB`);
    for (const { size } of workloads()) {
      const peer = await redisXadd(size, Math.round((size === 100 ? sized(2_000_000, 5_000) : sized(500_000, 2_000)) * scale));
      if (peer) redis.set(size, [...(redis.get(size) ?? []), peer]);
    }
    for (const partitions of partitionsList) {
      for (const { size, count: baseCount } of workloads()) {
        const count = Math.round(baseCount * scale);
        const dataDir = mkdtempSync(join(parent, 'brook-throughput-'));
        const key = `${size}/${partitions}`;
        try {
          // The page-cache baseline, just before the produce it bounds.
          const w = lastJson<{ bytes: number; seconds: number }>(await exec(loadgen, ['write', join(dataDir, 'pagecache-baseline'), String(count * size), String(1 << 20)]), 'write baseline');
          push(pageCache, key, (1000 * w.seconds) / (w.bytes / MB));
          const pageCacheMBps = w.bytes / MB / w.seconds;

          const tag = runs > 1 ? `-r${r + 1}` : '';
          const profDir = (what: string) => (profile ? join(outDir, `${what}-${size}B-${partitions}p${tag}`) : undefined);
          let brook = await startBrook(dataDir, profDir('produce'));
          const topic = `bench-${size}-${partitions}`;
          lastJson(await exec(loadgen, ['create', brook.bootstrap, topic, String(partitions)]), 'create topic');
          const produce = await measure(loadgen, brook, ['produce', brook.bootstrap, topic, String(count), String(size), '1'], 'produce', size, partitions, perf ? outDir : undefined);
          await brook.stop();
          if (profile) produce.profile = [...(produce.profile ?? []), ...v8Top(profDir('produce')!)];
          phases.push({ ...produce, pageCacheMBps });

          brook = await startBrook(dataDir, profDir('consume'));
          const consume = await measure(loadgen, brook, ['consume', brook.bootstrap, topic, String(count)], 'consume', size, partitions, perf ? outDir : undefined);
          await brook.stop();
          if (profile) consume.profile = [...(consume.profile ?? []), ...v8Top(profDir('consume')!)];
          phases.push(consume);
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
    }
  }
  // Once more at the end: loopback speed drifts on a shared VM, and the runs sit between these.
  const ipEnd = await iperf3();
  ips.push(ipEnd);
  console.log(`iperf3 loopback at the end: ${ipEnd.MBps.toFixed(0)} MB/s`);

  console.log(`\nbroker: node ${process.version}, data in ${parent}; ${runs} run(s)`);
  for (const p of phases) {
    console.log(
      `  ${p.what} ${p.size} B, ${p.partitions}p: ${Math.round(p.msgsPerSec)} msgs/s, ${p.MBps.toFixed(1)} MB/s in ${p.seconds.toFixed(2)} s, broker ${p.brokerCores.toFixed(2)} cores (${p.cpuPerGB.toFixed(2)} CPU s/GB)` +
        `${p.clientCpu !== undefined ? `, client ${p.clientCpu.toFixed(2)} CPU s` : ''}${p.pageCacheMBps !== undefined ? `; page-cache write just before: ${p.pageCacheMBps.toFixed(0)} MB/s` : ''}`,
    );
  }
  for (const [size, rs] of redis) console.log(`redis XADD ${size} B (pipeline 100, 1 connection): ${Math.round(mean(rs.map((r) => r.msgsPerSec)))} msgs/s, server ${mean(rs.map((r) => r.cores)).toFixed(2)} cores`);
  const producer = phases.find((p) => p.what === 'produce')?.settings;
  const consumer = phases.find((p) => p.what === 'consume')?.settings;
  console.log(`producer settings: ${JSON.stringify(producer)}`);
  console.log(`consumer settings: ${JSON.stringify(consumer)}`);
  for (const p of phases) {
    if (!p.profile) continue;
    console.log(`\nbroker profile, ${p.what} ${p.size} B, ${p.partitions}p:`);
    for (const l of p.profile) console.log(`  ${l}`);
  }
  if (profile || perf) console.log(`\nprofiles in ${outDir}`);

  // Samples in lower-is-better units (ms per MB, ms per message, CPU s per GB), one per run; a
  // rate is 1000 over their mean.
  const perSecond = (msPer: number) => 1000 / msPer;
  const ipRate = await statsOf(ips.map((i) => 1000 / i.MBps), perSecond);
  const ipCpu = { produce: await statsOf(ips.map((i) => i.receiverCpuPerGB)), consume: await statsOf(ips.map((i) => i.senderCpuPerGB)) };
  const groups = new Map<string, Phase[]>();
  for (const p of phases) groups.set(`${p.what}/${p.size}/${p.partitions}`, [...(groups.get(`${p.what}/${p.size}/${p.partitions}`) ?? []), p]);
  const figures: Figure[] = [];
  for (const ps of groups.values()) {
    const p = ps[0]!;
    const label = `${p.what} ${p.size === 1024 ? '1 KiB' : `${p.size} B`}, ${p.partitions}p`;
    const extra = { 'msgs/s': Math.round(mean(ps.map((x) => x.msgsPerSec))), brokerCores: Number(mean(ps.map((x) => x.brokerCores)).toFixed(2)) };
    const target = p.what === 'produce' ? (p.size === 100 ? '>= 150 MB/s (1.5M msgs/s), <= 1 core' : '>= 1200 MB/s, <= 1 core') : p.size === 1024 ? '>= 2000 MB/s' : '';
    const mbps = await statsOf(ps.map((x) => 1000 / x.MBps), perSecond);
    figures.push({ name: `${label}: MB/s vs loopback TCP`, ours: mbps, baseline: ipRate, unit: 'MB/s', baselineName: 'iperf3', pages: p.what === 'produce' ? 'fresh' : undefined, target, extra });
    if (p.what === 'produce') {
      figures.push({ name: `${label}: MB/s vs page-cache write`, ours: mbps, baseline: await statsOf(pageCache.get(`${p.size}/${p.partitions}`)!, perSecond), unit: 'MB/s', baselineName: 'write(2) 1 MiB calls', pages: 'fresh', extra });
      const peer = redis.get(p.size);
      if (peer) {
        figures.push({
          name: `${label}: msgs/s vs Redis Streams`,
          ours: await statsOf(ps.map((x) => 1000 / x.msgsPerSec), perSecond),
          baseline: await statsOf(peer.map((r) => 1000 / r.msgsPerSec), perSecond),
          unit: 'msgs/s',
          baselineName: 'redis XADD, pipeline 100',
          target: p.size === 100 ? '>= 1.5M msgs/s' : '',
          extra: { redisCores: Number(mean(peer.map((r) => r.cores)).toFixed(2)) },
        });
      }
    }
    const cpu = await statsOf(ps.map((x) => x.cpuPerGB));
    figures.push({ name: `${label}: broker CPU`, ours: cpu, baseline: p.what === 'produce' ? ipCpu.produce : ipCpu.consume, unit: 'CPU s/GB', baselineName: `iperf3 ${p.what === 'produce' ? 'receiver' : 'sender'}`, higherIsBetter: false, target: p.what === 'produce' ? '<= 1 core' : '', extra });
  }
  return figures;
}
