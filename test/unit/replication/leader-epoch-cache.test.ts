// The cases of Kafka's LeaderEpochFileCacheTest, in our words, plus the file and load() behaviour.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaderEpochCache, UNDEFINED_EPOCH, UNDEFINED_OFFSET, parseLeaderEpochCheckpoint } from '../../../src/replication/leader-epoch-cache.js';

const UNDEFINED = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET };
const e = (epoch: number, startOffset: number) => ({ epoch, startOffset });
const at = (epoch: number, endOffset: number) => ({ epoch, endOffset });

function cacheOf(...entries: [number, number][]): LeaderEpochCache {
  const cache = LeaderEpochCache.inMemory();
  for (const [epoch, offset] of entries) cache.assign(epoch, offset);
  return cache;
}

describe('LeaderEpochCache: assign', () => {
  it('records an epoch and answers its end as the log end offset', () => {
    const cache = cacheOf([2, 10]);
    expect(cache.latestEpoch()).toBe(2);
    expect(cache.entries()).toEqual([e(2, 10)]);
    expect(cache.endOffsetFor(2, 11)).toEqual(at(2, 11));
  });

  it('keeps the first start offset of an epoch (later batches of the same epoch change nothing)', () => {
    expect(cacheOf([2, 9], [2, 10]).entries()).toEqual([e(2, 9)]);
    expect(cacheOf([2, 6], [2, 7]).entries()).toEqual([e(2, 6)]);
  });

  it('moves the latest epoch to an earlier start offset', () => {
    const cache = cacheOf([5, 11], [6, 12], [7, 13], [7, 12]);
    expect(cache.entries()).toEqual([e(5, 11), e(7, 12)]);
    expect(cache.endOffsetFor(5, 0)).toEqual(at(5, 12));
    expect(cache.endOffsetFor(6, 0)).toEqual(at(5, 12));
  });

  it('replaces an epoch that starts at the same offset as a newer one (no records were written in it)', () => {
    expect(cacheOf([2, 9], [3, 9]).entries()).toEqual([e(3, 9)]);
  });

  it('drops newer epochs when an older epoch is assigned at a later offset', () => {
    const cache = cacheOf([1, 5], [2, 6], [1, 7]);
    expect(cache.latestEpoch()).toBe(1);
    expect(cache.entries()).toEqual([e(1, 7)]);
    expect(cache.endOffsetFor(1, 8)).toEqual(at(1, 8));
    expect(cache.endOffsetFor(2, 8)).toEqual(UNDEFINED);
  });

  it('drops entries at or after a new epoch that starts earlier', () => {
    expect(cacheOf([2, 6], [3, 5]).entries()).toEqual([e(3, 5)]);
  });

  it('ignores negative epochs (batches written before epochs existed) and rejects negative offsets', () => {
    const cache = cacheOf([-1, 0], [0, 3]);
    expect(cache.entries()).toEqual([e(0, 3)]);
    expect(() => cache.assign(1, -1)).toThrow(/invalid/);
    expect(cache.entries()).toEqual([e(0, 3)]);
  });

  it('keeps entries strictly increasing in epoch and offset whatever the order of assigns', () => {
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const cache = LeaderEpochCache.inMemory();
    for (let i = 0; i < 2000; i++) {
      cache.assign(rand(20), rand(100));
      const entries = cache.entries();
      for (let j = 1; j < entries.length; j++) {
        expect(entries[j]!.epoch).toBeGreaterThan(entries[j - 1]!.epoch);
        expect(entries[j]!.startOffset).toBeGreaterThan(entries[j - 1]!.startOffset);
      }
    }
  });
});

describe('LeaderEpochCache: endOffsetFor', () => {
  it('answers the log end offset for the latest epoch, however often it was assigned', () => {
    expect(cacheOf([2, 11], [2, 12]).endOffsetFor(2, 14)).toEqual(at(2, 14));
  });

  it('answers UNDEFINED for an UNDEFINED request, an empty cache, and an epoch above the latest', () => {
    expect(cacheOf([2, 11], [3, 12]).endOffsetFor(UNDEFINED_EPOCH, 0)).toEqual(UNDEFINED);
    expect(cacheOf().endOffsetFor(UNDEFINED_EPOCH, 73)).toEqual(UNDEFINED);
    expect(cacheOf().endOffsetFor(0, 0)).toEqual(UNDEFINED);
    expect(cacheOf().endOffsetFor(7, 0)).toEqual(UNDEFINED);
    expect(cacheOf([2, 100]).endOffsetFor(3, 100)).toEqual(UNDEFINED);
  });

  it('answers the requested epoch and the first start offset for an epoch below the first (Kafka, not UNDEFINED)', () => {
    expect(cacheOf([5, 11], [6, 12], [7, 13]).endOffsetFor(4, 0)).toEqual(at(4, 11));
  });

  it("answers an earlier epoch's end as the next epoch's start", () => {
    const cache = cacheOf([1, 11], [1, 12], [2, 13], [2, 14], [3, 15], [3, 16]);
    expect(cache.endOffsetFor(2, 17)).toEqual(at(2, 15));
  });

  it('answers the largest epoch below a missing one, ending where the next cached epoch starts', () => {
    const cache = cacheOf([0, 10], [2, 13], [4, 17]);
    expect(cache.endOffsetFor(1, 0)).toEqual(at(0, 13));
    expect(cache.endOffsetFor(2, 0)).toEqual(at(2, 17));
    expect(cache.endOffsetFor(3, 0)).toEqual(at(2, 17));
  });

  it('supports epochs that do not start at zero', () => {
    const cache = cacheOf([2, 6]);
    expect(cache.endOffsetFor(2, 7)).toEqual(at(2, 7));
    expect(cache.entries()).toEqual([e(2, 6)]);
  });

  it('tracks epochs as leaders change many times', () => {
    const cache = cacheOf([0, 0], [1, 0]);
    expect(cache.latestEpoch()).toBe(1);
    expect(cache.endOffsetFor(1, 0)).toEqual(at(1, 0));
    expect(cache.endOffsetFor(0, 0)).toEqual(at(0, 0));
    expect(cache.endOffsetFor(1, 5)).toEqual(at(1, 5));
    expect(cache.endOffsetFor(0, 5)).toEqual(at(0, 0));
    cache.assign(2, 5);
    expect(cache.endOffsetFor(2, 10)).toEqual(at(2, 10));
    expect(cache.endOffsetFor(1, 10)).toEqual(at(1, 5));
    expect(cache.endOffsetFor(0, 10)).toEqual(at(0, 0));
  });

  it('tracks epochs as a follower receives one batch at a time', () => {
    const cache = LeaderEpochCache.inMemory();
    for (let offset = 0; offset < 9; offset++) cache.assign(Math.floor(offset / 3), offset);
    expect(cache.latestEpoch()).toBe(2);
    expect(cache.endOffsetFor(2, 9)).toEqual(at(2, 9));
    expect(cache.endOffsetFor(0, 9)).toEqual(at(0, 3));
    expect(cache.endOffsetFor(1, 9)).toEqual(at(1, 6));
  });
});

describe('LeaderEpochCache: truncation', () => {
  const three = () => cacheOf([2, 6], [3, 8], [4, 11]);

  it('truncateFromEnd drops entries starting at or after the offset', () => {
    const cache = three();
    cache.truncateFromEnd(8);
    expect(cache.entries()).toEqual([e(2, 6)]);
    const between = three();
    between.truncateFromEnd(9);
    expect(between.latestEpoch()).toBe(3);
    expect(between.entries()).toEqual([e(2, 6), e(3, 8)]);
  });

  it('truncateFromStart keeps the entry covering the new start, moved up to it', () => {
    const atBoundary = three();
    atBoundary.truncateFromStart(8);
    expect(atBoundary.entries()).toEqual([e(3, 8), e(4, 11)]);
    const between = three();
    between.truncateFromStart(9);
    expect(between.entries()).toEqual([e(3, 9), e(4, 11)]);
    const first = cacheOf([0, 0], [1, 7], [2, 10]);
    first.truncateFromStart(5);
    expect(first.entries()).toEqual([e(0, 5), e(1, 7), e(2, 10)]);
  });

  it('truncateFromStart past every entry keeps the latest, moved up', () => {
    const exact = three();
    exact.truncateFromStart(11);
    expect(exact.entries()).toEqual([e(4, 11)]);
    const past = three();
    past.truncateFromStart(15);
    expect(past.entries()).toEqual([e(4, 15)]);
  });

  it('truncateFromStart at or before the first entry changes nothing', () => {
    for (const offset of [1, 6]) {
      const cache = three();
      cache.truncateFromStart(offset);
      expect(cache.entries()).toEqual([e(2, 6), e(3, 8), e(4, 11)]);
    }
  });

  it('ignores UNDEFINED offsets and empty caches', () => {
    const cache = three();
    cache.truncateFromStart(UNDEFINED_OFFSET);
    cache.truncateFromEnd(UNDEFINED_OFFSET);
    expect(cache.entries()).toHaveLength(3);
    const empty = cacheOf();
    empty.truncateFromStart(7);
    empty.truncateFromEnd(7);
    expect(empty.entries()).toEqual([]);
    expect(empty.latestEpoch()).toBe(UNDEFINED_EPOCH);
  });

  it('clear removes everything', () => {
    const cache = three();
    cache.clear();
    expect(cache.entries()).toEqual([]);
  });

  it('previousEpoch follows assigns and truncations', () => {
    const cache = cacheOf();
    expect(cache.previousEpoch()).toBeUndefined();
    cache.assign(2, 10);
    expect(cache.previousEpoch()).toBeUndefined();
    cache.assign(4, 15);
    expect(cache.previousEpoch()).toBe(2);
    cache.assign(10, 20);
    expect(cache.previousEpoch()).toBe(4);
    cache.truncateFromEnd(18);
    expect(cache.previousEpoch()).toBe(2);
  });

  it('finds the start of an epoch and the epoch of an offset', () => {
    const cache = cacheOf([0, 10], [1, 20], [5, 30]);
    expect(cache.startOffsetOf(1)).toBe(20);
    expect(cache.startOffsetOf(5)).toBe(30);
    expect(cache.startOffsetOf(2)).toBeUndefined();
    expect(cache.epochForOffset(25)).toBe(1);
    expect(cache.epochForOffset(20)).toBe(1);
    expect(cache.epochForOffset(30)).toBe(5);
    expect(cache.epochForOffset(50)).toBe(5);
    expect(cache.epochForOffset(5)).toBeUndefined();
  });
});

describe('LeaderEpochCache: the leader-epoch-checkpoint file', () => {
  let dir: string;
  const file = () => join(dir, 'leader-epoch-checkpoint');
  const noBatches = () => [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'brook-epochs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("serializes as Kafka's version 0 text", () => {
    expect(cacheOf().serialize()).toBe('0\n0\n');
    expect(cacheOf([2, 6], [3, 8], [4, 11]).serialize()).toBe('0\n3\n2 6\n3 8\n4 11\n');
  });

  it('creates the file on first load and persists every assign and truncation', () => {
    const cache = LeaderEpochCache.load(dir, 0, 0, noBatches);
    expect(readFileSync(file(), 'utf8')).toBe('0\n0\n');
    cache.assign(2, 6);
    cache.assign(3, 8);
    cache.assign(4, 11);
    expect(readFileSync(file(), 'utf8')).toBe('0\n3\n2 6\n3 8\n4 11\n');
    cache.truncateFromEnd(11);
    cache.truncateFromStart(8);
    expect(readFileSync(file(), 'utf8')).toBe('0\n1\n3 8\n');
  });

  it('reads the entries back in a new instance', () => {
    LeaderEpochCache.load(dir, 0, 0, noBatches).assign(2, 6);
    expect(LeaderEpochCache.load(dir, 0, 7, noBatches).entries()).toEqual([e(2, 6)]);
  });

  it('reads a file Kafka wrote, without rewriting it', () => {
    writeFileSync(file(), '0\n2\n0 0\n3 120\n');
    const cache = LeaderEpochCache.load(dir, 0, 200, () => {
      throw new Error('batches must not be scanned when the checkpoint reads');
    });
    expect(cache.entries()).toEqual([e(0, 0), e(3, 120)]);
  });

  it('drops entries past the log end and before the log start at load, and persists that', () => {
    writeFileSync(file(), '0\n3\n2 6\n3 8\n4 11\n');
    const cache = LeaderEpochCache.load(dir, 7, 10, noBatches);
    expect(cache.entries()).toEqual([e(2, 7), e(3, 8)]);
    expect(readFileSync(file(), 'utf8')).toBe('0\n2\n2 7\n3 8\n');
  });

  it('rebuilds from the batch headers when the file is missing', () => {
    const batches = [
      { epoch: -1, baseOffset: 0 },
      { epoch: 0, baseOffset: 2 },
      { epoch: 0, baseOffset: 5 },
      { epoch: 2, baseOffset: 9 },
      { epoch: 2, baseOffset: 12 },
    ];
    const cache = LeaderEpochCache.load(dir, 0, 15, () => batches);
    expect(cache.entries()).toEqual([e(0, 2), e(2, 9)]);
    expect(readFileSync(file(), 'utf8')).toBe('0\n2\n0 2\n2 9\n');
  });

  it.each([
    ['a torn write', '0\n3\n2 6\n3 '],
    ['a wrong version', '1\n1\n2 6\n'],
    ['a count that does not match', '0\n2\n2 6\n'],
    ['garbage', '\u0000\u0000\u0000'],
    ['an empty file', ''],
  ])('rebuilds from the batch headers when the file holds %s', (_what, contents) => {
    writeFileSync(file(), contents);
    const cache = LeaderEpochCache.load(dir, 0, 20, () => [{ epoch: 5, baseOffset: 10 }]);
    expect(cache.entries()).toEqual([e(5, 10)]);
    expect(readFileSync(file(), 'utf8')).toBe('0\n1\n5 10\n');
  });

  it('inMemory never writes', () => {
    const cache = LeaderEpochCache.inMemory([e(1, 0)]);
    cache.assign(2, 5);
    cache.truncateFromEnd(5);
    expect(existsSync(file())).toBe(false);
  });

  it('names the file and line of a malformed checkpoint', () => {
    expect(() => parseLeaderEpochCheckpoint('0\n1\n2 x\n', '/d/leader-epoch-checkpoint')).toThrow(
      'checkpoint /d/leader-epoch-checkpoint: line 3: "x" is not an integer',
    );
  });
});
