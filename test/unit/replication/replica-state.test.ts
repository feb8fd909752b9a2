// The leader's follower rules under a fake clock: times are plain numbers of milliseconds.
import { describe, expect, it } from 'vitest';
import {
  FollowerState,
  NEVER,
  UNKNOWN,
  canJoinIsr,
  computeHighWatermark,
  outOfSyncReplicas,
  type HighWatermarkInput,
} from '../../../src/replication/replica-state.js';

const LAG_MAX = 30_000;

function follower(logEndOffset: number, lastCaughtUpTimeMs: number): FollowerState {
  const f = new FollowerState();
  f.logEndOffset = logEndOffset;
  f.logStartOffset = 0;
  f.lastCaughtUpTimeMs = lastCaughtUpTimeMs;
  return f;
}

describe('FollowerState', () => {
  it('starts unknown and never caught up', () => {
    const f = new FollowerState();
    expect([f.logEndOffset, f.logStartOffset, f.lastFetchLeaderLogEndOffset, f.brokerEpoch]).toEqual([UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN]);
    expect(f.lastCaughtUpTimeMs).toBe(NEVER);
    expect(f.isCaughtUp(10, 0, LAG_MAX)).toBe(false); // even at time 0 of a monotonic clock
  });

  it('is caught up at the fetch time when it fetches from the leader end offset', () => {
    const f = new FollowerState();
    expect(f.updateFetchState(10, 0, 1_000, 10, 5)).toBe(true);
    expect(f).toMatchObject({ logEndOffset: 10, logStartOffset: 0, lastCaughtUpTimeMs: 1_000, lastFetchLeaderLogEndOffset: 10, lastFetchTimeMs: 1_000, brokerEpoch: 5 });
  });

  it('is caught up at the previous fetch time when it reaches the leader end offset of that fetch', () => {
    const f = new FollowerState();
    f.updateFetchState(5, 0, 1_000, 10, 5); // behind: never caught up yet
    expect(f.lastCaughtUpTimeMs).toBe(NEVER);
    f.updateFetchState(10, 0, 2_000, 15, 5); // holds all the previous fetch could return
    expect(f.lastCaughtUpTimeMs).toBe(1_000);
    f.updateFetchState(12, 0, 3_000, 20, 5); // still short of the previous fetch's leader end (15)
    expect(f.lastCaughtUpTimeMs).toBe(1_000);
  });

  it('never moves lastCaughtUpTimeMs back', () => {
    const f = new FollowerState();
    f.updateFetchState(10, 0, 5_000, 10, 1);
    f.updateFetchState(10, 0, 4_000, 10, 1); // a fetch whose time is older (clocks, reordering)
    expect(f.lastCaughtUpTimeMs).toBe(5_000);
  });

  it('remembers the highest leader end offset seen at a fetch', () => {
    const f = new FollowerState();
    f.updateFetchState(0, 0, 1, 20, 1);
    f.updateFetchState(0, 0, 2, 10, 1);
    expect(f.lastFetchLeaderLogEndOffset).toBe(20);
  });

  it('ignores a fetch carrying a broker epoch older than the registered one', () => {
    const f = new FollowerState();
    f.updateFetchState(10, 0, 1_000, 10, 7, 7);
    expect(f.updateFetchState(12, 0, 2_000, 12, 6, 7)).toBe(false);
    expect(f).toMatchObject({ logEndOffset: 10, lastFetchTimeMs: 1_000, brokerEpoch: 7 });
    expect(f.updateFetchState(12, 0, 2_000, 12, UNKNOWN, 7)).toBe(true); // no epoch sent (Fetch < v15): not fenced
  });

  it('isCaughtUp: at the leader end, or caught up within the lag window (inclusive)', () => {
    const f = follower(5, 1_000);
    expect(f.isCaughtUp(5, 1_000_000, LAG_MAX)).toBe(true);
    expect(f.isCaughtUp(6, 1_000 + LAG_MAX, LAG_MAX)).toBe(true);
    expect(f.isCaughtUp(6, 1_000 + LAG_MAX + 1, LAG_MAX)).toBe(false);
  });

  it('a steady trickle of produces keeps a follower in sync though it is never at the leader end', () => {
    // One record is produced every 100 ms, just before each fetch; each fetch response carries
    // everything the leader had, so at every fetch the follower is exactly one record behind.
    // Only the previous-fetch rule can count it as caught up.
    const f = new FollowerState();
    f.resetForNewLeader(0, 0, true); // an ISR member when this leadership began, at 0
    let leaderEnd = 0;
    let followerEnd = 0;
    for (let now = 0; now <= 10 * LAG_MAX; now += 100) {
      leaderEnd++;
      f.updateFetchState(followerEnd, 0, now, leaderEnd, 1);
      expect(f.logEndOffset).toBe(leaderEnd - 1);
      followerEnd = leaderEnd;
      expect(f.lastCaughtUpTimeMs).toBe(Math.max(0, now - 100));
      expect(f.isCaughtUp(leaderEnd + 1, now + 99, LAG_MAX)).toBe(true);
    }
  });

  it('an ISR follower that keeps fetching but falls behind a faster leader leaves after the lag window', () => {
    const f = new FollowerState();
    f.resetForNewLeader(0, 0, true);
    let leaderEnd = 0;
    let followerEnd = 0;
    let outAt: number | undefined;
    for (let now = 0; now <= 3 * LAG_MAX && outAt === undefined; now += 100) {
      leaderEnd += 10;
      f.updateFetchState(followerEnd, 0, now, leaderEnd, 1);
      followerEnd += 5; // each response carries only half of what was appended
      if (!f.isCaughtUp(leaderEnd, now, LAG_MAX)) outAt = now;
    }
    // Caught up last when this leadership began, at 0.
    expect(outAt).toBe(LAG_MAX + 100);
  });

  it('a follower that stops fetching leaves after the lag window even at the same offset', () => {
    const f = new FollowerState();
    f.updateFetchState(10, 0, 0, 10, 1);
    expect(f.isCaughtUp(11, LAG_MAX, LAG_MAX)).toBe(true);
    expect(f.isCaughtUp(11, LAG_MAX + 1, LAG_MAX)).toBe(false);
    expect(f.isCaughtUp(10, LAG_MAX * 100, LAG_MAX)).toBe(true); // the leader got nothing new: still in sync
  });

  it('resetForNewLeader: an ISR member starts caught up now, others never; a new leadership forgets offsets', () => {
    const inIsr = follower(10, 50);
    inIsr.updateFetchState(10, 0, 100, 10, 3);
    inIsr.resetForNewLeader(5_000, 12, true);
    expect(inIsr).toMatchObject({ lastCaughtUpTimeMs: 5_000, logEndOffset: UNKNOWN, logStartOffset: UNKNOWN, lastFetchLeaderLogEndOffset: UNKNOWN, lastFetchTimeMs: NEVER, brokerEpoch: UNKNOWN });
    expect(inIsr.isCaughtUp(12, 5_000 + LAG_MAX, LAG_MAX)).toBe(true);
    expect(inIsr.isCaughtUp(12, 5_001 + LAG_MAX, LAG_MAX)).toBe(false);

    const outside = follower(10, 4_000);
    outside.resetForNewLeader(5_000, 12, false);
    expect(outside.lastCaughtUpTimeMs).toBe(NEVER);
    expect(outside.isCaughtUp(12, 5_000, LAG_MAX)).toBe(false);
  });

  it('resetForNewLeader without a new epoch keeps offsets and measures the next fetch against the leader end', () => {
    const f = new FollowerState();
    f.updateFetchState(8, 2, 100, 10, 3);
    f.resetForNewLeader(5_000, 12, true, false);
    expect(f).toMatchObject({ logEndOffset: 8, logStartOffset: 2, lastFetchLeaderLogEndOffset: 12, lastFetchTimeMs: 100, brokerEpoch: 3, lastCaughtUpTimeMs: 5_000 });
  });
});

describe('computeHighWatermark', () => {
  const base = (over: Partial<HighWatermarkInput>): HighWatermarkInput => ({
    leaderId: 1,
    leaderLogEndOffset: 100,
    isr: [1, 2, 3],
    followers: new Map(),
    currentHw: 0,
    minIsr: 1,
    nowMs: 10_000,
    replicaLagTimeMaxMs: LAG_MAX,
    ...over,
  });

  it('is the smallest log end offset of the ISR', () => {
    const followers = new Map([
      [2, follower(80, 10_000)],
      [3, follower(90, 10_000)],
    ]);
    expect(computeHighWatermark(base({ followers }))).toBe(80);
  });

  it('is the leader end offset when the ISR is the leader alone', () => {
    expect(computeHighWatermark(base({ isr: [1], followers: new Map([[2, follower(10, NEVER)]]) }))).toBe(100);
  });

  it('never moves back', () => {
    const followers = new Map([
      [2, follower(50, 10_000)],
      [3, follower(90, 10_000)],
    ]);
    expect(computeHighWatermark(base({ followers, currentHw: 60 }))).toBe(60);
  });

  it('waits for an ISR member whose offset is unknown (a new leadership) without moving back', () => {
    const followers = new Map([
      [2, new FollowerState()],
      [3, follower(90, 10_000)],
    ]);
    expect(computeHighWatermark(base({ followers, currentHw: 40 }))).toBe(40);
  });

  it('waits for a caught-up follower outside the ISR that is about to join', () => {
    const followers = new Map([
      [2, follower(90, 10_000)],
      [3, follower(70, 9_000)], // not in the ISR, caught up 1 s ago
    ]);
    expect(computeHighWatermark(base({ isr: [1, 2], followers }))).toBe(70);
    expect(computeHighWatermark(base({ isr: [1, 2], followers, isEligible: (id) => id !== 3 }))).toBe(90);
  });

  it('does not wait for a lagging follower outside the ISR', () => {
    const followers = new Map([
      [2, follower(90, 10_000)],
      [3, follower(10, 0)], // last caught up 40 s ago: beyond the lag window
    ]);
    expect(computeHighWatermark(base({ isr: [1, 2], followers, nowMs: 40_000 }))).toBe(90);
  });

  it('does not advance while the ISR is smaller than min.insync.replicas (KAFKA-15583)', () => {
    const followers = new Map([[2, follower(90, 10_000)]]);
    expect(computeHighWatermark(base({ isr: [1], followers, currentHw: 20, minIsr: 2 }))).toBe(20);
    expect(computeHighWatermark(base({ isr: [1, 2], followers, currentHw: 20, minIsr: 2 }))).toBe(90);
    // A pending expansion counts for waiting, but min ISR is checked on the committed ISR.
    expect(computeHighWatermark(base({ isr: [1, 2], committedIsr: [1], followers, currentHw: 20, minIsr: 2 }))).toBe(20);
  });

  it('ignores a followers entry for the leader itself', () => {
    const followers = new Map([[1, follower(5, 0)]]);
    expect(computeHighWatermark(base({ isr: [1], followers }))).toBe(100);
  });
});

describe('outOfSyncReplicas', () => {
  it('lists ISR followers not caught up within the lag window, never the leader', () => {
    const followers = new Map([
      [2, follower(100, 0)], // at the leader end: in sync however old its catch-up time
      [3, follower(90, 5_000)], // within the window at now = 35 s
      [4, follower(90, 4_999)], // out by 1 ms
      [5, follower(0, 0)], // not in the ISR: not this function's business
    ]);
    const input = { leaderId: 1, leaderLogEndOffset: 100, followers, nowMs: 35_000, replicaLagTimeMaxMs: LAG_MAX };
    expect(outOfSyncReplicas({ ...input, isr: [1, 2, 3, 4] })).toEqual([4]);
  });

  it('lists an ISR member the leader has no state for', () => {
    expect(outOfSyncReplicas({ leaderId: 1, leaderLogEndOffset: 0, isr: [1, 9], followers: new Map(), nowMs: 0, replicaLagTimeMaxMs: LAG_MAX })).toEqual([9]);
  });

  it('keeps a new leadership’s ISR for one lag window, then removes the silent ones', () => {
    const followers = new Map([
      [2, new FollowerState()],
      [3, new FollowerState()],
    ]);
    for (const f of followers.values()) f.resetForNewLeader(1_000, 50, true);
    followers.get(2)!.updateFetchState(50, 0, 1_200, 50, 1);
    const at = (nowMs: number) => outOfSyncReplicas({ leaderId: 1, leaderLogEndOffset: 60, isr: [1, 2, 3], followers, nowMs, replicaLagTimeMaxMs: LAG_MAX });
    expect(at(1_000 + LAG_MAX)).toEqual([]);
    expect(at(1_001 + LAG_MAX)).toEqual([3]);
    expect(at(1_201 + LAG_MAX)).toEqual([2, 3]);
  });
});

describe('canJoinIsr', () => {
  it('requires the high watermark, the current epoch start, and being caught up', () => {
    const f = follower(50, 10_000);
    expect(canJoinIsr(f, 50, 40, 60, 10_000, LAG_MAX)).toBe(true);
    expect(canJoinIsr(f, 51, 40, 60, 10_000, LAG_MAX)).toBe(false); // below the HW
    expect(canJoinIsr(f, 45, 55, 60, 10_000, LAG_MAX)).toBe(false); // below the current epoch's start
    expect(canJoinIsr(f, 45, undefined, 60, 10_000, LAG_MAX)).toBe(false); // epoch start unknown
    expect(canJoinIsr(f, 45, 40, 60, 10_001 + LAG_MAX, LAG_MAX)).toBe(false); // not caught up lately
    expect(canJoinIsr(f, 45, 40, 50, 10_001 + LAG_MAX, LAG_MAX)).toBe(true); // ...but at the leader end
  });

  it('refuses a follower whose offset is unknown', () => {
    expect(canJoinIsr(new FollowerState(), 0, 0, 0, 0, LAG_MAX)).toBe(false);
  });
});
