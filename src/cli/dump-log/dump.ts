/**
 * The dumps themselves, file by file, in the text shape of Kafka's DumpLogSegments
 * (kafka-dump-log.sh) or as one JSON document per file. Each function returns what it found; the
 * command decides the exit code. Findings about the data (a bad CRC, an index entry that does not
 * match the log) are output, not failures, as in Kafka; a file that cannot be read to its end is a
 * failure.
 */
import { resolve } from 'node:path';
import { codecName } from '../../native/codec.js';
import { decodeBatches } from '../../native/records.js';
import type { Codec } from '../../protocol/record-batch.js';
import {
  baseOffsetFromName,
  type BatchInfo,
  incrementSequence,
  readOffsetIndex,
  readTimeIndex,
  scanBatches,
  SegmentFile,
  type OffsetIndexEntry,
} from './segment.js';

export interface DumpOptions {
  json: boolean;
  printDataLog: boolean;
  deepIteration: boolean;
  skipRecordMetadata: boolean;
  verifyIndexOnly: boolean;
  indexSanityCheck: boolean;
  /** Read at most this many bytes of each .log (whole batches only). */
  maxBytes: number | undefined;
}

/** Where lines go: stdout for the dump, stderr for Kafka's end-of-run reports. */
export interface Sink {
  out(line: string): void;
  /** Part of a line: a JSON document written piece by piece (a whole segment may not fit one string). */
  write(text: string): void;
  err(line: string): void;
}

export interface FileResult {
  /** The file could not be dumped to its end (one line already on stderr says why). */
  failed: boolean;
  /** Index entries that disagree with the log (reported in any mode; exit 1 under --verify-index-only). */
  mismatches: number;
}

/** Kafka's ControlRecordType ids and names. */
const CONTROL_TYPES: Record<number, string> = {
  0: 'ABORT',
  1: 'COMMIT',
  2: 'LEADER_CHANGE',
  3: 'SNAPSHOT_HEADER',
  4: 'SNAPSHOT_FOOTER',
  5: 'KRAFT_VERSION',
  6: 'KRAFT_VOTERS',
};

function compressName(codec: number): string {
  try {
    return codecName(codec as Codec);
  } catch {
    return `unknown(${codec})`;
  }
}

/** Kafka prints java.util.OptionalLong. */
function optionalLong(v: number | null): string {
  return v === null ? 'OptionalLong.empty' : `OptionalLong[${v}]`;
}

function batchLine(b: BatchInfo): string {
  return (
    `baseOffset: ${b.baseOffset} lastOffset: ${b.lastOffset} count: ${b.count} baseSequence: ${b.baseSequence} ` +
    `lastSequence: ${b.lastSequence} producerId: ${b.producerId} producerEpoch: ${b.producerEpoch} ` +
    `partitionLeaderEpoch: ${b.partitionLeaderEpoch} isTransactional: ${b.isTransactional} isControl: ${b.isControl} ` +
    `deleteHorizonMs: ${optionalLong(b.deleteHorizonMs)} position: ${b.position} ${b.timestampType}: ${b.maxTimestamp} ` +
    `size: ${b.size} magic: ${b.magic} compresscodec: ${compressName(b.codec)} crc: ${b.crc} isvalid: ${b.crcValid}`
  );
}

function batchJson(b: BatchInfo): Record<string, unknown> {
  return {
    baseOffset: b.baseOffset,
    lastOffset: b.lastOffset,
    count: b.count,
    baseSequence: b.baseSequence,
    lastSequence: b.lastSequence,
    producerId: b.producerId,
    producerEpoch: b.producerEpoch,
    partitionLeaderEpoch: b.partitionLeaderEpoch,
    isTransactional: b.isTransactional,
    isControl: b.isControl,
    deleteHorizonMs: b.deleteHorizonMs,
    position: b.position,
    timestampType: b.timestampType,
    baseTimestamp: b.baseTimestamp,
    maxTimestamp: b.maxTimestamp,
    size: b.size,
    magic: b.magic,
    compressCodec: compressName(b.codec),
    crc: b.crc,
    crcValid: b.crcValid,
  };
}

/**
 * A control record's key is int16 version, int16 type; the value of an ABORT or COMMIT marker is
 * int16 version, int32 coordinatorEpoch (Kafka's ControlRecordType and EndTransactionMarker).
 */
function controlRecord(key: Buffer | null, value: Buffer | null): { type: string; typeId: number; coordinatorEpoch?: number } {
  const typeId = key && key.length >= 4 ? key.readInt16BE(2) : -1;
  const type = CONTROL_TYPES[typeId] ?? 'UNKNOWN';
  if ((typeId === 0 || typeId === 1) && value && value.length >= 6) return { type, typeId, coordinatorEpoch: value.readInt32BE(2) };
  return { type, typeId };
}

/** Dumps a `.log`: one line per batch, and with deep iteration one `|` line per record. */
export function dumpLog(path: string, opts: DumpOptions, sink: Sink): FileResult {
  const file = new SegmentFile(path);
  try {
    const nameOffset = baseOffsetFromName(path);
    const end = opts.maxBytes === undefined ? file.size : Math.min(file.size, opts.maxBytes);
    const deep = opts.deepIteration || opts.printDataLog;
    let batches = 0;
    const nonConsecutive: [number, number][] = [];
    let lastOffset = -1;
    let first: number | undefined;
    const onBatch = (buf: Buffer, b: BatchInfo, json: Record<string, unknown> | undefined): void => {
      first ??= b.baseOffset;
      if (!json) sink.out(batchLine(b));
      if (!deep) return;
      const records: Record<string, unknown>[] = [];
      let decoded;
      try {
        // The CRC was checked above and is reported, not enforced: a batch with a bad CRC is still
        // shown record by record where its bytes allow, as Kafka's tool does.
        decoded = decodeBatches(buf, { verifyCrc: false }).batches[0]!.records;
      } catch (e) {
        const why = `cannot decode the records of the batch at position ${b.position}: ${(e as Error).message}`;
        if (json) json.recordsError = why;
        else sink.out(`| ${why}`);
        // The batch header still says which offsets it held: no false gap after it.
        lastOffset = b.lastOffset;
        return;
      }
      for (const r of decoded) {
        if (lastOffset !== -1 && r.offset !== lastOffset + 1) nonConsecutive.push([lastOffset, r.offset]);
        lastOffset = r.offset;
        const sequence = b.baseSequence < 0 ? -1 : incrementSequence(b.baseSequence, r.offset - b.baseOffset);
        const keySize = r.key === null ? -1 : r.key.length;
        const valueSize = r.value === null ? -1 : r.value.length;
        const control = b.isControl ? controlRecord(r.key, r.value) : undefined;
        const showData = opts.printDataLog && !b.isControl;
        if (json) {
          const rec: Record<string, unknown> = {
            offset: r.offset,
            timestamp: r.timestamp,
            keySize,
            valueSize,
            sequence,
            headerKeys: r.headers.map((h) => h.key),
          };
          if (control) rec.control = control;
          if (showData) {
            rec.key = r.key === null ? null : r.key.toString('utf8');
            rec.payload = r.value === null ? null : r.value.toString('utf8');
          }
          records.push(rec);
          continue;
        }
        // Kafka's spacing, exactly: "| offset: ..." then " key: k" and " payload: v"; with
        // --skip-record-metadata the key takes the "| " (and a record without key starts " payload").
        let line = '';
        let prefix = '| ';
        if (!opts.skipRecordMetadata) {
          line += `${prefix}offset: ${r.offset} ${b.timestampType}: ${r.timestamp} keySize: ${keySize} valueSize: ${valueSize}`;
          line += ` sequence: ${sequence} headerKeys: [${r.headers.map((h) => h.key).join(',')}]`;
          if (control) {
            line +=
              control.coordinatorEpoch !== undefined
                ? ` endTxnMarker: ${control.type} coordinatorEpoch: ${control.coordinatorEpoch}`
                : ` controlType: ${control.type}(${control.typeId})`;
          }
          prefix = ' ';
        }
        if (showData) {
          if (r.key !== null) line += `${prefix}key: ${r.key.toString('utf8')}`;
          if (r.value !== null) line += ` payload: ${r.value.toString('utf8')}`;
        }
        sink.out(line);
      }
      if (json) json.records = records;
    };
    // JSON goes out batch by batch, inside one document per file: {"file", "type", "size",
    // "batches": [...], then the totals}, so memory stays one batch whatever the segment's size.
    if (opts.json) sink.write(`{"file":${JSON.stringify(path)},"type":"log","size":${file.size},"batches":[`);
    else sink.out(`Log starting offset: ${nameOffset ?? 0}`);
    const scan = scanBatches(
      file,
      (buf, b) => {
        const json = opts.json ? batchJson(b) : undefined;
        onBatch(buf, b, json);
        if (json) sink.write(`${batches++ ? ',' : ''}${JSON.stringify(json)}`);
      },
      0,
      end,
    );
    // A limit that cut the file leaves a partial batch behind it on purpose: not worth a report.
    const trailing = end < file.size && !scan.corrupt ? 0 : scan.trailingBytes;
    const name = path.split('/').pop()!;
    if (opts.json) {
      const totals: Record<string, unknown> = { logStartOffset: nameOffset ?? first ?? 0, validBytes: scan.validBytes, trailingBytes: trailing };
      if (scan.corrupt) totals.corrupt = scan.corrupt;
      if (deep) totals.nonConsecutiveOffsets = nonConsecutive;
      sink.out(`],${JSON.stringify(totals).slice(1)}`);
    } else {
      if (trailing > 0) sink.out(`Found ${trailing} invalid bytes at the end of ${name}`);
      if (nonConsecutive.length > 0) {
        sink.err(`Non-consecutive offsets in ${resolve(path)}`);
        for (const [a, b] of nonConsecutive) sink.err(`  ${a} is followed by ${b}`);
      }
    }
    if (scan.corrupt) {
      sink.err(`brook dump-log: ${path}: corrupt data at position ${scan.corrupt.position} (${scan.corrupt.reason}); the ${trailing} bytes from there were not dumped`);
      return { failed: true, mismatches: 0 };
    }
    return { failed: false, mismatches: 0 };
  } finally {
    file.close();
  }
}

/** The `.log` beside an index file: same directory, same stem. */
function logOf(indexPath: string): string {
  return indexPath.replace(/\.(index|timeindex)$/, '.log');
}

/**
 * The base offset of an index: from its name, or (a copy renamed by hand) the first batch of its
 * log. Undefined when neither tells.
 */
function indexBaseOffset(path: string): number | undefined {
  const fromName = baseOffsetFromName(path);
  if (fromName !== undefined) return fromName;
  const log = openLog(logOf(path));
  if (!log) return undefined;
  let first: number | undefined;
  try {
    scanBatches(log, (_buf, b) => ((first = b.baseOffset), false));
  } finally {
    log.close();
  }
  return first;
}

function openLog(path: string): SegmentFile | undefined {
  try {
    return new SegmentFile(path);
  } catch {
    return undefined;
  }
}

/** The batch whose header starts exactly at `position`, if a whole batch is there. */
function batchAt(log: SegmentFile, position: number): BatchInfo | undefined {
  let found: BatchInfo | undefined;
  if (position < 0 || position >= log.size) return undefined;
  scanBatches(log, (_buf, b) => ((found = b), false), position);
  return found;
}

/**
 * Dumps and checks a `.index`: each entry must point at the start of a batch whose last offset is
 * the entry's offset (Kafka's DumpLogSegments.dumpIndex). Mismatches go to stderr at the end as
 * `Mismatches in :<path>` / `  Index offset: X, log offset: Y` (Y = -1: no whole batch starts at that
 * position).
 */
export function dumpIndex(path: string, opts: DumpOptions, sink: Sink): FileResult {
  const base = indexBaseOffset(path);
  if (base === undefined) throw new Error(`cannot tell the base offset of ${path}: its name is not a base offset and ${logOf(path)} has no batch`);
  // The index before the log: a running broker writes an entry only after its batch, so every
  // entry read here points inside the log size taken just after.
  const idx = readOffsetIndex(path, base);
  const log = openLog(logOf(path));
  try {
    if (opts.indexSanityCheck) return sanity(path, sink, opts, offsetIndexSanity(idx.entries, idx.partialBytes, base, log?.size));
    if (idx.entries.length === 0) {
      if (opts.json) sink.out(JSON.stringify({ file: path, type: 'index', baseOffset: base, entries: [], mismatches: [] }));
      else sink.out(`${path} is empty.`);
      return { failed: false, mismatches: 0 };
    }
    if (!log) throw new Error(`cannot verify ${path}: ${logOf(path)} cannot be opened`);
    const mismatches: { indexOffset: number; logOffset: number }[] = [];
    for (const e of idx.entries) {
      const b = batchAt(log, e.position);
      const logOffset = b ? b.lastOffset : -1;
      if (logOffset !== e.offset) mismatches.push({ indexOffset: e.offset, logOffset });
      if (!opts.verifyIndexOnly && !opts.json) sink.out(`offset: ${e.offset} position: ${e.position}`);
    }
    if (opts.json) {
      const doc: Record<string, unknown> = { file: path, type: 'index', baseOffset: base };
      if (!opts.verifyIndexOnly) doc.entries = idx.entries;
      doc.mismatches = mismatches;
      if (idx.zeroEntries) doc.zeroEntries = idx.zeroEntries;
      if (idx.partialBytes) doc.partialBytes = idx.partialBytes;
      sink.out(JSON.stringify(doc));
    } else if (mismatches.length > 0) {
      sink.err(`Mismatches in :${resolve(path)}`);
      for (const m of mismatches) sink.err(`  Index offset: ${m.indexOffset}, log offset: ${m.logOffset}`);
    }
    return { failed: false, mismatches: mismatches.length };
  } finally {
    log?.close();
  }
}

/** Greatest entry with offset <= target, or position 0 (Kafka's OffsetIndex.lookup). */
function lookup(entries: OffsetIndexEntry[], target: number): number {
  let lo = 0;
  let hi = entries.length - 1;
  let pos = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.offset <= target) {
      pos = entries[mid]!.position;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return pos;
}

/**
 * Dumps and checks a `.timeindex` (Kafka's DumpLogSegments.dumpTimeIndex): each entry's offset must
 * be the last offset of a batch, the largest record timestamp of that batch must be the entry's
 * timestamp, and timestamps must grow. Reports on stderr at the end, in Kafka's words.
 */
export function dumpTimeIndex(path: string, opts: DumpOptions, sink: Sink): FileResult {
  const base = indexBaseOffset(path);
  if (base === undefined) throw new Error(`cannot tell the base offset of ${path}: its name is not a base offset and ${logOf(path)} has no batch`);
  // Both indexes before the log, as in dumpIndex.
  const tidx = readTimeIndex(path, base);
  if (opts.indexSanityCheck) return sanity(path, sink, opts, timeIndexSanity(tidx.entries, tidx.partialBytes, base));
  let offsetEntries: OffsetIndexEntry[] = [];
  try {
    offsetEntries = readOffsetIndex(path.replace(/\.timeindex$/, '.index'), base).entries;
  } catch {
    // No .index: every lookup starts at position 0, which is only slower.
  }
  const log = openLog(logOf(path));
  try {
    if (tidx.entries.length > 0 && !log) throw new Error(`cannot verify ${path}: ${logOf(path)} cannot be opened`);
    const timestampMismatches: { indexTimestamp: number; logTimestamp: number }[] = [];
    const outOfOrder: { indexTimestamp: number; previousTimestamp: number }[] = [];
    const notFound: { indexOffset: number; logOffset: number }[] = [];
    let prev = -1; // Kafka's RecordBatch.NO_TIMESTAMP
    for (const e of tidx.entries) {
      // The batch's bytes are a view valid only in the callback: its records are read there.
      let batch: { lastOffset: number; maxTimestamp: number } | undefined;
      scanBatches(log!, (buf, b) => {
        if (b.lastOffset < e.offset) return true;
        batch = { lastOffset: b.lastOffset, maxTimestamp: b.lastOffset === e.offset ? maxRecordTimestamp(buf, b) : -1 };
        return false;
      }, lookup(offsetEntries, e.offset));
      if (!batch) notFound.push({ indexOffset: e.offset, logOffset: -1 });
      else if (batch.lastOffset !== e.offset) notFound.push({ indexOffset: e.offset, logOffset: batch.lastOffset });
      else {
        const max = batch.maxTimestamp;
        if (max !== e.timestamp) timestampMismatches.push({ indexTimestamp: e.timestamp, logTimestamp: max });
        if (prev >= e.timestamp) outOfOrder.push({ indexTimestamp: e.timestamp, previousTimestamp: prev });
      }
      if (!opts.verifyIndexOnly && !opts.json) sink.out(`timestamp: ${e.timestamp} offset: ${e.offset}`);
      prev = e.timestamp;
    }
    if (opts.json) {
      const doc: Record<string, unknown> = { file: path, type: 'timeindex', baseOffset: base };
      if (!opts.verifyIndexOnly) doc.entries = tidx.entries;
      Object.assign(doc, { timestampMismatches, outOfOrderTimestamps: outOfOrder, offsetsNotFound: notFound });
      if (tidx.zeroEntries) doc.zeroEntries = tidx.zeroEntries;
      if (tidx.partialBytes) doc.partialBytes = tidx.partialBytes;
      sink.out(JSON.stringify(doc));
    } else {
      const abs = resolve(path);
      if (timestampMismatches.length > 0) {
        sink.err(`Found timestamp mismatch in :${abs}`);
        for (const m of timestampMismatches) sink.err(`  Index timestamp: ${m.indexTimestamp}, log timestamp: ${m.logTimestamp}`);
      }
      if (outOfOrder.length > 0) {
        sink.err(`Found out of order timestamp in :${abs}`);
        for (const m of outOfOrder) sink.err(`  Index timestamp: ${m.indexTimestamp}, Previously indexed timestamp: ${m.previousTimestamp}`);
      }
      if (notFound.length > 0) {
        sink.err('The following indexed offsets are not found in the log.');
        for (const m of notFound) sink.err(`Indexed offset: ${m.indexOffset}, found log offset: ${m.logOffset}`);
      }
    }
    return { failed: false, mismatches: timestampMismatches.length + outOfOrder.length + notFound.length };
  } finally {
    log?.close();
  }
}

/** The largest record timestamp of a batch (what Kafka compares); the header's when records do not decode. */
function maxRecordTimestamp(buf: Buffer, info: BatchInfo): number {
  try {
    let max = -1;
    for (const r of decodeBatches(buf, { verifyCrc: false }).batches[0]!.records) max = Math.max(max, r.timestamp);
    return max;
  } catch {
    return info.maxTimestamp;
  }
}

/**
 * Kafka's OffsetIndex.sanityCheck (whole entries, last offset not below the base) plus the checks
 * Brook's broker runs when it loads an index (native/src/storage/offset_index.cc): offsets and
 * positions strictly increasing, positions inside the log. A failure means the broker rebuilds it.
 */
function offsetIndexSanity(entries: OffsetIndexEntry[], partial: number, base: number, logSize: number | undefined): string | undefined {
  if (partial) return `found ${partial} bytes after the last whole 8-byte entry`;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.offset < base) return `entry ${i} has offset ${e.offset}, below the base offset ${base}`;
    if (logSize !== undefined && e.position >= logSize) return `entry ${i} has position ${e.position}, past the end of the log (${logSize} bytes)`;
    const p = entries[i - 1];
    if (p && (e.offset <= p.offset || e.position <= p.position)) return `entry ${i} (offset ${e.offset} position ${e.position}) does not follow entry ${i - 1} (offset ${p.offset} position ${p.position})`;
  }
  return undefined;
}

/** Kafka's TimeIndex.sanityCheck plus Brook's load checks (timestamps strictly, offsets weakly increasing). */
function timeIndexSanity(entries: { timestamp: number; offset: number }[], partial: number, base: number): string | undefined {
  if (partial) return `found ${partial} bytes after the last whole 12-byte entry`;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.offset < base) return `entry ${i} has offset ${e.offset}, below the base offset ${base}`;
    const p = entries[i - 1];
    if (p && (e.timestamp <= p.timestamp || e.offset < p.offset)) return `entry ${i} (timestamp ${e.timestamp} offset ${e.offset}) does not follow entry ${i - 1} (timestamp ${p.timestamp} offset ${p.offset})`;
  }
  return undefined;
}

function sanity(path: string, sink: Sink, opts: DumpOptions, problem: string | undefined): FileResult {
  if (opts.json) sink.out(JSON.stringify({ file: path, type: path.endsWith('.timeindex') ? 'timeindex' : 'index', sane: problem === undefined, ...(problem ? { problem } : {}) }));
  else if (!problem) sink.out(`${path} passed sanity check.`);
  if (problem) sink.err(`brook dump-log: ${path}: failed the sanity check: ${problem}`);
  return { failed: problem !== undefined, mismatches: 0 };
}
