/**
 * The transaction coordinator over raw frames (our codec): Kafka's error code for each bad input,
 * fencing by a second InitProducerId, a commit answered after its markers with retries answered
 * NONE, the broker aborting a transaction past its timeout, and the state surviving a restart.
 * What the markers contain and how partitions read them is tested with the partition side.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { addOffsetsToTxnApi } from '../../src/protocol/schemas/add-offsets-to-txn.js';
import { addPartitionsToTxnApi } from '../../src/protocol/schemas/add-partitions-to-txn.js';
import { apiVersionsApi } from '../../src/protocol/schemas/api-versions.js';
import { createTopicsApi } from '../../src/protocol/schemas/create-topics.js';
import { describeTransactionsApi } from '../../src/protocol/schemas/describe-transactions.js';
import { endTxnApi } from '../../src/protocol/schemas/end-txn.js';
import { findCoordinatorApi } from '../../src/protocol/schemas/find-coordinator.js';
import { initProducerIdApi } from '../../src/protocol/schemas/init-producer-id.js';
import { listOffsetsApi } from '../../src/protocol/schemas/list-offsets.js';
import { listTransactionsApi } from '../../src/protocol/schemas/list-transactions.js';
import { startTestBroker, type TestBroker } from './harness.js';
import { RawClient } from './raw-client.js';

let tb: TestBroker;
let c: RawClient;

beforeAll(async () => {
  tb = await startTestBroker({
    properties: {
      'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500,
      'transaction.state.log.num.partitions': 3,
      'offsets.topic.num.partitions': 3,
    },
  });
  c = await RawClient.connect(tb.broker.port);
  const r = await c.request(createTopicsApi, 4, {
    topics: [{ name: 'tx', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  expect(r.topics[0]!.errorCode).toBe(0);
});

afterAll(async () => {
  c?.close();
  await tb?.close();
});

async function init(transactionalId: string | null, timeoutMs = 60_000, version = 1, producerId = -1n, producerEpoch = -1) {
  return c.request(initProducerIdApi, version, { transactionalId, transactionTimeoutMs: timeoutMs, producerId, producerEpoch });
}

async function add(transactionalId: string, producerId: bigint, producerEpoch: number, topics: { name: string; partitions: number[] }[], version = 3) {
  const r = await c.request(addPartitionsToTxnApi, version, { transactionalId, producerId, producerEpoch, topics });
  return Object.fromEntries(r.results.flatMap((t) => t.resultsByPartition.map((p) => [`${t.name}-${p.partitionIndex}`, p.partitionErrorCode])));
}

async function end(transactionalId: string, producerId: bigint, producerEpoch: number, committed: boolean, version = 3) {
  return (await c.request(endTxnApi, version, { transactionalId, producerId, producerEpoch, committed })).errorCode;
}

/** Log end offsets of the partitions (ListOffsets latest, read_uncommitted): a marker takes one offset. */
async function endOffsets(topic: string, partitions: number[]): Promise<number[]> {
  const r = await c.request(listOffsetsApi, 2, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) }] });
  return r.topics[0]!.partitions.map((p) => Number(p.offset));
}

async function describeTxn(transactionalId: string) {
  return (await c.request(describeTransactionsApi, 0, { transactionalIds: [transactionalId] })).transactionStates[0]!;
}

describe('advertised versions and the coordinator', () => {
  it('advertises exactly the versions served', async () => {
    const r = await c.request(apiVersionsApi, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
    const range = (key: number) => {
      const k = r.apiKeys.find((a) => a.apiKey === key);
      return k && [k.minVersion, k.maxVersion];
    };
    expect(range(22)).toEqual([0, 5]);
    expect(range(24)).toEqual([0, 3]);
    expect(range(25)).toEqual([0, 4]);
    expect(range(26)).toEqual([0, 4]);
    expect(range(65)).toEqual([0, 0]);
    expect(range(66)).toEqual([0, 1]);
  });

  it('answers FindCoordinator key type 1 with this broker, creating __transaction_state then', async () => {
    // Like Kafka, a broker whose clients never use transactions never creates the topic.
    expect(existsSync(join(tb.dataDir, '__transaction_state-0'))).toBe(false);
    const v1 = await c.request(findCoordinatorApi, 1, { key: 'some-txn', keyType: 1 });
    expect([v1.errorCode, v1.nodeId, v1.port]).toEqual([ErrorCode.NONE, tb.broker.config.nodeId, tb.broker.port]);
    const v4 = await c.request(findCoordinatorApi, 4, { keyType: 1, coordinatorKeys: ['a', 'b'] });
    expect(v4.coordinators.map((k) => [k.key, k.errorCode, k.port])).toEqual([
      ['a', 0, tb.broker.port],
      ['b', 0, tb.broker.port],
    ]);
    expect(existsSync(join(tb.dataDir, '__transaction_state-2'))).toBe(true);
  });
});

describe('InitProducerId', () => {
  it('refuses an empty transactional id with INVALID_REQUEST', async () => {
    expect((await init('')).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('refuses a timeout of 0 or above transaction.max.timeout.ms with INVALID_TRANSACTION_TIMEOUT', async () => {
    expect((await init('t-timeout', 0)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await init('t-timeout', 900_001)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await init('t-timeout', 900_000)).errorCode).toBe(ErrorCode.NONE);
  });

  it('refuses producer id -1 with an epoch (v3+) with INVALID_REQUEST', async () => {
    expect((await init('t-pair', 1000, 3, -1n, 4)).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('gives an idempotent producer a new id at epoch 0 every time', async () => {
    const a = await init(null);
    const b = await init(null);
    expect([a.errorCode, a.producerEpoch, b.producerEpoch]).toEqual([0, 0, 0]);
    expect(b.producerId).not.toBe(a.producerId);
  });

  it('keeps the producer id of a transactional id and bumps its epoch, fencing the previous instance', async () => {
    const first = await init('t-fence');
    const second = await init('t-fence');
    expect([first.errorCode, first.producerEpoch, second.errorCode, second.producerEpoch]).toEqual([0, 0, 0, 1]);
    expect(second.producerId).toBe(first.producerId);
    // The first instance, bumping with its own (stale) pair: fenced, as 47 before v4.
    expect((await init('t-fence', 60_000, 4, first.producerId, 0)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await init('t-fence', 60_000, 3, first.producerId, 0)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    // And its transactional requests too.
    expect(await add('t-fence', first.producerId, 0, [{ name: 'tx', partitions: [0] }])).toEqual({ 'tx-0': ErrorCode.PRODUCER_FENCED });
  });

  it('fences and aborts an open transaction of the previous instance, answering CONCURRENT_TRANSACTIONS until it is done', async () => {
    const p = await init('t-open');
    expect(await add('t-open', p.producerId, p.producerEpoch, [{ name: 'tx', partitions: [0, 1] }])).toEqual({ 'tx-0': 0, 'tx-1': 0 });
    expect((await init('t-open')).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    let next = await init('t-open');
    for (let i = 0; i < 50 && next.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS; i++) {
      await new Promise((r) => setTimeout(r, 100));
      next = await init('t-open');
    }
    // The fence took epoch + 1, the new instance's init + 2.
    expect([next.errorCode, next.producerId, next.producerEpoch]).toEqual([0, p.producerId, p.producerEpoch + 2]);
    expect(await end('t-open', p.producerId, p.producerEpoch, true)).toBe(ErrorCode.PRODUCER_FENCED);
  });
});

describe('AddPartitionsToTxn, AddOffsetsToTxn and EndTxn', () => {
  it('answers INVALID_PRODUCER_ID_MAPPING for an unknown transactional id or another producer id', async () => {
    expect(await add('never-initialized', 1n, 0, [{ name: 'tx', partitions: [0] }])).toEqual({ 'tx-0': ErrorCode.INVALID_PRODUCER_ID_MAPPING });
    const p = await init('t-map');
    expect(await add('t-map', p.producerId + 1000n, p.producerEpoch, [{ name: 'tx', partitions: [0] }])).toEqual({ 'tx-0': ErrorCode.INVALID_PRODUCER_ID_MAPPING });
    expect(await end('t-map', p.producerId + 1000n, p.producerEpoch, true)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  });

  it('answers a wrong epoch PRODUCER_FENCED from v2, INVALID_PRODUCER_EPOCH below', async () => {
    const p = await init('t-epoch');
    const wrong = p.producerEpoch + 1;
    expect(await add('t-epoch', p.producerId, wrong, [{ name: 'tx', partitions: [0] }], 2)).toEqual({ 'tx-0': ErrorCode.PRODUCER_FENCED });
    expect(await add('t-epoch', p.producerId, wrong, [{ name: 'tx', partitions: [0] }], 1)).toEqual({ 'tx-0': ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(await end('t-epoch', p.producerId, wrong, true, 1)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    const offsets = await c.request(addOffsetsToTxnApi, 1, { transactionalId: 't-epoch', producerId: p.producerId, producerEpoch: wrong, groupId: 'g' });
    expect(offsets.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it('fails the request for an unknown topic or partition: 3 there, OPERATION_NOT_ATTEMPTED elsewhere', async () => {
    const p = await init('t-unknown');
    const r = await add('t-unknown', p.producerId, p.producerEpoch, [
      { name: 'tx', partitions: [0, 7] },
      { name: 'no-such-topic', partitions: [0] },
    ]);
    expect(r).toEqual({ 'tx-0': ErrorCode.OPERATION_NOT_ATTEMPTED, 'tx-7': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'no-such-topic-0': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    // Nothing was added: the id is still Empty.
    expect((await describeTxn('t-unknown')).transactionState).toBe('Empty');
  });

  it('answers EndTxn with nothing open INVALID_TXN_STATE', async () => {
    const p = await init('t-empty');
    expect(await end('t-empty', p.producerId, p.producerEpoch, true)).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(await end('t-empty', p.producerId, p.producerEpoch, false)).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('commits once complete, answers a retried commit NONE and an abort after it INVALID_TXN_STATE', async () => {
    const p = await init('t-commit');
    expect(await add('t-commit', p.producerId, p.producerEpoch, [{ name: 'tx', partitions: [0, 1] }])).toEqual({ 'tx-0': 0, 'tx-1': 0 });
    const offsets = await c.request(addOffsetsToTxnApi, 3, { transactionalId: 't-commit', producerId: p.producerId, producerEpoch: p.producerEpoch, groupId: 'g1' });
    expect(offsets.errorCode).toBe(ErrorCode.NONE);
    const ongoing = await describeTxn('t-commit');
    expect(ongoing.transactionState).toBe('Ongoing');
    expect(ongoing.topics.find((t) => t.topic === 'tx')?.partitions).toEqual([0, 1]);
    expect(ongoing.topics.some((t) => t.topic === '__consumer_offsets')).toBe(true);
    const groupPartition = ongoing.topics.find((t) => t.topic === '__consumer_offsets')!.partitions;
    const before = [...(await endOffsets('tx', [0, 1])), ...(await endOffsets('__consumer_offsets', groupPartition))];
    expect(await end('t-commit', p.producerId, p.producerEpoch, true)).toBe(ErrorCode.NONE);
    // Answered after the markers (one offset in each partition) and CompleteCommit.
    const after = [...(await endOffsets('tx', [0, 1])), ...(await endOffsets('__consumer_offsets', groupPartition))];
    expect(after).toEqual(before.map((o) => o + 1));
    const done = await describeTxn('t-commit');
    expect([done.transactionState, done.topics]).toEqual(['CompleteCommit', []]);
    expect(await end('t-commit', p.producerId, p.producerEpoch, true)).toBe(ErrorCode.NONE);
    expect(await end('t-commit', p.producerId, p.producerEpoch, false)).toBe(ErrorCode.INVALID_TXN_STATE);
    // The next transaction starts right away (no CONCURRENT_TRANSACTIONS after a commit).
    expect(await add('t-commit', p.producerId, p.producerEpoch, [{ name: 'tx', partitions: [1] }])).toEqual({ 'tx-1': 0 });
    expect(await end('t-commit', p.producerId, p.producerEpoch, false)).toBe(ErrorCode.NONE);
    expect(await end('t-commit', p.producerId, p.producerEpoch, true)).toBe(ErrorCode.INVALID_TXN_STATE);
    expect((await describeTxn('t-commit')).transactionState).toBe('CompleteAbort');
  });
});

describe('DescribeTransactions and ListTransactions', () => {
  it('answers an unknown transactional id TRANSACTIONAL_ID_NOT_FOUND', async () => {
    expect((await describeTxn('no-such-txn')).errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  });

  it('lists by state and producer id, echoing unknown state names', async () => {
    const p = await init('t-list');
    await add('t-list', p.producerId, p.producerEpoch, [{ name: 'tx', partitions: [0] }]);
    const r = await c.request(listTransactionsApi, 1, { stateFilters: ['Ongoing', 'Bogus'], producerIdFilters: [p.producerId], durationFilter: -1n });
    expect(r.unknownStateFilters).toEqual(['Bogus']);
    expect(r.transactionStates).toEqual([{ transactionalId: 't-list', producerId: p.producerId, transactionState: 'Ongoing' }]);
    const longOpen = await c.request(listTransactionsApi, 1, { stateFilters: ['Ongoing'], producerIdFilters: [p.producerId], durationFilter: 3_600_000n });
    expect(longOpen.transactionStates).toEqual([]);
    const all = await c.request(listTransactionsApi, 0, { stateFilters: [], producerIdFilters: [] });
    expect(all.transactionStates.map((t) => t.transactionalId)).toEqual(expect.arrayContaining(['t-list', 't-commit', 't-fence']));
    expect(await end('t-list', p.producerId, p.producerEpoch, false)).toBe(ErrorCode.NONE);
  });
});

describe('timeouts and restarts', () => {
  it('aborts a transaction past its timeout, bumping the epoch so its producer is fenced', async () => {
    const p = await init('t-slow', 1000);
    await add('t-slow', p.producerId, p.producerEpoch, [{ name: 'tx', partitions: [1] }]);
    let d = await describeTxn('t-slow');
    for (let i = 0; i < 40 && d.transactionState !== 'CompleteAbort'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      d = await describeTxn('t-slow');
    }
    expect([d.transactionState, d.producerEpoch]).toEqual(['CompleteAbort', p.producerEpoch + 1]);
    expect(await end('t-slow', p.producerId, p.producerEpoch, true)).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('keeps every transactional id across a restart, and an open transaction still times out', async () => {
    const p = await init('t-restart', 3000);
    await add('t-restart', p.producerId, p.producerEpoch, [{ name: 'tx', partitions: [0] }]);
    const before = await describeTxn('t-restart');
    c.close();
    await tb.restart();
    c = await RawClient.connect(tb.broker.port);
    const after = await describeTxn('t-restart');
    expect(after).toEqual(before);
    expect((await describeTxn('t-commit')).transactionState).toBe('CompleteAbort');
    const again = await init('t-fence');
    expect([again.errorCode, again.producerEpoch]).toEqual([0, 2]);
    let d = after;
    for (let i = 0; i < 80 && d.transactionState !== 'CompleteAbort'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      d = await describeTxn('t-restart');
    }
    expect([d.transactionState, d.producerEpoch]).toEqual(['CompleteAbort', p.producerEpoch + 1]);
  });
});

describe('transactional.id.expiration.ms', () => {
  let short: TestBroker;
  let sc: RawClient;

  beforeAll(async () => {
    short = await startTestBroker({
      properties: { 'transactional.id.expiration.ms': 1000, 'transaction.remove.expired.transaction.cleanup.interval.ms': 200, 'transaction.state.log.num.partitions': 1 },
    });
    sc = await RawClient.connect(short.broker.port);
  });

  afterAll(async () => {
    sc?.close();
    await short?.close();
  });

  it('forgets an idle transactional id, for good (a tombstone), and gives it a new producer id afterwards', async () => {
    const describeShort = async (id: string) => (await sc.request(describeTransactionsApi, 0, { transactionalIds: [id] })).transactionStates[0]!;
    const first = await sc.request(initProducerIdApi, 1, { transactionalId: 'idle', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    await sc.request(initProducerIdApi, 1, { transactionalId: 'idle', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    expect((await describeShort('idle')).producerEpoch).toBe(1);
    let d = await describeShort('idle');
    for (let i = 0; i < 50 && d.errorCode === ErrorCode.NONE; i++) {
      await new Promise((r) => setTimeout(r, 100));
      d = await describeShort('idle');
    }
    expect(d.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    sc.close();
    await short.restart();
    sc = await RawClient.connect(short.broker.port);
    expect((await describeShort('idle')).errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    const again = await sc.request(initProducerIdApi, 1, { transactionalId: 'idle', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    expect(again.errorCode).toBe(ErrorCode.NONE);
    expect(again.producerEpoch).toBe(0);
    expect(again.producerId).not.toBe(first.producerId);
  });
});
