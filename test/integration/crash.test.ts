/**
 * The broker as its own process: SIGTERM shuts down cleanly (markers written, exit 0), and SIGKILL
 * loses no acknowledged record and no idempotent-producer state.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBatch } from '../../src/native/records.js';
import { initProducerIdApi } from '../../src/protocol/schemas/init-producer-id.js';
import { produceApi } from '../../src/protocol/schemas/produce.js';
import { kafkajs, spawnBroker, withAdmin, withProducer } from './harness.js';
import { RawClient } from './raw-client.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'brook-crash-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function produceAll(bootstrap: string, topic: string, count: number): Promise<void> {
  const kafka = kafkajs(bootstrap);
  await withAdmin(kafka, (admin) => admin.createTopics({ topics: [{ topic, numPartitions: 2 }] }));
  await withProducer(kafka, async (producer) => {
    for (let i = 0; i < count; i += 100) {
      await producer.send({ topic, acks: 1, messages: Array.from({ length: 100 }, (_, j) => ({ key: `k${i + j}`, value: `v${i + j}`, partition: (i + j) % 2 })) });
    }
  });
}

async function highWatermarks(bootstrap: string, topic: string): Promise<string[]> {
  const offsets = await withAdmin(kafkajs(bootstrap), (admin) => admin.fetchTopicOffsets(topic));
  return offsets.sort((a, b) => a.partition - b.partition).map((o) => o.high);
}

describe('broker process', () => {
  it('shuts down on SIGTERM with exit 0 and clean-shutdown markers', async () => {
    const dir = tempDir();
    const b = await spawnBroker(dir);
    await produceAll(b.bootstrap, 'term', 200);
    b.kill('SIGTERM');
    const { code } = await b.exited;
    expect(code).toBe(0);
    expect(existsSync(join(dir, 'term-0', '.clean-shutdown'))).toBe(true);
    const again = await spawnBroker(dir);
    expect(await highWatermarks(again.bootstrap, 'term')).toEqual(['100', '100']);
    again.kill('SIGTERM');
    await again.exited;
  });

  it('keeps every acknowledged record and producer sequence through SIGKILL', async () => {
    const dir = tempDir();
    const b = await spawnBroker(dir);
    await produceAll(b.bootstrap, 'killed', 1000);

    const c = await RawClient.connect(b.port);
    const pid = await c.request(initProducerIdApi, 1, { transactionalId: null, transactionTimeoutMs: 60000 });
    const idem = () =>
      buildBatch({ records: [{ value: 'once', timestamp: 1 }, { value: 'twice?', timestamp: 1 }], producerId: Number(pid.producerId), producerEpoch: pid.producerEpoch, baseSequence: 0 });
    const first = await c.request(produceApi, 7, { acks: 1, timeoutMs: 5000, topicData: [{ name: 'killed', partitionData: [{ index: 0, records: idem() }] }] });
    expect(first.responses[0].partitionResponses[0].errorCode).toBe(0);
    c.close();

    b.kill('SIGKILL');
    expect((await b.exited).signal).toBe('SIGKILL');
    expect(existsSync(join(dir, 'killed-0', '.clean-shutdown'))).toBe(false);

    const again = await spawnBroker(dir, b.port);
    expect(await highWatermarks(again.bootstrap, 'killed')).toEqual(['502', '500']);
    const c2 = await RawClient.connect(again.port);
    const retry = await c2.request(produceApi, 7, { acks: 1, timeoutMs: 5000, topicData: [{ name: 'killed', partitionData: [{ index: 0, records: idem() }] }] });
    expect(retry.responses[0].partitionResponses[0].errorCode).toBe(0);
    expect(retry.responses[0].partitionResponses[0].baseOffset).toBe(first.responses[0].partitionResponses[0].baseOffset);
    c2.close();
    expect(await highWatermarks(again.bootstrap, 'killed')).toEqual(['502', '500']);
    again.kill('SIGTERM');
    await again.exited;
  });

  it('refuses an unknown setting at start with a message naming the key', async () => {
    await expect(spawnBroker(tempDir(), undefined, ['--set', 'log.retention.hourz=5'])).rejects.toThrow(/unknown config log\.retention\.hourz/);
    await expect(spawnBroker(tempDir(), undefined, ['--set', 'num.partitions=zero'])).rejects.toThrow(/invalid value "zero" for num\.partitions/);
  });
});
