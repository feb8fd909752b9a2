import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_MS } from '../../../src/broker/stats.js';
import { bucketQuantile } from '../../../src/metrics/collectors.js';

const counts = (entries: Record<number, number>) => {
  const c = new Float64Array(LATENCY_BUCKETS_MS.length + 1);
  for (const [i, n] of Object.entries(entries)) c[Number(i)] = n;
  return c;
};

describe('bucketQuantile', () => {
  it('is 0 with no observations', () => {
    expect(bucketQuantile(counts({}), 0.99)).toBe(0);
  });

  it('interpolates inside the bucket that holds the rank', () => {
    // 100 observations in (1, 2.5] ms (bucket 4): the median sits halfway through it.
    const i = LATENCY_BUCKETS_MS.indexOf(2.5);
    expect(bucketQuantile(counts({ [i]: 100 }), 0.5)).toBeCloseTo(1 + 1.5 * 0.5);
    // 90 fast (<= 0.1 ms) and 10 in (1, 2.5]: p50 is in the first bucket, p99 in the slow one.
    expect(bucketQuantile(counts({ 0: 90, [i]: 10 }), 0.5)).toBeLessThanOrEqual(0.1);
    expect(bucketQuantile(counts({ 0: 90, [i]: 10 }), 0.99)).toBeGreaterThan(1);
  });

  it('answers the largest finite bound for a rank in +Inf', () => {
    expect(bucketQuantile(counts({ [LATENCY_BUCKETS_MS.length]: 3 }), 0.5)).toBe(LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]);
  });
});
