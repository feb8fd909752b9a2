/**
 * The web console's JSON API (docs/console.md): what each `api/v1/...` endpoint answers, as plain
 * functions of the Broker. No uWebSockets.js here (routes.ts does HTTP, auth and CSRF), and no
 * Kafka semantics of its own: topics are created and deleted by the CreateTopics and DeleteTopics
 * handlers themselves (called in-process, so every check they make applies: names, collisions,
 * delete.topic.enable, __consumer_offsets), configs are rendered by topic-configs.ts as
 * DescribeConfigs renders them, groups and offsets come from the coordinator, and an offset reset
 * is an OffsetCommit of a standalone consumer (generation -1), as kafka-consumer-groups
 * --reset-offsets sends it, so the coordinator's own rule refuses it while the group has members.
 *
 * Nothing is cached: every answer is read from the broker's live state when asked. Each call costs
 * a few native stats() calls per partition (offsets, size, segments), never a read of records.
 */
import { readFileSync } from 'node:fs';
import type { Broker } from '../broker/broker.js';
import type { Handler, RequestContext } from '../broker/handler.js';
import { createTopicsHandler } from '../broker/handlers/create-topics.js';
import { deleteTopicsHandler } from '../broker/handlers/delete-topics.js';
import { brokerConfigEntries, ConfigSource, topicConfigEntries, type ConfigEntry } from '../broker/topic-configs.js';
import { topicNameProblem, type Topic } from '../broker/topics.js';
import { decodeAssignment, type TopicPartition } from '../coordinator/assignors.js';
import type { AnyApi, Req, ResInput } from '../protocol/schema.js';
import { ErrorCode, errorName } from '../protocol/error-codes.js';
import { ZERO_UUID } from '../protocol/uuid.js';
import type { Principal } from '../ws/auth.js';

/** A refusal with its HTTP status; `code` is a Kafka error name or BAD_REQUEST, NOT_FOUND, ... */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 500 | 503,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Kafka error codes the admin handlers answer, as HTTP statuses. */
const STATUS_OF: ReadonlyMap<number, ApiError['status']> = new Map([
  [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 404],
  [ErrorCode.UNKNOWN_TOPIC_ID, 404],
  [ErrorCode.GROUP_ID_NOT_FOUND, 404],
  [ErrorCode.TOPIC_ALREADY_EXISTS, 409],
  [ErrorCode.NON_EMPTY_GROUP, 409],
  [ErrorCode.UNKNOWN_MEMBER_ID, 409],
  [ErrorCode.ILLEGAL_GENERATION, 409],
  [ErrorCode.REBALANCE_IN_PROGRESS, 409],
  [ErrorCode.INVALID_TOPIC_EXCEPTION, 400],
  [ErrorCode.INVALID_PARTITIONS, 400],
  [ErrorCode.INVALID_REPLICATION_FACTOR, 400],
  [ErrorCode.INVALID_REPLICA_ASSIGNMENT, 400],
  [ErrorCode.INVALID_CONFIG, 400],
  [ErrorCode.INVALID_REQUEST, 400],
  [ErrorCode.POLICY_VIOLATION, 403],
  [ErrorCode.TOPIC_DELETION_DISABLED, 403],
  [ErrorCode.COORDINATOR_NOT_AVAILABLE, 503],
  [ErrorCode.KAFKA_STORAGE_ERROR, 503],
]);

function kafkaFailure(errorCode: number, message: string | null): ApiError {
  return new ApiError(STATUS_OF.get(errorCode) ?? 500, errorName(errorCode), message ?? errorName(errorCode));
}

/**
 * Runs an admin handler in-process with a request built here: the handlers read only `broker` and
 * `version` from their context (the rest is for the wire: header, ApiVersions' list, the peer).
 */
async function callHandler<A extends AnyApi>(broker: Broker, handler: Handler<A>, version: number, req: Req<A>): Promise<ResInput<A>> {
  const ctx = { broker, version } as RequestContext;
  const res = await handler.handle(req, ctx);
  if (res === null) throw new Error(`${handler.api.name} answered nothing`);
  return res;
}

/** The package's version, read once (it cannot change while the process runs). */
const VERSION = ((): string => {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'brook' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not at this depth (sources vs dist/): try the next.
    }
  }
  return 'unknown';
})();

const SOURCE_NAME = new Map<number, string>(Object.entries(ConfigSource).map(([name, id]) => [id, name]));

function config(c: ConfigEntry): { name: string; value: string | null; source: string; readOnly: boolean; isDefault: boolean } {
  return { name: c.name, value: c.value, source: SOURCE_NAME.get(c.configSource) ?? 'UNKNOWN', readOnly: c.readOnly, isDefault: c.configSource === ConfigSource.DEFAULT_CONFIG };
}

interface PartitionInfo {
  partition: number;
  logStartOffset: number;
  /** The high watermark: one broker, so every appended record is committed. */
  logEndOffset: number;
  /** Bytes of segment files. */
  size: number;
  segments: number;
}

function partitionInfo(topic: Topic): PartitionInfo[] {
  return topic.partitions.map((log, partition) => {
    const s = log.stats();
    return { partition, logStartOffset: s.logStartOffset, logEndOffset: s.logEndOffset, size: s.size, segments: s.segmentCount };
  });
}

function topicSummary(topic: Topic) {
  const parts = partitionInfo(topic);
  let size = 0;
  let segments = 0;
  let records = 0;
  for (const p of parts) {
    size += p.size;
    segments += p.segments;
    records += p.logEndOffset - p.logStartOffset;
  }
  return { name: topic.name, id: topic.id, internal: topic.internal, partitions: parts.length, size, segments, records };
}

/** A topic by name for a principal that may read it; 400 for an illegal name, 404 otherwise. */
function readableTopic(broker: Broker, a: Access, name: string): Topic {
  const problem = topicNameProblem(name);
  if (problem) throw new ApiError(400, 'INVALID_TOPIC_EXCEPTION', problem);
  const topic = broker.topics.get(name);
  // An unreadable topic is answered like a missing one, so names are not disclosed either.
  if (!topic || !a.canRead(a.principal, name)) throw new ApiError(404, 'UNKNOWN_TOPIC_OR_PARTITION', `unknown topic ${name}`);
  return topic;
}

/** What the API needs besides the broker: who asks, and what they may touch (WsAuth's rules). */
export interface Access {
  principal: Principal;
  canRead(p: Principal, topic: string): boolean;
  canWrite(p: Principal, topic: string): boolean;
}

export class ConsoleApi {
  /** When the console (with its gateway) started: the broker's uptime as the console sees it. */
  readonly startedAt = Date.now();

  constructor(
    private readonly broker: Broker,
    private readonly gatewayStats: () => { connections: number; sseStreams: number; liveSubscribers: number },
  ) {}

  /** GET api/v1/overview. The byte and message totals are cumulative; the page derives rates. */
  overview() {
    const b = this.broker;
    let partitions = 0;
    let topics = 0;
    for (const t of b.topics.all()) {
      topics++;
      partitions += t.partitions.length;
    }
    const ws = this.gatewayStats();
    return {
      clusterId: b.clusterId,
      version: VERSION,
      now: Date.now(),
      startedAt: this.startedAt,
      uptimeMs: Date.now() - this.startedAt,
      brokers: [{ nodeId: b.config.nodeId, host: b.advertised.host, port: b.advertised.port }],
      topics,
      partitions,
      groups: b.groups.listGroups().groups.length,
      totals: b.stats.totals(),
      ws: { connections: ws.connections, sseStreams: ws.sseStreams, liveSubscribers: ws.liveSubscribers },
    };
  }

  /** GET api/v1/topics: the topics the principal may read. */
  topics(a: Access) {
    const out = [];
    for (const t of this.broker.topics.all()) if (a.canRead(a.principal, t.name)) out.push(topicSummary(t));
    out.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    return { topics: out };
  }

  /** GET api/v1/topics/:name */
  topic(a: Access, name: string) {
    const topic = readableTopic(this.broker, a, name);
    return {
      ...topicSummary(topic),
      partitionDetails: partitionInfo(topic),
      configs: topicConfigEntries(this.broker.config, topic.configs).map(config),
    };
  }

  /**
   * POST api/v1/topics `{"name", "partitions"?, "configs"?: {name: value}}`: CreateTopics v7 in-process
   * (partitions default: num.partitions; replication factor: the broker default).
   */
  async createTopic(a: Access, body: unknown) {
    const o = object(body);
    only(o, ['name', 'partitions', 'configs']);
    const name = o.name;
    if (typeof name !== 'string') throw new ApiError(400, 'BAD_REQUEST', '"name" must be a string');
    let partitions = -1;
    if (o.partitions !== undefined) {
      if (typeof o.partitions !== 'number' || !Number.isInteger(o.partitions)) throw new ApiError(400, 'BAD_REQUEST', '"partitions" must be an integer');
      partitions = o.partitions;
    }
    const configs: { name: string; value: string | null }[] = [];
    if (o.configs !== undefined) {
      for (const [k, v] of Object.entries(object(o.configs, '"configs"'))) {
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new ApiError(400, 'BAD_REQUEST', `config ${k} must be a string, number or boolean`);
        configs.push({ name: k, value: String(v) });
      }
    }
    if (!a.canWrite(a.principal, name)) throw new ApiError(403, 'FORBIDDEN', `${a.principal.name} may not write topic ${name}`);
    const res = await callHandler(this.broker, createTopicsHandler, 7, {
      topics: [{ name, numPartitions: partitions, replicationFactor: -1, assignments: [], configs }],
      timeoutMs: 0,
      validateOnly: false,
    } as Req<typeof createTopicsHandler.api>);
    const t = res.topics?.[0];
    if (!t || t.errorCode === undefined) throw new Error('CreateTopics answered no topic');
    if (t.errorCode !== ErrorCode.NONE) throw kafkaFailure(t.errorCode, t.errorMessage ?? null);
    return { name: t.name, id: t.topicId, partitions: t.numPartitions };
  }

  /** DELETE api/v1/topics/:name: DeleteTopics v6 in-process. */
  async deleteTopic(a: Access, name: string) {
    readableTopic(this.broker, a, name);
    if (!a.canWrite(a.principal, name)) throw new ApiError(403, 'FORBIDDEN', `${a.principal.name} may not write topic ${name}`);
    const res = await callHandler(this.broker, deleteTopicsHandler, 6, {
      topics: [{ name, topicId: ZERO_UUID }],
      topicNames: [],
      timeoutMs: 0,
    } as unknown as Req<typeof deleteTopicsHandler.api>);
    const r = res.responses?.[0];
    if (!r || r.errorCode === undefined) throw new Error('DeleteTopics answered no topic');
    if (r.errorCode !== ErrorCode.NONE) throw kafkaFailure(r.errorCode, r.errorMessage ?? null);
    return { deleted: name };
  }

  /** GET api/v1/groups */
  groups() {
    const listed = this.broker.groups.listGroups();
    if (listed.errorCode !== ErrorCode.NONE) throw kafkaFailure(listed.errorCode, null);
    const groups = listed.groups.map((g) => {
      const d = this.describe(g.groupId);
      return { groupId: g.groupId, state: g.groupState, protocolType: g.protocolType, protocol: d.protocol, members: d.members.length, lag: d.totalLag, partitions: d.offsets.length };
    });
    groups.sort((x, y) => (x.groupId < y.groupId ? -1 : x.groupId > y.groupId ? 1 : 0));
    return { groups };
  }

  /** GET api/v1/groups/:id */
  group(groupId: string) {
    if (!this.broker.groups.group(groupId)) throw new ApiError(404, 'GROUP_ID_NOT_FOUND', `unknown group ${groupId}`);
    return this.describe(groupId);
  }

  private describe(groupId: string) {
    const coordinator = this.broker.groups;
    const d = coordinator.describeGroup(groupId);
    if (d.errorCode !== ErrorCode.NONE) throw kafkaFailure(d.errorCode, null);
    const owner = new Map<string, string>();
    const members = d.members.map((m) => {
      let assignment: TopicPartition[] = [];
      // Assignments are only in the consumer protocol's format for protocol type "consumer" (and
      // only once Stable: describeGroup leaves them empty otherwise).
      if (d.protocolType === 'consumer') {
        try {
          assignment = decodeAssignment(m.memberAssignment);
        } catch {
          assignment = [];
        }
      }
      for (const tp of assignment) owner.set(`${tp.topic}\u0000${tp.partition}`, m.memberId);
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        // WebSocket members join with this client id prefix (ws/session.ts).
        kind: m.clientId.startsWith('brook-ws:') ? 'websocket' : 'kafka',
        assignment,
      };
    });
    const fetched = coordinator.fetchOffsets(groupId, null);
    if (fetched.errorCode !== ErrorCode.NONE) throw kafkaFailure(fetched.errorCode, null);
    const rows = new Map<string, { topic: string; partition: number; committed: number | null }>();
    for (const t of fetched.topics) {
      for (const p of t.partitions) rows.set(`${t.name}\u0000${p.partitionIndex}`, { topic: t.name, partition: p.partitionIndex, committed: p.committedOffset >= 0n ? Number(p.committedOffset) : null });
    }
    for (const m of members) for (const tp of m.assignment) if (!rows.has(`${tp.topic}\u0000${tp.partition}`)) rows.set(`${tp.topic}\u0000${tp.partition}`, { topic: tp.topic, partition: tp.partition, committed: null });
    let totalLag = 0;
    const offsets = [...rows.entries()]
      .map(([key, r]) => {
        const log = this.broker.topics.partition(r.topic, r.partition);
        const logEndOffset = log ? log.logEndOffset : null;
        // Kafka's tool: lag = log end - committed, unknown ("-") without a commit.
        const lag = r.committed !== null && logEndOffset !== null ? Math.max(0, logEndOffset - r.committed) : null;
        if (lag !== null) totalLag += lag;
        return { ...r, logStartOffset: log ? log.logStartOffset : null, logEndOffset, lag, memberId: owner.get(key) ?? null };
      })
      .sort((x, y) => (x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : x.partition - y.partition));
    return { groupId, state: d.groupState, protocolType: d.protocolType, protocol: d.protocolData, members, offsets, totalLag, now: Date.now() };
  }

  /**
   * POST api/v1/groups/:id/offsets `{"topic", "partitions"?: number[], "to": "earliest" | "latest" |
   * {"offset": n} | {"timestamp": ms}}`. Refused (409) while the group has members, like Kafka's
   * reset tool; an offset outside [log start, log end] is moved to the nearer end, as that tool does.
   */
  async resetOffsets(a: Access, groupId: string, body: unknown) {
    const o = object(body);
    only(o, ['topic', 'partitions', 'to']);
    if (typeof o.topic !== 'string') throw new ApiError(400, 'BAD_REQUEST', '"topic" must be a string');
    const target = resetTarget(o.to);
    const group = this.broker.groups.group(groupId);
    if (!group) throw new ApiError(404, 'GROUP_ID_NOT_FOUND', `unknown group ${groupId}`);
    const topic = readableTopic(this.broker, a, o.topic);
    let partitions: number[];
    if (o.partitions === undefined) partitions = topic.partitions.map((_, i) => i);
    else {
      if (!Array.isArray(o.partitions) || o.partitions.length === 0 || !o.partitions.every((p) => Number.isInteger(p))) {
        throw new ApiError(400, 'BAD_REQUEST', '"partitions" must be a non-empty array of partition numbers');
      }
      partitions = [...new Set(o.partitions as number[])];
      const missing = partitions.find((p) => !topic.partitions[p]);
      if (missing !== undefined) throw new ApiError(404, 'UNKNOWN_TOPIC_OR_PARTITION', `unknown partition ${topic.name}-${missing}`);
    }
    if (!group.is('Empty') && !group.is('Dead')) {
      throw new ApiError(409, 'NON_EMPTY_GROUP', `group ${groupId} has ${group.size} active member(s) (state ${group.state}): stop its consumers first (kafka-consumer-groups --reset-offsets refuses the same way)`);
    }
    const commits = partitions.map((p) => {
      const log = topic.partitions[p]!;
      const start = log.logStartOffset;
      const end = log.logEndOffset;
      let offset: number;
      if (target === 'earliest') offset = start;
      else if (target === 'latest') offset = end;
      else if (target.offset !== undefined) offset = Math.min(end, Math.max(start, target.offset));
      else offset = log.offsetForTimestamp(target.timestamp)?.offset ?? end;
      return { partitionIndex: p, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: '' };
    });
    // A standalone consumer's commit: the coordinator accepts it only while the group is Empty, so
    // a member that joined since the check above makes it fail (UNKNOWN_MEMBER_ID: 409) rather than race.
    const result = await this.broker.groups.commitOffsets({ groupId, generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: topic.name, partitions: commits }] });
    const failed = result[0]?.partitions.find((p) => p.errorCode !== ErrorCode.NONE);
    if (failed) throw kafkaFailure(failed.errorCode, `reset of ${groupId} failed on ${topic.name}-${failed.partitionIndex}: ${errorName(failed.errorCode)}`);
    return { groupId, topic: topic.name, offsets: commits.map((c) => ({ partition: c.partitionIndex, offset: Number(c.committedOffset) })) };
  }

  /** GET api/v1/configs/broker: every broker setting, as DescribeConfigs shows it. */
  brokerConfigs() {
    return { nodeId: this.broker.config.nodeId, configs: brokerConfigEntries(this.broker).map(config) };
  }
}

type ResetTarget = 'earliest' | 'latest' | { offset: number; timestamp?: undefined } | { offset?: undefined; timestamp: number };

function resetTarget(to: unknown): ResetTarget {
  if (to === 'earliest' || to === 'latest') return to;
  if (typeof to === 'object' && to !== null && !Array.isArray(to) && Object.keys(to).length === 1) {
    const { offset, timestamp } = to as { offset?: unknown; timestamp?: unknown };
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return { offset };
    if (typeof timestamp === 'number' && Number.isSafeInteger(timestamp)) return { timestamp };
  }
  throw new ApiError(400, 'BAD_REQUEST', '"to" must be "earliest", "latest", {"offset": n >= 0} or {"timestamp": ms}');
}

function object(v: unknown, what = 'the body'): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ApiError(400, 'BAD_REQUEST', `${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function only(o: Record<string, unknown>, keys: string[]): void {
  const extra = Object.keys(o).find((k) => !keys.includes(k));
  if (extra !== undefined) throw new ApiError(400, 'BAD_REQUEST', `unknown field "${extra}" (expected ${keys.join(', ')})`);
}
