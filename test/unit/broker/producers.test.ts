import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaError } from '../../../src/broker/errors.js';
import { lastSequenceOf, MAX_PRODUCER_ID, PartitionProducers, ProducerIdAllocator, type BatchIdentity } from '../../../src/broker/producers.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';

const batch = (producerId: number, producerEpoch: number, baseSequence: number, count: number): BatchIdentity => ({
  producerId,
  producerEpoch,
  baseSequence,
  lastSequence: lastSequenceOf(baseSequence, count - 1),
});

/** Runs check() and, when the batch is new, records it at the next offset, as the produce path does. */
function append(state: PartitionProducers, b: BatchIdentity, log: { end: number }): { duplicateOf?: number; offset?: number } {
  const dup = state.check(b);
  if (dup) return { duplicateOf: dup.baseOffset };
  const base = log.end;
  log.end += b.lastSequence - b.baseSequence + 1;
  state.record(b, base, log.end - 1, -1);
  return { offset: base };
}

function errorCodeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof KafkaError) return e.errorCode;
    throw e;
  }
  return ErrorCode.NONE;
}

describe('PartitionProducers', () => {
  it('appends batches of two producers with different ids and identical sequences, both of them', () => {
    const state = new PartitionProducers();
    const log = { end: 0 };
    for (let seq = 0; seq < 20; seq += 4) {
      expect(append(state, batch(1, 0, seq, 4), log)).toEqual({ offset: log.end - 4 });
      expect(append(state, batch(2, 0, seq, 4), log)).toEqual({ offset: log.end - 4 });
    }
    expect(log.end).toBe(40);
  });

  it('answers a duplicate only for the same producer id, epoch and sequence range', () => {
    const state = new PartitionProducers();
    const log = { end: 0 };
    append(state, batch(7, 0, 0, 5), log);
    append(state, batch(7, 0, 5, 5), log);
    expect(append(state, batch(7, 0, 0, 5), log)).toEqual({ duplicateOf: 0 });
    expect(append(state, batch(7, 0, 5, 5), log)).toEqual({ duplicateOf: 5 });
    // Same first sequence, other last sequence: not the same batch, and not the next one either.
    expect(errorCodeOf(() => state.check(batch(7, 0, 0, 3)))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    // Same sequences under another id: a producer this partition has never seen, starting at 0.
    expect(state.check(batch(8, 0, 0, 5))).toBeUndefined();
    // Same id and sequences under a newer epoch: the producer bumped its epoch and starts over.
    expect(append(state, batch(7, 1, 0, 5), log)).toEqual({ offset: 10 });
    // The old epoch is now fenced, its retries included.
    expect(errorCodeOf(() => state.check(batch(7, 0, 5, 5)))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it('wraps sequences at 2^31-1 to 0, so a batch across the wrap is followed by one starting at its end', () => {
    expect(lastSequenceOf(2 ** 31 - 2, 3)).toBe(1);
    const state = new PartitionProducers();
    const log = { end: 0 };
    append(state, batch(3, 0, 0, 1), log);
    // Forge the state a long-lived producer reaches: the last batch ends just below the wrap.
    state.record(batch(3, 0, 1, 2 ** 31 - 4), 1, 2 ** 31 - 4, -1);
    const across = { producerId: 3, producerEpoch: 0, baseSequence: 2 ** 31 - 3, lastSequence: lastSequenceOf(2 ** 31 - 3, 4) };
    expect(state.check(across)).toBeUndefined();
    state.record(across, 10, 14, -1);
    expect(state.check(across)).toEqual({ baseOffset: 10, logAppendTime: -1 });
    expect(state.check(batch(3, 0, 2, 1))).toBeUndefined();
  });

  it('refuses a producer id above MAX_PRODUCER_ID (a JS number keys the state: such ids could share an entry)', () => {
    const state = new PartitionProducers();
    expect(errorCodeOf(() => state.check(batch(MAX_PRODUCER_ID + 1, 0, 0, 1)))).toBe(ErrorCode.INVALID_RECORD);
    expect(state.check(batch(MAX_PRODUCER_ID, 0, 0, 1))).toBeUndefined();
  });

  it('reports the highest producer id it holds state for', () => {
    const state = new PartitionProducers();
    expect(state.maxProducerId()).toBe(-1);
    const log = { end: 0 };
    append(state, batch(42, 0, 0, 1), log);
    append(state, batch(5, 0, 0, 1), log);
    expect(state.maxProducerId()).toBe(42);
  });
});

describe('ProducerIdAllocator', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'brook-pid-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('records a block before handing out its first id, and a new allocator starts after that block', () => {
    const dir = tempDir();
    const a = new ProducerIdAllocator(dir);
    expect(a.blockFileRead).toBe(false);
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual([0, 1, 2]);
    expect(readFileSync(join(dir, 'producer-id-block'), 'utf8').trim()).toBe('1000');
    const b = new ProducerIdAllocator(dir);
    expect(b.blockFileRead).toBe(true);
    expect(b.allocate()).toBe(1000);
    expect(readFileSync(join(dir, 'producer-id-block'), 'utf8').trim()).toBe('2000');
  });

  it('says when the block file is unreadable instead of silently starting at 0 as if it were new', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'producer-id-block'), 'garbage\n');
    expect(new ProducerIdAllocator(dir).blockFileRead).toBe(false);
    writeFileSync(join(dir, 'producer-id-block'), '-5\n');
    expect(new ProducerIdAllocator(dir).blockFileRead).toBe(false);
  });

  it('never hands out an id at or below one recovered from a log, and records the block that covers it', () => {
    const dir = tempDir();
    const a = new ProducerIdAllocator(dir);
    a.recover(4321);
    expect(a.allocate()).toBe(4322);
    expect(Number(readFileSync(join(dir, 'producer-id-block'), 'utf8'))).toBeGreaterThan(4322);
    a.recover(10); // lower than what is already out: no effect
    expect(a.allocate()).toBe(4323);
    expect(new ProducerIdAllocator(dir).allocate()).toBeGreaterThan(4323);
  });

  it('records the recovered floor at once, so the next start reads it instead of scanning the logs again', () => {
    const dir = tempDir();
    new ProducerIdAllocator(dir).recover(77);
    const again = new ProducerIdAllocator(dir);
    expect(again.blockFileRead).toBe(true);
    expect(again.allocate()).toBe(78);
  });
});
