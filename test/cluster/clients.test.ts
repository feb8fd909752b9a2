/**
 * Real clients through a leader kill -9 (reference/cluster.md §4, §6.12): on an RF 3,
 * min.insync.replicas 2 topic, each client produces a known list of values with acks=all and
 * retries while the partition's leader is killed, then reads the topic back. Every value the client
 * reported acknowledged must be read back (the history checker: nothing lost, unseen or at two
 * offsets), and each client's failover time (kill to the first acknowledgement after it) is
 * printed. Client settings are those §4 says matter: kafka-python's defaults would not retry.
 */
import { spawn } from 'node:child_process';
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { expectOk, hasConfluentKafka, hasKafkaPython, hasKcat, python, requireInstalled, run, until } from '../integration/harness.js';
import type { TestCluster } from './cluster-harness.js';
import { kafkajsOf, useCluster } from './cluster-fixture.js';
import { History, summarize } from './history.js';

requireInstalled(hasKcat, 'kcat');
requireInstalled(hasConfluentKafka, 'confluent-kafka (python3-confluent-kafka)');
requireInstalled(hasKafkaPython, 'kafka-python (python3-kafka)');

/** Values per client, one every PACE_MS: the run spans the kill and the failover. */
const COUNT = 300;
const PACE_MS = 25;
/** The leader dies this long after the client starts (Python needs a moment to import). */
const KILL_AFTER_MS = 2500;

let c: TestCluster;
useCluster({ brokers: 3 }, (started) => (c = started));

const kafka = () => kafkajsOf(c, 'clients-test');
const values = (client: string) => Array.from({ length: COUNT }, (_, i) => `${client}-${i}`);

async function createTopic(topic: string): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** One client's outcome: acknowledgements (value, offset if known, time) and definite errors. */
interface Produced {
  acks: { value: string; offset?: number; at: number }[];
  errors: string[];
}

/** Parses the "ack <value> <offset> <ms>" / "err <value> <reason>" lines the scripts print. */
function parseReports(stdout: string): Produced {
  const out: Produced = { acks: [], errors: [] };
  for (const line of stdout.split('\n')) {
    const [kind, value, a, b] = line.trim().split(' ');
    if (kind === 'ack') out.acks.push({ value: value!, offset: Number(a), at: Number(b) });
    else if (kind === 'err') out.errors.push(line);
  }
  return out;
}

/** An error with its nested causes (platformatic wraps the per-broker errors in `errors`). */
function describeError(e: unknown, depth = 0): string {
  const x = e as { message?: string; code?: string; cause?: unknown; errors?: unknown[] };
  const inner = [...(x.errors ?? []), ...(x.cause ? [x.cause] : [])].slice(0, 3);
  const here = `${x.code ? `${x.code} ` : ''}${x.message ?? String(e)}`;
  return depth < 3 && inner.length > 0 ? `${here} [${inner.map((i) => describeError(i, depth + 1)).join('; ')}]` : here;
}

/** Parses "rec <offset> <value>" lines. */
const parseRecords = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('rec '))
    .map((l) => {
      const [, offset, value] = l.trim().split(' ');
      return { offset: Number(offset), value: value! };
    });

/**
 * Runs `produce` with the topic's leader killed KILL_AFTER_MS in, then `consume`; records both in a
 * history and checks it. The killed broker is restarted and back in the ISR before returning.
 */
async function throughLeaderKill(client: string, opts: { idempotent: boolean; timed?: boolean }, produce: (topic: string) => Promise<Produced>, consume: (topic: string) => Promise<{ offset: number; value: string }[]>): Promise<void> {
  const topic = `clients-${client}`;
  await createTopic(topic);
  await c.awaitBrokers(3);
  const leader = (await c.partition(topic, 0)).leader;
  let killedAt = 0;
  const killing = new Promise<void>((resolve, reject) =>
    setTimeout(() => {
      killedAt = Date.now();
      c.kill(leader, 'SIGKILL').then(resolve, reject);
    }, KILL_AFTER_MS),
  );
  const startedAt = Date.now();
  const produced = await produce(topic);
  await killing;
  const newLeader = await c.awaitLeader(topic, 0, { not: leader });
  const records = await consume(topic);

  const history = new History();
  const acked = new Map(produced.acks.map((a) => [a.value, a]));
  for (const value of values(client)) {
    const a = acked.get(value);
    history.send({ process: client, partition: 0, value, offset: a?.offset, result: a ? 'ok' : 'info', start: startedAt, end: a?.at ?? Date.now() });
  }
  for (const r of records) history.poll('drain', 0, r.offset, r.value);
  const report = history.check({ drain: 'drain' });
  // Restart the killed broker whatever the checks below say: later tests need three brokers.
  await c.restart(leader);
  // Failover: from the kill to the ack that ends the longest silence after it. (The first ack
  // after the kill can be one the dead leader sent a moment before dying.)
  const times = produced.acks.map((a) => a.at).sort((x, y) => x - y);
  let firstAfter: { at: number } | undefined;
  for (let i = 1, gap = -1; i < times.length; i++) {
    if (times[i]! > killedAt && times[i]! - times[i - 1]! > gap) {
      gap = times[i]! - times[i - 1]!;
      firstAfter = { at: times[i]! };
    }
  }
  const before = produced.acks.filter((a) => a.at < killedAt).length;
  console.log(
    `${client}: leader ${leader} killed, ${newLeader} leads; ${produced.acks.length}/${COUNT} acknowledged (${opts.timed === false ? '?' : before} before the kill), ${produced.errors.length} errors, failover ${opts.timed === false ? 'not measured' : firstAfter ? `${firstAfter.at - killedAt} ms` : 'none'}; ${summarize(report)}`,
  );
  if (produced.errors.length > 0) console.log(`${client} errors: ${produced.errors.slice(0, 3).join(' | ')}`);

  if (opts.timed !== false) {
    expect(before, 'acknowledgements before the kill').toBeGreaterThan(0);
    expect(firstAfter, 'an acknowledgement after the kill').toBeDefined();
  }
  expect(report.lost, summarize(report)).toEqual([]);
  expect(report.unseen, summarize(report)).toEqual([]);
  expect(report.inconsistentOffsets, summarize(report)).toEqual([]);
  expect(report.unexpected, summarize(report)).toEqual([]);
  if (opts.idempotent) expect(report.duplicates, summarize(report)).toEqual([]);

  await until('the killed broker back in the ISR', async () => (await c.partition(topic, 0).catch(() => ({ isr: [] as number[] }))).isr.length === 3, 30_000);
}

async function highWatermark(topic: string): Promise<number> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    return Number((await admin.fetchTopicOffsets(topic))[0]!.high);
  } finally {
    await admin.disconnect();
  }
}

/** kcat and the Python scripts read back with kcat: offsets and values, to the end. */
async function kcatConsume(topic: string): Promise<{ offset: number; value: string }[]> {
  const r = expectOk(await run('kcat', ['-C', '-b', c.bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', 'rec %o %s\n'], { timeoutMs: 30_000 }), 'kcat -C');
  return parseRecords(r.stdout);
}

describe('real clients through a leader kill -9 (RF 3, min.insync.replicas 2, acks=all)', () => {
  it('kcat', async () => {
    await throughLeaderKill(
      'kcat',
      // kcat gives no acknowledgement times: the two timing checks do not apply to it.
      { idempotent: false, timed: false },
      async (topic) => {
        // kcat writes no per-message delivery report: exit 0 means every line was delivered, and
        // each failure is printed as "% Delivery failed for message: <reason>". Lines are fed at
        // the pace of the others so the kill lands in the middle of the run.
        const child = spawn('kcat', ['-P', '-b', c.bootstrap, '-t', topic, '-p', '0', '-X', 'acks=all', '-X', 'message.timeout.ms=30000', '-X', 'linger.ms=0'], { stdio: ['pipe', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
        for (const v of values('kcat')) {
          child.stdin.write(`${v}\n`);
          await new Promise((r) => setTimeout(r, PACE_MS));
        }
        child.stdin.end();
        const code = await exited;
        const failed = stderr.split('\n').filter((l) => /Delivery failed/i.test(l));
        // Without delivery reports, "acknowledged" is all of them when kcat exits 0 and none
        // otherwise; the offsets are unknown. Times are unknown too: failover is not measured.
        const acks = code === 0 && failed.length === 0 ? values('kcat').map((value) => ({ value, at: 0 })) : [];
        return { acks, errors: code === 0 ? failed : [`exit ${code}: ${stderr.slice(-500)}`] };
      },
      kcatConsume,
    );
  }, 90_000);

  it('confluent-kafka (librdkafka, idempotent)', async () => {
    await throughLeaderKill(
      'confluent',
      { idempotent: true },
      async (topic) => {
        const script = `
import sys, time
from confluent_kafka import Producer
bootstrap, topic, count, pace = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
p = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'enable.idempotence': True, 'message.timeout.ms': 30000, 'linger.ms': 0})
def report(err, msg):
    v = msg.value().decode()
    if err is None:
        print('ack %s %d %d' % (v, msg.offset(), int(time.time() * 1000)), flush=True)
    else:
        print('err %s %s' % (v, str(err).replace(' ', '_')), flush=True)
for i in range(count):
    p.produce(topic, value='confluent-%d' % i, partition=0, on_delivery=report)
    p.poll(0)
    time.sleep(pace)
left = p.flush(60)
print('left %d' % left, flush=True)
`;
        const r = expectOk(await python(script, [c.bootstrap, topic, String(COUNT), String(PACE_MS / 1000)], 90_000), 'confluent-kafka producer');
        return parseReports(r.stdout);
      },
      kcatConsume,
    );
  }, 120_000);

  it('kafka-python (acks=all, retries=5, one request in flight)', async () => {
    await throughLeaderKill(
      'kafka-python',
      { idempotent: false },
      async (topic) => {
        const script = `
import sys, time
from kafka import KafkaProducer
bootstrap, topic, count, pace = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
p = KafkaProducer(bootstrap_servers=bootstrap.split(','), acks='all', retries=5, max_in_flight_requests_per_connection=1, request_timeout_ms=30000, linger_ms=0)
def ok(v):
    return lambda md: print('ack %s %d %d' % (v, md.offset, int(time.time() * 1000)), flush=True)
def bad(v):
    return lambda e: print('err %s %s' % (v, type(e).__name__), flush=True)
for i in range(count):
    v = 'kafka-python-%d' % i
    f = p.send(topic, value=v.encode(), partition=0)
    f.add_callback(ok(v))
    f.add_errback(bad(v))
    time.sleep(pace)
p.flush(60)
p.close(10)
`;
        const r = expectOk(await python(script, [c.bootstrap, topic, String(COUNT), String(PACE_MS / 1000)], 120_000), 'kafka-python producer');
        return parseReports(r.stdout);
      },
      async (topic) => {
        const script = `
import sys
from kafka import KafkaConsumer, TopicPartition
bootstrap, topic = sys.argv[1], sys.argv[2]
c = KafkaConsumer(bootstrap_servers=bootstrap.split(','), enable_auto_commit=False, auto_offset_reset='earliest', consumer_timeout_ms=5000)
tp = TopicPartition(topic, 0)
c.assign([tp])
c.seek_to_beginning(tp)
end = c.end_offsets([tp])[tp]
for m in c:
    print('rec %d %s' % (m.offset, m.value.decode()), flush=True)
    if m.offset + 1 >= end:
        break
c.close()
`;
        const r = expectOk(await python(script, [c.bootstrap, topic], 60_000), 'kafka-python consumer');
        return parseRecords(r.stdout);
      },
    );
  }, 120_000);

  it('kafkajs (idempotent)', async () => {
    await throughLeaderKill(
      'kafkajs',
      { idempotent: true },
      async (topic) => {
        const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        const out: Produced = { acks: [], errors: [] };
        try {
          for (const value of values('kafkajs')) {
            const sent = Date.now();
            try {
              const [meta] = await producer.send({ topic, acks: -1, messages: [{ value, partition: 0 }] });
              out.acks.push({ value, offset: Number(meta!.baseOffset), at: Date.now() });
            } catch (e) {
              out.errors.push(`${value}: ${(e as Error).message}`);
            }
            await new Promise((r) => setTimeout(r, Math.max(0, PACE_MS - (Date.now() - sent))));
          }
        } finally {
          await producer.disconnect();
        }
        return out;
      },
      async (topic) => {
        const high = await highWatermark(topic);
        const consumer = kafka().consumer({ groupId: `${topic}-readback`, maxWaitTimeInMs: 250 });
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        const records: { offset: number; value: string }[] = [];
        try {
          await consumer.run({
            eachMessage: async ({ message }) => {
              records.push({ offset: Number(message.offset), value: message.value!.toString() });
            },
          });
          await until('kafkajs read to the high watermark', () => (records.at(-1)?.offset ?? -1) + 1 >= high, 30_000);
        } finally {
          await consumer.disconnect();
        }
        return records;
      },
    );
  }, 120_000);

  it('@platformatic/kafka (idempotent; leader epochs from Metadata)', async () => {
    const bootstrapBrokers = c.bootstrap.split(',');
    await throughLeaderKill(
      'platformatic',
      { idempotent: true },
      async (topic) => {
        const open = () => new Producer({ clientId: 'plt-failover', bootstrapBrokers, serializers: stringSerializers, idempotent: true, acks: -1, retries: 30, retryDelay: 500 });
        let producer = open();
        const out: Produced = { acks: [], errors: [] };
        try {
          for (const value of values('platformatic')) {
            const sent = Date.now();
            try {
              const result = await producer.send({ messages: [{ topic, value, partition: 0 }] });
              out.acks.push({ value, offset: Number(result.offsets?.[0]?.offset), at: Date.now() });
            } catch (e) {
              out.errors.push(`${value}: ${describeError(e)}`);
              // @platformatic/kafka 1.35 advances a partition's sequence only on success, so after a
              // failed send that did reach the log its next record reuses that sequence and any
              // broker (Kafka too) answers it as a retry of the failed one, with its offset. A new
              // producer (new producer id) is what an application must use after such a failure.
              await producer.close();
              producer = open();
            }
            await new Promise((r) => setTimeout(r, Math.max(0, PACE_MS - (Date.now() - sent))));
          }
        } finally {
          await producer.close();
        }
        return out;
      },
      async (topic) => {
        const consumer = new Consumer({ groupId: `${topic}-readback`, clientId: 'plt-failover', bootstrapBrokers, deserializers: stringDeserializers, maxWaitTime: 200 });
        const high = await highWatermark(topic);
        const records: { offset: number; value: string }[] = [];
        try {
          const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
          const timer = setTimeout(() => void stream.close(), 30_000);
          for await (const m of stream) {
            records.push({ offset: Number(m.offset), value: m.value });
            if (Number(m.offset) + 1 >= high) break;
          }
          clearTimeout(timer);
          await stream.close();
        } finally {
          await consumer.close(true);
        }
        // Metadata carries the real leader epoch the client validates its fetches with: the kill
        // moved it past the first leader's epoch 0.
        expect((await c.partition(topic, 0)).leaderEpoch).toBeGreaterThan(0);
        return records;
      },
    );
  }, 120_000);
});
