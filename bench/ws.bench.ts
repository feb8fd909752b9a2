/**
 * The WebSocket gateway (issue 9, "Benchmark"): fan-out of one topic to many `live` subscribers,
 * beside a raw uWebSockets.js `app.publish` loop driven by the same client in the same run (the
 * harness of ../shared/reference/websocket.md §3.2).
 *
 * Three processes besides this one, so each one's CPU and memory are its own:
 * - bench/ws/broker-server.ts: Brook (`startBroker`), Kafka port and gateway port;
 * - bench/ws/raw-server.ts: the raw-uWS baseline, publishing 100-byte payloads itself;
 * - bench/ws/client.ts: every WebSocket connection, on raw `net` sockets with a hand-written client;
 *   it counts records per connection, checks order and loss on all of them, and decodes every
 *   record on 10 of them for latency.
 * This process creates the topics and produces through the Kafka port (@platformatic/kafka, acks=1);
 * every record value starts with the time it was produced (bench/ws/frames.ts `benchPayload`), so
 * latency is receive time minus that stamp, on one machine's wall clock.
 *
 * Workloads (full / --smoke): memory of idle subscribers (5,000 / 200); steady fan-out, 1,000 / 50
 * subscribers at 1,000 records/s for 30 / 2 s; saturated fan-out (10 / 1 s); a slow consumer (1 of
 * the subscribers stops reading during a steady run); Kafka produce throughput alone and during a
 * steady run; 100 / 5 forced reconnects during a steady run, resumed by offsets.
 * Every figure is one run (one sample: no margin). Environment: BENCH_WS_SUBSCRIBERS,
 * BENCH_WS_SECONDS, BENCH_WS_POLICY (the slow consumer's `policy`, default the live default),
 * BENCH_WS_ONLY (comma list of workloads: memory,steady,saturated,slow,isolation,resume).
 */
import { Admin, Producer } from '@platformatic/kafka';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sized, statsOf, type Figure, type Stats } from './lib.js';
import { benchPayload, nowMs } from './ws/frames.js';
import { Child } from './ws/ipc.js';

export const title = 'ws: gateway fan-out to live subscribers beside a raw uWebSockets.js publish loop (same client, same run)';

const here = dirname(fileURLToPath(import.meta.url));
const MB = 1e6;
const payloadSize = 100;
const rate = 1000;
/** Connections that decode every record for latency (the rest read only frame headers). */
const sampled = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------ replies

interface Usage {
  cpuMs: number;
  rss: number;
  at: number;
}
interface ClientStats {
  connections: number;
  records: number;
  frames: number;
  bytes: number;
  lost: number;
  duplicated: number;
  skipped: number;
  gaps: number;
  minRecords: number;
  maxRecords: number;
  errors: string[];
  closes: Record<string, number>;
  latency: { samples: number; p50: number; p99: number; p999: number; max: number };
  usage: Usage;
}
interface Produced {
  published: number;
  seconds: number;
  /** Kafka only: when each sequence number's produce was acknowledged (nowMs), by sequence. */
  ackedAt?: Float64Array;
}
interface StallReport {
  gaps: { at: number; from: number; to: number; reason: number }[];
  lastBeforeGap?: number;
  firstAfterGap?: number;
  closeCode?: number;
  closing?: unknown;
}
interface Target {
  host: string;
  port: number;
  path: string;
  protocols: string[];
  mode: 'brook' | 'raw';
  sub?: Record<string, unknown>;
}

/** CPU of `server` over `from`..now in percent of one core. */
function cpuPercent(from: Usage, to: Usage): number {
  return ((to.cpuMs - from.cpuMs) / (to.at - from.at)) * 100;
}

// -------------------------------------------------------------------------------------- sides

/** One server under test: how to reach a topic on it and how to feed that topic. */
interface Side {
  name: 'ours' | 'raw';
  server: Child;
  target(topic: string): Target;
  /** Creates the topic (Kafka) before anyone subscribes. */
  prepare(topic: string): Promise<void>;
  /** `rate` records/s of `payloadSize` bytes for `seconds`. */
  steady(topic: string, seconds: number): Promise<Produced>;
  /** As fast as it goes for `seconds`. */
  saturate(topic: string, seconds: number): Promise<Produced>;
}

function rawSide(server: Child, port: number): Side {
  return {
    name: 'raw',
    server,
    target: (topic) => ({ host: '127.0.0.1', port, path: `/raw/${topic}`, protocols: [], mode: 'raw' }),
    prepare: async () => {},
    steady: (topic, seconds) => server.call<Produced>('steady', { topic, rate, seconds, size: payloadSize }),
    saturate: (topic, seconds) => server.call<Produced>('saturate', { topic, seconds, size: payloadSize, perTurn: 64 }),
  };
}

/**
 * Produces `perSecond` records/s from a 1 ms timer, or with `perSecond` = Infinity batches of 100,
 * until `seconds` pass. At most 4 sends are in flight (the client's own limit is 5): a value is
 * created, and stamped with its send time, only when its send can go out at once, so a lagging
 * producer sends what is due in bigger batches instead of queueing stamped records in the client
 * (which would count the producer's queue as gateway latency).
 */
async function produce(producer: Producer, topic: string, seconds: number, perSecond: number): Promise<Produced> {
  const maxInFlight = 4;
  const t0 = performance.now();
  let sent = 0;
  const inFlight = new Set<Promise<unknown>>();
  let ackedAt = new Float64Array(Number.isFinite(perSecond) ? Math.round(perSecond * seconds) : 1 << 16);
  const send = (count: number) => {
    const first = sent;
    const messages = Array.from({ length: count }, () => ({ topic, partition: 0, value: benchPayload(payloadSize, sent++) }));
    const p = producer
      .send({ messages, acks: 1 })
      .then(() => {
        const at = nowMs();
        if (ackedAt.length < sent) {
          const grown = new Float64Array(Math.max(sent, ackedAt.length * 2));
          grown.set(ackedAt);
          ackedAt = grown;
        }
        ackedAt.fill(at, first, first + count);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  if (Number.isFinite(perSecond)) {
    const total = Math.round(perSecond * seconds);
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * perSecond));
      if (due > sent && inFlight.size < maxInFlight) send(due - sent);
      await sleep(1);
    }
  } else {
    while (performance.now() - t0 < seconds * 1000) {
      while (inFlight.size < maxInFlight) send(100);
      await Promise.race(inFlight);
    }
  }
  await Promise.all(inFlight);
  return { published: sent, seconds: (performance.now() - t0) / 1000, ackedAt: ackedAt.subarray(0, sent) };
}

function brookSide(server: Child, wsPort: number, admin: Admin, producer: Producer, policy?: string): Side {
  return {
    name: 'ours',
    server,
    target: (topic) => ({
      host: '127.0.0.1',
      port: wsPort,
      path: '/ws/v1',
      protocols: ['brook.v1.bin'],
      mode: 'brook',
      sub: { op: 'sub', topic, mode: 'live', from: 'latest', credit: { records: 1_000_000, bytes: 1_073_741_824 }, ...(policy ? { policy } : {}) },
    }),
    prepare: async (topic) => {
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
      // A first record makes the producer fetch metadata and connect before the timed part.
      await producer.send({ messages: [{ topic, partition: 0, value: Buffer.alloc(1) }], acks: 1 });
    },
    steady: (topic, seconds) => produce(producer, topic, seconds, rate),
    saturate: (topic, seconds) => produce(producer, topic, seconds, Infinity),
  };
}

// ----------------------------------------------------------------------------------- the runs

interface RunResult {
  produced: Produced;
  stats: ClientStats;
  serverCpu: number;
  clientCpu: number;
  /** Records each subscriber was sent and did not get (counted from the producer's side). */
  missing: number;
  /** Kafka only: ms from the produce acknowledgement to WS receipt (sampled connections; < 0 when the record beat its ack). */
  fromAck?: { p50: number; p99: number; p999: number };
  /**
   * The stalled subscriber: ms from when it stopped reading until its policy fired (ours: when the
   * gateway's slowConsumerActions counter went up; raw uWS: its first drop), and for ours the part of
   * that after the gateway stopped sending to it (the send stamp of the last record it got before
   * the gap): what ws.slow.consumer.ms governs. The rest is the kernel's socket buffers filling.
   * NaN: did not fire within the run.
   */
  stall?: { report: StallReport; stalledAt: number; fireMs: number; heldMs: number };
  reconnect?: { times: number[]; failures: string[]; failed: number };
  isolation?: number;
}

interface RunOptions {
  seconds: number;
  saturate?: boolean;
  stallOne?: boolean;
  reconnects?: number;
  /** Runs beside the production, started 1/4 of the way in; its result is returned as `isolation`. */
  beside?: () => Promise<number>;
}

/**
 * One fan-out run on `side`: `n` subscribers to a fresh topic, production for `seconds`, then a wait
 * (up to 5 s) for every subscriber to catch up, then the client's counts.
 */
async function fanOut(side: Side, client: Child, topic: string, n: number, o: RunOptions): Promise<RunResult> {
  await side.prepare(topic);
  // The warm-up record of `prepare` is offset 0: subscribers from `latest` expect offsets from 1.
  const first = side.name === 'ours' ? 1 : 0;
  await client.call('connect', { target: side.target(topic), count: n, sampled, expectFrom: first });
  await sleep(sized(200, 50));
  const c0 = await client.call<Usage>('reset');
  const s0 = await side.server.call<Usage>('usage');
  let stalledAt: number | undefined;
  if (o.stallOne && side.name === 'ours') await side.server.call('gateway'); // forgets earlier firings
  if (o.stallOne) stalledAt = (await client.call<{ at: number }>('stall', { index: n - 1 })).at;
  const production = o.saturate ? side.saturate(topic, o.seconds) : side.steady(topic, o.seconds);
  // Reconnects over the middle half of the production, so each one has records to resume into.
  const reconnect = o.reconnects ? sleep((o.seconds * 1000) / 4).then(() => client.call<RunResult['reconnect']>('reconnect', { count: o.reconnects, spreadMs: (o.seconds * 1000) / 2 })) : undefined;
  const beside = o.beside ? sleep((o.seconds * 1000) / 4).then(o.beside) : undefined;
  const produced = await production;
  const [rc, isolation] = await Promise.all([reconnect, beside]);
  let stats: ClientStats;
  let s1: Usage;
  if (o.saturate) {
    // Counted at once: what is still queued would stretch the measured rate.
    stats = await client.call<ClientStats>('stats');
    s1 = await side.server.call<Usage>('usage');
  } else {
    await client.call('waitFor', { until: first + produced.published, timeoutMs: 5000 });
    s1 = await side.server.call<Usage>('usage');
    stats = await client.call<ClientStats>('stats');
  }
  const out: RunResult = {
    produced,
    stats,
    serverCpu: cpuPercent(s0, s1),
    clientCpu: cpuPercent(c0, stats.usage),
    missing: Math.max(0, stats.connections * produced.published - (stats.records - stats.duplicated) - stats.skipped),
    reconnect: rc,
    isolation,
  };
  if (o.stallOne && stalledAt !== undefined) {
    const report = await client.call<StallReport>('unstall', { index: n - 1, drainMs: sized(2000, 100) });
    if (side.name === 'raw') {
      const delays = (await side.server.call<{ delays: number[] }>('stalls')).delays;
      out.stall = { report, stalledAt, fireMs: delays[0] ?? NaN, heldMs: NaN };
    } else {
      const fired = (await side.server.call<{ policyFiredAt: number[] }>('gateway')).policyFiredAt[0];
      out.stall = { report, stalledAt, fireMs: fired !== undefined ? fired - stalledAt : NaN, heldMs: fired !== undefined && report.lastBeforeGap !== undefined ? fired - report.lastBeforeGap : NaN };
    }
  }
  if (produced.ackedAt) {
    const r = await client.call<{ seq: number[]; at: number[] }>('receipts');
    const d = Float64Array.from(r.seq, (seq, i) => r.at[i]! - produced.ackedAt![seq]!).sort();
    const q = (x: number) => (d.length ? d[Math.min(d.length - 1, Math.floor(x * d.length))]! : NaN);
    out.fromAck = { p50: q(0.5), p99: q(0.99), p999: q(0.999) };
  }
  await client.call('closeAll');
  console.log(
    `  ${side.name} ${topic}: ${Math.round(stats.records / produced.seconds)} deliveries/s from ${produced.published} records in ${produced.seconds.toFixed(1)} s to ${stats.connections}; ` +
      `missing ${out.missing}, lost ${stats.lost}, dup ${stats.duplicated}, skipped ${stats.skipped}; latency p50/p99/p99.9 ${stats.latency.p50.toFixed(1)}/${stats.latency.p99.toFixed(1)}/${stats.latency.p999.toFixed(1)} ms (${stats.latency.samples})` +
      `${out.fromAck ? `, from the ack ${out.fromAck.p50.toFixed(1)}/${out.fromAck.p99.toFixed(1)}/${out.fromAck.p999.toFixed(1)} ms` : ''}; ` +
      `server ${out.serverCpu.toFixed(0)}% client ${out.clientCpu.toFixed(0)}%${stats.errors.length ? `; errors ${stats.errors.join(' | ')}` : ''}${Object.keys(stats.closes).length ? `; closes ${JSON.stringify(stats.closes)}` : ''}`,
  );
  return out;
}

/** RSS a server process gains with `n` idle subscribers (after a GC on each side), in MB. */
async function idleMemory(side: Side, client: Child, n: number): Promise<{ mb: number; before: number; after: number }> {
  const topic = 'idle';
  await side.prepare(topic);
  await sleep(sized(300, 50));
  const before = (await side.server.call<Usage>('gc')).rss;
  await client.call('connect', { target: side.target(topic), count: n, sampled: 0 });
  await sleep(sized(1000, 100));
  const after = (await side.server.call<Usage>('gc')).rss;
  await client.call('closeAll');
  console.log(`  ${side.name}: ${n} idle subscribers: RSS ${(before / MB).toFixed(1)} -> ${(after / MB).toFixed(1)} MB`);
  return { mb: (after - before) / MB, before, after };
}

/** Kafka produce throughput, records/s: batches of 100 values of 100 B, 4 in flight, for `seconds`. */
async function kafkaProduceRate(producer: Producer, topic: string, seconds: number): Promise<number> {
  const r = await produce(producer, topic, seconds, Infinity);
  return r.published / r.seconds;
}

// -------------------------------------------------------------------------------------- figures

/** One run's figure side: a rate (higher is better) as one sample. */
const rateOf = (perSecond: number): Promise<Stats> => statsOf([1000 / perSecond], (m) => 1000 / m);
/** One run's figure side: a time, a size or a cost (lower is better) as one sample. */
const one = (v: number): Promise<Stats> => statsOf([v]);
const r1 = (x: number) => Number(x.toFixed(1));

export async function run(): Promise<Figure[]> {
  const n = Number(process.env.BENCH_WS_SUBSCRIBERS ?? sized(1000, 50));
  const seconds = Number(process.env.BENCH_WS_SECONDS ?? sized(30, 0.5));
  // Long enough for a stalled socket to fill the kernel's buffers (MBs on loopback) at ~120 KB/s.
  const slowSeconds = Number(process.env.BENCH_WS_SLOW_SECONDS ?? sized(60, 0.5));
  const idle = sized(5000, 200);
  const saturatedSeconds = sized(10, 0.5);
  const reconnects = sized(100, 5);
  const only = process.env.BENCH_WS_ONLY?.split(',');
  const wants = (w: string) => !only || only.includes(w);

  const client = new Child(join(here, 'ws/client.ts'));
  const rawServer = new Child(join(here, 'ws/raw-server.ts'));
  const brookServer = new Child(join(here, 'ws/broker-server.ts'));
  let producer: Producer | undefined;
  /** The Kafka isolation loop's own producer: its own connection, so it never queues the steady one's sends. */
  let loadProducer: Producer | undefined;
  let admin: Admin | undefined;
  const figures: Figure[] = [];
  try {
    const rawPort = await rawServer.call<number>('listen');
    const { port, wsPort } = await brookServer.call<{ port: number; wsPort: number }>('start', { properties: process.env.BENCH_WS_LINGER_MS === undefined ? {} : { 'ws.linger.ms': Number(process.env.BENCH_WS_LINGER_MS) } });
    const bootstrapBrokers = [`127.0.0.1:${port}`];
    admin = new Admin({ clientId: 'ws-bench', bootstrapBrokers });
    producer = new Producer({ clientId: 'ws-bench', bootstrapBrokers, acks: 1 });
    loadProducer = new Producer({ clientId: 'ws-bench-load', bootstrapBrokers, acks: 1 });
    const raw = rawSide(rawServer, rawPort);
    const ours = brookSide(brookServer, wsPort, admin, producer, process.env.BENCH_WS_POLICY);
    console.log(`ws bench: ${n} subscribers, ${payloadSize} B records, ${rate}/s for ${seconds} s; brook pid ${brookServer.pid}, raw uWS pid ${rawServer.pid}, client pid ${client.pid}`);

    if (wants('memory')) {
      const r = await idleMemory(raw, client, idle);
      const o = await idleMemory(ours, client, idle);
      figures.push({ name: `memory: RSS added by ${idle} idle subscribers`, unit: 'MB', higherIsBetter: false, ours: await one(o.mb), baseline: await one(r.mb), baselineName: 'raw uWS, same sockets', target: '<= 64 MB', extra: { oursKBPerConn: r1((o.mb * 1000) / idle), rawKBPerConn: r1((r.mb * 1000) / idle) } });
    }

    let steadyP99: number | undefined;
    if (wants('steady') || wants('slow')) {
      const r = await fanOut(raw, client, 'steady', n, { seconds });
      const o = await fanOut(ours, client, 'steady', n, { seconds });
      steadyP99 = o.stats.latency.p99;
      const gw = await brookServer.call<{ dropped?: number; slowConsumerActions?: number }>('gateway');
      const extra = {
        lost: o.missing,
        duplicated: o.stats.duplicated,
        skipped: o.stats.skipped,
        p50: r1(o.stats.latency.p50),
        'p99.9': r1(o.stats.latency.p999),
        rawP50: r1(r.stats.latency.p50),
        'rawP99.9': r1(r.stats.latency.p999),
        serverCpuPct: Math.round(o.serverCpu),
        rawServerCpuPct: Math.round(r.serverCpu),
        clientCpuPct: Math.round(o.clientCpu),
        rawLost: r.missing,
        uwsDropped: gw.dropped ?? 'n/a',
        policyFirings: gw.slowConsumerActions ?? 'n/a',
      };
      figures.push({ name: `steady ${n} subs x ${rate} rec/s: deliveries/s`, unit: 'deliveries/s', ours: await rateOf(o.stats.records / o.produced.seconds), baseline: await rateOf(r.stats.records / r.produced.seconds), baselineName: 'raw uWS app.publish, 1 per 1 ms turn', target: `${n * rate}/s, 0 lost`, extra });
      figures.push({ name: `steady: produce -> receive p99`, unit: 'ms', higherIsBetter: false, ours: await one(o.stats.latency.p99), baseline: await one(r.stats.latency.p99), baselineName: 'raw uWS publish -> receive p99', target: 'p50 <= 10, p99 <= 50, p99.9 <= 100 ms', extra });
      figures.push({
        name: `steady: produce-ack -> receive p99`,
        unit: 'ms',
        higherIsBetter: false,
        ours: await one(o.fromAck!.p99),
        baseline: await one(r.stats.latency.p99),
        baselineName: 'raw uWS publish -> receive p99',
        target: 'p99 <= 50 ms',
        extra: { p50: r1(o.fromAck!.p50), 'p99.9': r1(o.fromAck!.p999) },
      });
      figures.push({ name: `steady: server CPU`, unit: '% of a core', higherIsBetter: false, ours: await one(o.serverCpu), baseline: await one(r.serverCpu), baselineName: 'raw uWS process', extra: { oursClientCpuPct: Math.round(o.clientCpu), rawClientCpuPct: Math.round(r.clientCpu) } });
    }

    if (wants('saturated')) {
      const r = await fanOut(raw, client, 'saturated', n, { seconds: saturatedSeconds, saturate: true });
      const o = await fanOut(ours, client, 'saturated', n, { seconds: saturatedSeconds, saturate: true });
      figures.push({
        name: `saturated ${n} subs: deliveries/s`,
        unit: 'deliveries/s',
        ours: await rateOf(o.stats.records / o.produced.seconds),
        baseline: await rateOf(r.stats.records / r.produced.seconds),
        baselineName: 'raw uWS app.publish, 64 per turn',
        target: '>= 2M/s and >= 50%',
        extra: { producedPerSec: Math.round(o.produced.published / o.produced.seconds), skipped: o.stats.skipped, gaps: o.stats.gaps, serverCpuPct: Math.round(o.serverCpu), rawServerCpuPct: Math.round(r.serverCpu), clientCpuPct: Math.round(o.clientCpu), rawClientCpuPct: Math.round(r.clientCpu) },
      });
    }

    if (wants('slow')) {
      const r = await fanOut(raw, client, 'slow', n, { seconds: slowSeconds, stallOne: true });
      const o = await fanOut(ours, client, 'slow', n, { seconds: slowSeconds, stallOne: true });
      const os = o.stall!;
      const rs = r.stall!;
      console.log(
        `  slow consumer: ours fired ${os.fireMs.toFixed(0)} ms after it stopped reading, ${os.heldMs.toFixed(0)} ms after the gateway stopped sending (gaps ${os.report.gaps.length}, close ${os.report.closeCode ?? 'none'}); raw uWS first drop ${rs.fireMs.toFixed(0)} ms after`,
      );
      // A policy that never fired within the run counts as the whole run, so the figure stays finite.
      const orRun = (ms: number) => (Number.isFinite(ms) ? ms : slowSeconds * 1000);
      figures.push({
        name: `slow consumer (1 of ${n} stops reading): stop -> policy fires`,
        unit: 'ms',
        higherIsBetter: false,
        ours: await one(orRun(os.fireMs)),
        baseline: await one(orRun(rs.fireMs)),
        baselineName: 'raw uWS: stop -> first drop (maxBackpressure 1 MiB)',
        target: '<= 5000 ms',
        extra: {
          fired: Number.isFinite(os.fireMs) ? 'yes' : `no (within ${slowSeconds} s)`,
          heldToFiredMs: Number.isFinite(os.heldMs) ? Math.round(os.heldMs) : 'n/a',
          gaps: os.report.gaps.length,
          closeCode: os.report.closeCode ?? 'none',
          rawDropped: Number.isFinite(rs.fireMs) ? 'yes' : `no (within ${slowSeconds} s)`,
        },
      });
      figures.push({
        name: `slow consumer: the other subscribers' p99`,
        unit: 'ms',
        higherIsBetter: false,
        ours: await one(o.stats.latency.p99),
        baseline: await one(steadyP99 ?? NaN),
        baselineName: 'ours, the steady run (no stall)',
        target: '<= 2x (ratio >= 50%)',
        extra: { lost: o.missing, rawP99: r1(r.stats.latency.p99), rawLost: r.missing },
      });
    }

    if (wants('isolation')) {
      const isoSeconds = sized(10, 0.2);
      await ours.prepare('kafka-alone');
      await ours.prepare('kafka-beside');
      await ours.prepare('kafka-beside-raw');
      const load = loadProducer;
      await kafkaProduceRate(load, 'kafka-alone', isoSeconds / 2); // warm-up, not counted
      const before = await kafkaProduceRate(load, 'kafka-alone', isoSeconds);
      const o = await fanOut(ours, client, 'isolation', n, { seconds: Math.max(seconds, isoSeconds * 1.5), beside: () => kafkaProduceRate(load, 'kafka-beside', isoSeconds) });
      // The same beside the raw-uWS steady run: what the box's CPU alone takes from Kafka (the
      // gateway idle, raw uWS and the client busy), to tell it from what the gateway takes.
      const r = await fanOut(raw, client, 'isolation', n, { seconds: Math.max(seconds, isoSeconds * 1.5), beside: () => kafkaProduceRate(load, 'kafka-beside-raw', isoSeconds) });
      const after = await kafkaProduceRate(load, 'kafka-alone', isoSeconds);
      console.log(`  kafka produce: alone ${Math.round(before)} and ${Math.round(after)} rec/s (before, after), during our steady run ${Math.round(o.isolation!)} rec/s, during raw uWS's ${Math.round(r.isolation!)} rec/s`);
      figures.push({
        name: 'Kafka isolation: produce rec/s during the steady run',
        unit: 'records/s',
        ours: await rateOf(o.isolation!),
        baseline: await statsOf([1000 / before, 1000 / after], (m) => 1000 / m),
        baselineName: 'the same produce loop alone, before and after',
        target: '>= 70%',
        extra: { duringRawUwsSteady: Math.round(r.isolation!), lost: o.missing, p99: r1(o.stats.latency.p99) },
      });
    }

    if (wants('resume')) {
      const r = await fanOut(raw, client, 'resume', n, { seconds, reconnects });
      const o = await fanOut(ours, client, 'resume', n, { seconds, reconnects });
      const p99 = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(0.99 * xs.length))]! : NaN);
      figures.push({
        name: `resume: ${reconnects} forced reconnects, reconnect -> first frame p99`,
        unit: 'ms',
        higherIsBetter: false,
        ours: await one(p99(o.reconnect!.times)),
        baseline: await one(p99(r.reconnect!.times)),
        baselineName: 'raw uWS reconnect (no replay)',
        target: '<= 100 ms, 0 lost',
        extra: { lost: o.missing, duplicated: o.stats.duplicated, failed: o.reconnect!.failed, rawFailed: r.reconnect!.failed, ...(o.reconnect!.failures.length ? { failure: o.reconnect!.failures[0]! } : {}) },
      });
    }
  } finally {
    await producer?.close().catch(() => {});
    await loadProducer?.close().catch(() => {});
    await admin?.close().catch(() => {});
    await Promise.all([client.stop(), rawServer.stop(), brookServer.stop()]);
  }
  return figures;
}
