/**
 * Several idempotent producers writing to ONE partition at the same time, through real clients:
 * every acknowledged record must be in the log exactly once, at the offset it was acknowledged
 * with. Regression for issue 7: @platformatic/kafka 1.x sends InitProducerId v4 with producer id 0
 * and epoch 0; Brook answered every such producer with id 0 epoch 1, so the second producer's
 * batches matched the first one's sequences, were answered as duplicates and never written.
 *
 * Also here, on raw frames: InitProducerId's answers (a new id every time, the v3+ -1/-1 pairing
 * rule) and that producer ids are not handed out twice across restarts, even when the id block
 * file and the producer-state snapshots are lost.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32c } from '../../src/native/crc32c.js';
import { buildBatch, decodeRecords } from '../../src/native/records.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { CRC_START } from '../../src/protocol/record-batch.js';
import { fetchApi } from '../../src/protocol/schemas/fetch.js';
import { initProducerIdApi } from '../../src/protocol/schemas/init-producer-id.js';
import { produceApi } from '../../src/protocol/schemas/produce.js';
import { expectOk, kafkajs, python, startTestBroker, withAdmin, type TestBroker } from './harness.js';
import { RawClient } from './raw-client.js';

let tb: TestBroker;

beforeAll(async () => {
  tb = await startTestBroker();
});
afterAll(async () => {
  await tb?.close();
});

/** One acknowledgement: which record (its unique value) the broker said it wrote where. */
interface Ack {
  value: string;
  offset: number;
}

async function createTopic(topic: string): Promise<void> {
  await withAdmin(kafkajs(tb.bootstrap), (admin) => admin.createTopics({ topics: [{ topic, numPartitions: 1 }] }));
}

/** Every record of partition 0, offset -> value, read with our own codec over a raw socket. */
async function readPartition(topic: string): Promise<Map<number, string>> {
  const c = await RawClient.connect(tb.broker.port);
  try {
    const out = new Map<number, string>();
    let next = 0n;
    for (;;) {
      const res = await c.request(fetchApi, 11, {
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 10_000_000,
        isolationLevel: 0,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: next, partitionMaxBytes: 10_000_000 }] }],
      });
      const p = res.responses[0].partitions[0];
      expect(p.errorCode).toBe(ErrorCode.NONE);
      for (const r of decodeRecords(p.records as Buffer)) {
        expect(out.has(r.offset), `offset ${r.offset} read twice`).toBe(false);
        out.set(r.offset, r.value!.toString());
        next = BigInt(r.offset + 1);
      }
      if (next >= p.highWatermark) return out;
    }
  } finally {
    c.close();
  }
}

/** The log holds exactly the acknowledged records, each once, each at its acknowledged offset. */
async function expectExactlyTheAcknowledged(topic: string, acks: Ack[], expectedCount: number): Promise<void> {
  expect(acks).toHaveLength(expectedCount);
  expect(new Set(acks.map((a) => a.value)).size).toBe(expectedCount);
  expect(new Set(acks.map((a) => a.offset)).size).toBe(expectedCount);
  const log = await readPartition(topic);
  expect(log.size).toBe(expectedCount);
  for (const a of acks) expect(log.get(a.offset), `record acknowledged at offset ${a.offset}`).toBe(a.value);
}

function platformaticProducer(clientId: string): Producer<string, string, string, string> {
  return new Producer({ clientId, bootstrapBrokers: [tb.bootstrap], serializers: stringSerializers, idempotent: true, acks: -1 });
}

async function sendOne(producer: Producer<string, string, string, string>, topic: string, value: string): Promise<Ack> {
  const result = await producer.send({ messages: [{ topic, partition: 0, value }] });
  const placed = result.offsets?.[0];
  expect(placed).toMatchObject({ topic, partition: 0 });
  return { value, offset: Number(placed!.offset) };
}

describe('concurrent idempotent producers on one partition', () => {
  it('two platformatic producers, one record each in turn: all 400 acknowledged records stored once at their offsets', async () => {
    const topic = 'idem-two-platformatic';
    await createTopic(topic);
    const a = platformaticProducer('idem-a');
    const b = platformaticProducer('idem-b');
    try {
      const acks: Ack[] = [];
      for (let i = 0; i < 200; i++) {
        acks.push(await sendOne(a, topic, `a-${i}`));
        acks.push(await sendOne(b, topic, `b-${i}`));
      }
      expect(a.producerId).not.toBe(b.producerId);
      await expectExactlyTheAcknowledged(topic, acks, 400);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('five platformatic producers sending at the same time: every acknowledged record stored once at its offset', async () => {
    const topic = 'idem-five-platformatic';
    await createTopic(topic);
    const producers = Array.from({ length: 5 }, (_, n) => platformaticProducer(`idem-${n}`));
    try {
      const perProducer = await Promise.all(
        producers.map(async (p, n) => {
          const acks: Ack[] = [];
          for (let i = 0; i < 80; i++) acks.push(await sendOne(p, topic, `p${n}-${i}`));
          return acks;
        }),
      );
      expect(new Set(producers.map((p) => p.producerId)).size).toBe(5);
      await expectExactlyTheAcknowledged(topic, perProducer.flat(), 400);
    } finally {
      await Promise.all(producers.map((p) => p.close()));
    }
  });

  it('kafkajs, librdkafka and platformatic idempotent producers at the same time: every acknowledged record stored once at its offset', async () => {
    const topic = 'idem-mixed-clients';
    await createTopic(topic);

    const kjs = kafkajs(tb.bootstrap).producer({ idempotent: true, maxInFlightRequests: 1 });
    await kjs.connect();
    const plt = platformaticProducer('idem-mixed');
    // confluent-kafka (librdkafka): one record per produce, delivery reports give the offsets.
    const librdkafka = python(
      `
import json, sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1], 'enable.idempotence': True, 'acks': 'all', 'linger.ms': 0})
acks, errors = [], []
def report(err, msg):
    if err: errors.append(str(err))
    else: acks.append({'value': msg.value().decode(), 'offset': msg.offset()})
for i in range(150):
    p.produce(sys.argv[2], value=('rd-%d' % i).encode(), partition=0, on_delivery=report)
    p.poll(0)
    if i % 10 == 0: p.flush(10)
left = p.flush(20)
assert left == 0 and not errors, (left, errors)
print(json.dumps(acks))
`,
      [tb.bootstrap, topic],
    );
    try {
      const [fromKafkajs, fromPlatformatic, fromLibrdkafka] = await Promise.all([
        (async () => {
          const acks: Ack[] = [];
          for (let i = 0; i < 150; i++) {
            const value = `kjs-${i}`;
            const [meta] = await kjs.send({ topic, acks: -1, messages: [{ value, partition: 0 }] });
            expect(meta.errorCode).toBe(0);
            acks.push({ value, offset: Number(meta.baseOffset) });
          }
          return acks;
        })(),
        (async () => {
          const acks: Ack[] = [];
          for (let i = 0; i < 150; i++) acks.push(await sendOne(plt, topic, `plt-${i}`));
          return acks;
        })(),
        librdkafka.then((r) => JSON.parse(expectOk(r, 'confluent-kafka producer').stdout) as Ack[]),
      ]);
      await expectExactlyTheAcknowledged(topic, [...fromKafkajs, ...fromPlatformatic, ...fromLibrdkafka], 450);
    } finally {
      await Promise.all([kjs.disconnect(), plt.close()]);
    }
  });
});

describe('InitProducerId', () => {
  let c: RawClient;
  beforeAll(async () => {
    c = await RawClient.connect(tb.broker.port);
  });
  afterAll(() => c.close());

  const init = (version: number, producerId: bigint, producerEpoch: number, transactionalId: string | null = null) =>
    c.request(initProducerIdApi, version, { transactionalId, transactionTimeoutMs: 60_000, producerId, producerEpoch });

  it('hands a new producer id at epoch 0 to every idempotent producer, whatever id and epoch it sends (v3, v4)', async () => {
    const seen = new Set<bigint>();
    for (const version of [3, 4]) {
      for (const [id, epoch] of [[0n, 0], [0n, 0], [-1n, -1], [-1n, -1], [5n, 3], [7n, 32766]] as const) {
        const r = await init(version, id, epoch);
        expect(r.errorCode).toBe(ErrorCode.NONE);
        expect(r.producerEpoch).toBe(0);
        expect(seen.has(r.producerId), `producer id ${r.producerId} handed out twice`).toBe(false);
        seen.add(r.producerId);
      }
    }
    for (const version of [0, 1, 2]) {
      const r = await c.request(initProducerIdApi, version, { transactionalId: null, transactionTimeoutMs: 60_000 });
      expect(r).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 0 });
      expect(seen.has(r.producerId)).toBe(false);
      seen.add(r.producerId);
    }
  });

  it('refuses an id without an epoch, or an epoch without an id, with INVALID_REQUEST (v3+)', async () => {
    for (const [id, epoch] of [[-1n, 0], [-1n, 4], [3n, -1]] as const) {
      const r = await init(4, id, epoch);
      expect(r).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1 });
    }
  });

  it('refuses an idempotent batch whose producer id is above 2^52-1 (no broker hands one out) with INVALID_RECORD', async () => {
    await createTopic('idem-huge-id');
    // Our builder refuses such an id, so write it over the header (offset 43, int64) and re-sign
    // the batch (CRC-32C at offset 17 over [CRC_START, end)).
    const records = buildBatch({ records: [{ value: 'x' }], producerId: 1, producerEpoch: 0, baseSequence: 0 });
    records.writeBigInt64BE(2n ** 60n + 1n, 43);
    records.writeUInt32BE(crc32c(records.subarray(CRC_START)), 17);
    const res = await c.request(produceApi, 7, { acks: -1, timeoutMs: 5000, topicData: [{ name: 'idem-huge-id', partitionData: [{ index: 0, records }] }] });
    expect(res.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect((await readPartition('idem-huge-id')).size).toBe(0);
  });

  it('keeps one producer id per transactional id and bumps its epoch, unlike idempotent producers', async () => {
    const a = await init(4, -1n, -1, 'tx-1');
    expect(a).toMatchObject({ errorCode: ErrorCode.NONE });
    expect(await init(4, -1n, -1, 'tx-1')).toMatchObject({ errorCode: ErrorCode.NONE, producerId: a.producerId, producerEpoch: a.producerEpoch + 1 });
    expect(await init(4, -1n, -1, '')).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n });
  });
});

describe('producer ids are never handed out twice', () => {
  /** Allocates an id and writes one idempotent record with it, so the log holds that id. */
  async function produceWithNewId(port: number, topic: string): Promise<bigint> {
    const c = await RawClient.connect(port);
    try {
      const { producerId, producerEpoch } = await c.request(initProducerIdApi, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
      const records = buildBatch({ records: [{ value: `from-${producerId}` }], producerId: Number(producerId), producerEpoch, baseSequence: 0 });
      const res = await c.request(produceApi, 7, { acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
      expect(res.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.NONE);
      return producerId;
    } finally {
      c.close();
    }
  }

  it('across restarts, and after the id block file and every producer-state snapshot are deleted', async () => {
    const topic = 'idem-ids-restart';
    await createTopic(topic);
    const before = [await produceWithNewId(tb.broker.port, topic), await produceWithNewId(tb.broker.port, topic)];

    await tb.restart();
    const afterRestart = await produceWithNewId(tb.broker.port, topic);
    expect(afterRestart > before[1]).toBe(true);

    // The operator loses the block file and the snapshots: the ids in the log must still be avoided.
    await tb.broker.close();
    rmSync(join(tb.dataDir, 'producer-id-block'));
    for (const d of readdirSync(tb.dataDir, { withFileTypes: true })) if (d.isDirectory()) rmSync(join(tb.dataDir, d.name, 'producer-state.json'), { force: true });
    expect(existsSync(join(tb.dataDir, `${topic}-0`, 'producer-state.json'))).toBe(false);
    await tb.restart();
    const afterLoss = await produceWithNewId(tb.broker.port, topic);
    expect(afterLoss > afterRestart, `id ${afterLoss} after losing the block file must be above ${afterRestart}`).toBe(true);
    expect((await readPartition(topic)).size).toBe(4);
  });
});
