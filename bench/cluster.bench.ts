/**
 * The replicated cluster of issue 11 ("Goals (report them measured)"), three brokers and one etcd
 * on this machine (test/cluster/cluster-harness.ts: `brook start --etcd` processes through tsx).
 * Every workload runs in ONE cluster and ONE run, so each ratio compares like with like on a shared
 * 2-core box where absolute numbers swing by a quarter between runs.
 *
 * 1. Throughput: bench/loadgen/rdkafka-load (librdkafka) produces the same 1 KiB records to three
 *    fresh 3-partition topics, one per configuration: RF 1 (the baseline: no replication, leaders
 *    spread over the three brokers), RF 3 acks=1, RF 3 acks=all with min.insync.replicas=2. The
 *    order of the three rotates per round. Figures: records/s of each RF 3 side over RF 1 (targets
 *    >= 50% and >= 35%), and the brokers' CPU s/GB (utime + stime of the three broker pids from
 *    /proc, summed, over the produce).
 * 2. Latency at light load: our producer (src/kafka/producer.ts, linger 0, one request in flight)
 *    sends one record every 5 ms to an RF 3 min.insync 2 partition, alternating an acks=all producer
 *    and an acks=1 producer record by record, so any noise hits both. Per-request latency (append
 *    to answer, BatchResult.doneAt - created); each round gives a p50 and a p99 per side, the figure
 *    summarises them over rounds. Targets for acks=all: p50 <= 3 ms, p99 <= 10 ms.
 * 3. Failover: a librdkafka producer (confluent-kafka under /usr/bin/python3, acks=all, idempotent)
 *    sends one record every 2 ms to an RF 3 min.insync 2 partition while the bench kills its leader
 *    with kill -9, N times. Failover time = kill -> the first acknowledgement of a record the
 *    producer enqueued after the killed process had exited (so it can only have been acknowledged by
 *    another broker; at most one send interval later than the first new-leader answer). The killed
 *    broker is restarted and must be back in the ISR before the next kill. At the end the partition
 *    is read back (kcat) and every acknowledged record must be there: `acknowledgedMissing` must be 0
 *    (a smoke run fails otherwise). Target p99 <= 5 s with broker.session.timeout.ms = 3000.
 *    There is no other failover to measure beside it in this run, so its baseline is the session
 *    timeout itself, the etcd lease TTL: a dead broker is noticed at most that long after its last
 *    keep-alive (so a failover can come in under it, the keep-alive having gone out before the kill).
 *
 * Environment: BENCH_RUNS (rounds of 1 and 2, default 3), BENCH_SCALE (records x this),
 * BENCH_FAILOVERS (kills, default 10), BENCH_LATENCY_SECONDS (per round, default 5).
 */
import { spawn } from 'node:child_process';
import { register } from 'node:module';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { createTopics, deleteTopics } from '../src/kafka/admin.js';
import { KafkaClient } from '../src/kafka/client.js';
import { Producer } from '../src/kafka/producer.js';
import type { TestCluster } from '../test/cluster/cluster-harness.js';
import { isSmoke, sized, statsOf, type Figure, type Stats } from './lib.js';
import { buildLoadgen, cpuSeconds, exec, lastJson } from './throughput.bench.js';

export const title = 'cluster: 3 brokers + etcd on this machine: RF 3 throughput vs RF 1, acks=all latency, kill -9 failover';

const GB = 1e9;
const SIZE = 1024;
const SESSION_TIMEOUT_MS = 3000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const r2 = (x: number) => Number(x.toFixed(2));
/** Wall-clock ms with sub-ms precision: the same clock as Python's time.time() in the failover producer. */
const wallMs = () => performance.timeOrigin + performance.now();

/** Nearest-rank percentile of unsorted samples. */
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** A figure side whose value is a percentile of the samples rather than their mean: no margin for it. */
async function percentileSide(samples: number[], p: number): Promise<Stats> {
  return { ...(await statsOf(samples)), value: percentile(samples, p), rme: NaN };
}

async function createTopic(c: TestCluster, name: string, partitions: number, rf: number, configs: Record<string, string> = {}): Promise<void> {
  const client = new KafkaClient({ bootstrap: c.bootstrap.split(','), clientId: 'cluster-bench-admin' });
  try {
    const [res] = await createTopics(client, [{ name, numPartitions: partitions, replicationFactor: rf, configs: new Map(Object.entries(configs)) }]);
    if (!res || res.errorCode !== 0) throw new Error(`create ${name}: error ${res?.errorCode} ${res?.errorMessage ?? ''}`);
  } finally {
    client.close();
  }
  // Every partition led and with its full ISR before anything is timed.
  const deadline = Date.now() + 30_000;
  for (let p = 0; p < partitions; p++) {
    for (;;) {
      const part = await c.partition(name, p).catch(() => undefined);
      if (part && part.leader >= 0 && part.isr.length === rf) break;
      if (Date.now() > deadline) throw new Error(`${name}-${p}: no leader with ${rf} in-sync replicas after 30 s (${JSON.stringify(part)})`);
      await sleep(50);
    }
  }
}

/** Frees the disk between rounds; a failure here does not matter to the figures. */
async function dropTopic(c: TestCluster, name: string): Promise<void> {
  const client = new KafkaClient({ bootstrap: c.bootstrap.split(','), clientId: 'cluster-bench-admin' });
  try {
    await deleteTopics(client, [name]);
  } catch {
    // left on disk; the cluster's directory goes at close()
  } finally {
    client.close();
  }
}

async function controllerOf(c: TestCluster): Promise<number> {
  const client = new KafkaClient({ bootstrap: c.bootstrap.split(','), clientId: 'cluster-bench-admin' });
  try {
    return (await client.metadata([])).controllerId;
  } finally {
    client.close();
  }
}

function brokerCpu(c: TestCluster): number {
  let s = 0;
  for (const n of c.nodes.values()) if (n.process) s += cpuSeconds(n.process.pid);
  return s;
}

// ------------------------------------------------------------------------------ 1. throughput

type Config = 'rf1' | 'rf3-acks1' | 'rf3-acksall';
const CONFIGS: Config[] = ['rf1', 'rf3-acks1', 'rf3-acksall'];

interface Produced {
  recordsPerSec: number;
  brokerCpuPerGB: number;
  brokerCores: number;
  seconds: number;
}

async function produceRound(c: TestCluster, loadgen: string, config: Config, topic: string, count: number): Promise<Produced> {
  await createTopic(c, topic, 3, config === 'rf1' ? 1 : 3, config === 'rf1' ? {} : { 'min.insync.replicas': '2' });
  const acks = config === 'rf3-acksall' ? '-1' : '1';
  const cpu0 = brokerCpu(c);
  const t0 = performance.now();
  const d = await exec(loadgen, ['produce', c.bootstrap, topic, String(count), String(SIZE), acks], { timeoutMs: 600_000 });
  const wall = (performance.now() - t0) / 1000;
  const cpu = brokerCpu(c) - cpu0;
  const j = lastJson<{ msgs: number; seconds: number; errors: number }>(d, `rdkafka-load produce ${config}`);
  if (j.errors > 0 || j.msgs !== count) throw new Error(`rdkafka-load produce ${config}: ${j.msgs} of ${count} delivered, ${j.errors} errors`);
  await dropTopic(c, topic);
  // The broker CPU spans the whole process (connect and metadata too): cores over its wall time.
  return { recordsPerSec: j.msgs / j.seconds, brokerCpuPerGB: cpu / ((count * SIZE) / GB), brokerCores: cpu / wall, seconds: j.seconds };
}

// --------------------------------------------------------------------------------- 2. latency

interface LatencyRound {
  all: number[];
  one: number[];
  errors: number;
}

async function latencyRound(c: TestCluster, topic: string, seconds: number, intervalMs: number): Promise<LatencyRound> {
  const client = new KafkaClient({ bootstrap: c.bootstrap.split(','), clientId: 'cluster-bench-latency' });
  const out: LatencyRound = { all: [], one: [], errors: 0 };
  let into: number[] | undefined;
  const onBatch = (r: { error: Error | undefined; doneAt: number; createdMin: number }) => {
    if (r.error) out.errors++;
    else into?.push(r.doneAt - r.createdMin);
  };
  const producers = { all: new Producer(client, { acks: -1, lingerMs: 0, maxInFlight: 1, onBatch }), one: new Producer(client, { acks: 1, lingerMs: 0, maxInFlight: 1, onBatch }) };
  try {
    for (const p of Object.values(producers)) await p.addTopic(topic);
    const value = Buffer.alloc(100, 'v');
    const sendOne = async (side: 'all' | 'one', record: boolean) => {
      into = record ? out[side] : undefined;
      producers[side].send(topic, null, value, null, 0, Date.now(), performance.now());
      await producers[side].flush();
    };
    // Untimed warm-up: connections, metadata, JIT on both ends.
    for (let i = 0; i < 50; i++) await sendOne(i % 2 ? 'all' : 'one', false);
    const n = Math.max(2, Math.round((seconds * 1000) / intervalMs));
    let next = performance.now();
    for (let i = 0; i < n; i++) {
      next += intervalMs;
      await sendOne(i % 2 ? 'all' : 'one', true);
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
    }
  } finally {
    for (const p of Object.values(producers)) p.close();
    client.close();
  }
  if (out.errors > 0) throw new Error(`latency round: ${out.errors} failed sends`);
  return out;
}

// -------------------------------------------------------------------------------- 3. failover

/**
 * The failover producer: confluent-kafka (librdkafka) under /usr/bin/python3. Sends the decimal
 * sequence number as the value, one every `interval` ms to partition 0, until stdin closes; then
 * flushes and exits. One line per delivery report on stdout:
 *   A <seq> <enqueuedMs> <ackedMs> <offset>     acknowledged
 *   E <seq> <enqueuedMs> <ackedMs> <error>      failed (indeterminate: may or may not be stored)
 * Times are wall-clock ms (time.time()), the bench's clock being performance.timeOrigin + now().
 */
const FAILOVER_PRODUCER = String.raw`
import select, sys, time
from confluent_kafka import Producer
bootstrap, topic, interval = sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1000
p = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'enable.idempotence': True, 'linger.ms': 0,
              'message.timeout.ms': 120000, 'retry.backoff.ms': 50, 'topic.metadata.refresh.fast.interval.ms': 100})
out = sys.stdout
def report(seq, enq):
    def cb(err, msg):
        now = time.time() * 1000
        if err is None: out.write('A %d %.3f %.3f %d\n' % (seq, enq, now, msg.offset()))
        else: out.write('E %d %.3f %.3f %s\n' % (seq, enq, now, str(err).replace('\n', ' ')))
    return cb
seq = 0
nxt = time.time()
while True:
    if select.select([sys.stdin], [], [], 0)[0] and sys.stdin.readline() == '':
        break
    enq = time.time() * 1000
    p.produce(topic, str(seq).encode(), partition=0, on_delivery=report(seq, enq))
    seq += 1
    nxt += interval
    p.poll(max(0.0, nxt - time.time()))
    out.flush()
left = p.flush(60)
out.write('D %d %d\n' % (seq, left))
out.flush()
`;

interface Ack {
  seq: number;
  enqueuedMs: number;
  ackedMs: number;
}

interface FailoverResult {
  failoverMs: number[];
  /** Kill -> the first Metadata answer naming another leader (polled every 100 ms): the brokers' share. */
  electedMs: number[];
  /** Per kill: was the killed leader also the controller (then a controller must be elected first)? */
  wasController: boolean[];
  acked: number;
  sent: number;
  failedSends: number;
  missing: number;
  duplicates: number;
  rejoinMs: number[];
}

async function failovers(c: TestCluster, topic: string, kills: number): Promise<FailoverResult> {
  await createTopic(c, topic, 1, 3, { 'min.insync.replicas': '2' });
  const child = spawn('/usr/bin/python3', ['-u', '-c', FAILOVER_PRODUCER, c.bootstrap, topic, '2'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const acks: Ack[] = [];
  const acked = new Set<number>();
  let failedSends = 0;
  let done: { sent: number; left: number } | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const f = line.split(' ');
    if (f[0] === 'A') {
      acks.push({ seq: Number(f[1]), enqueuedMs: Number(f[2]), ackedMs: Number(f[3]) });
      acked.add(Number(f[1]));
    } else if (f[0] === 'E') failedSends++;
    else if (f[0] === 'D') done = { sent: Number(f[1]), left: Number(f[2]) };
  });
  const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (child.exitCode !== null) throw new Error(`failover producer exited (${child.exitCode}) while waiting for ${what}:\n${stderr.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  };
  const out: FailoverResult = { failoverMs: [], electedMs: [], wasController: [], acked: 0, sent: 0, failedSends: 0, missing: 0, duplicates: 0, rejoinMs: [] };
  try {
    await waitFor('the first acknowledgements', () => acks.length >= 100, 30_000);
    for (let k = 0; k < kills; k++) {
      const { leader } = await c.partition(topic, 0);
      out.wasController.push((await controllerOf(c)) === leader);
      const killedAt = wallMs();
      await c.kill(leader, 'SIGKILL');
      const exitedAt = wallMs();
      const elected = (async () => {
        for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(100)) {
          const now = (await c.partition(topic, 0).catch(() => ({ leader: -1 }))).leader;
          if (now >= 0 && now !== leader) return wallMs() - killedAt;
        }
        return NaN;
      })();
      const from = acks.length;
      let first: Ack | undefined;
      await waitFor(
        `an acknowledgement after killing broker ${leader}`,
        () => {
          for (let i = from; i < acks.length && !first; i++) if (acks[i]!.enqueuedMs > exitedAt) first = acks[i];
          return first !== undefined;
        },
        60_000,
      );
      out.failoverMs.push(first!.ackedMs - killedAt);
      out.electedMs.push(await elected);
      process.stderr.write(
        `  cluster bench: failover ${k + 1}/${kills}: broker ${leader}${out.wasController.at(-1) ? ' (the controller)' : ''} killed, new leader in Metadata after ${out.electedMs.at(-1)!.toFixed(0)} ms, first new-leader ack after ${(first!.ackedMs - killedAt).toFixed(0)} ms\n`,
      );
      // The last kill needs no restart: nothing follows it but the read-back, which two replicas serve.
      if (k === kills - 1) break;
      // Back in the ISR before the next kill, so every kill finds three in-sync replicas.
      const restartAt = Date.now();
      await c.restart(leader);
      await waitFor(`broker ${leader} back in the ISR`, async () => (await c.partition(topic, 0).catch(() => ({ isr: [] as number[] }))).isr.length === 3, 60_000);
      out.rejoinMs.push(Date.now() - restartAt);
    }
  } finally {
    child.stdin.end();
  }
  // librdkafka flushes for up to 60 s; past 90 s the producer is hung.
  const hung = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const code = await exited;
  clearTimeout(hung);
  if (code !== 0 || !done) throw new Error(`failover producer exited ${code}:\n${stderr.slice(-2000)}`);
  out.sent = done.sent;
  out.acked = acked.size;
  out.failedSends = failedSends;

  // Read the partition back: every acknowledged sequence number must be in it.
  const read = await exec('kcat', ['-C', '-b', c.bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%s\\n'], { timeoutMs: 120_000 });
  if (read.code !== 0) throw new Error(`kcat read-back failed (exit ${read.code}): ${read.stderr.slice(-2000)}`);
  const seen = new Set<number>();
  for (const line of read.stdout.split('\n')) {
    if (line === '') continue;
    const seq = Number(line);
    if (seen.has(seq)) out.duplicates++;
    seen.add(seq);
  }
  for (const seq of acked) if (!seen.has(seq)) out.missing++;
  return out;
}

// ------------------------------------------------------------------------------------- run

/**
 * The cluster harness builds on test/integration/harness.ts, which imports vitest at the top (for
 * its beforeAll/afterAll helpers, unused here); outside a vitest run that import throws. This
 * module hook hands that one importer, and no other, inert beforeAll/afterAll in place of vitest,
 * so the bench drives the same harness the tests do.
 */
const VITEST_SHIM_HOOK = `
export async function resolve(specifier, context, next) {
  if (specifier === 'vitest' && context.parentURL && context.parentURL.endsWith('/test/integration/harness.ts')) {
    return { url: 'data:text/javascript,export const beforeAll = () => {}; export const afterAll = () => {};', shortCircuit: true };
  }
  return next(specifier, context);
}`;

async function loadClusterHarness(): Promise<typeof import('../test/cluster/cluster-harness.js')> {
  register(`data:text/javascript,${encodeURIComponent(VITEST_SHIM_HOOK)}`);
  return import('../test/cluster/cluster-harness.js');
}

export async function run(): Promise<Figure[]> {
  const loadgen = buildLoadgen();
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  const runs = isSmoke() ? 1 : Number(process.env.BENCH_RUNS ?? 3);
  const kills = isSmoke() ? 2 : Number(process.env.BENCH_FAILOVERS ?? 10);
  const latencySeconds = isSmoke() ? 1 : Number(process.env.BENCH_LATENCY_SECONDS ?? 5);
  const count = Math.max(1000, Math.round(sized(500_000, 5_000) * scale));
  const load0 = loadavg();
  const t0 = performance.now();
  const step = (what: string) => process.stderr.write(`  cluster bench ${((performance.now() - t0) / 1000).toFixed(1)} s: ${what}\n`);

  // The harness throws (with the brokers' logs) when the cluster does not come up: no figures then.
  const { startCluster } = await loadClusterHarness();
  const c = await startCluster({ brokers: 3, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  const produced = new Map<Config, Produced[]>(CONFIGS.map((k) => [k, []]));
  const latency: LatencyRound[] = [];
  let failover: FailoverResult;
  try {
    step(`cluster up (${c.bootstrap})`);
    // Untimed warm-up on an RF 3 topic: the brokers' JIT, replica fetchers, page cache.
    await produceRound(c, loadgen, 'rf3-acksall', 'warmup', Math.max(1000, Math.round(count / 5)));
    step('warm-up produce done');

    for (let r = 0; r < runs; r++) {
      // Rotate the order so no configuration always runs first (or right after another's writeback).
      const order = CONFIGS.map((_, i) => CONFIGS[(i + r) % CONFIGS.length]!);
      for (const config of order) {
        const p = await produceRound(c, loadgen, config, `tp-${config}-r${r}`, count);
        produced.get(config)!.push(p);
        step(`round ${r + 1}/${runs} ${config}: ${Math.round(p.recordsPerSec)} records/s in ${p.seconds.toFixed(2)} s, brokers ${p.brokerCores.toFixed(2)} cores, ${p.brokerCpuPerGB.toFixed(2)} CPU s/GB`);
      }
    }

    await createTopic(c, 'latency', 1, 3, { 'min.insync.replicas': '2' });
    for (let r = 0; r < runs; r++) {
      const l = await latencyRound(c, 'latency', latencySeconds, 5);
      latency.push(l);
      step(`latency round ${r + 1}/${runs}: acks=all p50 ${percentile(l.all, 50).toFixed(2)} p99 ${percentile(l.all, 99).toFixed(2)} ms; acks=1 p50 ${percentile(l.one, 50).toFixed(2)} p99 ${percentile(l.one, 99).toFixed(2)} ms`);
    }

    failover = await failovers(c, 'failover', kills);
    step(`failovers done: acknowledged ${failover.acked} of ${failover.sent}, missing ${failover.missing}, duplicates ${failover.duplicates}`);
  } catch (e) {
    const logs = [...c.nodes.keys()].map((id) => `--- broker ${id}:\n${c.stderr(id).slice(-3000)}`).join('\n');
    throw new Error(`${(e as Error).message}\n${logs}`, { cause: e });
  } finally {
    await c.close();
  }
  const load1 = loadavg();
  const load = { loadAvg1Start: r2(load0[0]!), loadAvg1End: r2(load1[0]!) };
  console.log(`\nload average (1 min) ${load0[0]!.toFixed(2)} at the start, ${load1[0]!.toFixed(2)} at the end; ${runs} round(s), ${count} x ${SIZE} B records per produce`);
  if (failover.missing > 0) {
    const msg = `FAILOVER LOST ${failover.missing} ACKNOWLEDGED RECORDS`;
    if (isSmoke()) throw new Error(msg);
    console.error(`\n*** ${msg} ***\n`);
  }

  // Records/s as ms per record (lower is better, as statsOf wants); rate = 1000 over the mean.
  const perSecond = (msPer: number) => 1000 / msPer;
  const rate = (ps: Produced[]) => statsOf(ps.map((p) => 1000 / p.recordsPerSec), perSecond);
  const cpu = (ps: Produced[]) => statsOf(ps.map((p) => p.brokerCpuPerGB));
  const rf1 = produced.get('rf1')!;
  const cores = (ps: Produced[]) => r2(mean(ps.map((p) => p.brokerCores)));
  const figures: Figure[] = [];
  for (const [config, label, target] of [
    ['rf3-acks1', 'RF 3 acks=1', '>= 50%'],
    ['rf3-acksall', 'RF 3 acks=all (min.insync 2)', '>= 35%'],
  ] as const) {
    const ps = produced.get(config)!;
    // Each round's RF 3 over that round's RF 1: paired, so drift of the machine between rounds cancels.
    const paired = ps.map((p, i) => p.recordsPerSec / rf1[i]!.recordsPerSec);
    figures.push({
      name: `produce 1 KiB, ${label}: records/s`,
      unit: 'records/s',
      ours: await rate(ps),
      baseline: await rate(rf1),
      baselineName: 'RF 1, acks=1',
      target,
      extra: { ratioPerRound: paired.map((x) => x.toFixed(3)).join(' '), ratioPerRoundMin: r2(Math.min(...paired)), ratioPerRoundMax: r2(Math.max(...paired)), brokerCoresOurs: cores(ps), brokerCoresBaseline: cores(rf1), records: count, ...load },
    });
    figures.push({ name: `produce 1 KiB, ${label}: broker CPU`, unit: 'CPU s/GB', higherIsBetter: false, ours: await cpu(ps), baseline: await cpu(rf1), baselineName: 'RF 1, acks=1 (3 brokers summed)', extra: load });
  }
  const all = latency.flatMap((l) => l.all);
  const one = latency.flatMap((l) => l.one);
  for (const p of [50, 99]) {
    figures.push({
      name: `acks=all latency, 1 record / 5 ms, RF 3: p${p}`,
      unit: 'ms',
      higherIsBetter: false,
      // One p50 (p99) per round; the margin is over rounds.
      ours: await statsOf(latency.map((l) => percentile(l.all, p))),
      baseline: await statsOf(latency.map((l) => percentile(l.one, p))),
      baselineName: 'acks=1, same partition, interleaved',
      target: p === 50 ? 'p50 <= 3 ms' : 'p99 <= 10 ms',
      extra: { requestsPerSide: all.length, pooledAll: r2(percentile(all, p)), pooledAcks1: r2(percentile(one, p)), maxAll: r2(Math.max(...all)), ...load },
    });
  }
  const fo = failover.failoverMs;
  figures.push({
    name: `kill -9 leader -> first ack from new leader, acks=all: p99 of ${fo.length}`,
    unit: 'ms',
    higherIsBetter: false,
    ours: await percentileSide(fo, 99),
    baseline: await statsOf([SESSION_TIMEOUT_MS]),
    baselineName: 'broker.session.timeout.ms (lease TTL: a dead broker is noticed within it)',
    target: 'p99 <= 5 s',
    extra: {
      p50: r2(percentile(fo, 50)),
      p99: r2(percentile(fo, 99)),
      max: r2(Math.max(...fo)),
      acknowledged: failover.acked,
      sent: failover.sent,
      failedSends: failover.failedSends,
      acknowledgedMissing: failover.missing,
      duplicates: failover.duplicates,
      electedInMetadataP50: r2(percentile(failover.electedMs, 50)),
      electedInMetadataMax: r2(Math.max(...failover.electedMs)),
      controllerKills: failover.wasController.filter(Boolean).length,
      p50ControllerKilled: fo.some((_, i) => failover.wasController[i]) ? r2(percentile(fo.filter((_, i) => failover.wasController[i]), 50)) : 'none',
      p50OtherKilled: fo.some((_, i) => !failover.wasController[i]) ? r2(percentile(fo.filter((_, i) => !failover.wasController[i]), 50)) : 'none',
      rejoinIsrMsP50: failover.rejoinMs.length > 0 ? r2(percentile(failover.rejoinMs, 50)) : 'none',
      ...load,
    },
  });
  return figures;
}
