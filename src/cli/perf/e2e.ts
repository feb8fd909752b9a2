/**
 * `brook perf e2e`: end-to-end latency, as Kafka's EndToEndLatency tool measures it (the time from
 * handing a record to the producer to reading it back with a consumer), but at a chosen rate:
 * --throughput N sends N records/sec; -1 sends one record at a time and waits for it to come back
 * before the next, as Kafka's tool does.
 *
 * One process runs both clients, the consumer on a worker thread (so the two share no event loop
 * and can use two cores), and both stamp times on CLOCK_MONOTONIC (process.hrtime, read once per
 * thread to offset performance.now(), which has a different origin in each thread). Record value
 * layout (--record-size bytes, at least 12):
 *
 *   0  sendTime float64 LE (monotonic ms when send() was called)
 *   8  sequence uint32 LE (record number, to count losses and duplicates)
 *  12  filler ('x') up to --record-size
 *
 * The consumer is assigned every partition at its latest offset before the first send, so nothing
 * sent is missed. Latency = time the fetch answer is handled - sendTime, so it includes the
 * producer's linger (linger.ms defaults to 0 here, as in Kafka's tool), the broker's append and the
 * wake-up of the parked fetch, and this process's event loop. Output: Kafka's `Avg latency: %.4f ms`
 * line, then the percentiles with decimals (Kafka prints whole ms, too coarse on one machine) and
 * the max; `--json` prints one object.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Consumer, type ConsumerOptions } from '../../kafka/consumer.js';
import { LATEST, partitionOffsets } from '../../kafka/offsets.js';
import { Producer } from '../../kafka/producer.js';
import { decodeBatchesFlat, FLAT } from '../../native/records.js';
import { helpText, keyValues, parseFlags, UsageError, type FlagTable, type ParsedFlags } from '../args.js';
import type { Command } from '../command.js';
import { CLIENT_FLAGS, clientFrom, commandConfig, HELP_FLAG, out, printJson } from '../common.js';
import { producerOptions } from '../produce.js';
import { clientProps, consumerOptions, fixed, LatencySample, positiveInt, ProgressBar, propertiesFile, sleep, throughputFlag } from './stats.js';

const FLAGS: FlagTable = {
  topic: { kind: 'string', arg: 'topic', help: 'topic to produce to and consume from (required)' },
  'num-records': { kind: 'string', arg: 'n', help: 'number of records (required)' },
  throughput: { kind: 'string', arg: 'n|-1', help: 'records/sec; -1: one at a time, each sent after the previous came back (required)' },
  'record-size': { kind: 'string', arg: 'bytes', help: 'record size in bytes, at least 12 (default 100)' },
  'producer-props': { kind: 'multi', arg: 'k=v', help: 'producer settings (acks, linger.ms (default 0 here), batch.size, compression.type ...)' },
  'producer.config': { kind: 'string', arg: 'file', help: 'producer settings from a properties file (--producer-props win)' },
  'consumer-props': { kind: 'multi', arg: 'k=v', help: 'consumer settings: fetch.max.wait.ms, fetch.min.bytes, fetch.max.bytes, max.partition.fetch.bytes' },
  timeout: { kind: 'string', arg: 'ms', help: 'fail when a sent record has not come back after this long (default 10000)' },
  json: { kind: 'boolean', help: 'print one JSON object instead of the text lines' },
  ...CLIENT_FLAGS,
  ...HELP_FLAG,
};

const USAGE = 'brook perf e2e --topic <t> --num-records <n> --throughput <n|-1> [--record-size 100] [--producer-props k=v ...]';
const SUMMARY = 'Produce-to-consume latency at a given rate (Kafka EndToEndLatency).';
const STAMP_BYTES = 12;

export const command: Command = { name: 'perf e2e', summary: SUMMARY, run };

export interface E2eResult {
  records: number;
  targetRecordsPerSec: number;
  recordsPerSec: number;
  avgLatencyMs: number;
  p50LatencyMs: number;
  p99LatencyMs: number;
  p999LatencyMs: number;
  maxLatencyMs: number;
  lost: number;
  duplicated: number;
}

interface Options {
  flags: ParsedFlags;
  topic: string;
  n: number;
  throughput: number;
  size: number;
  timeoutMs: number;
  json: boolean;
  pprops: Map<string, string>;
  consumer: ConsumerOptions;
}

function parse(argv: string[]): Options | undefined {
  const flags = parseFlags(argv, FLAGS);
  if (flags.booleans.has('help')) return undefined;
  const topic = flags.strings.get('topic');
  if (!topic) throw new UsageError('--topic is required');
  const n = positiveInt(flags, 'num-records', true)!;
  if (n > 0xffffffff) throw new UsageError('--num-records must be below 2^32');
  const throughput = throughputFlag(flags, true);
  const size = positiveInt(flags, 'record-size', false) ?? 100;
  if (size < STAMP_BYTES) throw new UsageError(`--record-size must be at least ${STAMP_BYTES} (a send time and a sequence number)`);
  const timeoutMs = positiveInt(flags, 'timeout', false) ?? 10_000;
  const pprops = new Map([...commandConfig(flags), ...propertiesFile('producer.config', flags.strings.get('producer.config')), ...keyValues('producer-props', flags.lists.get('producer-props') ?? [])]);
  const cprops = keyValues('consumer-props', flags.lists.get('consumer-props') ?? []);
  for (const k of cprops.keys()) if (!['fetch.max.wait.ms', 'fetch.min.bytes', 'fetch.max.bytes', 'max.partition.fetch.bytes'].includes(k)) throw new UsageError(`unknown consumer property ${k}`);
  const consumer = consumerOptions(cprops, undefined, 'latest');
  return { flags, topic, n, throughput, size, timeoutMs, json: flags.booleans.has('json'), pprops, consumer };
}

/**
 * Milliseconds on CLOCK_MONOTONIC, the same in every thread: performance.now() plus this thread's
 * offset. Taken from the tightest of several reads bracketed by performance.now() (the first
 * hrtime read of a thread is slow: a single pair was 1.3 ms off, latencies came out negative).
 */
function monotonicOffset(): number {
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 20; i++) {
    const before = performance.now();
    const mono = Number(process.hrtime.bigint()) / 1e6;
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      offset = mono - (before + after) / 2;
    }
  }
  return offset;
}

/** What the consumer thread gets. */
interface WorkerInput {
  brookPerfE2e: true;
  argv: string[];
  assignments: [number, number][];
  /** Int32Array: [0] records received so far (Atomics.notify on change). */
  shared: SharedArrayBuffer;
}

/** What it answers: 'ready' once assigned and fetching, then the totals when told to stop (or when all came back). */
type WorkerMessage =
  | { kind: 'ready' }
  | { kind: 'error'; message: string }
  | { kind: 'result'; received: number; duplicated: number; foreign: number; count: number; avg: number; max: number; p50: number; p99: number; p999: number };

/** The consumer thread: reads the records back and keeps their latencies. */
async function consumerThread(input: WorkerInput): Promise<void> {
  const port = parentPort!;
  const o = parse(input.argv)!;
  const offset = monotonicOffset();
  const received = new Int32Array(input.shared);
  const client = clientFrom(o.flags, clientProps(o.pprops));
  const consumer = new Consumer(client, o.consumer);
  const latency = new LatencySample(o.n, 1_000_000);
  const seen = new Uint8Array(o.n);
  let count = 0;
  let duplicated = 0;
  let foreign = 0;
  port.on('message', () => consumer.stop()); // the only message: stop
  try {
    await consumer.assign(input.assignments.map(([partition, at]) => ({ topic: o.topic, partition, offset: at })));
    const done = consumer.run((f) => {
      const now = performance.now() + offset;
      const { batches: b, records: r, buffers } = decodeBatchesFlat(f.records);
      for (let bi = 0; bi < b.length; bi += FLAT.BATCH_FIELDS) {
        if ((b[bi + 6]! & 0x20) !== 0) continue; // control batch
        const source = b[bi + 14]!;
        const src = source < 0 ? f.records : buffers[source]!;
        const first = b[bi + 15]!;
        const n = b[bi + 13]!;
        for (let k = 0; k < n; k++) {
          const i = (first + k) * FLAT.RECORD_FIELDS;
          if (r[i]! < f.fetchOffset) continue;
          const pos = r[i + 4]!;
          const seq = r[i + 5]! < STAMP_BYTES ? -1 : src.readUInt32LE(pos + 8);
          if (seq < 0 || seq >= o.n) {
            foreign++; // someone else's record on the topic
            continue;
          }
          if (seen[seq]) {
            duplicated++;
            continue;
          }
          seen[seq] = 1;
          count++;
          latency.add(now - src.readDoubleLE(pos));
        }
      }
      Atomics.store(received, 0, count);
      Atomics.notify(received, 0);
      if (count >= o.n) consumer.stop();
    });
    port.postMessage({ kind: 'ready' } satisfies WorkerMessage);
    await done;
    const [p50, p99, p999] = latency.percentiles(0.5, 0.99, 0.999) as [number, number, number];
    port.postMessage({ kind: 'result', received: count, duplicated, foreign, count: latency.count, avg: latency.avg, max: latency.max, p50, p99, p999 } satisfies WorkerMessage);
  } catch (e) {
    port.postMessage({ kind: 'error', message: (e as Error).message } satisfies WorkerMessage);
  } finally {
    consumer.stop();
    client.close();
  }
}

/** Atomics.waitAsync (V8 has it since Node 16; TypeScript's lib has it from ES2024 on). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: boolean; value: 'ok' | 'not-equal' | 'timed-out' | Promise<'ok' | 'timed-out'> } }).waitAsync;

if (!isMainThread && (workerData as Partial<WorkerInput> | null)?.brookPerfE2e) void consumerThread(workerData as WorkerInput);

async function run(argv: string[]): Promise<number> {
  const o = parse(argv);
  if (o === undefined) {
    process.stdout.write(helpText(USAGE, SUMMARY, FLAGS));
    return 0;
  }
  const { topic, n, throughput, size, timeoutMs, json } = o;
  const popts = producerOptions(o.pprops);
  popts.lingerMs ??= 0;
  const offset = monotonicOffset();
  const client = clientFrom(o.flags, clientProps(o.pprops));
  const producer = new Producer(client, popts);
  const shared = new SharedArrayBuffer(4);
  const received = new Int32Array(shared);
  let worker: Worker | undefined;
  let result: Extract<WorkerMessage, { kind: 'result' }> | undefined;
  let bar: ProgressBar | undefined;
  let start = 0;
  let sent = 0;
  let lastSendAt = 0;

  try {
    const partitions = await producer.addTopic(topic); // unknown topic or no broker: one line, exit 1
    const list = Array.from({ length: partitions }, (_, p) => p);
    const offsets = await partitionOffsets(client, topic, list, LATEST);
    const input: WorkerInput = { brookPerfE2e: true, argv, assignments: list.map((p) => [p, offsets.get(p)!]), shared };
    const w = (worker = new Worker(new URL(import.meta.url), { workerData: input }));
    const messages: WorkerMessage[] = [];
    let wake: (() => void) | undefined;
    w.on('message', (m: WorkerMessage) => {
      messages.push(m);
      wake?.();
    });
    w.on('error', (e) => {
      messages.push({ kind: 'error', message: e.message });
      wake?.();
    });
    const next = async (): Promise<WorkerMessage> => {
      while (messages.length === 0) await new Promise<void>((r) => (wake = r));
      const m = messages.shift()!;
      if (m.kind === 'error') throw new Error(`consumer: ${m.message}`);
      return m;
    };
    await next(); // ready: assigned and fetching
    /** Waits until `want` records came back, or `timeoutMs` without any progress; false on timeout. */
    const comeBack = async (want: number): Promise<boolean> => {
      for (;;) {
        const have = Atomics.load(received, 0);
        if (have >= want) return true;
        const r = waitAsync(received, 0, have, timeoutMs);
        if ((r.async ? await r.value : r.value) === 'timed-out') return Atomics.load(received, 0) >= want;
      }
    };

    if (!json) bar = new ProgressBar(n, () => Atomics.load(received, 0));
    const value = Buffer.alloc(size, 'x');
    const perRecord = 1000 / throughput;
    start = performance.now();
    while (sent < n) {
      let now = performance.now();
      if (throughput > 0) {
        const due = start + sent * perRecord;
        if (due > now) {
          await sleep(Math.max(1, due - now));
          continue;
        }
      }
      // At a rate, send everything that is due now; one at a time, one record then wait for it.
      const until = throughput > 0 ? Math.min(n, Math.floor((now - start) / perRecord) + 1) : sent + 1;
      let full = false;
      while (sent < until) {
        now = performance.now();
        value.writeDoubleLE(now + offset, 0);
        value.writeUInt32LE(sent, 8);
        sent++;
        if (!producer.send(topic, null, value, null, undefined, Date.now(), now)) {
          full = true;
          break;
        }
      }
      lastSendAt = performance.now();
      if (producer.failed > 0) break;
      if (throughput < 0 && !(await comeBack(sent))) break;
      if (full) await producer.room();
      else if (throughput > 0) await new Promise((r) => setImmediate(r));
    }
    await producer.flush();
    if (producer.failed === 0) await comeBack(n);
    w.postMessage('stop');
    const m = await next();
    if (m.kind === 'result') result = m;
  } finally {
    bar?.stop();
    producer.close();
    client.close();
    await worker?.terminate();
  }
  if (producer.failed > 0) throw new Error(`${producer.failed} record(s) were not acknowledged (first error: ${producer.firstError?.message})`);
  const r = result!;
  const sendSeconds = (lastSendAt - start) / 1000;
  const out1: E2eResult = {
    records: r.received,
    targetRecordsPerSec: throughput,
    recordsPerSec: sendSeconds > 0 ? sent / sendSeconds : sent,
    avgLatencyMs: r.avg,
    p50LatencyMs: r.p50,
    p99LatencyMs: r.p99,
    p999LatencyMs: r.p999,
    maxLatencyMs: r.max,
    lost: n - r.received,
    duplicated: r.duplicated,
  };
  if (json) await printJson(out1);
  else {
    await out(
      `${r.received} records received of ${n} sent at ${fixed(out1.recordsPerSec, 1)} records/sec${throughput > 0 ? ` (target ${throughput})` : ' (one at a time)'}, ${size} bytes each\n` +
        `Avg latency: ${fixed(r.avg, 4)} ms\n` +
        `Percentiles: 50th = ${fixed(r.p50, 3)} ms, 99th = ${fixed(r.p99, 3)} ms, 99.9th = ${fixed(r.p999, 3)} ms, max = ${fixed(r.max, 3)} ms\n`,
    );
  }
  if (r.foreign > 0) process.stderr.write(`brook perf e2e: ignored ${r.foreign} record(s) not sent by this run (is something else producing to ${topic}?)\n`);
  if (r.received < n) {
    process.stderr.write(`brook perf e2e: only ${r.received} of ${n} record(s) came back within ${timeoutMs} ms (${r.duplicated} duplicated)\n`);
    return 1;
  }
  return 0;
}
