/**
 * The leader-epoch cache of one partition replica: for every leader epoch that wrote to this log,
 * the offset of its first record. It is what lets a follower find where its log and the leader's
 * part ways (KIP-101: truncation by epoch instead of by high watermark, which lost acknowledged
 * records), and what answers OffsetForLeaderEpoch and a Fetch's LastFetchedEpoch.
 * Semantics are Kafka's LeaderEpochFileCache; the code is ours.
 *
 * Invariant, kept by every mutation: entries are strictly increasing in both epoch and start offset.
 *
 * On disk, `<partition dir>/leader-epoch-checkpoint`, Kafka's text format (version 0), so Kafka's
 * tools read it and a Kafka data dir's file reads here:
 *
 *   0\n                      version
 *   <count>\n                number of entries
 *   <epoch> <startOffset>\n  one line per entry, oldest first, decimal, one space
 *
 * An empty cache is "0\n0\n". The file is replaced whole with writeAtomic on every change (Kafka
 * defers the fsync after truncations to a scheduler; we have none, and truncations are rare).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../util/fs.js';
import { checkpointInteger, formatCheckpointText, parseCheckpointText } from './checkpoint-files.js';

/** OffsetForLeaderEpoch's "no such epoch" and "no such offset" (Kafka's UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET). */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_OFFSET = -1;

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class LeaderEpochCache {
  /** Oldest first; see the invariant above. */
  private epochs: EpochEntry[];

  /** `path` undefined: never written (inMemory). */
  private constructor(
    private readonly path: string | undefined,
    entries: readonly EpochEntry[],
  ) {
    this.epochs = [];
    for (const e of entries) this.assignInMemory(e.epoch, e.startOffset);
  }

  /**
   * Reads dir/leader-epoch-checkpoint; when missing or unreadable, rebuilds from `batches` (epoch
   * and base offset of every batch, oldest first, as the log's batch headers give them). Then drops
   * what the log no longer holds (truncateFromEnd(logEndOffset), truncateFromStart(logStartOffset)):
   * the checkpoint may be older than the log after a crash. Writes the file when it was missing or
   * unreadable, or when anything changed, so that afterwards the file matches the cache.
   */
  static load(
    dir: string,
    logStartOffset: number,
    logEndOffset: number,
    batches: () => Iterable<{ epoch: number; baseOffset: number }>,
  ): LeaderEpochCache {
    const path = join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
    let stored: EpochEntry[] | undefined;
    try {
      stored = parseLeaderEpochCheckpoint(readFileSync(path, 'utf8'), path);
    } catch {
      stored = undefined; // missing, unreadable or malformed: the log's batch headers are the truth
    }
    const cache = new LeaderEpochCache(undefined, stored ?? []);
    if (stored === undefined) for (const b of batches()) cache.assign(b.epoch, b.baseOffset);
    cache.truncateFromEnd(logEndOffset);
    cache.truncateFromStart(logStartOffset);
    const persisted = new LeaderEpochCache(path, cache.epochs);
    if (stored === undefined || !sameEntries(stored, persisted.epochs)) persisted.persist();
    return persisted;
  }

  /** A cache that never touches the disk (tests, and logs that must not write). */
  static inMemory(entries: readonly EpochEntry[] = []): LeaderEpochCache {
    return new LeaderEpochCache(undefined, entries);
  }

  entries(): readonly EpochEntry[] {
    return this.epochs.map((e) => ({ ...e }));
  }

  /** The latest epoch that wrote to this log, UNDEFINED_EPOCH when empty. */
  latestEpoch(): number {
    return this.epochs.at(-1)?.epoch ?? UNDEFINED_EPOCH;
  }

  /** The entry before the latest, if any (Kafka's previousEpoch). */
  previousEpoch(): number | undefined {
    return this.epochs.at(-2)?.epoch;
  }

  earliestEntry(): EpochEntry | undefined {
    const e = this.epochs[0];
    return e && { ...e };
  }

  /**
   * Records that `epoch` starts at `startOffset`. No-op when it is already the latest epoch at an
   * equal or earlier offset (every batch of an epoch calls this; only the first counts). Otherwise
   * removes the entries the new one supersedes, those with an epoch >= epoch or a start offset >=
   * startOffset, so the invariant holds, then appends it and persists. Negative epochs (batches
   * written before epochs existed) are ignored; a negative offset is a bug and throws.
   */
  assign(epoch: number, startOffset: number): void {
    if (this.assignInMemory(epoch, startOffset)) this.persist();
  }

  /**
   * OffsetForLeaderEpoch: the largest cached epoch <= requestedEpoch and where it ends (the next
   * epoch's start, or logEndOffset for the latest epoch).
   * - requestedEpoch UNDEFINED, an empty cache, or requestedEpoch above the latest epoch:
   *   { UNDEFINED_EPOCH, UNDEFINED_OFFSET }.
   * - requestedEpoch below the first cached epoch: { requestedEpoch, first entry's start offset }, as
   *   Kafka does (the older epochs' records were deleted; the caller may keep nothing before it).
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    const undefinedAnswer = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET };
    if (requestedEpoch === UNDEFINED_EPOCH || this.epochs.length === 0) return undefinedAnswer;
    if (requestedEpoch === this.latestEpoch()) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.epochs.findIndex((e) => e.epoch > requestedEpoch);
    if (higher === -1) return undefinedAnswer;
    const next = this.epochs[higher]!;
    if (higher === 0) return { epoch: requestedEpoch, endOffset: next.startOffset };
    return { epoch: this.epochs[higher - 1]!.epoch, endOffset: next.startOffset };
  }

  /** Start offset of `epoch` if cached (the ISR rejoin rule needs the current epoch's start). */
  startOffsetOf(epoch: number): number | undefined {
    return this.epochs.find((e) => e.epoch === epoch)?.startOffset;
  }

  /** The epoch of the record at `offset`: the last entry starting at or before it (Kafka's epochForOffset). */
  epochForOffset(offset: number): number | undefined {
    let found: number | undefined;
    for (const e of this.epochs) {
      if (e.startOffset > offset) break;
      found = e.epoch;
    }
    return found;
  }

  /** After the log is truncated to `endOffset`: removes entries starting at or after it. Negative: no-op. */
  truncateFromEnd(endOffset: number): void {
    if (endOffset < 0) return;
    const keep = this.epochs.findIndex((e) => e.startOffset >= endOffset);
    if (keep === -1) return;
    this.epochs = this.epochs.slice(0, keep);
    this.persist();
  }

  /**
   * After the log start moves to `startOffset` (retention, DeleteRecords): removes entries that start
   * at or before it, then puts back the last of them moved up to startOffset, because the records
   * from startOffset on still belong to that epoch. So truncateFromStart(6) keeps an entry at 6.
   * Negative: no-op.
   */
  truncateFromStart(startOffset: number): void {
    if (startOffset < 0) return;
    let covered = 0;
    while (covered < this.epochs.length && this.epochs[covered]!.startOffset <= startOffset) covered++;
    if (covered === 0) return;
    const covering = this.epochs[covered - 1]!;
    if (covered === 1 && covering.startOffset === startOffset) return;
    this.epochs = [{ epoch: covering.epoch, startOffset }, ...this.epochs.slice(covered)];
    this.persist();
  }

  /** Removes every entry (the log was deleted or fully truncated) and persists. */
  clear(): void {
    this.epochs = [];
    this.persist();
  }

  /** The bytes of the checkpoint file (for tests and dump tools). */
  serialize(): string {
    return formatCheckpointText(this.epochs.map((e) => `${e.epoch} ${e.startOffset}`));
  }

  /** assign() without the write; true when the entries changed. */
  private assignInMemory(epoch: number, startOffset: number): boolean {
    if (epoch < 0) return false;
    if (!Number.isSafeInteger(epoch) || !Number.isSafeInteger(startOffset) || startOffset < 0) {
      throw new Error(`leader epoch entry (${epoch}, ${startOffset}) is invalid`);
    }
    const latest = this.epochs.at(-1);
    if (latest && latest.epoch === epoch && latest.startOffset <= startOffset) return false;
    let keep = this.epochs.length;
    while (keep > 0 && (this.epochs[keep - 1]!.epoch >= epoch || this.epochs[keep - 1]!.startOffset >= startOffset)) keep--;
    this.epochs.length = keep;
    this.epochs.push({ epoch, startOffset });
    return true;
  }

  private persist(): void {
    if (this.path !== undefined) writeAtomic(this.path, this.serialize());
  }
}

/** Parses a leader-epoch-checkpoint's text; throws an Error naming `path` and the line on anything malformed. */
export function parseLeaderEpochCheckpoint(text: string, path: string): EpochEntry[] {
  return parseCheckpointText(text, path, 2).map(({ line, fields }) => ({
    epoch: checkpointInteger(fields[0]!, path, line),
    startOffset: checkpointInteger(fields[1]!, path, line),
  }));
}

function sameEntries(a: readonly EpochEntry[], b: readonly EpochEntry[]): boolean {
  return a.length === b.length && a.every((e, i) => e.epoch === b[i]!.epoch && e.startOffset === b[i]!.startOffset);
}
