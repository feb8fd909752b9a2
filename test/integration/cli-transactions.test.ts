/**
 * `brook consume` over transactions written by a real transactional producer (kafkajs 2.2.4:
 * InitProducerId with a transactional id, AddPartitionsToTxn, EndTxn; the broker writes the
 * markers): read_committed by default prints committed records only and stops at an open
 * transaction (the last stable offset), `--isolation-level read_uncommitted` prints every data
 * record, and transaction markers are printed by neither. The CLI runs from the sources (tsx).
 */
import type { Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { command as consumeCommand } from '../../src/cli/consume.js';
import { brookFromSources, expectUsage, inProcess } from './cli-harness.js';
import { expectOk, GROUP_TEST_PROPERTIES, useBrokerWithKafkajs } from './harness.js';

const k = useBrokerWithKafkajs({ properties: { ...GROUP_TEST_PROPERTIES, 'ws.enabled': false, 'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500 } });

async function txnProducer(transactionalId: string): Promise<Producer> {
  const p = k.kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  return p;
}

/** One transaction of `values` (round robin over two partitions), committed or aborted. */
async function transaction(p: Producer, topic: string, values: string[], commit: boolean): Promise<void> {
  const txn = await p.transaction();
  await txn.send({ topic, acks: -1, messages: values.map((value, i) => ({ value, partition: i % 2 })) });
  if (commit) await txn.commit();
  else await txn.abort();
}

/** `brook consume` of the whole topic until 2 s pass without a record; its printed lines, sorted. */
async function consumeAll(topic: string, extra: string[] = []): Promise<string[]> {
  const r = await brookFromSources(['consume', '--bootstrap-server', k.tb.bootstrap, '--topic', topic, '--from-beginning', '--timeout-ms', '2000', ...extra], { timeoutMs: 60_000 });
  expectOk(r, `brook consume ${topic} ${extra.join(' ')}`);
  return r.stdout.split('\n').filter((l) => l !== '').sort();
}

describe('brook consume and transactions', () => {
  it('prints committed records only by default, every data record with read_uncommitted, and never a marker', async () => {
    const topic = 'cli-txn';
    await k.admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const p = await txnProducer('cli-txn-1');
    try {
      await transaction(p, topic, ['c1', 'c2', 'c3'], true);
      await transaction(p, topic, ['a1', 'a2'], false);
      await transaction(p, topic, ['c4'], true);
    } finally {
      await p.disconnect();
    }
    await k.producer.send({ topic, messages: [{ value: 'plain', partition: 1 }] });

    expect(await consumeAll(topic)).toEqual(['c1', 'c2', 'c3', 'c4', 'plain']);
    expect(await consumeAll(topic, ['--isolation-level', 'read_committed'])).toEqual(['c1', 'c2', 'c3', 'c4', 'plain']);
    // Six markers sit among these offsets (three transactions over two partitions, one of them a
    // single partition): a marker printed would show as a 6-byte binary value line.
    const all = ['a1', 'a2', 'c1', 'c2', 'c3', 'c4', 'plain'];
    expect(await consumeAll(topic, ['--isolation-level', 'read_uncommitted'])).toEqual(all);
    expect(await consumeAll(topic, ['--consumer-property', 'isolation.level=read_uncommitted'])).toEqual(all);
    // --json: the offsets show the markers' gaps, and every record is a data record.
    // Partition 0: c1@0 c3@1 COMMIT@2 a1@3 ABORT@4 c4@5 COMMIT@6.
    const r = await brookFromSources(['consume', '--bootstrap-server', k.tb.bootstrap, '--topic', topic, '--partition', '0', '--offset', 'earliest', '--json', '--timeout-ms', '2000'], { timeoutMs: 60_000 });
    expectOk(r, 'brook consume --json');
    const json = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { offset: number; value: string });
    expect(json.map((x) => [x.offset, x.value])).toEqual([
      [0, 'c1'],
      [1, 'c3'],
      [5, 'c4'],
    ]);
  }, 180_000);

  it('stops at an open transaction until it commits (the last stable offset)', async () => {
    const topic = 'cli-txn-open';
    await k.admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const p = await txnProducer('cli-txn-open');
    try {
      const txn = await p.transaction();
      await txn.send({ topic, acks: -1, messages: [{ value: 'open-0', partition: 0 }, { value: 'open-1', partition: 1 }] });
      // Written after the open transaction began: below the high watermark, above the LSO.
      await k.producer.send({ topic, messages: [{ value: 'after-0', partition: 0 }, { value: 'after-1', partition: 1 }] });
      expect(await consumeAll(topic)).toEqual([]);
      expect(await consumeAll(topic, ['--isolation-level', 'read_uncommitted'])).toEqual(['after-0', 'after-1', 'open-0', 'open-1']);
      await txn.commit();
      expect(await consumeAll(topic)).toEqual(['after-0', 'after-1', 'open-0', 'open-1']);
    } finally {
      await p.disconnect();
    }
  }, 180_000);

  it('refuses an unknown isolation level and one that contradicts isolation.level, and documents the flag', async () => {
    expectUsage(await inProcess(consumeCommand, ['--topic', 't', '--isolation-level', 'committed'], k.tb.bootstrap), 'consume', /--isolation-level must be read_committed or read_uncommitted, got "committed"/);
    expectUsage(
      await inProcess(consumeCommand, ['--topic', 't', '--isolation-level', 'read_committed', '--consumer-property', 'isolation.level=read_uncommitted'], k.tb.bootstrap),
      'consume',
      /contradicts isolation.level=read_uncommitted/,
    );
    const help = await inProcess(consumeCommand, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--isolation-level <read_committed\|read_uncommitted>\s+read_committed \(default\)/);
  });
});
