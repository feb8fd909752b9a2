/**
 * Transactions across a 3-broker cluster, with a real transactional client (confluent-kafka, i.e.
 * librdkafka 2.0.2): the transaction coordinator is the leader of the id's `__transaction_state`
 * partition, and the markers of one transaction go to partitions led by three different brokers
 * (WriteTxnMarkers to the two it does not lead). Then the coordinator is killed with kill -9 while a
 * transaction is open: the new leader of its `__transaction_state` partition replays it, the next
 * producer with the same transactional id fences and aborts it, and read_committed readers are not
 * held at its first offset. The same with the coordinator paused (SIGSTOP) past its session
 * instead, then resumed: the zombie changes nothing.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { partitionFor } from '../../src/coordinator/records.js';
import { expectOk, hasConfluentKafka, python, requireInstalled, SYSTEM_PYTHON, until } from '../integration/harness.js';
import type { TestCluster } from './cluster-harness.js';
import { kafkajsOf, logBrokersOnFailure, useCluster } from './cluster-fixture.js';

requireInstalled(hasConfluentKafka, 'confluent-kafka (python3-confluent-kafka)');

const TOPIC = 'cluster-txn';
const PARTITIONS = 3;

let c: TestCluster;
useCluster({ brokers: 3, properties: { 'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500, 'transaction.state.log.num.partitions': 5 } }, (started) => (c = started));

/**
 * A transactional producer: for each "commit N" / "abort N" step, N records to every partition in
 * one transaction; "hold N" sends N per partition, flushes and then waits for stdin to close.
 */
const PRODUCER = `
import sys
from confluent_kafka import Producer
bootstrap, topic, txid, parts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
p = Producer({'bootstrap.servers': bootstrap, 'transactional.id': txid, 'transaction.timeout.ms': 60000, 'message.timeout.ms': 30000})
p.init_transactions(30)
for step in sys.argv[5:]:
    kind, n = step.split(':')
    p.begin_transaction()
    for part in range(parts):
        for i in range(int(n)):
            p.produce(topic, value=('%s-%s-%d-%d' % (txid, kind, part, i)).encode(), partition=part)
    p.flush(30)
    if kind == 'commit':
        p.commit_transaction(30)
    elif kind == 'abort':
        p.abort_transaction(30)
    else:
        print('open', flush=True)
        sys.stdin.read()
    print('done', step, flush=True)
`;

/** Every value readable at the isolation level, until end of partition on each. */
const CONSUMER = `
import sys
from confluent_kafka import Consumer, KafkaError
bootstrap, topic, parts, isolation = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'reader-' + isolation, 'isolation.level': isolation,
              'auto.offset.reset': 'earliest', 'enable.partition.eof': True, 'enable.auto.commit': False})
from confluent_kafka import TopicPartition
c.assign([TopicPartition(topic, p, 0) for p in range(parts)])
eof = set()
while len(eof) < parts:
    m = c.poll(20)
    if m is None:
        print('stuck', sorted(eof), flush=True)
        sys.exit(3)
    if m.error():
        if m.error().code() == KafkaError._PARTITION_EOF:
            eof.add(m.partition())
            continue
        raise Exception(m.error())
    print('rec', m.partition(), m.offset(), m.value().decode(), flush=True)
c.close()
`;

async function read(isolation: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
  const r = expectOk(await python(CONSUMER, [c.bootstrap, TOPIC, String(PARTITIONS), isolation], 90_000), `consumer (${isolation})`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('rec '))
    .map((l) => l.split(' ')[3]!)
    .sort();
}

const values = (txid: string, kind: string, n: number) => Array.from({ length: PARTITIONS }, (_, p) => Array.from({ length: n }, (_, i) => `${txid}-${kind}-${p}-${i}`)).flat();

describe('transactions in a cluster', () => {
  it('commits and aborts one transaction over partitions led by three brokers', async () => {
    logBrokersOnFailure(c);
    const admin = kafkajsOf(c).admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    const leaders = new Set<number>();
    for (let p = 0; p < PARTITIONS; p++) leaders.add(await c.awaitLeader(TOPIC, p));
    expect(leaders.size).toBe(3); // round-robin placement: each broker leads one partition

    expectOk(await python(PRODUCER, [c.bootstrap, TOPIC, 'tx-a', String(PARTITIONS), 'commit:3', 'abort:2'], 90_000), 'transactional producer');
    expect(await read('read_committed')).toEqual(values('tx-a', 'commit', 3).sort());
    // read_uncommitted: the aborted records too, and never a marker.
    expect(await read('read_uncommitted')).toEqual([...values('tx-a', 'commit', 3), ...values('tx-a', 'abort', 2)].sort());
  }, 180_000);

  it('survives a kill -9 of the coordinator during an open transaction: the next instance fences it and readers move on', async () => {
    logBrokersOnFailure(c);
    const txid = 'tx-b';
    const statePartition = partitionFor(txid, 5);
    const coordinator = await c.awaitLeader('__transaction_state', statePartition).catch(async () => {
      // The topic is created on the first FindCoordinator: a committed transaction makes it.
      expectOk(await python(PRODUCER, [c.bootstrap, TOPIC, txid, String(PARTITIONS), 'commit:1'], 90_000), 'first producer');
      return c.awaitLeader('__transaction_state', statePartition);
    });

    const held = spawn(SYSTEM_PYTHON, ['-c', PRODUCER, c.bootstrap, TOPIC, txid, String(PARTITIONS), 'hold:4'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    held.stdout.on('data', (d: Buffer) => (out += d.toString()));
    held.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await until('the open transaction to be flushed', () => out.includes('open'), 60_000);
      await c.kill(coordinator, 'SIGKILL');
    } finally {
      held.kill('SIGKILL');
    }
    const next = await c.awaitLeader('__transaction_state', statePartition, { not: coordinator, timeoutMs: 30_000 });
    expect(next).not.toBe(coordinator);

    // A new instance with the same id: its InitProducerId fences and aborts the open transaction.
    expectOk(await python(PRODUCER, [c.bootstrap, TOPIC, txid, String(PARTITIONS), 'commit:2'], 120_000), 'producer after the kill');
    const committed = await read('read_committed');
    expect(committed.filter((v) => v.startsWith(`${txid}-hold`))).toEqual([]);
    expect(committed).toEqual(expect.arrayContaining(values(txid, 'commit', 2)));

    await c.restart(coordinator);
    await c.awaitBrokers(3, 30_000);
  }, 240_000);
  it('survives SIGSTOP of the coordinator past its session: the next instance fences the open transaction, and the resumed zombie changes nothing', async () => {
    logBrokersOnFailure(c);
    const txid = 'tx-c';
    const statePartition = partitionFor(txid, 5);
    // A first committed transaction makes the id (and `__transaction_state`, if this runs alone).
    expectOk(await python(PRODUCER, [c.bootstrap, TOPIC, txid, String(PARTITIONS), 'commit:1'], 90_000), 'first producer');
    const coordinator = await c.awaitLeader('__transaction_state', statePartition);
    const held = spawn(SYSTEM_PYTHON, ['-c', PRODUCER, c.bootstrap, TOPIC, txid, String(PARTITIONS), 'hold:3'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    held.stdout.on('data', (d: Buffer) => (out += d.toString()));
    held.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let paused = false;
    try {
      await until('the open transaction to be flushed', () => out.includes('open'), 60_000);
      await c.kill(coordinator, 'SIGSTOP');
      paused = true;
      // Asked of a broker that is not paused (the harness's metadata client would wait on it).
      const other = [...c.nodes.keys()].find((id) => id !== coordinator)!;
      const admin = kafkajsOf(c, 'txn-sigstop', other).admin();
      await admin.connect();
      try {
        await until(
          'a new leader of the paused coordinator\'s __transaction_state partition',
          async () => {
            const md = await admin.fetchTopicMetadata({ topics: ['__transaction_state'] }).catch(() => undefined);
            const leader = md?.topics[0]?.partitions.find((x) => x.partitionId === statePartition)?.leader;
            return leader !== undefined && leader >= 0 && leader !== coordinator;
          },
          30_000,
        );
      } finally {
        await admin.disconnect();
      }
      // The next instance: fences and aborts the open transaction, then commits its own.
      expectOk(await python(PRODUCER, [c.bootstrap, TOPIC, txid, String(PARTITIONS), 'commit:2'], 120_000), 'producer while the coordinator is paused');
    } finally {
      held.kill('SIGKILL');
      if (paused) await c.kill(coordinator, 'SIGCONT');
    }
    // The resumed broker finds it no longer coordinates the id; whatever it still had in flight
    // must not surface the fenced transaction's records.
    await new Promise((r) => setTimeout(r, 3000));
    const committed = await read('read_committed');
    expect(committed.filter((v) => v.startsWith(`${txid}-hold`))).toEqual([]);
    expect(committed).toEqual(expect.arrayContaining(values(txid, 'commit', 2)));
    await c.awaitBrokers(3, 30_000);
  }, 240_000);
});
