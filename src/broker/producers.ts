/**
 * Idempotent and transactional producers: producer id allocation (InitProducerId), the per-partition
 * sequence check that makes a retried batch land once, and the partition side of transactions.
 *
 * Kafka's rules (ProducerStateManager / ProducerAppendInfo), which clients depend on:
 * - a batch with producerId -1 is not checked;
 * - an epoch older than the one recorded for the producer is INVALID_PRODUCER_EPOCH;
 * - a newer epoch (the producer bumped it) must start at sequence 0, else OUT_OF_ORDER_SEQUENCE;
 * - a producer this partition has never seen must start at sequence 0, else UNKNOWN_PRODUCER_ID
 *   (the client then resets its sequence state);
 * - a batch equal to one of the last five appended for the producer is a retry: the append is
 *   skipped and the original offsets returned, with no error;
 * - otherwise the first sequence must follow the last one (wrapping at 2^31-1), else
 *   OUT_OF_ORDER_SEQUENCE_NUMBER, and nothing is written.
 *
 * Transactions (Kafka's ProducerAppendInfo and ProducerStateManager, transaction version 1):
 * - the first transactional batch of a producer opens its transaction at that batch's base offset
 *   (currentTxnFirstOffset); a COMMIT or ABORT marker (a control batch, control-records.ts) closes it;
 * - a non-transactional batch from a producer with an open transaction is INVALID_TXN_STATE;
 * - sequences run on across transactions (only an epoch bump restarts them at 0);
 * - a marker older than the producer's epoch here is INVALID_PRODUCER_EPOCH, and a marker raises
 *   the producer's epoch to its own (the coordinator fences a timed-out producer that way);
 * - a marker whose coordinator epoch (its value: the leader epoch of the coordinator's
 *   `__transaction_state` partition) is below that of the producer's last marker here is
 *   TRANSACTION_COORDINATOR_FENCED, and nothing is written: a zombie coordinator, paused while its
 *   successor finished the transaction, must not close the producer's next transaction with a late
 *   COMMIT or ABORT;
 * - the last stable offset (LSO) is min(first offset of the oldest open transaction, high
 *   watermark): read_committed readers stop there;
 * - each ABORT that closes a transaction adds an aborted transaction (producer id, first offset,
 *   marker offset), kept in memory for Fetch's aborted_transactions and in Kafka's `.txnindex`
 *   files (txn-index.ts).
 *
 * State per partition lives in memory and is rebuilt at start from the batch headers in the log,
 * beginning at the offset of the snapshot written at the last clean shutdown
 * (`<partition dir>/producer-state.json`, which also lists the open transactions), control batches
 * included, so acknowledged sequences and transaction state survive a restart or a kill -9.
 *
 * Duplicates: a batch is answered as a duplicate only when it repeats one of the last five batches
 * of the SAME producer id AND epoch with the same first and last sequence. Two producers are never
 * mistaken for each other here; that they never share an id is the allocator's job (below), and
 * InitProducerId always hands an idempotent producer a new id (handlers/init-producer-id.ts).
 *
 * Producer ids come in blocks of 1000 recorded in `<data dir>/producer-id-block` before any id of
 * the block is handed out: a crash may skip ids, never reuse one. When that file is missing or
 * unreadable, the broker loads every partition's producer state before the first id is handed out
 * and records a floor above the highest id found (broker.ts, ProducerIdAllocator.recover), so losing
 * that file (or the producer-state.json snapshots, which the log rebuilds) cannot recycle the id of
 * a producer whose batches are still in a log, and the scan happens once per lost file.
 *
 * Ids are JS numbers here, exact only below 2^53: batches with an id above MAX_PRODUCER_ID are
 * refused (no broker hands such ids out; they count up from 0), which also leaves the allocator
 * 2^52 ids of room above any id a log may hold.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '../protocol/error-codes.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { markerAt } from '../protocol/control-record.js';
import { KafkaError } from './errors.js';
import { sortedUnique, TxnIndex, type AbortedTxn } from './txn-index.js';
import { writeAtomic } from '../util/fs.js';

const RETAINED_BATCHES = 5;
const INT32_MAX = 2 ** 31 - 1;
const ID_BLOCK = 1000;
/** The highest producer id accepted on a batch (see the header comment). */
export const MAX_PRODUCER_ID = 2 ** 52 - 1;

/**
 * The sequence of a batch's last record: sequences wrap from 2^31-1 to 0 (Kafka's
 * DefaultRecordBatch.incrementSequence), so a batch may start near the top and end near 0.
 */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  return (baseSequence + lastOffsetDelta) % (INT32_MAX + 1);
}

export interface BatchIdentity {
  producerId: number;
  producerEpoch: number;
  /** -1 for the broker's own transactional batches (offset commits): no sequence to check or keep. */
  baseSequence: number;
  lastSequence: number;
  isTransactional: boolean;
}

export type { AbortedTxn } from './txn-index.js';

/** A transaction marker that was appended at `offset`. */
export interface TxnMarkerInfo {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  /** The epoch of the coordinator that wrote it (the marker's value); -1 when unknown. */
  coordinatorEpoch: number;
  /** The marker's offset. */
  offset: number;
}

interface AppendedBatch {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  lastOffset: number;
  logAppendTime: number;
}

interface ProducerEntry {
  epoch: number;
  batches: AppendedBatch[]; // newest last, at most RETAINED_BATCHES
  /**
   * The coordinator epoch of the producer's last marker here (Kafka's ProducerStateEntry
   * coordinatorEpoch), -1 before any; kept across producer epochs, as the coordinator is the
   * transactional id's, not the epoch's.
   */
  coordinatorEpoch: number;
}

/** Where a duplicate batch landed the first time. */
export interface DuplicateOf {
  baseOffset: number;
  logAppendTime: number;
}

/**
 * `<partition dir>/producer-state.json`. `transactions` (absent in snapshots written before
 * transactions) lists the open transactions as [producerId, firstOffset], oldest first. An entry's
 * `coordinatorEpoch` is absent in snapshots written before marker fencing: -1 then.
 */
interface Snapshot {
  offset: number;
  producers: [number, Omit<ProducerEntry, 'coordinatorEpoch'> & { coordinatorEpoch?: number }][];
  transactions?: [number, number][];
}

/** Sequence and transaction state of one partition. */
export class PartitionProducers {
  private readonly producers = new Map<number, ProducerEntry>();
  /**
   * Open transactions: producer id -> first offset (Kafka's currentTxnFirstOffset / ongoingTxns).
   * Insertion order is first-offset order, since transactions open at append time and appends move
   * forward; so the first entry is the oldest and the LSO costs O(1). openTxn() keeps that true.
   */
  private readonly openTxns = new Map<number, number>();
  /** The log start as last heard (load, pruneBelow): bounds the first unstable offset from below. */
  private logStartOffset = 0;
  /** The largest first offset ever opened: a transaction opening at or above it keeps openTxns sorted. */
  private highestOpened = -1;
  /** Aborted transactions, marker (lastOffset) order. */
  private aborted: AbortedTxn[] = [];
  /** The partition's `.txnindex` files; undefined for state kept in memory only (tests). */
  private readonly index: TxnIndex | undefined;
  /** An index append failed: the next snapshot rewrites the files from memory first. */
  private indexStale = false;

  constructor(dir?: string) {
    this.index = dir === undefined ? undefined : new TxnIndex(dir);
  }

  /**
   * Checks a batch before it is appended. Returns the original placement when the batch is a
   * retry of one already in the log; throws KafkaError when it must be refused.
   */
  check(b: BatchIdentity): DuplicateOf | undefined {
    if (b.producerId < 0) return undefined;
    if (b.producerId > MAX_PRODUCER_ID) {
      throw new KafkaError(ErrorCode.INVALID_RECORD, `producer id ${b.producerId} is above ${MAX_PRODUCER_ID}: no InitProducerId hands out such ids`);
    }
    const entry = this.producers.get(b.producerId);
    if (!entry) {
      if (b.baseSequence !== 0) {
        throw new KafkaError(ErrorCode.UNKNOWN_PRODUCER_ID, `producer ${b.producerId} is unknown on this partition and sent sequence ${b.baseSequence}, not 0`);
      }
      this.checkTxnState(b);
      return undefined;
    }
    if (b.producerEpoch < entry.epoch) {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, `producer ${b.producerId} epoch ${b.producerEpoch} is older than ${entry.epoch}`);
    }
    if (b.producerEpoch > entry.epoch) {
      if (b.baseSequence !== 0) {
        throw new KafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `producer ${b.producerId} new epoch ${b.producerEpoch} must start at sequence 0, not ${b.baseSequence}`);
      }
      this.checkTxnState(b);
      return undefined;
    }
    const dup = entry.batches.find((x) => x.firstSeq === b.baseSequence && x.lastSeq === b.lastSequence);
    if (dup) return { baseOffset: dup.baseOffset, logAppendTime: dup.logAppendTime };
    const last = entry.batches[entry.batches.length - 1];
    const expected = last ? (last.lastSeq === INT32_MAX ? 0 : last.lastSeq + 1) : 0;
    if (b.baseSequence !== expected) {
      throw new KafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `producer ${b.producerId} sent sequence ${b.baseSequence}, expected ${expected}`);
    }
    this.checkTxnState(b);
    return undefined;
  }

  /** Kafka's ProducerAppendInfo: after the epoch and sequence checks, a plain batch may not land inside the producer's open transaction. */
  private checkTxnState(b: BatchIdentity): void {
    if (!b.isTransactional && this.openTxns.has(b.producerId)) {
      throw new KafkaError(ErrorCode.INVALID_TXN_STATE, `producer ${b.producerId} has a transaction open on this partition (since offset ${this.openTxns.get(b.producerId)}) and sent a non-transactional batch`);
    }
  }

  /** The highest producer id with state on this partition, or -1 when none. */
  maxProducerId(): number {
    let max = -1;
    for (const id of this.producers.keys()) if (id > max) max = id;
    return max;
  }

  /**
   * Records a batch that was appended (after check() passed, or replayed from the log). A
   * transactional batch opens its producer's transaction at baseOffset unless one is open;
   * sequences run on across transactions. A batch without a sequence (the broker's transactional
   * offset commits) updates the epoch and the transaction only.
   */
  record(b: BatchIdentity, baseOffset: number, lastOffset: number, logAppendTime: number): void {
    if (b.producerId < 0) return;
    const entry = this.entryAt(b.producerId, b.producerEpoch);
    if (b.baseSequence >= 0) {
      entry.batches.push({ firstSeq: b.baseSequence, lastSeq: b.lastSequence, baseOffset, lastOffset, logAppendTime });
      if (entry.batches.length > RETAINED_BATCHES) entry.batches.shift();
    }
    if (b.isTransactional && !this.openTxns.has(b.producerId)) this.openTxn(b.producerId, baseOffset);
  }

  /**
   * Before a marker is written: INVALID_PRODUCER_EPOCH when its producer epoch is older than the
   * producer's here, else TRANSACTION_COORDINATOR_FENCED when its coordinator epoch is older than
   * that of the producer's last marker here (Kafka checks in that order).
   */
  checkMarker(producerId: number, producerEpoch: number, coordinatorEpoch: number): void {
    const entry = this.producers.get(producerId);
    if (!entry) return;
    if (producerEpoch < entry.epoch) {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, `transaction marker for producer ${producerId} has epoch ${producerEpoch}, older than ${entry.epoch} on this partition`);
    }
    if (coordinatorEpoch < entry.coordinatorEpoch) {
      throw new KafkaError(
        ErrorCode.TRANSACTION_COORDINATOR_FENCED,
        `transaction marker for producer ${producerId} comes from coordinator epoch ${coordinatorEpoch}, older than ${entry.coordinatorEpoch} of its last marker on this partition`,
      );
    }
  }

  /**
   * A marker was appended: closes the producer's open transaction (a marker with none open is
   * still valid and changes only the epoch) and raises the producer's epoch to the marker's, so
   * that after a coordinator fenced a timed-out producer (epoch + 1, written with the ABORT) the
   * old producer's next batch is INVALID_PRODUCER_EPOCH; and records the marker's coordinator epoch
   * for checkMarker. An ABORT closing a transaction returns the AbortedTxn, also appended to the
   * `.txnindex` of the marker's segment.
   *
   * The entry's lastStableOffset is Kafka's (ProducerStateManager.lastStableOffset(CompletedTxn)):
   * the first offset of the oldest other open transaction, else the marker's offset + 1; it does not
   * depend on the high watermark.
   */
  completeTxn(m: TxnMarkerInfo): AbortedTxn | undefined {
    const t = this.closeTxn(m);
    if (t && this.index) {
      try {
        this.index.append(t);
      } catch {
        // The marker is in the log and memory is right; the files are rewritten before the next
        // snapshot (and rebuilt from the log on load before that).
        this.indexStale = true;
      }
    }
    return t;
  }

  private closeTxn(m: TxnMarkerInfo): AbortedTxn | undefined {
    if (m.producerId < 0) return undefined;
    const entry = this.entryAt(m.producerId, m.producerEpoch);
    // The highest, which is the last marker's: the leader refuses a lower one (checkMarker). A log
    // replayed or replicated is taken as it is, as Kafka does, but never lowers the fence (nor does
    // a marker whose value could not be read, -1).
    entry.coordinatorEpoch = Math.max(entry.coordinatorEpoch, m.coordinatorEpoch);
    const firstOffset = this.openTxns.get(m.producerId);
    if (firstOffset === undefined) return undefined;
    this.openTxns.delete(m.producerId);
    if (m.commit) return undefined;
    const oldestOther = this.oldestOpenTxn();
    const t: AbortedTxn = { producerId: m.producerId, firstOffset, lastOffset: m.offset, lastStableOffset: oldestOther ?? m.offset + 1 };
    this.aborted.push(t);
    return t;
  }

  hasOpenTxn(producerId: number): boolean {
    return this.openTxns.has(producerId);
  }

  /**
   * The smallest first offset of the open transactions, never below the log start (Kafka's
   * maybeIncrementFirstUnstableOffset: DeleteRecords or retention may pass an open transaction's
   * first offset); undefined when none is open.
   */
  firstUnstableOffset(): number | undefined {
    const first = this.oldestOpenTxn();
    return first === undefined ? undefined : Math.max(first, this.logStartOffset);
  }

  private oldestOpenTxn(): number | undefined {
    for (const first of this.openTxns.values()) return first;
    return undefined;
  }

  /** min(first offset of the oldest open transaction, highWatermark): Kafka's UnifiedLog.lastStableOffset. */
  lastStableOffset(highWatermark: number): number {
    const first = this.firstUnstableOffset();
    return first === undefined ? highWatermark : Math.min(first, highWatermark);
  }

  /**
   * Fetch's aborted_transactions: Kafka's TransactionIndex.collectAbortedTxns rule (lastOffset >=
   * fetchOffset && firstOffset < upperBound), sorted by firstOffset (kafkajs reads only the head of
   * the list; ties stay in marker order).
   */
  abortedTransactions(fetchOffset: number, upperBound: number): { producerId: number; firstOffset: number }[] {
    const out: AbortedTxn[] = [];
    // Marker order is lastOffset order: skip the entries wholly before fetchOffset by bisection.
    let lo = 0;
    let hi = this.aborted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.aborted[mid]!.lastOffset < fetchOffset) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.aborted.length; i++) {
      const t = this.aborted[i]!;
      if (t.firstOffset < upperBound) out.push(t);
    }
    out.sort((a, b) => a.firstOffset - b.firstOffset);
    return out.map((t) => ({ producerId: t.producerId, firstOffset: t.firstOffset }));
  }

  /** Every aborted transaction still in the log, in marker order (the cleaner, the gateway). */
  abortedRanges(): readonly AbortedTxn[] {
    return this.aborted;
  }

  /** The open transactions, oldest first. */
  openTransactions(): { producerId: number; producerEpoch: number; firstOffset: number }[] {
    return [...this.openTxns].map(([producerId, firstOffset]) => ({ producerId, producerEpoch: this.producers.get(producerId)?.epoch ?? -1, firstOffset }));
  }

  /**
   * Retention or DeleteRecords moved the log start: aborted transactions whose marker went with it
   * are forgotten, their index files deleted, and the first unstable offset is at least the new start.
   */
  pruneBelow(logStartOffset: number): void {
    this.logStartOffset = Math.max(this.logStartOffset, logStartOffset);
    if (this.aborted.length > 0 && this.aborted[0]!.lastOffset < logStartOffset) this.aborted = this.aborted.filter((t) => t.lastOffset >= logStartOffset);
    this.index?.pruneBelow(logStartOffset);
  }

  /**
   * The producer's entry at `epoch`, created or moved to it: a newer epoch starts with no batches
   * (Kafka's maybeUpdateProducerEpoch) and keeps the coordinator epoch; an older one (replay of a
   * fenced producer) leaves it as is.
   */
  private entryAt(producerId: number, epoch: number): ProducerEntry {
    let entry = this.producers.get(producerId);
    if (!entry || epoch > entry.epoch) {
      entry = { epoch, batches: [], coordinatorEpoch: entry?.coordinatorEpoch ?? -1 };
      this.producers.set(producerId, entry);
    }
    return entry;
  }

  private openTxn(producerId: number, firstOffset: number): void {
    this.openTxns.set(producerId, firstOffset);
    if (firstOffset >= this.highestOpened) {
      this.highestOpened = firstOffset;
      return;
    }
    // Not reached by appends (offsets only grow); kept so that the O(1) LSO can never lie.
    const sorted = [...this.openTxns].sort((a, b) => a[1] - b[1]);
    this.openTxns.clear();
    for (const [pid, first] of sorted) this.openTxns.set(pid, first);
  }

  /**
   * Rebuilds the state of a partition: the snapshot (sequences and open transactions at its
   * offset), then every batch after it, data AND control: a marker closes its producer's
   * transaction and raises its epoch and coordinator epoch, an ABORT adds an aborted transaction. Aborted transactions
   * come from the `.txnindex` files plus those the scan finds (one per marker offset); entries at
   * or beyond the log end (a truncated log) or below the log start are dropped, and the files are
   * rewritten when they differ from what the log says.
   */
  static load(log: PartitionLog, dir: string): PartitionProducers {
    const state = new PartitionProducers(dir);
    const index = state.index!;
    const start = log.logStartOffset;
    state.logStartOffset = start;
    const end = log.logEndOffset;
    const fromFiles = index.readAll();
    let from = start;
    const snapshotPath = join(dir, 'producer-state.json');
    if (existsSync(snapshotPath)) {
      try {
        const snap = JSON.parse(readFileSync(snapshotPath, 'utf8')) as Snapshot;
        if (snap.offset <= end && snap.offset >= start) {
          for (const [pid, e] of snap.producers) state.producers.set(pid, { ...e, coordinatorEpoch: e.coordinatorEpoch ?? -1 });
          for (const [pid, first] of snap.transactions ?? []) state.openTxn(pid, first);
          from = snap.offset;
        }
      } catch {
        // A torn snapshot is ignored: the scan from the log start rebuilds everything.
      }
    }
    const scanFrom = from;
    state.aborted = fromFiles.filter((t) => t.lastOffset < scanFrom);
    /** Every ABORT marker the scan met: offset -> producer id, closing a transaction here or not. */
    const abortMarkers = new Map<number, number>();
    for (;;) {
      const headers = log.batchHeaders(from, 1000);
      if (headers.length === 0) break;
      for (const h of headers) {
        if (h.producerId < 0 || h.producerId > MAX_PRODUCER_ID) continue;
        if (h.isControl) {
          const marker = readMarker(log, h.baseOffset, h.sizeInBytes);
          if (!marker) continue;
          if (!marker.commit) abortMarkers.set(h.baseOffset, h.producerId);
          state.closeTxn({ producerId: h.producerId, producerEpoch: h.producerEpoch, commit: marker.commit, coordinatorEpoch: marker.coordinatorEpoch, offset: h.baseOffset });
        } else if (h.baseSequence >= 0 || h.isTransactional) {
          const sequenced = h.baseSequence >= 0;
          state.record(
            {
              producerId: h.producerId,
              producerEpoch: h.producerEpoch,
              baseSequence: sequenced ? h.baseSequence : -1,
              lastSequence: sequenced ? lastSequenceOf(h.baseSequence, h.lastOffset - h.baseOffset) : -1,
              isTransactional: h.isTransactional,
            },
            h.baseOffset,
            h.lastOffset,
            h.logAppendTime ? h.maxTimestamp : -1,
          );
        }
      }
      from = headers[headers.length - 1]!.lastOffset + 1;
    }
    // closeTxn pushed the aborts the scan completed onto state.aborted: they win over the files'
    // entries at the same offset (a log truncated and written again). A file entry at or above the
    // scan's start is kept only if the scan met its ABORT marker, for its producer: a marker whose
    // transaction began below the log start completes nothing in the scan, yet its entry is true.
    const confirmed = (t: AbortedTxn) => t.lastOffset < scanFrom || abortMarkers.get(t.lastOffset) === t.producerId;
    state.aborted = sortedUnique([...state.aborted, ...fromFiles.filter(confirmed)]).filter((t) => t.lastOffset >= start && t.lastOffset < end);
    const kept = new Set(state.aborted.map((t) => t.lastOffset));
    const filed = fromFiles.filter((t) => t.lastOffset >= start);
    if (filed.length !== kept.size || filed.some((t) => !kept.has(t.lastOffset))) {
      try {
        index.rewrite(state.aborted);
      } catch {
        state.indexStale = true;
      }
    }
    return state;
  }

  /**
   * The log was truncated to its current end (a follower matching its leader): the snapshot is
   * deleted when its offset lies beyond the end, and the `.txnindex` entries at or beyond the end
   * are removed. Call it before the state is loaded again: a snapshot or entry left there would
   * describe records the log no longer has, and might be trusted once the log grows past it again.
   */
  static truncated(log: PartitionLog, dir: string): void {
    const end = log.logEndOffset;
    const snapshotPath = join(dir, 'producer-state.json');
    try {
      const snap = JSON.parse(readFileSync(snapshotPath, 'utf8')) as Snapshot;
      if (!(snap.offset <= end)) rmSync(snapshotPath, { force: true });
    } catch {
      rmSync(snapshotPath, { force: true }); // missing (no-op) or torn
    }
    const index = new TxnIndex(dir);
    const entries = index.readAll();
    if (entries.some((t) => t.lastOffset >= end)) index.rewrite(entries.filter((t) => t.lastOffset < end));
  }

  /**
   * Writes the snapshot that lets the next start skip the scan (after the log is flushed). The
   * `.txnindex` files are made durable first (rewritten if an append had failed): the next load
   * trusts them below the snapshot offset. When that fails no snapshot is written, and the next
   * load rescans from the previous one.
   */
  saveSnapshot(log: PartitionLog, dir: string): void {
    if (this.index) {
      if (this.indexStale) this.index.rewrite(this.aborted);
      this.indexStale = false;
      this.index.sync();
    }
    const snap: Snapshot = { offset: log.logEndOffset, producers: [...this.producers], transactions: [...this.openTxns] };
    writeAtomic(join(dir, 'producer-state.json'), JSON.stringify(snap));
  }
}

/**
 * The marker of the control batch at `offset`: a control batch's header does not say COMMIT or
 * ABORT, its record's key does (int16 version, int16 type), and its value names the coordinator
 * epoch (int16 version, int32 coordinatorEpoch). Undefined for other control records.
 */
function readMarker(log: PartitionLog, offset: number, size: number): { commit: boolean; coordinatorEpoch: number } | undefined {
  const buf = log.readBuffer(offset, size);
  return markerAt(buf, 0, buf.length);
}

/** Hands out producer ids; see the header comment for the block scheme. */
export class ProducerIdAllocator {
  private next: number;
  private blockEnd: number;
  private readonly path: string;
  /** False when the block file was missing or unreadable: the ids in use must come from the logs. */
  readonly blockFileRead: boolean;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'producer-id-block');
    const recorded = existsSync(this.path) ? Number(readFileSync(this.path, 'utf8').trim()) : NaN;
    this.blockFileRead = Number.isSafeInteger(recorded) && recorded >= 0;
    this.next = this.blockFileRead ? recorded : 0;
    this.blockEnd = this.next;
  }

  /**
   * After a lost block file: every later id is greater than `maxIdInLogs` (the highest id the logs
   * hold, at most MAX_PRODUCER_ID, or -1), and that floor is recorded at once so the next start
   * reads it instead of scanning the logs again.
   */
  recover(maxIdInLogs: number): void {
    this.next = Math.max(this.next, maxIdInLogs + 1);
    this.blockEnd = this.next;
    writeAtomic(this.path, `${this.next}\n`);
  }

  allocate(): number {
    if (this.next >= this.blockEnd) {
      this.blockEnd = this.next + ID_BLOCK;
      writeAtomic(this.path, `${this.blockEnd}\n`);
    }
    return this.next++;
  }
}
