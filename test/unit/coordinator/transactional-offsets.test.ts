/**
 * Transactional offset commits in the group coordinator (src/coordinator/coordinator.ts): pending
 * until the marker, COMMIT/ABORT, Kafka's record-offset rule, require_stable, deletion and expiry,
 * and the replay of all of it at start. A real coordinator over a real topic registry in a
 * temporary directory; markers are appended to `__consumer_offsets` as txn-markers.ts appends them
 * (an internal control batch) before onTxnMarker is called.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TopicRegistry } from '../../../src/broker/topics.js';
import { buildBrokerConfig } from '../../../src/config.js';
import { GroupCoordinator, type CoordinatorHost, type TxnCommitRequest } from '../../../src/coordinator/coordinator.js';
import { OFFSETS_TOPIC } from '../../../src/coordinator/records.js';
import { buildBatch, decodeBatches } from '../../../src/native/records.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { silentLogger } from '../../../src/util/logger.js';

const PID = 4000;
const EPOCH = 3;

let dir: string;
let topics: TopicRegistry;
let coordinator: GroupCoordinator;
/** The transaction coordinator's verdict for TxnOffsetCommit (NONE unless a test sets it). */
let verdict: number;
const verified: unknown[][] = [];

function open(): void {
  const config = buildBrokerConfig({ overrides: { 'log.dirs': dir, 'offsets.topic.num.partitions': '3', 'group.initial.rebalance.delay.ms': '0' } });
  topics = new TopicRegistry(config, silentLogger);
  if (!topics.get('t')) topics.create('t', 2, {});
  const host: CoordinatorHost = {
    config,
    topics,
    log: silentLogger,
    appended: () => {},
    transactions: {
      verifyGroup: (...args) => {
        verified.push(args);
        return verdict;
      },
    },
  };
  coordinator = new GroupCoordinator(host);
}

async function reopen(): Promise<void> {
  coordinator.close();
  await topics.close();
  open();
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'brook-txn-offsets-'));
  verdict = ErrorCode.NONE;
  verified.length = 0;
  open();
});

afterEach(async () => {
  coordinator.close();
  await topics.close();
  rmSync(dir, { recursive: true, force: true });
});

function txnCommit(over: Partial<TxnCommitRequest> & { offsets?: [string, number, bigint][] } = {}) {
  const { offsets = [['t', 0, 10n]], ...rest } = over;
  const byTopic = new Map<string, { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string | null }[]>();
  for (const [name, partitionIndex, committedOffset] of offsets) {
    const list = byTopic.get(name) ?? [];
    list.push({ partitionIndex, committedOffset, committedLeaderEpoch: -1, committedMetadata: 'txn' });
    byTopic.set(name, list);
  }
  return coordinator.txnCommitOffsets({
    transactionalId: 'tx',
    groupId: 'g',
    producerId: PID,
    producerEpoch: EPOCH,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    ...rest,
  });
}

function commit(groupId: string, partition: number, offset: bigint) {
  return coordinator.commitOffsets({
    groupId,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    topics: [{ name: 't', partitions: [{ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }] }],
  });
}

/** [offset, errorCode] of t-partition for group g. */
function fetched(partition: number, requireStable = false, groupId = 'g'): [bigint, number] {
  const r = coordinator.fetchOffsets(groupId, [{ name: 't', partitionIndexes: [partition] }], requireStable);
  expect(r.errorCode).toBe(ErrorCode.NONE);
  const p = r.topics[0]!.partitions[0]!;
  return [p.committedOffset, p.errorCode];
}

function offsetsLog(groupId = 'g'): PartitionLog {
  return topics.partition(OFFSETS_TOPIC, coordinator.partitionFor(groupId))!;
}

/** What txn-markers.ts does for __consumer_offsets: the control batch, then onTxnMarker. */
function marker(commitIt: boolean, groupId = 'g', producerId = PID): void {
  const key = Buffer.alloc(4);
  key.writeInt16BE(commitIt ? 1 : 0, 2);
  const value = Buffer.alloc(6);
  const p = coordinator.partitionFor(groupId);
  offsetsLog(groupId).append(buildBatch({ records: [{ key, value }], producerId, producerEpoch: EPOCH, isTransactional: true, isControl: true }), { internal: true });
  coordinator.onTxnMarker(p, { producerId, commit: commitIt });
}

const codes = (r: Awaited<ReturnType<typeof txnCommit>>) => r.flatMap((t) => t.partitions.map((p) => p.errorCode));

describe('transactional offset commits', () => {
  it('are written as one transactional batch of the producer and stay invisible until COMMIT', async () => {
    await commit('g', 0, 5n);
    expect(codes(await txnCommit({ offsets: [['t', 0, 10n], ['t', 1, 20n]] }))).toEqual([0, 0]);
    expect(verified).toEqual([['tx', PID, EPOCH, 'g']]);
    const log = offsetsLog();
    const { batches } = decodeBatches(log.readBuffer(0, 1 << 20));
    const last = batches.at(-1)!;
    expect(last).toMatchObject({ producerId: PID, producerEpoch: EPOCH, isTransactional: true, isControl: false, baseSequence: -1 });
    expect(last.records.length).toBe(2);

    expect(fetched(0)).toEqual([5n, ErrorCode.NONE]);
    expect(fetched(1)).toEqual([-1n, ErrorCode.NONE]);
    expect(fetched(0, true)).toEqual([-1n, ErrorCode.UNSTABLE_OFFSET_COMMIT]);
    expect(fetched(1, true)).toEqual([-1n, ErrorCode.UNSTABLE_OFFSET_COMMIT]);
    // All offsets of the group (topics null): only committed partitions, 88 where one is pending.
    expect(coordinator.fetchOffsets('g', null, true).topics).toEqual([{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT }] }]);

    // A marker in another partition, or of another producer, decides nothing here.
    coordinator.onTxnMarker((coordinator.partitionFor('g') + 1) % 3, { producerId: PID, commit: true });
    coordinator.onTxnMarker(coordinator.partitionFor('g'), { producerId: PID + 1, commit: true });
    expect(fetched(0, true)[1]).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT);

    marker(true);
    expect(fetched(0, true)).toEqual([10n, ErrorCode.NONE]);
    expect(fetched(1, true)).toEqual([20n, ErrorCode.NONE]);
    expect(coordinator.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }]).topics[0]!.partitions[0]!.metadata).toBe('txn');
  });

  it('are dropped by ABORT: the committed offset stays', async () => {
    await commit('g', 0, 5n);
    await txnCommit({ offsets: [['t', 0, 10n]] });
    marker(false);
    expect(fetched(0, true)).toEqual([5n, ErrorCode.NONE]);
    // The next transaction of the same producer starts clean.
    await txnCommit({ offsets: [['t', 1, 7n]] });
    marker(true);
    expect(fetched(0)).toEqual([5n, ErrorCode.NONE]);
    expect(fetched(1)).toEqual([7n, ErrorCode.NONE]);
  });

  it('a later TxnOffsetCommit of the same transaction replaces the pending offset', async () => {
    await txnCommit({ offsets: [['t', 0, 10n]] });
    await txnCommit({ offsets: [['t', 0, 11n]] });
    marker(true);
    expect(fetched(0)).toEqual([11n, ErrorCode.NONE]);
  });

  it('COMMIT keeps the later record: a plain commit written after the transactional one wins (Kafka)', async () => {
    await txnCommit({ offsets: [['t', 0, 10n], ['t', 1, 10n]] });
    await commit('g', 0, 50n);
    marker(true);
    expect(fetched(0)).toEqual([50n, ErrorCode.NONE]);
    expect(fetched(1)).toEqual([10n, ErrorCode.NONE]);
    await reopen();
    expect(fetched(0)).toEqual([50n, ErrorCode.NONE]);
    expect(fetched(1)).toEqual([10n, ErrorCode.NONE]);
  });

  it('keeps two producers apart', async () => {
    await txnCommit({ offsets: [['t', 0, 10n]] });
    await txnCommit({ producerId: PID + 1, offsets: [['t', 1, 30n]] });
    marker(false, 'g', PID + 1);
    expect(fetched(1, true)).toEqual([-1n, ErrorCode.NONE]);
    expect(fetched(0, true)[1]).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT);
    marker(true, 'g', PID);
    expect(fetched(0, true)).toEqual([10n, ErrorCode.NONE]);
  });
});

describe('replay', () => {
  it('honours markers, and a transaction without its marker stays pending until it comes', async () => {
    await commit('g', 0, 1n);
    await txnCommit({ offsets: [['t', 0, 10n]] });
    marker(true);
    await txnCommit({ offsets: [['t', 0, 20n]] });
    marker(false);
    await txnCommit({ offsets: [['t', 1, 30n]] }); // no marker: open at the "crash"
    await reopen();
    expect(fetched(0, true)).toEqual([10n, ErrorCode.NONE]);
    expect(fetched(1)).toEqual([-1n, ErrorCode.NONE]);
    expect(fetched(1, true)).toEqual([-1n, ErrorCode.UNSTABLE_OFFSET_COMMIT]);
    // The transaction coordinator finishes it after the restart.
    marker(true);
    expect(fetched(1, true)).toEqual([30n, ErrorCode.NONE]);
    await reopen();
    expect(fetched(0, true)).toEqual([10n, ErrorCode.NONE]);
    expect(fetched(1, true)).toEqual([30n, ErrorCode.NONE]);
  });

  it('brings back a group that only has pending offsets', async () => {
    await txnCommit({ groupId: 'only-pending', offsets: [['t', 0, 3n]] });
    await reopen();
    expect(coordinator.group('only-pending')).toBeDefined();
    expect(fetched(0, true, 'only-pending')[1]).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT);
    marker(false, 'only-pending');
    expect(fetched(0, true, 'only-pending')).toEqual([-1n, ErrorCode.NONE]);
  });
});

describe('validation', () => {
  it('refuses unknown partitions, an empty group id and what the transaction coordinator refuses', async () => {
    const r = await txnCommit({ offsets: [['t', 0, 1n], ['t', 9, 1n], ['nope', 0, 1n]] });
    expect(codes(r)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    expect(codes(await txnCommit({ groupId: '', offsets: [['t', 0, 1n], ['t', 9, 1n]] }))).toEqual([ErrorCode.INVALID_GROUP_ID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    verdict = ErrorCode.INVALID_TXN_STATE;
    const end = offsetsLog('h').logEndOffset;
    expect(codes(await txnCommit({ groupId: 'h', offsets: [['t', 0, 1n], ['t', 1, 1n]] }))).toEqual([ErrorCode.INVALID_TXN_STATE, ErrorCode.INVALID_TXN_STATE]);
    expect(offsetsLog('h').logEndOffset).toBe(end);
    expect(coordinator.group('h')).toBeUndefined();
  });

  it('KIP-447: a missing group with a generation is ILLEGAL_GENERATION; member fields are checked when sent', async () => {
    expect(codes(await txnCommit({ groupId: 'fresh', generationId: 1, memberId: 'm' }))).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    const join = await coordinator.joinGroup('g', {
      memberId: '',
      groupInstanceId: null,
      requireKnownMemberId: false,
      supportSkippingAssignment: false,
      clientId: 'c',
      clientHost: '/127.0.0.1',
      rebalanceTimeoutMs: 10_000,
      sessionTimeoutMs: 10_000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    });
    expect(join.errorCode).toBe(ErrorCode.NONE);
    const { memberId, generationId } = join;
    // CompletingRebalance: the group's state is not enforced for transactional commits.
    expect(codes(await txnCommit({ generationId, memberId }))).toEqual([ErrorCode.NONE]);
    const sync = await coordinator.syncGroup('g', { memberId, generationId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId, assignment: Buffer.alloc(0) }] });
    expect(sync.errorCode).toBe(ErrorCode.NONE);
    expect(codes(await txnCommit({ generationId: generationId - 1, memberId }))).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(codes(await txnCommit({ generationId, memberId: 'someone-else' }))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(codes(await txnCommit({ generationId, memberId, groupInstanceId: 'not-mine' }))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    // v0-2 (or a producer that sends no member fields): accepted in a Stable group.
    expect(codes(await txnCommit({ offsets: [['t', 1, 4n]] }))).toEqual([ErrorCode.NONE]);
    // A plain commit without member fields is still refused there.
    expect(codes(await commit('g', 1, 4n))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    coordinator.leaveGroup('g', [{ memberId, groupInstanceId: null }]);
  });
});

describe('deletion and expiry', () => {
  it('DeleteGroups writes tombstones for pending-only partitions: a later COMMIT brings nothing back, nor does replay', async () => {
    await commit('g', 0, 5n);
    await txnCommit({ offsets: [['t', 0, 10n], ['t', 1, 20n]] });
    expect(await coordinator.deleteGroups(['g'])).toEqual([{ groupId: 'g', errorCode: ErrorCode.NONE }]);
    marker(true);
    expect(coordinator.group('g')).toBeUndefined();
    expect(fetched(0, true)).toEqual([-1n, ErrorCode.NONE]);
    expect(fetched(1, true)).toEqual([-1n, ErrorCode.NONE]);
    await reopen();
    expect(coordinator.group('g')).toBeUndefined();
    expect(fetched(1, true)).toEqual([-1n, ErrorCode.NONE]);
  });

  it('OffsetDelete of a pending-only partition writes its tombstone and takes the pending offset', async () => {
    await commit('g', 0, 5n);
    await txnCommit({ offsets: [['t', 1, 20n]] });
    const r = await coordinator.deleteOffsets('g', [{ name: 't', partitions: [1] }]);
    expect(r).toEqual({ errorCode: ErrorCode.NONE, topics: [{ name: 't', partitions: [{ partitionIndex: 1, errorCode: ErrorCode.NONE }] }] });
    expect(fetched(1, true)).toEqual([-1n, ErrorCode.NONE]);
    await reopen();
    expect(fetched(1, true)).toEqual([-1n, ErrorCode.NONE]);
    marker(true);
    expect(fetched(1, true)).toEqual([-1n, ErrorCode.NONE]);
    expect(fetched(0, true)).toEqual([5n, ErrorCode.NONE]);
  });

  it('expiry spares a partition with a pending offset and a group with an open transaction', async () => {
    await commit('g', 0, 5n);
    await txnCommit({ offsets: [['t', 0, 10n]] });
    await txnCommit({ groupId: 'open-only', offsets: [['t', 0, 1n]] });
    const later = Date.now() + 365 * 24 * 3600_000;
    expect(await coordinator.expireOffsets(later)).toBe(0);
    expect(coordinator.group('g')).toBeDefined();
    expect(coordinator.group('open-only')).toBeDefined();
    marker(false);
    marker(true, 'open-only');
    expect(await coordinator.expireOffsets(later)).toBe(2);
    expect(coordinator.group('g')).toBeUndefined();
    expect(coordinator.group('open-only')).toBeUndefined();
  });
});
