import { describe, expect, it } from 'vitest';
import { repeatedKeys } from '../../../src/broker/handler.js';

describe('repeatedKeys', () => {
  it('names each key given more than once, once, and none given once', () => {
    const topics = [{ name: 'a' }, { name: 'b' }, { name: 'a' }, { name: 'c' }, { name: 'a' }, { name: 'c' }];
    expect(repeatedKeys(topics, (t) => t.name)).toEqual(new Set(['a', 'c']));
  });

  it('is empty for an empty or duplicate-free list', () => {
    expect(repeatedKeys([], String).size).toBe(0);
    expect(repeatedKeys(['x', 'y'], String).size).toBe(0);
  });

  it('compares by the derived key, not the entry', () => {
    const resources = [
      { resourceType: 2, resourceName: 't' },
      { resourceType: 4, resourceName: 't' },
      { resourceType: 2, resourceName: 't' },
    ];
    expect(repeatedKeys(resources, (r) => `${r.resourceType}:${r.resourceName}`)).toEqual(new Set(['2:t']));
  });
});
