// A partition log: the directory `<dataDir>/<topic>-<partition>/` and its segments (segment.h).
//
// Files in the directory:
//   <20-digit base>.log / .index / .timeindex   segments (Kafka's layout and naming)
//   <name>.deleted                               a segment removed by retention, truncation or
//                                                compaction, unlinked file.delete.delay.ms later
//                                                (Kafka's file.delete.delay.ms). The log lets go of
//                                                its descriptors at once: fetch slices in flight
//                                                hold their File themselves (Slice, FileRef).
//   recovery-point-offset                        "0\n<offset>\n": every batch below <offset> is
//                                                durable (fsynced with its indexes); written by a
//                                                completed flush with temp + fsync + rename + fsync
//   log-start-offset                             "0\n<offset>\n": the DeleteRecords floor, same way
//   .clean-shutdown                              written by Close() after a full flush, removed
//                                                (durably) by Open(): its presence skips recovery
//   cleaner-offset-checkpoint                    compacted logs: how far the log is clean, and the
//                                                earliest tombstone delete horizon (cleaner.h)
//   <name>.cleaned / <base>.log.swap             a compaction pass in progress: Open() deletes
//                                                .cleaned files and completes .swap (cleaner.h)
//
// Contract of the terms used below (as Redpanda's appender states them):
//   written  = in the page cache through write(2); survives a process crash, not a power loss
//   visible  = returned by Read()/ReadBuffer() up to logEndOffset (the caller passes the high
//              watermark as upTo to hide what is not replicated yet)
//   durable  = fdatasync'ed, together with the indexes, and below the persisted recovery point
//
// Threading: a Log is used from one thread (the JS thread). The only work done elsewhere is
// RunFlush (fsyncs and the checkpoint write, on a worker) over a FlushPlan that owns everything it
// touches; a truncation racing a flush is resolved by an epoch under the checkpoint mutex.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "record/batch.h"
#include "storage/cleaner.h"
#include "storage/segment.h"

namespace brook::storage {

// Kafka's topic configs with their defaults. -1 means "unlimited" for retention_ms / retention_bytes.
struct LogConfig {
  int64_t segment_bytes = 1 << 30;                // segment.bytes (at most 2^31-1: positions are int32)
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;    // segment.ms
  int64_t segment_jitter_ms = 0;                  // segment.jitter.ms: see roll_jitter_ms_
  int64_t index_interval_bytes = 4096;            // index.interval.bytes
  int64_t segment_index_bytes = 10 << 20;         // segment.index.bytes: caps entries per segment
  int64_t max_message_bytes = 1048588;            // max.message.bytes (per batch)
  bool log_append_time = false;                   // message.timestamp.type=LogAppendTime
  int64_t flush_messages = INT64_MAX;             // flush.messages: Append reports flush_due
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // retention.ms
  int64_t retention_bytes = -1;                   // retention.bytes
  int64_t file_delete_delay_ms = 60000;           // file.delete.delay.ms
  // cleanup.policy: "delete" -> retention only; "compact" -> compaction only (retention.ms/bytes
  // do not apply, as in Kafka); "compact,delete" -> both.
  bool cleanup_delete = true;
  bool cleanup_compact = false;
  int64_t delete_retention_ms = 86400000;  // delete.retention.ms: tombstone lifetime
  int64_t min_compaction_lag_ms = 0;       // min.compaction.lag.ms
  double min_cleanable_dirty_ratio = 0.5;  // min.cleanable.dirty.ratio
  // max.compaction.lag.ms (KIP-354): a compacted log whose oldest dirty segment began longer ago
  // than this is cleaned whatever its dirty ratio, and its active segment rolls by then at the
  // latest (Kafka's LogConfig.maxSegmentMs).
  int64_t max_compaction_lag_ms = INT64_MAX;
  // message.timestamp.before.max.ms / after.max.ms: CreateTime records must carry a timestamp
  // within [now - before, now + after] (INT64_MAX: unbounded, Kafka's default).
  int64_t timestamp_before_max_ms = INT64_MAX;
  int64_t timestamp_after_max_ms = INT64_MAX;
};

// The cleaner's view of a log (cleaner.h has the section names), computed from memory only.
struct CleanableInfo {
  int64_t first_dirty = 0;        // max(checkpoint, logStartOffset)
  int64_t first_uncleanable = 0;  // base of the first segment a pass may not touch
  uint64_t clean_bytes = 0;
  uint64_t dirty_bytes = 0;
  double dirty_ratio = 0;
  bool tombstones_due = false;      // the earliest retained tombstone's horizon has passed
  bool compaction_overdue = false;  // a cleanable dirty segment's first batch is older than max.compaction.lag.ms
  bool eligible = false;            // compacted, and ratio >= min.cleanable.dirty.ratio, tombstones due or overdue
};

struct AppendResult {
  int64_t base_offset;
  int64_t last_offset;
  int64_t append_time;      // the `now` used
  int64_t log_append_time;  // maxTimestamp written with LogAppendTime, -1 for CreateTime
  bool flush_due;           // flush.messages reached: the caller should start a flush
};

// A byte range of a segment's .log. `file` is shared ownership: the descriptor stays open (and its
// number cannot be reused for another file) for as long as any copy of the Slice, or of `file`,
// exists, whatever the log does to the segment meanwhile.
struct Slice {
  std::shared_ptr<File> file;
  uint64_t position;
  uint64_t length;
};

// Shared by a Log and its in-flight flush workers.
struct CheckpointState {
  std::mutex mu;
  uint64_t epoch = 0;    // bumped by truncation/deletion: older flush plans must not write
  int64_t written = -1;  // last recovery point written to disk
  std::string path;
};

// Everything a flush worker needs, captured on the JS thread.
struct FlushPlan {
  std::vector<std::shared_ptr<File>> files;  // .log and index files to fdatasync
  std::string dir;
  bool sync_dir = false;
  uint64_t dir_changes = 0;
  int64_t target = 0;    // recovery point once done (the log end offset at capture)
  int64_t messages = 0;  // unflushed messages this flush covers
  uint64_t epoch = 0;
  std::shared_ptr<CheckpointState> checkpoint;
};

class Log {
 public:
  // Opens or creates the log in `dir`, recovering it if it was not closed cleanly (see log.cc:
  // Kafka's LogLoader steps). Runs on the calling thread; may read whole segments.
  static std::unique_ptr<Log> Open(const std::string& dir, const LogConfig& config, int64_t now_ms);
  ~Log();

  // Validates every batch in buf (batch.h), then assigns offsets by rewriting baseOffset, leader
  // epoch (and with LogAppendTime maxTimestamp, attributes, CRC) IN PLACE in the caller's buffer,
  // rolls the segment if needed, and writes the whole buffer with one pwrite.
  // On return: written and visible; durable only after a flush. On error: nothing written, the log
  // unchanged (the buffer may already carry assigned offsets if the write itself failed).
  // `internal`: the broker's own batches (transaction markers, transactional offset commits), which
  // may be control batches and carry a producer id without a sequence (ValidateOptions::internal).
  AppendResult Append(uint8_t* buf, size_t len, int32_t leader_epoch, int64_t now_ms, bool internal = false);

  // Replication (Kafka's appendAsFollower): appends batches as the leader's Fetch returned them,
  // keeping their offsets, leader epochs, timestamps and CRCs; the bytes are written unchanged.
  // Every batch is checked before anything is written, as recovery checks stored batches (size,
  // magic 2, CRC-32C, recordsCount within lastOffsetDelta + 1, which a compacted batch may fall
  // short of); a partial batch at the end is CORRUPT_MESSAGE. Control batches (the leader's
  // transaction markers) and producer ids without a sequence are copied like any other batch. max.message.bytes,
  // timestamps and keys are the leader's business and are not checked. The first batch must start at the log end offset
  // and each next one right after its predecessor's last offset, else OFFSET_MISMATCH. Rolls, indexes, flush.messages
  // and the write itself are Append's. Returns the first batch's base offset and the last batch's last offset
  // (log_append_time -1: nothing is stamped). On return: written and visible; durable only after a flush. On error:
  // nothing written.
  AppendResult AppendAsFollower(const uint8_t* buf, size_t len, int64_t now_ms);

  // Whole batches starting with the one that contains `offset`: at least one batch even if larger
  // than max_bytes (KIP-74), then more while they fit, never a batch with lastOffset >= up_to
  // (up_to < 0 or > logEndOffset means logEndOffset). May span segments. offset outside
  // [logStartOffset, logEndOffset] is OFFSET_OUT_OF_RANGE; offset >= up_to returns nothing.
  std::vector<Slice> Read(int64_t offset, int64_t max_bytes, int64_t up_to);
  // Copies slices into out (sum of lengths bytes), with pread.
  static void CopySlices(const std::vector<Slice>& slices, uint8_t* out);

  std::optional<TimestampOffset> OffsetForTimestamp(int64_t ts);  // first record with timestamp >= ts
  std::optional<TimestampOffset> MaxTimestamp();                  // ListOffsets -3
  // Headers of up to max batches from the one containing from_offset (clamped to logStartOffset).
  std::vector<BatchInfo> BatchHeaders(int64_t from_offset, size_t max);

  // Flush in three steps so the fsyncs can run off the JS thread:
  //   PrepareFlush (JS thread): writes pending index entries, captures files and target offset.
  //   RunFlush (any thread): fdatasync each file, fsync the directory if segments were created or
  //            renamed, then write the recovery point checkpoint.
  //   CompleteFlush (JS thread): advances the in-memory recovery point.
  // When CompleteFlush returns, everything appended before PrepareFlush is durable.
  FlushPlan PrepareFlush();
  static void RunFlush(FlushPlan& plan);
  void CompleteFlush(const FlushPlan& plan);
  void Flush();  // all three on the calling thread

  // Drops every batch at or after offset's batch (for replication). offset outside
  // [logStartOffset, logEndOffset] is OFFSET_OUT_OF_RANGE. The new logEndOffset is the base offset
  // of the first dropped batch (== offset when offset is at a batch boundary, as replication uses).
  void TruncateTo(int64_t offset, int64_t now_ms);
  // DeleteRecords: raises logStartOffset to offset (<= logEndOffset, else OFFSET_OUT_OF_RANGE),
  // persists it, and deletes segments entirely below it (rolling the active one if it is).
  void DeleteRecordsBefore(int64_t offset, int64_t now_ms);
  // Deletes closed segments past retention.ms (largest timestamp older than now - retention.ms)
  // and retention.bytes (oldest first while total - segment >= retention.bytes), only segments
  // entirely below upper_bound (the high watermark; < 0 = logEndOffset). Returns segments deleted.
  // Kafka applies retention.ms/bytes only when cleanup.policy contains delete; so does this.
  int ApplyRetention(int64_t now_ms, int64_t upper_bound = -1);
  void UpdateConfig(const LogConfig& config);

  // Compaction, in the three steps of cleaner.h:
  //   PrepareClean (JS thread): nullptr with stats->skipped set when no pass is due (or the policy
  //                lacks compact, or a pass is in flight); else the plan for RunClean (worker).
  //   CompleteClean (JS thread): validates and swaps the worker's result in; returns what happened
  //                (skipped = "discarded" when the log changed meanwhile and nothing was swapped).
  //                On return the cleaned segments are visible and durable, and so is the checkpoint.
  //   AbortClean (JS thread): after RunClean threw; removes its files and ends the pass.
  // Clean() runs the three on the calling thread.
  CleanableInfo Cleanable(int64_t now_ms, int64_t up_to = -1) const;
  std::unique_ptr<CleanPlan> PrepareClean(const CleanOptions& options, CleanStats* stats);
  CleanStats CompleteClean(CleanPlan& plan);
  void AbortClean(CleanPlan& plan);
  CleanStats Clean(const CleanOptions& options);

  // Flushes, writes indexes and the clean-shutdown marker, closes every file and unlinks the
  // segments waiting for deletion. Blocks on fsync: call it after an async flush.
  void Close();
  // Closes without the marker and removes the directory (topic deletion). Slices handed out before
  // keep their files open (unlinked) until they are dropped.
  void Delete();

  int64_t log_start_offset() const { return log_start_offset_; }
  int64_t log_end_offset() const { return next_offset_; }
  int64_t recovery_point() const { return recovery_point_; }
  uint64_t size_bytes() const;
  size_t segment_count() const { return segments_.size(); }
  int64_t unflushed_messages() const { return unflushed_messages_; }
  size_t pending_deletes() const { return pending_deletes_.size(); }
  const std::string& dir() const { return dir_; }
  const LogConfig& config() const { return config_; }
  int64_t clean_offset() const { return clean_offset_; }
  bool cleaning() const { return cleaning_; }
  // Checks the log's invariants with BROOK_DCHECK (check.h: debug and sanitizer builds only; a
  // no-op in release), throwing INVARIANT on the first that fails:
  //   first segment base <= logStartOffset <= logEndOffset, recoveryPoint <= logEndOffset
  //   (logStartOffset may pass the recovery point: DeleteRecords does not flush, and nothing below
  //   logStartOffset is ever recovered); segment bases strictly increasing, each segment's offsets
  //   [base, next) below the next segment's base; logEndOffset == the active segment's next offset;
  //   every index's entries increasing and inside its segment.
  // Mutating methods call it before they return; tests may call it at any time.
  void CheckInvariants() const;
  // Test hook: base offsets of the live segments.
  std::vector<int64_t> SegmentBaseOffsets() const;
  const Segment& segment(int64_t base) const { return *segments_.at(base); }

  static constexpr const char* kRecoveryPointFile = "recovery-point-offset";
  static constexpr const char* kLogStartOffsetFile = "log-start-offset";
  static constexpr const char* kCleanShutdownFile = ".clean-shutdown";
  static constexpr const char* kCleanerCheckpointFile = "cleaner-offset-checkpoint";

 private:
  Log(std::string dir, const LogConfig& config);
  void Load(int64_t now_ms);
  SegmentOptions segment_options() const;
  Segment& active() { return *segments_.rbegin()->second; }
  void CheckOpen() const;
  // What Append and AppendAsFollower share around their own validation and byte edits:
  //   StartAppend: refuses a closed or broken log, reaps due deletions.
  //   MaybeRoll: refuses a write no segment can hold (MESSAGE_TOO_LARGE), rolls when the active
  //              segment cannot take it (size, age, index room, relative offsets).
  //   WriteBatches: one pwrite of buf, whose validated batches are spans_ covering offsets
  //                 [first, last] (each span's count = the offsets it covers), then advances the
  //                 log end and the unflushed count.
  void StartAppend();
  AppendResult WriteBatches(const uint8_t* buf, size_t len, int64_t first, int64_t last, int64_t log_append_time,
                            int64_t now_ms);
  void MaybeRoll(size_t bytes, int64_t last_offset, size_t batches, int64_t now_ms);
  void Roll(int64_t now_ms);
  // A random jitter in [0, min(segment.jitter.ms, segment.ms)), drawn for each new active segment
  // as Kafka does, so that many logs created together do not all roll at the same moment.
  int64_t DrawRollJitter() const;
  // segment.ms, or max.compaction.lag.ms when the log is compacted and that is shorter.
  int64_t MaxSegmentMs() const;
  // Takes the segment out of the log (Retire).
  void ScheduleDelete(std::map<int64_t, std::unique_ptr<Segment>>::iterator it);
  void ReapDeleted(bool all = false);
  void WriteCheckpointNow(int64_t recovery_point);
  // Completes interrupted compaction swaps (`<base>.log.swap`) before segments are loaded.
  void CompleteInterruptedSwaps(const std::vector<std::string>& names);
  void LoadCleanerCheckpoint();
  void WriteCleanerCheckpoint();
  // Renames a segment's files to .deleted, drops the log's references to them, and queues the
  // unlink for file_delete_delay_ms later (pending_deletes_).
  void Retire(std::unique_ptr<Segment> segment);

  std::string dir_;
  LogConfig config_;
  std::map<int64_t, std::unique_ptr<Segment>> segments_;  // by base offset; the last is active
  struct PendingDelete {
    int64_t deadline_ms;             // steady clock
    std::vector<std::string> paths;  // the segment's .deleted files
  };
  std::vector<PendingDelete> pending_deletes_;
  int64_t log_start_offset_ = 0;
  int64_t next_offset_ = 0;  // log end offset
  int64_t recovery_point_ = 0;
  int64_t unflushed_messages_ = 0;
  int64_t roll_jitter_ms_ = 0;  // subtracted from segment.ms for the active segment
  uint64_t dir_changes_ = 0;    // segment files created/renamed since the last directory fsync
  uint64_t dir_changes_synced_ = 0;
  bool closed_ = false;
  bool broken_ = false;                   // a failed write could not be truncated back: refuse appends
  std::vector<record::BatchSpan> spans_;  // reused across appends
  std::shared_ptr<CheckpointState> checkpoint_;
  // Compaction state (cleaner.h).
  int64_t clean_offset_ = 0;               // cleaner checkpoint
  int64_t tombstone_horizon_ = INT64_MAX;  // earliest delete horizon of a retained tombstone
  uint64_t clean_generation_ = 0;          // bumped by truncation: in-flight passes are discarded
  bool cleaning_ = false;                  // a plan is out (one pass at a time)
};

}  // namespace brook::storage
