/**
 * Fetch semantics over raw frames, through every send path (sendfile from the page cache, pread +
 * write on a worker, and the Buffer copy): whole batches from the one containing the offset,
 * KIP-74, byte limits, long polls woken by appends, offsets out of range; and topic settings
 * applied on append.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBatch, Codec, decodeBatches } from '../../src/native/records.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { fetchApi } from '../../src/protocol/schemas/fetch.js';
import { produceApi } from '../../src/protocol/schemas/produce.js';
import { startTestBroker, until, type TestBroker } from './harness.js';
import { RawClient } from './raw-client.js';

const SEND_PATHS = [
  { name: 'sendfile', sendfile: true, copySendMaxBytes: 0 },
  { name: 'pread + write on a worker', sendfile: true, copySendMaxBytes: 1 << 30 },
  { name: 'buffer copy', sendfile: false },
];
for (const { name: sendPath, ...sendOptions } of SEND_PATHS) {
  describe(`fetch (${sendPath})`, () => {
    let tb: TestBroker;
    let c: RawClient;
    let kafka: Kafka;

    beforeAll(async () => {
      tb = await startTestBroker(sendOptions);
      kafka = new Kafka({ brokers: [tb.bootstrap], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        topics: [
          { topic: 'f' },
          { topic: 'poll-wake' },
          { topic: 'poll-timeout' },
          { topic: 'poll-order' },
          { topic: 'zstd-stored', configEntries: [{ name: 'compression.type', value: 'zstd' }] },
          { topic: 'append-time', configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] },
        ],
      });
      await admin.disconnect();
      c = await RawClient.connect(tb.broker.port);
      // Ten batches of ten records, 0..99, each value ~1 KiB.
      for (let b = 0; b < 10; b++) {
        const records = Array.from({ length: 10 }, (_, i) => ({ key: `k${b * 10 + i}`, value: Buffer.alloc(1000, b) }));
        await produce('f', buildBatch({ records }));
      }
    });
    afterAll(async () => {
      c.close();
      await tb.close();
    });

    async function produce(topic: string, records: Buffer) {
      const r = await c.request(produceApi, 7, { acks: 1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
      expect(r.responses[0].partitionResponses[0].errorCode).toBe(0);
      return r.responses[0].partitionResponses[0];
    }

    async function fetch(topic: string, offset: number, o: { maxBytes?: number; partitionMaxBytes?: number; minBytes?: number; maxWaitMs?: number; version?: number; client?: RawClient } = {}) {
      const res = await (o.client ?? c).request(fetchApi, o.version ?? 11, {
        maxWaitMs: o.maxWaitMs ?? 0,
        minBytes: o.minBytes ?? 0,
        maxBytes: o.maxBytes ?? 50_000_000,
        isolationLevel: 1,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: BigInt(offset), partitionMaxBytes: o.partitionMaxBytes ?? 10_000_000 }] }],
      });
      const p = res.responses[0].partitions[0];
      const records = p.records as Buffer | null;
      return { p, batches: records && records.length ? decodeBatches(records).batches : [] };
    }

    it('returns every batch, whole and in order, with high watermark and log start offset', async () => {
      const { p, batches } = await fetch('f', 0);
      expect(p.errorCode).toBe(0);
      expect(p.highWatermark).toBe(100n);
      expect(p.lastStableOffset).toBe(100n);
      expect(p.logStartOffset).toBe(0n);
      expect(batches.map((b) => b.baseOffset)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
      expect(batches.flatMap((b) => b.records.map((r) => r.key?.toString()))).toEqual(Array.from({ length: 100 }, (_, i) => `k${i}`));
    });

    it('starts with the batch that contains the fetch offset', async () => {
      const { batches } = await fetch('f', 37);
      expect(batches[0].baseOffset).toBe(30);
    });

    it('returns at least one whole batch even when it exceeds the limits (KIP-74)', async () => {
      const { batches } = await fetch('f', 0, { maxBytes: 10, partitionMaxBytes: 10 });
      expect(batches).toHaveLength(1);
      expect(batches[0].records).toHaveLength(10);
    });

    it('stops at the partition byte limit on batch boundaries', async () => {
      const one = (await fetch('f', 0, { partitionMaxBytes: 100_000 })).batches[0];
      const size = decodeBatches((await fetch('f', 0, { partitionMaxBytes: 1 })).p.records as Buffer).batches.length;
      expect(size).toBe(1);
      const { batches } = await fetch('f', 0, { partitionMaxBytes: 3 * 10_200 });
      expect(batches.length).toBeGreaterThanOrEqual(2);
      expect(batches.length).toBeLessThan(10);
      expect(one.baseOffset).toBe(0);
    });

    it('answers an offset past the end or below the start with OFFSET_OUT_OF_RANGE', async () => {
      expect((await fetch('f', 101)).p.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
      expect((await fetch('f', -5)).p.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
      const atEnd = await fetch('f', 100);
      expect(atEnd.p.errorCode).toBe(0);
      expect(atEnd.batches).toHaveLength(0);
    });

    it('answers an unknown topic with UNKNOWN_TOPIC_OR_PARTITION', async () => {
      expect((await fetch('nope', 0)).p.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    });

    it('parks a fetch until an append arrives (long poll), then answers at once', async () => {
      const waiter = await RawClient.connect(tb.broker.port);
      const started = Date.now();
      const pending = fetch('poll-wake', 0, { minBytes: 1, maxWaitMs: 10_000, client: waiter });
      await new Promise((r) => setTimeout(r, 300));
      await produce('poll-wake', buildBatch({ records: [{ value: 'wake up' }] }));
      const { batches } = await pending;
      const waited = Date.now() - started;
      expect(batches[0].records[0].value?.toString()).toBe('wake up');
      expect(waited).toBeGreaterThanOrEqual(250);
      expect(waited).toBeLessThan(5000);
      waiter.close();
    });

    it('answers an unsatisfied long poll empty after max_wait_ms', async () => {
      const started = Date.now();
      const { p, batches } = await fetch('poll-timeout', 0, { minBytes: 1, maxWaitMs: 300 });
      expect(p.errorCode).toBe(0);
      expect(batches).toHaveLength(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    });

    it('keeps responses in request order behind a parked fetch on the same connection', async () => {
      const conn = await RawClient.connect(tb.broker.port);
      const slow = fetch('poll-order', 0, { minBytes: 1, maxWaitMs: 400, client: conn });
      const quick = fetch('f', 0, { client: conn });
      const order: string[] = [];
      await Promise.all([slow.then(() => order.push('slow')), quick.then(() => order.push('quick'))]);
      expect(order).toEqual(['slow', 'quick']);
      conn.close();
    });

    it('recompresses batches to the topic compression.type', async () => {
      await produce('zstd-stored', buildBatch({ records: [{ key: 'a', value: 'x'.repeat(500) }], codec: Codec.None }));
      const { batches } = await fetch('zstd-stored', 0);
      expect(batches[0].codec).toBe(Codec.Zstd);
      expect(batches[0].records[0].value?.toString()).toBe('x'.repeat(500));
    });

    it('stamps LogAppendTime topics with the broker time', async () => {
      const before = Date.now();
      await produce('append-time', buildBatch({ records: [{ value: 'old', timestamp: 1000 }] }));
      const { batches } = await fetch('append-time', 0);
      expect(batches[0].timestampType).toBe('LogAppendTime');
      expect(batches[0].records[0].timestamp).toBeGreaterThanOrEqual(before);
    });
  });
}

describe('fetch by topic id (v13-17)', () => {
  it('reads a topic by the id Metadata gives, and answers an unknown id with UNKNOWN_TOPIC_ID', async () => {
    const tb = await startTestBroker();
    const c = await RawClient.connect(tb.broker.port);
    try {
      const topic = tb.broker.broker.topics.create('by-id', 1);
      const produced = await c.request(produceApi, 9, { acks: 1, timeoutMs: 1000, topicData: [{ name: 'by-id', partitionData: [{ index: 0, records: buildBatch({ records: [{ value: 'found by id' }] }) }] }] });
      expect(produced.responses[0].partitionResponses[0].errorCode).toBe(0);
      for (const version of [13, 15, 17]) {
        const res = await c.request(fetchApi, version, {
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1_000_000,
          topics: [
            { topicId: topic.id, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1_000_000 }] },
            { topicId: '0b5c3a0e-0000-4000-8000-000000000000', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1_000_000 }] },
          ],
        });
        expect(res.responses[0].topicId).toBe(topic.id);
        const p = res.responses[0].partitions[0];
        expect(p.errorCode).toBe(0);
        expect(decodeBatches(p.records as Buffer).batches[0].records[0].value?.toString()).toBe('found by id');
        expect(res.responses[1].partitions[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
      }
    } finally {
      c.close();
      await tb.close();
    }
  });
});

describe('shutdown', () => {
  it('answers a parked long poll at once when the broker closes', async () => {
    const tb = await startTestBroker();
    tb.broker.broker.topics.create('idle', 1);
    const c = await RawClient.connect(tb.broker.port);
    const started = Date.now();
    const parked = c.request(fetchApi, 11, {
      maxWaitMs: 30_000,
      minBytes: 1,
      maxBytes: 1_000_000,
      topics: [{ topic: 'idle', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1_000_000 }] }],
    });
    await new Promise((r) => setTimeout(r, 100));
    await tb.close();
    const res = await parked;
    expect(res.responses[0].partitions[0].errorCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000);
    c.close();
  });
});

describe('fetch.max.bytes', () => {
  it('caps a response below what the request asks, on batch boundaries, with one whole batch at least (v4 and v11)', async () => {
    const tb = await startTestBroker({ properties: { 'fetch.max.bytes': 25_000 } });
    const c = await RawClient.connect(tb.broker.port);
    try {
      tb.broker.broker.topics.create('capped', 1);
      // Five batches of ten ~1 KiB records: ~10.2 KB each.
      for (let b = 0; b < 5; b++) {
        const records = buildBatch({ records: Array.from({ length: 10 }, (_, i) => ({ key: `k${b * 10 + i}`, value: Buffer.alloc(1000, b) })) });
        const r = await c.request(produceApi, 7, { acks: 1, timeoutMs: 1000, topicData: [{ name: 'capped', partitionData: [{ index: 0, records }] }] });
        expect(r.responses[0].partitionResponses[0].errorCode).toBe(0);
      }
      const baseOffsets = async (version: number, maxBytes: number) => {
        const res = await c.request(fetchApi, version, {
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes,
          isolationLevel: 0,
          topics: [{ topic: 'capped', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 50_000_000 }] }],
        });
        const records = res.responses[0].partitions[0].records as Buffer;
        expect(records.length).toBeLessThanOrEqual(25_000);
        return decodeBatches(records).batches.map((b) => b.baseOffset);
      };
      for (const version of [4, 11]) {
        expect(await baseOffsets(version, 50_000_000)).toEqual([0, 10]);
        expect(await baseOffsets(version, 15_000)).toEqual([0]); // the request's own limit still applies
      }
      tb.broker.broker.topics.create('huge', 1);
      const big = buildBatch({ records: [{ key: 'k', value: Buffer.alloc(40_000, 7) }] });
      await c.request(produceApi, 7, { acks: 1, timeoutMs: 1000, topicData: [{ name: 'huge', partitionData: [{ index: 0, records: big }] }] });
      const res = await c.request(fetchApi, 11, {
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 50_000_000,
        isolationLevel: 0,
        topics: [{ topic: 'huge', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 50_000_000 }] }],
      });
      expect((res.responses[0].partitions[0].records as Buffer).length).toBe(big.length); // KIP-74: one batch over the cap
    } finally {
      c.close();
      await tb.close();
    }
  });
});

describe('abandoned long polls', () => {
  // Found while fuzzing: a Fetch parked with a long max_wait_ms kept its timer, its waiter and its
  // request (about 4 KB each, measured) until max_wait_ms, even after its connection closed, so a
  // client that pipelined such fetches and hung up, again and again, grew the broker's memory
  // without bound (40,000 abandoned fetches with max_wait_ms 2^31-1: RSS 88 -> 263 MiB).
  it('forgets the long polls of a connection that closed: no timer left behind', async () => {
    const tb = await startTestBroker();
    tb.broker.broker.topics.create('abandoned', 1);
    const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timeouts();
    try {
      const clients: RawClient[] = [];
      for (let i = 0; i < 4; i++) {
        const c = await RawClient.connect(tb.broker.port);
        clients.push(c);
        for (let j = 0; j < 25; j++) {
          c.write(c.encode(fetchApi, 11, { maxWaitMs: 3_600_000, minBytes: 1_000_000, maxBytes: 1_000_000, isolationLevel: 0, topics: [{ topic: 'abandoned', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1_000_000 }] }] }));
        }
      }
      // All 100 are parked, each with its max_wait_ms timer (give or take a timer of the test runner's).
      await until('the long polls to park', () => timeouts() >= before + 95, 10_000);
      for (const c of clients) {
        c.close();
        await c.closed;
      }
      await until('the closed connections\' long polls to be dropped', () => timeouts() < before + 10, 5_000);
    } finally {
      await tb.close();
    }
  });
});
