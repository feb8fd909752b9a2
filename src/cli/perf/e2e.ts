/**
 * `brook perf e2e`: end-to-end latency, as Kafka's EndToEndLatency tool measures it (the time from
 * handing a record to the producer to reading it back with a consumer), but at a chosen rate:
 * --throughput N sends N records/sec; -1 sends one record at a time and waits for it to come back
 * before the next, as Kafka's tool does.
 *
 * One process runs both clients, so one clock stamps both ends. Record value layout (--record-size
 * bytes, at least 12):
 *
 *   0  sendTime float64 LE (performance.now() when send() was called)
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
import { Consumer } from '../../kafka/consumer.js';
import { LATEST, partitionOffsets } from '../../kafka/offsets.js';
import { Producer } from '../../kafka/producer.js';
import { decodeBatchesFlat, FLAT } from '../../native/records.js';
import { helpText, keyValues, parseFlags, UsageError, type FlagTable } from '../args.js';
import type { Command } from '../command.js';
import { CLIENT_FLAGS, clientFrom, commandConfig, HELP_FLAG, out, printJson } from '../common.js';
import { producerOptions } from '../produce.js';
import { clientProps, fixed, LatencySample, positiveInt, ProgressBar, propertiesFile, sleep, throughputFlag } from './stats.js';

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

async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags.booleans.has('help')) {
    process.stdout.write(helpText(USAGE, SUMMARY, FLAGS));
    return 0;
  }
  const topic = flags.strings.get('topic');
  if (!topic) throw new UsageError('--topic is required');
  const n = positiveInt(flags, 'num-records', true)!;
  if (n > 0xffffffff) throw new UsageError('--num-records must be below 2^32');
  const throughput = throughputFlag(flags, true);
  const size = positiveInt(flags, 'record-size', false) ?? 100;
  if (size < STAMP_BYTES) throw new UsageError(`--record-size must be at least ${STAMP_BYTES} (a send time and a sequence number)`);
  const timeoutMs = positiveInt(flags, 'timeout', false) ?? 10_000;
  const json = flags.booleans.has('json');
  const pprops = new Map([...commandConfig(flags), ...propertiesFile('producer.config', flags.strings.get('producer.config')), ...keyValues('producer-props', flags.lists.get('producer-props') ?? [])]);
  const popts = producerOptions(pprops);
  popts.lingerMs ??= 0;
  const cprops = keyValues('consumer-props', flags.lists.get('consumer-props') ?? []);
  const cint = (key: string): number | undefined => {
    const raw = cprops.get(key);
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw)) throw new UsageError(`${key} expects a non-negative integer, got "${raw}"`);
    return Number(raw);
  };
  for (const k of cprops.keys()) if (!['fetch.max.wait.ms', 'fetch.min.bytes', 'fetch.max.bytes', 'max.partition.fetch.bytes'].includes(k)) throw new UsageError(`unknown consumer property ${k}`);

  const client = clientFrom(flags, clientProps(pprops));
  const producer = new Producer(client, popts);
  const consumer = new Consumer(client, { maxWaitMs: cint('fetch.max.wait.ms'), minBytes: cint('fetch.min.bytes'), maxBytes: cint('fetch.max.bytes'), partitionMaxBytes: cint('max.partition.fetch.bytes'), autoOffsetReset: 'latest' });
  const latency = new LatencySample(n, 1_000_000);
  const seen = new Uint8Array(n);
  let received = 0;
  let duplicated = 0;
  let foreign = 0;
  let backWaiter: (() => void) | undefined;
  let bar: ProgressBar | undefined;
  let consumed: Promise<void> | undefined;
  let start = 0;
  let sent = 0;
  let lastSendAt = 0;

  try {
    const partitions = await producer.addTopic(topic); // unknown topic or no broker: one line, exit 1
    const list = Array.from({ length: partitions }, (_, p) => p);
    const offsets = await partitionOffsets(client, topic, list, LATEST);
    await consumer.assign(list.map((p) => ({ topic, partition: p, offset: offsets.get(p)! })));
    consumed = consumer.run((f) => {
      const now = performance.now();
      const { batches: b, records: r, buffers } = decodeBatchesFlat(f.records);
      for (let bi = 0; bi < b.length; bi += FLAT.BATCH_FIELDS) {
        if ((b[bi + 6]! & 0x20) !== 0) continue; // control batch
        const source = b[bi + 14]!;
        const src = source < 0 ? f.records : buffers[source]!;
        const first = b[bi + 15]!;
        const count = b[bi + 13]!;
        for (let k = 0; k < count; k++) {
          const i = (first + k) * FLAT.RECORD_FIELDS;
          if (r[i]! < f.fetchOffset) continue;
          const pos = r[i + 4]!;
          if (r[i + 5]! < STAMP_BYTES) {
            foreign++; // someone else's record on the topic
            continue;
          }
          const seq = src.readUInt32LE(pos + 8);
          if (seq >= n) {
            foreign++;
            continue;
          }
          if (seen[seq]) {
            duplicated++;
            continue;
          }
          seen[seq] = 1;
          received++;
          latency.add(now - src.readDoubleLE(pos));
        }
      }
      if (backWaiter) backWaiter();
      if (received >= n) consumer.stop();
    });
    consumed.catch(() => {}); // awaited below; a failure must not be an unhandled rejection meanwhile

    if (!json) bar = new ProgressBar(n, () => received);
    const value = Buffer.alloc(size, 'x');
    const perRecord = 1000 / throughput;
    const comeBack = (want: number) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        const check = () => {
          if (received >= want || consumer.isStopped) {
            clearTimeout(timer);
            backWaiter = undefined;
            resolve(received >= want);
          }
        };
        backWaiter = check;
        check();
      });
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
        value.writeDoubleLE(now, 0);
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
    consumer.stop();
    await consumed;
  } finally {
    bar?.stop();
    consumer.stop();
    producer.close();
    client.close();
  }
  if (producer.failed > 0) throw new Error(`${producer.failed} record(s) were not acknowledged (first error: ${producer.firstError?.message})`);
  const sendSeconds = (lastSendAt - start) / 1000;
  const [p50, p99, p999] = latency.percentiles(0.5, 0.99, 0.999) as [number, number, number];
  const result: E2eResult = {
    records: received,
    targetRecordsPerSec: throughput,
    recordsPerSec: sendSeconds > 0 ? sent / sendSeconds : sent,
    avgLatencyMs: latency.avg,
    p50LatencyMs: p50,
    p99LatencyMs: p99,
    p999LatencyMs: p999,
    maxLatencyMs: latency.max,
    lost: n - received,
    duplicated,
  };
  if (json) await printJson(result);
  else {
    await out(
      `${received} records received of ${n} sent at ${fixed(result.recordsPerSec, 1)} records/sec${throughput > 0 ? ` (target ${throughput})` : ' (one at a time)'}, ${size} bytes each\n` +
        `Avg latency: ${fixed(result.avgLatencyMs, 4)} ms\n` +
        `Percentiles: 50th = ${fixed(p50, 3)} ms, 99th = ${fixed(p99, 3)} ms, 99.9th = ${fixed(p999, 3)} ms, max = ${fixed(result.maxLatencyMs, 3)} ms\n`,
    );
  }
  if (foreign > 0) process.stderr.write(`brook perf e2e: ignored ${foreign} record(s) not sent by this run (is something else producing to ${topic}?)\n`);
  if (received < n) {
    process.stderr.write(`brook perf e2e: only ${received} of ${n} record(s) came back within ${timeoutMs} ms (${duplicated} duplicated)\n`);
    return 1;
  }
  return 0;
}
