/**
 * `brook transactions list | describe` as a child process (the built bin/brook.js, so `npm run
 * build:ts` first) against a real broker, over transactions a real transactional producer made
 * (kafkajs 2.2.4: InitProducerId with a transactional id, AddPartitionsToTxn, EndTxn): one left
 * open on two partitions, one committed. The list shows both with their coordinator and state, its
 * filters keep the right ones, describe shows the open one's partitions, an unknown id fails with
 * one line, and bad usage exits 2 before any connection.
 */
import type { Kafka, Producer, Transaction } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { command as transactionsCommand } from '../../src/cli/transactions.js';
import { brook, errorChecks, inProcess, requireBuilt } from './cli-harness.js';
import { expectOk, GROUP_TEST_PROPERTIES, kafkajs, startTestBroker, type ProcessResult, type TestBroker } from './harness.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const TOPIC = 'txn-admin';
const OPEN_ID = 'admin-open';
const DONE_ID = 'admin-done';
/** kafkajs's default transactionTimeout, which InitProducerId hands the coordinator. */
const KAFKAJS_TXN_TIMEOUT_MS = 60_000;

const { expectFailure, expectUsage } = errorChecks('transactions', { failure: { emptyStdout: true } });

let tb: TestBroker;
let kafka: Kafka;
const producers: Producer[] = [];
let openTxn: Transaction | undefined;

interface Listing {
  transactionalId: string;
  coordinator: number;
  producerId: number;
  state: string;
}

interface Description {
  transactionalId: string;
  coordinator: { nodeId: number; host: string; port: number };
  state: string;
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  startTimeMs: number | null;
  durationMs: number | null;
  partitions: { topic: string; partition: number }[];
}

async function txnProducer(transactionalId: string): Promise<Producer> {
  const p = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  producers.push(p);
  return p;
}

beforeAll(async () => {
  requireBuilt('transactions');
  tb = await startTestBroker({ properties: { ...GROUP_TEST_PROPERTIES, 'ws.enabled': false } });
  kafka = kafkajs(tb.bootstrap, { clientId: 'cli-transactions-admin', retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }] });
  await admin.disconnect();

  const done = await txnProducer(DONE_ID);
  const committed = await done.transaction();
  await committed.send({ topic: TOPIC, acks: -1, messages: [{ value: 'c', partition: 1 }] });
  await committed.commit();

  const open = await txnProducer(OPEN_ID);
  openTxn = await open.transaction();
  await openTxn.send({ topic: TOPIC, acks: -1, messages: [{ value: 'o2', partition: 2 }, { value: 'o0', partition: 0 }] });
}, 120_000);

afterAll(async () => {
  await openTxn?.abort().catch(() => {});
  for (const p of producers) await p.disconnect().catch(() => {});
  await tb?.close();
});

function transactions(args: string[]): Promise<ProcessResult> {
  return brook(['transactions', ...args, '--bootstrap-server', tb.bootstrap]);
}

async function listJson(args: string[] = []): Promise<Listing[]> {
  const r = expectOk(await transactions(['list', '--json', ...args]), `brook transactions list ${args.join(' ')}`);
  return JSON.parse(r.stdout) as Listing[];
}

/** The broker's node id: the coordinator of every transactional id in a one-broker cluster. */
const NODE_ID = 1;

describe('brook transactions list', () => {
  it('shows the open and the committed transaction with their coordinator, producer id and state', async () => {
    const r = expectOk(await transactions(['list']), 'brook transactions list');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState']);
    const rows = lines.slice(1).map((l) => l.split(/\s+/));
    expect(rows.map((c) => [c[0], c[1], c[3]])).toEqual([
      [DONE_ID, String(NODE_ID), 'CompleteCommit'],
      [OPEN_ID, String(NODE_ID), 'Ongoing'],
    ]);
    // Columns line up: every row's producer id starts where the header's ProducerId does.
    for (const l of lines.slice(1)) expect(l.indexOf(l.split(/\s+/)[2]!, lines[0]!.indexOf('Coordinator') + 1)).toBe(lines[0]!.indexOf('ProducerId'));

    const json = await listJson();
    expect(json.map((t) => [t.transactionalId, t.coordinator, t.state])).toEqual([
      [DONE_ID, NODE_ID, 'CompleteCommit'],
      [OPEN_ID, NODE_ID, 'Ongoing'],
    ]);
    expect(json[0]!.producerId).not.toBe(json[1]!.producerId);
    expect(rows.map((c) => Number(c[2]))).toEqual(json.map((t) => t.producerId));
  });

  it('filters by state (any case, commas or repeated), producer id and open duration', async () => {
    const ids = (list: Listing[]) => list.map((t) => t.transactionalId);
    expect(ids(await listJson(['--state', 'Ongoing']))).toEqual([OPEN_ID]);
    expect(ids(await listJson(['--state', 'completecommit']))).toEqual([DONE_ID]);
    expect(ids(await listJson(['--state', 'Ongoing,CompleteCommit']))).toEqual([DONE_ID, OPEN_ID]);
    expect(ids(await listJson(['--state', 'Ongoing', '--state', 'CompleteCommit']))).toEqual([DONE_ID, OPEN_ID]);
    expect(ids(await listJson(['--state', 'PrepareAbort']))).toEqual([]);

    const all = await listJson();
    const doneProducer = all.find((t) => t.transactionalId === DONE_ID)!.producerId;
    expect(ids(await listJson(['--producer-id', String(doneProducer)]))).toEqual([DONE_ID]);
    expect(ids(await listJson(['--producer-id', String(doneProducer), '--state', 'Ongoing']))).toEqual([]);

    // The open transaction started well over 1 ms ago (the setup's sends); none an hour ago.
    expect(ids(await listJson(['--min-duration-ms', '1']))).toContain(OPEN_ID);
    expect(ids(await listJson(['--min-duration-ms', '3600000']))).toEqual([]);
    // Text output with nothing listed: the header alone.
    const r = expectOk(await transactions(['list', '--state', 'PrepareAbort']), 'brook transactions list --state PrepareAbort');
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('brook transactions describe', () => {
  it('shows the open transaction: state, producer, timeout, start, duration and its partitions', async () => {
    const listed = (await listJson(['--state', 'Ongoing']))[0]!;
    const before = Date.now();
    const r = expectOk(await transactions(['describe', OPEN_ID, '--json']), 'brook transactions describe --json');
    const d = JSON.parse(r.stdout) as Description;
    expect(d).toMatchObject({ transactionalId: OPEN_ID, state: 'Ongoing', producerId: listed.producerId, timeoutMs: KAFKAJS_TXN_TIMEOUT_MS });
    expect(d.coordinator.nodeId).toBe(NODE_ID);
    expect(`${d.coordinator.host}:${d.coordinator.port}`).toBe(tb.bootstrap);
    expect(d.producerEpoch).toBeGreaterThanOrEqual(0);
    expect(d.partitions).toEqual([
      { topic: TOPIC, partition: 0 },
      { topic: TOPIC, partition: 2 },
    ]);
    expect(d.startTimeMs).not.toBeNull();
    expect(d.startTimeMs!).toBeLessThanOrEqual(before);
    expect(d.durationMs!).toBeGreaterThanOrEqual(0);

    const text = expectOk(await transactions(['describe', OPEN_ID]), 'brook transactions describe');
    const [header, row, ...more] = text.stdout.trimEnd().split('\n');
    expect(more).toEqual([]);
    expect(header!.split(/\s+/)).toEqual([
      'CoordinatorId',
      'TransactionalId',
      'ProducerId',
      'ProducerEpoch',
      'TransactionState',
      'CurrentTransactionTimeout',
      'CurrentTransactionStartTimeMs',
      'TransactionDurationMs',
      'TopicPartitions',
    ]);
    const cells = row!.split(/\s+/);
    expect([cells[0], cells[1], cells[2], cells[4], cells[5], cells[6], cells[8]]).toEqual([
      String(NODE_ID),
      OPEN_ID,
      String(listed.producerId),
      'Ongoing',
      String(KAFKAJS_TXN_TIMEOUT_MS),
      String(d.startTimeMs),
      `${TOPIC}-0,${TOPIC}-2`,
    ]);
  });

  it('shows a committed transaction with no partitions open', async () => {
    const d = JSON.parse(expectOk(await transactions(['describe', DONE_ID, '--json']), 'describe done').stdout) as Description;
    expect(d).toMatchObject({ transactionalId: DONE_ID, state: 'CompleteCommit', partitions: [] });
  });

  it('fails with one line and exit 1 for a transactional id nobody used', async () => {
    expectFailure(await transactions(['describe', 'no-such-txn']), /^brook transactions: transactional id 'no-such-txn' does not exist/);
  });
});

describe('brook transactions usage', () => {
  it('exits 2 for bad usage, before connecting', async () => {
    // A port nothing listens on: a usage error must come before any connection attempt.
    const nowhere = '127.0.0.1:1';
    const cases: [string[], RegExp][] = [
      [[], /give an action: list or describe/],
      [['abort'], /unknown action "abort"/],
      [['describe'], /describe needs a transactional id/],
      [['describe', 'a', 'b'], /describe takes one transactional id, got 2/],
      [['describe', 'a', '--state', 'Ongoing'], /--state can only be used with list/],
      [['list', 'extra'], /unexpected argument "extra"/],
      [['list', '--state', 'Running'], /--state: unknown state "Running"/],
      [['list', '--producer-id', '-1'], /--producer-id expects a producer id/],
      [['list', '--min-duration-ms', 'soon'], /--min-duration-ms expects an integer/],
      [['list', '--no-such-flag'], /unknown option --no-such-flag/],
    ];
    for (const [args, pattern] of cases) expectUsage(await inProcess(transactionsCommand, args, nowhere), pattern);
    // And one real process, for the exit code itself.
    expectUsage(await brook(['transactions', 'list', '--state', 'Running']), /unknown state "Running"/);
  });
});
