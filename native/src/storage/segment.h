// One segment of a partition log: `<base>.log` with its `.index` and `.timeindex`, where <base> is
// the 20-digit, zero-padded first offset the segment may hold (Kafka's LogFileUtils naming).
//
// The .log is RecordBatch v2 bytes back to back, exactly as fetched (batch_header.h). The segment
// keeps its end position (`size`) and next offset in memory: the end position is the end of the
// last complete batch, and after any failed write the file is truncated back to it, so the two
// always agree. Everything here runs on the JS thread; other threads only ever see the shared File
// objects (flush worker: fdatasync; fetch slices: sendfile, each holding its File).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "record/batch.h"
#include "record/batch_header.h"
#include "storage/file.h"
#include "storage/offset_index.h"
#include "storage/time_index.h"

namespace brook::storage {

struct SegmentOptions {
  int64_t index_interval_bytes = 4096;
  size_t max_index_entries = (10 << 20) / OffsetIndex::kEntrySize;  // segment.index.bytes / 8
  size_t max_time_index_entries = (10 << 20) / TimeIndex::kEntrySize;
};

// What a header scan reports about one stored batch.
struct BatchInfo {
  uint64_t position;
  uint32_t size;
  int64_t base_offset;
  int64_t last_offset;
  int64_t max_timestamp;
  int64_t base_timestamp;
  int64_t producer_id;
  int16_t producer_epoch;
  int32_t base_sequence;
  int32_t records_count;
  int32_t leader_epoch;
  uint16_t attributes;
};

// One batch that is already in its final form (offsets assigned, CRC valid), for AppendStored.
struct StoredSpan {
  uint32_t size;
  int64_t last_offset;
  int64_t max_timestamp;
};

struct TimestampOffset {
  int64_t timestamp;
  int64_t offset;
};

// Reads batches of one file forward from a position with large preads, so that scanning many
// small batches costs few system calls. Header() and Batch() point into an internal buffer that the
// next call may move.
class BatchScanner {
 public:
  enum class Status { kOk, kEnd, kTorn, kCorrupt };
  BatchScanner(const File& file, uint64_t pos, uint64_t end, size_t read_size = 16 << 10)
      : file_(file), pos_(pos), end_(end), read_size_(read_size) {}

  // Positions on the next batch: kEnd at `end`, kTorn when fewer than 17 bytes or a declared size
  // past `end` remain, kCorrupt when the declared size is below 61 bytes or the magic is not 2.
  Status Next();
  BatchInfo Info() const;
  const uint8_t* Header() const { return buf_.data() + (pos_ - buf_pos_); }
  // Loads the whole current batch and returns it.
  const uint8_t* Batch();
  void Advance() { pos_ += size_; }
  uint64_t position() const { return pos_; }
  uint32_t size() const { return size_; }

 private:
  void Ensure(size_t n);
  const File& file_;
  uint64_t pos_;
  uint64_t end_;
  size_t read_size_;
  std::vector<uint8_t> buf_;
  uint64_t buf_pos_ = 0;
  uint32_t size_ = 0;
};

class Segment {
 public:
  static std::string FileName(const std::string& dir, int64_t base_offset, const char* suffix);

  // Creates the three files of a new, empty segment (truncating leftovers of the same name).
  // `suffix` is appended to each name: the cleaner writes `<base>.log.cleaned` etc. (cleaner.h).
  static std::unique_ptr<Segment> Create(const std::string& dir, int64_t base_offset, const SegmentOptions& opts,
                                         int64_t now_ms, const std::string& suffix = "");
  // Opens an existing .log. Indexes are not loaded yet: call LoadIndexes (clean) or Recover.
  static std::unique_ptr<Segment> Open(const std::string& dir, int64_t base_offset, const SegmentOptions& opts);

  // Loads both indexes and checks them against the .log; false if either is missing or corrupt.
  // Then finds the next offset and max timestamp by scanning from the last index entry (no CRC
  // checks: the segment is trusted). Returns false too if that scan finds a torn or corrupt batch.
  bool LoadClean(int64_t now_ms);
  // Validates every batch (size, magic, CRC, offsets >= min_offset and increasing, fitting the
  // segment) and rebuilds both indexes; truncates the .log at the first invalid batch. Returns the
  // number of bytes truncated.
  uint64_t Recover(int64_t min_offset, int64_t now_ms);

  // Writes already validated and offset-assigned batches with ONE pwrite at the end of the .log and
  // adds index entries. On a failed write the .log is truncated back to its previous size and the
  // error rethrown (NO_SPACE / IO); if even that truncation fails, `*broken` is set.
  void Append(const uint8_t* buf, size_t len, const std::vector<record::BatchSpan>& spans, int64_t first_offset,
              int64_t now_ms, bool* broken);

  // Appends batches that already carry their final offsets (the cleaner's output): one pwrite,
  // then an index entry per batch as Append does. Offsets may have gaps between batches but must
  // increase; the caller guarantees it. No truncate-back on failure: the cleaner discards the file.
  void AppendStored(const uint8_t* buf, size_t len, const std::vector<StoredSpan>& spans);

  // Renames the .log (or both index files) to "<base>.log" + suffix (".index" + suffix, ...);
  // descriptors stay open. The cleaner's swap protocol (cleaner.h) moves files through suffixes.
  void RenameLog(const std::string& suffix);
  void RenameIndexes(const std::string& suffix);

  // Position of the first batch whose last offset >= offset (index lookup, then header scan), or
  // size() when no batch in this segment reaches offset.
  uint64_t FindPosition(int64_t offset) const;
  // Largest batch boundary b with start <= b <= end (start must be a boundary).
  uint64_t BoundaryAtOrBefore(uint64_t start, uint64_t end) const;
  // Header of the batch at pos (pos < size()).
  BatchInfo HeaderAt(uint64_t pos) const;
  // Batches from `pos` onward.
  void ScanHeaders(uint64_t pos, size_t max, std::vector<BatchInfo>* out) const;
  // First record with timestamp >= ts and offset >= start_offset (ListOffsets by time).
  std::optional<TimestampOffset> FindOffsetByTimestamp(int64_t ts, int64_t start_offset) const;
  // Record offset of the largest timestamp in this segment.
  std::optional<TimestampOffset> MaxTimestampRecord() const;

  // Drops every batch at or after `pos` and rebuilds the indexes for what remains.
  void TruncateToPosition(uint64_t pos, int64_t now_ms);

  // Called when this segment stops being the active one: records the final time-index entry
  // (Kafka's onBecomeInactiveSegment) and writes index files.
  void OnRoll();
  // Writes pending index entries (page cache) and, if to_sync is given, adds both index files to it
  // for the caller to fsync.
  void PersistIndexes(std::vector<std::shared_ptr<File>>* to_sync);
  // Renames all files to "<name>.deleted"; descriptors stay open.
  void RenameForDelete();
  // The current paths of the .log and both indexes (whatever their names are now).
  std::vector<std::string> FilePaths() const;
  // Drops this segment's references and unlinks the files (whatever their current names).
  void CloseAndRemove();
  // Drops this segment's references to its files. A descriptor closes when its last owner lets go:
  // now, or when a flush worker or an in-flight fetch slice holding the same File is done.
  void Close();

  int64_t base_offset() const { return base_offset_; }
  int64_t next_offset() const { return next_offset_; }
  uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t max_timestamp() const { return max_timestamp_; }
  // For retention.ms: the largest timestamp, or the file's mtime when no batch carried one.
  int64_t LargestTimestampForRetention() const;
  int64_t created_ms() const { return created_ms_; }
  const std::shared_ptr<File>& log_file() const { return log_; }
  bool WouldOverflowIndexes(size_t batches) const {
    return offset_index_.WouldOverflow(batches) || time_index_.WouldOverflow(batches);
  }
  void SetOptions(const SegmentOptions& opts);
  const OffsetIndex& offset_index() const { return offset_index_; }
  const TimeIndex& time_index() const { return time_index_; }

 private:
  Segment(const std::string& dir, int64_t base_offset, const SegmentOptions& opts, std::shared_ptr<File> log,
          const std::string& suffix = "");
  void IndexBatch(int64_t last_offset, int64_t max_timestamp, uint64_t position, uint32_t size);
  void ResetIndexes();
  std::optional<TimestampOffset> RecordAtOrAfter(const BatchInfo& b, int64_t ts, int64_t start_offset,
                                                 bool exact_match) const;

  std::string dir_;
  int64_t base_offset_;
  SegmentOptions opts_;
  std::shared_ptr<File> log_;
  OffsetIndex offset_index_;
  TimeIndex time_index_;
  uint64_t size_ = 0;
  int64_t next_offset_;
  int64_t max_timestamp_ = -1;            // largest batch maxTimestamp so far (-1: none)
  int64_t offset_of_max_timestamp_ = -1;  // last offset of the batch that first reached it
  int64_t bytes_since_index_entry_ = 0;
  int64_t created_ms_ = -1;  // time of the first append (segment.ms rolls from it)
};

}  // namespace brook::storage
