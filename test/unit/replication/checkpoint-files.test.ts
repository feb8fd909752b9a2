import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  REPLICATION_OFFSET_CHECKPOINT_FILE,
  readOffsetCheckpoint,
  topicPartitionKey,
  writeOffsetCheckpoint,
} from '../../../src/replication/checkpoint-files.js';

describe('offset checkpoint files', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'brook-checkpoint-'));
    path = join(dir, REPLICATION_OFFSET_CHECKPOINT_FILE);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes Kafka's bytes: version, count, then one line per partition in the order given", () => {
    writeOffsetCheckpoint(path, [
      { topic: 'orders', partition: 0, offset: 42 },
      { topic: '__consumer_offsets', partition: 17, offset: 0 },
      { topic: 'a-1', partition: 2, offset: 2 ** 53 - 1 },
    ]);
    expect(readFileSync(path, 'utf8')).toBe('0\n3\norders 0 42\n__consumer_offsets 17 0\na-1 2 9007199254740991\n');
    expect(readdirSync(dir)).toEqual([REPLICATION_OFFSET_CHECKPOINT_FILE]);
  });

  it('writes an empty checkpoint as a header with count 0', () => {
    writeOffsetCheckpoint(path, []);
    expect(readFileSync(path, 'utf8')).toBe('0\n0\n');
    expect(readOffsetCheckpoint(path)).toEqual(new Map());
  });

  it('reads back what it wrote, keyed topic-partition', () => {
    const entries = [
      { topic: 'orders', partition: 0, offset: 42 },
      { topic: 'a-1', partition: 2, offset: 7 },
      { topic: 'a', partition: 12, offset: 9 },
    ];
    writeOffsetCheckpoint(path, entries);
    const read = readOffsetCheckpoint(path);
    expect(read).toEqual(new Map([['orders-0', 42], ['a-1-2', 7], ['a-12', 9]]));
    for (const { topic, partition, offset } of entries) expect(read.get(topicPartitionKey(topic, partition))).toBe(offset);
  });

  it('reads a file Kafka wrote (tabs or repeated spaces between fields, as its reader allows)', () => {
    writeFileSync(path, '0\n2\nt 0 5\nt\t1  6\n');
    expect(readOffsetCheckpoint(path)).toEqual(new Map([['t-0', 5], ['t-1', 6]]));
  });

  it('replaces the whole file on each write', () => {
    writeOffsetCheckpoint(path, [
      { topic: 'x', partition: 0, offset: 1 },
      { topic: 'x', partition: 1, offset: 1 },
    ]);
    writeOffsetCheckpoint(path, [{ topic: 'x', partition: 0, offset: 2 }]);
    expect(readFileSync(path, 'utf8')).toBe('0\n1\nx 0 2\n');
  });

  it('reads a missing file as an empty map', () => {
    expect(readOffsetCheckpoint(join(dir, 'nope'))).toEqual(new Map());
  });

  it.each([
    ['1\n0\n', 'line 1: unsupported version "1"'],
    ['', 'line 1: unsupported version ""'],
    ['0\n', 'line 2: missing or negative entry count'],
    ['0\nx\n', 'line 2: "x" is not an integer'],
    ['0\n2\nt 0 5\n', 'line 4: expected 2 entries, found 1'],
    ['0\n1\nt 0 5\nt 1 6\n', 'line 4: expected 1 entries, found 2'],
    ['0\n1\nt 0\n', 'line 3: expected 3 fields, got "t 0"'],
    ['0\n1\nt 0 5 9\n', 'line 3: expected 3 fields'],
    ['0\n2\nt 0 5\nt 1 1.5\n', 'line 4: "1.5" is not an integer'],
    ['0\n1\nt -1 5\n', 'line 3: negative partition -1'],
    ['0\n1\nt 0 99999999999999999999\n', 'line 3: "99999999999999999999" is not an integer'],
  ])('rejects %j naming the file and line', (contents, message) => {
    writeFileSync(path, contents);
    expect(() => readOffsetCheckpoint(path)).toThrow(`checkpoint ${path}: ${message}`);
  });

  it('refuses to write what it could not read back', () => {
    expect(() => writeOffsetCheckpoint(path, [{ topic: 'has space', partition: 0, offset: 1 }])).toThrow(/cannot be written/);
    expect(() => writeOffsetCheckpoint(path, [{ topic: 't', partition: -1, offset: 1 }])).toThrow(/not an integer/);
    expect(() => writeOffsetCheckpoint(path, [{ topic: 't', partition: 0, offset: 0.5 }])).toThrow(/not an integer/);
  });
});
