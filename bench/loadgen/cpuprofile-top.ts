/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, top N, as a table.
 *   npx tsx bench/loadgen/cpuprofile-top.ts <file.cpuprofile> [N]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  fn: string;
  where: string;
  selfMs: number;
  selfPct: number;
}

/** Self time per function (summed over call sites), busiest first; idle/program/GC kept as rows. */
export function topSelf(path: string, n = 25): { rows: ProfileRow[]; totalMs: number; busyMs: number } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0; // a sample's time is the gap to the next one
    selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + dt);
  }
  const byFn = new Map<string, { fn: string; where: string; us: number }>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    const file = f.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\//, '');
    const where = file ? `${file}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName}|${where}`;
    const row = byFn.get(key) ?? { fn: f.functionName || '(anonymous)', where, us: 0 };
    row.us += us;
    byFn.set(key, row);
    total += us;
    if (f.functionName === '(idle)') idle += us;
  }
  const rows = [...byFn.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, n)
    .map((r) => ({ fn: r.fn, where: r.where, selfMs: r.us / 1000, selfPct: (100 * r.us) / Math.max(1, total - idle) }));
  return { rows, totalMs: total / 1000, busyMs: (total - idle) / 1000 };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: cpuprofile-top.ts <file.cpuprofile> [N]');
    process.exit(2);
  }
  const { rows, totalMs, busyMs } = topSelf(file, Number(process.argv[3] ?? 25));
  console.log(`profile ${totalMs.toFixed(0)} ms, busy (not idle) ${busyMs.toFixed(0)} ms; self % of busy:`);
  console.table(rows.map((r) => ({ function: r.fn, where: r.where, 'self ms': r.selfMs.toFixed(1), '% busy': r.selfPct.toFixed(1) })));
}
