/**
 * `brook consume`: kafka-console-consumer.sh. Prints records of a topic to stdout until
 * --max-messages, --timeout-ms without a record, SIGINT/SIGTERM or a broken pipe; then "Processed a
 * total of N messages" on stderr, as Kafka's tool does.
 *
 * Without --group the partitions are assigned directly (no group is created or committed); with
 * --group the command is a member of that consumer group (range assignment, commits every 5 s and
 * on exit), so several `brook consume --group g` share the partitions.
 *
 * --isolation-level is kafka-console-consumer's flag, but the default here is read_committed (records
 * of aborted and still-open transactions never shown), as librdkafka's and kafkajs's consumers do;
 * Kafka's script defaults to read_uncommitted. Transaction markers are never printed.
 */
import { decodeBatches } from '../native/records.js';
import type { KafkaClient } from '../kafka/client.js';
import { Consumer, type ConsumerOptions, type IsolationLevel } from '../kafka/consumer.js';
import { EARLIEST, LATEST, partitionOffsets } from '../kafka/offsets.js';
import { GroupMembership } from '../kafka/group.js';
import { helpText, keyValues, parseFlags, UsageError, type FlagTable } from './args.js';
import type { Command } from './command.js';
import { CLIENT_FLAGS, clientFrom, commandConfig, HELP_FLAG } from './common.js';
import { consoleFormat, kcatFormat, RecordPrinter, type RecordFormat } from './record-format.js';

const FLAGS: FlagTable = {
  topic: { kind: 'string', arg: 'topic', help: 'topic to read (required)' },
  'from-beginning': { kind: 'boolean', help: 'start at the earliest offset (without a committed offset, with --group)' },
  group: { kind: 'string', arg: 'group', help: 'consume as a member of this consumer group (commits its offsets)' },
  partition: { kind: 'string', arg: 'n', help: 'read only this partition (not with --group)' },
  offset: { kind: 'string', arg: 'earliest|latest|n', help: 'start offset of --partition (default latest)' },
  'max-messages': { kind: 'string', arg: 'n', help: 'exit after this many records' },
  'isolation-level': { kind: 'string', arg: 'read_committed|read_uncommitted', help: 'read_committed (default): only committed transactions, up to the last stable offset;\nread_uncommitted: also aborted and open ones (markers are never printed)' },
  property: { kind: 'list', arg: 'k=v', help: 'output: print.key print.value print.timestamp print.partition print.offset\nprint.headers (true|false), key.separator, line.separator, headers.separator,\nheaders.key.separator, null.literal; repeatable' },
  format: { kind: 'string', arg: 'fmt', help: "kcat's tokens instead: %t %p %o %k %s %T %h %K %S %% (and \\n \\t)" },
  'consumer-property': { kind: 'list', arg: 'k=v', help: 'consumer settings: fetch.max.wait.ms, fetch.min.bytes, fetch.max.bytes,\nmax.partition.fetch.bytes, auto.offset.reset, isolation.level, session.timeout.ms,\nheartbeat.interval.ms, auto.commit.interval.ms, client.id; repeatable' },
  json: { kind: 'boolean', help: 'one JSON object per record (topic, partition, offset, timestamp, key, value, headers; UTF-8 or base64)' },
  ...CLIENT_FLAGS,
  'timeout-ms': { kind: 'string', arg: 'ms', help: 'exit when no record arrives for this long (also the limit to reach a broker)' },
  ...HELP_FLAG,
};

const USAGE = 'brook consume --topic <topic> [--from-beginning | --partition n --offset o] [--group g] [options]';

export const command: Command = {
  name: 'consume',
  summary: 'Print records of a topic (kafka-console-consumer).',
  run,
};

async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags.booleans.has('help')) {
    process.stdout.write(helpText(USAGE, command.summary, FLAGS));
    return 0;
  }
  const topic = flags.strings.get('topic');
  if (!topic) throw new UsageError('--topic is required');
  const group = flags.strings.get('group');
  const partitionRaw = flags.strings.get('partition');
  const offsetRaw = flags.strings.get('offset');
  if (group !== undefined && partitionRaw !== undefined) throw new UsageError('--group and --partition cannot be used together');
  if (offsetRaw !== undefined && partitionRaw === undefined) throw new UsageError('--offset needs --partition');
  if (offsetRaw !== undefined && flags.booleans.has('from-beginning')) throw new UsageError('--offset and --from-beginning cannot be used together');
  const partition = partitionRaw === undefined ? undefined : nonNegative('partition', partitionRaw);
  const start = offsetRaw === undefined ? undefined : offsetRaw === 'earliest' || offsetRaw === 'latest' ? offsetRaw : nonNegative('offset', offsetRaw);
  const maxRaw = flags.strings.get('max-messages');
  const maxMessages = maxRaw === undefined ? Infinity : nonNegative('max-messages', maxRaw);
  const idleRaw = flags.strings.get('timeout-ms');
  const idleMs = idleRaw === undefined ? undefined : nonNegative('timeout-ms', idleRaw);
  const props = keyValues('property', flags.lists.get('property') ?? []);
  const cprops = new Map([...commandConfig(flags), ...keyValues('consumer-property', flags.lists.get('consumer-property') ?? [])]);
  let format: RecordFormat | undefined;
  try {
    format = flags.booleans.has('json') ? undefined : flags.strings.has('format') ? kcatFormat(flags.strings.get('format')!) : consoleFormat(props);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const fromBeginning = flags.booleans.has('from-beginning');
  const resetProp = cprops.get('auto.offset.reset');
  if (resetProp !== undefined && resetProp !== 'earliest' && resetProp !== 'latest') throw new UsageError(`auto.offset.reset must be earliest or latest, got "${resetProp}"`);
  const autoOffsetReset: 'earliest' | 'latest' = fromBeginning ? 'earliest' : (resetProp as 'earliest' | 'latest' | undefined) ?? 'latest';

  const isolationLevel = isolationLevelOf(flags.strings.get('isolation-level'), cprops.get('isolation.level'));

  const client = clientFrom(flags, cprops);
  const consumer = new Consumer(client, { ...consumerOptions(cprops, autoOffsetReset), isolationLevel });
  let membership: GroupMembership | undefined;
  let printed = 0;
  let lastJsonOffset = -1;
  let stopping = false;
  let brokenPipe = false;

  /** True when the chunk is written out already (nothing queued), so its memory may be reused. */
  const write = (chunk: Buffer): boolean => {
    if (brokenPipe) return true;
    process.stdout.write(chunk);
    return process.stdout.writableLength === 0;
  };
  const printer = format ? new RecordPrinter(format, write) : undefined;
  const stop = (): void => {
    stopping = true;
    consumer.stop();
  };
  const onPipeError = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') brokenPipe = true;
    stop();
  };
  process.stdout.on('error', onPipeError);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = () => {
    if (idleMs === undefined) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stop, idleMs);
  };

  try {
    await client.topic(topic); // unknown topic: one line, exit 1
    if (group !== undefined) {
      membership = new GroupMembership(client, consumer, {
        groupId: group,
        topics: [topic],
        autoOffsetReset,
        sessionTimeoutMs: intProp(cprops, 'session.timeout.ms'),
        heartbeatIntervalMs: intProp(cprops, 'heartbeat.interval.ms'),
        autoCommitIntervalMs: intProp(cprops, 'auto.commit.interval.ms'),
      });
      await membership.start();
    } else {
      await consumer.assign(await startPositions(client, topic, partition, start, fromBeginning, isolationLevel));
    }
    armIdle();
    if (maxMessages === 0) stop();
    await consumer.run(async (f) => {
      if (stopping) return;
      const left = maxMessages - printed;
      let n: number;
      if (printer) n = printer.print(f.topic, f.partition, f.records, f.fetchOffset, left);
      else ({ n, last: lastJsonOffset } = printJsonLines(write, f.topic, f.partition, f.records, f.fetchOffset, left));
      printed += n;
      if (n > 0) armIdle();
      if (printed >= maxMessages) {
        stop();
        // Records past the limit were not shown: a group commits only up to the last one printed.
        return (printer ? printer.lastOffset : lastJsonOffset) + 1;
      }
      // Hand the output to the pipe between fetches; wait when the reader is slower than the broker.
      printer?.flush();
      if (process.stdout.writableNeedDrain) await new Promise<void>((r) => process.stdout.once('drain', r));
    });
  } finally {
    clearTimeout(idleTimer);
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    printer?.flush();
    await membership?.close();
    client.close();
  }
  process.stderr.write(`Processed a total of ${printed} messages\n`);
  return 0;
}

function nonNegative(flag: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag} expects a non-negative integer, got "${raw}"`);
  return Number(raw);
}

/** --isolation-level, else the isolation.level property, else read_committed; both given must agree. */
function isolationLevelOf(flag: string | undefined, prop: string | undefined): IsolationLevel {
  for (const [name, v] of [['--isolation-level', flag], ['isolation.level', prop]] as const) {
    if (v !== undefined && v !== 'read_committed' && v !== 'read_uncommitted') throw new UsageError(`${name} must be read_committed or read_uncommitted, got "${v}"`);
  }
  if (flag !== undefined && prop !== undefined && flag !== prop) throw new UsageError(`--isolation-level ${flag} contradicts isolation.level=${prop}`);
  return (flag ?? prop ?? 'read_committed') as IsolationLevel;
}

function intProp(props: Map<string, string>, key: string): number | undefined {
  const raw = props.get(key);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`${key} expects a non-negative integer, got "${raw}"`);
  return Number(raw);
}

/** Consumer settings by Kafka name (fetch.*, max.partition.fetch.bytes) into ConsumerOptions. */
export function consumerOptions(props: Map<string, string>, autoOffsetReset: 'earliest' | 'latest'): ConsumerOptions {
  return {
    maxWaitMs: intProp(props, 'fetch.max.wait.ms'),
    minBytes: intProp(props, 'fetch.min.bytes'),
    maxBytes: intProp(props, 'fetch.max.bytes'),
    partitionMaxBytes: intProp(props, 'max.partition.fetch.bytes'),
    autoOffsetReset,
  };
}

/** Where each partition starts without a group. */
async function startPositions(
  client: KafkaClient,
  topic: string,
  partition: number | undefined,
  start: 'earliest' | 'latest' | number | undefined,
  fromBeginning: boolean,
  isolationLevel: IsolationLevel,
): Promise<{ topic: string; partition: number; offset: number }[]> {
  const info = await client.topic(topic);
  const partitions = partition === undefined ? info.partitions.map((p) => p.partition) : [partition];
  if (partition !== undefined && !info.partitions.some((p) => p.partition === partition)) {
    throw new Error(`topic ${topic} has no partition ${partition} (it has ${info.partitions.length})`);
  }
  if (typeof start === 'number') return [{ topic, partition: partition!, offset: start }];
  const which = start === 'earliest' || (start === undefined && fromBeginning) ? EARLIEST : LATEST;
  // Latest of a read_committed reader is the last stable offset (ListOffsets isolation 1).
  const offsets = await partitionOffsets(client, topic, partitions, which, isolationLevel === 'read_committed' ? 1 : 0);
  return partitions.map((p) => ({ topic, partition: p, offset: offsets.get(p)! }));
}

/** --json: one object per record; bytes as UTF-8 when they are valid UTF-8, else base64. */
function printJsonLines(write: (b: Buffer) => void, topic: string, partition: number, records: Buffer, fromOffset: number, limit: number): { n: number; last: number } {
  const lines: string[] = [];
  let last = -1;
  for (const batch of decodeBatches(records).batches) {
    if (batch.isControl) continue;
    for (const r of batch.records) {
      if (r.offset < fromOffset || lines.length >= limit) continue;
      last = r.offset;
      lines.push(
        JSON.stringify({
          topic,
          partition,
          offset: r.offset,
          timestamp: r.timestamp,
          timestampType: batch.timestampType,
          key: bytesJson(r.key),
          value: bytesJson(r.value),
          headers: r.headers.map((h) => ({ key: h.key, value: bytesJson(h.value) })),
        }),
      );
    }
  }
  if (lines.length) write(Buffer.from(lines.join('\n') + '\n'));
  return { n: lines.length, last };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bytesJson(b: Buffer | null): string | { base64: string } | null {
  if (b === null) return null;
  try {
    return utf8.decode(b);
  } catch {
    return { base64: b.toString('base64') };
  }
}
