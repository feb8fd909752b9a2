/**
 * `brook perf consume`: kafka-consumer-perf-test.sh. Reads --messages records of a topic and prints
 * Kafka's CSV: the header (unless --hide-header), then one line of totals, or with
 * --show-detailed-stats one line per --reporting-interval instead. Bytes are key + value bytes, MB is
 * 1024 * 1024, times are Kafka's `yyyy-MM-dd HH:mm:ss:SSS` (--date-format).
 *
 * Differences from Kafka's tool, on purpose: without --group the partitions are assigned directly
 * (no group, rebalance.time.ms 0), from the earliest offset (the latest with --from-latest); Kafka
 * always joins a random group `perf-consumer-N`. With --group the command joins that group and the
 * join is the rebalance time. It stops at exactly --messages records (Kafka stops after the poll
 * that reaches it). `--json` prints one object.
 *
 * Records are counted from the decoder's flat arrays (one native call per fetched partition, CRCs
 * checked as Kafka's check.crcs does), never as objects.
 */
import { Consumer } from '../../kafka/consumer.js';
import { EARLIEST, LATEST, partitionOffsets } from '../../kafka/offsets.js';
import { GroupMembership } from '../../kafka/group.js';
import { decodeBatchesFlat, FLAT } from '../../native/records.js';
import { helpText, parseFlags, UsageError, type FlagTable } from '../args.js';
import type { Command } from '../command.js';
import { CLIENT_FLAGS, clientFrom, commandConfig, HELP_FLAG, out, printJson } from '../common.js';
import { clientProps, consumerOptions, fixed, formatDate, MB, positiveInt, propertiesFile } from './stats.js';

const FLAGS: FlagTable = {
  topic: { kind: 'string', arg: 'topic', help: 'topic to consume (required)' },
  messages: { kind: 'string', arg: 'n', help: 'number of records to consume (required)' },
  group: { kind: 'string', arg: 'group', help: 'consume as a member of this group (default: partitions assigned directly)' },
  'from-latest': { kind: 'boolean', help: 'start at the latest offset (default the earliest; with --group: without a committed offset)' },
  'fetch-size': { kind: 'string', arg: 'bytes', help: 'bytes per partition per fetch (max.partition.fetch.bytes, default 1048576)' },
  timeout: { kind: 'string', arg: 'ms', help: 'give up after this long without a record (default 10000)' },
  'reporting-interval': { kind: 'string', arg: 'ms', help: 'interval of --show-detailed-stats lines (default 5000)' },
  'show-detailed-stats': { kind: 'boolean', help: 'a line per reporting interval instead of the totals' },
  'hide-header': { kind: 'boolean', help: 'no CSV header line' },
  'date-format': { kind: 'string', arg: 'fmt', help: 'Java SimpleDateFormat letters (default yyyy-MM-dd HH:mm:ss:SSS)' },
  'consumer.config': { kind: 'string', arg: 'file', help: 'consumer settings: fetch.max.wait.ms, fetch.min.bytes, fetch.max.bytes,\nmax.partition.fetch.bytes, group.id, client.id, ...' },
  json: { kind: 'boolean', help: 'print one JSON object with the totals instead of the CSV' },
  ...CLIENT_FLAGS,
  ...HELP_FLAG,
};

const USAGE = 'brook perf consume --topic <t> --messages <n> [--group g] [--from-latest] [--show-detailed-stats] [--hide-header] [--timeout ms]';
const SUMMARY = 'Consumer throughput, one CSV line (kafka-consumer-perf-test.sh).';

export const HEADER = 'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec';
const DETAILED_HEADER = 'time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec';

export const command: Command = { name: 'perf consume', summary: SUMMARY, run };

async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags.booleans.has('help')) {
    process.stdout.write(helpText(USAGE, SUMMARY, FLAGS));
    return 0;
  }
  const topic = flags.strings.get('topic');
  if (!topic) throw new UsageError('--topic is required');
  const messages = positiveInt(flags, 'messages', true)!;
  const timeoutMs = positiveInt(flags, 'timeout', false) ?? 10_000;
  const reportingMs = positiveInt(flags, 'reporting-interval', false) ?? 5000;
  const fetchSize = positiveInt(flags, 'fetch-size', false);
  const detailed = flags.booleans.has('show-detailed-stats');
  const json = flags.booleans.has('json');
  const dateFormat = flags.strings.get('date-format') ?? 'yyyy-MM-dd HH:mm:ss:SSS';
  const props = new Map([...commandConfig(flags), ...propertiesFile('consumer.config', flags.strings.get('consumer.config'))]);
  const group = flags.strings.get('group') ?? props.get('group.id');
  const fromLatest = flags.booleans.has('from-latest');
  const options = consumerOptions(props, fetchSize, fromLatest ? 'latest' : 'earliest');

  const client = clientFrom(flags, clientProps(props));
  const consumer = new Consumer(client, options);
  let membership: GroupMembership | undefined;
  let count = 0;
  let bytes = 0;
  let timedOut = false;
  let joinMs = 0;
  let lastReport = { at: 0, count: 0, bytes: 0 };
  const detail: string[] = [];
  if (!json && !flags.booleans.has('hide-header')) await out(`${detailed ? DETAILED_HEADER : HEADER}\n`);

  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      timedOut = true;
      consumer.stop();
    }, timeoutMs);
  };
  const startMs = Date.now();
  lastReport.at = startMs;
  try {
    const info = await client.topic(topic); // unknown topic: one line, exit 1
    if (group !== undefined) {
      const joinStart = Date.now();
      membership = new GroupMembership(client, consumer, { groupId: group, topics: [topic], autoOffsetReset: fromLatest ? 'latest' : 'earliest' });
      await membership.start();
      joinMs = Date.now() - joinStart;
    } else {
      const partitions = info.partitions.map((p) => p.partition);
      const offsets = await partitionOffsets(client, topic, partitions, fromLatest ? LATEST : EARLIEST);
      await consumer.assign(partitions.map((p) => ({ topic, partition: p, offset: offsets.get(p)! })));
    }
    armIdle(); // also bounds the wait for the first record
    await consumer.run((f) => {
      if (count >= messages) return;
      const n0 = count;
      const flat = decodeBatchesFlat(f.records);
      const { batches: b, records: r } = flat;
      for (let bi = 0; bi < b.length && count < messages; bi += FLAT.BATCH_FIELDS) {
        if ((b[bi + 6]! & 0x20) !== 0) continue; // control batch
        const first = b[bi + 15]!;
        const n = b[bi + 13]!;
        for (let k = 0; k < n && count < messages; k++) {
          const i = (first + k) * FLAT.RECORD_FIELDS;
          if (r[i]! < f.fetchOffset) continue; // a compressed batch may start before the offset asked for
          count++;
          const keyLen = r[i + 3]!;
          const valueLen = r[i + 5]!;
          bytes += (keyLen > 0 ? keyLen : 0) + (valueLen > 0 ? valueLen : 0);
        }
      }
      if (count > n0) armIdle();
      const now = Date.now();
      if (detailed && now - lastReport.at >= reportingMs) {
        detail.push(progressLine(now, lastReport, count, bytes, dateFormat));
        if (!json) process.stdout.write(detail[detail.length - 1]!);
        lastReport = { at: now, count, bytes };
      }
      if (count >= messages) consumer.stop();
    });
  } finally {
    clearTimeout(idle);
    await membership?.close().catch(() => {});
    client.close();
  }
  const endMs = Date.now();
  const elapsedSec = (endMs - startMs) / 1000;
  const fetchMs = endMs - startMs - joinMs;
  const mb = bytes / MB;
  if (timedOut && count < messages && !json) {
    await out(`WARNING: Exiting before consuming the expected number of messages: timeout (${timeoutMs} ms) exceeded. You can use the --timeout option to increase the timeout.\n`);
  }
  if (json) {
    await printJson({
      startTime: new Date(startMs).toISOString(),
      endTime: new Date(endMs).toISOString(),
      MB: mb,
      MBPerSec: mb / elapsedSec,
      records: count,
      recordsPerSec: count / elapsedSec,
      bytes,
      rebalanceTimeMs: joinMs,
      fetchTimeMs: fetchMs,
      fetchMBPerSec: mb / (fetchMs / 1000),
      fetchRecordsPerSec: count / (fetchMs / 1000),
      timedOut: count < messages,
    });
  } else if (!detailed) {
    await out(
      `${formatDate(startMs, dateFormat)}, ${formatDate(endMs, dateFormat)}, ${fixed(mb, 4)}, ${fixed(mb / elapsedSec, 4)}, ${count}, ${fixed(count / elapsedSec, 4)}, ` +
        `${joinMs}, ${fetchMs}, ${fixed(mb / (fetchMs / 1000), 4)}, ${fixed(count / (fetchMs / 1000), 4)}\n`,
    );
  }
  return 0;
}

/** Kafka's detailed line: time, thread 0, total MB, interval MB/s, total records, interval records/s, then the fetch columns (no rebalance after the start here). */
function progressLine(now: number, last: { at: number; count: number; bytes: number }, count: number, bytes: number, dateFormat: string): string {
  const ms = now - last.at;
  const mbInterval = (bytes - last.bytes) / MB;
  const nInterval = count - last.count;
  const rate = (v: number) => (ms <= 0 ? 0 : (1000 * v) / ms);
  return `${formatDate(now, dateFormat)}, 0, ${fixed(bytes / MB, 4)}, ${fixed(rate(mbInterval), 4)}, ${count}, ${fixed(rate(nInterval), 4)}, 0, ${ms}, ${fixed(rate(mbInterval), 4)}, ${fixed(rate(nInterval), 4)}\n`;
}
