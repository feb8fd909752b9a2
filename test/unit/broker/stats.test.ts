import { describe, expect, it } from 'vitest';
import { BrokerStats, LATENCY_BUCKETS_MS, LatencyHistogram } from '../../../src/broker/stats.js';

describe('BrokerStats', () => {
  it('sums batches per topic and across topics into totals()', () => {
    const s = new BrokerStats();
    s.produced(s.topic('a'), 10, 1000);
    s.produced(s.topic('a'), 5, 400);
    s.produced(s.topic('b'), 1, 70);
    s.fetched(s.topic('a'), 1400);
    expect(s.topic('a')).toMatchObject({ messagesIn: 15, bytesIn: 1400, bytesOut: 1400 });
    expect(s.topic('b')).toMatchObject({ messagesIn: 1, bytesIn: 70, bytesOut: 0 });
    expect(s.totals()).toEqual({ messagesIn: 16, bytesIn: 1470, bytesOut: 1400 });
    expect([...s.allTopics().keys()]).toEqual(['a', 'b']);
  });

  it('counts requests per API key and version, and errors by code', () => {
    const s = new BrokerStats();
    s.request(0, 9, 1.2);
    s.request(0, 9, 0.3);
    s.request(0, 11, 2);
    s.request(3, 12, 0.05).addError(3);
    const produce = s.api(0);
    expect(produce.requests).toBe(3);
    expect(produce.byVersion[9]).toBe(2);
    expect(produce.byVersion[11]).toBe(1);
    expect(s.api(3).errors.get(3)).toBe(1);
    expect(s.allApis().map(([key]) => key)).toEqual([0, 3]);
  });
});

describe('LatencyHistogram', () => {
  it('puts an observation in the first bucket whose bound it does not exceed, and above the last in +Inf', () => {
    const h = new LatencyHistogram();
    h.observe(0); // <= 0.1
    h.observe(0.1); // <= 0.1 (bounds are inclusive, as Prometheus' le)
    h.observe(0.11); // <= 0.25
    h.observe(LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1] + 1); // +Inf
    expect(h.counts[0]).toBe(2);
    expect(h.counts[1]).toBe(1);
    expect(h.counts[LATENCY_BUCKETS_MS.length]).toBe(1);
    expect(h.count).toBe(4);
    expect(h.sumMs).toBeCloseTo(0.21 + LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1] + 1);
  });
});
