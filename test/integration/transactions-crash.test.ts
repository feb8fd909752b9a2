/**
 * Transactions through kill -9 of the broker process: committed transactions stay readable
 * read_committed after a restart (producer state, markers and `__transaction_state` rebuilt from the
 * log), and a transaction left open by the crash is aborted by its timeout after the restart (its
 * Ongoing start time replayed) so read_committed readers are not held at its first offset forever.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { listOffsetsApi } from '../../src/protocol/schemas/list-offsets.js';
import { kafkajs, spawnBroker, until, withAdmin, type BrokerProcess } from './harness.js';
import { RawClient } from './raw-client.js';

const SETTINGS = ['--set', 'transaction.abort.timed.out.transaction.cleanup.interval.ms=500'];

const dirs: string[] = [];
const brokers: BrokerProcess[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'brook-txn-crash-'));
  dirs.push(d);
  return d;
}
async function start(dir: string, port?: number): Promise<BrokerProcess> {
  const b = await spawnBroker(dir, port, SETTINGS);
  brokers.push(b);
  return b;
}
afterAll(async () => {
  for (const b of brokers) b.kill('SIGKILL');
  await Promise.all(brokers.map((b) => b.exited));
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

async function killNine(b: BrokerProcess): Promise<void> {
  b.kill('SIGKILL');
  expect((await b.exited).signal).toBe('SIGKILL');
}

/** ListOffsets latest per partition (0, 1): the high watermark (read_uncommitted) or the LSO (read_committed). */
async function latest(b: BrokerProcess, topic: string, readCommitted: boolean): Promise<number[]> {
  const c = await RawClient.connect(b.port);
  try {
    const res = await c.request(listOffsetsApi, 2, { replicaId: -1, isolationLevel: readCommitted ? 1 : 0, topics: [{ name: topic, partitions: [0, 1].map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) }] });
    return res.topics[0].partitions.map((p) => {
      expect(p.errorCode).toBe(0);
      return Number(p.offset);
    });
  } finally {
    c.close();
  }
}

async function commitOne(kafka: Kafka, transactionalId: string, topic: string, values: string[], transactionTimeout?: number): Promise<void> {
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout });
  await producer.connect();
  try {
    const txn = await producer.transaction();
    await txn.send({ topic, acks: -1, messages: values.map((value, i) => ({ value, partition: i % 2 })) });
    await txn.commit();
  } finally {
    await producer.disconnect();
  }
}

/** Values read with a read_committed kafkajs consumer from the beginning, once `count` arrived and 1 s more passed. */
async function readCommitted(kafka: Kafka, groupId: string, topic: string, count: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const got: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
    await until(`${count} committed records of ${topic}`, () => got.length >= count, 20_000);
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await consumer.disconnect();
  }
  return got;
}

describe('transactions through kill -9', () => {
  it('keeps committed transactions readable read_committed, and the transactional id usable, after kill -9', async () => {
    const dir = tempDir();
    const b = await start(dir);
    const topic = 'txn-crash-committed';
    await withAdmin(kafkajs(b.bootstrap), (admin) => admin.createTopics({ topics: [{ topic, numPartitions: 2 }] }));
    await commitOne(kafkajs(b.bootstrap), 'crash-t1', topic, ['c0', 'c1', 'c2']);
    await killNine(b);

    const again = await start(dir, b.port);
    // Partition 0: c0 c2 COMMIT; partition 1: c1 COMMIT. No open transaction: LSO == HW.
    expect(await latest(again, topic, false)).toEqual([3, 2]);
    expect(await latest(again, topic, true)).toEqual([3, 2]);
    const kafka = kafkajs(again.bootstrap);
    // The same transactional id initializes again (its state replayed from __transaction_state) and commits.
    await commitOne(kafka, 'crash-t1', topic, ['d0']);
    expect((await readCommitted(kafka, 'txn-crash-reader', topic, 4)).sort()).toEqual(['c0', 'c1', 'c2', 'd0']);
    again.kill('SIGTERM');
    await again.exited;
  });

  it('aborts a transaction left open by kill -9 once its timeout passes after the restart; readers are not stuck', async () => {
    const dir = tempDir();
    const b = await start(dir);
    const topic = 'txn-crash-open';
    const kafka = kafkajs(b.bootstrap);
    await withAdmin(kafka, (admin) => admin.createTopics({ topics: [{ topic, numPartitions: 2 }] }));
    await commitOne(kafka, 'crash-before', topic, ['before0', 'before1']);
    const producer = kafka.producer({ transactionalId: 'crash-open', idempotent: true, maxInFlightRequests: 1, transactionTimeout: 4000 });
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic, acks: -1, messages: [0, 1].map((partition) => ({ value: `open${partition}`, partition })) });
    // Each partition: before@0 COMMIT@1 open@2. The open transaction holds the LSO at 2.
    expect(await latest(b, topic, false)).toEqual([3, 3]);
    expect(await latest(b, topic, true)).toEqual([2, 2]);
    await producer.disconnect(); // no EndTxn: kafkajs leaves the transaction open
    await killNine(b);

    const again = await start(dir, b.port);
    // Still open (LSO 2) or already aborted by the timeout (ABORT@3, LSO 4); never the open records as stable (3).
    for (const o of await latest(again, topic, true)) expect([2, 4]).toContain(o);
    await until('the open transaction aborted by its timeout', async () => (await latest(again, topic, true)).every((o) => o === 4), 15_000);
    expect(await latest(again, topic, false)).toEqual([4, 4]);
    const kafka2 = kafkajs(again.bootstrap);
    await commitOne(kafka2, 'crash-after', topic, ['after0', 'after1']);
    expect((await readCommitted(kafka2, 'txn-crash-open-reader', topic, 4)).sort()).toEqual(['after0', 'after1', 'before0', 'before1']);
    // And the id whose transaction was aborted starts a new one (fenced instance's state replayed, not stuck).
    await commitOne(kafka2, 'crash-open', topic, ['reopened0']);
    expect(await latest(again, topic, true)).toEqual([8, 6]);
    again.kill('SIGTERM');
    await again.exited;
  });
});
