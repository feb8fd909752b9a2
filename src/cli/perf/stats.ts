/**
 * What the perf commands share: latency samples and their percentiles (Kafka's ProducerPerformance
 * keeps every n-th latency so that at most ~500,000 are kept, sorts them at the end and takes the
 * element at floor(p * size)), number formats as Java's printf writes them, Kafka's date format for
 * the consumer CSV, a progress bar for terminals, flag parsing helpers and consumer settings.
 */
import { readFileSync } from 'node:fs';
import { parseProperties } from '../../config.js';
import type { ConsumerOptions } from '../../kafka/consumer.js';
import { consumerOptions as consoleConsumerOptions } from '../consume.js';
import { UsageError, type ParsedFlags } from '../args.js';

/** MB as Kafka's perf tools count it. */
export const MB = 1024 * 1024;

/** Latencies in ms: count, sum and max of all, and every `stride`-th kept for percentiles. */
export class LatencySample {
  private readonly kept: Float64Array;
  private readonly stride: number;
  private seen = 0;
  private index = 0;
  count = 0;
  sum = 0;
  max = 0;

  constructor(expected: number, keep = 500_000) {
    // Kafka: sampling = numRecords / min(numRecords, 500000), an integer division.
    this.stride = Math.max(1, Math.floor(expected / Math.max(1, Math.min(expected, keep))));
    this.kept = new Float64Array(Math.floor(expected / this.stride) + 1);
  }

  add(ms: number): void {
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    if (this.seen++ % this.stride === 0 && this.index < this.kept.length) this.kept[this.index++] = ms;
  }

  get avg(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The kept latency at floor(p * size) of the sorted samples, for each p (0 when none were kept). */
  percentiles(...ps: number[]): number[] {
    const sorted = this.kept.subarray(0, this.index).sort();
    return ps.map((p) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!));
  }
}

/** Java's `%.Nf`: fixed decimals (toFixed rounds half-even on binary values; Java rounds HALF_UP on the decimal; the difference is the last digit of ties). */
export function fixed(v: number, decimals: number): string {
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN';
  return v.toFixed(decimals);
}

/**
 * A date in Java SimpleDateFormat's letters, local time: yyyy, yy, MM, dd, HH, hh, mm, ss, SSS, a;
 * text in single quotes is literal. Kafka's consumer perf default is `yyyy-MM-dd HH:mm:ss:SSS`.
 */
export function formatDate(ms: number, pattern: string): string {
  const d = new Date(ms);
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return pattern.replace(/'([^']*)'|yyyy|yy|MM|dd|HH|hh|mm|ss|SSS|a/g, (tok, quoted: string | undefined) => {
    if (quoted !== undefined) return quoted === '' ? "'" : quoted;
    switch (tok) {
      case 'yyyy':
        return pad(d.getFullYear(), 4);
      case 'yy':
        return pad(d.getFullYear() % 100, 2);
      case 'MM':
        return pad(d.getMonth() + 1, 2);
      case 'dd':
        return pad(d.getDate(), 2);
      case 'HH':
        return pad(d.getHours(), 2);
      case 'hh':
        return pad(d.getHours() % 12 || 12, 2);
      case 'mm':
        return pad(d.getMinutes(), 2);
      case 'ss':
        return pad(d.getSeconds(), 2);
      case 'SSS':
        return pad(d.getMilliseconds(), 3);
      default:
        return d.getHours() < 12 ? 'AM' : 'PM';
    }
  });
}

/**
 * A one-line progress bar on stderr, only when stderr is a terminal (never in pipes, files or CI
 * logs). Redrawn at most 5 times a second from a timer, so the hot loop only bumps a counter.
 */
export class ProgressBar {
  private readonly timer: NodeJS.Timeout | undefined;
  private drawn = false;

  constructor(
    private readonly total: number,
    private readonly done: () => number,
    private readonly label: () => string = () => '',
  ) {
    if (process.stderr.isTTY) {
      this.timer = setInterval(() => this.draw(), 200);
      this.timer.unref();
    }
  }

  private draw(): void {
    const width = Math.max(10, Math.min(40, (process.stderr.columns ?? 80) - 50));
    const n = this.done();
    const frac = this.total > 0 ? Math.min(1, n / this.total) : 0;
    const full = Math.round(frac * width);
    process.stderr.write(`\r\x1b[K[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${fixed(frac * 100, 1).padStart(5)}% ${n}/${this.total} ${this.label()}`);
    this.drawn = true;
  }

  /** Removes the bar (before a line is printed on the terminal, and at the end). */
  clear(): void {
    if (this.drawn) process.stderr.write('\r\x1b[K');
    this.drawn = false;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }
}

/** A positive integer flag (required when `required`). */
export function positiveInt(flags: ParsedFlags, name: string, required: boolean): number | undefined {
  const raw = flags.strings.get(name);
  if (raw === undefined) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  if (!/^\d+$/.test(raw) || Number(raw) <= 0 || !Number.isSafeInteger(Number(raw))) throw new UsageError(`--${name} should be a positive integer, got "${raw}"`);
  return Number(raw);
}

/** --throughput: -1 (or any negative) for no limit, else records per second > 0. */
export function throughputFlag(flags: ParsedFlags, required: boolean): number {
  const raw = flags.strings.get('throughput');
  if (raw === undefined) {
    if (required) throw new UsageError('--throughput is required (records/sec, or -1 for no limit)');
    return -1;
  }
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n === 0) throw new UsageError(`--throughput expects records/sec > 0, or -1 for no limit, got "${raw}"`);
  return n < 0 ? -1 : n;
}

/** Properties from a file flag (--producer.config, --consumer.config); a missing file is a usage error. */
export function propertiesFile(flag: string, file: string | undefined): Map<string, string> {
  if (file === undefined) return new Map();
  try {
    return parseProperties(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read --${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export { clientProps } from '../common.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Consumer settings from Kafka's property names (also `brook perf e2e`'s --consumer-props). */
export function consumerOptions(props: Map<string, string>, fetchSize: number | undefined, reset: 'earliest' | 'latest'): ConsumerOptions {
  // Kafka's consumer (and so its perf tool) reads read_uncommitted unless isolation.level says otherwise.
  const isolation = props.get('isolation.level') ?? 'read_uncommitted';
  if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') throw new UsageError(`isolation.level must be read_committed or read_uncommitted, not ${isolation}`);
  const opts: ConsumerOptions = { ...consoleConsumerOptions(props, reset), isolationLevel: isolation };
  return fetchSize === undefined ? opts : { ...opts, partitionMaxBytes: fetchSize };
}
