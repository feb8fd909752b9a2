/**
 * Exact-byte produce tests over a raw connection: idempotent sequences (retries, gaps, epochs,
 * restarts) and malformed batches. Each refusal must carry the right Kafka code and leave the log
 * as it was; a log that saw every kind of refusal is read back to prove nothing bad got in.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBatch, Codec, decodeRecords } from '../../src/native/records.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { fetchApi } from '../../src/protocol/schemas/fetch.js';
import { initProducerIdApi } from '../../src/protocol/schemas/init-producer-id.js';
import { produceApi } from '../../src/protocol/schemas/produce.js';
import { startTestBroker, type TestBroker } from './harness.js';
import { RawClient } from './raw-client.js';

let tb: TestBroker;
let c: RawClient;

async function createTopics(...topics: string[]): Promise<void> {
  const admin = new Kafka({ brokers: [tb.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: topics.map((topic) => ({ topic })) });
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  tb = await startTestBroker();
  await createTopics('idem', 'bad', 'plain');
  c = await RawClient.connect(tb.broker.port);
});
afterAll(async () => {
  c.close();
  await tb.close();
});

function batch(n: number, opts: { producerId?: number; producerEpoch?: number; baseSequence?: number; codec?: Codec; tag?: string } = {}): Buffer {
  return buildBatch({
    records: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `${opts.tag ?? 'v'}${i}` })),
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    baseSequence: opts.baseSequence,
    codec: opts.codec,
  });
}

async function produce(topic: string, records: Buffer, version = 7, acks = -1) {
  const res = await c.request(produceApi, version, { acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
  return res.responses[0].partitionResponses[0];
}

async function readAll(topic: string) {
  const res = await c.request(fetchApi, 11, {
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 10_000_000,
    isolationLevel: 0,
    topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 10_000_000 }] }],
  });
  const p = res.responses[0].partitions[0];
  expect(p.errorCode).toBe(0);
  return { hw: Number(p.highWatermark), records: decodeRecords(p.records as Buffer) };
}

async function newProducer(): Promise<{ producerId: number; producerEpoch: number }> {
  const r = await c.request(initProducerIdApi, 1, { transactionalId: null, transactionTimeoutMs: 60000 });
  expect(r.errorCode).toBe(0);
  return { producerId: Number(r.producerId), producerEpoch: r.producerEpoch };
}

describe('idempotent producers', () => {
  it('hands out distinct producer ids', async () => {
    const a = await newProducer();
    const b = await newProducer();
    expect(a.producerId).not.toBe(b.producerId);
    expect(a.producerEpoch).toBe(0);
  });

  it('answers a retried batch with its original offset and stores it once', async () => {
    const p = await newProducer();
    const first = await produce('idem', batch(5, { ...p, baseSequence: 0 }));
    expect(first.errorCode).toBe(0);
    const second = await produce('idem', batch(3, { ...p, baseSequence: 5 }));
    expect(second.baseOffset).toBe(first.baseOffset + 5n);
    // The retry of the first batch (built again, as a client would resend it).
    const retry = await produce('idem', batch(5, { ...p, baseSequence: 0 }));
    expect(retry.errorCode).toBe(0);
    expect(retry.baseOffset).toBe(first.baseOffset);
    const { hw } = await readAll('idem');
    expect(hw).toBe(Number(first.baseOffset) + 8);
  });

  it('refuses a sequence gap with OUT_OF_ORDER_SEQUENCE_NUMBER and writes nothing', async () => {
    const p = await newProducer();
    expect((await produce('idem', batch(2, { ...p, baseSequence: 0 }))).errorCode).toBe(0);
    const before = (await readAll('idem')).hw;
    const gap = await produce('idem', batch(2, { ...p, baseSequence: 7 }));
    expect(gap.errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect((await readAll('idem')).hw).toBe(before);
    expect((await produce('idem', batch(2, { ...p, baseSequence: 2 }))).errorCode).toBe(0);
  });

  it('checks the CRC before the sequence: a corrupt retry or gap is CORRUPT_MESSAGE, not a verdict on damaged fields', async () => {
    const p = await newProducer();
    expect((await produce('idem', batch(3, { ...p, baseSequence: 0 }))).errorCode).toBe(0);
    const corruptRetry = batch(3, { ...p, baseSequence: 0 });
    corruptRetry[corruptRetry.length - 2] ^= 0x01;
    expect((await produce('idem', corruptRetry)).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    const corruptGap = batch(1, { ...p, baseSequence: 9 });
    corruptGap[corruptGap.length - 2] ^= 0x01;
    expect((await produce('idem', corruptGap)).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    // The intact retry is still recognised, and the next batch still fits.
    expect((await produce('idem', batch(3, { ...p, baseSequence: 0 }))).errorCode).toBe(0);
    expect((await produce('idem', batch(1, { ...p, baseSequence: 3 }))).errorCode).toBe(0);
  });

  it('refuses a producer it has never seen starting past 0 with UNKNOWN_PRODUCER_ID', async () => {
    const p = await newProducer();
    expect((await produce('idem', batch(1, { ...p, baseSequence: 42 }))).errorCode).toBe(ErrorCode.UNKNOWN_PRODUCER_ID);
  });

  it('answers an idempotent InitProducerId v3 that sends its id and epoch with a new id, as Kafka does', async () => {
    // Echoing the pair back with the epoch bumped let two clients share an identity (issue 7).
    const p = await newProducer();
    const again = await c.request(initProducerIdApi, 3, { transactionalId: null, transactionTimeoutMs: 60000, producerId: BigInt(p.producerId), producerEpoch: p.producerEpoch });
    expect(again.errorCode).toBe(0);
    expect(Number(again.producerId)).not.toBe(p.producerId);
    expect(again.producerEpoch).toBe(0);
  });

  it('fences an old epoch once the producer bumped its epoch locally (KIP-360)', async () => {
    const p = await newProducer();
    expect((await produce('idem', batch(1, { ...p, baseSequence: 0 }))).errorCode).toBe(0);
    const bumped = p.producerEpoch + 1;
    expect((await produce('idem', batch(1, { producerId: p.producerId, producerEpoch: bumped, baseSequence: 0 }))).errorCode).toBe(0);
    expect((await produce('idem', batch(1, { ...p, baseSequence: 1 }))).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it('still recognises a retry after a restart', async () => {
    const p = await newProducer();
    const first = await produce('idem', batch(4, { ...p, baseSequence: 0, tag: 'restart' }));
    c.close();
    await tb.restart();
    c = await RawClient.connect(tb.broker.port);
    const retry = await produce('idem', batch(4, { ...p, baseSequence: 0, tag: 'restart' }));
    expect(retry.errorCode).toBe(0);
    expect(retry.baseOffset).toBe(first.baseOffset);
    const next = await produce('idem', batch(1, { ...p, baseSequence: 4 }));
    expect(next.baseOffset).toBe(first.baseOffset + 4n);
  });

  it('refuses a transactional InitProducerId whose timeout is above transaction.max.timeout.ms', async () => {
    const r = await c.request(initProducerIdApi, 1, { transactionalId: 'tx-1', transactionTimeoutMs: 900_001 });
    expect(r.errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
  });
});

describe('malformed produce requests', () => {
  const good = () => batch(3, { tag: 'good' });

  it('rejects a bad CRC as CORRUPT_MESSAGE at any byte of the checksummed range', async () => {
    for (const pos of [21, 30, 61, 70]) {
      const b = good();
      b[pos] ^= 0x40;
      expect((await produce('bad', b)).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  it('rejects a truncated batch as CORRUPT_MESSAGE', async () => {
    expect((await produce('bad', good().subarray(0, 40))).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    const b = good();
    expect((await produce('bad', b.subarray(0, b.length - 3))).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
  });

  it('rejects two batches in one partition, a wrong magic, or a producer-set base offset as INVALID_RECORD', async () => {
    expect((await produce('bad', Buffer.concat([good(), good()]))).errorCode).toBe(ErrorCode.INVALID_RECORD);
    const magic = good();
    magic[16] = 1;
    expect((await produce('bad', magic)).errorCode).toBe(ErrorCode.INVALID_RECORD);
    const offset = good();
    offset.writeBigInt64BE(5n, 0);
    expect((await produce('bad', offset)).errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect((await produce('bad', Buffer.alloc(0))).errorCode).toBe(ErrorCode.INVALID_RECORD);
  });

  it('rejects zstd below Produce v7', async () => {
    expect((await produce('bad', batch(2, { codec: Codec.Zstd }), 6)).errorCode).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
    expect((await produce('bad', batch(2, { codec: Codec.Zstd }), 7)).errorCode).toBe(0);
  });

  it('answers Produce v0-2 with UNSUPPORTED_VERSION and bad acks with INVALID_REQUIRED_ACKS', async () => {
    expect((await produce('bad', good(), 2)).errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect((await produce('bad', good(), 7, 5)).errorCode).toBe(ErrorCode.INVALID_REQUIRED_ACKS);
  });

  it('answers an unknown topic or partition with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    expect((await produce('no-such-topic', good())).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const res = await c.request(produceApi, 7, { acks: 1, timeoutMs: 5000, topicData: [{ name: 'bad', partitionData: [{ index: 9, records: good() }] }] });
    expect(res.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('keeps only the accepted batches: each kind of refusal leaves the log as it was', async () => {
    const topic = 'refusals-then-good';
    await createTopics(topic);
    const crc = good();
    crc[30] ^= 0x40;
    const magic = good();
    magic[16] = 1;
    const offset = good();
    offset.writeBigInt64BE(5n, 0);
    const refusals: [Buffer, number, number][] = [
      [crc, 7, ErrorCode.CORRUPT_MESSAGE],
      [good().subarray(0, 40), 7, ErrorCode.CORRUPT_MESSAGE],
      [Buffer.concat([good(), good()]), 7, ErrorCode.INVALID_RECORD],
      [magic, 7, ErrorCode.INVALID_RECORD],
      [offset, 7, ErrorCode.INVALID_RECORD],
      [batch(2, { codec: Codec.Zstd, tag: 'zstd-v6-' }), 6, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE],
      [good(), 2, ErrorCode.UNSUPPORTED_VERSION],
    ];
    for (const [records, version, code] of refusals) expect((await produce(topic, records, version)).errorCode).toBe(code);
    expect((await produce(topic, good(), 7, 5)).errorCode).toBe(ErrorCode.INVALID_REQUIRED_ACKS);
    expect((await readAll(topic)).hw).toBe(0);
    expect((await produce(topic, batch(2, { codec: Codec.Zstd }), 7)).errorCode).toBe(0);
    expect((await produce(topic, good())).errorCode).toBe(0);
    const { records } = await readAll(topic);
    // the zstd batch at v7 (2 records) and the good batch (3 records); nothing else got in
    expect(records.map((r) => r.value?.toString())).toEqual(['v0', 'v1', 'good0', 'good1', 'good2']);
  });

  it('closes the connection when an acks=0 produce fails, so the client notices', async () => {
    const other = await RawClient.connect(tb.broker.port);
    other.write(other.encode(produceApi, 7, { acks: 0, timeoutMs: 1000, topicData: [{ name: 'no-such-topic', partitionData: [{ index: 0, records: good() }] }] }));
    expect(await other.closesWithin(2000)).toBe(true);
  });
});
