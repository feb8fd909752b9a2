/**
 * The whole native module (build/Release/brook_native.node) as TypeScript sees it: one interface,
 * matching the exports of native/src/napi/*_wrap.cc and native/src/addon.cc. addon() returns it and
 * every facade (crc32c.ts, codec.ts, records.ts, storage/partition-log.ts) calls through it, so a
 * renamed or re-typed export fails the type check in one place instead of at a cast.
 *
 * These are the raw calls: the facades validate arguments (C++ trusts them) and give the results
 * their public shapes. Numbers stand for int64 offsets and timestamps (exact to 2^53, see
 * partition-log.ts); Infinity crosses as "never".
 */
import type { FileHandle } from '../protocol/request-sink.js';

/**
 * The log config as the native Log reads it (ConfigFrom in log_wrap.cc): LogConfig of
 * storage/partition-log.ts without flushMs, a timer in the facade. Typed loosely here so that this
 * file needs nothing from storage/ (which imports it).
 */
export type NativeLogConfig = Readonly<Record<string, number | string>>;

export interface BatchHeader {
  baseOffset: number;
  lastOffset: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
  baseTimestamp: number;
  maxTimestamp: number;
  leaderEpoch: number;
  attributes: number;
  isTransactional: boolean;
  isControl: boolean;
  /** Timestamp type bit: maxTimestamp is the broker's append time. */
  logAppendTime: boolean;
  sizeInBytes: number;
}

export interface LogStats {
  logStartOffset: number;
  logEndOffset: number;
  recoveryPoint: number;
  size: number;
  segmentCount: number;
  unflushedMessages: number;
  pendingDeletes: number;
  /** Compaction checkpoint: records below it were cleaned by a pass. */
  cleanOffset: number;
}

/** The cleaner's view of a log, from memory (native/src/storage/cleaner.h names the sections). */
export interface CleanableInfo {
  firstDirty: number;
  firstUncleanable: number;
  cleanBytes: number;
  dirtyBytes: number;
  dirtyRatio: number;
  /** A retained tombstone's delete horizon has passed. */
  tombstonesDue: boolean;
  /** A cleanable dirty segment began longer ago than max.compaction.lag.ms (KIP-354). */
  compactionOverdue: boolean;
  /** Compacted, and the dirty ratio reached min.cleanable.dirty.ratio, tombstones are due, or compaction is overdue. */
  eligible: boolean;
}

/** What one compaction pass did. */
export interface CompactionResult {
  /**
   * Why no pass ran: the policy lacks compact, nothing is dirty, the ratio is below
   * min.cleanable.dirty.ratio, or 'discarded': the log was truncated, closed or deleted under the
   * pass and nothing was swapped in. Undefined when the pass ran.
   */
  skipped?: 'not-compacted' | 'nothing-to-clean' | 'below-ratio' | 'busy' | 'discarded';
  dirtyRatio: number;
  cleanBytes: number;
  dirtyBytes: number;
  /** Checkpoint before and after the pass. */
  firstDirty: number;
  cleanedUpTo: number;
  segmentsMapped: number;
  mapKeys: number;
  mapMemory: number;
  /** Bytes of the segments read and filtered (clean + mapped dirty). */
  bytesRead: number;
  /** Bytes of the segments replaced or removed, and of their replacements. */
  bytesBefore: number;
  bytesAfter: number;
  recordsRead: number;
  recordsDropped: number;
  tombstonesDropped: number;
  /** Of recordsDropped: records of aborted transactions. */
  abortedRecordsDropped: number;
  batchesRebuilt: number;
  batchesDropped: number;
  emptyBatchesKept: number;
  segmentsRewritten: number;
  segmentsRemoved: number;
  durationMs: number;
}

/** An instance of the native Log class (native/src/napi/log_wrap.cc LogWrap). */
export interface NativeLog {
  /**
   * Returns flushDue; writes [base, last, appendTime, logAppendTime] into the constructor's results
   * array. `internal`: the broker's own batches (control batches, producer id without sequence).
   */
  append(buf: Uint8Array, leaderEpoch: number, now: number, internal: boolean): boolean;
  /** Appends a leader's batches unchanged (offsets and epochs kept); results and return as append's. */
  appendAsFollower(buf: Uint8Array, now: number): boolean;
  /** `ranges` holds [fd, position, length] per slice; `files[i]` owns slice i's file. */
  read(offset: number, maxBytes: number, upTo: number): { ranges: Float64Array; files: FileHandle[] };
  readBuffer(offset: number, maxBytes: number, upTo: number): Buffer;
  offsetForTimestamp(ts: number): [number, number] | null;
  maxTimestamp(): [number, number] | null;
  batchHeaders(from: number, max: number): BatchHeader[];
  flush(): Promise<void>;
  truncateTo(offset: number, now: number): void;
  deleteRecordsBefore(offset: number, now: number): void;
  applyRetention(now: number, upperBound: number): number;
  updateConfig(config: NativeLogConfig): void;
  /** `aborted` holds [producerId, firstOffset, lastOffset] per aborted transaction. */
  compact(now: number, upTo: number, force: boolean, mapBytes: number, crashAt: number, aborted: Float64Array): Promise<CompactionResult>;
  cancelCompaction(): void;
  cleanable(now: number, upTo: number): CleanableInfo;
  stats(): LogStats;
  logEndOffset(): number;
  logStartOffset(): number;
  close(): void;
  delete(): void;
}

/** The flat arrays decodeBatches fills (field orders: native/src/napi/codec_wrap.cc). */
export interface NativeDecoded {
  batches: Float64Array;
  records: Float64Array;
  headers: Float64Array;
  buffers: Buffer[];
  bytesRead: number;
}

/** A slice's file for sendfile/preadWrite/readSlice: the handle read() gave it (never a bare descriptor number). */
export type NativeSliceFile = FileHandle;

export interface NativeAddon {
  // errors.cc
  setErrorClass(ctor: new (message: string, code: string) => Error): void;
  // crc_wrap.cc
  crc32c(buf: Uint8Array, initial?: number): number;
  crc32cPortable(buf: Uint8Array, initial?: number): number;
  crc32cImplementation(): string;
  crc32cImplementations(): string[];
  crc32cBench(buf: Uint8Array, iterations: number, implementation: string): number;
  // codec_wrap.cc; level undefined = the codec's default
  compress(codec: number, buf: Uint8Array, level: number | undefined, raw: boolean): Buffer;
  decompress(codec: number, buf: Uint8Array, maxSize: number): Buffer;
  compressAsync(codec: number, buf: Uint8Array, level: number | undefined, raw: boolean): Promise<Buffer>;
  decompressAsync(codec: number, buf: Uint8Array, maxSize: number): Promise<Buffer>;
  decodeBatches(buf: Uint8Array, maxSize: number, verifyCrc: boolean, allowTruncated: boolean): NativeDecoded;
  buildBatch(data: Uint8Array, lengths: Int32Array, timestamps: Float64Array, params: Float64Array): Buffer;
  recompressBatch(batch: Uint8Array, codec: number, level: number | undefined, raw: boolean, maxSize: number): Buffer;
  recompressBatchAsync(batch: Uint8Array, codec: number, level: number | undefined, raw: boolean, maxSize: number): Promise<Buffer>;
  readonly defaultMaxDecompressedSize: number;
  // log_wrap.cc
  Log: new (dir: string, config: NativeLogConfig, now: number, results: Float64Array) => NativeLog;
  sendfile(socketFd: number, file: NativeSliceFile, position: number, length: number, timeoutMs: number): Promise<number>;
  preadWrite(socketFd: number, file: NativeSliceFile, position: number, length: number, timeoutMs: number): Promise<number>;
  readSlice(file: NativeSliceFile, position: number, length: number): Buffer;
  shutdownSocket(socketFd: number): void;
  benchPlainWrite(path: string, buf: Uint8Array, count: number): number;
}
