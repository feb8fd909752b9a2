#include "storage/segment.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "check.h"
#include "compress/codec.h"
#include "error.h"
#include "record/records.h"

namespace brook::storage {

using namespace brook::record;

// ---- BatchScanner ---------------------------------------------------------------------------

void BatchScanner::Ensure(size_t n) {
  if (pos_ >= buf_pos_ && pos_ + n <= buf_pos_ + buf_.size()) return;
  size_t want = std::max(n, read_size_);
  want = size_t(std::min<uint64_t>(want, end_ - pos_));
  buf_.resize(want);
  size_t got = file_.PRead(buf_.data(), want, pos_);
  buf_.resize(got);
  buf_pos_ = pos_;
  if (got < n) throw Error("IO", "segment " + file_.path() + " is shorter than expected", EIO, file_.path());
}

BatchScanner::Status BatchScanner::Next() {
  if (pos_ >= end_) return Status::kEnd;
  const uint64_t left = end_ - pos_;
  if (left < uint64_t(kMagicReadSize)) return Status::kTorn;
  Ensure(size_t(std::min<uint64_t>(left, kBatchHeaderSize)));
  const uint8_t* h = Header();
  const int64_t size = int64_t(int32_t(LoadBE32(h + kBatchLengthPos))) + kLogOverhead;
  if (size < kBatchHeaderSize) return Status::kCorrupt;
  if (uint64_t(size) > left) return Status::kTorn;
  if (h[kMagicPos] != kMagicV2) return Status::kCorrupt;
  size_ = uint32_t(size);
  return Status::kOk;
}

const uint8_t* BatchScanner::Batch() {
  Ensure(size_);
  return Header();
}

BatchInfo BatchScanner::Info() const {
  BatchHeaderView h{Header()};
  return BatchInfo{pos_,
                   size_,
                   h.BaseOffset(),
                   h.BaseOffset() + h.LastOffsetDelta(),
                   h.MaxTimestamp(),
                   h.BaseTimestamp(),
                   h.ProducerId(),
                   h.ProducerEpoch(),
                   h.BaseSequence(),
                   h.RecordsCount(),
                   h.LeaderEpoch(),
                   h.Attributes()};
}

// ---- Segment --------------------------------------------------------------------------------

std::string Segment::FileName(const std::string& dir, int64_t base_offset, const char* suffix) {
  char name[32];
  std::snprintf(name, sizeof name, "%020" PRId64, base_offset);
  return dir + "/" + name + suffix;
}

Segment::Segment(const std::string& dir, int64_t base_offset, const SegmentOptions& opts, std::shared_ptr<File> log,
                 const std::string& suffix)
    : dir_(dir),
      base_offset_(base_offset),
      opts_(opts),
      log_(std::move(log)),
      offset_index_(FileName(dir, base_offset, ".index") + suffix, base_offset, opts.max_index_entries),
      time_index_(FileName(dir, base_offset, ".timeindex") + suffix, base_offset, opts.max_time_index_entries),
      next_offset_(base_offset) {}

std::unique_ptr<Segment> Segment::Create(const std::string& dir, int64_t base_offset, const SegmentOptions& opts,
                                         int64_t now_ms, const std::string& suffix) {
  auto log = File::Open(FileName(dir, base_offset, ".log") + suffix, true);
  log->Truncate(0);
  std::unique_ptr<Segment> s(new Segment(dir, base_offset, opts, std::move(log), suffix));
  s->offset_index_.CreateEmpty();
  s->time_index_.CreateEmpty();
  return s;
}

std::unique_ptr<Segment> Segment::Open(const std::string& dir, int64_t base_offset, const SegmentOptions& opts) {
  auto log = File::Open(FileName(dir, base_offset, ".log"), false);
  std::unique_ptr<Segment> s(new Segment(dir, base_offset, opts, std::move(log)));
  s->size_ = s->log_->Size();
  return s;
}

void Segment::SetOptions(const SegmentOptions& opts) {
  opts_ = opts;
  offset_index_.set_max_entries(opts.max_index_entries);
  time_index_.set_max_entries(opts.max_time_index_entries);
}

void Segment::IndexBatch(int64_t last_offset, int64_t max_timestamp, uint64_t position, uint32_t size) {
  if (max_timestamp > max_timestamp_) {
    max_timestamp_ = max_timestamp;
    offset_of_max_timestamp_ = last_offset;
  }
  // As Kafka's LogSegment.append: the check comes before this batch's bytes are counted, so a
  // segment's first batch is never indexed and an entry always points at a batch start.
  if (bytes_since_index_entry_ > opts_.index_interval_bytes) {
    if (!offset_index_.WouldOverflow(1)) offset_index_.Append(last_offset, uint32_t(position));
    if (!time_index_.WouldOverflow(1)) time_index_.MaybeAppend(max_timestamp_, offset_of_max_timestamp_);
    bytes_since_index_entry_ = 0;
  }
  bytes_since_index_entry_ += size;
}

void Segment::ResetIndexes() {
  offset_index_.CreateEmpty();
  time_index_.CreateEmpty();
  max_timestamp_ = -1;
  offset_of_max_timestamp_ = -1;
  bytes_since_index_entry_ = 0;
}

bool Segment::LoadClean(int64_t now_ms) {
  if (!offset_index_.Load(size_) || !time_index_.Load()) return false;
  const auto last = offset_index_.Lookup(INT64_MAX);
  if (!time_index_.empty()) {
    max_timestamp_ = time_index_.last().timestamp;
    offset_of_max_timestamp_ = time_index_.last().offset;
  }
  BatchScanner sc(*log_, last.position, size_);
  int64_t next = base_offset_;
  bool first = true;
  for (;;) {
    auto st = sc.Next();
    if (st == BatchScanner::Status::kEnd) break;
    if (st != BatchScanner::Status::kOk) return false;
    BatchInfo b = sc.Info();
    // The indexed batch must be the one the entry names (Kafka's DumpLogSegments check).
    if (first && offset_index_.size() > 0 && b.last_offset != last.offset) return false;
    if (b.base_offset < next || b.last_offset < b.base_offset || b.last_offset - base_offset_ > INT32_MAX) return false;
    first = false;
    if (b.max_timestamp > max_timestamp_) {
      max_timestamp_ = b.max_timestamp;
      offset_of_max_timestamp_ = b.last_offset;
    }
    next = b.last_offset + 1;
    sc.Advance();
  }
  if (!time_index_.empty() && time_index_.last().offset >= next) return false;
  next_offset_ = next;
  bytes_since_index_entry_ = int64_t(size_ - last.position);
  created_ms_ = now_ms;
  if (size_ > 0) {
    const int64_t first_ts = HeaderAt(0).max_timestamp;
    if (first_ts >= 0) created_ms_ = first_ts;
  }
  return true;
}

uint64_t Segment::Recover(int64_t min_offset, int64_t now_ms) {
  ResetIndexes();
  const uint64_t file_size = log_->Size();
  BatchScanner sc(*log_, 0, file_size, 1 << 20);
  int64_t expected = std::max(min_offset, base_offset_);
  uint64_t valid = 0;
  int64_t first_ts = -1;
  while (sc.Next() == BatchScanner::Status::kOk) {
    const uint8_t* batch = sc.Batch();
    if (CheckStoredBatch(batch, sc.size()) != StoredBatchCheck::kOk) break;
    const BatchInfo b = sc.Info();
    if (b.base_offset < expected || b.last_offset - base_offset_ > INT32_MAX) break;
    if (valid == 0) first_ts = b.max_timestamp;
    IndexBatch(b.last_offset, b.max_timestamp, b.position, b.size);
    expected = b.last_offset + 1;
    valid = b.position + b.size;
    sc.Advance();
  }
  if (valid < file_size) log_->Truncate(valid);
  size_ = valid;
  next_offset_ = valid == 0 ? base_offset_ : expected;
  created_ms_ = first_ts >= 0 ? first_ts : now_ms;
  return file_size - valid;
}

void Segment::Append(const uint8_t* buf, size_t len, const std::vector<BatchSpan>& spans, int64_t first_offset,
                     int64_t now_ms, bool* broken) {
  // Offsets continue the segment without a gap or overlap: anything else writes records a read by
  // offset would never find, or finds twice.
  BROOK_CHECK(first_offset == next_offset_, "append at offset " + std::to_string(first_offset) + " to segment " +
                                                std::to_string(base_offset_) + " whose next offset is " +
                                                std::to_string(next_offset_));
  const uint64_t start = size_;
  try {
    log_->PWriteAll(buf, len, start);
  } catch (const Error&) {
    // Part of the write may have landed (a short write before ENOSPC/EFBIG): cut it off so the file
    // ends at the last complete batch, which is what size_ still says.
    try {
      log_->Truncate(start);
    } catch (const Error&) {
      *broken = true;
    }
    throw;
  }
  if (size_ == 0) created_ms_ = now_ms;
  int64_t offset = first_offset;
  uint64_t pos = start;
  for (const auto& s : spans) {
    const int64_t last = offset + s.count - 1;
    IndexBatch(last, s.max_timestamp, pos, s.size);
    pos += s.size;
    offset = last + 1;
  }
  size_ = pos;
  next_offset_ = offset;
}

void Segment::AppendStored(const uint8_t* buf, size_t len, const std::vector<StoredSpan>& spans) {
  // The caller's promise (increasing offsets, gaps allowed, sizes adding up), checked before any
  // byte is written: a cleaner bug must not produce a segment that reads back out of order.
  int64_t prev = next_offset_ - 1;
  uint64_t total = 0;
  for (const auto& s : spans) {
    BROOK_CHECK(s.last_offset > prev && s.last_offset - base_offset_ <= INT32_MAX,
                "stored batch ending at offset " + std::to_string(s.last_offset) + " after offset " +
                    std::to_string(prev) + " in segment " + std::to_string(base_offset_));
    prev = s.last_offset;
    total += s.size;
  }
  BROOK_CHECK(total == len,
              "stored batches of " + std::to_string(total) + " bytes in a buffer of " + std::to_string(len));
  log_->PWriteAll(buf, len, size_);
  uint64_t pos = size_;
  for (const auto& s : spans) {
    IndexBatch(s.last_offset, s.max_timestamp, pos, s.size);
    pos += s.size;
    next_offset_ = s.last_offset + 1;
  }
  size_ = pos;
}

void Segment::RenameLog(const std::string& suffix) { log_->Rename(FileName(dir_, base_offset_, ".log") + suffix); }

void Segment::RenameIndexes(const std::string& suffix) {
  offset_index_.file().Rename(FileName(dir_, base_offset_, ".index") + suffix);
  time_index_.file().Rename(FileName(dir_, base_offset_, ".timeindex") + suffix);
}

uint64_t Segment::FindPosition(int64_t offset) const {
  const auto e = offset_index_.Lookup(offset);
  BatchScanner sc(*log_, e.position, size_, 8 << 10);
  for (;;) {
    auto st = sc.Next();
    if (st == BatchScanner::Status::kEnd) return size_;
    if (st != BatchScanner::Status::kOk) {
      throw Error("IO", "unreadable batch at " + std::to_string(sc.position()) + " in " + log_->path(), EIO,
                  log_->path());
    }
    BatchHeaderView h{sc.Header()};
    if (h.LastOffset() >= offset) return sc.position();
    sc.Advance();
  }
}

uint64_t Segment::BoundaryAtOrBefore(uint64_t start, uint64_t end) const {
  const auto e = offset_index_.LookupPosition(end);
  BatchScanner sc(*log_, std::max<uint64_t>(start, e.position), size_, 8 << 10);
  while (sc.Next() == BatchScanner::Status::kOk && sc.position() + sc.size() <= end) sc.Advance();
  return std::min<uint64_t>(sc.position(), end);
}

BatchInfo Segment::HeaderAt(uint64_t pos) const {
  BatchScanner sc(*log_, pos, size_, kBatchHeaderSize);
  if (sc.Next() != BatchScanner::Status::kOk) {
    throw Error("IO", "unreadable batch at " + std::to_string(pos) + " in " + log_->path(), EIO, log_->path());
  }
  return sc.Info();
}

void Segment::ScanHeaders(uint64_t pos, size_t max, std::vector<BatchInfo>* out) const {
  BatchScanner sc(*log_, pos, size_, 64 << 10);
  size_t n = 0;
  while (n < max && sc.Next() == BatchScanner::Status::kOk) {
    out->push_back(sc.Info());
    sc.Advance();
    n++;
  }
}

std::optional<TimestampOffset> Segment::RecordAtOrAfter(const BatchInfo& b, int64_t ts, int64_t start_offset,
                                                        bool exact_match) const {
  const int64_t first = std::max(b.base_offset, start_offset);
  // LogAppendTime: every record's timestamp is the batch maxTimestamp.
  if (b.attributes & kTimestampTypeBit) return TimestampOffset{b.max_timestamp, first};
  std::vector<uint8_t> batch(b.size);
  log_->PReadAll(batch.data(), b.size, b.position);
  // A compressed CreateTime batch is decompressed, as Kafka's LogSegment.findOffsetByTimestamp
  // does, rather than answered with its base offset, which would hand a consumer records older
  // than it asked for. Appends do not parse record bytes, so a batch whose CRC holds may still
  // not decompress: such a batch answers with its first offset.
  compress::ByteBuffer plain;
  record::RecordsSection records;
  try {
    records = record::PlainRecordsSection(batch.data(), b.size, compress::kDefaultMaxDecompressedSize, plain);
  } catch (const Error&) {
    return TimestampOffset{b.max_timestamp, first};
  }
  std::optional<TimestampOffset> found;
  ForEachRecordTimestamp(batch.data(), records.data, records.size, [&](int64_t offset, int64_t t) {
    if (offset >= start_offset && (exact_match ? t == ts : t >= ts)) {
      found = TimestampOffset{t, offset};
      return false;
    }
    return true;
  });
  // A producer whose maxTimestamp disagrees with its records: answer at batch granularity.
  return found ? found : std::optional<TimestampOffset>(TimestampOffset{b.max_timestamp, first});
}

std::optional<TimestampOffset> Segment::FindOffsetByTimestamp(int64_t ts, int64_t start_offset) const {
  if (max_timestamp_ < ts || size_ == 0) return std::nullopt;
  const int64_t from = time_index_.Lookup(ts);
  const auto e = offset_index_.Lookup(std::max(from, start_offset));
  BatchScanner sc(*log_, e.position, size_, 16 << 10);
  while (sc.Next() == BatchScanner::Status::kOk) {
    const BatchInfo b = sc.Info();
    if (b.max_timestamp >= ts && b.last_offset >= start_offset) return RecordAtOrAfter(b, ts, start_offset, false);
    sc.Advance();
  }
  return std::nullopt;
}

std::optional<TimestampOffset> Segment::MaxTimestampRecord() const {
  if (max_timestamp_ < 0 || size_ == 0) return std::nullopt;
  const uint64_t pos = FindPosition(offset_of_max_timestamp_);
  if (pos >= size_) return std::nullopt;
  return RecordAtOrAfter(HeaderAt(pos), max_timestamp_, base_offset_, true);
}

void Segment::TruncateToPosition(uint64_t pos, int64_t now_ms) {
  log_->Truncate(pos);
  size_ = pos;
  // Rebuild both indexes and the max timestamp from the remaining headers (truncation is rare; the
  // batches were validated when written, so no CRC pass).
  ResetIndexes();
  BatchScanner sc(*log_, 0, size_, 64 << 10);
  int64_t next = base_offset_;
  while (sc.Next() == BatchScanner::Status::kOk) {
    const BatchInfo b = sc.Info();
    IndexBatch(b.last_offset, b.max_timestamp, b.position, b.size);
    next = b.last_offset + 1;
    sc.Advance();
  }
  next_offset_ = next;
  if (size_ == 0) created_ms_ = -1;
}

void Segment::OnRoll() {
  if (max_timestamp_ >= 0) time_index_.MaybeAppend(max_timestamp_, offset_of_max_timestamp_, true);
  PersistIndexes(nullptr);
}

void Segment::PersistIndexes(std::vector<std::shared_ptr<File>>* to_sync) {
  offset_index_.Persist();
  time_index_.Persist();
  // Both files, even when nothing was written now: entries written at roll are still only in the
  // page cache until some flush fsyncs them.
  if (to_sync) {
    if (offset_index_.file().file()) to_sync->push_back(offset_index_.file().file());
    if (time_index_.file().file()) to_sync->push_back(time_index_.file().file());
  }
}

void Segment::RenameForDelete() {
  log_->Rename(log_->path() + ".deleted");
  offset_index_.file().Rename(offset_index_.file().path() + ".deleted");
  time_index_.file().Rename(time_index_.file().path() + ".deleted");
}

std::vector<std::string> Segment::FilePaths() const {
  return {log_->path(), offset_index_.file().path(), time_index_.file().path()};
}

void Segment::CloseAndRemove() {
  if (!log_) return;
  for (const auto& path : FilePaths()) RemoveFile(path);
  Close();
}

void Segment::Close() {
  log_.reset();
  offset_index_.file().Close();
  time_index_.file().Close();
}

int64_t Segment::LargestTimestampForRetention() const {
  if (max_timestamp_ >= 0) return max_timestamp_;
  return FileMtimeMs(log_->path());
}

}  // namespace brook::storage
