/**
 * `brook produce`: kafka-console-producer.sh. Each stdin line becomes one record; with
 * parse.key / parse.headers a line is `headers<TAB>key<TAB>value` as Kafka's LineMessageReader reads it.
 *
 * Built for ingestion (`tail -F app.log | brook produce --topic logs`): stdin chunks are cut into
 * lines in place (a record's value is a view of the chunk) and appended straight into the open
 * batch; stdin is paused while the producer's buffer is full, so memory stays bounded when the
 * broker is slower than the log. Delivery failures are reported per batch on stderr and counted;
 * the exit code is 1 if any record was not acknowledged.
 */
import { codecByName } from '../native/codec.js';
import type { Codec } from '../native/codec.js';
import type { Header } from '../kafka/batch-builder.js';
import { Producer, type ProducerOptions } from '../kafka/producer.js';
import { helpText, keyValues, parseFlags, UsageError, type FlagTable } from './args.js';
import type { Command } from './command.js';
import { CLIENT_FLAGS, clientFrom, clientProps, commandConfig, HELP_FLAG } from './common.js';

const FLAGS: FlagTable = {
  topic: { kind: 'string', arg: 'topic', help: 'topic to write to (required)' },
  property: {
    kind: 'list',
    arg: 'k=v',
    help: 'line parsing: parse.key, parse.headers (true|false), key.separator (default \\t),\nheaders.delimiter (\\t), headers.separator (,), headers.key.separator (:),\nnull.marker, ignore.error; repeatable',
  },
  'compression-codec': { kind: 'string', arg: 'none|gzip|snappy|lz4|zstd', help: 'compress batches (compression.type)' },
  'producer-property': { kind: 'list', arg: 'k=v', help: 'producer settings: acks, linger.ms, batch.size, compression.type,\nmax.in.flight.requests.per.connection, max.request.size, buffer.memory,\nrequest.timeout.ms, delivery.timeout.ms, client.id; repeatable' },
  'producer.config': { kind: 'string', arg: 'file', help: 'producer settings from a properties file (flags win)' },
  'request-required-acks': { kind: 'string', arg: '-1|0|1|all', help: 'acks (default all, the Java producer default)' },
  partition: { kind: 'string', arg: 'n', help: 'send every record to this partition instead of partitioning' },
  ...CLIENT_FLAGS,
  ...HELP_FLAG,
};

const USAGE = 'brook produce --topic <topic> [--property parse.key=true] [--compression-codec c] [--producer-property k=v ...] < lines';

export const command: Command = {
  name: 'produce',
  summary: 'Send stdin lines to a topic (kafka-console-producer).',
  run,
};

/** Producer settings by Kafka name into ProducerOptions; unknown ones are refused (a typo would go unnoticed). */
export function producerOptions(props: Map<string, string>): ProducerOptions {
  const opts: ProducerOptions = {};
  const int = (k: string, min = 0): number => {
    const v = props.get(k)!;
    if (!/^-?\d+$/.test(v) || Number(v) < min) throw new UsageError(`${k} expects an integer >= ${min}, got "${v}"`);
    return Number(v);
  };
  for (const key of props.keys()) {
    switch (key) {
      case 'acks': {
        const v = props.get(key)!;
        if (v === 'all' || v === '-1') opts.acks = -1;
        else if (v === '0' || v === '1') opts.acks = Number(v) as 0 | 1;
        else throw new UsageError(`acks must be all, -1, 0 or 1, got "${v}"`);
        break;
      }
      case 'linger.ms':
        opts.lingerMs = int(key);
        break;
      case 'batch.size':
        opts.batchSize = int(key, 1);
        break;
      case 'compression.type':
        opts.compression = codec(props.get(key)!);
        break;
      case 'max.in.flight.requests.per.connection':
        opts.maxInFlight = int(key, 1);
        break;
      case 'max.request.size':
        opts.maxRequestSize = int(key, 1);
        break;
      case 'buffer.memory':
        opts.bufferMemory = int(key, 1);
        break;
      case 'request.timeout.ms':
        opts.requestTimeoutMs = int(key, 1);
        break;
      case 'delivery.timeout.ms':
        opts.deliveryTimeoutMs = int(key, 1);
        break;
      case 'enable.idempotence':
        if (props.get(key) !== 'false') throw new UsageError('enable.idempotence=true is not supported by brook producers yet; pass enable.idempotence=false or leave it out');
        break;
      case 'client.id':
      case 'bootstrap.servers':
      case 'retries':
      case 'key.serializer':
      case 'value.serializer':
        break; // taken by the client, or meaningless for byte records
      default:
        throw new UsageError(`unknown producer property ${key}`);
    }
  }
  return opts;
}

function codec(name: string): Codec {
  const c = codecByName(name);
  if (c === undefined) throw new UsageError(`unknown compression codec "${name}" (none, gzip, snappy, lz4, zstd)`);
  return c;
}

interface LineFormat {
  parseKey: boolean;
  parseHeaders: boolean;
  keySeparator: Buffer;
  headersDelimiter: Buffer;
  headersSeparator: string;
  headersKeySeparator: string;
  nullMarker: string | undefined;
  ignoreError: boolean;
}

function lineFormat(props: Map<string, string>): LineFormat {
  const bool = (k: string) => {
    const v = props.get(k);
    if (v === undefined) return false;
    if (v !== 'true' && v !== 'false') throw new UsageError(`--property ${k} must be true or false, got "${v}"`);
    return v === 'true';
  };
  const unescape = (s: string) => s.replace(/\\([ntr\\])/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '\\': '\\' })[c]!);
  for (const k of props.keys()) {
    if (!['parse.key', 'parse.headers', 'key.separator', 'headers.delimiter', 'headers.separator', 'headers.key.separator', 'null.marker', 'ignore.error'].includes(k)) {
      throw new UsageError(`unknown --property ${k}`);
    }
  }
  const f: LineFormat = {
    parseKey: bool('parse.key'),
    parseHeaders: bool('parse.headers'),
    keySeparator: Buffer.from(unescape(props.get('key.separator') ?? '\t')),
    headersDelimiter: Buffer.from(unescape(props.get('headers.delimiter') ?? '\t')),
    headersSeparator: unescape(props.get('headers.separator') ?? ','),
    headersKeySeparator: unescape(props.get('headers.key.separator') ?? ':'),
    nullMarker: props.get('null.marker'),
    ignoreError: bool('ignore.error'),
  };
  if (f.keySeparator.length === 0 || f.headersDelimiter.length === 0) throw new UsageError('separators cannot be empty');
  return f;
}

async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags.booleans.has('help')) {
    process.stdout.write(helpText(USAGE, command.summary, FLAGS));
    return 0;
  }
  const topic = flags.strings.get('topic');
  if (!topic) throw new UsageError('--topic is required');
  const fileProps = new Map<string, string>();
  const configFile = flags.strings.get('producer.config');
  if (configFile !== undefined) for (const [k, v] of commandConfig({ ...flags, strings: new Map([['command-config', configFile]]) })) fileProps.set(k, v);
  const props = new Map([...commandConfig(flags), ...fileProps, ...keyValues('producer-property', flags.lists.get('producer-property') ?? [])]);
  const acks = flags.strings.get('request-required-acks');
  if (acks !== undefined) props.set('acks', acks);
  const cc = flags.strings.get('compression-codec');
  if (cc !== undefined) props.set('compression.type', cc);
  const opts = producerOptions(props);
  const format = lineFormat(keyValues('property', flags.lists.get('property') ?? []));
  const partitionRaw = flags.strings.get('partition');
  if (partitionRaw !== undefined && !/^\d+$/.test(partitionRaw)) throw new UsageError(`--partition expects a non-negative integer, got "${partitionRaw}"`);
  const partition = partitionRaw === undefined ? undefined : Number(partitionRaw);

  const client = clientFrom(flags, clientProps(props));
  let lineNumber = 0;
  const producer = new Producer(client, {
    ...opts,
    onBatch: (r) => {
      if (r.error) process.stderr.write(`brook produce: ${r.count} record(s) to ${r.topic}-${r.partition} not acknowledged: ${r.error.message}\n`);
    },
  });
  try {
    const partitions = await producer.addTopic(topic);
    if (partition !== undefined && partition >= partitions) throw new Error(`topic ${topic} has no partition ${partition} (it has ${partitions})`);
    await readLines(process.stdin, (line) => {
      lineNumber++;
      return sendLine(producer, topic, partition, line, format, lineNumber);
    }, () => producer.room());
    await producer.flush();
  } finally {
    producer.close();
    client.close();
  }
  if (producer.failed > 0) {
    process.stderr.write(`brook produce: ${producer.failed} of ${producer.failed + producer.acked} record(s) were not acknowledged (first error: ${producer.firstError?.message})\n`);
    return 1;
  }
  return 0;
}

/** Parses one line per LineMessageReader and sends it; returns false when the producer is full. */
function sendLine(producer: Producer, topic: string, partition: number | undefined, line: Buffer, f: LineFormat, lineNumber: number): boolean {
  if (!f.parseKey && !f.parseHeaders) return producer.send(topic, null, line, null, partition);
  let rest = line;
  let headers: Header[] | null = null;
  if (f.parseHeaders) {
    const at = rest.indexOf(f.headersDelimiter);
    if (at < 0) {
      if (!f.ignoreError) throw new Error(`no headers delimiter found on line ${lineNumber}: '${line.toString()}'`);
    } else {
      headers = parseHeaders(rest.subarray(0, at).toString(), f, lineNumber);
      rest = rest.subarray(at + f.headersDelimiter.length);
    }
  }
  let key: Buffer | null = null;
  if (f.parseKey) {
    const at = rest.indexOf(f.keySeparator);
    if (at < 0) {
      if (!f.ignoreError) throw new Error(`no key separator found on line ${lineNumber}: '${line.toString()}'`);
    } else {
      key = rest.subarray(0, at);
      rest = rest.subarray(at + f.keySeparator.length);
    }
  }
  if (f.nullMarker !== undefined && key !== null && key.toString() === f.nullMarker) key = null;
  const value = f.nullMarker !== undefined && rest.toString() === f.nullMarker ? null : rest;
  return producer.send(topic, key, value, headers, partition);
}

function parseHeaders(text: string, f: LineFormat, lineNumber: number): Header[] {
  if (text === '') return [];
  return text.split(f.headersSeparator).map((h) => {
    const at = h.indexOf(f.headersKeySeparator);
    if (at < 0) throw new Error(`no header key separator found in '${h}' on line ${lineNumber}`);
    const key = h.slice(0, at);
    const value = h.slice(at + f.headersKeySeparator.length);
    return { key, value: f.nullMarker !== undefined && value === f.nullMarker ? null : Buffer.from(value) };
  });
}

/**
 * Calls `onLine` for every line of `input` (without its \n, and without a \r before it), pausing the
 * stream while `onLine` answers false until `room()` resolves. A last line without \n counts.
 */
async function readLines(input: NodeJS.ReadableStream, onLine: (line: Buffer) => boolean, room: () => Promise<void>): Promise<void> {
  let carry: Buffer | undefined;
  const strip = (b: Buffer) => (b.length > 0 && b[b.length - 1] === 0x0d ? b.subarray(0, b.length - 1) : b);
  for await (const raw of input as AsyncIterable<Buffer | string>) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    if (carry) {
      chunk = Buffer.concat([carry, chunk]);
      carry = undefined;
    }
    let start = 0;
    let full = false;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      if (!onLine(strip(chunk.subarray(start, nl)))) full = true;
      start = nl + 1;
    }
    if (start < chunk.length) carry = chunk.subarray(start);
    // The iterator pauses the stream while we wait here.
    if (full) await room();
  }
  if (carry && carry.length > 0) {
    if (!onLine(strip(carry))) await room();
  }
}
