/**
 * The partition side of transactions over raw frames against a real broker: what Produce refuses
 * (Kafka's codes), what read_committed Fetch and ListOffsets answer around open, aborted and
 * committed transactions (last stable offset, aborted_transactions sorted and bounded by the
 * returned data), the long poll woken by a marker, WriteTxnMarkers per partition, and broker-side
 * recompression keeping a batch transactional. Transactions are driven through the coordinator's
 * own APIs (InitProducerId with a transactional id, AddPartitionsToTxn, EndTxn).
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBatch, Codec, decodeBatches } from '../../src/native/records.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { addPartitionsToTxnApi } from '../../src/protocol/schemas/add-partitions-to-txn.js';
import { endTxnApi } from '../../src/protocol/schemas/end-txn.js';
import { fetchApi } from '../../src/protocol/schemas/fetch.js';
import { initProducerIdApi } from '../../src/protocol/schemas/init-producer-id.js';
import { listOffsetsApi } from '../../src/protocol/schemas/list-offsets.js';
import { produceApi } from '../../src/protocol/schemas/produce.js';
import { writeTxnMarkersApi } from '../../src/protocol/schemas/write-txn-markers.js';
import { startTestBroker, type TestBroker } from './harness.js';
import { RawClient } from './raw-client.js';

const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;

let tb: TestBroker;
let c: RawClient;

beforeAll(async () => {
  tb = await startTestBroker();
  const admin = new Kafka({ brokers: [tb.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        ...['not-added', 'control', 'mixed', 'rc', 'long-poll', 'latest', 'markers'].map((topic) => ({ topic, numPartitions: 1 })),
        { topic: 'gz', numPartitions: 1, configEntries: [{ name: 'compression.type', value: 'gzip' }] },
      ],
    });
  } finally {
    await admin.disconnect();
  }
  c = await RawClient.connect(tb.broker.port);
});
afterAll(async () => {
  c?.close();
  await tb?.close();
});

interface Txn {
  id: string;
  producerId: number;
  producerEpoch: number;
  /** The next base sequence this producer sends on the test's partition. */
  seq: number;
}

async function initTxn(id: string): Promise<Txn> {
  let r = await c.request(initProducerIdApi, 1, { transactionalId: id, transactionTimeoutMs: 60_000 });
  // Kafka's answer while it aborts the previous instance's open transaction: retry.
  for (let tries = 0; r.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS && tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    r = await c.request(initProducerIdApi, 1, { transactionalId: id, transactionTimeoutMs: 60_000 });
  }
  expect(r.errorCode).toBe(ErrorCode.NONE);
  return { id, producerId: Number(r.producerId), producerEpoch: r.producerEpoch, seq: 0 };
}

async function addPartition(t: Txn, topic: string): Promise<void> {
  const r = await c.request(addPartitionsToTxnApi, 1, { transactionalId: t.id, producerId: BigInt(t.producerId), producerEpoch: t.producerEpoch, topics: [{ name: topic, partitions: [0] }] });
  expect(r.results[0].resultsByPartition[0].partitionErrorCode).toBe(ErrorCode.NONE);
}

async function endTxn(t: Txn, committed: boolean, client = c): Promise<void> {
  const r = await client.request(endTxnApi, 1, { transactionalId: t.id, producerId: BigInt(t.producerId), producerEpoch: t.producerEpoch, committed });
  expect(r.errorCode).toBe(ErrorCode.NONE);
}

/** A batch of `n` records; `t` makes it the producer's next one, transactional unless told otherwise. */
function batch(n: number, t?: Txn, opts: { transactional?: boolean; control?: boolean; tag?: string } = {}): Buffer {
  const b = buildBatch({
    records: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `${opts.tag ?? 'v'}${i}` })),
    producerId: t?.producerId,
    producerEpoch: t?.producerEpoch,
    baseSequence: t ? t.seq : undefined,
    isTransactional: t !== undefined && opts.transactional !== false,
    isControl: opts.control,
  });
  return b;
}

async function produce(topic: string, records: Buffer, transactionalId: string | null, t?: Txn) {
  const res = await c.request(produceApi, 9, { transactionalId, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
  const p = res.responses[0].partitionResponses[0];
  if (t && p.errorCode === ErrorCode.NONE) t.seq += peekCount(records);
  return p;
}

function peekCount(records: Buffer): number {
  return decodeBatches(records).batches[0]!.recordsCount;
}

/** Sends `n` transactional records of `t` to `topic`; returns the base offset. */
async function send(t: Txn, topic: string, n: number, tag = 'v'): Promise<number> {
  const p = await produce(topic, batch(n, t, { tag }), t.id, t);
  expect(p.errorCode).toBe(ErrorCode.NONE);
  return Number(p.baseOffset);
}

async function fetch(topic: string, fetchOffset: number, isolationLevel: number, opts: { partitionMaxBytes?: number; minBytes?: number; maxWaitMs?: number; client?: RawClient; version?: number } = {}) {
  // v11 reads through file slices; below v10 the broker reads into a Buffer (another code path).
  const res = await (opts.client ?? c).request(fetchApi, opts.version ?? 11, {
    maxWaitMs: opts.maxWaitMs ?? 0,
    minBytes: opts.minBytes ?? 0,
    maxBytes: 10_000_000,
    isolationLevel,
    topics: [{ topic, partitions: [{ partition: 0, fetchOffset: BigInt(fetchOffset), partitionMaxBytes: opts.partitionMaxBytes ?? 10_000_000 }] }],
  });
  const p = res.responses[0].partitions[0];
  expect(p.errorCode).toBe(ErrorCode.NONE);
  const batches = decodeBatches(p.records as Buffer).batches;
  return {
    highWatermark: Number(p.highWatermark),
    lastStableOffset: Number(p.lastStableOffset),
    aborted: p.abortedTransactions === null ? null : p.abortedTransactions.map((a) => ({ producerId: Number(a.producerId), firstOffset: Number(a.firstOffset) })),
    batches,
    /** One past the last offset returned (fetchOffset when nothing was). */
    end: batches.length === 0 ? fetchOffset : batches[batches.length - 1]!.baseOffset + batches[batches.length - 1]!.lastOffsetDelta + 1,
    dataValues: batches.filter((b) => !b.isControl).flatMap((b) => b.records.map((r) => r.value!.toString())),
  };
}

async function latest(topic: string, isolationLevel: number): Promise<number> {
  const res = await c.request(listOffsetsApi, 7, { replicaId: -1, isolationLevel, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }] });
  const p = res.topics[0].partitions[0];
  expect(p.errorCode).toBe(ErrorCode.NONE);
  return Number(p.offset);
}

describe('produce', () => {
  it('refuses a transactional batch for a partition not in the transaction (48), with or without a transactional id', async () => {
    const t = await initTxn('not-added');
    expect((await produce('not-added', batch(1, t), t.id, t)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect((await produce('not-added', batch(1, t), null, t)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    // A damaged batch is CORRUPT_MESSAGE, not a verdict on header fields that may be wrong.
    const damaged = batch(1, t);
    damaged[damaged.length - 2] ^= 0xff;
    expect((await produce('not-added', damaged, t.id, t)).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    // Added to the transaction: accepted, and a later batch continues it.
    await addPartition(t, 'not-added');
    expect((await produce('not-added', batch(1, t), t.id, t)).errorCode).toBe(ErrorCode.NONE);
    expect((await produce('not-added', batch(1, t), t.id, t)).errorCode).toBe(ErrorCode.NONE);
    await endTxn(t, false);
    // The transaction is over: the partition is no longer in one.
    expect((await produce('not-added', batch(1, t), t.id, t)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect((await fetch('not-added', 0, READ_UNCOMMITTED)).highWatermark).toBe(3); // 2 records + the ABORT marker
  });

  it('refuses a control batch from a client (87)', async () => {
    const t = await initTxn('control');
    await addPartition(t, 'control');
    const marker = buildBatch({ records: [{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], producerId: t.producerId, producerEpoch: t.producerEpoch, isTransactional: true, isControl: true });
    expect((await produce('control', marker, t.id)).errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect((await produce('control', batch(1, t, { control: true }), t.id)).errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect((await produce('control', buildBatch({ records: [{ value: 'x' }], isControl: true }), null)).errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect((await fetch('control', 0, READ_UNCOMMITTED)).highWatermark).toBe(0);
    await endTxn(t, false);
  });

  it('refuses a non-transactional batch from a producer with an open transaction (48)', async () => {
    const t = await initTxn('mixed');
    await addPartition(t, 'mixed');
    await send(t, 'mixed', 1);
    expect((await produce('mixed', batch(1, t, { transactional: false }), null, t)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    await endTxn(t, true);
    // Once committed, the same producer may write idempotent batches again.
    expect((await produce('mixed', batch(1, t, { transactional: false }), null, t)).errorCode).toBe(ErrorCode.NONE);
  });

  it('fences a batch of an older epoch (47) before any transaction check', async () => {
    const old = await initTxn('fenced');
    await addPartition(old, 'mixed');
    await send(old, 'mixed', 1);
    // A new instance with the same transactional id: epoch bumped, the open transaction aborted.
    const next = await initTxn('fenced');
    expect(next.producerId).toBe(old.producerId);
    expect(next.producerEpoch).toBeGreaterThan(old.producerEpoch);
    expect((await produce('mixed', batch(1, old), old.id, old)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect((await produce('mixed', batch(1, old, { transactional: false }), null, old)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it('keeps producer id, epoch, sequence and the transactional bit when the topic recompresses', async () => {
    const t = await initTxn('gz');
    await addPartition(t, 'gz');
    await send(t, 'gz', 3, 'g');
    const open = await fetch('gz', 0, READ_UNCOMMITTED);
    expect(open.batches).toHaveLength(1);
    const b = open.batches[0]!;
    expect(b.codec).toBe(Codec.Gzip);
    expect(b.isTransactional).toBe(true);
    expect(b.isControl).toBe(false);
    expect([b.producerId, b.producerEpoch, b.baseSequence, b.recordsCount]).toEqual([t.producerId, t.producerEpoch, 0, 3]);
    // Still an open transaction on the partition: read_committed sees nothing yet.
    expect((await fetch('gz', 0, READ_COMMITTED)).dataValues).toEqual([]);
    await endTxn(t, true);
    expect((await fetch('gz', 0, READ_COMMITTED)).dataValues).toEqual(['g0', 'g1', 'g2']);
  });
});

describe('read_committed', () => {
  it('stops at the last stable offset, lists aborted transactions sorted and bounded by the data returned', async () => {
    // offsets 0-1: plain records
    expect((await produce('rc', batch(2, undefined, { tag: 'plain' }), null)).errorCode).toBe(ErrorCode.NONE);
    const a = await initTxn('rc-a');
    const b = await initTxn('rc-b');
    await addPartition(a, 'rc');
    await addPartition(b, 'rc');
    expect(await send(a, 'rc', 2, 'a')).toBe(2); // 2-3
    expect(await send(b, 'rc', 1, 'b')).toBe(4); // 4

    const open = await fetch('rc', 0, READ_COMMITTED);
    expect([open.highWatermark, open.lastStableOffset, open.end]).toEqual([5, 2, 2]);
    expect(open.dataValues).toEqual(['plain0', 'plain1']);
    expect(open.aborted).toEqual([]);
    const uncommitted = await fetch('rc', 0, READ_UNCOMMITTED);
    expect([uncommitted.highWatermark, uncommitted.lastStableOffset, uncommitted.end]).toEqual([5, 2, 5]);
    expect(uncommitted.aborted).toBeNull();
    // At the LSO there is nothing to read yet.
    const atLso = await fetch('rc', 2, READ_COMMITTED);
    expect(atLso.batches).toHaveLength(0);
    expect(atLso.lastStableOffset).toBe(2);

    await endTxn(b, false); // ABORT marker at 5: b's transaction ends first although it started later
    expect((await fetch('rc', 0, READ_COMMITTED)).lastStableOffset).toBe(2);
    expect(await send(a, 'rc', 1, 'a')).toBe(6); // 6
    await endTxn(a, false); // ABORT marker at 7

    const all = await fetch('rc', 0, READ_COMMITTED);
    expect([all.highWatermark, all.lastStableOffset, all.end]).toEqual([8, 8, 8]);
    expect(all.aborted).toEqual([
      { producerId: a.producerId, firstOffset: 2 },
      { producerId: b.producerId, firstOffset: 4 },
    ]);
    // One batch per answer: only the aborted transactions overlapping what is returned.
    for (const version of [11, 4]) {
      const one = (from: number) => fetch('rc', from, READ_COMMITTED, { partitionMaxBytes: 1, version });
      const first = await one(0);
      expect([first.end, first.aborted]).toEqual([2, []]);
      const second = await one(2);
      expect([second.end, second.aborted]).toEqual([4, [{ producerId: a.producerId, firstOffset: 2 }]]);
      // A read from inside a's transaction: b's record (4) comes first, so b is listed first
      // (kafkajs takes one entry per record read; in first-offset order b's record would get through).
      const third = await one(4);
      expect(third.end).toBe(5);
      expect(third.aborted).toEqual([
        { producerId: b.producerId, firstOffset: 4 },
        { producerId: a.producerId, firstOffset: 2 },
      ]);
    }
    // Past a's ABORT marker at 7 nothing aborted is left.
    const committed = await initTxn('rc-c');
    await addPartition(committed, 'rc');
    expect(await send(committed, 'rc', 2, 'c')).toBe(8); // 8-9
    await endTxn(committed, true); // COMMIT marker at 10
    const after = await fetch('rc', 8, READ_COMMITTED);
    expect([after.highWatermark, after.lastStableOffset, after.end]).toEqual([11, 11, 11]);
    expect(after.aborted).toEqual([]);
    expect(after.dataValues).toEqual(['c0', 'c1']);
  });

  it('answers a parked long poll when the commit marker moves the last stable offset', async () => {
    const t = await initTxn('long-poll');
    await addPartition(t, 'long-poll');
    await send(t, 'long-poll', 2, 'lp');
    const reader = await RawClient.connect(tb.broker.port);
    try {
      let answered = false;
      const started = Date.now();
      const poll = fetch('long-poll', 0, READ_COMMITTED, { minBytes: 1, maxWaitMs: 10_000, client: reader }).then((r) => {
        answered = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBe(false); // the records exist, but only above the LSO
      await endTxn(t, true);
      const r = await poll;
      expect(Date.now() - started).toBeLessThan(5000);
      expect(r.dataValues).toEqual(['lp0', 'lp1']);
      expect([r.highWatermark, r.lastStableOffset]).toEqual([3, 3]);
    } finally {
      reader.close();
    }
  });

  it('ListOffsets latest is the last stable offset for read_committed', async () => {
    expect((await produce('latest', batch(1), null)).errorCode).toBe(ErrorCode.NONE);
    const t = await initTxn('latest');
    await addPartition(t, 'latest');
    await send(t, 'latest', 2);
    expect(await latest('latest', READ_COMMITTED)).toBe(1);
    expect(await latest('latest', READ_UNCOMMITTED)).toBe(3);
    await endTxn(t, true);
    expect(await latest('latest', READ_COMMITTED)).toBe(4);
    expect(await latest('latest', READ_UNCOMMITTED)).toBe(4);
  });
});

describe('WriteTxnMarkers', () => {
  it('answers per partition: written where it exists, UNKNOWN_TOPIC_OR_PARTITION elsewhere', async () => {
    const res = await c.request(writeTxnMarkersApi, 1, {
      markers: [
        {
          producerId: 987_654n,
          producerEpoch: 0,
          transactionResult: false,
          coordinatorEpoch: 0,
          topics: [
            { name: 'markers', partitionIndexes: [0, 7] },
            { name: 'no-such-topic', partitionIndexes: [0] },
          ],
        },
      ],
    });
    expect(res.markers).toEqual([
      {
        producerId: 987_654n,
        topics: [
          {
            name: 'markers',
            partitions: [
              { partitionIndex: 0, errorCode: ErrorCode.NONE },
              { partitionIndex: 7, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
            ],
          },
          { name: 'no-such-topic', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
        ],
      },
    ]);
    // The marker is a control batch of one offset, invisible as data.
    const r = await fetch('markers', 0, READ_COMMITTED);
    expect([r.highWatermark, r.lastStableOffset]).toEqual([1, 1]);
    expect(r.batches.map((b) => [b.isControl, b.isTransactional, b.producerId])).toEqual([[true, true, 987_654]]);
    expect(r.dataValues).toEqual([]);
  });
});
