/**
 * The leader's view of its followers, and the rules built on it: when a follower is caught up, when
 * it leaves or may rejoin the ISR, and where the high watermark (HW) is. Kafka's Replica.scala and
 * Partition.scala rules (cluster.md §1.3-1.4), as pure code over plain numbers: times are
 * milliseconds from whatever clock the caller uses, offsets are < 2^53. Nothing here writes the ISR;
 * the caller turns outOfSyncReplicas / canJoinIsr into a compare-and-swap in etcd, and a shrink
 * counts only once that write commits.
 */

/** An offset or broker epoch not known yet (Kafka's UnifiedLog.UnknownOffset). */
export const UNKNOWN = -1;

/**
 * A time that never happened: "never caught up", "never fetched". Kafka uses 0, which works with
 * wall-clock milliseconds; with a monotonic clock that starts near 0 it would count a follower
 * that never caught up as caught up for the first replica.lag.time.max.ms of the process.
 */
export const NEVER = -Infinity;

/** What the leader knows of one follower, from that follower's Fetch requests. */
export class FollowerState {
  /** The follower's log end offset: the fetch offset of its latest Fetch. */
  logEndOffset = UNKNOWN;
  logStartOffset = UNKNOWN;
  /**
   * The last time the follower was known to hold everything the leader had: the ISR rule measures
   * lag in time, not offsets, so a follower that keeps up with a busy leader stays in sync.
   */
  lastCaughtUpTimeMs = NEVER;
  /** The leader's log end offset when it answered the previous Fetch (the highest seen). */
  lastFetchLeaderLogEndOffset = UNKNOWN;
  lastFetchTimeMs = NEVER;
  /** The follower's broker epoch sent with its fetches (Fetch v15 ReplicaState), UNKNOWN until one arrives. */
  brokerEpoch = UNKNOWN;

  /**
   * Applies a Fetch from this follower: fetchOffset is its log end offset, leaderEndOffset the
   * leader's log end offset as this fetch is answered. The follower was caught up
   * - now, when fetchOffset >= leaderEndOffset (it holds everything the leader has);
   * - at the previous fetch, when fetchOffset >= the leader end offset of that fetch (it holds all
   *   the previous fetch could have returned). This second rule keeps a follower in sync under a
   *   steady trickle of produces, where the leader is always a little ahead.
   * lastCaughtUpTimeMs never goes back. Returns false, and changes nothing, when the fetch carries a
   * broker epoch (not -1) older than `aliveBrokerEpoch`, the registered epoch of that broker: a fetch
   * from before the follower restarted must not vouch for the restarted log (KIP-903).
   */
  updateFetchState(
    fetchOffset: number,
    followerStartOffset: number,
    fetchTimeMs: number,
    leaderEndOffset: number,
    brokerEpoch: number,
    aliveBrokerEpoch?: number,
  ): boolean {
    if (brokerEpoch !== UNKNOWN && aliveBrokerEpoch !== undefined && aliveBrokerEpoch > brokerEpoch) return false;
    if (fetchOffset >= leaderEndOffset) {
      this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, fetchTimeMs);
    } else if (fetchOffset >= this.lastFetchLeaderLogEndOffset) {
      this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, this.lastFetchTimeMs);
    }
    this.logStartOffset = followerStartOffset;
    this.logEndOffset = fetchOffset;
    this.lastFetchLeaderLogEndOffset = Math.max(leaderEndOffset, this.lastFetchLeaderLogEndOffset);
    this.lastFetchTimeMs = fetchTimeMs;
    this.brokerEpoch = brokerEpoch;
    return true;
  }

  /** In sync: at the leader's end, or caught up within the last replicaLagTimeMaxMs. */
  isCaughtUp(leaderEndOffset: number, nowMs: number, replicaLagTimeMaxMs: number): boolean {
    return this.logEndOffset === leaderEndOffset || nowMs - this.lastCaughtUpTimeMs <= replicaLagTimeMaxMs;
  }

  /**
   * This broker becomes (or stays) leader: Kafka's resetReplicaState. An ISR member starts as caught
   * up now (so it has a full lag window to fetch before it can be shrunk out); any other follower as
   * never caught up. With a new leader epoch (isNewLeader, the default) nothing the follower told
   * an earlier leadership counts: offsets and the broker epoch become unknown until its next fetch.
   * Otherwise (same leader, ISR or replicas changed) its offsets are kept and its next fetch is
   * measured against leaderEndOffset.
   */
  resetForNewLeader(nowMs: number, leaderEndOffset: number, inIsr: boolean, isNewLeader = true): void {
    this.lastCaughtUpTimeMs = inIsr ? nowMs : NEVER;
    if (isNewLeader) {
      this.logStartOffset = UNKNOWN;
      this.logEndOffset = UNKNOWN;
      this.lastFetchLeaderLogEndOffset = UNKNOWN;
      this.lastFetchTimeMs = NEVER;
      this.brokerEpoch = UNKNOWN;
    } else {
      this.lastFetchLeaderLogEndOffset = leaderEndOffset;
    }
  }
}

export interface HighWatermarkInput {
  leaderId: number;
  leaderLogEndOffset: number;
  /** The ISR as the leader counts it: committed members plus pending additions (Kafka's maximal ISR). */
  isr: readonly number[];
  /** The ISR as last committed to etcd, for the min.insync.replicas check (Kafka's isUnderMinIsr). Default: isr. */
  committedIsr?: readonly number[];
  /** Every other assigned replica, by broker id (replicas without state do not count). */
  followers: ReadonlyMap<number, FollowerState>;
  currentHw: number;
  minIsr: number;
  nowMs: number;
  replicaLagTimeMaxMs: number;
  /**
   * May this replica join the ISR (not fenced, not shutting down)? Only such replicas are waited
   * for when outside the ISR. Default: all.
   */
  isEligible?: (brokerId: number) => boolean;
}

/**
 * The leader's high watermark (Kafka's maybeIncrementLeaderHW): the smallest log end offset among
 * the leader, the ISR followers, and the followers that are caught up and eligible to join (waiting
 * for them avoids an HW that must wait again the moment they join). It never moves back (returns
 * currentHw), and it does not advance while the ISR is smaller than minIsr (KAFKA-15583), so an
 * acks=all write appended before the ISR shrank is not acknowledged by a lone leader.
 */
export function computeHighWatermark(input: HighWatermarkInput): number {
  const { leaderId, leaderLogEndOffset, isr, followers, currentHw, minIsr, nowMs, replicaLagTimeMaxMs } = input;
  const isEligible = input.isEligible ?? (() => true);
  if ((input.committedIsr ?? isr).length < minIsr) return currentHw;
  let hw = leaderLogEndOffset;
  for (const [id, f] of followers) {
    if (id === leaderId || f.logEndOffset >= hw) continue;
    const waitFor = isr.includes(id) || (f.isCaughtUp(leaderLogEndOffset, nowMs, replicaLagTimeMaxMs) && isEligible(id));
    if (waitFor) hw = f.logEndOffset;
  }
  return Math.max(currentHw, hw);
}

/**
 * The ISR members to remove (Kafka's getOutOfSyncReplicas): followers in the ISR, the leader
 * excluded, that are not caught up (not at the leader's end and not caught up for more than
 * replicaLagTimeMaxMs), or of which the leader has no state at all.
 */
export function outOfSyncReplicas(input: {
  leaderId: number;
  leaderLogEndOffset: number;
  isr: readonly number[];
  followers: ReadonlyMap<number, FollowerState>;
  nowMs: number;
  replicaLagTimeMaxMs: number;
}): number[] {
  const { leaderId, leaderLogEndOffset, isr, followers, nowMs, replicaLagTimeMaxMs } = input;
  return isr.filter((id) => {
    if (id === leaderId) return false;
    const f = followers.get(id);
    return f === undefined || !f.isCaughtUp(leaderLogEndOffset, nowMs, replicaLagTimeMaxMs);
  });
}

/**
 * May this follower (not in the ISR) be added to it? Its log must reach the high watermark, or it
 * would lack committed records, and the start of the current leader epoch, or records the previous
 * leader committed between HW and LEO could be lost if it became leader (KIP-101). An unknown
 * epoch start (undefined) refuses. We also require it to be caught up by time, which Kafka's
 * isFollowerInSync does not: it would otherwise be shrunk out again at the next check.
 */
export function canJoinIsr(
  follower: FollowerState,
  highWatermark: number,
  currentEpochStartOffset: number | undefined,
  leaderLogEndOffset: number,
  nowMs: number,
  replicaLagTimeMaxMs: number,
): boolean {
  const leo = follower.logEndOffset;
  return (
    leo !== UNKNOWN &&
    leo >= highWatermark &&
    currentEpochStartOffset !== undefined &&
    leo >= currentEpochStartOffset &&
    follower.isCaughtUp(leaderLogEndOffset, nowMs, replicaLagTimeMaxMs)
  );
}
