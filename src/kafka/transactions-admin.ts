/**
 * Transaction administration on the wire protocol, the reads kafka-transactions.sh does through
 * Kafka's AdminClient (KIP-664): list the transactional ids of the cluster, describe one. Only
 * Kafka's APIs, so it works against Apache Kafka and Redpanda too.
 *
 * Routing, as Kafka's AdminClient does it:
 * - ListTransactions goes to every broker (each answers for the transactional ids it coordinates)
 *   and the answers are merged, each listing tagged with the broker that gave it.
 * - DescribeTransactions goes to the id's transaction coordinator (FindCoordinator key type 1).
 *   COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE and NOT_COORDINATOR are retried (with a
 *   fresh FindCoordinator) until the client's timeout.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { describeTransactionsApi, findCoordinatorApi, listTransactionsApi } from '../protocol/messages.js';
import type { KafkaClient } from './client.js';
import type { BrokerConnection } from './connection.js';
import { check, KafkaResponseError } from './errors.js';

/** Error codes the coordinator answers while it moves or loads: retried with a fresh FindCoordinator. */
const RETRY_COORDINATOR: ReadonlySet<number> = new Set([ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR]);
const RETRY_BACKOFF_MS = 100;
/** FindCoordinator's key_type for a transactional id (0 is a consumer group). */
const KEY_TYPE_TRANSACTION = 1;

/** Kafka's transaction state names (TransactionState.stateName), as both APIs carry them. */
export const TRANSACTION_STATES = ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead', 'PrepareEpochFence'] as const;

export interface TransactionListing {
  transactionalId: string;
  /** The node id of the broker that listed it: its coordinator. */
  coordinator: number;
  producerId: bigint;
  state: string;
}

export interface ListTransactionsFilter {
  /** Kafka's state names; empty: any state. */
  states?: readonly string[];
  /** Empty: any producer. */
  producerIds?: readonly bigint[];
  /** Only transactions open longer than this (ListTransactions v1, KIP-994); undefined: no filter. */
  minDurationMs?: bigint;
}

export interface TransactionDescription {
  transactionalId: string;
  coordinator: { nodeId: number; host: string; port: number };
  state: string;
  producerId: bigint;
  producerEpoch: number;
  timeoutMs: number;
  /** -1 when no transaction is open. */
  startTimeMs: bigint;
  /** Topic and partitions of the open transaction, topics sorted, partitions ascending. */
  topics: { topic: string; partitions: number[] }[];
}

/**
 * ListTransactions from every broker of the cluster, merged and sorted by transactional id. A
 * duration filter needs v1 on every broker: one without it is an error rather than a silently
 * unfiltered answer.
 */
export async function listTransactions(client: KafkaClient, filter: ListTransactionsFilter = {}): Promise<TransactionListing[]> {
  const md = await client.metadata([]);
  const out: TransactionListing[] = [];
  await Promise.all(
    [...md.brokers.keys()].map(async (nodeId) => {
      const conn = await client.broker(nodeId);
      const v = conn.version(listTransactionsApi.apiKey);
      if (v === undefined) throw new Error(`broker ${nodeId} (${conn.host}:${conn.port}) does not serve ListTransactions`);
      if (filter.minDurationMs !== undefined && v < 1) throw new Error(`broker ${nodeId} (${conn.host}:${conn.port}) has no ListTransactions v1, which the duration filter needs`);
      const res = await conn.request(listTransactionsApi, {
        stateFilters: [...(filter.states ?? [])],
        producerIdFilters: [...(filter.producerIds ?? [])],
        durationFilter: filter.minDurationMs ?? -1n,
      });
      check(res.errorCode, `ListTransactions from broker ${nodeId}`);
      for (const t of res.transactionStates) out.push({ transactionalId: t.transactionalId, coordinator: nodeId, producerId: t.producerId, state: t.transactionState });
    }),
  );
  return out.sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : a.coordinator - b.coordinator));
}

/** The transaction coordinator of `transactionalId` and its node id. */
async function transactionCoordinator(client: KafkaClient, transactionalId: string): Promise<{ conn: BrokerConnection; nodeId: number }> {
  const any = await client.any();
  const v = any.version(findCoordinatorApi.apiKey);
  // key_type arrived in v1: a v0 request would ask for the group coordinator of that name.
  if (v === undefined || v < 1) throw new Error(`the broker at ${any.host}:${any.port} cannot look up transaction coordinators (FindCoordinator v${v ?? 'none'})`);
  const deadline = Date.now() + client.timeoutMs;
  for (;;) {
    const res = await any.request(findCoordinatorApi, { key: transactionalId, keyType: KEY_TYPE_TRANSACTION });
    // The transaction state topic is still being created or loaded: retry.
    if (RETRY_COORDINATOR.has(res.errorCode) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, RETRY_BACKOFF_MS));
      continue;
    }
    check(res.errorCode, `FindCoordinator for transactional id ${transactionalId}`, res.errorMessage);
    return { conn: await client.broker(res.nodeId), nodeId: res.nodeId };
  }
}

/**
 * Describes `transactionalId` at its coordinator; null when the coordinator does not know it
 * (TRANSACTIONAL_ID_NOT_FOUND). Other error codes are thrown.
 */
export async function describeTransaction(client: KafkaClient, transactionalId: string): Promise<TransactionDescription | null> {
  const deadline = Date.now() + client.timeoutMs;
  for (;;) {
    const { conn, nodeId } = await transactionCoordinator(client, transactionalId);
    const res = await conn.request(describeTransactionsApi, { transactionalIds: [transactionalId] });
    const t = res.transactionStates.find((x) => x.transactionalId === transactionalId) ?? res.transactionStates[0];
    if (!t) throw new KafkaResponseError(-1, `DescribeTransactions for ${transactionalId}: the answer has no entry`);
    if (RETRY_COORDINATOR.has(t.errorCode) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, RETRY_BACKOFF_MS));
      continue;
    }
    if (t.errorCode === ErrorCode.TRANSACTIONAL_ID_NOT_FOUND) return null;
    check(t.errorCode, `DescribeTransactions for transactional id ${transactionalId}`);
    return {
      transactionalId,
      coordinator: { nodeId, host: conn.host, port: conn.port },
      state: t.transactionState,
      producerId: t.producerId,
      producerEpoch: t.producerEpoch,
      timeoutMs: t.transactionTimeoutMs,
      startTimeMs: t.transactionStartTimeMs,
      topics: t.topics
        .map((x) => ({ topic: x.topic, partitions: [...x.partitions].sort((a, b) => a - b) }))
        .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0)),
    };
  }
}
