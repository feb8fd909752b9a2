#include "storage/log.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <random>

#include "check.h"
#include "error.h"
#include "record/records.h"

namespace brook::storage {

namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool EndsWith(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// "<20 digits><suffix>" -> base offset, or -1.
int64_t ParseSegmentName(const std::string& name, const char* suffix) {
  if (name.size() != 20 + std::strlen(suffix) || !EndsWith(name, suffix)) return -1;
  int64_t v = 0;
  for (size_t i = 0; i < 20; i++) {
    if (name[i] < '0' || name[i] > '9') return -1;
    if (v > (INT64_MAX - 9) / 10) return -1;
    v = v * 10 + (name[i] - '0');
  }
  return v;
}

// Checkpoint files: "0\n<offset>\n" (a version line, then the value). Missing or malformed -> -1.
int64_t ReadCheckpoint(const std::string& path) {
  std::string s;
  if (!ReadSmallFile(path, &s)) return -1;
  if (s.rfind("0\n", 0) != 0) return -1;
  char* end = nullptr;
  const char* num = s.c_str() + 2;
  long long v = std::strtoll(num, &end, 10);
  if (end == num || *end != '\n' || v < 0) return -1;
  return v;
}

std::string CheckpointText(int64_t v) { return "0\n" + std::to_string(v) + "\n"; }

// Checks a leader's batches for Log::AppendAsFollower (log.h has the rules) and fills `spans` with
// each batch's position, size, offset span (lastOffsetDelta + 1, not recordsCount: a compacted
// batch keeps its last offset with fewer records) and maxTimestamp. `next` is the log end offset.
void ValidateLeaderBatches(const uint8_t* buf, size_t len, int64_t next, std::vector<record::BatchSpan>* spans) {
  spans->clear();
  if (len == 0) throw Error("INVALID_RECORD", "no record batches");
  for (size_t pos = 0, i = 0; pos < len; i++) {
    const uint8_t* p = buf + pos;
    const size_t left = len - pos;
    auto at = [&](const std::string& why) {
      return "follower append, batch " + std::to_string(i) + " at byte " + std::to_string(pos) + ": " + why;
    };
    switch (record::CheckStoredBatch(p, left)) {
      case record::StoredBatchCheck::kOk: break;
      case record::StoredBatchCheck::kTorn:
        throw Error("CORRUPT_MESSAGE", at("partial batch (" + std::to_string(left) + " bytes left)"));
      case record::StoredBatchCheck::kCorrupt:
        throw Error("CORRUPT_MESSAGE",
                    at("size below 61, magic other than 2, negative lastOffsetDelta or CRC mismatch"));
    }
    const record::BatchHeaderView h{p};
    const int64_t span = int64_t(h.LastOffsetDelta()) + 1;
    if (h.RecordsCount() < 0 || h.RecordsCount() > span || span > INT32_MAX) {
      throw Error("INVALID_RECORD", at("recordsCount " + std::to_string(h.RecordsCount()) + " with lastOffsetDelta " +
                                       std::to_string(h.LastOffsetDelta())));
    }
    if (h.BaseOffset() != next) {
      throw Error("OFFSET_MISMATCH", at("baseOffset " + std::to_string(h.BaseOffset()) +
                                        " where the log continues at " + std::to_string(next)));
    }
    spans->push_back(record::BatchSpan{pos, uint32_t(h.TotalSize()), int32_t(span), h.MaxTimestamp()});
    next += span;
    pos += size_t(h.TotalSize());
  }
}

}  // namespace

Log::Log(std::string dir, const LogConfig& config)
    : dir_(std::move(dir)), config_(config), checkpoint_(std::make_shared<CheckpointState>()) {
  checkpoint_->path = dir_ + "/" + kRecoveryPointFile;
}

Log::~Log() {
  // Without Close() the log is left as after a crash: files are closed, no marker is written.
  for (auto& [base, seg] : segments_) seg->Close();
}

SegmentOptions Log::segment_options() const {
  SegmentOptions o;
  o.index_interval_bytes = config_.index_interval_bytes;
  o.max_index_entries = size_t(std::max<int64_t>(1, config_.segment_index_bytes / int64_t(OffsetIndex::kEntrySize)));
  o.max_time_index_entries = size_t(std::max<int64_t>(1, config_.segment_index_bytes / int64_t(TimeIndex::kEntrySize)));
  return o;
}

std::unique_ptr<Log> Log::Open(const std::string& dir, const LogConfig& config, int64_t now_ms) {
  std::unique_ptr<Log> log(new Log(dir, config));
  log->Load(now_ms);
  log->roll_jitter_ms_ = log->DrawRollJitter();
  return log;
}

// Kafka's LogLoader, reduced to what Brook writes:
//  0. complete compaction swaps a crash interrupted: `<base>.log.swap` replaces `<base>.log`, whose
//     indexes are deleted to be rebuilt (cleaner.h has the protocol and why this is safe)
//  1. delete leftovers: *.deleted (retention/truncation/compaction that did not finish), *.tmp
//     (checkpoints), *.cleaned (a compaction pass that had not committed), index files without a .log
//  2. a clean-shutdown marker means every segment and index was flushed: trust them (indexes are
//     still sanity-checked); remove the marker durably before anything can be appended
//  3. otherwise recover every segment from the one holding the recovery point onward: validate
//     each batch (CRC included), rebuild indexes, truncate at the first bad batch, and delete all
//     later segments if anything was truncated (their offsets would follow a hole)
//  4. any segment whose index is missing or corrupt is recovered too (without deleting later ones)
//  5. logEndOffset = next offset of the last segment; recovery point = min(checkpoint, LEO)
void Log::Load(int64_t now_ms) {
  MakeDirs(dir_);
  const auto opts = segment_options();
  std::vector<int64_t> bases;
  std::vector<std::string> names = ListDir(dir_);
  CompleteInterruptedSwaps(names);
  names = ListDir(dir_);
  for (const auto& name : names) {
    if (EndsWith(name, ".deleted") || EndsWith(name, ".tmp") || EndsWith(name, ".cleaned") || EndsWith(name, ".swap")) {
      RemoveFile(dir_ + "/" + name);
    } else if (int64_t b = ParseSegmentName(name, ".log"); b >= 0) {
      bases.push_back(b);
    }
  }
  for (const auto& name : names) {
    int64_t b = ParseSegmentName(name, ".index");
    if (b < 0) b = ParseSegmentName(name, ".timeindex");
    if (b >= 0 && std::find(bases.begin(), bases.end(), b) == bases.end()) RemoveFile(dir_ + "/" + name);
  }
  std::sort(bases.begin(), bases.end());

  const std::string marker = dir_ + "/" + kCleanShutdownFile;
  const bool clean = PathExists(marker);
  const int64_t checkpoint = ReadCheckpoint(checkpoint_->path);
  const int64_t persisted_lso = ReadCheckpoint(dir_ + "/" + kLogStartOffsetFile);
  if (clean) {
    RemoveFile(marker);
    FsyncDir(dir_);
  }
  const int64_t rp = std::max<int64_t>(checkpoint, 0);
  // The segment holding the recovery point, and all after it, may hold unflushed bytes.
  int64_t recover_from = INT64_MAX;
  if (!clean) {
    recover_from = bases.empty() ? 0 : bases.front();
    for (int64_t b : bases)
      if (b <= rp) recover_from = b;
  }

  int64_t prev_next = 0;
  bool truncated = false;
  for (int64_t base : bases) {
    if (truncated) {
      for (const char* suffix : {".log", ".index", ".timeindex"}) RemoveFile(Segment::FileName(dir_, base, suffix));
      continue;
    }
    auto seg = Segment::Open(dir_, base, opts);
    if (!clean && base >= recover_from) {
      if (seg->Recover(prev_next, now_ms) > 0) truncated = true;
    } else if (!seg->LoadClean(now_ms)) {
      seg->Recover(prev_next, now_ms);
    }
    prev_next = seg->next_offset();
    segments_.emplace(base, std::move(seg));
  }

  if (segments_.empty()) {
    const int64_t base = std::max<int64_t>(persisted_lso, 0);
    segments_.emplace(base, Segment::Create(dir_, base, opts, now_ms));
    dir_changes_++;
  }
  next_offset_ = active().next_offset();
  if (persisted_lso > next_offset_) {
    // DeleteRecords advanced the start past data that did not survive the crash: start over there.
    for (auto& [b, s] : segments_) s->CloseAndRemove();
    segments_.clear();
    segments_.emplace(persisted_lso, Segment::Create(dir_, persisted_lso, opts, now_ms));
    next_offset_ = persisted_lso;
    dir_changes_++;
  }
  log_start_offset_ = std::max(persisted_lso, segments_.begin()->first);
  log_start_offset_ = std::min(log_start_offset_, next_offset_);
  recovery_point_ = clean ? next_offset_ : std::min(rp, next_offset_);
  checkpoint_->written = checkpoint;
  LoadCleanerCheckpoint();
  CheckInvariants();
}

void Log::CompleteInterruptedSwaps(const std::vector<std::string>& names) {
  bool changed = false;
  for (const auto& name : names) {
    const int64_t base = ParseSegmentName(name, ".log.swap");
    if (base < 0) continue;
    // The .swap is fsynced and complete (the worker fsynced it as .cleaned before the rename). The
    // files under the final names are either the old segment's or, for the indexes, the new
    // segment's: either way they go, and the indexes are rebuilt from the new .log by Recover.
    for (const char* suffix : {".index", ".timeindex", ".index.cleaned", ".timeindex.cleaned", ".log"}) {
      RemoveFile(Segment::FileName(dir_, base, suffix));
    }
    File::Open(dir_ + "/" + name, false)->Rename(Segment::FileName(dir_, base, ".log"));
    changed = true;
  }
  if (changed) FsyncDir(dir_);
}

void Log::CheckOpen() const {
  if (closed_) throw Error("CLOSED", "log " + dir_ + " is closed");
}

void Log::StartAppend() {
  CheckOpen();
  if (broken_) throw Error("IO", "log " + dir_ + " refused appends after a write could not be undone; reopen it");
  if (!pending_deletes_.empty()) ReapDeleted();
}

AppendResult Log::Append(uint8_t* buf, size_t len, int32_t leader_epoch, int64_t now_ms, bool internal) {
  StartAppend();
  record::ValidateClientBatches(buf, len, record::ValidateOptions{config_.max_message_bytes, internal}, &spans_);
  // Records are parsed on append only when a check needs them: compacted logs need keys, and
  // timestamp bounds (CreateTime only: LogAppendTime replaces the timestamps) need timestamps.
  record::RecordChecks checks;
  checks.require_key = config_.cleanup_compact;
  bool check_timestamps = false;
  if (!config_.log_append_time) {
    // INT64_MAX (the default) leaves a side open; the bounds saturate instead of wrapping.
    if (config_.timestamp_before_max_ms != INT64_MAX) {
      check_timestamps = true;
      if (__builtin_sub_overflow(now_ms, config_.timestamp_before_max_ms, &checks.min_timestamp))
        checks.min_timestamp = INT64_MIN;
    }
    if (config_.timestamp_after_max_ms != INT64_MAX) {
      check_timestamps = true;
      if (__builtin_add_overflow(now_ms, config_.timestamp_after_max_ms, &checks.max_timestamp))
        checks.max_timestamp = INT64_MAX;
    }
  }
  if (checks.require_key || check_timestamps) {
    for (const auto& s : spans_) record::CheckRecords(buf + s.pos, s.size, checks);
  }
  int64_t records = 0;
  for (const auto& s : spans_) records += s.count;
  const int64_t first = next_offset_;
  const int64_t last = first + records - 1;
  MaybeRoll(len, last, spans_.size(), now_ms);
  const int64_t log_append_time = config_.log_append_time ? now_ms : -1;
  record::AssignOffsets(buf, spans_, first, leader_epoch, log_append_time);
  return WriteBatches(buf, len, first, last, log_append_time, now_ms);
}

AppendResult Log::AppendAsFollower(const uint8_t* buf, size_t len, int64_t now_ms) {
  StartAppend();
  ValidateLeaderBatches(buf, len, next_offset_, &spans_);
  const int64_t first = next_offset_;
  const record::BatchHeaderView tail{buf + spans_.back().pos};
  const int64_t last = tail.LastOffset();
  MaybeRoll(len, last, spans_.size(), now_ms);
  return WriteBatches(buf, len, first, last, -1, now_ms);
}

AppendResult Log::WriteBatches(const uint8_t* buf, size_t len, int64_t first, int64_t last, int64_t log_append_time,
                               int64_t now_ms) {
  active().Append(buf, len, spans_, first, now_ms, &broken_);
  next_offset_ = last + 1;
  // Offsets, not records, as Kafka counts unflushed messages (log end - recovery point): the two
  // differ only for compacted batches a follower copies.
  unflushed_messages_ += last - first + 1;
  // The whole-log walk (CheckInvariants) would make every append O(log size) in debug builds; an
  // append only moves the active segment's end, so that is what is checked here.
  BROOK_DCHECK(next_offset_ == active().next_offset(), "log end " + std::to_string(next_offset_) +
                                                           " but the active segment ends at " +
                                                           std::to_string(active().next_offset()));
  return AppendResult{first, last, now_ms, log_append_time, unflushed_messages_ >= config_.flush_messages};
}

void Log::MaybeRoll(size_t bytes, int64_t last_offset, size_t batches, int64_t now_ms) {
  if (bytes > size_t(INT32_MAX)) {
    throw Error("MESSAGE_TOO_LARGE", "an append of " + std::to_string(bytes) + " bytes does not fit a segment");
  }
  Segment& a = active();
  if (a.empty()) return;
  const bool roll = a.size() + bytes > uint64_t(config_.segment_bytes) ||           //
                    a.size() + bytes > uint64_t(INT32_MAX) ||                       // positions are int32
                    now_ms - a.created_ms() >= MaxSegmentMs() - roll_jitter_ms_ ||  //
                    a.WouldOverflowIndexes(batches) ||                              //
                    last_offset - a.base_offset() > INT32_MAX;                      // relative offsets are int32
  if (roll) Roll(now_ms);
}

void Log::Roll(int64_t now_ms) {
  active().OnRoll();
  const int64_t base = next_offset_;
  // Segment bases strictly increase: a new segment at or below the active one's base would shadow
  // it in the map (and on disk share its file name).
  BROOK_CHECK(base > segments_.rbegin()->first, "roll to base " + std::to_string(base) +
                                                    " at or below the active segment's " +
                                                    std::to_string(segments_.rbegin()->first));
  std::unique_ptr<Segment> seg;
  try {
    seg = Segment::Create(dir_, base, segment_options(), now_ms);
  } catch (const Error&) {
    // Leave no half-created segment behind (the disk may be full): the old one stays active.
    for (const char* suffix : {".log", ".index", ".timeindex"}) {
      try {
        RemoveFile(Segment::FileName(dir_, base, suffix));
      } catch (const Error&) {
      }
    }
    throw;
  }
  segments_.emplace(base, std::move(seg));
  dir_changes_++;
  roll_jitter_ms_ = DrawRollJitter();
}

int64_t Log::MaxSegmentMs() const {
  return config_.cleanup_compact ? std::min(config_.segment_ms, config_.max_compaction_lag_ms) : config_.segment_ms;
}

int64_t Log::DrawRollJitter() const {
  const int64_t bound = std::min(config_.segment_jitter_ms, MaxSegmentMs());
  if (bound <= 0) return 0;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return int64_t(rng() % uint64_t(bound));
}

std::vector<Slice> Log::Read(int64_t offset, int64_t max_bytes, int64_t up_to) {
  CheckOpen();
  if (!pending_deletes_.empty()) ReapDeleted();
  if (offset < log_start_offset_ || offset > next_offset_) {
    throw Error("OFFSET_OUT_OF_RANGE", "offset " + std::to_string(offset) + " is outside [" +
                                           std::to_string(log_start_offset_) + ", " + std::to_string(next_offset_) +
                                           "]");
  }
  if (up_to < 0 || up_to > next_offset_) up_to = next_offset_;
  std::vector<Slice> slices;
  if (offset >= up_to) return slices;
  uint64_t remaining = uint64_t(std::max<int64_t>(max_bytes, 0));
  bool first = true;
  auto it = std::prev(segments_.upper_bound(offset));
  uint64_t pos = it->second->FindPosition(offset);
  for (; it != segments_.end(); ++it, pos = 0) {
    const Segment& s = *it->second;
    const uint64_t limit = up_to >= s.next_offset() ? s.size() : s.FindPosition(up_to);
    if (pos < limit) {
      uint64_t end;
      if (first) {
        // KIP-74: the first batch goes out whole even when it is larger than max_bytes, so a
        // consumer can always make progress.
        const BatchInfo h = s.HeaderAt(pos);
        if (pos + h.size > limit) break;
        end = std::max<uint64_t>(pos + h.size, s.BoundaryAtOrBefore(pos, std::min(limit, pos + remaining)));
      } else {
        end = s.BoundaryAtOrBefore(pos, std::min(limit, pos + remaining));
      }
      if (end > pos) {
        slices.push_back(Slice{s.log_file(), pos, end - pos});
        remaining -= std::min(remaining, end - pos);
        first = false;
      }
      if (end < limit) break;  // out of budget inside this segment
    }
    if (up_to <= s.next_offset() || remaining == 0) break;
  }
  return slices;
}

void Log::CopySlices(const std::vector<Slice>& slices, uint8_t* out) {
  for (const auto& s : slices) {
    s.file->PReadAll(out, size_t(s.length), s.position);
    out += s.length;
  }
}

std::optional<TimestampOffset> Log::OffsetForTimestamp(int64_t ts) {
  CheckOpen();
  for (auto& [base, seg] : segments_) {
    if (seg->next_offset() <= log_start_offset_ || seg->max_timestamp() < ts) continue;
    if (auto r = seg->FindOffsetByTimestamp(ts, log_start_offset_)) return r;
  }
  return std::nullopt;
}

std::optional<TimestampOffset> Log::MaxTimestamp() {
  CheckOpen();
  const Segment* best = nullptr;
  for (auto& [base, seg] : segments_) {
    if (seg->next_offset() <= log_start_offset_) continue;
    if (best == nullptr || seg->max_timestamp() > best->max_timestamp()) best = seg.get();
  }
  if (best == nullptr) return std::nullopt;
  return best->MaxTimestampRecord();
}

std::vector<BatchInfo> Log::BatchHeaders(int64_t from_offset, size_t max) {
  CheckOpen();
  if (from_offset > next_offset_) {
    throw Error("OFFSET_OUT_OF_RANGE",
                "offset " + std::to_string(from_offset) + " is past the log end " + std::to_string(next_offset_));
  }
  from_offset = std::max(from_offset, log_start_offset_);
  std::vector<BatchInfo> out;
  if (from_offset == next_offset_) return out;
  auto it = std::prev(segments_.upper_bound(from_offset));
  uint64_t pos = it->second->FindPosition(from_offset);
  for (; it != segments_.end() && out.size() < max; ++it, pos = 0) it->second->ScanHeaders(pos, max - out.size(), &out);
  return out;
}

FlushPlan Log::PrepareFlush() {
  CheckOpen();
  FlushPlan plan;
  plan.dir = dir_;
  plan.checkpoint = checkpoint_;
  plan.target = next_offset_;
  plan.messages = unflushed_messages_;
  plan.dir_changes = dir_changes_;
  plan.sync_dir = dir_changes_ != dir_changes_synced_;
  {
    std::lock_guard<std::mutex> lock(checkpoint_->mu);
    plan.epoch = checkpoint_->epoch;
  }
  // The segment holding the recovery point and everything after it may have unflushed bytes.
  auto it = std::prev(segments_.upper_bound(std::max(recovery_point_, segments_.begin()->first)));
  for (; it != segments_.end(); ++it) {
    it->second->PersistIndexes(&plan.files);
    plan.files.push_back(it->second->log_file());
  }
  return plan;
}

void Log::RunFlush(FlushPlan& plan) {
  for (const auto& f : plan.files) f->DataSync();
  if (plan.sync_dir) FsyncDir(plan.dir);
  std::lock_guard<std::mutex> lock(plan.checkpoint->mu);
  if (plan.epoch != plan.checkpoint->epoch || plan.target <= plan.checkpoint->written) return;
  WriteFileAtomic(plan.checkpoint->path, CheckpointText(plan.target));
  plan.checkpoint->written = plan.target;
}

void Log::CompleteFlush(const FlushPlan& plan) {
  {
    std::lock_guard<std::mutex> lock(checkpoint_->mu);
    if (plan.epoch != checkpoint_->epoch) return;
  }
  recovery_point_ = std::max(recovery_point_, std::min(plan.target, next_offset_));
  unflushed_messages_ = std::max<int64_t>(0, unflushed_messages_ - plan.messages);
  if (plan.sync_dir) dir_changes_synced_ = std::max(dir_changes_synced_, plan.dir_changes);
}

void Log::Flush() {
  FlushPlan plan = PrepareFlush();
  RunFlush(plan);
  CompleteFlush(plan);
}

void Log::WriteCheckpointNow(int64_t recovery_point) {
  std::lock_guard<std::mutex> lock(checkpoint_->mu);
  checkpoint_->epoch++;
  WriteFileAtomic(checkpoint_->path, CheckpointText(recovery_point));
  checkpoint_->written = recovery_point;
}

void Log::TruncateTo(int64_t offset, int64_t now_ms) {
  CheckOpen();
  if (offset < log_start_offset_ || offset > next_offset_) {
    throw Error("OFFSET_OUT_OF_RANGE", "cannot truncate to " + std::to_string(offset) + " outside [" +
                                           std::to_string(log_start_offset_) + ", " + std::to_string(next_offset_) +
                                           "]");
  }
  if (offset == next_offset_) return;
  // Lower the durable point first, so a crash mid-truncation never trusts dropped bytes.
  recovery_point_ = std::min(recovery_point_, offset);
  WriteCheckpointNow(recovery_point_);
  // A compaction pass in flight mapped records that are about to go: its result is discarded. The
  // cleaner checkpoint must not claim offsets that will be written again (Kafka's
  // maybeTruncateCheckpoint).
  clean_generation_++;
  if (clean_offset_ > offset) {
    clean_offset_ = offset;
    WriteCleanerCheckpoint();
  }
  // Segments starting at or after offset go away entirely (the first one only if a new empty
  // segment replaces it); the one containing offset is cut at the batch holding offset.
  auto first_gone = segments_.lower_bound(offset);
  if (first_gone == segments_.begin()) {
    // offset == the first segment's base: start over with an empty segment there.
    // (Rename the old files first: the new segment has the same name.)
    while (!segments_.empty()) ScheduleDelete(segments_.begin());
    segments_.emplace(offset, Segment::Create(dir_, offset, segment_options(), now_ms));
  } else {
    while (segments_.lower_bound(offset) != segments_.end()) ScheduleDelete(segments_.lower_bound(offset));
    Segment& s = active();
    s.TruncateToPosition(s.FindPosition(offset), now_ms);
  }
  dir_changes_++;
  next_offset_ = active().next_offset();
  recovery_point_ = std::min(recovery_point_, next_offset_);
  unflushed_messages_ = 0;  // conservative: the next flush covers whatever is appended next
  ReapDeleted();
  CheckInvariants();
}

void Log::DeleteRecordsBefore(int64_t offset, int64_t now_ms) {
  CheckOpen();
  if (offset > next_offset_ || offset < 0) {
    throw Error("OFFSET_OUT_OF_RANGE", "cannot delete records before " + std::to_string(offset) + ": log end is " +
                                           std::to_string(next_offset_));
  }
  if (offset <= log_start_offset_) return;
  WriteFileAtomic(dir_ + "/" + kLogStartOffsetFile, CheckpointText(offset));
  log_start_offset_ = offset;
  while (segments_.begin()->second->next_offset() <= log_start_offset_) {
    if (segments_.size() == 1) {
      if (active().empty()) break;
      Roll(now_ms);
    }
    ScheduleDelete(segments_.begin());
  }
  ReapDeleted();
  CheckInvariants();
}

int Log::ApplyRetention(int64_t now_ms, int64_t upper_bound) {
  CheckOpen();
  ReapDeleted();
  if (upper_bound < 0 || upper_bound > next_offset_) upper_bound = next_offset_;
  int deleted = 0;
  auto deletable = [&](const Segment& s) { return segments_.size() > 1 && s.next_offset() <= upper_bound; };
  if (!config_.cleanup_delete) return 0;  // compact-only: the cleaner alone removes records
  if (config_.retention_ms >= 0) {
    while (deletable(*segments_.begin()->second) &&
           now_ms - segments_.begin()->second->LargestTimestampForRetention() > config_.retention_ms) {
      ScheduleDelete(segments_.begin());
      deleted++;
    }
  }
  if (config_.retention_bytes >= 0) {
    int64_t diff = int64_t(size_bytes()) - config_.retention_bytes;
    while (deletable(*segments_.begin()->second) && diff - int64_t(segments_.begin()->second->size()) >= 0) {
      diff -= int64_t(segments_.begin()->second->size());
      ScheduleDelete(segments_.begin());
      deleted++;
    }
  }
  log_start_offset_ = std::max(log_start_offset_, segments_.begin()->first);
  if (deleted > 0) ReapDeleted();
  CheckInvariants();
  return deleted;
}

void Log::ScheduleDelete(std::map<int64_t, std::unique_ptr<Segment>>::iterator it) {
  Retire(std::move(it->second));
  segments_.erase(it);
}

void Log::Retire(std::unique_ptr<Segment> segment) {
  segment->RenameForDelete();
  pending_deletes_.push_back(PendingDelete{SteadyMs() + config_.file_delete_delay_ms, segment->FilePaths()});
  dir_changes_++;
  // `segment` dies here: its files close now unless a fetch slice still holds one (FileRef).
}

void Log::ReapDeleted(bool all) {
  const int64_t now = SteadyMs();
  for (auto it = pending_deletes_.begin(); it != pending_deletes_.end();) {
    if (all || it->deadline_ms <= now) {
      for (const auto& path : it->paths) RemoveFile(path);
      it = pending_deletes_.erase(it);
    } else {
      ++it;
    }
  }
}

void Log::UpdateConfig(const LogConfig& config) {
  CheckOpen();
  const int64_t max_segment_ms = MaxSegmentMs();
  const int64_t jitter_ms = config_.segment_jitter_ms;
  config_ = config;
  const bool jitter_changed = config_.segment_jitter_ms != jitter_ms || MaxSegmentMs() != max_segment_ms;
  if (jitter_changed) roll_jitter_ms_ = DrawRollJitter();
  const auto opts = segment_options();
  for (auto& [base, seg] : segments_) seg->SetOptions(opts);
}

uint64_t Log::size_bytes() const {
  uint64_t n = 0;
  for (const auto& [base, seg] : segments_) n += seg->size();
  return n;
}

void Log::CheckInvariants() const {
  BROOK_DCHECK(!segments_.empty(), "a log without segments: " + dir_);
  BROOK_DCHECK(segments_.begin()->first <= log_start_offset_ && log_start_offset_ <= next_offset_,
               "log start offset " + std::to_string(log_start_offset_) + " outside [" +
                   std::to_string(segments_.begin()->first) + ", " + std::to_string(next_offset_) + "]");
  BROOK_DCHECK(recovery_point_ <= next_offset_, "recovery point " + std::to_string(recovery_point_) +
                                                    " past the log end " + std::to_string(next_offset_));
#ifdef BROOK_DCHECK_ON
  BROOK_DCHECK(next_offset_ == segments_.rbegin()->second->next_offset(),
               "log end " + std::to_string(next_offset_) + " but the active segment ends at " +
                   std::to_string(segments_.rbegin()->second->next_offset()));
  const Segment* prev = nullptr;
  for (const auto& [base, seg] : segments_) {
    BROOK_DCHECK(seg->base_offset() == base && seg->next_offset() >= base,
                 "segment " + std::to_string(seg->base_offset()) + " filed under " + std::to_string(base) +
                     " ends at " + std::to_string(seg->next_offset()));
    BROOK_DCHECK(prev == nullptr || (prev->base_offset() < base && prev->next_offset() <= base),
                 "segment " + std::to_string(base) + " overlaps its predecessor " +
                     std::to_string(prev->base_offset()) + " (ending at " + std::to_string(prev->next_offset()) + ")");
    const OffsetIndex& oi = seg->offset_index();
    for (size_t i = 0; i < oi.size(); i++) {
      BROOK_DCHECK(
          oi[i].offset >= base && oi[i].offset < seg->next_offset() && oi[i].position < seg->size() &&
              (i == 0 || (oi[i].offset > oi[i - 1].offset && oi[i].position > oi[i - 1].position)),
          "offset index entry " + std::to_string(i) + " of segment " + std::to_string(base) + " out of order or range");
    }
    const TimeIndex& ti = seg->time_index();
    for (size_t i = 1; i < ti.size(); i++) {
      BROOK_DCHECK(ti[i].timestamp > ti[i - 1].timestamp && ti[i].offset >= ti[i - 1].offset,
                   "time index entry " + std::to_string(i) + " of segment " + std::to_string(base) + " out of order");
    }
    prev = seg.get();
  }
#endif
}

std::vector<int64_t> Log::SegmentBaseOffsets() const {
  std::vector<int64_t> v;
  for (const auto& [base, seg] : segments_) v.push_back(base);
  return v;
}

void Log::Close() {
  if (closed_) return;
  std::exception_ptr failure;
  try {
    active().OnRoll();  // final time-index entry, as Kafka's LogSegment.close
    Flush();
    // Only once everything is durable: the marker tells the next Open to skip recovery.
    WriteFileAtomic(dir_ + "/" + kCleanShutdownFile, "");
  } catch (...) {
    failure = std::current_exception();  // no marker: the next Open recovers
  }
  closed_ = true;
  for (auto& [base, seg] : segments_) seg->Close();
  try {
    ReapDeleted(true);
  } catch (const Error&) {
    // a .deleted file that cannot be unlinked is removed by the next Open
  }
  if (failure) std::rethrow_exception(failure);
}

void Log::Delete() {
  {
    std::lock_guard<std::mutex> lock(checkpoint_->mu);
    checkpoint_->epoch++;  // an in-flight flush must not recreate the checkpoint file
  }
  closed_ = true;
  for (auto& [base, seg] : segments_) seg->Close();
  segments_.clear();
  pending_deletes_.clear();  // RemoveTree unlinks them with the rest
  RemoveTree(dir_);
}

}  // namespace brook::storage
