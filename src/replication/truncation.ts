/**
 * Where a follower's log and its leader's part ways, decided from leader epochs (KIP-101, KIP-279),
 * as truncation on fetch (KAFKA-10554): the follower sends LastFetchedEpoch with each Fetch; when
 * the leader finds that epoch ends earlier in its own log (or that it never had it), it answers
 * DivergingEpoch {epoch, endOffset} instead of records, and the follower truncates and fetches
 * again. Both sides' decisions are here, as pure functions of the epoch caches and offsets; the
 * caller does the truncation (native truncateTo, then the cache's truncateFromEnd).
 * Semantics are Kafka's (Partition.readRecords, AbstractFetcherThread.getOffsetTruncationState).
 */
import { type LeaderEpochCache, UNDEFINED_EPOCH, UNDEFINED_OFFSET } from './leader-epoch-cache.js';

/** A Fetch response's DivergingEpoch: the leader's largest epoch <= the follower's last fetched epoch, and where it ends. */
export interface DivergingEpoch {
  epoch: number;
  endOffset: number;
}

/**
 * The leader's check of a follower Fetch that carries lastFetchedEpoch (Kafka's readRecords):
 * - 'diverging': the follower's last epoch is unknown here (the leader's largest epoch <= it is
 *   smaller) or ends before fetchOffset here; answer DivergingEpoch and no records.
 * - 'consistent': read from fetchOffset as usual (also when the request carries no epoch, -1).
 * - 'undefined-epoch': the leader's cache cannot place the epoch (empty, or the epoch is above the
 *   latest); Kafka answers OFFSET_OUT_OF_RANGE.
 */
export function checkLastFetchedEpoch(
  leaderCache: LeaderEpochCache,
  leaderLogEndOffset: number,
  fetchOffset: number,
  lastFetchedEpoch: number,
): { kind: 'consistent' } | { kind: 'diverging'; diverging: DivergingEpoch } | { kind: 'undefined-epoch' } {
  if (lastFetchedEpoch === UNDEFINED_EPOCH) return { kind: 'consistent' };
  const { epoch, endOffset } = leaderCache.endOffsetFor(lastFetchedEpoch, leaderLogEndOffset);
  if (epoch === UNDEFINED_EPOCH || endOffset === UNDEFINED_OFFSET) return { kind: 'undefined-epoch' };
  if (epoch < lastFetchedEpoch || endOffset < fetchOffset) return { kind: 'diverging', diverging: { epoch, endOffset } };
  return { kind: 'consistent' };
}

/**
 * The follower's answer to DivergingEpoch {epoch E, endOffset}: the offset to truncate its log to,
 * and whether that settles it (complete) or the next Fetch must check again.
 * - The follower has E (its largest epoch <= E is E): min(leader's end of E, own end of E, own
 *   LEO); complete. The logs agree up to there.
 * - The follower lacks E but has a smaller epoch: truncate to the end of that epoch (and not past
 *   its LEO), not complete. The follower's next Fetch sends that smaller epoch and the leader
 *   answers again: KIP-279's rounds, which handle a follower that missed a whole epoch.
 * - The follower has no epoch at or below E (empty cache): min(leader's end offset, LEO); complete
 *   (Kafka: it tracked no epochs then, and the leader's answer is at or below what it asked).
 * - UNDEFINED end offset: a leader that could not place the epoch; nothing is truncated (Kafka
 *   falls back to the fetch offset, the follower's LEO on this path); complete.
 * - UNDEFINED epoch with an offset (a leader without epochs): min(leader's end offset, LEO); complete.
 * The offset never exceeds localLogEndOffset. Apply it as Kafka's truncateTo does: the log only when
 * the offset is below its end, the epoch cache (truncateFromEnd) always, because a replica elected
 * leader that wrote nothing has an entry at its log end that the leader never saw; left in place,
 * the next Fetch would send that epoch again and get the same answer forever.
 */
export function truncationOffset(
  diverging: DivergingEpoch,
  localCache: LeaderEpochCache,
  localLogEndOffset: number,
): { offset: number; complete: boolean } {
  if (diverging.endOffset === UNDEFINED_OFFSET) return { offset: localLogEndOffset, complete: true };
  if (diverging.epoch === UNDEFINED_EPOCH) return { offset: Math.min(diverging.endOffset, localLogEndOffset), complete: true };
  const own = localCache.endOffsetFor(diverging.epoch, localLogEndOffset);
  if (own.endOffset === UNDEFINED_OFFSET) return { offset: Math.min(diverging.endOffset, localLogEndOffset), complete: true };
  if (own.epoch !== diverging.epoch) return { offset: Math.min(own.endOffset, localLogEndOffset), complete: false };
  return { offset: Math.min(diverging.endOffset, own.endOffset, localLogEndOffset), complete: true };
}
