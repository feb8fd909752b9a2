/**
 * Retention through the broker: the retention check deletes closed segments past retention.ms
 * (by their largest timestamp) or beyond retention.bytes, moving the log start offset, while the
 * active segment stays and consumers see the new earliest offset.
 */
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configEntries, kafkajs, startTestBroker, until, withAdmin, withProducer, type TestBroker } from './harness.js';

let tb: TestBroker;
let kafka: Kafka;
beforeAll(async () => {
  tb = await startTestBroker({ properties: { 'log.retention.check.interval.ms': 100 } });
  kafka = kafkajs(tb.bootstrap);
});
afterAll(async () => tb.close());

async function fill(topic: string, configs: Record<string, string>, timestamp: (i: number) => number): Promise<void> {
  await withAdmin(kafka, (admin) => admin.createTopics({ topics: [{ topic, configEntries: configEntries(configs) }] }));
  await withProducer(kafka, async (producer) => {
    // 40 batches of ~1 KiB: with segment.bytes=4096 every few batches roll a segment.
    for (let i = 0; i < 40; i++) await producer.send({ topic, messages: [{ value: Buffer.alloc(1000, i), timestamp: String(timestamp(i)) }] });
  });
}

async function offsets(topic: string): Promise<{ low: number; high: number }> {
  const [o] = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
  return { low: Number(o.low), high: Number(o.high) };
}

describe('retention', () => {
  it('deletes segments whose records are older than retention.ms, keeping the active one', async () => {
    const hourAgo = Date.now() - 3_600_000;
    await fill('old-data', { 'segment.bytes': '4096', 'retention.ms': '60000' }, () => hourAgo);
    // A check may run mid-fill; wait for one after it, which leaves only the active segment.
    const log = tb.broker.broker.topics.get('old-data')!.partitions[0];
    await until('old segments deleted', async () => log.segmentCount === 1, 10_000);
    const { low, high } = await offsets('old-data');
    expect(high).toBe(40);
    expect(low).toBeGreaterThan(0);
    expect(low).toBeLessThan(40); // the active segment is never deleted
  });

  it('keeps recent segments under retention.ms', async () => {
    await fill('new-data', { 'segment.bytes': '4096', 'retention.ms': '60000' }, () => Date.now());
    await new Promise((r) => setTimeout(r, 500)); // several retention checks
    expect((await offsets('new-data')).low).toBe(0);
  });

  it('deletes the oldest segments beyond retention.bytes', async () => {
    await fill('sized', { 'segment.bytes': '4096', 'retention.bytes': '10000' }, () => Date.now());
    // A check may run mid-fill; wait for one after it (Kafka's rule: delete the oldest while what
    // remains without it is still at least retention.bytes, so at most one segment over the limit).
    const log = tb.broker.broker.topics.get('sized')!.partitions[0];
    await until('size retention applied', async () => log.size <= 10_000 + 4096, 10_000);
    const { low, high } = await offsets('sized');
    expect(low).toBeGreaterThan(0);
    expect(high).toBe(40);
  });
});
