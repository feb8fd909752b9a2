/**
 * Transactions through kafkajs 2.2.4 (InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn,
 * TxnOffsetCommit, EndTxn all v0-1; Fetch v11 read_committed by default).
 *
 * kafkajs logs CONCURRENT_TRANSACTIONS (51) and retries when a send follows EndTxn before the markers
 * are written (kafkajs#1315), and does not retry addOffsetsToTxn (kafkajs#430): Brook writes the
 * markers before it answers EndTxn, so no 51 may be logged at all. kafkajs's read_committed filter
 * looks only at the head of `aborted_transactions`, so it must come sorted by first offset; two
 * aborting producers whose aborts land in the opposite order of their starts test that.
 */
import { Kafka, logLevel, type Consumer, type LogEntry, type Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { GROUP_TEST_PROPERTIES, until, useBrokerWithKafkajs } from './harness.js';

const k = useBrokerWithKafkajs({ properties: { ...GROUP_TEST_PROPERTIES, 'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500 } });

/** Every kafkajs log line at INFO and above, as `LEVEL namespace message {extra}`. */
const logs: string[] = [];
function client(): Kafka {
  return new Kafka({
    brokers: [k.tb.bootstrap],
    logLevel: logLevel.INFO,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, timestamp: _t, logger: _l, ...extra } = log as Record<string, unknown>;
        logs.push(`${logLevel[level]} ${namespace} ${String(message)} ${JSON.stringify(extra)}`);
      },
  });
}

const concurrentTransactionLogs = () => logs.filter((l) => /CONCURRENT_TRANSACTIONS|concurrent operation/i.test(l));

async function txnProducer(kafka: Kafka, transactionalId: string): Promise<Producer> {
  const p = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  return p;
}

async function readAll(kafka: Kafka, groupId: string, topic: string, expected: number, readUncommitted = false): Promise<{ partition: number; offset: string; value: string }[]> {
  const consumer: Consumer = kafka.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 100, sessionTimeout: 6000, heartbeatInterval: 500 });
  const got: { partition: number; offset: string; value: string }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push({ partition, offset: message.offset, value: message.value!.toString() });
      },
    });
    await until(`${expected} records of ${topic}`, () => got.length >= expected, 20_000);
    // Anything past the expected count (an aborted record let through) shows up in this window.
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await consumer.disconnect();
  }
  return got;
}

describe('kafkajs 2.2.4 transactions', () => {
  it('runs three transaction -> send -> sendOffsets -> commit rounds and an aborted one, with no CONCURRENT_TRANSACTIONS logged', async () => {
    const topic = 'kjs-txn-rounds';
    const groupId = 'kjs-txn-offsets';
    await k.admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const kafka = client();
    const producer = await txnProducer(kafka, 'kjs');
    try {
      for (let round = 0; round < 3; round++) {
        const txn = await producer.transaction();
        await txn.send({ topic, acks: -1, messages: [0, 1, 2, 3].map((i) => ({ value: `r${round}-${i}`, partition: i % 2 })) });
        await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [0, 1].map((partition) => ({ partition, offset: String(10 * (round + 1) + partition) })) }] });
        await txn.commit();
      }
      const aborted = await producer.transaction();
      await aborted.send({ topic, acks: -1, messages: [{ value: 'aborted', partition: 0 }] });
      await aborted.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: '99' }] }] });
      await aborted.abort();
      // And one more commit right after the abort (kafkajs#1315 was a send right after EndTxn).
      const last = await producer.transaction();
      await last.send({ topic, acks: -1, messages: [{ value: 'last', partition: 1 }] });
      await last.commit();
    } finally {
      await producer.disconnect();
    }
    expect(concurrentTransactionLogs()).toEqual([]);

    const [offsets] = await k.admin.fetchOffsets({ groupId, topics: [topic] });
    expect(offsets!.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset)).toEqual(['30', '31']);

    const got = await readAll(kafka, 'kjs-txn-rounds-reader', topic, 13);
    expect(got.map((m) => m.value).sort()).toEqual([...[0, 1, 2].flatMap((r) => [0, 1, 2, 3].map((i) => `r${r}-${i}`)), 'last'].sort());
    // Partition 0 per round: 2 records + COMMIT; then aborted@9 + ABORT@10. Partition 1: 2 + COMMIT a round, then last@9 + COMMIT@10.
    const ends = await k.admin.fetchTopicOffsets(topic);
    expect(ends.sort((a, b) => a.partition - b.partition).map((e) => e.high)).toEqual(['11', '11']);
  });

  it('a read_committed consumer reads only the committed transaction of interleaved ones on one partition', async () => {
    const topic = 'kjs-txn-interleaved';
    await k.admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const kafka = client();
    const [a, b, c] = await Promise.all(['kjs-a', 'kjs-b', 'kjs-c'].map((id) => txnProducer(kafka, id)));
    const committed: string[] = [];
    try {
      for (let round = 0; round < 3; round++) {
        // A starts first and aborts last; C starts after B and aborts first: the ABORT markers land in
        // the opposite order of the aborted transactions' first offsets.
        const ta = await a!.transaction();
        const tb = await b!.transaction();
        const tc = await c!.transaction();
        const send = async (t: typeof ta, value: string) => t.send({ topic, acks: -1, messages: [{ value, partition: 0 }] });
        await send(ta, `a${round}-0`);
        await send(tb, `b${round}-0`);
        await send(tc, `c${round}-0`);
        await send(ta, `a${round}-1`);
        await send(tb, `b${round}-1`);
        await send(tc, `c${round}-1`);
        await tc.abort();
        await tb.commit();
        await ta.abort();
        committed.push(`b${round}-0`, `b${round}-1`);
      }
    } finally {
      await Promise.all([a, b, c].map((p) => p!.disconnect()));
    }
    expect(concurrentTransactionLogs()).toEqual([]);

    const got = await readAll(kafka, 'kjs-interleaved-committed', topic, committed.length);
    expect(got.map((m) => m.value)).toEqual(committed); // one partition: in log order
    const uncommitted = await readAll(kafka, 'kjs-interleaved-uncommitted', topic, 18, true);
    expect(uncommitted.map((m) => m.value)).toHaveLength(18);
    // 6 data records and 3 markers a round, all on partition 0.
    const ends = await k.admin.fetchTopicOffsets(topic);
    expect(ends.find((e) => e.partition === 0)!.high).toBe('27');
  });
});
