/**
 * Fetch slices own their segment files until sent. A consumer that stops reading makes the broker's
 * responses queue behind its socket, each holding file slices; meanwhile the topic is deleted (or
 * DeleteRecords or retention removes the segments) and new files are opened, which on Linux take
 * the lowest free descriptor numbers. Whatever the consumer receives once it reads again must be
 * the records it fetched, byte for byte: never a recycled descriptor's file, never garbage.
 * Through every send path, with real sockets and kafkajs for the admin side.
 */
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBatch, decodeBatches } from '../../src/native/records.js';
import { decodeResponse } from '../../src/protocol/frames.js';
import { deleteRecordsApi } from '../../src/protocol/schemas/delete-records.js';
import { fetchApi } from '../../src/protocol/schemas/fetch.js';
import { produceApi } from '../../src/protocol/schemas/produce.js';
import { configEntries, kafkajs, startTestBroker, until, type TestBroker } from './harness.js';
import { RawClient } from './raw-client.js';

const SEND_PATHS = [
  { name: 'sendfile', sendfile: true, copySendMaxBytes: 0 },
  { name: 'pread + write on a worker', sendfile: true, copySendMaxBytes: 1 << 30 },
  { name: 'buffer copy', sendfile: false },
];

const BATCHES = 40;
const RECORDS_PER_BATCH = 10;
const VALUE_BYTES = 10_000; // ~4 MB per topic: more than the socket buffers hold
const PIPELINED_FETCHES = 4;
const FETCH_VERSION = 11;

/** A record value that names its topic and offset throughout, so any foreign byte shows. */
function valueFor(topic: string, offset: number): Buffer {
  const tag = `${topic}:${offset};`;
  return Buffer.from(tag.repeat(Math.ceil(VALUE_BYTES / tag.length)).slice(0, VALUE_BYTES));
}

for (const { name: sendPath, ...sendOptions } of SEND_PATHS) {
  describe(`fetch slices in flight own their files (${sendPath})`, () => {
    let tb: TestBroker;
    let admin: Admin;
    let producer: RawClient;

    beforeAll(async () => {
      tb = await startTestBroker({
        ...sendOptions,
        // Deleted segments leave the disk at once, and retention runs often.
        properties: { 'log.segment.delete.delay.ms': 0, 'log.retention.check.interval.ms': 100 },
      });
      admin = kafkajs(tb.bootstrap).admin();
      await admin.connect();
      producer = await RawClient.connect(tb.broker.port);
    });
    afterAll(async () => {
      producer.close();
      await admin.disconnect();
      await tb.close();
    });

    async function produce(topic: string, partition: number, batches: number, value: (offset: number) => Buffer) {
      for (let b = 0; b < batches; b++) {
        const base = b * RECORDS_PER_BATCH;
        const records = Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({ value: value(base + i) }));
        const r = await producer.request(produceApi, 7, {
          acks: 1,
          timeoutMs: 5000,
          topicData: [{ name: topic, partitionData: [{ index: partition, records: buildBatch({ records }) }] }],
        });
        expect(r.responses[0].partitionResponses[0].errorCode).toBe(0);
      }
    }

    /**
     * Connects a consumer that does not read, pipelines fetches of the whole topic, and returns a
     * function that starts reading and yields every record value of every response.
     */
    async function slowConsumer(topic: string): Promise<() => Promise<{ offset: number; value: Buffer }[][]>> {
      const c = await RawClient.connect(tb.broker.port);
      c.socket.pause();
      for (let i = 0; i < PIPELINED_FETCHES; i++) {
        c.write(
          c.encode(fetchApi, FETCH_VERSION, {
            maxWaitMs: 0,
            minBytes: 0,
            maxBytes: 50_000_000,
            isolationLevel: 1,
            topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 50_000_000 }] }],
          }),
        );
      }
      // The broker reads requests whatever we do; give it time to answer them all into our socket.
      await new Promise((r) => setTimeout(r, 300));
      return async () => {
        const frames = Array.from({ length: PIPELINED_FETCHES }, () => c.nextFrame(20_000));
        // A send that failed (a slice past the end of a reused file) closes the connection.
        const closed = c.closed.then(() => Promise.reject(new Error('the broker closed the connection before answering every fetch')));
        closed.catch(() => {});
        c.socket.resume();
        const out: { offset: number; value: Buffer }[][] = [];
        for (const frame of frames) {
          const res = decodeResponse(fetchApi, FETCH_VERSION, await Promise.race([frame, closed])).body;
          const p = res.responses[0].partitions[0];
          expect(p.errorCode).toBe(0);
          const records = decodeBatches(p.records as Buffer).batches.flatMap((b) => b.records);
          out.push(records.map((r) => ({ offset: r.offset, value: r.value! })));
        }
        c.close();
        return out;
      };
    }

    /** Creates `topic` with `configs`, fills it, and queues a slow consumer's fetches of it (slowConsumer). */
    async function queuedFetchesOf(topic: string, configs: Record<string, string> = {}) {
      await admin.createTopics({ topics: [{ topic, configEntries: configEntries(configs) }] });
      await produce(topic, 0, BATCHES, (o) => valueFor(topic, o));
      return slowConsumer(topic);
    }

    /** Opens many new files (3 per partition) and writes into them, so freed descriptor numbers are reused. */
    async function openNewFiles(prefix: string) {
      const topics = Array.from({ length: 4 }, (_, i) => `${prefix}-filler-${i}`);
      await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 3 })) });
      for (const topic of topics) for (let p = 0; p < 3; p++) await produce(topic, p, 2, (o) => valueFor(topic, o));
    }

    function expectOnly(topic: string, responses: { offset: number; value: Buffer }[][]) {
      expect(responses).toHaveLength(PIPELINED_FETCHES);
      for (const records of responses) {
        expect(records).toHaveLength(BATCHES * RECORDS_PER_BATCH);
        records.forEach((r, i) => {
          expect(r.offset).toBe(i);
          if (!r.value.equals(valueFor(topic, i))) throw new Error(`offset ${i} of ${topic} holds ${r.value.subarray(0, 40).toString()}...`);
        });
      }
    }

    it('delivers the fetched records when the topic is deleted under queued responses', async () => {
      const topic = `deleted-${sendOptions.copySendMaxBytes ?? 'copy'}`;
      const read = await queuedFetchesOf(topic);
      await admin.deleteTopics({ topics: [topic] });
      await openNewFiles(topic);
      expectOnly(topic, await read());
    });

    it('delivers the fetched records when DeleteRecords removes their segments', async () => {
      const topic = `records-${sendOptions.copySendMaxBytes ?? 'copy'}`;
      const read = await queuedFetchesOf(topic, { 'segment.bytes': String(1 << 20) });
      const end = BigInt(BATCHES * RECORDS_PER_BATCH);
      const res = await producer.request(deleteRecordsApi, 1, { topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: end }] }], timeoutMs: 1000 });
      expect(res.topics[0].partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: end });
      await openNewFiles(topic);
      expectOnly(topic, await read());
    });

    it('delivers the fetched records when retention deletes their rolled segments', async () => {
      const topic = `retained-${sendOptions.copySendMaxBytes ?? 'copy'}`;
      const read = await queuedFetchesOf(topic, { 'segment.bytes': String(1 << 20) });
      const log = tb.broker.broker.topics.get(topic)!.partitions[0]!;
      const segments = log.segmentCount;
      expect(segments).toBeGreaterThan(2);
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: topic, configEntries: [{ name: 'retention.ms', value: '1' }] }] });
      await until('retention deleted the closed segments', () => log.segmentCount === 1);
      await openNewFiles(topic);
      expectOnly(topic, await read());
    });
  });
}
