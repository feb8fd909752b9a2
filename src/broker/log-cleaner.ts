/**
 * The log cleaner: compacts the partition logs whose cleanup.policy contains compact
 * (`__consumer_offsets`, and user topics created or altered with cleanup.policy=compact), as
 * Kafka's LogCleaner does with its default single thread (log.cleaner.threads=1).
 *
 * - One pass at a time for the whole broker: a pass reads and rewrites segments on a libuv worker,
 *   and the machine has two cores that produce and fetch need too. The JS thread only plans and
 *   swaps (native/src/storage/cleaner.h).
 * - A round picks the filthiest eligible log (highest dirty ratio at or above its
 *   min.cleanable.dirty.ratio, or with an expired tombstone horizon), runs a pass, and repeats until
 *   no log is eligible; each log at most once per round. Then it sleeps log.cleaner.backoff.ms.
 * - Every pass that did something is logged: records dropped, segments rewritten, bytes before and
 *   after, the new checkpoint and the time taken.
 * - compactNow() runs a round at once (tests, admin), after any round in flight; `force` ignores the
 *   dirty ratio.
 * - stop() ends the timer; the broker then closes the logs, which cancels a pass in flight.
 * - Transactions: `transactionalBounds` (when the broker gives it) says, per log, how far a pass may
 *   go (min(high watermark, last stable offset)) and which aborted transactions it must drop; its
 *   `upTo` bounds both the eligibility check and the pass. Without it, or when it answers
 *   undefined, the whole log below its end is cleanable as before.
 */
import type { AbortedTransaction, CompactionResult, PartitionLog } from '../storage/partition-log.js';
import { crashIfSimulated, faults } from '../util/faults.js';
import type { Logger } from '../util/logger.js';
import { SerialQueue } from '../util/serial.js';
import type { TopicRegistry } from './topics.js';
import { cleanupPolicyOf } from './topics.js';

export interface CleanerOptions {
  /** log.cleaner.backoff.ms: sleep between rounds. */
  backoffMs: number;
  /** log.cleaner.dedupe.buffer.size: the key map budget of one pass. */
  mapBytes: number;
  /**
   * Per log, asked at each eligibility check; the pass then uses the answer its check got: `upTo` =
   * min(high watermark, last stable offset), `aborted` = the partition's aborted transactions
   * (native/src/storage/cleaner.h, "Transactions"). undefined: no bound, no aborted transactions.
   */
  transactionalBounds?: (topicName: string, partition: number, log: PartitionLog) => TransactionalBounds | undefined;
}

/** What compaction of one log must respect while transactions are in it. */
export interface TransactionalBounds {
  upTo: number;
  aborted: AbortedTransaction[];
}

export interface CleanedLog {
  /** `<topic>-<partition>` */
  name: string;
  result?: CompactionResult;
  error?: Error;
}

export class LogCleaner {
  #timer: NodeJS.Timeout | undefined;
  /** Rounds run one at a time, each after those asked for before it. */
  #rounds = new SerialQueue();
  #stopped = false;

  constructor(
    private readonly topics: TopicRegistry,
    private readonly log: Logger,
    private readonly options: CleanerOptions,
  ) {}

  start(): void {
    this.#schedule();
  }

  /** Runs a round now (after the one in flight, if any) and returns what each pass did. */
  compactNow(opts: { force?: boolean; now?: number } = {}): Promise<CleanedLog[]> {
    // A round starts on a later tick, never inside the caller, even when none is in flight.
    return this.#rounds.run(async () => {
      await undefined;
      return this.#runRound(opts);
    });
  }

  /**
   * No pass starts after this. Resolves when the round in flight has ended; close the logs first
   * (PartitionLog.close() cancels a pass in flight) so that this does not wait for a whole pass.
   */
  stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    return this.#rounds.idle();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.compactNow().finally(() => this.#schedule());
    }, this.options.backoffMs);
    this.#timer.unref();
  }

  /** Compacted logs, each with its name, topic and partition index. */
  *#compactedLogs(): Generator<{ name: string; topic: string; partition: number; log: PartitionLog }> {
    for (const topic of this.topics.all()) {
      const policy = cleanupPolicyOf(this.topics.effectiveConfig(topic)['cleanup.policy']);
      if (policy === 'delete') continue;
      for (let i = 0; i < topic.partitions.length; i++) {
        yield { name: `${topic.name}-${i}`, topic: topic.name, partition: i, log: topic.partitions[i]! };
      }
    }
  }

  async #runRound(opts: { force?: boolean; now?: number }): Promise<CleanedLog[]> {
    const done: CleanedLog[] = [];
    const tried = new Set<PartitionLog>();
    while (!this.#stopped) {
      const now = opts.now ?? Date.now();
      let best: { name: string; log: PartitionLog; bounds: TransactionalBounds | undefined; score: number } | undefined;
      for (const { name, topic, partition, log } of this.#compactedLogs()) {
        if (tried.has(log)) continue;
        let score: number;
        let bounds: TransactionalBounds | undefined;
        try {
          bounds = this.options.transactionalBounds?.(topic, partition, log);
          const info = log.cleanable({ now, upTo: bounds?.upTo });
          if (opts.force) {
            if (info.dirtyBytes === 0 && info.cleanBytes === 0) continue;
          } else if (!info.eligible) {
            continue;
          }
          // Overdue work first (Kafka's "must clean" logs), then the dirtiest.
          score = info.tombstonesDue || info.compactionOverdue ? Math.max(info.dirtyRatio, 1) : info.dirtyRatio;
        } catch {
          continue; // closed under us (topic deleted)
        }
        if (!best || score > best.score) best = { name, log, bounds, score };
      }
      if (!best) break;
      tried.add(best.log);
      try {
        // upTo and aborted belong together: the aborted list is complete below that upTo, even if
        // the pass plans later (after another pass of this log) and the bounds have moved since.
        const { bounds } = best;
        const result = await best.log.compact({
          now,
          upTo: bounds?.upTo,
          aborted: bounds?.aborted,
          force: opts.force,
          mapBytes: this.options.mapBytes,
          crashAt: faults.cleanerCrashAt,
        });
        done.push({ name: best.name, result });
        if (!result.skipped) this.log.info(describe(best.name, result));
        else if (result.skipped === 'discarded') this.log.info(`compaction of ${best.name} discarded: the log changed during the pass`);
      } catch (e) {
        const error = e as Error & { code?: string };
        crashIfSimulated(error); // an injected fault (util/faults.ts): die as a crash would
        done.push({ name: best.name, error });
        if (error.code !== 'CANCELLED' && error.code !== 'CLOSED') this.log.error(`compaction of ${best.name} failed: ${error.message}`);
      }
    }
    return done;
  }
}

function describe(name: string, r: CompactionResult): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  return (
    `compacted ${name}: ${r.recordsDropped} of ${r.recordsRead} records dropped (${r.tombstonesDropped} tombstones${r.abortedRecordsDropped > 0 ? `, ${r.abortedRecordsDropped} aborted` : ''}), ` +
    `${r.segmentsRewritten} segment(s) rewritten, ${r.segmentsRemoved} removed, ${kb(r.bytesBefore)} -> ${kb(r.bytesAfter)}, ` +
    `clean up to offset ${r.cleanedUpTo} (dirty ratio was ${r.dirtyRatio.toFixed(2)}, ${r.mapKeys} keys mapped) in ${r.durationMs.toFixed(0)} ms`
  );
}
