/**
 * The history checker against hand-made histories: each anomaly fires on a history that has it
 * (including the two bugs the issue plants: a leader acknowledging below the HW, a follower that
 * skips truncation) and a correct history, with failures and indeterminate sends, is clean.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory, History, isValid, summarize, type Op } from '../../cluster/history.js';

let clock = 0;
const send = (partition: number, value: string, result: 'ok' | 'fail' | 'info', offset?: number): Op => {
  clock += 10;
  return { kind: 'send', process: 'p1', partition, value, offset, result, start: clock, end: clock + 5 };
};
const poll = (process: string, partition: number, offset: number, value: string): Op => ({ kind: 'poll', process, partition, offset, value, result: 'ok', end: ++clock });

/** A correct run on two partitions: acks, one failure, one indeterminate that landed, a drain. */
function goodHistory(): Op[] {
  return [
    send(0, 'a', 'ok', 0),
    send(0, 'b', 'info'), // timed out but was written
    send(0, 'c', 'ok', 2),
    send(0, 'x', 'fail'), // NOT_ENOUGH_REPLICAS on the only attempt: never written
    send(1, 'm', 'ok', 0),
    send(1, 'n', 'info'), // timed out and was not written: not an anomaly either
    poll('c1', 0, 0, 'a'),
    poll('c1', 0, 1, 'b'),
    poll('c1', 0, 2, 'c'),
    { kind: 'assign', process: 'c1', end: ++clock },
    poll('c1', 0, 1, 'b'), // re-read after a rebalance: allowed
    poll('c1', 1, 0, 'm'),
    poll('drain', 0, 0, 'a'),
    poll('drain', 0, 1, 'b'),
    poll('drain', 0, 2, 'c'),
    poll('drain', 1, 0, 'm'),
  ];
}

describe('history checker', () => {
  it('finds nothing wrong in a correct history with failed and indeterminate sends', () => {
    const r = checkHistory(goodHistory(), { drain: 'drain' });
    expect(isValid(r), summarize(r)).toBe(true);
    expect(r.counts).toEqual({ sendOk: 3, sendFail: 1, sendInfo: 2, polls: 9 });
  });

  it('a leader that acknowledges below the HW: the acked value is lost once later offsets are read', () => {
    // The old leader acked 'b' at offset 1 but the new leader's log has 'c' at 1 and goes on.
    const ops = [send(0, 'a', 'ok', 0), send(0, 'b', 'ok', 1), send(0, 'c', 'ok', 2), poll('drain', 0, 0, 'a'), poll('drain', 0, 2, 'c'), poll('drain', 0, 3, 'd'), send(0, 'd', 'ok', 3)];
    const r = checkHistory(ops, { drain: 'drain' });
    expect(r.lost).toEqual([{ partition: 0, value: 'b', offset: 1 }]);
    expect(r.unseen).toEqual([{ partition: 0, value: 'b', offset: 1 }]);
    expect(r.pollSkip).toEqual([{ process: 'drain', partition: 0, from: 0, to: 2, skipped: [1] }]);
    expect(isValid(r)).toBe(false);
  });

  it('a lost write without an acknowledged offset is found by real-time order', () => {
    const ops = [send(0, 'a', 'ok'), send(0, 'b', 'ok'), poll('drain', 0, 0, 'b')];
    expect(checkHistory(ops).lost).toEqual([{ partition: 0, value: 'a', offset: undefined }]);
  });

  it('an acked value at the very end that nobody read is unseen but not lost', () => {
    const ops = [send(0, 'a', 'ok', 0), send(0, 'b', 'ok', 1), poll('drain', 0, 0, 'a')];
    const r = checkHistory(ops, { drain: 'drain' });
    expect(r.lost).toEqual([]);
    expect(r.unseen).toEqual([{ partition: 0, value: 'b', offset: 1 }]);
  });

  it('read by a live consumer but not by the drain is unseen', () => {
    const ops = [send(0, 'a', 'ok', 0), poll('c1', 0, 0, 'a'), send(0, 'b', 'ok', 1), poll('drain', 0, 1, 'b')];
    const r = checkHistory(ops, { drain: 'drain' });
    expect(r.unseen.map((u) => u.value)).toEqual(['a']);
    expect(r.lost).toEqual([]);
  });

  it('a follower that skips truncation: two readers see two values at one offset', () => {
    // The old leader wrote 'x' at 1 (never committed); the new leader wrote 'b' at 1; a follower
    // that did not truncate still serves 'x' at 1.
    const ops = [send(0, 'a', 'ok', 0), send(0, 'x', 'info'), send(0, 'b', 'ok', 1), poll('c1', 0, 0, 'a'), poll('c1', 0, 1, 'x'), poll('c2', 0, 0, 'a'), poll('c2', 0, 1, 'b')];
    const r = checkHistory(ops);
    expect(r.inconsistentOffsets).toEqual([{ partition: 0, offset: 1, values: ['b', 'x'] }]);
    expect(r.duplicates).toEqual([]);
  });

  it('one value at two offsets is a duplicate', () => {
    const ops = [send(0, 'a', 'ok', 0), send(0, 'b', 'ok', 2), poll('drain', 0, 0, 'a'), poll('drain', 0, 1, 'b'), poll('drain', 0, 2, 'b')];
    const r = checkHistory(ops, { drain: 'drain' });
    expect(r.duplicates).toEqual([{ partition: 0, value: 'b', offsets: [1, 2] }]);
    expect(r.inconsistentOffsets).toEqual([]);
  });

  it('a consumer going backwards without a rebalance is a non-monotonic poll', () => {
    const ops = [send(0, 'a', 'ok', 0), send(0, 'b', 'ok', 1), poll('c1', 0, 0, 'a'), poll('c1', 0, 1, 'b'), poll('c1', 0, 0, 'a'), poll('c2', 0, 1, 'b')];
    const r = checkHistory(ops);
    expect(r.nonMonotonicPoll).toEqual([{ process: 'c1', partition: 0, from: 1, to: 0 }]);
    // An assign for another partition does not excuse it.
    const withOtherAssign = [...ops.slice(0, 4), { kind: 'assign', process: 'c1', partition: 1, end: 0 } as Op, ...ops.slice(4)];
    expect(checkHistory(withOtherAssign).nonMonotonicPoll).toHaveLength(1);
    const withAssign = [...ops.slice(0, 4), { kind: 'assign', process: 'c1', partition: 0, end: 0 } as Op, ...ops.slice(4)];
    expect(checkHistory(withAssign).nonMonotonicPoll).toEqual([]);
  });

  it('a consumer jumping over an offset another reader saw is a poll skip; unknown gaps are not', () => {
    const ops = [send(0, 'a', 'ok', 0), send(0, 'b', 'info'), send(0, 'c', 'ok', 2), poll('c1', 0, 0, 'a'), poll('c1', 0, 2, 'c'), poll('c2', 0, 1, 'b')];
    expect(checkHistory(ops).pollSkip).toEqual([{ process: 'c1', partition: 0, from: 0, to: 2, skipped: [1] }]);
    // Offset 5 was never observed by anyone (say, a control batch): jumping it is fine.
    const gap = [send(0, 'a', 'ok', 4), send(0, 'c', 'ok', 6), poll('c1', 0, 4, 'a'), poll('c1', 0, 6, 'c')];
    expect(checkHistory(gap).pollSkip).toEqual([]);
  });

  it('a definitely failed send that is read is G1a; an indeterminate one is not', () => {
    const ops = [send(0, 'a', 'fail'), send(0, 'b', 'info'), poll('c1', 0, 0, 'a'), poll('c1', 0, 1, 'b')];
    const r = checkHistory(ops);
    expect(r.g1a).toEqual([{ partition: 0, value: 'a', offset: 0 }]);
  });

  it('a read of a value nobody sent is unexpected', () => {
    const r = checkHistory([send(0, 'a', 'ok', 0), poll('c1', 0, 0, 'a'), poll('c1', 0, 1, 'ghost')]);
    expect(r.unexpected).toEqual([{ partition: 0, value: 'ghost', offset: 1 }]);
  });

  it('partitions are checked independently (the same offset on two partitions is no conflict)', () => {
    const r = checkHistory([send(0, 'a', 'ok', 0), send(1, 'b', 'ok', 0), poll('d', 0, 0, 'a'), poll('d', 1, 0, 'b')], { drain: 'd' });
    expect(isValid(r), summarize(r)).toBe(true);
  });

  it('track() records ok with the offset, and classifies rejections', async () => {
    const h = new History();
    expect(await h.track('p', 0, 'a', () => Promise.resolve(7))).toBe('ok');
    expect(await h.track('p', 0, 'b', () => Promise.reject(new Error('timeout')))).toBe('info');
    expect(await h.track('p', 0, 'c', () => Promise.reject(new Error('NOT_ENOUGH_REPLICAS')), () => 'fail')).toBe('fail');
    expect(h.ops.map((o) => (o.kind === 'send' ? [o.value, o.result, o.offset] : null))).toEqual([
      ['a', 'ok', 7],
      ['b', 'info', undefined],
      ['c', 'fail', undefined],
    ]);
    expect(h.acked().map((o) => o.value)).toEqual(['a']);
  });
});
