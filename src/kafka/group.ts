/**
 * Membership of a consumer group for a Consumer (consumer.ts), through the classic protocol:
 * JoinGroup (with the MEMBER_ID_REQUIRED round of v4+), SyncGroup (the leader computes Kafka's range
 * assignment, src/coordinator/assignors.ts), Heartbeat every `heartbeatIntervalMs`, OffsetCommit of
 * the consumer's positions every `autoCommitIntervalMs` and before each rejoin and leave, LeaveGroup
 * on close. The assignment's start offsets are the group's committed offsets, else `autoOffsetReset`.
 *
 * A rebalance announced by the heartbeat (REBALANCE_IN_PROGRESS) commits, then rejoins with the
 * same member id; UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION (we were evicted) rejoins as a new member;
 * a coordinator that moved or went away is looked up again.
 */
import { encodeAssignment, encodeSubscription, decodeAssignment, decodeSubscription, rangeAssign, type TopicPartition } from '../coordinator/assignors.js';
import { heartbeatApi, joinGroupApi, leaveGroupApi, offsetCommitApi, offsetFetchApi, syncGroupApi } from '../protocol/messages.js';
import type { KafkaClient } from './client.js';
import type { BrokerConnection } from './connection.js';
import type { Consumer } from './consumer.js';
import { EARLIEST, LATEST, partitionOffsets } from './offsets.js';
import { check, KafkaResponseError } from './errors.js';

export interface GroupOptions {
  groupId: string;
  topics: string[];
  /** Default 45 s (Kafka 3's session.timeout.ms). */
  sessionTimeoutMs?: number;
  /** Default 60 s. */
  rebalanceTimeoutMs?: number;
  /** Default 3 s. */
  heartbeatIntervalMs?: number;
  /** Default 5 s; 0 turns periodic commits off (commits still happen on rebalance and close). */
  autoCommitIntervalMs?: number;
  autoOffsetReset?: 'earliest' | 'latest';
}

const MEMBER_ID_REQUIRED = 79;
const REBALANCE_IN_PROGRESS = 27;
const UNKNOWN_MEMBER_ID = 25;
const ILLEGAL_GENERATION = 22;

export class GroupMembership {
  private memberId = '';
  private generationId = -1;
  private coordinator: BrokerConnection | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private rejoining: Promise<void> | undefined;
  /** One heartbeat at a time: two answered REBALANCE_IN_PROGRESS would start two rejoins. */
  private heartbeatInFlight = false;
  private readonly sessionTimeoutMs: number;
  private readonly rebalanceTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly autoCommitIntervalMs: number;

  constructor(
    private readonly client: KafkaClient,
    private readonly consumer: Consumer,
    private readonly opts: GroupOptions,
  ) {
    this.sessionTimeoutMs = opts.sessionTimeoutMs ?? 45_000;
    this.rebalanceTimeoutMs = opts.rebalanceTimeoutMs ?? 60_000;
    this.heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 3_000;
    this.autoCommitIntervalMs = opts.autoCommitIntervalMs ?? 5_000;
  }

  /** Joins and assigns the consumer its partitions. */
  async start(): Promise<void> {
    await this.join();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.heartbeatIntervalMs);
    if (this.autoCommitIntervalMs > 0) this.commitTimer = setInterval(() => void this.commit().catch(() => {}), this.autoCommitIntervalMs);
  }

  /** Commits the consumer's positions for the current generation. */
  async commit(): Promise<void> {
    const positions = this.consumer.positions();
    if (positions.length === 0 || this.generationId < 0 || !this.coordinator) return;
    const byTopic = new Map<string, { partitionIndex: number; committedOffset: bigint; committedMetadata: string | null }[]>();
    for (const p of positions) {
      let list = byTopic.get(p.topic);
      if (!list) byTopic.set(p.topic, (list = []));
      list.push({ partitionIndex: p.partition, committedOffset: BigInt(p.offset), committedMetadata: '' });
    }
    const res = await this.coordinator.request(offsetCommitApi, {
      groupId: this.opts.groupId,
      generationIdOrMemberEpoch: this.generationId,
      memberId: this.memberId,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    });
    for (const t of res.topics) for (const p of t.partitions) check(p.errorCode, `OffsetCommit ${t.name}-${p.partitionIndex}`);
  }

  /** Commits, leaves the group and stops the timers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.commitTimer);
    await this.rejoining?.catch(() => {});
    await this.commit().catch(() => {});
    if (this.coordinator && this.memberId) {
      await this.coordinator
        .request(leaveGroupApi, { groupId: this.opts.groupId, memberId: this.memberId, members: [{ memberId: this.memberId, groupInstanceId: null }] })
        .catch(() => {});
    }
  }

  private async join(): Promise<void> {
    for (;;) {
      this.coordinator = await this.client.coordinator(this.opts.groupId);
      const res = await this.coordinator.request(
        joinGroupApi,
        {
          groupId: this.opts.groupId,
          sessionTimeoutMs: this.sessionTimeoutMs,
          rebalanceTimeoutMs: this.rebalanceTimeoutMs,
          memberId: this.memberId,
          protocolType: 'consumer',
          protocols: [{ name: 'range', metadata: encodeSubscription(this.opts.topics) }],
        },
        { extraWaitMs: this.rebalanceTimeoutMs },
      );
      if (res.errorCode === MEMBER_ID_REQUIRED) {
        this.memberId = res.memberId;
        continue;
      }
      if (res.errorCode === UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (res.errorCode === 16 || res.errorCode === 15 || res.errorCode === 14) {
        await new Promise((r) => setTimeout(r, 200)); // coordinator moved or loading
        continue;
      }
      check(res.errorCode, `JoinGroup ${this.opts.groupId}`);
      this.memberId = res.memberId;
      this.generationId = res.generationId;
      let assignments: { memberId: string; assignment: Buffer }[] = [];
      if (res.leader === res.memberId) assignments = await this.assign(res.members);
      const sync = await this.coordinator.request(
        syncGroupApi,
        { groupId: this.opts.groupId, generationId: this.generationId, memberId: this.memberId, protocolType: 'consumer', protocolName: 'range', assignments },
        { extraWaitMs: this.rebalanceTimeoutMs },
      );
      if (sync.errorCode === REBALANCE_IN_PROGRESS) continue;
      if (sync.errorCode === UNKNOWN_MEMBER_ID || sync.errorCode === ILLEGAL_GENERATION) {
        if (sync.errorCode === UNKNOWN_MEMBER_ID) this.memberId = '';
        continue;
      }
      check(sync.errorCode, `SyncGroup ${this.opts.groupId}`);
      const assignment = sync.assignment.length > 0 ? decodeAssignment(sync.assignment) : [];
      await this.consumer.assign(await this.startOffsets(assignment));
      return;
    }
  }

  /** The leader's job: Kafka's range assignment over every member's subscription. */
  private async assign(members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[]): Promise<{ memberId: string; assignment: Buffer }[]> {
    const subscribers = members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, topics: decodeSubscription(m.metadata).topics }));
    const topics = [...new Set(subscribers.flatMap((s) => s.topics))];
    const md = await this.client.metadata(topics);
    const plan = rangeAssign(subscribers, (t) => md.topics.get(t)?.partitions.length);
    return [...plan].map(([memberId, tps]) => ({ memberId, assignment: encodeAssignment(tps) }));
  }

  /** Committed offsets of the assignment; where there is none, the log start or end (autoOffsetReset). */
  private async startOffsets(tps: TopicPartition[]): Promise<{ topic: string; partition: number; offset: number }[]> {
    if (tps.length === 0) return [];
    const byTopic = new Map<string, number[]>();
    for (const tp of tps) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    const res = await this.coordinator!.request(offsetFetchApi, {
      groupId: this.opts.groupId,
      topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
    });
    check(res.errorCode, `OffsetFetch ${this.opts.groupId}`);
    const committed = new Map<string, number>();
    for (const t of res.topics)
      for (const p of t.partitions) {
        check(p.errorCode, `OffsetFetch ${t.name}-${p.partitionIndex}`);
        if (p.committedOffset >= 0n) committed.set(`${t.name}\0${p.partitionIndex}`, Number(p.committedOffset));
      }
    const out: { topic: string; partition: number; offset: number }[] = [];
    for (const [topic, partitions] of byTopic) {
      const missing = partitions.filter((p) => !committed.has(`${topic}\0${p}`));
      // Latest of a read_committed consumer is the last stable offset, as Kafka's reset does.
      const isolation = this.consumer.isolationLevel === 'read_committed' ? 1 : 0;
      const reset = missing.length ? await partitionOffsets(this.client, topic, missing, this.opts.autoOffsetReset === 'earliest' ? EARLIEST : LATEST, isolation) : new Map<number, number>();
      for (const p of partitions) out.push({ topic, partition: p, offset: committed.get(`${topic}\0${p}`) ?? reset.get(p)! });
    }
    return out;
  }

  private async heartbeat(): Promise<void> {
    if (this.closed || this.rejoining || this.heartbeatInFlight || !this.coordinator) return;
    this.heartbeatInFlight = true;
    let code: number;
    try {
      const res = await this.coordinator.request(heartbeatApi, { groupId: this.opts.groupId, generationId: this.generationId, memberId: this.memberId });
      code = res.errorCode;
    } catch {
      code = 15; // coordinator unreachable: find it again and rejoin
    } finally {
      this.heartbeatInFlight = false;
    }
    if (code === 0 || this.closed || this.rejoining) return;
    if (code !== REBALANCE_IN_PROGRESS && code !== UNKNOWN_MEMBER_ID && code !== ILLEGAL_GENERATION && code !== 16 && code !== 15) {
      this.consumer.stop(new KafkaResponseError(code, `Heartbeat ${this.opts.groupId}`));
      return;
    }
    this.rejoining = (async () => {
      if (code === REBALANCE_IN_PROGRESS) await this.commit().catch(() => {});
      if (code === UNKNOWN_MEMBER_ID) this.memberId = '';
      await this.consumer.assign([]);
      await this.join();
    })()
      .catch((e: Error) => this.consumer.stop(e))
      .finally(() => (this.rejoining = undefined));
  }
}
