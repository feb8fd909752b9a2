/**
 * The aborted-transaction index of a partition in Kafka's `.txnindex` format (Kafka's
 * TransactionIndex / AbortedTxn), so that Kafka's tools read Brook's partition directories.
 *
 * One file per segment, `<20-digit segment base offset>.txnindex` beside `<base>.log`, holding the
 * aborted transactions whose ABORT marker lies in that segment, in marker order. A file exists only
 * once its segment has an abort (Kafka creates them lazily too). Entry layout, 34 bytes, big endian:
 *
 *   offset  size  field
 *        0     2  version           int16, always 0
 *        2     8  producerId        int64
 *       10     8  firstOffset       int64  the transaction's first data offset in this partition
 *       18     8  lastOffset        int64  the ABORT marker's offset
 *       26     8  lastStableOffset  int64  the LSO once this transaction completed (Kafka's
 *                                          ProducerStateManager.lastStableOffset(CompletedTxn): the
 *                                          first offset of the oldest other open transaction, else
 *                                          lastOffset + 1)
 *
 * Durability: appends are plain write(2) calls without fsync. The index is derived data: on load
 * PartitionProducers rebuilds every entry after its snapshot offset from the log's control batches,
 * and before a snapshot is written the index files are fsynced (sync()), so an entry below a durable
 * snapshot offset is durable too. A torn last entry (a crash inside a write) is ignored on read and
 * rewritten from the log.
 *
 * Segment of a marker: the largest `<base>.log` base <= the marker offset, found with readdirSync at
 * each append. Aborts are rare (one per aborted transaction and partition), so no cache of the
 * segment list is kept that rolls, retention and compaction would have to invalidate.
 */
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Kafka's AbortedTxn: lastOffset = the ABORT marker's offset; lastStableOffset = the LSO when it was written. */
export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
  lastStableOffset: number;
}

export const TXN_INDEX_ENTRY_BYTES = 34;
const TXN_INDEX_VERSION = 0;
const SUFFIX = '.txnindex';
const NAME = /^(\d{20})\.(log|txnindex)$/;

/** `<20-digit base>.txnindex`, Kafka's file name for the segment starting at `segmentBase`. */
export function txnIndexFileName(segmentBase: number): string {
  return `${String(segmentBase).padStart(20, '0')}${SUFFIX}`;
}

/** One entry in the layout above. */
export function encodeTxnIndexEntry(t: AbortedTxn): Buffer {
  const b = Buffer.alloc(TXN_INDEX_ENTRY_BYTES);
  b.writeInt16BE(TXN_INDEX_VERSION, 0);
  b.writeBigInt64BE(BigInt(t.producerId), 2);
  b.writeBigInt64BE(BigInt(t.firstOffset), 10);
  b.writeBigInt64BE(BigInt(t.lastOffset), 18);
  b.writeBigInt64BE(BigInt(t.lastStableOffset), 26);
  return b;
}

/**
 * The entries of one file. A partial entry at the end (torn write) is dropped; an entry of another
 * version ends the file (Kafka refuses such files; here the log rebuilds what follows).
 */
export function decodeTxnIndex(buf: Buffer): AbortedTxn[] {
  const out: AbortedTxn[] = [];
  for (let pos = 0; pos + TXN_INDEX_ENTRY_BYTES <= buf.length; pos += TXN_INDEX_ENTRY_BYTES) {
    if (buf.readInt16BE(pos) !== TXN_INDEX_VERSION) break;
    out.push({
      producerId: Number(buf.readBigInt64BE(pos + 2)),
      firstOffset: Number(buf.readBigInt64BE(pos + 10)),
      lastOffset: Number(buf.readBigInt64BE(pos + 18)),
      lastStableOffset: Number(buf.readBigInt64BE(pos + 26)),
    });
  }
  return out;
}

/** The `.txnindex` files of one partition directory. */
export class TxnIndex {
  constructor(readonly dir: string) {}

  /** Appends one aborted transaction to the file of its marker's segment (created if missing). */
  append(t: AbortedTxn): void {
    const fd = openSync(join(this.dir, txnIndexFileName(this.segmentOf(t.lastOffset, this.segmentBases()))), 'a');
    try {
      writeSync(fd, encodeTxnIndexEntry(t));
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Every entry of every file, in marker order (files by base, entries in file order; sorted by
   * lastOffset in case files of merged or renamed segments overlap), each marker offset once.
   * Files whose segment is gone are read too: their entries are still true of the log.
   */
  readAll(): AbortedTxn[] {
    const all: AbortedTxn[] = [];
    for (const base of this.fileBases()) {
      try {
        all.push(...decodeTxnIndex(readFileSync(join(this.dir, txnIndexFileName(base)))));
      } catch {
        // Unreadable: the log rebuilds what it held from the scan after the snapshot, or from the
        // start when the snapshot is missing (see PartitionProducers.load).
      }
    }
    return sortedUnique(all);
  }

  /**
   * Replaces the files with exactly `entries` (marker order), each under its marker's segment:
   * files that would be empty are deleted. Each file is written to `.tmp` and renamed, so a crash
   * leaves the old or the new contents of a file.
   */
  rewrite(entries: readonly AbortedTxn[]): void {
    const bases = this.segmentBases();
    const byFile = new Map<number, AbortedTxn[]>();
    for (const t of entries) {
      const base = this.segmentOf(t.lastOffset, bases);
      let list = byFile.get(base);
      if (!list) byFile.set(base, (list = []));
      list.push(t);
    }
    for (const base of this.fileBases()) if (!byFile.has(base)) unlinkSync(join(this.dir, txnIndexFileName(base)));
    for (const [base, list] of byFile) {
      const path = join(this.dir, txnIndexFileName(base));
      writeFileSync(`${path}.tmp`, Buffer.concat(list.map(encodeTxnIndexEntry)));
      renameSync(`${path}.tmp`, path);
    }
  }

  /** Deletes the files whose entries all have their marker below `logStartOffset` (their segments are gone). */
  pruneBelow(logStartOffset: number): void {
    for (const base of this.fileBases()) {
      const path = join(this.dir, txnIndexFileName(base));
      let entries: AbortedTxn[];
      try {
        entries = decodeTxnIndex(readFileSync(path));
      } catch {
        continue;
      }
      if (entries.every((t) => t.lastOffset < logStartOffset)) unlinkSync(path);
    }
  }

  /** fsyncs every file: called before a snapshot makes the entries below its offset count as written. */
  sync(): void {
    for (const base of this.fileBases()) {
      const fd = openSync(join(this.dir, txnIndexFileName(base)), 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }

  /** The largest segment base <= offset (0 when no segment starts at or below it). */
  private segmentOf(offset: number, bases: number[]): number {
    let found = 0;
    for (const b of bases) if (b <= offset && b > found) found = b;
    return found;
  }

  private segmentBases(): number[] {
    return this.namesOf('log');
  }

  private fileBases(): number[] {
    return this.namesOf('txnindex').sort((a, b) => a - b);
  }

  private namesOf(ext: 'log' | 'txnindex'): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: number[] = [];
    for (const n of names) {
      const m = NAME.exec(n);
      if (m && m[2] === ext) out.push(Number(m[1]));
    }
    return out;
  }
}

/** Sorted by marker offset, one entry per marker offset (the first seen wins). */
export function sortedUnique(entries: readonly AbortedTxn[]): AbortedTxn[] {
  const sorted = [...entries].sort((a, b) => a.lastOffset - b.lastOffset);
  return sorted.filter((t, i) => i === 0 || sorted[i - 1]!.lastOffset !== t.lastOffset);
}
