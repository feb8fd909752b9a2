/**
 * Shared plumbing for benchmarks: every workload file under bench/ exports `run(): Promise<Figure[]>`,
 * and each figure is reported beside a baseline measured in the same run, because these machines are
 * shared and noisy: the ratio is the claim, not the absolute number.
 *
 * In-process workloads measure through `measure()` (tinybench); process-level ones record one
 * sample per run and turn them into the same statistics with `statsOf()`. Both end in the same
 * `Figure`, table and JSON (schema in bench/README.md).
 */
import { setMaxListeners } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench, type Statistics } from 'tinybench';

// ------------------------------------------------------------------------------------ figures

/** One side of a figure: the value in the figure's unit and the statistics behind it. */
export interface Stats {
  /** The figure in its unit (a throughput, a time or a cost). */
  value: number;
  /** Relative margin of error of `value` in percent (tinybench's, 95% Student's t). NaN: unknown. */
  rme: number;
  /** How many samples the statistics come from. */
  samples: number;
  /**
   * Per operation, in ms: mean, p50 and p99 of the samples. When ops are batched (see `measure`),
   * a sample is the mean of one batch, so the percentiles are of batch means.
   */
  mean: number;
  p50: number;
  p99: number;
  /** Operations per second (tinybench's throughput mean). */
  opsPerSec: number;
}

export interface Figure {
  /** What was measured, e.g. "append 16 KiB batches". */
  name: string;
  unit: string; // "MB/s", "GB/s", "msgs/s", "CPU s/GB", "ms" ...
  ours: Stats;
  baseline: Stats;
  /** Which baseline, e.g. "plain C++ write()". */
  baselineName: string;
  /** For throughputs higher is better; for costs (CPU s/GB, ms) lower is better. */
  higherIsBetter?: boolean;
  /** "fresh" when the run wrote to pages never touched before, "reused" when it recycled warm ones. */
  pages?: 'fresh' | 'reused';
  /** A target the issue set, as a ratio or an absolute, for the table. */
  target?: string;
  extra?: Record<string, number | string>;
}

export function ratio(f: Figure): number {
  const hib = f.higherIsBetter ?? true;
  return hib ? f.ours.value / f.baseline.value : f.baseline.value / f.ours.value;
}

/**
 * Relative margin of the ratio in percent: the two relative margins added in quadrature, the
 * first-order error of a quotient of independent estimates.
 */
export function ratioRme(f: Figure): number {
  return Math.hypot(f.ours.rme, f.baseline.rme);
}

/**
 * true when the two 95% intervals (value +- margin) do not overlap, false when they do (the
 * difference is within the noise), null when a side has no margin (fewer than two samples).
 */
export function significant(f: Figure): boolean | null {
  const o = f.ours;
  const b = f.baseline;
  if (!Number.isFinite(o.rme) || !Number.isFinite(b.rme)) return null;
  const lo = (s: Stats) => s.value * (1 - s.rme / 100);
  const hi = (s: Stats) => s.value * (1 + s.rme / 100);
  return hi(o) < lo(b) || hi(b) < lo(o);
}

// --------------------------------------------------------------------------------------- mode

let smokeMode = false;

/** Set by run.ts before any workload is imported. */
export function setSmoke(on: boolean): void {
  smokeMode = on;
}

/**
 * `--smoke`: every workload runs for a fraction of a second on tiny sizes to check that it runs and
 * produces its figures. Workloads pick their sizes with `sized(full, tiny)`.
 */
export function isSmoke(): boolean {
  return smokeMode;
}

export function sized<T>(full: T, tiny: T): T {
  return smokeMode ? tiny : full;
}

// ---------------------------------------------------------------------------------- measuring

/**
 * One operation. Either a closure the harness times (sync or async), or `{ timed }`: runs `n`
 * operations and returns the milliseconds they took as measured by the op itself, for work timed
 * inside C++ or with per-run setup (a new file, a log to build) that must stay out of the figure.
 * `batch` fixes n (no calibration) when a sample must be a given amount of work.
 */
export type Op = (() => unknown) | { timed: (n: number) => number | Promise<number>; batch?: number };

export interface MeasureOptions {
  /** Time budget per op, ms (tinybench `time`). Default 1000; smoke 20. */
  time?: number;
  /** Minimum samples per op (tinybench `iterations`). Default 10; smoke at most 2. */
  iterations?: number;
  /** Warmup budget per op, ms, and minimum warmup samples. Default 200 ms, 2; smoke 5 ms, 1. */
  warmupTime?: number;
  warmupIterations?: number;
  /**
   * Ops are batched until a batch takes at least this long (ms), so the timer and the harness stay
   * small next to what they time. Default 2; 0 means one op per sample.
   */
  sampleMs?: number;
  /** Also record the process's CPU time (all threads: user + system) per op. */
  cpu?: boolean;
}

export interface Measured {
  /** Latency per op (ms) and throughput (ops/s), tinybench's statistics. */
  latency: Statistics;
  throughput: Statistics;
  /** CPU ms per op, when asked for. */
  cpu?: Statistics;
}

/**
 * Hands the CPU to one task at a time. tinybench's 'bench' concurrency starts every task at once;
 * with this, their samples interleave (a noisy neighbour slows ours and the baseline alike) while
 * no two ever run together. With a time budget the turn goes to the task that has used the least
 * measured time, so each gets its own budget and a fast op runs several samples in a row to stay
 * level with a slow one; with a fixed sample count (time 0) it goes to the task with the fewest
 * samples, so they alternate instead of the fast one taking all its samples first. Turns are decided
 * on the next macrotask, when the task that just ran has asked again.
 */
class FairTurns {
  constructor(private readonly bySamples: boolean) {}
  private readonly used = new Map<string, number>();
  private readonly samples = new Map<string, number>();
  private readonly waiting = new Map<string, () => void>();
  private busy = false;
  private scheduled = false;

  reset(): void {
    this.used.clear();
    this.samples.clear();
  }

  turn(name: string): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.set(name, resolve);
      this.kick();
    });
  }

  done(name: string, ms: number): void {
    this.used.set(name, (this.used.get(name) ?? 0) + ms);
    this.samples.set(name, (this.samples.get(name) ?? 0) + 1);
    this.busy = false;
    this.kick();
  }

  private kick(): void {
    if (this.busy || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.busy || this.waiting.size === 0) return;
      let next: string | undefined;
      const spent = this.bySamples ? this.samples : this.used;
      for (const name of this.waiting.keys()) if (next === undefined || (spent.get(name) ?? 0) < (spent.get(next) ?? 0)) next = name;
      const resolve = this.waiting.get(next!)!;
      this.waiting.delete(next!);
      this.busy = true;
      resolve();
    });
  }
}

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as { then?: unknown } | null)?.then === 'function';

/** Runs `n` ops of `op` and returns the ms they took. */
async function runBatch(op: Op, n: number, async: boolean): Promise<number> {
  if (typeof op !== 'function') return op.timed(n);
  const t0 = performance.now();
  if (async) for (let i = 0; i < n; i++) await op();
  else for (let i = 0; i < n; i++) op();
  return performance.now() - t0;
}

/**
 * Measures every op in ONE tinybench Bench (explicit time, iterations and warmup), interleaved
 * (see FairTurns), so a baseline and ours see the same machine. Returns tinybench's statistics
 * per op, by name.
 */
export async function measure(ops: Record<string, Op>, opts: MeasureOptions = {}): Promise<Record<string, Measured>> {
  const time = smokeMode ? Math.min(opts.time ?? 20, 20) : (opts.time ?? 1000);
  const iterations = smokeMode ? Math.min(opts.iterations ?? 2, 2) : (opts.iterations ?? 10);
  const warmupTime = smokeMode ? Math.min(opts.warmupTime ?? 5, 5) : (opts.warmupTime ?? 200);
  const warmupIterations = smokeMode ? 1 : (opts.warmupIterations ?? 2);
  const sampleMs = smokeMode ? Math.min(opts.sampleMs ?? 0.5, 0.5) : (opts.sampleMs ?? 2);

  // Batch size per op: one call tells whether it is async; then double until a batch is long
  // enough. This sizes batches only; every reported figure comes from the Bench below.
  const batch = new Map<string, { n: number; async: boolean }>();
  for (const [name, op] of Object.entries(ops)) {
    let async = false;
    if (typeof op === 'function') {
      const first = op();
      async = isThenable(first);
      if (async) await first; // never two calls of one op in flight
    }
    let n = typeof op === 'function' ? 1 : (op.batch ?? 1);
    if (typeof op !== 'function' && op.batch !== undefined) {
      batch.set(name, { n, async });
      continue;
    }
    // Twice: the first pass runs cold (interpreted, caches empty) and would settle too small.
    for (let pass = 0; pass < 2 && sampleMs > 0; pass++) while (n < 1 << 24 && (await runBatch(op, n, async)) < sampleMs) n *= 2;
    batch.set(name, { n, async });
  }

  const turns = new FairTurns(time === 0);
  const cpuSamples = new Map<string, number[]>();
  // On a failure the other tasks must stop too, or they would go on running behind the error.
  const abort = new AbortController();
  setMaxListeners(Object.keys(ops).length + 2, abort.signal); // tinybench listens once per task
  const bench = new Bench({ time, iterations, warmup: true, warmupTime, warmupIterations, concurrency: 'bench', throws: true, signal: abort.signal });
  let phase: 'warmup' | 'run' = 'warmup';
  bench.addEventListener('start', () => {
    phase = 'run';
    turns.reset();
  });
  for (const [name, op] of Object.entries(ops)) {
    const { n, async } = batch.get(name)!;
    const cpu: number[] = [];
    cpuSamples.set(name, cpu);
    bench.add(
      name,
      async () => {
        await turns.turn(name);
        let ms = 0;
        try {
          const c0 = opts.cpu ? process.cpuUsage() : undefined;
          ms = await runBatch(op, n, async);
          if (c0 && phase === 'run') {
            const c = process.cpuUsage(c0);
            cpu.push((c.user + c.system) / 1000 / n);
          }
        } catch (e) {
          abort.abort();
          throw e;
        } finally {
          turns.done(name, ms);
        }
        // A sample is the mean of the batch; the whole batch counts against the time budget.
        return { overriddenDuration: ms / n, overriddenIterationCost: ms };
      },
      { async: true },
    );
  }
  await bench.run();

  const out: Record<string, Measured> = {};
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state === 'errored') throw r.error;
    if (r.state !== 'completed') throw new Error(`benchmark task ${task.name} did not complete (${r.state})`);
    out[task.name] = { latency: r.latency, throughput: r.throughput };
    if (opts.cpu) out[task.name]!.cpu = await replay(cpuSamples.get(task.name)!);
  }
  return out;
}

/**
 * tinybench's statistics of samples recorded elsewhere (a process-level run, CPU time): a task
 * whose every iteration reports one recorded sample as its duration, so the numbers come from the
 * same code as every other figure.
 */
async function replay(samples: number[]): Promise<Statistics> {
  if (samples.length === 0) throw new Error('no samples to summarise');
  const bench = new Bench({ time: 0, iterations: samples.length, warmup: false, throws: true });
  let i = 0;
  bench.add('replay', () => ({ overriddenDuration: samples[i++ % samples.length]! }), { async: false });
  await bench.run();
  const r = bench.tasks[0]!.result;
  if (r.state !== 'completed') throw new Error(`replay did not complete (${r.state})`);
  return r.latency;
}

function stats(value: number, rme: number, latency: Statistics, opsPerSec: number): Stats {
  return { value, rme: latency.samplesCount > 1 ? rme : NaN, samples: latency.samplesCount, mean: latency.mean, p50: latency.p50, p99: latency.p99, opsPerSec };
}

/** A throughput side: `unitsPerOp` of the figure's unit (e.g. GB per op for GB/s) times ops/s. */
export function rate(m: Measured, unitsPerOp: number): Stats {
  return stats(m.throughput.mean * unitsPerOp, m.throughput.rme, m.latency, m.throughput.mean);
}

/** A time side: ms per op. */
export function duration(m: Measured): Stats {
  return stats(m.latency.mean, m.latency.rme, m.latency, m.throughput.mean);
}

/** A cost side: CPU seconds per unit, e.g. `unitsPerOp` = GB per op for CPU s/GB. */
export function cpuPer(m: Measured, unitsPerOp: number): Stats {
  if (!m.cpu) throw new Error('measure() was not asked for cpu');
  // mean, p50 and p99 per op are CPU ms here, the quantity the figure is about.
  return stats(m.cpu.mean / 1000 / unitsPerOp, m.cpu.rme, m.cpu, m.throughput.mean);
}

/**
 * For process-level workloads: one recorded sample per run, in units where lower is better
 * (ms per op, CPU s per GB, s per MB...), summarised by tinybench. `value` maps the mean of the
 * samples to the figure's unit; the margin is relative, so it carries over to any such mapping.
 */
export async function statsOf(samples: number[], value: (mean: number) => number = (m) => m): Promise<Stats> {
  const s = await replay(samples);
  return { value: value(s.mean), rme: s.samplesCount > 1 ? s.rme : NaN, samples: s.samplesCount, mean: s.mean, p50: s.p50, p99: s.p99, opsPerSec: s.mean > 0 ? 1000 / s.mean : NaN };
}

/**
 * Checks a smoke run's figures: each has finite values and at least one sample per side. Values
 * are not judged, only that the figure was produced.
 */
export function checkFigures(workload: string, figures: Figure[]): string[] {
  const problems: string[] = [];
  if (figures.length === 0) problems.push(`${workload}: no figures`);
  for (const f of figures) {
    for (const [side, s] of [['ours', f.ours], ['baseline', f.baseline]] as const) {
      if (!(Number.isFinite(s.value) && s.value >= 0)) problems.push(`${workload} / ${f.name}: ${side} value ${s.value}`);
      if (!(s.samples >= 1)) problems.push(`${workload} / ${f.name}: ${side} has no samples (not measured through tinybench)`);
    }
  }
  return problems;
}

// --------------------------------------------------------------------------------------- table

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 0.1) return n.toFixed(3);
  return n.toPrecision(3);
}

/** Below 10x as a percentage (targets are written so: ">= 85%"), above as a multiple. */
function fmtRatio(r: number): string {
  return r < 10 ? `${(r * 100).toFixed(1)}%` : `${r.toFixed(1)}x`;
}

function pm(rme: number): string {
  return Number.isFinite(rme) ? `±${rme.toFixed(1)}%` : '±?';
}

function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  if (ms >= 1e-3) return `${(ms * 1e3).toFixed(1)} µs`;
  return `${(ms * 1e6).toFixed(0)} ns`;
}

export function sigLabel(s: boolean | null): string {
  return s === null ? 'unknown (no margin)' : s ? 'yes' : 'not significant';
}

/** The one table every workload prints. */
export function printTable(title: string, figures: Figure[]): void {
  console.log(`\n## ${title}`);
  console.table(
    figures.map((f) => ({
      figure: f.name,
      ours: `${fmt(f.ours.value)} ${f.unit} ${pm(f.ours.rme)}`,
      baseline: `${fmt(f.baseline.value)} ${f.unit} ${pm(f.baseline.rme)} (${f.baselineName})`,
      ratio: `${fmtRatio(ratio(f))} ${pm(ratioRme(f))}`,
      significant: sigLabel(significant(f)),
      samples: `${f.ours.samples} / ${f.baseline.samples}`,
      'ours p50 / p99 per op': f.ours.samples > 0 ? `${fmtMs(f.ours.p50)} / ${fmtMs(f.ours.p99)}` : '',
      pages: f.pages ?? '',
      target: f.target ?? '',
    })),
  );
}

// ---------------------------------------------------------------------------------------- JSON

/** Bumped whenever a field changes meaning; bench/README.md documents each version. */
export const SCHEMA_VERSION = 2;

export interface ResultFigure extends Figure {
  ratio: number;
  ratioRme: number;
  significant: boolean | null;
}

export interface ResultFile {
  version: number;
  workload: string;
  title: string;
  at: string;
  node: string;
  tinybench: string;
  host: { cpus: number; model: string; platform: string };
  figures: ResultFigure[];
}

function tinybenchVersion(): string {
  try {
    const pkg = join(dirname(fileURLToPath(import.meta.resolve('tinybench'))), '..', 'package.json');
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

export function toResult(workload: string, title: string, figures: Figure[]): ResultFile {
  return {
    version: SCHEMA_VERSION,
    workload,
    title,
    at: new Date().toISOString(),
    node: process.version,
    tinybench: tinybenchVersion(),
    host: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', platform: process.platform },
    figures: figures.map((f) => ({ ...f, ratio: ratio(f), ratioRme: ratioRme(f), significant: significant(f) })),
  };
}

export function saveResults(result: ResultFile): string {
  mkdirSync(resultsDir, { recursive: true });
  const stamp = result.at.replace(/[:.]/g, '-');
  const path = join(resultsDir, `${result.workload}-${stamp}.json`);
  // NaN (an unknown margin) is not JSON: it is written as null.
  writeFileSync(path, JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
  return path;
}

// ------------------------------------------------------------------------------------- compare

interface ComparableFigure {
  name: string;
  ratio: number;
  ratioRme: number;
}

/** Reads a result file of this schema, or a version-1 file (no version field, no margins). */
function loadForCompare(path: string): { workload: string; at: string; figures: ComparableFigure[] } {
  const j = JSON.parse(readFileSync(path, 'utf8')) as Partial<ResultFile> & { name?: string; figures?: { name: string; ratio: number; ratioRme?: number | null }[] };
  if (j.version !== undefined && j.version !== SCHEMA_VERSION) throw new Error(`${path}: schema version ${j.version}, this harness reads ${SCHEMA_VERSION} (and 1)`);
  if (!Array.isArray(j.figures)) throw new Error(`${path}: not a benchmark result (no figures)`);
  return {
    workload: j.workload ?? j.name ?? '?',
    at: j.at ?? '?',
    figures: j.figures.map((f) => ({ name: f.name, ratio: f.ratio, ratioRme: typeof f.ratioRme === 'number' ? f.ratioRme : NaN })),
  };
}

/**
 * `--compare A.json B.json`: per figure, B's ratio over A's (ratio of ratios: did ours move against
 * its baseline between the two runs?), with the two ratios' margins added in quadrature, and
 * whether the two ratio intervals overlap.
 */
export function compareFiles(pathA: string, pathB: string): void {
  const a = loadForCompare(pathA);
  const b = loadForCompare(pathB);
  console.log(`\n## ${a.workload} (${a.at}) -> ${b.workload} (${b.at})`);
  const byName = new Map(b.figures.map((f) => [f.name, f]));
  const rows = [];
  for (const fa of a.figures) {
    const fb = byName.get(fa.name);
    if (!fb) {
      rows.push({ figure: fa.name, 'A ratio': `${fmtRatio(fa.ratio)} ${pm(fa.ratioRme)}`, 'B ratio': '(missing)', 'B / A': '', significant: '' });
      continue;
    }
    byName.delete(fa.name);
    const rr = fb.ratio / fa.ratio;
    const rme = Math.hypot(fa.ratioRme, fb.ratioRme);
    const lo = (f: ComparableFigure) => f.ratio * (1 - f.ratioRme / 100);
    const hi = (f: ComparableFigure) => f.ratio * (1 + f.ratioRme / 100);
    const sig = Number.isFinite(rme) ? hi(fa) < lo(fb) || hi(fb) < lo(fa) : null;
    rows.push({
      figure: fa.name,
      'A ratio': `${fmtRatio(fa.ratio)} ${pm(fa.ratioRme)}`,
      'B ratio': `${fmtRatio(fb.ratio)} ${pm(fb.ratioRme)}`,
      'B / A': `${rr.toFixed(3)}x ${pm(rme)}`,
      significant: sigLabel(sig),
    });
  }
  for (const fb of byName.values()) rows.push({ figure: fb.name, 'A ratio': '(missing)', 'B ratio': `${fmtRatio(fb.ratio)} ${pm(fb.ratioRme)}`, 'B / A': '', significant: '' });
  console.table(rows);
}
