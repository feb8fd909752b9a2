/**
 * Transactional offset commits over raw frames (our codec): TxnOffsetCommit inside a transaction
 * opened by InitProducerId/AddOffsetsToTxn, what OffsetFetch answers with and without
 * require_stable while it is pending, after EndTxn commit and after abort, KIP-447's member checks
 * (v3), and the same answers after a restart of the broker, with a transaction still open and after
 * its commit (the replay honours the markers in `__consumer_offsets`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { addOffsetsToTxnApi } from '../../src/protocol/schemas/add-offsets-to-txn.js';
import { apiVersionsApi } from '../../src/protocol/schemas/api-versions.js';
import { createTopicsApi } from '../../src/protocol/schemas/create-topics.js';
import { endTxnApi } from '../../src/protocol/schemas/end-txn.js';
import { initProducerIdApi } from '../../src/protocol/schemas/init-producer-id.js';
import { joinGroupApi } from '../../src/protocol/schemas/join-group.js';
import { offsetCommitApi } from '../../src/protocol/schemas/offset-commit.js';
import { offsetFetchApi } from '../../src/protocol/schemas/offset-fetch.js';
import { syncGroupApi } from '../../src/protocol/schemas/sync-group.js';
import { txnOffsetCommitApi } from '../../src/protocol/schemas/txn-offset-commit.js';
import { startTestBroker, type TestBroker } from './harness.js';
import { RawClient } from './raw-client.js';

const TOPIC = 'in';
let tb: TestBroker;
let clients: RawClient[] = [];

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(tb.broker.port);
  clients.push(c);
  return c;
}

function closeClients(): void {
  for (const c of clients) c.close();
  clients = [];
}

beforeAll(async () => {
  tb = await startTestBroker({ properties: { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 3 } });
  const c = await client();
  const r = await c.request(createTopicsApi, 4, { topics: [{ name: TOPIC, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  expect(r.topics[0]!.errorCode).toBe(0);
});

afterAll(async () => {
  closeClients();
  await tb.close();
});

interface Producer {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
}

async function initTransactions(c: RawClient, transactionalId: string): Promise<Producer> {
  const r = await c.request(initProducerIdApi, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  expect(r.errorCode).toBe(0);
  return { transactionalId, producerId: r.producerId, producerEpoch: r.producerEpoch };
}

async function addOffsets(c: RawClient, p: Producer, groupId: string): Promise<void> {
  const r = await c.request(addOffsetsToTxnApi, 3, { ...p, groupId });
  expect(r.errorCode).toBe(0);
}

async function endTxn(c: RawClient, p: Producer, committed: boolean): Promise<void> {
  const r = await c.request(endTxnApi, 3, { ...p, committed });
  expect(r.errorCode).toBe(0);
}

/** TxnOffsetCommit; answers the error code per partition of TOPIC, in request order. */
async function txnCommit(c: RawClient, p: Producer, groupId: string, offsets: [number, bigint][], o: { version?: number; generationId?: number; memberId?: string } = {}): Promise<number[]> {
  const r = await c.request(txnOffsetCommitApi, o.version ?? 3, {
    ...p,
    groupId,
    generationId: o.generationId ?? -1,
    memberId: o.memberId ?? '',
    groupInstanceId: null,
    topics: [{ name: TOPIC, partitions: offsets.map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, committedMetadata: 'eos' })) }],
  });
  return r.topics[0]!.partitions.map((x) => x.errorCode);
}

/** OffsetFetch v7 (require_stable) for partitions 0 and 1 of TOPIC: [offset, errorCode] each. */
async function fetchOffsets(c: RawClient, groupId: string, requireStable: boolean): Promise<[bigint, number][]> {
  const r = await c.request(offsetFetchApi, 7, { groupId, topics: [{ name: TOPIC, partitionIndexes: [0, 1] }], requireStable });
  expect(r.errorCode).toBe(0);
  return r.topics[0]!.partitions.map((x) => [x.committedOffset, x.errorCode]);
}

const UNSTABLE: [bigint, number] = [-1n, ErrorCode.UNSTABLE_OFFSET_COMMIT];

describe('TxnOffsetCommit over raw frames', () => {
  it('is advertised as v0-4', async () => {
    const c = await client();
    const r = await c.request(apiVersionsApi, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
    expect(r.apiKeys.find((k) => k.apiKey === 28)).toMatchObject({ minVersion: 0, maxVersion: 4 });
  });

  it('stays pending until EndTxn: the old offset without require_stable, 88 with it; the new one after commit', async () => {
    const c = await client();
    const commit = await c.request(offsetCommitApi, 8, {
      groupId: 'eos',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(commit.topics[0]!.partitions[0]!.errorCode).toBe(0);
    const p = await initTransactions(c, 'eos-1');
    await addOffsets(c, p, 'eos');
    expect(await txnCommit(c, p, 'eos', [[0, 10n], [1, 20n]])).toEqual([0, 0]);

    expect(await fetchOffsets(c, 'eos', false)).toEqual([[5n, 0], [-1n, 0]]);
    expect(await fetchOffsets(c, 'eos', true)).toEqual([UNSTABLE, UNSTABLE]);
    // v8 (groups[]) answers it per partition as well.
    const v8 = await c.request(offsetFetchApi, 8, { groups: [{ groupId: 'eos', topics: [{ name: TOPIC, partitionIndexes: [0] }] }], requireStable: true });
    expect(v8.groups[0]).toMatchObject({ errorCode: 0, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: -1n, errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT }] }] });

    await endTxn(c, p, true);
    expect(await fetchOffsets(c, 'eos', true)).toEqual([[10n, 0], [20n, 0]]);
    expect(await fetchOffsets(c, 'eos', false)).toEqual([[10n, 0], [20n, 0]]);

    // Aborted: the committed offsets stay.
    await addOffsets(c, p, 'eos');
    expect(await txnCommit(c, p, 'eos', [[0, 99n]])).toEqual([0]);
    expect(await fetchOffsets(c, 'eos', true)).toEqual([UNSTABLE, [20n, 0]]);
    await endTxn(c, p, false);
    expect(await fetchOffsets(c, 'eos', true)).toEqual([[10n, 0], [20n, 0]]);
  });

  it('refuses a group that AddOffsetsToTxn did not add (INVALID_TXN_STATE) and unknown partitions (3)', async () => {
    const c = await client();
    const p = await initTransactions(c, 'eos-unadded');
    expect(await txnCommit(c, p, 'unadded', [[0, 1n]])).toEqual([ErrorCode.INVALID_TXN_STATE]);
    await addOffsets(c, p, 'unadded');
    expect(await txnCommit(c, p, 'unadded', [[0, 1n], [7, 1n]])).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    await endTxn(c, p, false);
    expect(await fetchOffsets(c, 'unadded', true)).toEqual([[-1n, 0], [-1n, 0]]);
  });

  it('v3 checks the member (KIP-447): stale generation 22, unknown member 25; v2 and generation -1 are not checked', async () => {
    const c = await client();
    const protocols = [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 2, 0x69, 0x6e, 0xff, 0xff, 0xff, 0xff]) }];
    const joinReq = { groupId: 'kip447', sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 5000, groupInstanceId: null, protocolType: 'consumer', protocols };
    let j = await c.request(joinGroupApi, 5, { ...joinReq, memberId: '' });
    if (j.errorCode === ErrorCode.MEMBER_ID_REQUIRED) j = await c.request(joinGroupApi, 5, { ...joinReq, memberId: j.memberId });
    expect(j.errorCode).toBe(0);
    const { memberId, generationId } = j;
    const s = await c.request(syncGroupApi, 3, { groupId: 'kip447', generationId, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId, assignment: Buffer.alloc(0) }] });
    expect(s.errorCode).toBe(0);

    const p = await initTransactions(c, 'eos-447');
    await addOffsets(c, p, 'kip447');
    expect(await txnCommit(c, p, 'kip447', [[0, 3n]], { generationId: generationId - 1, memberId })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await txnCommit(c, p, 'kip447', [[0, 3n]], { generationId, memberId: 'zombie' })).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await txnCommit(c, p, 'kip447', [[0, 3n]], { generationId, memberId })).toEqual([0]);
    expect(await txnCommit(c, p, 'kip447', [[1, 4n]], { version: 2 })).toEqual([0]);
    expect(await txnCommit(c, p, 'kip447', [[1, 5n]], { version: 4 })).toEqual([0]);
    await endTxn(c, p, true);
    expect(await fetchOffsets(c, 'kip447', true)).toEqual([[3n, 0], [5n, 0]]);
    // A group that does not exist, with a generation: ILLEGAL_GENERATION.
    await addOffsets(c, p, 'no-such-group');
    expect(await txnCommit(c, p, 'no-such-group', [[0, 1n]], { generationId: 3, memberId: 'm' })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    await endTxn(c, p, false);
  });

  it('answers the same after a restart: an open transaction stays pending, its commit after the restart applies, and stays applied', async () => {
    let c = await client();
    const p = await initTransactions(c, 'eos-restart');
    await addOffsets(c, p, 'restarted');
    expect(await txnCommit(c, p, 'restarted', [[0, 7n]])).toEqual([0]);
    await endTxn(c, p, true);
    await addOffsets(c, p, 'restarted');
    expect(await txnCommit(c, p, 'restarted', [[0, 8n], [1, 9n]])).toEqual([0, 0]);
    expect(await fetchOffsets(c, 'restarted', false)).toEqual([[7n, 0], [-1n, 0]]);

    closeClients();
    await tb.restart();
    c = await client();
    expect(await fetchOffsets(c, 'restarted', false)).toEqual([[7n, 0], [-1n, 0]]);
    expect(await fetchOffsets(c, 'restarted', true)).toEqual([UNSTABLE, UNSTABLE]);

    await endTxn(c, p, true);
    expect(await fetchOffsets(c, 'restarted', true)).toEqual([[8n, 0], [9n, 0]]);

    closeClients();
    await tb.restart();
    c = await client();
    expect(await fetchOffsets(c, 'restarted', true)).toEqual([[8n, 0], [9n, 0]]);
    expect(await fetchOffsets(c, 'eos', true)).toEqual([[10n, 0], [20n, 0]]);
  });
});
