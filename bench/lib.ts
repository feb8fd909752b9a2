/**
 * Shared plumbing for benchmarks: every workload file under bench/ exports `run(): Promise<Figure[]>`,
 * and each figure is reported beside a baseline measured in the same run, because these machines are
 * shared and noisy: the ratio is the claim, not the absolute number.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Figure {
  /** What was measured, e.g. "append 16 KiB batches". */
  name: string;
  /** Our figure and the baseline's, in the same unit. */
  value: number;
  baseline: number;
  unit: string; // "MB/s", "GB/s", "msgs/s", "CPU s/GB" ...
  /** Which baseline, e.g. "plain C++ write()". */
  baselineName: string;
  /** For throughputs higher is better; for costs (CPU s/GB) lower is better. */
  higherIsBetter?: boolean;
  /** "fresh" when the run wrote to pages never touched before, "reused" when it recycled warm ones. */
  pages?: 'fresh' | 'reused';
  /** A target the issue set, as a ratio or an absolute, for the table. */
  target?: string;
  extra?: Record<string, number | string>;
}

export function ratio(f: Figure): number {
  const hib = f.higherIsBetter ?? true;
  return hib ? f.value / f.baseline : f.baseline / f.value;
}

export function printTable(title: string, figures: Figure[]): void {
  console.log(`\n## ${title}`);
  const rows = figures.map((f) => ({
    workload: f.name,
    ours: `${fmt(f.value)} ${f.unit}`,
    baseline: `${fmt(f.baseline)} ${f.unit} (${f.baselineName})`,
    ratio: `${(ratio(f) * 100).toFixed(1)}%`,
    pages: f.pages ?? '',
    target: f.target ?? '',
  }));
  console.table(rows);
}

function fmt(n: number): string {
  if (n >= 100) return n.toFixed(0);
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(3);
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

export function saveResults(name: string, figures: Figure[]): string {
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(resultsDir, `${name}-${stamp}.json`);
  writeFileSync(
    path,
    JSON.stringify({ name, at: new Date().toISOString(), node: process.version, figures: figures.map((f) => ({ ...f, ratio: ratio(f) })) }, null, 2),
  );
  return path;
}
