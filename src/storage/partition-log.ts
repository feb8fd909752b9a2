/**
 * PartitionLog: the typed facade over the native partition log (native/src/storage/log.h, exposed
 * by native/src/napi/log_wrap.cc). One instance owns one directory `<dataDir>/<topic>-<partition>/`
 * in Kafka's layout: `<20-digit base offset>.log|.index|.timeindex` segments that Kafka's own tools
 * can read, plus two small checkpoint files and a clean-shutdown marker (see log.h).
 *
 * Split of duties (better-sqlite3 style): this file validates every argument and turns "now"
 * defaults and Infinity conventions into plain numbers; C++ trusts what it is given. Failures are
 * BrookNativeError with a stable `code` (CORRUPT_MESSAGE, INVALID_RECORD, MESSAGE_TOO_LARGE,
 * OFFSET_OUT_OF_RANGE, NO_SPACE, IO, CLOSED, INVALID_ARGUMENT); storage never knows Kafka error numbers.
 *
 * Offsets and timestamps are JS numbers, exact to 2^53: a partition would need 2^53 records
 * (28 years at 10 million records/s) to pass that, and a double crosses N-API several times faster
 * than a BigInt. The wire layer converts to/from the protocol's int64 bigint at the edge.
 *
 * Terms: "written" = in the page cache (survives a process crash); "visible" = returned by read()
 * up to logEndOffset (pass the high watermark as `upTo` to hide unreplicated data); "durable" =
 * fsynced and below the persisted recovery point (survives power loss).
 *
 * Every method runs on the calling (JS) thread and has finished its work when it returns, except
 * flush() (fsync on a libuv worker), compact() (reads and writes segments on a libuv worker),
 * close() (awaits a flush), and sendfile()/preadWrite() (libuv worker).
 */
import { addon } from '../native/addon.js';
import { BrookNativeError } from '../native/errors.js';
import { SerialQueue } from '../util/serial.js';
import type { BatchHeader, CleanableInfo, CompactionResult, LogStats, NativeLog, NativeLogConfig as NativeConfig } from '../native/types.js';
import type { FileHandle, FileSlice } from '../protocol/request-sink.js';
import { join } from 'node:path';

/**
 * A slice from read() owns its segment file through `file` (native FileRef): the descriptor stays
 * open, and its number cannot be reused for another file, until release() (or garbage collection),
 * whatever retention, truncation, compaction or delete() do to the segment meanwhile. Whoever ends
 * the slice's journey releases it: the connection once it is written or the connection died, the
 * fetch handler for reads it discards.
 */
export type { FileHandle, FileSlice } from '../protocol/request-sink.js';
// The shapes of what the native log reports, declared with the native module's interface.
export type { BatchHeader, CleanableInfo, CompactionResult, LogStats } from '../native/types.js';

/**
 * Kafka's topic-level log settings. Conventions: retentionMs / retentionBytes = -1 means unlimited
 * (Kafka's); flushMessages / flushMs = Infinity means "never by this trigger" (Kafka's Long.MAX_VALUE
 * default: durability comes from replication, and from the OS writing back the page cache).
 */
export interface LogConfig {
  /** segment.bytes: roll when the active segment would exceed this (max 2^31-1: index positions are int32). */
  segmentBytes: number;
  /** segment.ms: roll when the active segment's first append is this old. */
  segmentMs: number;
  /** index.interval.bytes: bytes of log between sparse index entries. */
  indexIntervalBytes: number;
  /** segment.index.bytes: caps index entries per segment (8 bytes each); a full index rolls. */
  segmentIndexBytes: number;
  /** max.message.bytes: largest accepted batch. */
  maxMessageBytes: number;
  /** message.timestamp.type: LogAppendTime stamps each batch's maxTimestamp with the append time. */
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
  /** flush.messages: start a flush once this many records are unflushed (1 = fsync every append). */
  flushMessages: number;
  /** flush.ms: flush this often while anything is unflushed (a timer in this facade). */
  flushMs: number;
  /** retention.ms: closed segments whose largest timestamp is older go (applyRetention). */
  retentionMs: number;
  /** retention.bytes: oldest closed segments go while the log stays at least this big. */
  retentionBytes: number;
  /** file.delete.delay.ms: deleted segments stay on disk (as *.deleted) this long; slices in flight hold their own files open. */
  fileDeleteDelayMs: number;
  /**
   * cleanup.policy: 'delete' applies retention.ms/bytes; 'compact' keeps the latest record per key
   * (compact(); retention does not apply, and records without a key are refused on append);
   * 'compact,delete' does both.
   */
  cleanupPolicy: CleanupPolicy;
  /** delete.retention.ms: how long a tombstone survives after compaction first wrote it. */
  deleteRetentionMs: number;
  /** min.compaction.lag.ms: segments with records newer than this are not compacted yet. */
  minCompactionLagMs: number;
  /** min.cleanable.dirty.ratio: dirty / (clean + dirty) bytes at which a pass is worth it. */
  minCleanableDirtyRatio: number;
  /**
   * max.compaction.lag.ms: a dirty segment whose first batch is older than this is compacted
   * whatever the dirty ratio, and a compacted log's active segment rolls by this age at the latest.
   */
  maxCompactionLagMs: number;
  /** segment.jitter.ms: each new segment rolls up to this much (at most segment.ms) earlier, at random. */
  segmentJitterMs: number;
  /**
   * message.timestamp.before.max.ms / after.max.ms: with CreateTime, append refuses a batch holding
   * a record whose timestamp lies more than this before / after the append time (INVALID_TIMESTAMP).
   * Infinity (or Kafka's Long.MAX_VALUE) leaves that side open and records unparsed.
   */
  messageTimestampBeforeMaxMs: number;
  messageTimestampAfterMaxMs: number;
}

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  indexIntervalBytes: 4096,
  segmentIndexBytes: 10 * 1024 * 1024,
  maxMessageBytes: 1048588,
  messageTimestampType: 'CreateTime',
  flushMessages: Infinity,
  flushMs: Infinity,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  fileDeleteDelayMs: 60000,
  cleanupPolicy: 'delete',
  deleteRetentionMs: 86_400_000,
  minCompactionLagMs: 0,
  minCleanableDirtyRatio: 0.5,
  maxCompactionLagMs: Infinity,
  segmentJitterMs: 0,
  messageTimestampBeforeMaxMs: Infinity,
  messageTimestampAfterMaxMs: Infinity,
});

export interface AppendOptions {
  /** Partition leader epoch written into each batch (default 0). */
  leaderEpoch?: number;
  /** Clock for segment.ms rolls and LogAppendTime (ms; default Date.now()). */
  now?: number;
  /**
   * The broker's own batches (transaction markers, transactional offset commits): control batches
   * and a producer id without a base sequence are accepted. Never set it for client data.
   */
  internal?: boolean;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The `now` used for this append (ms). */
  appendTime: number;
  /** The maxTimestamp written with LogAppendTime; -1 for CreateTime topics. */
  logAppendTime: number;
  /**
   * Present when this append reached flush.messages: resolves when this append (and everything
   * before it) is durable, rejects with the flush error. acks=all with flushMessages=1 awaits it.
   */
  flushed?: Promise<void>;
}

/** An aborted transaction of this partition, as compact() needs it. */
export interface AbortedTransaction {
  producerId: number;
  /** The transaction's first data offset in this partition. */
  firstOffset: number;
  /** The offset of its ABORT marker. */
  lastOffset: number;
}

export interface CompactOptions {
  /** Clock for tombstone horizons and min.compaction.lag.ms (ms). */
  now?: number;
  /**
   * Only segments entirely below it are compacted (default logEndOffset): the high watermark, and
   * on a log with transactions min(high watermark, last stable offset).
   */
  upTo?: number;
  /**
   * Aborted transactions whose data may lie below `upTo`: a transactional data batch of
   * `producerId` with firstOffset <= baseOffset <= lastOffset is dropped and its keys are not
   * mapped. Transaction markers are always kept (native/src/storage/cleaner.h, "Transactions").
   */
  aborted?: readonly AbortedTransaction[];
  /** Run even below min.cleanable.dirty.ratio. */
  force?: boolean;
  /** Memory budget of the key map (Kafka's log.cleaner.dedupe.buffer.size); default 128 MiB. */
  mapBytes?: number;
  /** @internal Test hook: fail the swap at this step (1-8, native/src/storage/cleaner.cc). */
  crashAt?: number;
}


function invalid(message: string): BrookNativeError {
  return new BrookNativeError(message, 'INVALID_ARGUMENT');
}

function checkInt(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(`${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

function checkIntOrInfinity(name: string, v: unknown, min: number): number {
  if (v === Infinity) return v;
  return checkInt(name, v, min);
}

function validateConfig(c: LogConfig): LogConfig {
  checkInt('segmentBytes', c.segmentBytes, 14, 2 ** 31 - 1);
  checkIntOrInfinity('segmentMs', c.segmentMs, 1);
  checkInt('indexIntervalBytes', c.indexIntervalBytes, 0, 2 ** 31 - 1);
  checkInt('segmentIndexBytes', c.segmentIndexBytes, 12, 2 ** 31 - 1);
  checkInt('maxMessageBytes', c.maxMessageBytes, 0, 2 ** 31 - 1);
  if (c.messageTimestampType !== 'CreateTime' && c.messageTimestampType !== 'LogAppendTime') {
    throw invalid(`messageTimestampType must be CreateTime or LogAppendTime, got ${String(c.messageTimestampType)}`);
  }
  checkIntOrInfinity('flushMessages', c.flushMessages, 1);
  checkIntOrInfinity('flushMs', c.flushMs, 1);
  checkInt('retentionMs', c.retentionMs, -1);
  checkInt('retentionBytes', c.retentionBytes, -1);
  checkInt('fileDeleteDelayMs', c.fileDeleteDelayMs, 0);
  if (!(CLEANUP_POLICIES as readonly string[]).includes(c.cleanupPolicy)) {
    throw invalid(`cleanupPolicy must be one of ${CLEANUP_POLICIES.join(', ')}, got ${String(c.cleanupPolicy)}`);
  }
  checkInt('deleteRetentionMs', c.deleteRetentionMs, 0);
  checkInt('minCompactionLagMs', c.minCompactionLagMs, 0);
  if (typeof c.minCleanableDirtyRatio !== 'number' || !(c.minCleanableDirtyRatio >= 0 && c.minCleanableDirtyRatio <= 1)) {
    throw invalid(`minCleanableDirtyRatio must be in [0, 1], got ${String(c.minCleanableDirtyRatio)}`);
  }
  checkIntOrInfinity('maxCompactionLagMs', c.maxCompactionLagMs, 1);
  checkInt('segmentJitterMs', c.segmentJitterMs, 0);
  checkIntOrInfinity('messageTimestampBeforeMaxMs', c.messageTimestampBeforeMaxMs, 0);
  checkIntOrInfinity('messageTimestampAfterMaxMs', c.messageTimestampAfterMaxMs, 0);
  return c;
}

const CLEANUP_POLICIES: readonly CleanupPolicy[] = ['delete', 'compact', 'compact,delete'];
const DEFAULT_MAP_BYTES = 128 * 1024 * 1024;

function toNative(c: LogConfig): NativeConfig {
  const { flushMs: _ignored, ...rest } = c;
  return rest; // Infinity crosses as a double; C++ reads anything >= 2^63 as "never"
}

function offsetArg(name: string, v: unknown): number {
  return checkInt(name, v, 0);
}

function nowArg(v: number | undefined): number {
  return v === undefined ? Date.now() : checkInt('now', v, Number.MIN_SAFE_INTEGER);
}

/** The directory of a partition log, Kafka's naming: `<dataDir>/<topic>-<partition>`. */
export function partitionDir(dataDir: string, topic: string, partition: number): string {
  return join(dataDir, `${topic}-${partition}`);
}

export class PartitionLog {
  readonly dir: string;
  #native: NativeLog;
  #results = new Float64Array(4);
  #config: LogConfig;
  #timer: NodeJS.Timeout | undefined;
  /** Flushes run one at a time; calls made while one waits share it (runCoalesced). */
  #flushes = new SerialQueue();
  #closed = false;
  #closing = false;
  /** Compaction passes run one at a time, each after the ones called before it. */
  #compactions = new SerialQueue();
  /** The last error of a background (flush.ms / flush.messages) flush, if any. */
  lastFlushError: Error | undefined;

  private constructor(dir: string, config: LogConfig, now: number) {
    this.dir = dir;
    this.#config = config;
    const Native = addon().Log;
    this.#native = new Native(dir, toNative(config), now, this.#results);
    this.#armTimer();
  }

  /**
   * Opens the log in `dir`, creating the directory if needed. After an unclean shutdown it recovers
   * first: segments from the recovery point on are validated batch by batch (CRC included) and
   * truncated at the first torn or corrupt batch; missing or corrupt indexes are rebuilt. Runs
   * synchronously on the calling thread.
   */
  static open(dir: string, config: Partial<LogConfig> = {}, opts: { now?: number } = {}): PartitionLog {
    if (typeof dir !== 'string' || dir.length === 0) throw invalid('dir must be a non-empty string');
    const full = validateConfig({ ...DEFAULT_LOG_CONFIG, ...config });
    return new PartitionLog(dir, full, nowArg(opts.now));
  }

  get config(): Readonly<LogConfig> {
    return this.#config;
  }

  /**
   * Appends one or more RecordBatch v2 batches as a producer sent them (baseOffset 0).
   * Every batch is validated first (size, magic, CRC-32C, counts, max.message.bytes, no control
   * batches, sequence with producer id); if any fails, nothing is written and the error carries
   * the code. Then offsets and the leader epoch are written INTO `batches` (and with LogAppendTime
   * the maxTimestamp, timestamp-type bit and CRC): the caller's buffer is mutated in place, no copy
   * is made, and the buffer is written with one write(2). On return: written and visible, not
   * durable (see `flushed`). `now` (ms) drives segment.ms rolls and LogAppendTime.
   *
   * `internal: true` is for batches the broker writes itself, never for a client's: transaction
   * markers (control batches) and the group coordinator's transactional offset commits (a producer
   * id and epoch with baseSequence -1). It lifts exactly the two checks "no control batches" and
   * "sequence with producer id"; every other check stays.
   */
  append(batches: Uint8Array, opts: AppendOptions = {}): AppendResult {
    if (!(batches instanceof Uint8Array)) throw invalid('batches must be a Buffer or Uint8Array');
    const epoch = opts.leaderEpoch === undefined ? 0 : checkInt('leaderEpoch', opts.leaderEpoch, -1, 2 ** 31 - 1);
    const now = nowArg(opts.now);
    const flushDue = this.#native.append(batches, epoch, now, opts.internal === true);
    const r = this.#results;
    const result: AppendResult = { baseOffset: r[0]!, lastOffset: r[1]!, appendTime: r[2]!, logAppendTime: r[3]! };
    if (flushDue) result.flushed = this.#backgroundFlush();
    return result;
  }

  /**
   * Replication: appends batches exactly as the leader's Fetch returned them (Kafka's
   * appendAsFollower), keeping their offsets, partition leader epochs, timestamps and CRCs; the
   * bytes of `batches` are written unchanged and the buffer is not modified. Every batch is checked
   * first, as recovery checks stored batches: size, magic 2, CRC-32C, recordsCount within
   * lastOffsetDelta + 1 (compacted batches have gaps); a partial batch at the end is
   * CORRUPT_MESSAGE. max.message.bytes, timestamps and keys are not checked (the leader did); control
   * batches (the leader's transaction markers) are copied like any other batch.
   * The first batch must start at logEndOffset and each next one right after the previous one's
   * last offset, else OFFSET_MISMATCH; on any error nothing is written. Rolls, indexes and
   * flush.messages behave as in append(). Returns the first base offset and the last batch's last
   * offset (logAppendTime -1). On return: written and visible, not durable (see `flushed`).
   */
  appendAsFollower(batches: Uint8Array, opts: { now?: number } = {}): AppendResult {
    if (!(batches instanceof Uint8Array)) throw invalid('batches must be a Buffer or Uint8Array');
    const flushDue = this.#native.appendAsFollower(batches, nowArg(opts.now));
    const r = this.#results;
    const result: AppendResult = { baseOffset: r[0]!, lastOffset: r[1]!, appendTime: r[2]!, logAppendTime: r[3]! };
    if (flushDue) result.flushed = this.#backgroundFlush();
    return result;
  }

  /**
   * Whole batches from the one containing `offset`: at least one batch even if it is larger than
   * maxBytes (KIP-74), then more while they fit; never a batch at or past `upTo` (the high
   * watermark; default logEndOffset). May span segments. Returns file slices for zero-copy sending,
   * each owning its file (FileSlice.file) until released: they stay valid whatever happens to the
   * segment meanwhile (retention, truncation, compaction, delete()). Release each once done.
   * offset < logStartOffset or > logEndOffset throws OFFSET_OUT_OF_RANGE; offset == logEndOffset
   * (or >= upTo) returns no slices.
   */
  read(offset: number, maxBytes: number, upTo?: number): { slices: FileSlice[]; bytes: number } {
    const { ranges, files } = this.#native.read(offsetArg('offset', offset), checkInt('maxBytes', maxBytes, 0), upToArg(upTo));
    const slices: FileSlice[] = [];
    let bytes = 0;
    for (let i = 0, j = 0; i < ranges.length; i += 3, j++) {
      slices.push({ fd: ranges[i]!, position: ranges[i + 1]!, length: ranges[i + 2]!, file: files[j]! });
      bytes += ranges[i + 2]!;
    }
    return { slices, bytes };
  }

  /** Same bytes as read(), copied (pread) into a new Buffer: the fallback for TLS or non-Linux. */
  readBuffer(offset: number, maxBytes: number, upTo?: number): Buffer {
    return this.#native.readBuffer(offsetArg('offset', offset), checkInt('maxBytes', maxBytes, 0), upToArg(upTo));
  }

  /**
   * ListOffsets by timestamp: the first record (at or after logStartOffset) whose timestamp is
   * >= ts, with that timestamp, or null. Exact for uncompressed and LogAppendTime batches; for a
   * compressed CreateTime batch the answer is the batch's first offset (records are not
   * decompressed here), exact whenever the first record already qualifies.
   */
  offsetForTimestamp(ts: number): { offset: number; timestamp: number } | null {
    const r = this.#native.offsetForTimestamp(checkInt('timestamp', ts, Number.MIN_SAFE_INTEGER));
    return r && { offset: r[0], timestamp: r[1] };
  }

  /** ListOffsets -3: the record with the largest timestamp (first of equals), or null if none. */
  maxTimestamp(): { offset: number; timestamp: number } | null {
    const r = this.#native.maxTimestamp();
    return r && { offset: r[0], timestamp: r[1] };
  }

  /** Alias of maxTimestamp() (ListOffsets MAX_TIMESTAMP). */
  maxTimestampOffset(): { offset: number; timestamp: number } | null {
    return this.maxTimestamp();
  }

  /** Headers of up to maxBatches batches from the one containing fromOffset (clamped up to logStartOffset). */
  batchHeaders(fromOffset: number, maxBatches: number): BatchHeader[] {
    return this.#native.batchHeaders(offsetArg('fromOffset', fromOffset), checkInt('maxBatches', maxBatches, 0));
  }

  /**
   * Makes everything appended before this call durable: index entries are written now, the fsyncs
   * run on a libuv worker, then the recovery point is persisted (temp file + rename + fsync).
   * Flushes run one at a time; calls made while one runs share the next one.
   */
  flush(): Promise<void> {
    if (this.#closed) return Promise.reject(new BrookNativeError(`log ${this.dir} is closed`, 'CLOSED'));
    return this.#flushes.runCoalesced(() => this.#native.flush());
  }

  /**
   * Resolves once `offset` is durable: at once if it is below the recovery point, otherwise
   * through flush() (which covers everything appended before the call).
   */
  durable(offset: number): Promise<void> {
    if (this.#native.stats().recoveryPoint > offset) return Promise.resolve();
    return this.flush();
  }

  #backgroundFlush(): Promise<void> {
    const p = this.flush();
    p.catch((e: Error) => {
      this.lastFlushError = e;
    });
    return p;
  }

  #armTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const ms = this.#config.flushMs;
    if (ms === Infinity || this.#closed) return;
    this.#timer = setInterval(() => {
      if (!this.#closed && this.#native.stats().unflushedMessages > 0) void this.#backgroundFlush().catch(() => undefined);
    }, Math.min(ms, 2 ** 31 - 1));
    this.#timer.unref();
  }

  /**
   * Drops every batch from the one containing `offset` on (replication). offset must be in
   * [logStartOffset, logEndOffset]; the new logEndOffset is the base offset of the first dropped
   * batch. The recovery point is lowered and persisted before anything is dropped.
   */
  truncateTo(offset: number, opts: { now?: number } = {}): void {
    this.#native.truncateTo(offsetArg('offset', offset), nowArg(opts.now));
  }

  /** DeleteRecords: raises logStartOffset to `offset` (<= logEndOffset), persisted; deletes segments below it. */
  deleteRecordsBefore(offset: number, opts: { now?: number } = {}): void {
    this.#native.deleteRecordsBefore(offsetArg('offset', offset), nowArg(opts.now));
  }

  /**
   * Applies retention.ms and retention.bytes to closed segments entirely below `upTo` (the high
   * watermark, default logEndOffset); never the active segment. Returns how many segments went.
   */
  applyRetention(opts: number | { now?: number; upTo?: number } = {}): number {
    const o = typeof opts === 'number' ? { now: opts } : opts;
    return this.#native.applyRetention(nowArg(o.now), upToArg(o.upTo));
  }

  /**
   * One compaction pass (cleanup.policy with compact; native/src/storage/cleaner.h has the rules):
   * keeps the latest record per key in the closed segments below `upTo`, keeps transaction markers
   * and drops the data of the `aborted` transactions, drops tombstones
   * delete.retention.ms after their first pass, never touches the active segment and never changes
   * an offset. Runs when the dirty ratio reaches min.cleanable.dirty.ratio, a tombstone horizon has
   * passed, or `force`. Planning and the swap run on this thread (renames and three fsyncs of the
   * directory or checkpoint); reading, mapping, writing and fsyncing the new segments run on a libuv
   * worker while appends and reads go on. Passes of one log run one at a time: a call made during a
   * pass starts after it. Resolves when the result is visible and durable (or says why it skipped);
   * rejects with CANCELLED when close()/delete() interrupted it.
   */
  compact(opts: CompactOptions = {}): Promise<CompactionResult> {
    if (this.#closed) return Promise.reject(new BrookNativeError(`log ${this.dir} is closed`, 'CLOSED'));
    let args: [number, number, boolean, number, number, Float64Array];
    try {
      args = [
        nowArg(opts.now),
        upToArg(opts.upTo),
        opts.force === true,
        checkInt('mapBytes', opts.mapBytes ?? DEFAULT_MAP_BYTES, 1),
        checkInt('crashAt', opts.crashAt ?? 0, 0, 8),
        abortedArg(opts.aborted),
      ];
    } catch (e) {
      return Promise.reject(e);
    }
    // Nothing in flight: the pass plans now, on this call (it sees the log as it is at the call).
    return this.#compactions.run(() => {
      if (this.#closed || this.#closing) return Promise.reject(new BrookNativeError(`log ${this.dir} is closed`, 'CLOSED'));
      return this.#native.compact(...args);
    });
  }

  /** The cleaner's view of this log now (memory only): dirty ratio, and whether a pass is due. */
  cleanable(opts: { now?: number; upTo?: number } = {}): CleanableInfo {
    return this.#native.cleanable(nowArg(opts.now), upToArg(opts.upTo));
  }

  /** Changes settings of the open log; size/time/index limits apply from the next append. */
  updateConfig(config: Partial<LogConfig>): void {
    const full = validateConfig({ ...this.#config, ...config });
    this.#native.updateConfig(toNative(full));
    this.#config = full;
    this.#armTimer();
  }

  stats(): LogStats {
    return this.#native.stats();
  }
  get logStartOffset(): number {
    return this.#native.logStartOffset();
  }
  /** The next offset to be assigned (ListOffsets -1 "latest" before replication). */
  get logEndOffset(): number {
    return this.#native.logEndOffset();
  }
  get recoveryPoint(): number {
    return this.#native.stats().recoveryPoint;
  }
  get size(): number {
    return this.#native.stats().size;
  }
  get segmentCount(): number {
    return this.#native.stats().segmentCount;
  }

  /**
   * Flushes (fsync off the JS thread), then writes the indexes and the clean-shutdown marker and
   * closes every file; segments awaiting deletion are unlinked. The next open() skips recovery.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#timer) clearInterval(this.#timer);
    // A compaction pass in flight is cancelled and awaited: its worker must not write into the
    // directory once another PartitionLog may open it.
    this.#closing = true;
    this.#native.cancelCompaction();
    await this.#compactions.idle();
    await this.flush().catch(() => undefined); // a failure resurfaces from the final native flush
    this.#closed = true;
    this.#native.close();
  }

  /**
   * Closes without a marker and removes the directory (topic deletion). Slices already read keep
   * their (unlinked) files open until they are released.
   */
  delete(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#closed = true;
    this.#native.cancelCompaction(); // a pass in flight settles as cancelled or discarded
    this.#native.delete();
  }
}

function upToArg(upTo: number | undefined): number {
  return upTo === undefined ? -1 : offsetArg('upTo', upTo);
}

/** [producerId, firstOffset, lastOffset] per transaction, as the native compact() reads them. */
function abortedArg(aborted: readonly AbortedTransaction[] | undefined): Float64Array {
  if (aborted === undefined) return new Float64Array(0);
  if (!Array.isArray(aborted)) throw invalid('aborted must be an array');
  const out = new Float64Array(aborted.length * 3);
  aborted.forEach((t: AbortedTransaction, i) => {
    out[3 * i] = checkInt('aborted.producerId', t?.producerId, 0);
    out[3 * i + 1] = offsetArg('aborted.firstOffset', t.firstOffset);
    out[3 * i + 2] = checkInt('aborted.lastOffset', t.lastOffset, t.firstOffset);
  });
  return out;
}

/**
 * Sends a slice to a socket with sendfile(2) on a libuv worker: no copy through user space. Handles
 * partial writes; when the (non-blocking) socket is full it polls for POLLOUT, failing with code IO
 * and errno ETIMEDOUT after `timeoutMs` without progress. Resolves with the bytes sent (== length).
 * The caller must have drained earlier socket.write()s and must not write to the socket until it
 * settles. `socketFd` is e.g. `(socket as any)._handle.fd` for a net.Socket. A slice from read() is
 * sent from the file its handle owns (the worker holds the file until the send ends); a released
 * handle fails with CLOSED. The caller releases the slice afterwards.
 */
export function sendfile(socketFd: number, slice: FileSlice, opts: { timeoutMs?: number } = {}): Promise<number> {
  return send('sendfile', socketFd, slice, opts);
}

/** The copying variant: pread into a reused per-thread buffer, then write(2); same semantics as sendfile(). */
export function preadWrite(socketFd: number, slice: FileSlice, opts: { timeoutMs?: number } = {}): Promise<number> {
  return send('preadWrite', socketFd, slice, opts);
}

/**
 * shutdown(2) of both directions of the caller's open socket: a sendfile()/preadWrite() in flight on
 * it fails at once (EPIPE) instead of waiting out its timeout. Call before closing a connection
 * whose send is in flight. The send itself writes to its own duplicate of the descriptor, so a
 * close without this never redirects its bytes; it only keeps the worker busy until the timeout.
 */
export function shutdownSocket(socketFd: number): void {
  addon().shutdownSocket(checkInt('socketFd', socketFd, 0, 2 ** 31 - 1));
}

/** A slice's bytes copied into a new Buffer (pread on the JS thread): the fallback when sendfile cannot be used. */
export function readSlice(slice: FileSlice): Buffer {
  const file = sliceFile(slice);
  checkInt('slice.position', slice.position, 0);
  checkInt('slice.length', slice.length, 0);
  return addon().readSlice(file, slice.position, slice.length);
}

/** The slice's file handle (the native side refuses anything else: no send by descriptor number). */
function sliceFile(slice: FileSlice): FileHandle {
  if (typeof slice?.file !== 'object' || slice.file === null) throw invalid('slice.file must be the handle read() gave the slice');
  return slice.file;
}

function send(fn: 'sendfile' | 'preadWrite', socketFd: number, slice: FileSlice, opts: { timeoutMs?: number }): Promise<number> {
  try {
    checkInt('socketFd', socketFd, 0, 2 ** 31 - 1);
    const file = sliceFile(slice);
    checkInt('slice.position', slice.position, 0);
    checkInt('slice.length', slice.length, 0);
    const timeout = checkInt('timeoutMs', opts.timeoutMs ?? 30000, 0, 2 ** 31 - 1);
    return addon()[fn](socketFd, file, slice.position, slice.length, timeout);
  } catch (e) {
    return Promise.reject(e);
  }
}
