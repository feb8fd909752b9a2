/**
 * The broker's traffic counters: plain numbers bumped once per request or once per partition batch,
 * never once per record, so counting costs the produce and fetch paths a few additions. Readers
 * (src/metrics/ for Prometheus, the web console through totals()) take them at their own pace;
 * nothing here allocates on the hot path except the first time a topic or API key is seen.
 *
 * What is counted, and where:
 * - messagesIn / bytesIn per topic: produce.ts, per partition batch appended; messages from the
 *   batch header's recordsCount (v2 header, offset 57), bytes the batch's length on the wire.
 * - bytesOut per topic: fetch.ts, the record bytes put in each partition's response (sum of slices).
 * - requests, errors and latency per API key: the dispatcher, per request; latency from the frame
 *   received to the response queued on the connection.
 */

/** Upper bounds, in milliseconds, of the latency buckets (Prometheus `le`, cumulative on export). */
export const LATENCY_BUCKETS_MS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** Cumulative counters of one topic. */
export class TopicStats {
  messagesIn = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Produce partition results with a non-zero error code. */
  failedProduce = 0;
  /** Fetch partition results with a non-zero error code. */
  failedFetch = 0;
}

/**
 * A latency histogram with fixed buckets: counts[i] holds observations <= LATENCY_BUCKETS_MS[i]
 * and > the bucket before (not cumulative: observe touches one slot); counts[last] is +Inf.
 */
export class LatencyHistogram {
  readonly counts = new Float64Array(LATENCY_BUCKETS_MS.length + 1);
  sumMs = 0;
  count = 0;

  observe(ms: number): void {
    let i = 0;
    const n = LATENCY_BUCKETS_MS.length;
    while (i < n && ms > LATENCY_BUCKETS_MS[i]) i++;
    this.counts[i]++;
    this.sumMs += ms;
    this.count++;
  }
}

/** Per API key: requests by version, errors by code, and request latency. */
export class ApiStats {
  /** Requests answered, indexed by request version (Kafka's RequestsPerSec has a version tag). */
  readonly byVersion: number[] = [];
  /** Error code -> count, for requests or partitions answered with a non-zero code. */
  readonly errors = new Map<number, number>();
  readonly latency = new LatencyHistogram();

  get requests(): number {
    let n = 0;
    for (const v of this.byVersion) n += v ?? 0;
    return n;
  }

  addError(code: number, n = 1): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + n);
  }
}

export interface TrafficTotals {
  messagesIn: number;
  bytesIn: number;
  bytesOut: number;
}

export class BrokerStats {
  /** False when metrics.enabled is off: hooks check it once per request and skip the counting. */
  enabled = true;
  /** Open Kafka connections; whoever owns the listener sets it (src/index.ts: KafkaServer.connectionCount). */
  connectionCount: () => number = () => 0;
  private readonly topics = new Map<string, TopicStats>();
  /** Indexed by api key: an array lookup per request, not a hash. */
  private readonly apis: (ApiStats | undefined)[] = [];
  // Running sums across topics, so totals() costs nothing and survives topic deletion.
  private messagesIn = 0;
  private bytesIn = 0;
  private bytesOut = 0;

  /** Cumulative messages in, bytes in and bytes out since start, all topics. */
  totals(): TrafficTotals {
    return { messagesIn: this.messagesIn, bytesIn: this.bytesIn, bytesOut: this.bytesOut };
  }

  /** The topic's counters (created at zero on first use). */
  topic(name: string): TopicStats {
    let t = this.topics.get(name);
    if (!t) {
      t = new TopicStats();
      this.topics.set(name, t);
    }
    return t;
  }

  /** Every topic counted so far, for exporters. */
  allTopics(): ReadonlyMap<string, TopicStats> {
    return this.topics;
  }

  /** The API key's counters (created at zero on first use). */
  api(apiKey: number): ApiStats {
    let a = this.apis[apiKey];
    if (!a) {
      a = new ApiStats();
      this.apis[apiKey] = a;
    }
    return a;
  }

  /** [api key, its counters] for every key seen so far. */
  allApis(): [number, ApiStats][] {
    const out: [number, ApiStats][] = [];
    this.apis.forEach((a, key) => {
      if (a) out.push([key, a]);
    });
    return out;
  }

  /** One partition batch appended: `records` from its header, `bytes` its size. */
  produced(t: TopicStats, records: number, bytes: number): void {
    t.messagesIn += records;
    t.bytesIn += bytes;
    this.messagesIn += records;
    this.bytesIn += bytes;
  }

  /** Record bytes put in one partition's fetch response. */
  fetched(t: TopicStats, bytes: number): void {
    t.bytesOut += bytes;
    this.bytesOut += bytes;
  }

  /** One request answered: latency from frame received to response queued. */
  request(apiKey: number, version: number, latencyMs: number): ApiStats {
    const a = this.api(apiKey);
    a.byVersion[version] = (a.byVersion[version] ?? 0) + 1;
    a.latency.observe(latencyMs);
    return a;
  }
}
