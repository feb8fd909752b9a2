/**
 * The controller's pure election decisions: Kafka's auto-rebalance imbalance rule
 * (imbalancedPartitions) and ElectLeaders' per-partition answer (decideElection).
 */
import { describe, expect, it } from 'vitest';
import { decideElection, imbalancedPartitions } from '../../../src/cluster/controller.js';
import type { PartitionState } from '../../../src/cluster/types.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';

const st = (leader: number, isr: number[], leaderEpoch = 3): PartitionState => ({ leader, leaderEpoch, isr, controllerEpoch: 1, version: 10 });

function imbalance(assignment: number[][], states: PartitionState[], live: number[], percentage: number) {
  const topics = new Map([['t', { assignment }]]);
  return imbalancedPartitions(topics, (_, p) => states[p], new Set(live), percentage).map((tp) => tp.partition);
}

describe('imbalancedPartitions', () => {
  it('returns nothing when every preferred replica leads', () => {
    expect(imbalance([[1, 2], [2, 1]], [st(1, [1, 2]), st(2, [1, 2])], [1, 2], 10)).toEqual([]);
  });

  it('moves back the partitions of a broker whose imbalance is above the percentage', () => {
    // Broker 1 is preferred for 0, 1, 2 and leads only 0: 2/3 = 67 % not led.
    const states = [st(1, [1, 2]), st(2, [1, 2]), st(2, [1, 2]), st(2, [1, 2])];
    expect(imbalance([[1, 2], [1, 2], [1, 2], [2, 1]], states, [1, 2], 10)).toEqual([1, 2]);
    expect(imbalance([[1, 2], [1, 2], [1, 2], [2, 1]], states, [1, 2], 66)).toEqual([1, 2]);
    expect(imbalance([[1, 2], [1, 2], [1, 2], [2, 1]], states, [1, 2], 67)).toEqual([]);
  });

  it('counts per broker: exactly at the percentage is not above it', () => {
    // Broker 1: 1 of 10 not led = 10 %, not above 10 %; at 9 % it is.
    const assignment = Array.from({ length: 10 }, () => [1, 2]);
    const states = assignment.map((_, p) => st(p === 0 ? 2 : 1, [1, 2]));
    expect(imbalance(assignment, states, [1, 2], 10)).toEqual([]);
    expect(imbalance(assignment, states, [1, 2], 9)).toEqual([0]);
  });

  it('skips partitions whose preferred replica is dead or out of the ISR, and those without a state', () => {
    const states = [st(2, [2]), st(2, [1, 2]), st(3, [3, 1])];
    expect(imbalance([[1, 2], [1, 2], [1, 3], [1, 2]], states, [2, 3], 10)).toEqual([]);
    expect(imbalance([[1, 2], [1, 2], [1, 3], [1, 2]], states, [1, 2, 3], 10)).toEqual([1, 2]);
  });
});

describe('decideElection', () => {
  const live = new Set([1, 2, 3]);

  it('preferred: elects the first replica with the leader epoch bumped and the ISR unchanged', () => {
    expect(decideElection(0, [1, 2, 3], st(2, [2, 3, 1]), live, 7)).toEqual({ next: { leader: 1, leaderEpoch: 4, isr: [2, 3, 1], controllerEpoch: 7 }, unclean: false });
  });

  it('preferred: ELECTION_NOT_NEEDED when it leads, PREFERRED_LEADER_NOT_AVAILABLE when dead or out of the ISR', () => {
    expect(decideElection(0, [1, 2, 3], st(1, [1, 2]), live, 7)).toMatchObject({ errorCode: ErrorCode.ELECTION_NOT_NEEDED });
    expect(decideElection(0, [1, 2, 3], st(2, [2, 3]), live, 7)).toMatchObject({ errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE });
    expect(decideElection(0, [1, 2, 3], st(2, [1, 2, 3]), new Set([2, 3]), 7)).toMatchObject({ errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE });
  });

  it('unclean: ELECTION_NOT_NEEDED with a live leader; else a live ISR member, else any live replica', () => {
    expect(decideElection(1, [1, 2, 3], st(2, [2]), live, 7)).toMatchObject({ errorCode: ErrorCode.ELECTION_NOT_NEEDED });
    expect(decideElection(1, [1, 2, 3], st(-1, [1, 3]), new Set([2, 3]), 7)).toEqual({ next: { leader: 3, leaderEpoch: 4, isr: [3], controllerEpoch: 7 }, unclean: false });
    expect(decideElection(1, [1, 2, 3], st(-1, [1]), new Set([2, 3]), 7)).toEqual({ next: { leader: 2, leaderEpoch: 4, isr: [2], controllerEpoch: 7 }, unclean: true });
  });

  it('unclean: ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is live', () => {
    expect(decideElection(1, [1, 2], st(-1, [1]), new Set([3]), 7)).toMatchObject({ errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE });
    expect(decideElection(1, [1, 2], st(1, [1]), new Set([3]), 7)).toMatchObject({ errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE });
  });
});
