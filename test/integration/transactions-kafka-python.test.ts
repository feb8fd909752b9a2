/**
 * kafka-python 2.0.2 against transactional data. It has no transactional producer and reads
 * read_uncommitted only, and it hands control records to the application as ordinary records (key
 * `int16 version 0, int16 type`: 00 00 00 01 COMMIT, 00 00 00 00 ABORT; value `int16 0, int32
 * coordinator epoch`), as it does against Kafka (fixed in 2.1.0, kafka-python#2499). So this checks
 * that Brook's markers are where and what Kafka's are, seen through a real client.
 */
import { describe, expect, it } from 'vitest';
import { expectOk, hasKafkaPython, python, requireInstalled, useBrokerWithKafkajs } from './harness.js';

requireInstalled(hasKafkaPython, 'kafka-python (python3-kafka)');

const k = useBrokerWithKafkajs({ properties: { 'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500 } });

const READ_PARTITION = `
import json, sys
from kafka import KafkaConsumer, TopicPartition
bootstrap, topic, partition = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000, fetch_max_wait_ms=100)
tp = TopicPartition(topic, partition)
c.assign([tp])
c.seek_to_beginning(tp)
for m in c:
    print(json.dumps({"offset": m.offset, "key": m.key.hex() if m.key is not None else None, "value": m.value.hex() if m.value is not None else None}))
c.close()
`;

interface Seen {
  offset: number;
  key: string | null;
  value: string | null;
}

async function readPartition(topic: string, partition: number): Promise<Seen[]> {
  const r = expectOk(await python(READ_PARTITION, [k.tb.bootstrap, topic, String(partition)], 30_000), 'kafka-python consumer');
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Seen);
}

const hex = (s: string) => Buffer.from(s).toString('hex');

describe('kafka-python 2.0.2 over transactional data', () => {
  it('reads committed and aborted data plus the COMMIT and ABORT markers as records, at Kafka offsets', async () => {
    const topic = 'kpy-txn';
    await k.admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = k.kafka.producer({ transactionalId: 'kpy', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const commit = await producer.transaction();
      await commit.send({ topic, acks: -1, messages: [{ key: 'k', value: 'c0', partition: 0 }, { key: 'k', value: 'c1', partition: 0 }] });
      await commit.commit();
      const abort = await producer.transaction();
      await abort.send({ topic, acks: -1, messages: [{ key: 'k', value: 'a0', partition: 0 }] });
      await abort.abort();
    } finally {
      await producer.disconnect();
    }
    const seen = await readPartition(topic, 0);
    expect(seen.map((s) => ({ offset: s.offset, key: s.key, value: s.value }))).toEqual([
      { offset: 0, key: hex('k'), value: hex('c0') },
      { offset: 1, key: hex('k'), value: hex('c1') },
      // COMMIT marker: the value's last 4 bytes are the coordinator epoch, whatever the broker's is.
      { offset: 2, key: '00000001', value: expect.stringMatching(/^0000[0-9a-f]{8}$/) as unknown as string },
      { offset: 3, key: hex('k'), value: hex('a0') },
      { offset: 4, key: '00000000', value: expect.stringMatching(/^0000[0-9a-f]{8}$/) as unknown as string },
    ]);
    // Both markers carry the same coordinator epoch (one coordinator, no failover in between).
    expect(seen[2]!.value).toBe(seen[4]!.value);
    // Partition 1 took no part in the transactions: no markers there.
    expect(await readPartition(topic, 1)).toEqual([]);
  });
});
