/**
 * The cost of metrics on the produce path: librdkafka produce throughput (100 B, acks=1, one
 * partition, two producer layouts: see `layouts`) against Brook as a child process with
 * metrics.enabled=true and /metrics scraped every second, beside the same produce against Brook
 * with metrics.enabled=false (no counting, no route). The two alternate within each run (which goes
 * first alternates too), each on a fresh broker and data directory, so drift on the shared VM hits
 * both sides. Each broker first takes a warm-up produce (a fifth of the count; with metrics on,
 * scraped too) that neither side's figures include. Target: >= 97% of the throughput without
 * metrics (issue 10); the broker CPU per GB is the second figure of each layout.
 *
 * Reuses throughput.bench.ts's process plumbing (Brook child process, the librdkafka load
 * generator, /proc CPU accounting). Each run gives one sample per side; BENCH_RUNS (default 5)
 * runs, summarised with lib.ts statsOf. The scraper runs in this process (HTTP GET over loopback,
 * one at a time); every scrape must answer 200, and the last one, taken after the produce, must
 * count exactly the messages the load generator had acknowledged (metrics that cost nothing because
 * they count nothing would otherwise pass). --smoke: one run of 20,000 messages.
 *
 * A third pair of figures isolates the counting in this process (dispatcherFigures).
 *
 * Environment: BENCH_RUNS (default 5), BENCH_METRICS_COUNT (messages per produce, default 3,000,000),
 * BENCH_METRICS_SIZE (bytes per message, default 100), BROOK_BENCH_DIR (data directory parent),
 * BENCH_METRICS_ONLY=process|inprocess (one part only), BENCH_METRICS_LAYOUTS (e.g. "0": the first
 * layout only), BENCH_METRICS_SCRAPE_MS (default 1000; 0: metrics on but never scraped).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../src/broker/broker.js';
import { Dispatcher } from '../src/broker/dispatcher.js';
import { buildBrokerConfig } from '../src/config.js';
import { buildBatch } from '../src/native/records.js';
import { encodeRequest } from '../src/protocol/frames.js';
import type { RequestInfo } from '../src/protocol/request-sink.js';
import { produceApi } from '../src/protocol/schemas/produce.js';
import { silentLogger } from '../src/util/logger.js';
import { cpuPer, isSmoke, measure, rate, sized, statsOf, type Figure } from './lib.js';
import { buildDist, buildLoadgen, cpuSeconds, exec, freePort, lastJson, startBrook, type Brook } from './throughput.bench.js';

export const title = 'metrics: produce with /metrics scraped every second vs metrics.enabled=false (librdkafka, Brook child process)';

const GB = 1e9;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  msgsPerSec: number;
  cpuPerGB: number;
  brokerCores: number;
  scrapes: number;
}

/** GETs /metrics every `everyMs` until stopped; counts answers, rejects on a non-200. */
function scraper(url: string, everyMs: number) {
  let scrapes = 0;
  let failure: Error | undefined;
  const once = async () => {
    try {
      const res = await fetch(url);
      const body = await res.text();
      if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${body.slice(0, 200)}`);
      scrapes++;
    } catch (e) {
      failure ??= e as Error;
    }
  };
  let inFlight = once(); // one at the start, so even a short (smoke) run scrapes under load
  const timer = setInterval(() => {
    inFlight = inFlight.then(once);
  }, everyMs);
  return {
    async stop(): Promise<number> {
      clearInterval(timer);
      await inFlight;
      if (failure) throw failure;
      return scrapes;
    },
  };
}

/** The value of an unlabelled-or-labelled sample line `name{...} value` in a /metrics text. */
function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

async function produceOnce(loadgen: string, metrics: boolean, count: number, size: number, producerArgs: string[]): Promise<Sample> {
  const dataDir = mkdtempSync(join(process.env.BROOK_BENCH_DIR ?? tmpdir(), 'brook-metrics-'));
  const wsPort = await freePort();
  let brook: Brook | undefined;
  try {
    brook = await startBrook(dataDir, undefined, ['--ws-port', String(wsPort), '--set', `metrics.enabled=${metrics}`]);
    const topic = 'bench-metrics';
    lastJson(await exec(loadgen, ['create', brook.bootstrap, topic, '1']), 'create topic');
    const url = `http://127.0.0.1:${wsPort}/metrics`;
    const scrapeMs = Number(process.env.BENCH_METRICS_SCRAPE_MS ?? 1000);
    const scrape = metrics && scrapeMs > 0 ? scraper(url, scrapeMs) : undefined;
    // Warm-up, timed on neither side: a new process compiles its produce path and (metrics on) the
    // scrape path on first use; the first scrapes cost ~10x a warm one. Steady state is the claim.
    const warm = lastJson<{ msgs: number }>(await exec(loadgen, ['produce', brook.bootstrap, topic, String(Math.max(5000, Math.round(count / 5))), String(size), '1', ...producerArgs]), 'warm-up produce');
    if (scrape) await sleep(sized(2000, 0)); // at least two more scrapes after the warm-up produce
    const c0 = cpuSeconds(brook.pid);
    const d = await exec(loadgen, ['produce', brook.bootstrap, topic, String(count), String(size), '1', ...producerArgs]);
    const brokerCpu = cpuSeconds(brook.pid) - c0;
    const scrapes = (await scrape?.stop()) ?? 0;
    const r = lastJson<{ msgs: number; bytes: number; seconds: number; errors: number }>(d, `produce (metrics ${metrics ? 'on' : 'off'})`);
    if (r.errors > 0) throw new Error(`produce: ${r.errors} errors`);
    const res = await fetch(url);
    const text = await res.text();
    if (metrics) {
      const counted = metricValue(text, `kafka_server_brokertopicmetrics_messagesin_total{topic="${topic}"}`);
      if (counted !== warm.msgs + r.msgs) throw new Error(`/metrics counted ${counted} messages in, the producer had ${warm.msgs + r.msgs} acknowledged`);
    } else if (res.status !== 404) throw new Error(`metrics.enabled=false: GET /metrics answered ${res.status}, expected 404`);
    return { msgsPerSec: r.msgs / r.seconds, cpuPerGB: brokerCpu / (r.bytes / GB), brokerCores: brokerCpu / r.seconds, scrapes };
  } finally {
    await brook?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Producer layouts: the load generator's defaults (linger 5 ms, batches up to 1 MB: few, large
 * requests, as a throughput-minded producer sends), and small batches without linger (16 KiB,
 * about 140 records per request: many more requests, so per-request counting weighs more).
 */
const layouts = [
  { name: '1 MB batches', args: [] as string[] },
  { name: '16 KiB batches, linger 0', args: ['0', '16384'] },
];

/**
 * The counting alone, without scrapes, sockets or another process: Produce requests (v9, acks=1,
 * one 1 KiB batch of ten 100 B records) through the dispatcher and the produce handler of a broker
 * with metrics.enabled=true, beside one with it false, in this process; the two are tasks of one
 * tinybench run (lib.ts measure), so their samples interleave. Small batches make the per-request
 * work (the dispatcher's count and latency, the handler's per-batch add) weigh the most it can.
 */
async function dispatcherFigures(): Promise<Figure[]> {
  const root = mkdtempSync(join(process.env.BROOK_BENCH_DIR ?? tmpdir(), 'brook-metrics-inproc-'));
  const brokers: Broker[] = [];
  try {
    const side = (metrics: boolean) => {
      const config = buildBrokerConfig({ overrides: { 'log.dirs': join(root, String(metrics)), 'metrics.enabled': metrics } });
      const broker = new Broker(config, silentLogger);
      brokers.push(broker);
      broker.topics.create('t', 1);
      const dispatcher = new Dispatcher(broker);
      const records = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(100, i) }));
      const frame = encodeRequest(produceApi, 9, { correlationId: 1, clientId: 'bench' }, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records: buildBatch({ records }) }] }] }).subarray(4);
      const info: RequestInfo = { apiKey: 0, apiVersion: 9, correlationId: 1 };
      const origin = { remoteAddress: '127.0.0.1', onClose: () => () => {} };
      // A fixed batch on both sides: left to calibrate, the side calibrated first (colder) can
      // settle on a smaller batch, and the per-sample harness cost then lands on it alone.
      return {
        batch: 200,
        timed: (n: number) => {
          const t0 = performance.now();
          for (let i = 0; i < n; i++) void dispatcher.onRequest(frame, info, origin);
          return performance.now() - t0;
        },
      };
    };
    const on = side(true);
    const off = side(false);
    const m = await measure({ on, off }, { cpu: true, time: isSmoke() ? undefined : 3000 });
    const produced = brokers[0]!.stats.totals().messagesIn;
    if (produced === 0 || brokers[1]!.stats.totals().messagesIn !== 0) throw new Error(`in-process: metrics on counted ${produced}, off ${brokers[1]!.stats.totals().messagesIn}`);
    const label = 'produce request through the dispatcher, 1 KiB batch, in-process';
    return [
      { name: `${label}: requests/s, metrics on (not scraped)`, unit: 'req/s', ours: rate(m.on!, 1), baseline: rate(m.off!, 1), baselineName: 'metrics.enabled=false', target: '>= 97%' },
      { name: `${label}: CPU per request, metrics on`, unit: 'CPU µs', higherIsBetter: false, ours: cpuPer(m.on!, 1e-6), baseline: cpuPer(m.off!, 1e-6), baselineName: 'metrics.enabled=false' },
    ];
  } finally {
    for (const b of brokers) await b.close();
    rmSync(root, { recursive: true, force: true });
  }
}

export async function run(): Promise<Figure[]> {
  const only = process.env.BENCH_METRICS_ONLY;
  const inProcess = only === 'process' ? [] : await dispatcherFigures();
  if (only === 'inprocess') return inProcess;
  buildDist();
  const loadgen = buildLoadgen();
  const runs = isSmoke() ? 1 : Number(process.env.BENCH_RUNS ?? 5);
  const count = Number(process.env.BENCH_METRICS_COUNT ?? sized(3_000_000, 20_000));
  const size = Number(process.env.BENCH_METRICS_SIZE ?? 100);
  const perSecond = (msPer: number) => 1000 / msPer;
  const scrapeMs = Number(process.env.BENCH_METRICS_SCRAPE_MS ?? 1000);
  const onLabel = scrapeMs > 0 ? `metrics on + scraped every ${scrapeMs / 1000} s` : 'metrics on, never scraped';
  const figures: Figure[] = [];
  const wanted = process.env.BENCH_METRICS_LAYOUTS?.split(',').map(Number); // indexes into layouts
  for (const layout of layouts.filter((_, i) => !wanted || wanted.includes(i))) {
    const on: Sample[] = [];
    const off: Sample[] = [];
    for (let r = 0; r < runs; r++) {
      // Alternate which side goes first, so a trend across the run does not favour one.
      for (const metrics of r % 2 === 0 ? [true, false] : [false, true]) {
        const s = await produceOnce(loadgen, metrics, count, size, layout.args);
        (metrics ? on : off).push(s);
        console.log(
          `${layout.name}, run ${r + 1}/${runs}, ${metrics ? onLabel : 'metrics off'}: ${Math.round(s.msgsPerSec)} msgs/s, broker ${s.brokerCores.toFixed(2)} cores (${s.cpuPerGB.toFixed(2)} CPU s/GB)${metrics ? `, ${s.scrapes} scrapes` : ''}`,
        );
      }
    }
    const label = `produce ${size} B, ${layout.name}, acks=1`;
    const extra = {
      'on msgs/s': Math.round(mean(on.map((s) => s.msgsPerSec))),
      'off msgs/s': Math.round(mean(off.map((s) => s.msgsPerSec))),
      'on cores': Number(mean(on.map((s) => s.brokerCores)).toFixed(2)),
      'off cores': Number(mean(off.map((s) => s.brokerCores)).toFixed(2)),
      scrapes: on.reduce((n, s) => n + s.scrapes, 0),
    };
    figures.push(
      {
        name: `${label}: msgs/s, ${onLabel}`,
        unit: 'msgs/s',
        ours: await statsOf(on.map((s) => 1000 / s.msgsPerSec), perSecond),
        baseline: await statsOf(off.map((s) => 1000 / s.msgsPerSec), perSecond),
        baselineName: 'metrics.enabled=false',
        target: '>= 97%',
        extra,
      },
      {
        name: `${label}: broker CPU, ${onLabel}`,
        unit: 'CPU s/GB',
        higherIsBetter: false,
        ours: await statsOf(on.map((s) => s.cpuPerGB)),
        baseline: await statsOf(off.map((s) => s.cpuPerGB)),
        baselineName: 'metrics.enabled=false',
        extra,
      },
    );
  }
  return [...figures, ...inProcess];
}
