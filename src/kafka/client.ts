/**
 * A Kafka cluster as the commands see it: bootstrap servers, the metadata they give (brokers,
 * controller, topics with partition leaders), one connection per broker opened on demand, and the
 * group coordinator of a group. Built only on the wire protocol, so it works against any Kafka.
 *
 * Bootstrap: the servers are tried in order, round after round with a short backoff, until one
 * answers or `timeoutMs` (the commands' --timeout-ms) has passed; then the error says which servers
 * were tried and the last reason.
 */
import { findCoordinatorApi, metadataApi } from '../protocol/messages.js';
import { BrokerConnection, type ConnectionOptions } from './connection.js';
import { check, ConnectionError, KafkaResponseError, RequestTimeoutError } from './errors.js';

export interface ClientOptions {
  /** host:port entries. */
  bootstrap: string[];
  clientId?: string;
  /** Finding a broker (bootstrap) must succeed within this; default 30 s. */
  timeoutMs?: number;
  /** Each request's answer; default 30 s (Kafka's request.timeout.ms). */
  requestTimeoutMs?: number;
}

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offline: number[];
  errorCode: number;
}

export interface TopicInfo {
  name: string;
  topicId: string;
  isInternal: boolean;
  errorCode: number;
  /** Sorted by partition. */
  partitions: PartitionInfo[];
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: Map<number, BrokerInfo>;
  topics: Map<string, TopicInfo>;
}

/** Parses `host:port[,host:port...]` (IPv6 as `[::1]:9092`). Throws with the bad entry named. */
export function parseBootstrap(list: string): { host: string; port: number }[] {
  const out = [];
  for (const entry of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(entry);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port < 1 || port > 65535) throw new Error(`bootstrap server "${entry}" is not host:port`);
    out.push({ host: (m[1] ?? m[2])!, port });
  }
  if (out.length === 0) throw new Error('no bootstrap server given');
  return out;
}

const BOOTSTRAP_BACKOFF_MS = 200;

export class KafkaClient {
  private readonly servers: { host: string; port: number }[];
  private readonly connOpts: ConnectionOptions;
  readonly timeoutMs: number;
  private readonly byNode = new Map<number, Promise<BrokerConnection>>();
  private bootstrapConn: Promise<BrokerConnection> | undefined;
  private cached: ClusterMetadata | undefined;
  private closed = false;

  constructor(opts: ClientOptions) {
    this.servers = opts.bootstrap.flatMap((s) => parseBootstrap(s));
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.connOpts = {
      clientId: opts.clientId ?? 'brook-cli',
      connectTimeoutMs: Math.min(this.timeoutMs, 10_000),
      requestTimeoutMs: opts.requestTimeoutMs ?? 30_000,
    };
  }

  /** Any live broker: the bootstrap connection, opened on first use. */
  async any(): Promise<BrokerConnection> {
    const current = this.bootstrapConn && (await this.bootstrapConn.catch(() => undefined));
    if (current && !current.closed) return current;
    this.bootstrapConn = this.bootstrap();
    return this.bootstrapConn;
  }

  private async bootstrap(): Promise<BrokerConnection> {
    const deadline = Date.now() + this.timeoutMs;
    let last: Error | undefined;
    for (;;) {
      for (const { host, port } of this.servers) {
        if (this.closed) throw new ConnectionError('client closed');
        const left = deadline - Date.now();
        if (left <= 0) break;
        try {
          return await BrokerConnection.open(host, port, { ...this.connOpts, connectTimeoutMs: Math.min(left, this.connOpts.connectTimeoutMs) });
        } catch (e) {
          if (e instanceof KafkaResponseError) throw e;
          last = e as Error;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      // Try again until the deadline itself: giving up a backoff early would break the promise of
      // the message below ("within N ms").
      await new Promise((r) => setTimeout(r, Math.min(BOOTSTRAP_BACKOFF_MS, left)));
    }
    const names = this.servers.map((s) => `${s.host}:${s.port}`).join(',');
    throw new RequestTimeoutError(`no broker reachable at ${names} within ${this.timeoutMs} ms${last ? ` (last error: ${last.message})` : ''}`);
  }

  /** The connection to broker `nodeId` (from the latest metadata), opened on first use. */
  async broker(nodeId: number): Promise<BrokerConnection> {
    const open = this.byNode.get(nodeId);
    if (open) {
      const conn = await open.catch(() => undefined);
      if (conn && !conn.closed) return conn;
    }
    let info = this.cached?.brokers.get(nodeId);
    if (!info) info = (await this.metadata([])).brokers.get(nodeId);
    if (!info) throw new ConnectionError(`broker ${nodeId} is not in the cluster metadata`);
    const { host, port } = info;
    const opening = BrokerConnection.open(host, port, this.connOpts);
    this.byNode.set(nodeId, opening);
    return opening;
  }

  /**
   * Metadata for `topics` (null: every topic; []: brokers only). Never creates topics. Topics the
   * broker does not know come back with their error code (UNKNOWN_TOPIC_OR_PARTITION), not thrown.
   */
  async metadata(topics: string[] | null = null): Promise<ClusterMetadata> {
    const conn = await this.any();
    const res = await conn.request(metadataApi, {
      topics: topics === null ? null : topics.map((name) => ({ name })),
      allowAutoTopicCreation: false,
    });
    const md: ClusterMetadata = {
      clusterId: res.clusterId,
      controllerId: res.controllerId,
      brokers: new Map(res.brokers.map((b) => [b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }])),
      topics: new Map(),
    };
    for (const t of res.topics) {
      if (t.name === null) continue;
      md.topics.set(t.name, {
        name: t.name,
        topicId: t.topicId,
        isInternal: t.isInternal,
        errorCode: t.errorCode,
        partitions: t.partitions
          .map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch, replicas: p.replicaNodes, isr: p.isrNodes, offline: p.offlineReplicas, errorCode: p.errorCode }))
          .sort((a, b) => a.partition - b.partition),
      });
    }
    this.cached = md;
    return md;
  }

  /** Metadata of one topic that must exist: throws UNKNOWN_TOPIC_OR_PARTITION (or its error) otherwise. */
  async topic(name: string): Promise<TopicInfo> {
    const md = await this.metadata([name]);
    const t = md.topics.get(name);
    if (!t) throw new KafkaResponseError(3, `topic ${name}`);
    check(t.errorCode, `topic ${name}`);
    return t;
  }

  /** The controller (admin requests that Kafka routes there: topic creation and deletion). */
  async controller(): Promise<BrokerConnection> {
    const md = await this.metadata([]);
    return md.controllerId >= 0 && md.brokers.has(md.controllerId) ? this.broker(md.controllerId) : this.any();
  }

  /** The coordinator of consumer group `groupId` (keyType 0). */
  async coordinator(groupId: string): Promise<BrokerConnection> {
    const conn = await this.any();
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const res = await conn.request(findCoordinatorApi, { key: groupId, keyType: 0 });
      // COORDINATOR_NOT_AVAILABLE / LOAD_IN_PROGRESS: the offsets topic is still loading; retry.
      if ((res.errorCode === 15 || res.errorCode === 14) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      check(res.errorCode, `FindCoordinator for group ${groupId}`, res.errorMessage);
      if (!this.cached?.brokers.has(res.nodeId)) {
        // A coordinator not yet in our metadata: connect by the address the answer gives.
        this.cached ??= { clusterId: null, controllerId: -1, brokers: new Map(), topics: new Map() };
        this.cached.brokers.set(res.nodeId, { nodeId: res.nodeId, host: res.host, port: res.port, rack: null });
      }
      return this.broker(res.nodeId);
    }
  }

  close(): void {
    this.closed = true;
    for (const p of [this.bootstrapConn, ...this.byNode.values()]) p?.then((c) => c.close(), () => {});
    this.byNode.clear();
    this.bootstrapConn = undefined;
  }
}
