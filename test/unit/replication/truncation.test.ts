// The follower's truncation on DivergingEpoch and the leader's check of LastFetchedEpoch: single
// decisions first (the cases of Kafka's AbstractFetcherThreadTest, in our words), then whole
// leader/follower exchanges on simulated logs, including KIP-279's multi-round case and random
// histories of elections, which must always end with the follower holding the leader's log.
import { describe, expect, it } from 'vitest';
import { LeaderEpochCache, UNDEFINED_EPOCH, UNDEFINED_OFFSET, type EpochEntry } from '../../../src/replication/leader-epoch-cache.js';
import { checkLastFetchedEpoch, truncationOffset } from '../../../src/replication/truncation.js';

const cache = (...entries: [number, number][]): LeaderEpochCache => LeaderEpochCache.inMemory(entries.map(([epoch, startOffset]): EpochEntry => ({ epoch, startOffset })));

describe('truncationOffset', () => {
  it('with the same epoch: truncates to the leader end offset when it is the smallest', () => {
    // follower epochs 1@0 2@3, LEO 8; the leader's epoch 2 ends at 5
    expect(truncationOffset({ epoch: 2, endOffset: 5 }, cache([1, 0], [2, 3]), 8)).toEqual({ offset: 5, complete: true });
  });

  it("with the same epoch: truncates to the follower's own end of it when that is smaller", () => {
    // follower's epoch 2 ends at 5 (epoch 3 starts there); the leader's epoch 2 ends at 6
    expect(truncationOffset({ epoch: 2, endOffset: 6 }, cache([1, 0], [2, 3], [3, 5]), 7)).toEqual({ offset: 5, complete: true });
  });

  it('never truncates past its own log end offset', () => {
    expect(truncationOffset({ epoch: 2, endOffset: 20 }, cache([1, 0], [2, 3]), 8)).toEqual({ offset: 8, complete: true });
  });

  it('without the epoch: truncates to the end of its largest smaller epoch and asks again (KIP-279)', () => {
    // the leader answers epoch 2, which this follower never saw; its epoch 1 ends where its 3 begins
    expect(truncationOffset({ epoch: 2, endOffset: 4 }, cache([1, 0], [3, 2]), 6)).toEqual({ offset: 2, complete: false });
  });

  it('without the epoch, when its smaller epoch ends past the log end (an empty epoch at the end): stops at the log end', () => {
    expect(truncationOffset({ epoch: 3, endOffset: 12 }, cache([1, 0], [5, 10]), 10)).toEqual({ offset: 10, complete: false });
  });

  it('with only later epochs: treats the epoch as its own, ending at its first entry', () => {
    // Kafka's endOffsetFor below the first entry answers (requested epoch, first start offset)
    expect(truncationOffset({ epoch: 1, endOffset: 4 }, cache([3, 2]), 6)).toEqual({ offset: 2, complete: true });
  });

  it('with an empty cache: truncates to the leader end offset, bounded by its log end', () => {
    expect(truncationOffset({ epoch: 2, endOffset: 4 }, cache(), 6)).toEqual({ offset: 4, complete: true });
    expect(truncationOffset({ epoch: 2, endOffset: 9 }, cache(), 6)).toEqual({ offset: 6, complete: true });
  });

  it('with an UNDEFINED end offset: keeps the log', () => {
    expect(truncationOffset({ epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET }, cache([1, 0]), 6)).toEqual({ offset: 6, complete: true });
    expect(truncationOffset({ epoch: 3, endOffset: UNDEFINED_OFFSET }, cache([1, 0]), 6)).toEqual({ offset: 6, complete: true });
  });

  it("with an UNDEFINED epoch but an offset (a leader without epochs): truncates to the leader's offset", () => {
    expect(truncationOffset({ epoch: UNDEFINED_EPOCH, endOffset: 3 }, cache([1, 0]), 6)).toEqual({ offset: 3, complete: true });
    expect(truncationOffset({ epoch: UNDEFINED_EPOCH, endOffset: 9 }, cache([1, 0]), 6)).toEqual({ offset: 6, complete: true });
  });
});

describe('checkLastFetchedEpoch', () => {
  const leader = cache([0, 0], [2, 5], [4, 9]); // LEO 12

  it('is consistent when the follower sends no epoch', () => {
    expect(checkLastFetchedEpoch(leader, 12, 3, UNDEFINED_EPOCH)).toEqual({ kind: 'consistent' });
  });

  it('is consistent when the epoch ends here at or after the fetch offset', () => {
    expect(checkLastFetchedEpoch(leader, 12, 12, 4)).toEqual({ kind: 'consistent' });
    expect(checkLastFetchedEpoch(leader, 12, 7, 4)).toEqual({ kind: 'consistent' });
    expect(checkLastFetchedEpoch(leader, 12, 9, 2)).toEqual({ kind: 'consistent' });
  });

  it('diverges when the epoch ends here before the fetch offset', () => {
    expect(checkLastFetchedEpoch(leader, 12, 10, 2)).toEqual({ kind: 'diverging', diverging: { epoch: 2, endOffset: 9 } });
  });

  it('diverges with the largest smaller epoch when this leader never had the epoch', () => {
    expect(checkLastFetchedEpoch(leader, 12, 6, 3)).toEqual({ kind: 'diverging', diverging: { epoch: 2, endOffset: 9 } });
    expect(checkLastFetchedEpoch(leader, 12, 6, 1)).toEqual({ kind: 'diverging', diverging: { epoch: 0, endOffset: 5 } });
  });

  it('cannot place an epoch above its latest or any epoch with an empty cache', () => {
    expect(checkLastFetchedEpoch(leader, 12, 12, 5)).toEqual({ kind: 'undefined-epoch' });
    expect(checkLastFetchedEpoch(cache(), 0, 0, 0)).toEqual({ kind: 'undefined-epoch' });
  });
});

/**
 * A replica in the simulation: its log as the epoch of each record (offset = index), and its
 * epoch cache. Records with the same offset and epoch are the same record (one leader per epoch).
 */
class SimReplica {
  log: number[] = [];
  readonly epochs = LeaderEpochCache.inMemory();

  appendAsLeader(epoch: number, count: number): void {
    for (let i = 0; i < count; i++) {
      this.epochs.assign(epoch, this.log.length);
      this.log.push(epoch);
    }
  }

  /** As Kafka's truncateTo: the log only when below its end, the cache always (an empty epoch may sit at the end). */
  truncateTo(offset: number): void {
    if (offset < this.log.length) this.log.length = offset;
    this.epochs.truncateFromEnd(offset);
  }
}

/**
 * Fetches from `leader` until `follower` holds the leader's log, up to `maxRecords` a fetch, or
 * until `maxFetches` fetches returned records. Returns the offsets it truncated to, in order. Fails
 * on more than 100 rounds (a truncation that does not converge).
 */
function replicate(leader: SimReplica, follower: SimReplica, maxRecords = Infinity, maxFetches = Infinity): number[] {
  const truncations: number[] = [];
  let fetches = 0;
  for (let round = 0; round < 100; round++) {
    const fetchOffset = follower.log.length;
    const check = checkLastFetchedEpoch(leader.epochs, leader.log.length, fetchOffset, follower.epochs.latestEpoch());
    expect(check.kind).not.toBe('undefined-epoch');
    if (check.kind === 'diverging') {
      const { offset } = truncationOffset(check.diverging, follower.epochs, follower.log.length);
      truncations.push(offset);
      follower.truncateTo(offset);
      continue;
    }
    if (fetchOffset === leader.log.length || fetches++ === maxFetches) return truncations;
    if (fetchOffset > leader.log.length) throw new Error(`follower at ${fetchOffset} past the leader end ${leader.log.length} after truncation`);
    for (const epoch of leader.log.slice(fetchOffset, fetchOffset + maxRecords)) {
      follower.epochs.assign(epoch, follower.log.length);
      follower.log.push(epoch);
    }
  }
  throw new Error('replication did not converge in 100 rounds');
}

function commonPrefix(a: number[], b: number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

describe('a follower converging on its leader', () => {
  it('KIP-101: a returning leader drops the record the new leader never had', () => {
    const a = new SimReplica();
    const b = new SimReplica();
    a.appendAsLeader(0, 2); // m0, m1 at epoch 0
    replicate(a, b, 1, 1); // b gets m0 only
    expect(b.log).toEqual([0]);
    b.epochs.assign(1, 1); // b elected at epoch 1, at its LEO 1
    b.appendAsLeader(1, 1); // m1' at offset 1
    expect(replicate(b, a)).toEqual([1]);
    expect(a.log).toEqual([0, 1]);
  });

  it('KIP-279: a follower that missed whole epochs truncates over several rounds to the exact divergence point', () => {
    const leader = new SimReplica();
    const follower = new SimReplica();
    // Shared history: epoch 0, offsets 0-2. Then the two wrote different epochs while apart.
    leader.appendAsLeader(0, 3);
    replicate(leader, follower);
    follower.appendAsLeader(2, 5); // offsets 3-7 as leader at epoch 2
    follower.epochs.assign(4, 8);
    follower.appendAsLeader(4, 2); // offsets 8-9 at epoch 4
    leader.appendAsLeader(1, 3); // offsets 3-5 at epoch 1
    leader.appendAsLeader(3, 3); // offsets 6-8 at epoch 3
    leader.appendAsLeader(5, 3); // offsets 9-11 at epoch 5
    expect(replicate(leader, follower)).toEqual([8, 3]);
    expect(follower.log).toEqual(leader.log);
    expect(follower.epochs.entries()).toEqual(leader.epochs.entries());
  });

  it('an empty epoch this replica started as leader at its log end does not stall the exchange', () => {
    const leader = new SimReplica();
    const follower = new SimReplica();
    leader.appendAsLeader(1, 10);
    replicate(leader, follower);
    follower.epochs.assign(5, 10); // elected at epoch 5, fenced before it wrote anything
    leader.appendAsLeader(3, 2); // the leader, re-elected at epoch 3 elsewhere, wrote on
    leader.appendAsLeader(6, 1);
    expect(replicate(leader, follower)).toEqual([10]);
    expect(follower.log).toEqual(leader.log);
  });

  it('random histories of elections, clean or not, always converge, truncating only what differs', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    let truncated = 0;
    let severalRounds = 0;
    for (let history = 0; history < 300; history++) {
      const replicas = [new SimReplica(), new SimReplica(), new SimReplica()];
      let leader = 0;
      let epoch = 0;
      replicas[0]!.epochs.assign(0, 0);
      for (let step = 0; step < 30; step++) {
        const action = rand(4);
        if (action === 0) {
          replicas[leader]!.appendAsLeader(epoch, 1 + rand(3));
        } else if (action === 1) {
          const f = rand(3);
          if (f !== leader) replicate(replicas[leader]!, replicas[f]!, 1 + rand(4), 1 + rand(2));
        } else if (action === 2) {
          leader = rand(3); // any replica, like an unclean election: the cruellest case for truncation
          epoch++;
          replicas[leader]!.epochs.assign(epoch, replicas[leader]!.log.length);
        } else {
          const f = rand(3);
          if (f === leader) continue;
          const before = [...replicas[f]!.log];
          const common = commonPrefix(before, replicas[leader]!.log);
          const truncations = replicate(replicas[leader]!, replicas[f]!);
          expect(replicas[f]!.log).toEqual(replicas[leader]!.log);
          // Every truncation kept at least the records both logs share.
          for (const offset of truncations) expect(offset).toBeGreaterThanOrEqual(Math.min(common, before.length));
          if (truncations.length > 0) truncated++;
          if (truncations.length > 1) severalRounds++;
        }
      }
    }
    // The histories exercised what they are for.
    expect(truncated).toBeGreaterThan(50);
    expect(severalRounds).toBeGreaterThan(5);
  });
});
