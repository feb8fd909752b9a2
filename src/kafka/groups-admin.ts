/**
 * Consumer-group administration on the wire protocol, the operations kafka-consumer-groups.sh does
 * through Kafka's AdminClient: list groups, describe them (state, members, assignments), read their
 * committed offsets, commit new offsets for a reset, delete groups (log offsets: offsets.ts). Only
 * Kafka's APIs, so it works against Apache Kafka and Redpanda too.
 *
 * Routing, as Kafka's AdminClient does it:
 * - ListGroups goes to every broker (each answers for the groups it coordinates) and the answers
 *   are merged.
 * - DescribeGroups, OffsetFetch, OffsetCommit and DeleteGroups go to the group's coordinator
 *   (FindCoordinator). COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE and NOT_COORDINATOR
 *   are retried (with a fresh FindCoordinator) until the client's timeout.
 *
 * A reset commits with generation -1 and an empty member id: the "simple" commit Kafka's
 * alterConsumerGroupOffsets sends, which the coordinator accepts only while the group has no members.
 */
import { decodeAssignment, type TopicPartition } from '../coordinator/assignors.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { deleteGroupsApi, describeGroupsApi, listGroupsApi, offsetCommitApi, offsetFetchApi } from '../protocol/messages.js';
import type { BrokerConnection } from './connection.js';
import type { KafkaClient } from './client.js';
import { check } from './errors.js';

/** Error codes the coordinator answers while it moves or loads: retried with a fresh FindCoordinator. */
const RETRY_COORDINATOR: ReadonlySet<number> = new Set([ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR]);
const RETRY_BACKOFF_MS = 100;

/** The consumer group states Kafka's tool accepts in `--state` filters (classic and KIP-848 groups). */
export const GROUP_STATES = ['PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty', 'Assigning', 'Reconciling'] as const;

export interface GroupListing {
  groupId: string;
  protocolType: string;
  /** Null when the broker's ListGroups is older than v4 (no state in the answer). */
  state: string | null;
}

export interface MemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Decoded from the consumer protocol's assignment bytes; empty for other protocol types. */
  assignment: TopicPartition[];
}

export interface GroupDescription {
  groupId: string;
  /** Kafka's state name; "Dead" also for a group the coordinator does not know. */
  state: string;
  protocolType: string;
  /** The assignor chosen for the generation ("range", "RoundRobinAssigner", ...); "" when none. */
  assignmentStrategy: string;
  members: MemberDescription[];
  coordinator: { host: string; port: number };
}

export interface CommittedOffset extends TopicPartition {
  offset: bigint;
  /** -1 when the commit carried none. */
  leaderEpoch: number;
  metadata: string | null;
}

/**
 * Runs `fn` against the coordinator of `groupId`; `fn` returns an error code (0 for success) with its
 * result. Coordinator-moving errors are retried until the client's timeout; others are returned.
 */
async function withCoordinator<T>(client: KafkaClient, groupId: string, fn: (conn: BrokerConnection) => Promise<{ errorCode: number; value: T }>): Promise<{ errorCode: number; value: T }> {
  const deadline = Date.now() + client.timeoutMs;
  for (;;) {
    const conn = await client.coordinator(groupId);
    const r = await fn(conn);
    if (!RETRY_COORDINATOR.has(r.errorCode) || Date.now() >= deadline) return r;
    await new Promise((res) => setTimeout(res, RETRY_BACKOFF_MS));
  }
}

/**
 * Consumer groups of the cluster: ListGroups from every broker, kept when the protocol type is
 * "consumer" or empty (a group that only has committed offsets), as Kafka's listConsumerGroups does.
 * `states` filters by state (case as in GROUP_STATES); brokers before ListGroups v4 are filtered here
 * from DescribeGroups.
 */
export async function listGroups(client: KafkaClient, states: readonly string[] = []): Promise<GroupListing[]> {
  const md = await client.metadata([]);
  const byId = new Map<string, GroupListing>();
  let stateless = false;
  await Promise.all(
    [...md.brokers.keys()].map(async (nodeId) => {
      const conn = await client.broker(nodeId);
      const v = conn.version(listGroupsApi.apiKey);
      const res = await conn.request(listGroupsApi, { statesFilter: [...states] });
      check(res.errorCode, `ListGroups from broker ${nodeId}`);
      for (const g of res.groups) {
        if (g.protocolType !== 'consumer' && g.protocolType !== '') continue;
        byId.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType, state: v !== undefined && v >= 4 ? g.groupState : null });
      }
      if (v === undefined || v < 4) stateless = true;
    }),
  );
  let groups = [...byId.values()];
  if (states.length > 0) {
    if (stateless) {
      const described = await describeGroups(client, groups.map((g) => g.groupId));
      for (const g of groups) g.state = described.get(g.groupId)?.state ?? null;
    }
    const wanted = new Set(states.map((s) => s.toLowerCase()));
    groups = groups.filter((g) => g.state !== null && wanted.has(g.state.toLowerCase()));
  }
  return groups.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

/** Describes each group at its coordinator. An unknown group comes back as state "Dead", never thrown. */
export async function describeGroups(client: KafkaClient, groupIds: readonly string[]): Promise<Map<string, GroupDescription>> {
  const out = new Map<string, GroupDescription>();
  await Promise.all(
    [...new Set(groupIds)].map(async (groupId) => {
      const r = await withCoordinator(client, groupId, async (conn) => {
        const res = await conn.request(describeGroupsApi, { groups: [groupId], includeAuthorizedOperations: false });
        const g = res.groups.find((x) => x.groupId === groupId) ?? res.groups[0];
        if (!g) throw new Error(`DescribeGroups for group ${groupId}: the answer has no group`);
        return { errorCode: g.errorCode, value: { g, conn } };
      });
      const { g, conn } = r.value;
      // Kafka 4's coordinator answers v6+ with GROUP_ID_NOT_FOUND; before that, Dead with NONE.
      if (r.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) {
        out.set(groupId, { groupId, state: 'Dead', protocolType: '', assignmentStrategy: '', members: [], coordinator: { host: conn.host, port: conn.port } });
        return;
      }
      check(r.errorCode, `DescribeGroups for group ${groupId}`);
      const consumer = g.protocolType === 'consumer' || g.protocolType === '';
      out.set(groupId, {
        groupId,
        state: g.groupState,
        protocolType: g.protocolType,
        assignmentStrategy: g.protocolData,
        coordinator: { host: conn.host, port: conn.port },
        members: g.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          assignment: consumer ? safeAssignment(m.memberAssignment) : [],
        })),
      });
    }),
  );
  return out;
}

/** A member's assignment bytes; bytes that are not a consumer assignment read as no partitions. */
function safeAssignment(bytes: Buffer): TopicPartition[] {
  try {
    return decodeAssignment(bytes);
  } catch {
    return [];
  }
}

/**
 * The group's committed offsets (every partition it has one for), sorted by topic and partition.
 * Partitions without a commit (offset -1) are left out, as Kafka's listConsumerGroupOffsets does.
 */
export async function committedOffsets(client: KafkaClient, groupId: string): Promise<CommittedOffset[]> {
  const r = await withCoordinator(client, groupId, async (conn) => {
    const v = conn.version(offsetFetchApi.apiKey);
    // OffsetFetch v2+ takes a null topic list for "every partition with a commit"; the connection
    // caps the version below v8 (where the request becomes a list of groups).
    if (v === undefined || v < 2 || v >= 8) throw new Error(`the broker at ${conn.host}:${conn.port} has no usable OffsetFetch version (v${v ?? 'none'})`);
    const res = await conn.request(offsetFetchApi, { groupId, topics: null, requireStable: false });
    return { errorCode: res.errorCode, value: res };
  });
  check(r.errorCode, `OffsetFetch for group ${groupId}`);
  const out: CommittedOffset[] = [];
  for (const t of r.value.topics) {
    for (const p of t.partitions) {
      check(p.errorCode, `OffsetFetch for group ${groupId}, ${t.name}-${p.partitionIndex}`);
      if (p.committedOffset < 0n) continue;
      out.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.metadata });
    }
  }
  return out.sort(compareTp);
}

export function compareTp(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

/**
 * Commits `offsets` for the group as a non-member (generation -1, empty member id), as Kafka's
 * alterConsumerGroupOffsets does; the coordinator refuses it while the group has members
 * (UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION). Throws the first partition error.
 */
export async function commitOffsets(client: KafkaClient, groupId: string, offsets: readonly (TopicPartition & { offset: bigint })[]): Promise<void> {
  if (offsets.length === 0) return;
  const byTopic = new Map<string, { partitionIndex: number; committedOffset: bigint }[]>();
  for (const o of offsets) {
    let ps = byTopic.get(o.topic);
    if (!ps) byTopic.set(o.topic, (ps = []));
    ps.push({ partitionIndex: o.partition, committedOffset: o.offset });
  }
  const r = await withCoordinator(client, groupId, async (conn) => {
    const res = await conn.request(offsetCommitApi, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [...byTopic].map(([name, ps]) => ({ name, partitions: ps.map((p) => ({ ...p, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' })) })),
    });
    // Coordinator errors come per partition here; the first one decides whether to retry.
    const first = res.topics.flatMap((t) => t.partitions.map((p) => ({ t: t.name, p }))).find((x) => x.p.errorCode !== 0);
    return { errorCode: first?.p.errorCode ?? 0, value: first };
  });
  if (r.value) check(r.errorCode, `OffsetCommit for group ${groupId}, ${r.value.t}-${r.value.p.partitionIndex}`);
}

/** Deletes each group at its coordinator; the error code per group (0: deleted). */
export async function deleteGroups(client: KafkaClient, groupIds: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  await Promise.all(
    [...new Set(groupIds)].map(async (groupId) => {
      const r = await withCoordinator(client, groupId, async (conn) => {
        const res = await conn.request(deleteGroupsApi, { groupsNames: [groupId] });
        const g = res.results.find((x) => x.groupId === groupId);
        return { errorCode: g ? g.errorCode : -1, value: undefined };
      });
      out.set(groupId, r.errorCode);
    }),
  );
  return out;
}
