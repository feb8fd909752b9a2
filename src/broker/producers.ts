/**
 * Idempotent producers: producer id allocation (InitProducerId) and the per-partition sequence
 * check that makes a retried batch land once.
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
 * State per partition lives in memory and is rebuilt at start from the batch headers in the log,
 * beginning at the offset of the snapshot written at the last clean shutdown
 * (`<partition dir>/producer-state.json`), so acknowledged sequences survive a restart or a kill -9.
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
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '../protocol/error-codes.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { KafkaError } from './errors.js';
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
  baseSequence: number;
  lastSequence: number;
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
}

/** Where a duplicate batch landed the first time. */
export interface DuplicateOf {
  baseOffset: number;
  logAppendTime: number;
}

/** Sequence state of one partition. */
export class PartitionProducers {
  private readonly producers = new Map<number, ProducerEntry>();

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
      return undefined;
    }
    if (b.producerEpoch < entry.epoch) {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, `producer ${b.producerId} epoch ${b.producerEpoch} is older than ${entry.epoch}`);
    }
    if (b.producerEpoch > entry.epoch) {
      if (b.baseSequence !== 0) {
        throw new KafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `producer ${b.producerId} new epoch ${b.producerEpoch} must start at sequence 0, not ${b.baseSequence}`);
      }
      return undefined;
    }
    const dup = entry.batches.find((x) => x.firstSeq === b.baseSequence && x.lastSeq === b.lastSequence);
    if (dup) return { baseOffset: dup.baseOffset, logAppendTime: dup.logAppendTime };
    const last = entry.batches[entry.batches.length - 1];
    const expected = last ? (last.lastSeq === INT32_MAX ? 0 : last.lastSeq + 1) : 0;
    if (b.baseSequence !== expected) {
      throw new KafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `producer ${b.producerId} sent sequence ${b.baseSequence}, expected ${expected}`);
    }
    return undefined;
  }

  /** The highest producer id with state on this partition, or -1 when none. */
  maxProducerId(): number {
    let max = -1;
    for (const id of this.producers.keys()) if (id > max) max = id;
    return max;
  }

  /** Records a batch that was appended (after check() passed). */
  record(b: BatchIdentity, baseOffset: number, lastOffset: number, logAppendTime: number): void {
    if (b.producerId < 0) return;
    let entry = this.producers.get(b.producerId);
    if (!entry || b.producerEpoch > entry.epoch) {
      entry = { epoch: b.producerEpoch, batches: [] };
      this.producers.set(b.producerId, entry);
    }
    entry.batches.push({ firstSeq: b.baseSequence, lastSeq: b.lastSequence, baseOffset, lastOffset, logAppendTime });
    if (entry.batches.length > RETAINED_BATCHES) entry.batches.shift();
  }

  /** Rebuilds state from the log, starting after the snapshot. */
  static load(log: PartitionLog, dir: string): PartitionProducers {
    const state = new PartitionProducers();
    let from = log.logStartOffset;
    const snapshotPath = join(dir, 'producer-state.json');
    if (existsSync(snapshotPath)) {
      try {
        const snap = JSON.parse(readFileSync(snapshotPath, 'utf8')) as { offset: number; producers: [number, ProducerEntry][] };
        if (snap.offset <= log.logEndOffset && snap.offset >= log.logStartOffset) {
          for (const [pid, e] of snap.producers) state.producers.set(pid, e);
          from = snap.offset;
        }
      } catch {
        // A torn snapshot is ignored: the scan from the log start rebuilds everything.
      }
    }
    for (;;) {
      const headers = log.batchHeaders(from, 1000);
      if (headers.length === 0) break;
      for (const h of headers) {
        if (h.producerId >= 0 && h.producerId <= MAX_PRODUCER_ID && h.baseSequence >= 0) {
          const lastSeq = lastSequenceOf(h.baseSequence, h.lastOffset - h.baseOffset);
          state.record(
            { producerId: h.producerId, producerEpoch: h.producerEpoch, baseSequence: h.baseSequence, lastSequence: lastSeq },
            h.baseOffset,
            h.lastOffset,
            h.logAppendTime ? h.maxTimestamp : -1,
          );
        }
      }
      from = headers[headers.length - 1].lastOffset + 1;
    }
    return state;
  }

  /** Writes the snapshot that lets the next start skip the scan (after the log is flushed). */
  saveSnapshot(log: PartitionLog, dir: string): void {
    writeAtomic(join(dir, 'producer-state.json'), JSON.stringify({ offset: log.logEndOffset, producers: [...this.producers] }));
  }
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
