/** The strict exposition parser the metrics tests rely on (test/prom-text.ts): what it accepts and refuses. */
import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from '../../prom-text.js';

describe('parsePrometheusText', () => {
  it('reads families, labels with escapes, special values and summaries', () => {
    const m = parsePrometheusText(
      [
        '# HELP a_total Things.',
        '# TYPE a_total counter',
        'a_total{topic="x\\"y\\\\z\\n"} 3',
        'a_total 4',
        '# TYPE lat summary',
        'lat{quantile="0.99"} NaN',
        'lat_sum 1.5e3',
        'lat_count 7',
        '# TYPE g gauge',
        'g +Inf',
        '',
      ].join('\n'),
    );
    expect(sampleValue(m, 'a_total', { topic: 'x"y\\z\n' })).toBe(3);
    expect(sampleValue(m, 'a_total', {}, true)).toBe(4);
    expect(sampleValue(m, 'lat', { quantile: '0.99' })).toBeNaN();
    expect(sampleValue(m, 'lat_sum')).toBe(1500);
    expect(m.get('lat')?.type).toBe('summary');
    expect(sampleValue(m, 'g')).toBe(Infinity);
  });

  it.each([
    ['a value that is not a number', 'x 1,5\n'],
    ['a series twice', 'x{a="1"} 1\nx{a="1"} 2\n'],
    ['a label twice', 'x{a="1",a="2"} 1\n'],
    ['an unquoted label value', 'x{a=1} 1\n'],
    ['a bad escape', 'x{a="\\t"} 1\n'],
    ['TYPE after the samples', 'x 1\n# TYPE x gauge\n'],
    ['a family split in two', '# TYPE x gauge\nx{a="1"} 1\n# TYPE y gauge\ny 1\nx{a="2"} 1\n'],
    ['a summary sample without quantile', '# TYPE s summary\ns 1\n'],
    ['buckets that are not cumulative', '# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="+Inf"} 4\nh_count 4\n'],
    ['a +Inf bucket unequal to _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 4\nh_count 5\n'],
    ['no final newline', 'x 1'],
  ])('refuses %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
