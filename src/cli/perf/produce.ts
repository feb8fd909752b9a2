/**
 * `brook perf produce`: kafka-producer-perf-test.sh. Sends --num-records records of --record-size
 * bytes (or payloads from --payload-file, or --payload-monotonic) as fast as the producer takes
 * them, or at --throughput records/sec, and prints Kafka's lines: a window line whenever an
 * acknowledgement arrives 5 s or more after the window began, and the total line with latency
 * percentiles. `--json` prints one object instead.
 *
 * Latency is Kafka's: from the record's send() call to its batch's acknowledgement, per record
 * (the producer's keepCreated stamps), in fractional ms; Kafka prints the percentiles as integers
 * (`%d ms`), so do we (rounded), and `--json` has them exact.
 *
 * Payloads: Kafka fills every record with fresh random letters A-Z, which costs more than the send
 * itself; we draw 1024 random-letter payloads (at most 4 MiB in all) once and cycle through them, so
 * compressed runs still see letters, not one repeated value. The hot loop is one send() per record
 * in chunks of about 256 KiB, yielding to the event loop between chunks so acknowledgements are
 * counted as they come; when the producer's buffer is full it waits for room.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Producer } from '../../kafka/producer.js';
import { helpText, keyValues, parseFlags, UsageError, type FlagTable } from '../args.js';
import type { Command } from '../command.js';
import { CLIENT_FLAGS, clientFrom, commandConfig, HELP_FLAG, out, printJson } from '../common.js';
import { producerOptions } from '../produce.js';
import { clientProps, fixed, LatencySample, MB, positiveInt, ProgressBar, propertiesFile, sleep, throughputFlag } from './stats.js';

const FLAGS: FlagTable = {
  topic: { kind: 'string', arg: 'topic', help: 'produce to this topic (required)' },
  'num-records': { kind: 'string', arg: 'n', help: 'number of records to produce (required)' },
  'record-size': { kind: 'string', arg: 'bytes', help: 'record size in bytes (random letters); one of --record-size,\n--payload-file, --payload-monotonic is required' },
  'payload-file': { kind: 'string', arg: 'file', help: 'payloads from this file, cut at --payload-delimiter; each record takes one at random' },
  'payload-delimiter': { kind: 'string', arg: 'text', help: 'delimiter of --payload-file (default \\n; \\t \\r \\\\ understood)' },
  'payload-monotonic': { kind: 'boolean', help: 'payload is the record number as text (0, 1, 2 ...)' },
  throughput: { kind: 'string', arg: 'n|-1', help: 'at most this many records/sec; -1 for no limit (required)' },
  'producer-props': { kind: 'multi', arg: 'k=v', help: 'producer settings (acks, linger.ms, batch.size, compression.type,\nmax.in.flight.requests.per.connection, buffer.memory, bootstrap.servers ...)' },
  'producer.config': { kind: 'string', arg: 'file', help: 'producer settings from a properties file (--producer-props win)' },
  json: { kind: 'boolean', help: 'print one JSON object with the totals instead of the text lines' },
  ...CLIENT_FLAGS,
  ...HELP_FLAG,
};

const USAGE = 'brook perf produce --topic <t> --num-records <n> (--record-size <b> | --payload-file <f> | --payload-monotonic) --throughput <n|-1> [--producer-props k=v ...]';
const SUMMARY = 'Producer throughput and latency (kafka-producer-perf-test.sh).';

/** Kafka's reporting interval of the window lines. */
const WINDOW_MS = 5000;
/** Bytes sent between two yields to the event loop. */
const CHUNK_BYTES = 256 * 1024;

export const command: Command = { name: 'perf produce', summary: SUMMARY, run };

/** Where each record's value comes from. */
interface Payloads {
  next(i: number): Buffer;
  /** Exact bytes of records [0, n) when known cheaply (fixed size), else undefined. */
  fixedSize: number | undefined;
}

export interface ProduceResult {
  records: number;
  bytes: number;
  elapsedMs: number;
  recordsPerSec: number;
  MBPerSec: number;
  avgLatencyMs: number;
  maxLatencyMs: number;
  p50LatencyMs: number;
  p95LatencyMs: number;
  p99LatencyMs: number;
  p999LatencyMs: number;
  failed: number;
}

async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags.booleans.has('help')) {
    process.stdout.write(helpText(USAGE, SUMMARY, FLAGS));
    return 0;
  }
  const topic = flags.strings.get('topic');
  if (!topic) throw new UsageError('--topic is required');
  const numRecords = positiveInt(flags, 'num-records', true)!;
  const throughput = throughputFlag(flags, true);
  const json = flags.booleans.has('json');
  const payloads = payloadSource(flags, json);
  const props = new Map([...commandConfig(flags), ...propertiesFile('producer.config', flags.strings.get('producer.config')), ...keyValues('producer-props', flags.lists.get('producer-props') ?? [])]);
  if (!props.has('client.id')) props.set('client.id', 'perf-producer-client');
  const opts = producerOptions(props);

  const client = clientFrom(flags, clientProps(props));
  const latency = new LatencySample(numRecords);
  let sent = 0;
  let sentBytes = 0;
  let window = newWindow(performance.now());
  let bar: ProgressBar | undefined;
  let reportedError = false;
  const meanSize = () => payloads.fixedSize ?? (sent > 0 ? sentBytes / sent : 0);

  const producer = new Producer(client, {
    ...opts,
    keepCreated: true,
    onBatch: (r) => {
      if (r.error) {
        if (!reportedError) {
          bar?.clear();
          process.stderr.write(`brook perf produce: ${r.count} record(s) to ${r.topic}-${r.partition} not acknowledged: ${r.error.message}\n`);
          reportedError = true;
        }
        return;
      }
      const created = r.created!;
      const done = r.doneAt;
      let wmax = window.max;
      let wsum = 0;
      for (let k = 0; k < created.length; k++) {
        const ms = done - created[k]!;
        latency.add(ms);
        wsum += ms;
        if (ms > wmax) wmax = ms;
      }
      window.count += created.length;
      window.sum += wsum;
      window.max = wmax;
      window.bytes += created.length * meanSize();
      if (done - window.start >= WINDOW_MS) {
        if (!json) {
          bar?.clear();
          process.stdout.write(windowLine(window, done));
        }
        window = newWindow(done);
      }
    },
  });

  let start = 0;
  try {
    await producer.addTopic(topic); // unknown topic or no broker: one line, exit 1
    if (!json) bar = new ProgressBar(numRecords, () => producer.acked, () => `${Math.round((producer.acked * 1000) / Math.max(1, performance.now() - start))} records/sec`);
    start = performance.now();
    window = newWindow(start);
    const perRecord = 1000 / throughput;
    const chunk = Math.max(16, Math.floor(CHUNK_BYTES / Math.max(1, payloads.fixedSize ?? 100)));
    while (sent < numRecords) {
      const end = Math.min(numRecords, sent + chunk);
      let full = false;
      let wait = 0;
      while (sent < end) {
        const now = performance.now();
        if (throughput > 0) {
          // ThroughputThrottler's rule: never ahead of start + i / throughput.
          const due = start + sent * perRecord;
          if (due > now) {
            wait = due - now;
            break;
          }
        }
        const value = payloads.next(sent);
        sentBytes += value.length;
        sent++;
        if (!producer.send(topic, null, value, null, undefined, Date.now(), now)) {
          full = true;
          break;
        }
      }
      if (producer.failed > 0 && producer.acked === 0) break; // nothing gets through (failures come after retries): stop early
      if (full) await producer.room();
      else if (wait > 0) await sleep(Math.max(1, wait));
      else await new Promise((r) => setImmediate(r));
    }
    await producer.flush();
  } finally {
    bar?.stop();
    producer.close();
    client.close();
  }
  const elapsedMs = performance.now() - start;
  const bytes = payloads.fixedSize !== undefined ? producer.acked * payloads.fixedSize : producer.failed === 0 ? sentBytes : Math.round(producer.acked * meanSize());
  const [p50, p95, p99, p999] = latency.percentiles(0.5, 0.95, 0.99, 0.999) as [number, number, number, number];
  const result: ProduceResult = {
    records: producer.acked,
    bytes,
    elapsedMs,
    recordsPerSec: (1000 * producer.acked) / elapsedMs,
    MBPerSec: (1000 * bytes) / elapsedMs / MB,
    avgLatencyMs: latency.avg,
    maxLatencyMs: latency.max,
    p50LatencyMs: p50,
    p95LatencyMs: p95,
    p99LatencyMs: p99,
    p999LatencyMs: p999,
    failed: numRecords - producer.acked,
  };
  if (json) await printJson(result);
  else {
    await out(
      `${result.records} records sent, ${fixed(result.recordsPerSec, 6)} records/sec (${fixed(result.MBPerSec, 2)} MB/sec), ${fixed(result.avgLatencyMs, 2)} ms avg latency, ` +
        `${fixed(result.maxLatencyMs, 2)} ms max latency, ${Math.round(p50)} ms 50th, ${Math.round(p95)} ms 95th, ${Math.round(p99)} ms 99th, ${Math.round(p999)} ms 99.9th.\n`,
    );
  }
  if (result.failed > 0) {
    process.stderr.write(`brook perf produce: ${result.failed} of ${numRecords} record(s) were not acknowledged${producer.firstError ? ` (first error: ${producer.firstError.message})` : ''}\n`);
    return 1;
  }
  return 0;
}

interface Window {
  start: number;
  count: number;
  bytes: number;
  sum: number;
  max: number;
}

function newWindow(start: number): Window {
  return { start, count: 0, bytes: 0, sum: 0, max: 0 };
}

/** Kafka's window line: `%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.` */
function windowLine(w: Window, now: number): string {
  const elapsed = now - w.start;
  return `${w.count} records sent, ${fixed((1000 * w.count) / elapsed, 1)} records/sec (${fixed((1000 * w.bytes) / elapsed / MB, 2)} MB/sec), ${fixed(w.count ? w.sum / w.count : 0, 1)} ms avg latency, ${fixed(w.max, 1)} ms max latency.\n`;
}

function payloadSource(flags: ReturnType<typeof parseFlags>, json: boolean): Payloads {
  const size = positiveInt(flags, 'record-size', false);
  const file = flags.strings.get('payload-file');
  const monotonic = flags.booleans.has('payload-monotonic');
  if ([size !== undefined, file !== undefined, monotonic].filter(Boolean).length !== 1) throw new UsageError('give exactly one of --record-size, --payload-file, --payload-monotonic');
  if (flags.strings.has('payload-delimiter') && file === undefined) throw new UsageError('--payload-delimiter needs --payload-file');
  if (size !== undefined) {
    const count = Math.max(1, Math.min(1024, Math.floor((4 * MB) / size)));
    const pool: Buffer[] = [];
    let seed = 0x9e3779b9;
    for (let i = 0; i < count; i++) {
      const b = Buffer.allocUnsafe(size);
      for (let j = 0; j < size; j++) {
        seed = xorshift(seed);
        b[j] = 65 + ((seed >>> 0) % 26);
      }
      pool.push(b);
    }
    return { next: (i) => pool[i % count]!, fixedSize: size };
  }
  if (monotonic) return { next: (i) => Buffer.from(String(i)), fixedSize: undefined };
  const path = resolve(file!);
  if (!json) process.stdout.write(`Reading payloads from: ${path}\n`);
  let text: Buffer;
  try {
    if (statSync(path).size === 0) throw new UsageError('File does not exist or empty file provided.');
    text = readFileSync(path);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`File does not exist or empty file provided. (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const delimiter = Buffer.from(unescape(flags.strings.get('payload-delimiter') ?? '\\n'));
  if (delimiter.length === 0) throw new UsageError('--payload-delimiter cannot be empty');
  const list: Buffer[] = [];
  for (let at = 0; at <= text.length; ) {
    const next = text.indexOf(delimiter, at);
    const stop = next < 0 ? text.length : next;
    if (stop > at) list.push(text.subarray(at, stop)); // empty pieces (a trailing delimiter) are not payloads
    if (next < 0) break;
    at = next + delimiter.length;
  }
  if (list.length === 0) throw new UsageError(`no payloads in ${path} (only delimiters)`);
  if (!json) process.stdout.write(`Number of messages read: ${list.length}\n`);
  let seed = 0x2545f491;
  return {
    next: () => {
      seed = xorshift(seed);
      return list[(seed >>> 0) % list.length]!;
    },
    fixedSize: list.every((b) => b.length === list[0]!.length) ? list[0]!.length : undefined,
  };
}

/** xorshift32: cheap, deterministic random numbers for payloads (not for anything secret). */
function xorshift(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x | 0;
}

function unescape(s: string): string {
  return s.replace(/\\([ntr\\])/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '\\': '\\' })[c]!);
}
