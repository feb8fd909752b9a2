/**
 * @platformatic/kafka 1.x speaks only flexible versions (ApiVersions v3 without fallback,
 * Metadata v12, Produce v11, InitProducerId v4, Fetch v17 by topic id here): a check that the
 * flexible codec is right end to end, with kcat (librdkafka, non-flexible versions) reading what it
 * wrote, and its consumer reading what kafkajs wrote.
 */
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOk, hasKcat, kafkajs, requireInstalled, run, startTestBroker, withAdmin, withProducer, type TestBroker } from './harness.js';

requireInstalled(hasKcat, 'kcat');

let tb: TestBroker;
beforeAll(async () => {
  tb = await startTestBroker();
});
afterAll(async () => tb.close());

describe('@platformatic/kafka 1.x', () => {
  for (const compression of ['none', 'gzip', 'snappy', 'lz4'] as const) {
    it(`produces ${compression} idempotently with keys and headers, readable by other clients`, async () => {
      const topic = `plt-${compression}`;
      await withAdmin(kafkajs(tb.bootstrap), (admin) => admin.createTopics({ topics: [{ topic }] }));

      const producer = new Producer({ clientId: 'plt', bootstrapBrokers: [tb.bootstrap], serializers: stringSerializers, idempotent: true, acks: -1, compression });
      try {
        const messages = Array.from({ length: 20 }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}`, headers: new Map([['h', `x${i}`]]) }));
        const result = await producer.send({ messages });
        expect(result.offsets?.[0]).toMatchObject({ topic, partition: 0 });
      } finally {
        await producer.close();
      }
      const r = expectOk(await run('kcat', ['-C', '-b', tb.bootstrap, '-t', topic, '-o', 'beginning', '-c', '20', '-e', '-J', '-q']), 'kcat -C');
      const got = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; payload: string; headers: string[] });
      expect(got.map((m) => [m.key, m.payload, m.headers])).toEqual(Array.from({ length: 20 }, (_, i) => [`k${i}`, `v${i}`, ['h', `x${i}`]]));
    });
  }

  it('consumes in a group from the earliest offset, fetching topics by id (Fetch v13+)', async () => {
    const topic = 'plt-consume';
    const kafka = kafkajs(tb.bootstrap);
    await withAdmin(kafka, (admin) => admin.createTopics({ topics: [{ topic, numPartitions: 2 }] }));
    await withProducer(kafka, (producer) => producer.send({ topic, messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 2 })) }));

    const consumer = new Consumer({ groupId: 'plt-readers', clientId: 'plt', bootstrapBrokers: [tb.bootstrap], deserializers: stringDeserializers, maxWaitTime: 200 });
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      const seen: string[] = [];
      for await (const m of stream) {
        seen.push(`${m.partition}:${m.offset}:${m.key}:${m.value}`);
        if (seen.length === 40) break;
      }
      await stream.close();
      const expected = Array.from({ length: 40 }, (_, i) => `${i % 2}:${Math.floor(i / 2)}:k${i}:v${i}`);
      expect(seen.sort()).toEqual(expected.sort());
    } finally {
      await consumer.close(true);
    }
  }, 30_000);
});
