/**
 * A three-broker cluster on a real etcd: topics created through any broker, leaders and followers,
 * acks=all through the ISR, and a leader killed with kill -9 while kcat-free clients (kafkajs)
 * keep producing: every acknowledged record is read back, in order, from the new leader.
 */
import { describe, expect, it } from 'vitest';
import { until } from '../integration/harness.js';
import type { TestCluster } from './cluster-harness.js';
import { kafkajsOf, logBrokersOnFailure, useCluster } from './cluster-fixture.js';

let c: TestCluster;
useCluster({ brokers: 3 }, (started) => (c = started));

const kafka = () => kafkajsOf(c, 'replication-test');

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
        expect(p.leader).toBe(p.replicas[0]);
        expect([...p.replicas].sort()).toEqual([1, 2, 3]);
        expect([...p.isr].sort()).toEqual([1, 2, 3]);
      }
      await expect(admin.createTopics({ topics: [{ topic: 'rf4', numPartitions: 1, replicationFactor: 4 }] })).rejects.toMatchObject({
        errors: [expect.objectContaining({ type: 'INVALID_REPLICATION_FACTOR' })],
      });
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

  it('kill -9 of a leader under acks=all load loses no acknowledged record, and the new leader has them in order', async () => {
    const admin = kafka().admin();
    await admin.connect();
    logBrokersOnFailure(c);
    await admin.createTopics({ topics: [{ topic: 'failover', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
    await admin.disconnect();
    const oldLeader = (await c.partition('failover', 0)).leader;
    const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acked: string[] = [];
    let n = 0;
    let stop = false;
    const sending = (async () => {
      while (!stop) {
        const value = `r${n++}`;
        try {
          await producer.send({ topic: 'failover', acks: -1, messages: [{ value }] });
          acked.push(value);
        } catch {
          // not acknowledged: may or may not be stored (indeterminate), never counted as lost
        }
      }
    })();
    await until('some records acknowledged', () => acked.length >= 50);
    const killedAt = Date.now();
    await c.kill(oldLeader, 'SIGKILL');
    const newLeader = await c.awaitLeader('failover', 0, { not: oldLeader });
    const before = acked.length;
    await until('records acknowledged by the new leader', () => acked.length >= before + 50, 30_000);
    const failoverMs = Date.now() - killedAt;
    stop = true;
    await sending;
    await producer.disconnect();
    expect(newLeader).not.toBe(oldLeader);
    expect(failoverMs).toBeLessThan(30_000);

    // Every acknowledged value is in the log, once (idempotent), in the order acknowledged.
    const consumer = kafka().consumer({ groupId: `failover-check` });
    await consumer.connect();
    await consumer.subscribe({ topic: 'failover', fromBeginning: true });
    const seen: string[] = [];
    const last = acked[acked.length - 1]!;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${seen.length}, acknowledged ${acked.length}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value!.toString());
          if (message.value!.toString() === last) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    const ackedSet = new Set(acked);
    const inLog = seen.filter((v) => ackedSet.has(v));
    expect(inLog).toEqual(acked);
    expect(new Set(seen).size).toBe(seen.length);
    await c.restart(oldLeader);
    await c.awaitBrokers(3);
  }, 120_000);

  it('SIGTERM on a leader hands leadership over before the broker leaves (controlled shutdown): no acknowledged record lost, the gap shorter than a session timeout', async () => {
    logBrokersOnFailure(c);
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'controlled', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
    await admin.disconnect();
    const leader = (await c.partition('controlled', 0)).leader;
    const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acked: { value: string; at: number }[] = [];
    let stop = false;
    let n = 0;
    const sending = (async () => {
      while (!stop) {
        const value = `c${n++}`;
        try {
          await producer.send({ topic: 'controlled', acks: -1, messages: [{ value }] });
          acked.push({ value, at: Date.now() });
        } catch {
          // indeterminate
        }
      }
    })();
    await until('records acknowledged', () => acked.length >= 30);
    const termAt = Date.now();
    await c.kill(leader, 'SIGTERM');
    const exitedAt = Date.now();
    await until('records acknowledged after the shutdown', () => acked.length > 0 && acked[acked.length - 1]!.at > exitedAt + 200, 30_000);
    stop = true;
    await sending;
    await producer.disconnect();
    // The longest pause between two acknowledgements around the shutdown. Without the hand-over
    // the partition would wait for the session timeout (3 s here) before a new leader is elected.
    const around = acked.filter((a) => a.at >= termAt - 1000);
    let gap = 0;
    for (let i = 1; i < around.length; i++) gap = Math.max(gap, around[i]!.at - around[i - 1]!.at);
    expect(gap).toBeLessThan(2500);
    expect(c.stderr(leader)).toContain('controlled shutdown: leadership handed over');
    const now = await c.partition('controlled', 0);
    expect(now.leader).not.toBe(leader);
    await c.restart(leader);
    await c.awaitBrokers(3);
  }, 120_000);
});
