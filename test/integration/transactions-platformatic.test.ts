/**
 * Transactions through @platformatic/kafka 1.35 (FindCoordinator v4-6, InitProducerId v3-5 with
 * producer id 0 / epoch 0, AddPartitionsToTxn v3, AddOffsetsToTxn, TxnOffsetCommit v3-4 with the
 * KIP-447 member fields, EndTxn v3-4; its Consumer reads READ_COMMITTED by default).
 *
 * platformatic 1.35's read_committed filter (#filterUncommittedMessages, platformatic#391) throws on
 * an ABORT marker whose producer is not in `aborted_transactions` (a fetch that starts between an
 * aborted transaction's data and its marker), and keys aborted ranges by producer id, keeping one per
 * producer and response. So readers here start at offset 0 and each producer aborts at most once
 * per fetch window (transactions-security.md §1.7-3): what is left is Brook's part.
 */
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { GROUP_TEST_PROPERTIES, useBrokerWithKafkajs } from './harness.js';

const k = useBrokerWithKafkajs({ properties: { ...GROUP_TEST_PROPERTIES, 'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500 } });

function txnProducer(transactionalId: string): Producer<string, string, string, string> {
  return new Producer({ clientId: 'plt-txn', bootstrapBrokers: [k.tb.bootstrap], serializers: stringSerializers, idempotent: true, acks: -1, transactionalId });
}

/** Values read from offset 0 of every partition with the default (READ_COMMITTED) consumer, until `count` arrived and 1 s more passed. */
async function readCommitted(groupId: string, topic: string, count: number): Promise<string[]> {
  const consumer = new Consumer({ groupId, clientId: 'plt-txn-reader', bootstrapBrokers: [k.tb.bootstrap], deserializers: stringDeserializers, maxWaitTime: 200 });
  const seen: string[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const deadline = Date.now() + 20_000;
    let settledAt: number | undefined;
    const timer = setInterval(() => {
      if (Date.now() > deadline || (settledAt !== undefined && Date.now() > settledAt + 1000)) void stream.close();
    }, 100);
    try {
      for await (const m of stream) {
        seen.push(m.value);
        if (seen.length >= count && settledAt === undefined) settledAt = Date.now();
      }
    } finally {
      clearInterval(timer);
    }
  } finally {
    await consumer.close(true);
  }
  return seen;
}

describe('@platformatic/kafka 1.35 transactions', () => {
  it('commits and aborts; its default consumer reads the committed records only', async () => {
    const topic = 'plt-txn';
    await k.admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const p1 = txnProducer('p1');
    const p2 = txnProducer('p2');
    const msgs = (values: string[]) => values.map((value, i) => ({ topic, value, partition: i % 2 }));
    try {
      let tx = await p1.beginTransaction();
      await tx.send({ messages: msgs(['c0', 'c1']) });
      await tx.commit();
      tx = await p1.beginTransaction();
      await tx.send({ messages: msgs(['x0', 'x1']) });
      await tx.abort();
      const other = await p2.beginTransaction();
      await other.send({ messages: msgs(['y0', 'y1']) });
      tx = await p1.beginTransaction();
      await tx.send({ messages: msgs(['c2', 'c3']) });
      await other.abort();
      await tx.commit();
    } finally {
      await Promise.all([p1.close(), p2.close()]);
    }
    expect((await readCommitted('plt-txn-reader', topic, 4)).sort()).toEqual(['c0', 'c1', 'c2', 'c3']);
    // 4 data records and 3 markers (c, x, c... and p2's) per partition: c0 COMMIT x0 ABORT y0 c2 ABORT COMMIT.
    const ends = await k.admin.fetchTopicOffsets(topic);
    expect(ends.sort((a, b) => a.partition - b.partition).map((e) => e.high)).toEqual(['8', '8']);
  });

  it('consume-transform-produce: addConsumer + addOffset commit the group offset with the output, an abort commits neither', async () => {
    const input = 'plt-eos-in';
    const output = 'plt-eos-out';
    const groupId = 'plt-eos';
    await k.admin.createTopics({ topics: [input, output].map((topic) => ({ topic, numPartitions: 2 })) });
    await k.producer.send({ topic: input, acks: -1, messages: ['i0', 'i1', 'i2', 'i3'].map((value, i) => ({ value, partition: i % 2 })) });

    const producer = txnProducer('p-eos');
    const consumer = new Consumer({ groupId, clientId: 'plt-eos', bootstrapBrokers: [k.tb.bootstrap], deserializers: stringDeserializers, maxWaitTime: 200, sessionTimeout: 6000, heartbeatInterval: 500 });
    try {
      const stream = await consumer.consume({ topics: [input], mode: 'earliest', autocommit: false });
      let n = 0;
      for await (const m of stream) {
        const tx = await producer.beginTransaction();
        await tx.send({ messages: [{ topic: output, value: `${m.value}-out`, partition: m.partition }] });
        await tx.addConsumer(consumer);
        await tx.addOffset(m);
        // i0 (partition 0, offset 0) and i1 (partition 1, offset 0) commit; i2 and i3 (offset 1) abort.
        if (m.offset === 0n) await tx.commit();
        else await tx.abort();
        if (++n === 4) break;
      }
      await stream.close();
      const committed = await consumer.listCommittedOffsets({ topics: [{ topic: input, partitions: [0, 1] }] });
      expect(committed.get(input)).toEqual([1n, 1n]);
    } finally {
      await producer.close();
      await consumer.close(true);
    }
    expect((await readCommitted('plt-eos-reader', output, 2)).sort()).toEqual(['i0-out', 'i1-out']);
  });
});
