import { describe, expect, it } from 'vitest';
import { assignReplicas, initialPartitionState, InvalidPartitionsError, InvalidReplicationFactorError, PlacementError } from '../../../src/cluster/placement.js';

const plain = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i, rack: null }));

describe('assignReplicas without racks', () => {
  it('matches the round robin of Kafka\'s documented example (5 brokers, 10 partitions, RF 3, start 0)', () => {
    expect(assignReplicas(plain(5), 10, 3, 0, 0)).toEqual([
      [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 0], [4, 0, 1],
      // p5 wraps around: the followers shift by one more
      [0, 2, 3], [1, 3, 4], [2, 4, 0], [3, 0, 1], [4, 1, 2],
    ]);
  });

  it('continues the round robin from startPartition when partitions are added', () => {
    const all = assignReplicas(plain(5), 10, 3, 0, 0);
    expect(assignReplicas(plain(5), 4, 3, 6, 0)).toEqual(all.slice(6, 10));
  });

  it('spreads leaders evenly and never repeats a broker within a partition', () => {
    const brokers = [{ id: 7, rack: null }, { id: 3, rack: null }, { id: 11, rack: null }, { id: 5, rack: null }];
    const out = assignReplicas(brokers, 40, 3);
    const leaders = new Map<number, number>();
    for (const r of out) {
      expect(new Set(r).size).toBe(3);
      leaders.set(r[0], (leaders.get(r[0]) ?? 0) + 1);
    }
    expect([...leaders.values()]).toEqual([10, 10, 10, 10]);
  });
});

describe('assignReplicas with racks', () => {
  // Kafka's documented example: rack1 {0,5}, rack2 {3,4}, rack3 {1,2} alternate as 0,3,1,5,4,2.
  const racked = [
    { id: 0, rack: 'rack1' }, { id: 1, rack: 'rack3' }, { id: 2, rack: 'rack3' },
    { id: 3, rack: 'rack2' }, { id: 4, rack: 'rack2' }, { id: 5, rack: 'rack1' },
  ];
  const rackOf = new Map(racked.map((b) => [b.id, b.rack]));

  it('takes first replicas in rack-alternating order', () => {
    expect(assignReplicas(racked, 6, 1, 0, 0).map((r) => r[0])).toEqual([0, 3, 1, 5, 4, 2]);
    expect(assignReplicas(racked, 1, 3, 0, 0)).toEqual([[0, 3, 1]]);
  });

  it('puts the replicas of each partition on distinct racks when RF <= racks, and at most ceil(RF/racks) per rack otherwise', () => {
    for (const start of [0, 1, 2, 3, 4, 5]) {
      for (const r of assignReplicas(racked, 24, 3, 0, start)) expect(new Set(r.map((id) => rackOf.get(id))).size).toBe(3);
      for (const r of assignReplicas(racked, 24, 5, 0, start)) {
        expect(new Set(r).size).toBe(5);
        const perRack = new Map<string | null | undefined, number>();
        for (const id of r) perRack.set(rackOf.get(id), (perRack.get(rackOf.get(id)) ?? 0) + 1);
        expect(Math.max(...perRack.values())).toBeLessThanOrEqual(2);
      }
    }
  });

  it('treats brokers without a rack as one more rack', () => {
    const mixed = [{ id: 1, rack: 'a' }, { id: 2, rack: 'a' }, { id: 3, rack: null }];
    for (const r of assignReplicas(mixed, 10, 2)) expect(r.includes(3)).toBe(true);
  });
});

describe('assignReplicas errors', () => {
  it('refuses a replication factor above the broker count as INVALID_REPLICATION_FACTOR', () => {
    const err = (() => {
      try {
        assignReplicas(plain(2), 1, 3);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidReplicationFactorError);
    expect(err).toBeInstanceOf(PlacementError);
    expect((err as InvalidReplicationFactorError).errorName).toBe('INVALID_REPLICATION_FACTOR');
    expect(() => assignReplicas(plain(2), 1, 0)).toThrow(InvalidReplicationFactorError);
    expect(() => assignReplicas(plain(2), 0, 1)).toThrow(InvalidPartitionsError);
  });
});

describe('initialPartitionState', () => {
  it('lets the first live replica lead with every live replica in the ISR', () => {
    expect(initialPartitionState([3, 1, 2], new Set([1, 2]), 4)).toEqual({ leader: 1, leaderEpoch: 0, isr: [1, 2], controllerEpoch: 4, version: 0 });
    expect(initialPartitionState([3], new Set([1]), 4)).toMatchObject({ leader: -1, isr: [3] });
  });
});
