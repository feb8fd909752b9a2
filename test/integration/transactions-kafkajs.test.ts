/**
 * Transactions through kafkajs 2.2.4 (InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn,
 * TxnOffsetCommit, EndTxn all v0-1; Fetch v11 read_committed by default).
 *
 * kafkajs logs CONCURRENT_TRANSACTIONS (51) and retries when a send follows EndTxn before the markers
 * are written (kafkajs#1315), and does not retry addOffsetsToTxn (kafkajs#430): Brook writes the
 * markers before it answers EndTxn, so no 51 may be logged at all. kafkajs's read_committed filter
 * looks only at the head of `aborted_transactions`, so it must come sorted by first offset; two
 * aborting producers whose aborts land in the opposite order of their starts test that, with a
 * refetch from inside both of them (see that test).
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

  /**
   * Rounds of interleaved transactions on partition 0: each producer sends two records, alternating,
   * then they end in `ends` order. Returns the committed values in log order.
   */
  async function interleave(topic: string, ids: string[], ends: { id: string; commit: boolean }[], rounds: number): Promise<string[]> {
    await k.admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const kafka = client();
    const producers = new Map(await Promise.all(ids.map(async (id) => [id, await txnProducer(kafka, id)] as const)));
    const committed: string[] = [];
    try {
      for (let round = 0; round < rounds; round++) {
        const txns = new Map<string, Awaited<ReturnType<Producer['transaction']>>>();
        for (const id of ids) txns.set(id, await producers.get(id)!.transaction());
        for (const i of [0, 1]) {
          for (const id of ids) await txns.get(id)!.send({ topic, acks: -1, messages: [{ value: `${id}${round}-${i}`, partition: 0 }] });
        }
        for (const { id, commit } of ends) {
          if (commit) {
            await txns.get(id)!.commit();
            committed.push(`${id}${round}-0`, `${id}${round}-1`);
          } else {
            await txns.get(id)!.abort();
          }
        }
      }
    } finally {
      await Promise.all([...producers.values()].map((p) => p.disconnect()));
    }
    expect(concurrentTransactionLogs()).toEqual([]);
    return committed;
  }

  it('a read_committed consumer reads only the committed transactions of A-aborts / B-commits interleaved on one partition', async () => {
    const topic = 'kjs-txn-interleaved';
    // Per round: a0 b0 a1 b1 ABORT(a) COMMIT(b).
    const committed = await interleave(topic, ['a', 'b'], [{ id: 'a', commit: false }, { id: 'b', commit: true }], 3);
    const kafka = client();
    const got = await readAll(kafka, 'kjs-interleaved-committed', topic, committed.length);
    expect(got.map((m) => m.value)).toEqual(committed); // one partition: in log order
    const uncommitted = await readAll(kafka, 'kjs-interleaved-uncommitted', topic, 12, true);
    expect(uncommitted).toHaveLength(12);
    const ends = await k.admin.fetchTopicOffsets(topic);
    expect(ends.find((e) => e.partition === 0)!.high).toBe('18');
  });

  it('a read_committed consumer reads only the committed transaction when two aborted ones overlap it and end in the opposite order of their starts', async () => {
    const topic = 'kjs-txn-overlapping-aborts';
    // Per round: a0 b0 c0 a1 b1 c1 ABORT(c) COMMIT(b) ABORT(a). Sorted by first offset the aborted
    // list is (a, c); in marker order (Kafka's) it is (c, a). kafkajs's filter activates at most one
    // aborted transaction per message, from the head of the list, and with eachMessage it fetches
    // again from the offset after the last record it delivered (here c1, inside both aborts).
    const committed = await interleave(topic, ['a', 'b', 'c'], [{ id: 'c', commit: false }, { id: 'b', commit: true }, { id: 'a', commit: false }], 3);
    const kafka = client();
    const got = await readAll(kafka, 'kjs-overlapping-committed', topic, committed.length);
    expect(got.map((m) => m.value)).toEqual(committed);
    const uncommitted = await readAll(kafka, 'kjs-overlapping-uncommitted', topic, 18, true);
    expect(uncommitted).toHaveLength(18);
    const ends = await k.admin.fetchTopicOffsets(topic);
    expect(ends.find((e) => e.partition === 0)!.high).toBe('27');
  });
});
