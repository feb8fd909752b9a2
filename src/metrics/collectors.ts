/**
 * The Prometheus registry of one broker: every family is computed at scrape time from state the
 * broker keeps anyway (BrokerStats counters, partition logs, groups and committed offsets, the
 * gateway's counters), so nothing here runs on the produce or fetch path. One Registry per broker,
 * never prom-client's global one: two brokers in one process (tests, embedding) keep their numbers
 * apart. Names follow what dashboards already query; docs/metrics.md maps each to its Kafka MBean
 * or kafka_exporter metric and says what is approximated.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Broker } from '../broker/broker.js';
import { LATENCY_BUCKETS_MS, type ApiStats, type TopicStats } from '../broker/stats.js';
import type { Topic } from '../broker/topics.js';
import type { LogStats } from '../native/types.js';
import { apiKeyName } from '../protocol/api-keys.js';
import { errorName } from '../protocol/error-codes.js';
import type { GatewayStats } from '../ws/gateway.js';
import { Family, type Labels, type Sample } from './family.js';

export interface MetricsSource {
  broker: Broker;
  /** The gateway's counters, when it runs. */
  gateway?: () => GatewayStats | undefined;
}

/** Kafka's TotalTimeMs percentiles, as the JMX exporter labels them (50thPercentile -> "0.50"). */
const QUANTILES: readonly [number, string][] = [
  [0.5, '0.50'],
  [0.75, '0.75'],
  [0.95, '0.95'],
  [0.98, '0.98'],
  [0.99, '0.99'],
  [0.999, '0.999'],
];

/**
 * Kafka's percentiles come from a reservoir biased to the last five minutes; ours are computed over
 * the latency buckets filled since a snapshot taken between WINDOW_MS and 2 x WINDOW_MS ago (rotated
 * at scrape time), so they follow recent traffic too. The histogram family stays cumulative.
 */
const WINDOW_MS = 60_000;

/** Group states, as Kafka's GroupMetadataManager gauges name them (NumGroups<State>). */
const GROUP_STATES = ['PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty'] as const;

interface PartitionSnapshot {
  topic: Topic;
  partition: number;
  stats: LogStats;
}

interface GroupSnapshot {
  groupId: string;
  state: string;
  members: number;
  /** Committed offset and lag per partition that still exists. */
  offsets: { topic: string; partition: number; committed: number; lag: number }[];
}

/** What one scrape reads once and several families share (computed on first use, dropped after the tick). */
interface Snapshot {
  partitions: PartitionSnapshot[];
  groups: GroupSnapshot[];
}

class LatencyWindow {
  private older: Float64Array | undefined;
  private newer: Float64Array | undefined;
  private rotatedAt = 0;

  /** Bucket counts since the older snapshot (all counts until one exists). */
  recent(h: ApiStats['latency'], now: number): Float64Array {
    if (this.newer === undefined || now - this.rotatedAt >= WINDOW_MS) {
      this.older = this.newer;
      this.newer = Float64Array.from(h.counts);
      this.rotatedAt = now;
    }
    const base = this.older;
    return base ? h.counts.map((c, i) => c - base[i]) : h.counts;
  }
}

/**
 * The q-quantile (0..1) of bucketed observations, interpolating linearly inside the bucket that
 * holds it (Prometheus' histogram_quantile does the same); 0 with no observations, the largest
 * finite bound when it falls in +Inf.
 */
export function bucketQuantile(counts: ArrayLike<number>, q: number): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return 0;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c > 0 && below + c >= rank) {
      if (i >= LATENCY_BUCKETS_MS.length) return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1];
      const lo = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1];
      const hi = LATENCY_BUCKETS_MS[i];
      return lo + ((hi - lo) * (rank - below)) / c;
    }
    below += c;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1];
}

/**
 * prom-client's process and Node metrics (CPU, memory, event-loop delay, GC): one set per process,
 * since that is what they describe, shared by every broker's /metrics. Made once: its GC observer
 * and event-loop monitor cannot be stopped, so one set per broker would pile up in a process that
 * starts many (tests, embedding).
 */
let processMetrics: Registry | undefined;
function processRegistry(): Registry {
  if (processMetrics) return processMetrics;
  processMetrics = new Registry();
  // prom-client samples event-loop delay with a libuv timer at this period: its default, 10 ms,
  // wakes an idle broker 100 times a second (measured here: ~6 ms of CPU per second, metrics on
  // and never scraped, against ~1 ms at 100 ms). The delay percentiles still come from every sample.
  collectDefaultMetrics({ register: processMetrics, eventLoopMonitoringPrecision: 100 });
  return processMetrics;
}

/** The broker's own families, with the process-wide defaults, as one registry. */
export function createBrokerRegistry(src: MetricsSource): Registry {
  return Registry.merge([processRegistry(), brokerFamilies(src)]);
}

function brokerFamilies(src: MetricsSource): Registry {
  const { broker } = src;
  const stats = broker.stats;
  const registry = new Registry();

  let snap: Snapshot | undefined;
  // The registry calls every family's get() in one synchronous pass: they share one snapshot.
  const snapshot = (): Snapshot => {
    if (snap) return snap;
    const s: Snapshot = { partitions: [], groups: [] };
    for (const topic of broker.topics.all()) {
      topic.partitions.forEach((log, partition) => s.partitions.push({ topic, partition, stats: log.stats() }));
    }
    const coordinator = broker.groups;
    for (const { groupId } of coordinator.listGroups().groups) {
      const g = coordinator.group(groupId);
      if (!g) continue;
      const offsets: GroupSnapshot['offsets'] = [];
      for (const [topic, byPartition] of g.offsets) {
        for (const [partition, o] of byPartition) {
          const log = broker.topics.partition(topic, partition);
          if (!log || o.offset < 0n) continue;
          const committed = Number(o.offset);
          offsets.push({ topic, partition, committed, lag: log.logEndOffset - committed });
        }
      }
      s.groups.push({ groupId, state: g.state, members: g.members.size, offsets });
    }
    snap = s;
    setImmediate(() => (snap = undefined));
    return s;
  };

  const family = (name: string, help: string, type: 'counter' | 'gauge' | 'summary' | 'histogram', collect: () => Sample[]) => new Family(name, help, type, collect).register(registry);
  const single = (value: number, labels?: Labels): Sample[] => [{ value, labels }];

  // ---------------------------------------------------------------- BrokerTopicMetrics
  // Kafka has one MBean per topic plus one for all topics (no topic tag); the JMX exporter turns
  // both into the same name, the total without a topic label. Brook does the same. Per-topic series
  // are those of topics that exist now (a deleted topic's series ends, as in Kafka); the total keeps
  // counting what deleted topics took, so it never goes down.
  const topicCounter = (name: string, mbean: string, pick: (t: TopicStats) => number, total: () => number) =>
    family(`kafka_server_brokertopicmetrics_${name}_total`, `kafka.server:type=BrokerTopicMetrics,name=${mbean}`, 'counter', () => {
      const out: Sample[] = [];
      for (const [topic, t] of stats.allTopics()) if (broker.topics.get(topic)) out.push({ value: pick(t), labels: { topic } });
      out.push({ value: total() });
      return out;
    });
  const sumAll = (pick: (t: TopicStats) => number) => () => {
    let n = 0;
    for (const t of stats.allTopics().values()) n += pick(t);
    return n;
  };
  topicCounter('messagesin', 'MessagesInPerSec', (t) => t.messagesIn, () => stats.totals().messagesIn);
  topicCounter('bytesin', 'BytesInPerSec', (t) => t.bytesIn, () => stats.totals().bytesIn);
  topicCounter('bytesout', 'BytesOutPerSec', (t) => t.bytesOut, () => stats.totals().bytesOut);
  topicCounter('failedproducerequests', 'FailedProduceRequestsPerSec (partitions whose append failed)', (t) => t.failedProduce, sumAll((t) => t.failedProduce));
  topicCounter('failedfetchrequests', 'FailedFetchRequestsPerSec (partitions answered with an error)', (t) => t.failedFetch, sumAll((t) => t.failedFetch));

  // ---------------------------------------------------------------- RequestMetrics
  family('kafka_network_requestmetrics_requests_total', 'kafka.network:type=RequestMetrics,name=RequestsPerSec: requests answered by API and version', 'counter', () => {
    const out: Sample[] = [];
    for (const [key, a] of stats.allApis()) {
      a.byVersion.forEach((n, version) => {
        if (n) out.push({ value: n, labels: { request: apiKeyName(key), version } });
      });
    }
    return out;
  });
  family('kafka_network_requestmetrics_errors_total', 'kafka.network:type=RequestMetrics,name=ErrorsPerSec: non-zero error codes in responses (request- and partition-level), by API and error', 'counter', () => {
    const out: Sample[] = [];
    for (const [key, a] of stats.allApis()) for (const [code, n] of a.errors) out.push({ value: n, labels: { request: apiKeyName(key), error: errorName(code) } });
    return out;
  });
  const windows = new Map<number, LatencyWindow>();
  family('kafka_network_requestmetrics_totaltimems', 'kafka.network:type=RequestMetrics,name=TotalTimeMs: frame received to response queued, ms; quantiles over the last 1-2 minutes', 'summary', () => {
    const out: Sample[] = [];
    const now = Date.now();
    for (const [key, a] of stats.allApis()) {
      let w = windows.get(key);
      if (!w) windows.set(key, (w = new LatencyWindow()));
      const recent = w.recent(a.latency, now);
      const request = apiKeyName(key);
      for (const [q, label] of QUANTILES) out.push({ value: bucketQuantile(recent, q), labels: { request, quantile: label } });
      out.push({ metricName: 'kafka_network_requestmetrics_totaltimems_sum', value: a.latency.sumMs, labels: { request } });
      out.push({ metricName: 'kafka_network_requestmetrics_totaltimems_count', value: a.latency.count, labels: { request } });
    }
    return out;
  });
  family('brook_request_duration_seconds', 'Kafka requests, frame received to response queued (cumulative buckets, for histogram_quantile)', 'histogram', () => {
    const out: Sample[] = [];
    for (const [key, a] of stats.allApis()) {
      const request = apiKeyName(key);
      const h = a.latency;
      let cumulative = 0;
      LATENCY_BUCKETS_MS.forEach((le, i) => {
        cumulative += h.counts[i];
        out.push({ metricName: 'brook_request_duration_seconds_bucket', value: cumulative, labels: { request, le: le / 1000 } });
      });
      out.push({ metricName: 'brook_request_duration_seconds_bucket', value: h.count, labels: { request, le: '+Inf' } });
      out.push({ metricName: 'brook_request_duration_seconds_sum', value: h.sumMs / 1000, labels: { request } });
      out.push({ metricName: 'brook_request_duration_seconds_count', value: h.count, labels: { request } });
    }
    return out;
  });

  // ---------------------------------------------------------------- Log (per partition)
  const perPartition = (name: string, help: string, pick: (s: LogStats) => number) =>
    family(name, help, 'gauge', () => snapshot().partitions.map((p) => ({ value: pick(p.stats), labels: { topic: p.topic.name, partition: p.partition } })));
  perPartition('kafka_log_log_size', 'kafka.log:type=Log,name=Size: bytes of the partition log on disk', (s) => s.size);
  perPartition('kafka_log_log_logstartoffset', 'kafka.log:type=Log,name=LogStartOffset', (s) => s.logStartOffset);
  perPartition('kafka_log_log_logendoffset', 'kafka.log:type=Log,name=LogEndOffset', (s) => s.logEndOffset);
  perPartition('kafka_log_log_numlogsegments', 'kafka.log:type=Log,name=NumLogSegments', (s) => s.segmentCount);
  // kafka_exporter's names for the same offsets (its lag dashboards read them beside kafka_consumergroup_lag).
  perPartition('kafka_topic_partition_current_offset', 'kafka_exporter: the partition\'s next offset (log end offset = high watermark on one node)', (s) => s.logEndOffset);
  perPartition('kafka_topic_partition_oldest_offset', 'kafka_exporter: the partition\'s oldest offset (log start offset)', (s) => s.logStartOffset);
  family('kafka_topic_partitions', 'kafka_exporter: partitions per topic', 'gauge', () => [...broker.topics.all()].map((t) => ({ value: t.partitions.length, labels: { topic: t.name } })));

  // ---------------------------------------------------------------- Replication and controller
  // A single node leads every partition, none is under-replicated or offline, and it is the
  // controller; a cluster member reports its replicas as Kafka's brokers do (the controller alone
  // counts offline partitions).
  const partitionCount = () => snapshot().partitions.length;
  const repl = () => broker.cluster?.replicationStats();
  family('kafka_server_replicamanager_underreplicatedpartitions', 'kafka.server:type=ReplicaManager,name=UnderReplicatedPartitions: partitions led here whose ISR is smaller than their replica list', 'gauge', () => single(repl()?.underReplicated ?? 0));
  family('kafka_server_replicamanager_partitioncount', 'kafka.server:type=ReplicaManager,name=PartitionCount', 'gauge', () => single(repl()?.partitions ?? partitionCount()));
  family('kafka_server_replicamanager_leadercount', 'kafka.server:type=ReplicaManager,name=LeaderCount', 'gauge', () => single(repl()?.leaders ?? partitionCount()));
  family('kafka_server_replicamanager_isrshrinks_total', 'kafka.server:type=ReplicaManager,name=IsrShrinksPerSec: ISR shrinks made by this broker as leader', 'counter', () => single(repl()?.isrShrinks ?? 0));
  family('kafka_server_replicamanager_isrexpands_total', 'kafka.server:type=ReplicaManager,name=IsrExpandsPerSec: ISR expansions made by this broker as leader', 'counter', () => single(repl()?.isrExpands ?? 0));
  family('kafka_controller_kafkacontroller_activecontrollercount', 'kafka.controller:type=KafkaController,name=ActiveControllerCount (1 on the controller; a single node is its own)', 'gauge', () => single(repl()?.activeController ?? 1));
  family('kafka_controller_kafkacontroller_offlinepartitionscount', 'kafka.controller:type=KafkaController,name=OfflinePartitionsCount: partitions without a live leader (reported by the controller)', 'gauge', () => single(repl()?.offline ?? 0));
  family('kafka_controller_kafkacontroller_globaltopiccount', 'kafka.controller:type=KafkaController,name=GlobalTopicCount', 'gauge', () => single([...broker.topics.all()].length));
  family('kafka_controller_kafkacontroller_globalpartitioncount', 'kafka.controller:type=KafkaController,name=GlobalPartitionCount', 'gauge', () => single(partitionCount()));
  family('kafka_brokers', 'kafka_exporter: brokers in the cluster', 'gauge', () => single(repl()?.liveBrokers ?? 1));

  // ---------------------------------------------------------------- Groups
  family('kafka_coordinator_group_groupmetadatamanager_numgroups', 'kafka.coordinator.group:type=GroupMetadataManager,name=NumGroups', 'gauge', () => single(snapshot().groups.length));
  for (const state of GROUP_STATES) {
    family(`kafka_coordinator_group_groupmetadatamanager_numgroups${state.toLowerCase()}`, `kafka.coordinator.group:type=GroupMetadataManager,name=NumGroups${state}`, 'gauge', () => single(snapshot().groups.filter((g) => g.state === state).length));
  }
  family('brook_consumergroup_state', 'Each group\'s state as a label, value 1 (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead)', 'gauge', () => snapshot().groups.map((g) => ({ value: 1, labels: { consumergroup: g.groupId, state: g.state } })));
  family('kafka_consumergroup_members', 'kafka_exporter: members of a group', 'gauge', () => snapshot().groups.map((g) => ({ value: g.members, labels: { consumergroup: g.groupId } })));
  family('kafka_consumergroup_current_offset', 'kafka_exporter: committed offset of a group on a partition', 'gauge', () =>
    snapshot().groups.flatMap((g) => g.offsets.map((o) => ({ value: o.committed, labels: { consumergroup: g.groupId, topic: o.topic, partition: o.partition } }))),
  );
  family('kafka_consumergroup_lag', 'kafka_exporter: log end offset minus the group\'s committed offset, per partition', 'gauge', () =>
    snapshot().groups.flatMap((g) => g.offsets.map((o) => ({ value: o.lag, labels: { consumergroup: g.groupId, topic: o.topic, partition: o.partition } }))),
  );
  family('kafka_consumergroup_lag_sum', 'kafka_exporter: kafka_consumergroup_lag summed over a topic\'s partitions', 'gauge', () => {
    const out: Sample[] = [];
    for (const g of snapshot().groups) {
      const byTopic = new Map<string, number>();
      for (const o of g.offsets) byTopic.set(o.topic, (byTopic.get(o.topic) ?? 0) + o.lag);
      for (const [topic, lag] of byTopic) out.push({ value: lag, labels: { consumergroup: g.groupId, topic } });
    }
    return out;
  });

  // ---------------------------------------------------------------- Connections
  family('kafka_server_socket_server_metrics_connection_count', 'kafka.server:type=socket-server-metrics,listener=*,networkProcessor=*: open Kafka connections (one event loop: networkProcessor 0)', 'gauge', () =>
    single(stats.connectionCount(), { listener: broker.config.listener.name, networkProcessor: 0 }),
  );

  // ---------------------------------------------------------------- WebSocket gateway (Brook's own)
  const ws = (name: string, help: string, type: 'counter' | 'gauge', pick: (g: GatewayStats) => number) =>
    family(name, help, type, () => {
      const g = src.gateway?.();
      return g ? single(pick(g)) : [];
    });
  ws('brook_ws_sessions', 'Open WebSocket sessions', 'gauge', (g) => g.connections);
  ws('brook_ws_sse_streams', 'Open SSE streams', 'gauge', (g) => g.sseStreams);
  ws('brook_ws_subscriptions', 'Subscriptions on open WebSocket sessions (live, assign and group modes)', 'gauge', (g) => g.subscriptions);
  ws('brook_ws_live_subscriptions', 'Subscriptions fed by a shared live tail', 'gauge', (g) => g.liveSubscribers);
  ws('brook_ws_frames_sent_total', 'Data frames sent to WebSocket and SSE consumers', 'counter', (g) => g.framesSent);
  ws('brook_ws_records_delivered_total', 'Records delivered to WebSocket and SSE consumers', 'counter', (g) => g.recordsSent);
  ws('brook_ws_frames_dropped_total', 'Messages uWebSockets.js dropped for backpressure: must stay 0 (anything else is a bug)', 'counter', (g) => g.dropped);
  ws('brook_ws_slow_consumer_actions_total', 'Times a slow subscription\'s overflow policy fired', 'counter', (g) => g.slowConsumerActions);
  ws('brook_ws_connections_refused_total', 'WebSocket connections refused (ws.max.connections)', 'counter', (g) => g.refused);
  ws('brook_ws_handler_errors_total', 'Gateway handlers that threw (answered 500 / closed 1011)', 'counter', (g) => g.handlerErrors);

  return registry;
}
