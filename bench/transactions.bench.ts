/**
 * Transactions (issue 12): what a transaction costs on the produce path, and what read_committed
 * costs on the fetch path, each beside the same work without it, against Brook as a child process
 * (one broker, one partition, 1 KiB records), driven by the librdkafka load generator
 * (bench/loadgen/rdkafka-load.c).
 *
 * Produce: `rdkafka-load txproduce` (transactional.id, 100 records per transaction, begin / produce /
 * commit, one transaction at a time as librdkafka allows) beside `rdkafka-load produce` of the same
 * records with enable.idempotence=true (so acks=all and at most 5 requests in flight, as the
 * transactional producer has): the difference is the transaction protocol alone (AddPartitionsToTxn,
 * EndTxn, the markers, and the flush each commit forces). Target >= 70% of the idempotent records/s.
 * A third producer aborts every 10th transaction (flushed first, so the aborted records are in the
 * log); its records/s is reported against the same baseline.
 *
 * Consume: the topic the transactional producer wrote (every record committed, a COMMIT marker after
 * each 100) read from the beginning with isolation.level=read_committed beside read_uncommitted:
 * both see the same records, so the difference is the read_committed path alone (reads bounded by
 * the last stable offset, the aborted-transaction list in every fetch answer). Target >= 90%.
 * The topic with 10% aborted is read both ways too: read_committed delivers 90% of its records
 * (librdkafka drops the aborted ones using the fetch answer's list), read_uncommitted all; that
 * figure is the log's records per second of reading to its end, so both sides cover the same log.
 * Its record counts are checked with kcat under both isolation levels every round: a broker that
 * let aborted records through (or hid committed ones) fails the bench instead of looking fast.
 *
 * Each round (BENCH_RUNS, default 4: even, so each order runs as often) runs on a fresh broker and
 * data directory: an untimed warm-up of each producer, then the three produces (idempotent and
 * transactional in an order that alternates per round, then the aborting one), then the four
 * consumes (the two isolation levels alternate which goes first). Broker CPU is utime + stime of
 * the broker process from /proc over each produce or consume, per GB of record values written or
 * in the log read; every figure's `extra` has each round's own ratio (ratioPerRound, min, max), the
 * mean records/s, broker cores and the 1-minute load average at the start and end (the machine is
 * shared). --smoke: one round of 2,000 records per produce.
 *
 * Environment: BENCH_RUNS (default 4), BENCH_SCALE (records x this, default 300,000 per produce),
 * BENCH_TXN_PER_TXN (records per transaction, default 100), BROOK_BENCH_DIR (data directory parent).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSmoke, sized, statsOf, type Figure } from './lib.js';
import { buildDist, buildLoadgen, cpuSeconds, exec, lastJson, startBrook, type Brook } from './throughput.bench.js';

export const title = 'transactions: librdkafka transactional produce vs idempotent, read_committed vs read_uncommitted consume (Brook child process)';

const GB = 1e9;
const SIZE = 1024;
/** One produce or consume can take minutes on a loaded box; the default exec timeout is 2. */
const TIMEOUT_MS = 15 * 60_000;

/** What the load generator prints (produce, txproduce, consume share these fields). */
interface LoadResult {
  msgs: number;
  bytes: number;
  seconds: number;
  errors: number;
  committedMsgs?: number;
  aborted?: number;
  transactions?: number;
  settings: Record<string, string>;
}

interface Sample {
  recordsPerSec: number;
  brokerCpuPerGB: number;
  brokerCores: number;
}

type Side = 'idempotent' | 'transactional' | 'transactional10' | 'committedRc' | 'committedRu' | 'abortedRc' | 'abortedRu';

/** The settings the idempotent baseline adds to `rdkafka-load produce ... -1`: what a transactional producer implies. */
const IDEMPOTENT_ENV = { RDKAFKA_enable_idempotence: 'true', RDKAFKA_max_in_flight_requests_per_connection: '5' };

/**
 * Runs the load generator once, timing the broker's CPU over it. `logRecords`: the records the
 * CPU cost and the rate are per (those written, or those in the log read), when not the
 * generator's own count (read_committed on a topic with aborted records delivers fewer).
 */
async function timed(loadgen: string, brook: Brook, args: string[], env: Record<string, string>, what: string, logRecords?: number): Promise<{ s: Sample; r: LoadResult }> {
  const c0 = cpuSeconds(brook.pid);
  const d = await exec(loadgen, args, { env: { ...process.env, ...env }, timeoutMs: TIMEOUT_MS });
  const cpu = cpuSeconds(brook.pid) - c0;
  const r = lastJson<LoadResult>(d, what);
  if (r.errors > 0) throw new Error(`${what}: ${r.errors} errors: ${d.stderr.slice(-1000)}`);
  const records = logRecords ?? r.msgs;
  return { s: { recordsPerSec: records / r.seconds, brokerCpuPerGB: cpu / ((records * SIZE) / GB), brokerCores: cpu / r.seconds }, r };
}

/** Records kcat reads from the start to the end of partition 0 under `isolation`. */
async function kcatCount(bootstrap: string, topic: string, isolation: string): Promise<number> {
  const d = await exec('kcat', ['-C', '-b', bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o\n', '-X', `isolation.level=${isolation}`], { timeoutMs: TIMEOUT_MS });
  if (d.code !== 0) throw new Error(`kcat ${isolation} on ${topic} failed (exit ${d.code}): ${d.stderr.slice(-1000)}`);
  return d.stdout.split('\n').filter(Boolean).length;
}

async function round(loadgen: string, r: number, count: number, perTxn: number, out: Map<Side, Sample[]>): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(join(process.env.BROOK_BENCH_DIR ?? tmpdir(), 'brook-txn-'));
  let brook: Brook | undefined;
  const push = (side: Side, s: Sample) => out.set(side, [...(out.get(side) ?? []), s]);
  const log = (what: string, s: Sample) =>
    console.log(`round ${r + 1}: ${what}: ${Math.round(s.recordsPerSec)} records/s, broker ${s.brokerCores.toFixed(2)} cores (${s.brokerCpuPerGB.toFixed(2)} CPU s/GB)`);
  try {
    brook = await startBrook(dataDir);
    const b = brook.bootstrap;
    const topics = { warm: 'txn-warm', idempotent: 'idempotent', committed: 'txn-committed', aborted: 'txn-aborted10' };
    for (const t of Object.values(topics)) lastJson(await exec(loadgen, ['create', b, t, '1']), `create ${t}`);
    const idempotent = (topic: string, n: number) => ['produce', b, topic, String(n), String(SIZE), '-1'];
    const transactional = (topic: string, n: number, abortEvery = 0) => ['txproduce', b, topic, String(n), String(SIZE), String(perTxn), String(abortEvery)];

    // Untimed: the broker's JIT on both produce paths (and the coordinator's first transaction).
    const warm = Math.max(perTxn * 5, Math.round(count / 10));
    await timed(loadgen, brook, idempotent(topics.warm, warm), IDEMPOTENT_ENV, 'warm-up idempotent produce');
    await timed(loadgen, brook, transactional(topics.warm, warm), {}, 'warm-up transactional produce');

    let settings: Record<string, string> = {};
    for (const side of r % 2 === 0 ? (['idempotent', 'transactional'] as const) : (['transactional', 'idempotent'] as const)) {
      const { s, r: res } =
        side === 'idempotent'
          ? await timed(loadgen, brook, idempotent(topics.idempotent, count), IDEMPOTENT_ENV, 'idempotent produce')
          : await timed(loadgen, brook, transactional(topics.committed, count), {}, 'transactional produce');
      if (side === 'transactional') settings = res.settings;
      push(side, s);
      log(`${side} produce`, s);
    }
    const { s: ab, r: abr } = await timed(loadgen, brook, transactional(topics.aborted, count, 10), {}, 'transactional produce, 10% aborted');
    push('transactional10', ab);
    log(`transactional produce, ${abr.aborted} of ${abr.transactions} transactions aborted`, ab);
    const committedInAborted = abr.committedMsgs!;

    // The aborted topic's contents as a second client sees them, before timing anything on it.
    const [rc, ru] = [await kcatCount(b, topics.aborted, 'read_committed'), await kcatCount(b, topics.aborted, 'read_uncommitted')];
    if (rc !== committedInAborted || ru !== count) {
      throw new Error(`${topics.aborted}: kcat read ${rc} records read_committed (${committedInAborted} committed) and ${ru} read_uncommitted (${count} written)`);
    }

    const consume = (topic: string, n: number) => ['consume', b, topic, String(n)];
    for (const iso of r % 2 === 0 ? (['read_committed', 'read_uncommitted'] as const) : (['read_uncommitted', 'read_committed'] as const)) {
      const env = { RDKAFKA_isolation_level: iso };
      const rcSide = iso === 'read_committed';
      const { s } = await timed(loadgen, brook, consume(topics.committed, count), env, `consume ${iso}`);
      push(rcSide ? 'committedRc' : 'committedRu', s);
      log(`consume ${iso}, all committed`, s);
      const { s: sa } = await timed(loadgen, brook, consume(topics.aborted, rcSide ? committedInAborted : count), env, `consume ${iso}, 10% aborted`, count);
      push(rcSide ? 'abortedRc' : 'abortedRu', sa);
      log(`consume ${iso}, 10% aborted (log records/s)`, sa);
    }
    return settings;
  } finally {
    await brook?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const r2 = (x: number) => Math.round(x * 100) / 100;

export async function run(): Promise<Figure[]> {
  buildDist();
  const loadgen = buildLoadgen();
  // Even by default: the side that goes first alternates per round, and reading a topic first or
  // second was seen to change the rate by up to 2-3x here.
  const runs = isSmoke() ? 1 : Number(process.env.BENCH_RUNS ?? 4);
  const perTxn = Number(process.env.BENCH_TXN_PER_TXN ?? 100);
  const count = Math.max(perTxn * 10, Math.round(sized(300_000, 2_000) * Number(process.env.BENCH_SCALE ?? 1)));
  const load0 = loadavg();
  const samples = new Map<Side, Sample[]>();
  let settings: Record<string, string> = {};
  for (let r = 0; r < runs; r++) settings = await round(loadgen, r, count, perTxn, samples);
  const load1 = loadavg();
  console.log(`\nload average (1 min) ${load0[0]!.toFixed(2)} at the start, ${load1[0]!.toFixed(2)} at the end; ${runs} round(s), ${count} x ${SIZE} B records per produce, ${perTxn} per transaction`);
  console.log(`transactional producer settings: ${JSON.stringify(settings)}`);

  // Records/s go through statsOf as ms per record (lower is better), the rate being 1000 over the mean.
  const perSecond = (msPer: number) => 1000 / msPer;
  const get = (side: Side) => samples.get(side)!;
  const rate = (side: Side) => statsOf(get(side).map((s) => 1000 / s.recordsPerSec), perSecond);
  const cpu = (side: Side) => statsOf(get(side).map((s) => s.brokerCpuPerGB));
  // Each round's own ratio: paired within a round (same broker, same moment of a shared machine),
  // they drift less than the ratio of the means, whose margin spans the whole run.
  const perRound = (ours: Side, baseline: Side) => get(ours).map((s, i) => s.recordsPerSec / get(baseline)[i]!.recordsPerSec);
  const extra = (ours: Side, baseline: Side) => ({
    ratioPerRound: perRound(ours, baseline).map((x) => x.toFixed(3)).join(' '),
    ratioPerRoundMin: r2(Math.min(...perRound(ours, baseline))),
    ratioPerRoundMax: r2(Math.max(...perRound(ours, baseline))),
    'ours records/s': Math.round(mean(get(ours).map((s) => s.recordsPerSec))),
    'baseline records/s': Math.round(mean(get(baseline).map((s) => s.recordsPerSec))),
    'ours cores': r2(mean(get(ours).map((s) => s.brokerCores))),
    'baseline cores': r2(mean(get(baseline).map((s) => s.brokerCores))),
    loadAvg1Start: r2(load0[0]!),
    loadAvg1End: r2(load1[0]!),
  });
  const pair = async (label: string, ours: Side, baseline: Side, baselineName: string, unit: string, target?: string): Promise<Figure[]> => [
    { name: `${label}: ${unit}`, unit, ours: await rate(ours), baseline: await rate(baseline), baselineName, target, extra: extra(ours, baseline) },
    { name: `${label}: broker CPU`, unit: 'CPU s/GB', higherIsBetter: false, ours: await cpu(ours), baseline: await cpu(baseline), baselineName, extra: extra(ours, baseline) },
  ];
  // What one transaction adds, from the means: the wall time (and broker CPU) of perTxn records
  // produced transactionally minus the same records produced idempotently.
  const perTxnMs = (side: Side) => mean(get(side).map((s) => (1000 * perTxn) / s.recordsPerSec));
  const cpuPerTxnMs = (side: Side) => mean(get(side).map((s) => (1000 * perTxn * s.brokerCores) / s.recordsPerSec));
  const overhead = (side: Side) => ({
    'ms per transaction': r2(perTxnMs(side)),
    [`idempotent ms per ${perTxn} records`]: r2(perTxnMs('idempotent')),
    'broker CPU ms per transaction': r2(cpuPerTxnMs(side)),
    [`idempotent broker CPU ms per ${perTxn} records`]: r2(cpuPerTxnMs('idempotent')),
  });
  const produceLabel = `produce 1 KiB, ${perTxn} per transaction`;
  const withOverhead = (fs: Figure[], side: Side) => fs.map((f) => ({ ...f, extra: { ...f.extra, ...overhead(side) } }));
  return [
    ...withOverhead(await pair(produceLabel, 'transactional', 'idempotent', 'idempotent produce, acks=all', 'records/s', '>= 70%'), 'transactional'),
    ...withOverhead(await pair(`${produceLabel}, 10% aborted`, 'transactional10', 'idempotent', 'idempotent produce, acks=all', 'records/s'), 'transactional10'),
    ...(await pair('consume 1 KiB, all committed, read_committed', 'committedRc', 'committedRu', 'read_uncommitted', 'records/s', '>= 90%')),
    ...(await pair('consume 1 KiB, 10% aborted, read_committed', 'abortedRc', 'abortedRu', 'read_uncommitted', 'log records/s')),
  ];
}
