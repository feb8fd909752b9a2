/**
 * Produce and consume through real clients: every codec, keys and headers, acks 0/1/-1, and reads
 * back by clients other than the writer, so each side checks the other's bytes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Codec, peekBatch } from '../../src/protocol/record-batch.js';
import { expectOk, hasConfluentKafka, hasKafkaPython, hasKcat, python, requireInstalled, run, startTestBroker, type TestBroker } from './harness.js';

requireInstalled(hasKcat, 'kcat');
requireInstalled(hasKafkaPython, 'kafka-python (python3-kafka)');
requireInstalled(hasConfluentKafka, 'confluent-kafka (python3-confluent-kafka)');

let tb: TestBroker;
let kafka: Kafka;
beforeAll(async () => {
  tb = await startTestBroker();
  kafka = new Kafka({ clientId: 'it', brokers: [tb.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
});
afterAll(async () => tb.close());

interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

async function kcatConsume(topic: string, count: number): Promise<KcatMessage[]> {
  const r = expectOk(await run('kcat', ['-C', '-b', tb.bootstrap, '-t', topic, '-o', 'beginning', '-c', String(count), '-e', '-J', '-q']), 'kcat -C');
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as KcatMessage);
}

async function createTopic(topic: string, partitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
}

describe('kcat (librdkafka 2.0.2)', () => {
  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    it(`produces ${codec} batches with keys and headers that kcat reads back`, async () => {
      const topic = `kcat-${codec}`;
      await createTopic(topic);
      const lines = Array.from({ length: 200 }, (_, i) => `key-${i}:value-${i}-${'x'.repeat(i % 50)}`).join('\n') + '\n';
      expectOk(
        await run('kcat', ['-P', '-b', tb.bootstrap, '-t', topic, '-K:', '-H', 'h1=v1', '-H', 'trace=abc', '-z', codec, '-X', 'linger.ms=50', '-q'], { input: lines }),
        'kcat -P',
      );
      const got = await kcatConsume(topic, 200);
      expect(got).toHaveLength(200);
      got.forEach((m, i) => {
        expect(m.offset).toBe(i);
        expect(m.key).toBe(`key-${i}`);
        expect(m.payload).toBe(`value-${i}-${'x'.repeat(i % 50)}`);
        expect(m.headers).toEqual(['h1', 'v1', 'trace', 'abc']);
      });
    });
  }

  it('lists the broker and topics with kcat -L', async () => {
    await createTopic('listed', 3);
    const r = expectOk(await run('kcat', ['-L', '-b', tb.bootstrap, '-J']), 'kcat -L');
    const meta = JSON.parse(r.stdout) as { brokers: { id: number; name: string }[]; topics: { topic: string; partitions: unknown[] }[] };
    expect(meta.brokers).toEqual([{ id: 1, name: tb.bootstrap }]);
    expect(meta.topics.find((t) => t.topic === 'listed')?.partitions).toHaveLength(3);
  });
});

describe('kafkajs', () => {
  it('produces with keys, headers and gzip, and kcat reads the same bytes back', async () => {
    const topic = 'kafkajs-gzip';
    await createTopic(topic);
    const producer = kafka.producer();
    await producer.connect();
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, headers: { n: String(i) } }));
    const [res] = await producer.send({ topic, compression: CompressionTypes.GZIP, messages });
    expect(res.errorCode).toBe(0);
    expect(res.baseOffset).toBe('0');
    await producer.disconnect();
    const got = await kcatConsume(topic, 50);
    expect(got.map((m) => [m.key, m.payload, m.headers])).toEqual(messages.map((m) => [m.key, m.value, ['n', m.headers.n]]));
  });

  it('produces with acks 0, 1 and -1', async () => {
    const topic = 'acks';
    await createTopic(topic);
    const producer = kafka.producer();
    await producer.connect();
    for (const acks of [1, -1]) {
      const [r] = await producer.send({ topic, acks, messages: [{ value: `acks ${acks}` }] });
      expect(r.errorCode).toBe(0);
    }
    // acks=0: no response comes back; the next acknowledged send proves the connection and order.
    await producer.send({ topic, acks: 0, messages: [{ value: 'acks 0' }] });
    const [after] = await producer.send({ topic, acks: 1, messages: [{ value: 'after' }] });
    expect(after.baseOffset).toBe('3');
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets[0].high).toBe('4');
    await admin.disconnect();
  });

  it('auto-creates a topic on first produce', async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const [r] = await producer.send({ topic: 'auto-created', messages: [{ value: 'hello' }] });
    expect(r.errorCode).toBe(0);
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.listTopics()).toContain('auto-created');
    await admin.disconnect();
  });

  it('refuses a batch over max.message.bytes with MESSAGE_TOO_LARGE, and the next produce works', async () => {
    const topic = 'too-large';
    await createTopic(topic);
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    const big = Buffer.alloc(1_200_000, 7);
    await expect(producer.send({ topic, messages: [{ value: big }] })).rejects.toThrow(/larger than the max message size|MESSAGE_TOO_LARGE/i);
    const [ok] = await producer.send({ topic, messages: [{ value: 'small' }] });
    expect(ok.errorCode).toBe(0);
    expect(ok.baseOffset).toBe('0');
    await producer.disconnect();
  });

  it('finds offsets by timestamp', async () => {
    const topic = 'by-time';
    await createTopic(topic);
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < 5; i++) await producer.send({ topic, messages: [{ value: `m${i}`, timestamp: String(1_000_000 + i * 1000) }] });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const at = async (ts: number) => (await admin.fetchTopicOffsetsByTimestamp(topic, ts))[0].offset;
    expect(await at(1_000_000)).toBe('0');
    expect(await at(1_002_500)).toBe('3');
    expect(await at(1_004_000)).toBe('4');
    expect(await at(9_999_999_999)).toBe('5'); // past every record: Kafka's clients see the log end
    await admin.disconnect();
  });

  it('finds offsets by timestamp inside a compressed batch, record by record', async () => {
    const topic = 'by-time-gzip';
    await createTopic(topic);
    const producer = kafka.producer();
    await producer.connect();
    const messages = Array.from({ length: 10 }, (_, i) => ({ value: `m${i}`, timestamp: String(2_000_000 + i * 1000) }));
    await producer.send({ topic, compression: CompressionTypes.GZIP, messages }); // one gzip batch
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const at = async (ts: number) => (await admin.fetchTopicOffsetsByTimestamp(topic, ts))[0].offset;
    expect(await at(2_000_000)).toBe('0');
    expect(await at(2_003_500)).toBe('4');
    expect(await at(2_009_000)).toBe('9');
    expect(await at(2_009_001)).toBe('10');
    await admin.disconnect();
  });

  it('keeps data and offsets across a restart', async () => {
    const topic = 'restart';
    await createTopic(topic, 2);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, value: `r${i}` })) });
    await producer.disconnect();
    await tb.restart();
    kafka = new Kafka({ clientId: 'it', brokers: [tb.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.map((o) => o.high).sort()).toEqual(['10', '10']);
    await admin.disconnect();
    const producer2 = kafka.producer();
    await producer2.connect();
    const [r] = await producer2.send({ topic, messages: [{ partition: 0, value: 'after restart' }] });
    expect(r.baseOffset).toBe('10');
    await producer2.disconnect();
  });
});

describe('kafka-python 2.0.2', () => {
  it('produces with gzip, snappy, lz4 and zstd; consumes all but zstd, which Fetch v4 cannot carry', async () => {
    await createTopic('kp');
    const script = `
import sys, json
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
b = sys.argv[1]
for codec in ['gzip', 'snappy', 'lz4', 'zstd']:
    # linger_ms holds all 30 records for one batch until flush(): kafka-python sends a batch
    # uncompressed when compressing does not shrink it, which a lone record's batch may not.
    p = KafkaProducer(bootstrap_servers=b, compression_type=codec, acks=1, linger_ms=60000)
    for i in range(30):
        p.send('kp', key=('%s-%d' % (codec, i)).encode(), value=('v%d' % i).encode(), headers=[('c', codec.encode())])
    p.flush(); p.close()
c = KafkaConsumer(bootstrap_servers=b, enable_auto_commit=False, consumer_timeout_ms=5000)
tp = TopicPartition('kp', 0)
c.assign([tp]); c.seek_to_beginning(tp)
out = [[m.offset, m.key.decode(), m.value.decode(), [h[1].decode() for h in m.headers]] for m in c]
print(json.dumps(out))
`;
    const r = expectOk(await python(script, [tb.bootstrap]), 'kafka-python');
    const got = JSON.parse(r.stdout) as [number, string, string, string[]][];
    // The log holds one batch per codec, compressed with it, exactly as the client sent it.
    const segment = readFileSync(join(tb.dataDir, 'kp-0', '00000000000000000000.log'));
    const batches: [Codec, number][] = [];
    for (let pos = 0, b; (b = peekBatch(segment, pos)); pos += b.size) batches.push([b.codec, b.recordsCount]);
    expect(batches).toEqual([Codec.Gzip, Codec.Snappy, Codec.Lz4, Codec.Zstd].map((c) => [c, 30]));
    // kafka-python fetches with v4, below zstd's v10: it gets every record before the zstd batches.
    expect(got).toHaveLength(90);
    expect(got.map((m) => m[0])).toEqual(Array.from({ length: 90 }, (_, i) => i));
    expect(got[0]).toEqual([0, 'gzip-0', 'v0', ['gzip']]);
    expect(got[89]).toEqual([89, 'lz4-29', 'v29', ['lz4']]);
    const all = await kcatConsume('kp', 120); // Fetch v11: the zstd records are there
    expect(all).toHaveLength(120);
    expect(all[119]).toMatchObject({ offset: 119, key: 'zstd-29', payload: 'v29' });
  });
});

describe('confluent-kafka 1.7 (librdkafka)', () => {
  it('produces idempotently with acks=all and every codec, and reads back in order', async () => {
    await createTopic('ck');
    const script = `
import sys, json
from confluent_kafka import Producer, Consumer, TopicPartition
b = sys.argv[1]
for codec in ['none', 'gzip', 'snappy', 'lz4', 'zstd']:
    p = Producer({'bootstrap.servers': b, 'enable.idempotence': True, 'acks': 'all', 'compression.codec': codec, 'linger.ms': 20})
    errors = []
    for i in range(40):
        p.produce('ck', key=('%s-%d' % (codec, i)).encode(), value=('v%d' % i).encode(), on_delivery=lambda e, m: errors.append(str(e)) if e else None)
    p.flush(10)
    assert not errors, errors
c = Consumer({'bootstrap.servers': b, 'group.id': 'ck-reader', 'enable.auto.commit': False})
c.assign([TopicPartition('ck', 0, 0)])
out = []
while len(out) < 200:
    m = c.poll(10)
    if m is None: break
    if m.error(): raise Exception(m.error())
    out.append([m.offset(), m.key().decode()])
c.close()
print(json.dumps(out))
`;
    const r = expectOk(await python(script, [tb.bootstrap]), 'confluent-kafka');
    const got = JSON.parse(r.stdout) as [number, string][];
    expect(got).toHaveLength(200);
    expect(got.map((m) => m[0])).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(got[40]).toEqual([40, 'gzip-0']);
  });
});
