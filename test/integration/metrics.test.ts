/**
 * GET /metrics on the gateway listener, read by a strict Prometheus text parser (test/prom-text.ts)
 * and checked against what real kafkajs clients produced and consumed: messages and bytes in per
 * topic, bytes out, requests and errors per API, latency, log offsets and sizes, group lag after a
 * part-way commit, the gateway's counters; two brokers in one process keep separate numbers, and
 * metrics.enabled=false answers 404 and counts nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connect } from '../../src/client/index.js';
import { parsePrometheusText, sampleValue, samples, type PromFamily } from '../prom-text.js';
import { GROUP_TEST_PROPERTIES, kafkajs, startTestBroker, until, withAdmin, withProducer, type TestBroker } from './harness.js';

async function scrape(tb: TestBroker): Promise<Map<string, PromFamily>> {
  const res = await fetch(`http://127.0.0.1:${tb.broker.wsPort}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

const TOPIC = 'metrics-topic';
const PARTITIONS = 2;
/** Records per send() and per partition: each send is one Produce request with one batch per partition. */
const SENDS = 4;
const PER_PARTITION_PER_SEND = 5;
const N = SENDS * PER_PARTITION_PER_SEND * PARTITIONS;

describe('GET /metrics', () => {
  let a: TestBroker;
  let b: TestBroker | undefined;

  beforeAll(async () => {
    a = await startTestBroker({ properties: GROUP_TEST_PROPERTIES });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('counts what kafkajs produced and consumed, under the names Kafka dashboards query', async () => {
    const kafka = kafkajs(a.bootstrap);
    await withAdmin(kafka, async (admin) => {
      expect(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] })).toBe(true);
      // A second create answers TOPIC_ALREADY_EXISTS: one error for the request metrics.
      expect(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] })).toBe(false);
    });

    let valueBytes = 0;
    await withProducer(kafka, async (producer) => {
      for (let s = 0; s < SENDS; s++) {
        const messages = [];
        for (let p = 0; p < PARTITIONS; p++) {
          for (let i = 0; i < PER_PARTITION_PER_SEND; i++) {
            const value = 'v'.repeat(100 + 37 * i + s);
            valueBytes += value.length;
            messages.push({ partition: p, key: `k${i}`, value });
          }
        }
        await producer.send({ topic: TOPIC, messages, acks: -1 });
      }
    });

    // Consume everything in a group, then commit partition 0 only part way (offset 3) and partition 1 fully.
    const consumer = kafka.consumer({ groupId: 'metrics-group', sessionTimeout: 6000, heartbeatInterval: 500 });
    let consumed = 0;
    let consumedValueBytes = 0;
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ message }) => {
          consumed++;
          consumedValueBytes += message.value?.length ?? 0;
        },
      });
      await until('every record consumed', () => consumed === N);
      const perPartition = SENDS * PER_PARTITION_PER_SEND;
      await consumer.commitOffsets([
        { topic: TOPIC, partition: 0, offset: '3' },
        { topic: TOPIC, partition: 1, offset: String(perPartition) },
      ]);
    } finally {
      await consumer.disconnect();
    }
    expect(consumedValueBytes).toBe(valueBytes);

    const m = await scrape(a);
    const t = { topic: TOPIC };
    // Messages in: exactly what was produced, per topic and in the all-topics series (no topic label).
    expect(sampleValue(m, 'kafka_server_brokertopicmetrics_messagesin_total', t)).toBe(N);
    const topicSeries = samples(m, 'kafka_server_brokertopicmetrics_messagesin_total').filter((s) => s.labels.topic !== undefined);
    expect(sampleValue(m, 'kafka_server_brokertopicmetrics_messagesin_total', {}, true)).toBe(topicSeries.reduce((n, s) => n + s.value, 0));

    // Per partition: log end offset = records sent there, log start 0; the kafka_exporter names agree.
    const perPartition = SENDS * PER_PARTITION_PER_SEND;
    let logBytes = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const tp = { topic: TOPIC, partition: p };
      expect(sampleValue(m, 'kafka_log_log_logendoffset', tp)).toBe(perPartition);
      expect(sampleValue(m, 'kafka_log_log_logstartoffset', tp)).toBe(0);
      expect(sampleValue(m, 'kafka_topic_partition_current_offset', tp)).toBe(perPartition);
      expect(sampleValue(m, 'kafka_log_log_numlogsegments', tp)).toBe(1);
      logBytes += sampleValue(m, 'kafka_log_log_size', tp);
    }
    expect(sampleValue(m, 'kafka_topic_partitions', t)).toBe(PARTITIONS);

    // Bytes in: the batches as received, which is what the logs hold (no recompression here), and
    // more than the values alone (batch and record headers, keys).
    const bytesIn = sampleValue(m, 'kafka_server_brokertopicmetrics_bytesin_total', t);
    expect(bytesIn).toBe(logBytes);
    expect(bytesIn).toBeGreaterThan(valueBytes);
    // Bytes out: the consumer read every batch at least once.
    expect(sampleValue(m, 'kafka_server_brokertopicmetrics_bytesout_total', t)).toBeGreaterThanOrEqual(logBytes);
    expect(sampleValue(m, 'kafka_server_brokertopicmetrics_failedproducerequests_total', t)).toBe(0);

    // Requests: one Produce request per send(), all at one version; Fetch, Metadata, ApiVersions seen.
    const produceRequests = samples(m, 'kafka_network_requestmetrics_requests_total', { request: 'Produce' });
    expect(produceRequests.reduce((n, s) => n + s.value, 0)).toBe(SENDS);
    expect(produceRequests.every((s) => /^\d+$/.test(s.labels.version))).toBe(true);
    for (const request of ['Fetch', 'Metadata', 'ApiVersions', 'JoinGroup', 'SyncGroup', 'OffsetCommit', 'CreateTopics']) {
      expect(samples(m, 'kafka_network_requestmetrics_requests_total', { request }).reduce((n, s) => n + s.value, 0), request).toBeGreaterThan(0);
    }
    expect(sampleValue(m, 'kafka_network_requestmetrics_errors_total', { request: 'CreateTopics', error: 'TOPIC_ALREADY_EXISTS' })).toBe(1);
    expect(samples(m, 'kafka_network_requestmetrics_errors_total', { request: 'Produce' })).toEqual([]);

    // Latency: one observation per Produce request, in the summary and in the histogram.
    expect(sampleValue(m, 'kafka_network_requestmetrics_totaltimems_count', { request: 'Produce' })).toBe(SENDS);
    expect(sampleValue(m, 'brook_request_duration_seconds_count', { request: 'Produce' })).toBe(SENDS);
    expect(sampleValue(m, 'brook_request_duration_seconds_bucket', { request: 'Produce', le: '+Inf' })).toBe(SENDS);
    const p99 = sampleValue(m, 'kafka_network_requestmetrics_totaltimems', { request: 'Produce', quantile: '0.99' });
    expect(p99).toBeGreaterThan(0);
    expect(p99).toBeLessThanOrEqual(10_000);
    expect(m.get('kafka_network_requestmetrics_totaltimems')?.type).toBe('summary');
    expect(m.get('brook_request_duration_seconds')?.type).toBe('histogram');

    // The group: lag = log end offset - committed offset, per partition, after the part-way commit.
    const g = { consumergroup: 'metrics-group', topic: TOPIC };
    expect(sampleValue(m, 'kafka_consumergroup_lag', { ...g, partition: 0 })).toBe(perPartition - 3);
    expect(sampleValue(m, 'kafka_consumergroup_lag', { ...g, partition: 1 })).toBe(0);
    expect(sampleValue(m, 'kafka_consumergroup_current_offset', { ...g, partition: 0 })).toBe(3);
    expect(sampleValue(m, 'kafka_consumergroup_lag_sum', g)).toBe(perPartition - 3);
    expect(sampleValue(m, 'kafka_coordinator_group_groupmetadatamanager_numgroups')).toBe(1);
    expect(sampleValue(m, 'kafka_coordinator_group_groupmetadatamanager_numgroupsempty')).toBe(1);
    expect(sampleValue(m, 'kafka_coordinator_group_groupmetadatamanager_numgroupsstable')).toBe(0);
    expect(sampleValue(m, 'brook_consumergroup_state', { consumergroup: 'metrics-group', state: 'Empty' })).toBe(1);
    expect(sampleValue(m, 'kafka_consumergroup_members', { consumergroup: 'metrics-group' })).toBe(0);

    // One node: its own controller, nothing under-replicated or offline.
    expect(sampleValue(m, 'kafka_controller_kafkacontroller_activecontrollercount')).toBe(1);
    expect(sampleValue(m, 'kafka_controller_kafkacontroller_offlinepartitionscount')).toBe(0);
    expect(sampleValue(m, 'kafka_server_replicamanager_underreplicatedpartitions')).toBe(0);
    expect(sampleValue(m, 'kafka_server_replicamanager_partitioncount')).toBe(samples(m, 'kafka_log_log_size').length);

    // The gateway: no WebSocket client, and nothing ever dropped. Process metrics from prom-client.
    expect(sampleValue(m, 'brook_ws_frames_dropped_total')).toBe(0);
    expect(sampleValue(m, 'brook_ws_sessions')).toBe(0);
    expect(sampleValue(m, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(m, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // The console's totals are the same counters.
    expect(a.broker.broker.stats.totals()).toMatchObject({ messagesIn: N, bytesIn });
  });

  it('counts WebSocket sessions and the records delivered to them, and drops nothing', async () => {
    const client = connect(`ws://127.0.0.1:${a.broker.wsPort}/ws/v1`, { WebSocket });
    try {
      const it = client.subscribe({ topic: TOPIC, mode: 'assign', from: 'earliest' })[Symbol.asyncIterator]();
      for (let i = 0; i < N; i++) expect((await it.next()).done).toBe(false);
      const m = await scrape(a);
      expect(sampleValue(m, 'brook_ws_sessions')).toBe(1);
      // An assign-mode subscription: counted among subscriptions, not among live tails.
      expect(sampleValue(m, 'brook_ws_subscriptions')).toBe(1);
      expect(sampleValue(m, 'brook_ws_live_subscriptions')).toBe(0);
      expect(sampleValue(m, 'brook_ws_records_delivered_total')).toBe(N);
      expect(sampleValue(m, 'brook_ws_frames_sent_total')).toBeGreaterThanOrEqual(1);
      expect(sampleValue(m, 'brook_ws_frames_dropped_total')).toBe(0);
    } finally {
      client.close();
    }
    await until('the session closed', async () => sampleValue(await scrape(a), 'brook_ws_sessions') === 0);
    expect(sampleValue(await scrape(a), 'brook_ws_subscriptions')).toBe(0);
  });

  it('counts open Kafka connections', async () => {
    const kafka = kafkajs(a.bootstrap);
    await withAdmin(kafka, async (admin) => {
      await admin.listTopics();
      const m = await scrape(a);
      expect(sampleValue(m, 'kafka_server_socket_server_metrics_connection_count', { listener: 'PLAINTEXT', networkProcessor: 0 })).toBeGreaterThanOrEqual(1);
    });
  });

  it('keeps two brokers in one process apart', async () => {
    b = await startTestBroker();
    const before = sampleValue(await scrape(a), 'kafka_server_brokertopicmetrics_messagesin_total', {}, true);
    await withProducer(kafkajs(b.bootstrap), (p) => p.send({ topic: 'other', messages: [{ value: 'x' }, { value: 'y' }, { value: 'z' }] }));
    const mb = await scrape(b);
    expect(sampleValue(mb, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'other' })).toBe(3);
    expect(sampleValue(mb, 'kafka_server_brokertopicmetrics_messagesin_total', {}, true)).toBe(3);
    expect(samples(mb, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: TOPIC })).toEqual([]);
    const ma = await scrape(a);
    expect(sampleValue(ma, 'kafka_server_brokertopicmetrics_messagesin_total', {}, true)).toBe(before);
    expect(samples(ma, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'other' })).toEqual([]);

    // A deleted topic's series ends; the all-topics counter keeps what it took (it never goes down).
    await withAdmin(kafkajs(b.bootstrap), (admin) => admin.deleteTopics({ topics: ['other'] }));
    const gone = await scrape(b);
    expect(samples(gone, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'other' })).toEqual([]);
    expect(samples(gone, 'kafka_log_log_size', { topic: 'other' })).toEqual([]);
    expect(sampleValue(gone, 'kafka_server_brokertopicmetrics_messagesin_total', {}, true)).toBe(3);
  });

  it('answers 404 and counts nothing with metrics.enabled=false', async () => {
    const off = await startTestBroker({ properties: { 'metrics.enabled': false } });
    try {
      await withProducer(kafkajs(off.bootstrap), (p) => p.send({ topic: 'quiet', messages: [{ value: 'x' }] }));
      const res = await fetch(`http://127.0.0.1:${off.broker.wsPort}/metrics`);
      expect(res.status).toBe(404);
      await res.arrayBuffer();
      expect(off.broker.broker.stats.totals()).toEqual({ messagesIn: 0, bytesIn: 0, bytesOut: 0 });
      expect(off.broker.broker.stats.allApis()).toEqual([]);
    } finally {
      await off.close();
    }
  });
});
