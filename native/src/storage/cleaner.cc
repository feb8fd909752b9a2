// Log compaction: the worker half (RunClean) and the Log methods that prepare and complete a pass.
// cleaner.h explains the sections, the batch rules, the swap protocol and the tombstone rule.
#include "storage/cleaner.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "error.h"
#include "record/batch_header.h"
#include "record/records.h"
#include "storage/log.h"

namespace brook::storage {

using compress::ByteBuffer;
using namespace brook::record;

// ---- OffsetMap --------------------------------------------------------------------------------

OffsetMap::OffsetMap() : slots_(1024) {}

uint64_t OffsetMap::Hash(const uint8_t* key, size_t len) {
  const uint64_t h = std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(key), len));
  return h | 1;  // never 0, which marks an empty slot
}

size_t OffsetMap::Find(uint64_t hash, const uint8_t* key, size_t len) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = size_t(hash) & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.hash == 0) return i;
    if (s.hash == hash && s.key_len == len && std::memcmp(arena_.data() + s.key_pos, key, len) == 0) return i;
  }
}

void OffsetMap::Grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.hash == 0) continue;
    size_t i = size_t(s.hash) & mask;
    while (slots_[i].hash != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void OffsetMap::Put(const uint8_t* key, size_t len, int64_t offset) {
  if (len > UINT32_MAX) throw Error("INVALID_RECORD", "key too large");
  const uint64_t h = Hash(key, len);
  Slot& s = slots_[Find(h, key, len)];
  if (s.hash != 0) {
    s.offset = std::max(s.offset, offset);
    return;
  }
  s = Slot{h, arena_.size(), uint32_t(len), offset};
  arena_.insert(arena_.end(), key, key + len);
  // Load factor <= 1/2 keeps probe chains short; growth happens before the next insert can fail.
  if (++size_ * 2 > slots_.size()) Grow();
}

int64_t OffsetMap::Get(const uint8_t* key, size_t len) const {
  const Slot& s = slots_[Find(Hash(key, len), key, len)];
  return s.hash == 0 ? -1 : s.offset;
}

// ---- The worker ---------------------------------------------------------------------------------

namespace {

// Larger than any batch a producer can send within max.message.bytes at sane compression ratios;
// a batch that inflates beyond it fails the pass (CODEC_ERROR) rather than exhaust memory.
constexpr size_t kMaxDecompressed = size_t(256) << 20;
constexpr size_t kWriteChunk = 1 << 20;

void CheckCancel(const CleanPlan& plan) {
  if (plan.cancel->load(std::memory_order_relaxed))
    throw Error("CANCELLED", "compaction of " + plan.dir + " was cancelled");
}

[[noreturn]] void Unreadable(const CleanInput& in, uint64_t pos) {
  throw Error("CORRUPT_MESSAGE", "compaction: unreadable batch at " + std::to_string(pos) + " in " + in.log->path(), 0,
              in.log->path());
}

// Calls fn(scanner) for every batch of a closed segment, in order.
template <typename F>
void ForEachBatch(const CleanInput& in, size_t read_size, F&& fn) {
  BatchScanner sc(*in.log, 0, in.size, read_size);
  for (;;) {
    const auto st = sc.Next();
    if (st == BatchScanner::Status::kEnd) return;
    if (st != BatchScanner::Status::kOk) Unreadable(in, sc.position());
    fn(sc);
    sc.Advance();
  }
}

DecodedBatches DecodeOne(const uint8_t* batch, size_t size) {
  DecodeOptions o;
  o.max_decompressed_size = kMaxDecompressed;
  o.verify_crc = true;  // never re-sign damaged bytes with a fresh CRC
  return DecodeBatches(batch, size, o);
}

const uint8_t* SourceOf(const DecodedBatches& d, const uint8_t* input) {
  const int32_t src = d.batches[0].source;
  return src < 0 ? input : d.buffers[size_t(src)].data();
}

// A transactional data batch of an aborted transaction (cleaner.h, "Transactions").
bool IsAborted(const CleanPlan& plan, const BatchHeaderView& h) {
  if (!h.IsTransactional() || h.IsControl()) return false;
  const auto it = plan.aborted.find(h.ProducerId());
  if (it == plan.aborted.end()) return false;
  const int64_t base = h.BaseOffset();
  for (const auto& [first, last] : it->second) {
    if (first <= base && base <= last) return true;
  }
  return false;
}

// Step 2a: key -> latest offset over the dirty segments, within the memory budget.
size_t MapDirty(CleanPlan& plan, OffsetMap& map) {
  size_t end = plan.first_dirty_index;
  while (end < plan.segments.size()) {
    const CleanInput& in = plan.segments[end];
    ForEachBatch(in, 1 << 20, [&](BatchScanner& sc) {
      const uint8_t* b = sc.Batch();
      // Markers' keys are not data keys, and aborted records supersede nothing.
      const BatchHeaderView h{b};
      if (h.IsControl() || IsAborted(plan, h)) return;
      const DecodedBatches d = DecodeOne(b, sc.size());
      const uint8_t* src = SourceOf(d, b);
      for (const DecodedRecord& r : d.records) {
        if (r.key_len >= 0) map.Put(src + r.key_pos, size_t(r.key_len), r.offset);
      }
      CheckCancel(plan);
    });
    end++;
    plan.stats.segments_mapped++;
    if (map.memory() >= plan.map_bytes) break;  // soft budget: at least one segment is mapped
  }
  return end;
}

struct SegmentState {
  const CleanPlan& plan;
  const OffsetMap& map;
  const std::unordered_set<int64_t>& later_producers;  // have a batch in a later segment
  std::unordered_map<int64_t, int64_t> last_batch;     // producer -> last offset of its last data batch here
  bool changed = false;
};

// What happens to one batch: appended to `out` (copied, rebuilt, or header-only) or nothing.
void FilterBatch(CleanPlan& plan, SegmentState& st, const uint8_t* b, uint32_t size, ByteBuffer& out,
                 std::vector<StoredSpan>& spans) {
  const BatchHeaderView h{b};
  const int64_t last_offset = h.LastOffset();
  if (h.IsControl()) {
    // A transaction marker: kept as it is, forever (cleaner.h, "Transactions").
    out.Append(b, size);
    spans.push_back(StoredSpan{size, last_offset, h.MaxTimestamp()});
    return;
  }
  const DecodedBatches d = DecodeOne(b, size);
  const uint8_t* src = SourceOf(d, b);
  const int64_t pid = h.ProducerId();
  // Is this the last data batch of its idempotent producer among the segments this pass reads?
  auto producers_last = [&] {
    if (pid < 0 || st.later_producers.count(pid)) return false;
    const auto it = st.last_batch.find(pid);
    return it != st.last_batch.end() && it->second == last_offset;
  };
  auto drop_or_keep_header = [&] {
    st.changed = true;
    if (!producers_last()) {
      plan.stats.batches_dropped++;
      return;
    }
    const ByteBuffer empty = BuildHeaderOnlyBatch(b);
    out.Append(empty.data(), empty.size());
    spans.push_back(StoredSpan{uint32_t(empty.size()), last_offset, h.MaxTimestamp()});
    plan.stats.empty_batches_kept++;
  };
  if (!d.records.empty() && IsAborted(plan, h)) {
    const auto n = int64_t(d.records.size());
    plan.stats.records_read += n;
    plan.stats.records_dropped += n;
    plan.stats.aborted_records_dropped += n;
    drop_or_keep_header();
    return;
  }
  if (d.records.empty()) {
    // A header-only batch left by an earlier pass: it stays while it is the producer's last.
    if (producers_last()) {
      out.Append(b, size);
      spans.push_back(StoredSpan{size, last_offset, h.MaxTimestamp()});
    } else {
      st.changed = true;
      plan.stats.batches_dropped++;
    }
    return;
  }
  const bool has_horizon = h.Attributes() & kDeleteHorizonBit;
  const int64_t horizon = has_horizon ? h.BaseTimestamp() : plan.now_ms + plan.delete_retention_ms;

  std::vector<uint32_t> kept;
  kept.reserve(d.records.size());
  size_t kept_tombstones = 0;
  for (uint32_t i = 0; i < d.records.size(); i++) {
    const DecodedRecord& r = d.records[i];
    plan.stats.records_read++;
    bool keep;
    if (r.key_len < 0) {
      keep = false;  // Kafka's cleaner drops records without a key
    } else if (st.map.Get(src + r.key_pos, size_t(r.key_len)) > r.offset) {
      keep = false;
    } else if (r.value_len < 0) {
      // The latest record of its key is a tombstone: kept until its horizon has passed, and only
      // dropped below the checkpoint this pass started from (cleaner.h, "Tombstones").
      keep = !(has_horizon && plan.now_ms >= horizon && r.offset < plan.clean_offset);
      if (!keep) plan.stats.tombstones_dropped++;
    } else {
      keep = true;
    }
    if (keep) {
      kept.push_back(i);
      if (r.value_len < 0) kept_tombstones++;
    }
  }
  plan.stats.records_dropped += int64_t(d.records.size() - kept.size());
  if (kept_tombstones > 0) plan.next_horizon = std::min(plan.next_horizon, horizon);

  if (kept.size() == d.records.size() && (kept_tombstones == 0 || has_horizon)) {
    out.Append(b, size);  // unchanged: byte for byte
    spans.push_back(StoredSpan{size, last_offset, h.MaxTimestamp()});
    return;
  }
  if (kept.empty()) {
    drop_or_keep_header();
    return;
  }
  st.changed = true;

  BatchBuilder builder;
  if (kept_tombstones > 0) builder.SetBaseTimestamp(horizon);
  std::vector<HeaderInput> headers;
  for (uint32_t i : kept) {
    const DecodedRecord& r = d.records[i];
    headers.clear();
    for (uint32_t k = 0; k < r.header_count; k++) {
      const DecodedHeader& dh = d.headers[r.first_header + k];
      headers.push_back(HeaderInput{src + dh.key_pos, dh.key_len, src + dh.value_pos, dh.value_len});
    }
    builder.AddAt(int32_t(r.offset - h.BaseOffset()), r.timestamp, src + r.key_pos, r.key_len, src + r.value_pos,
                  r.value_len, headers.data(), headers.size());
  }
  BuildOptions o;
  o.codec = h.CompressionCodec();
  o.base_offset = h.BaseOffset();
  o.partition_leader_epoch = h.LeaderEpoch();
  o.producer_id = h.ProducerId();
  o.producer_epoch = h.ProducerEpoch();
  o.base_sequence = h.BaseSequence();
  o.transactional = h.IsTransactional();
  o.control = h.IsControl();
  o.log_append_time = h.IsLogAppendTime();
  o.log_append_time_ms = h.MaxTimestamp();
  o.last_offset_delta = h.LastOffsetDelta();
  o.delete_horizon = kept_tombstones > 0;
  const ByteBuffer rebuilt = builder.Finish(o);
  const BatchHeaderView nh{rebuilt.data()};
  out.Append(rebuilt.data(), rebuilt.size());
  spans.push_back(StoredSpan{uint32_t(rebuilt.size()), last_offset, nh.MaxTimestamp()});
  plan.stats.batches_rebuilt++;
}

// Step 2b for one segment. Adds an output when something changed.
void CleanSegment(CleanPlan& plan, const CleanInput& in, const OffsetMap& map,
                  std::unordered_set<int64_t>& later_producers) {
  SegmentState st{plan, map, later_producers, {}, false};
  // Headers first (the same bytes are read again just after, from the page cache): which batch is
  // each idempotent producer's last data batch in this segment (markers carry no sequence).
  ForEachBatch(in, 64 << 10, [&](BatchScanner& sc) {
    const BatchHeaderView h{sc.Header()};
    if (h.ProducerId() >= 0 && !h.IsControl()) st.last_batch[h.ProducerId()] = h.LastOffset();
  });
  plan.stats.bytes_read += in.size;

  auto seg = Segment::Create(plan.dir, in.base, plan.segment_options, plan.now_ms, ".cleaned");
  try {
    ByteBuffer out;
    std::vector<StoredSpan> spans;
    ForEachBatch(in, 1 << 20, [&](BatchScanner& sc) {
      FilterBatch(plan, st, sc.Batch(), sc.size(), out, spans);
      if (out.size() >= kWriteChunk) {
        seg->AppendStored(out.data(), out.size(), spans);
        out.Resize(0);
        spans.clear();
      }
      CheckCancel(plan);
    });
    if (!spans.empty()) seg->AppendStored(out.data(), out.size(), spans);
    for (const auto& [pid, last] : st.last_batch) later_producers.insert(pid);
    if (!st.changed) {
      seg->CloseAndRemove();
      return;
    }
    CleanOutput result{in.base, in.log, in.size, nullptr};
    if (seg->empty()) {
      seg->CloseAndRemove();
    } else {
      // Retention by time falls back to the modification time for segments without timestamps:
      // the cleaned copy keeps the original's (Kafka does the same).
      seg->log_file()->SetMtimeMs(in.log->MtimeMs());
      seg->OnRoll();
      std::vector<std::shared_ptr<File>> files{seg->log_file()};
      seg->PersistIndexes(&files);
      for (const auto& f : files) f->DataSync();
      result.cleaned = std::move(seg);
    }
    plan.outputs.push_back(std::move(result));
  } catch (...) {
    if (seg) seg->CloseAndRemove();
    throw;
  }
}

}  // namespace

void RunClean(CleanPlan& plan) {
  try {
    OffsetMap map;
    const size_t mapped_end = MapDirty(plan, map);
    plan.stats.map_keys = map.size();
    plan.stats.map_memory = map.memory();
    plan.cleaned_up_to = mapped_end < plan.segments.size() ? plan.segments[mapped_end].base : plan.dirty_end;
    // Never backwards (the first dirty segment may be held back by the compaction lag while the
    // checkpoint sits inside it after a truncation).
    plan.cleaned_up_to = std::max(plan.cleaned_up_to, plan.clean_offset);
    // Rewrite from the last mapped segment back to the log start: going backwards tells each
    // segment which producers have a batch further on (for the header-only batch rule).
    std::unordered_set<int64_t> later_producers;
    for (size_t i = mapped_end; i-- > 0;) CleanSegment(plan, plan.segments[i], map, later_producers);
    std::reverse(plan.outputs.begin(), plan.outputs.end());
  } catch (...) {
    DiscardClean(plan);
    throw;
  }
}

void DiscardClean(CleanPlan& plan) {
  for (auto& o : plan.outputs) {
    if (!o.cleaned) continue;
    try {
      o.cleaned->CloseAndRemove();
    } catch (const Error&) {
      // a .cleaned file that cannot be removed now is removed by the next Open
    }
    o.cleaned.reset();
  }
  plan.outputs.clear();
}

// ---- Log: prepare and complete ----------------------------------------------------------------

namespace {

// "0\n<clean offset>\n<horizon or -1>\n"; a missing or malformed file reads as {-1, -1}.
void ReadCleanerCheckpoint(const std::string& path, int64_t* offset, int64_t* horizon) {
  *offset = *horizon = -1;
  std::string s;
  if (!ReadSmallFile(path, &s) || s.rfind("0\n", 0) != 0) return;
  const char* p = s.c_str() + 2;
  char* end = nullptr;
  const long long off = std::strtoll(p, &end, 10);
  if (end == p || *end != '\n' || off < 0) return;
  p = end + 1;
  const long long hz = std::strtoll(p, &end, 10);
  if (end == p || *end != '\n') return;
  *offset = off;
  *horizon = hz;
}

}  // namespace

void Log::LoadCleanerCheckpoint() {
  int64_t offset, horizon;
  ReadCleanerCheckpoint(dir_ + "/" + kCleanerCheckpointFile, &offset, &horizon);
  clean_offset_ = std::clamp<int64_t>(offset, log_start_offset_, next_offset_);
  tombstone_horizon_ = horizon < 0 ? INT64_MAX : horizon;
}

void Log::WriteCleanerCheckpoint() {
  const int64_t horizon = tombstone_horizon_ == INT64_MAX ? -1 : tombstone_horizon_;
  WriteFileAtomic(dir_ + "/" + kCleanerCheckpointFile,
                  "0\n" + std::to_string(clean_offset_) + "\n" + std::to_string(horizon) + "\n");
}

CleanableInfo Log::Cleanable(int64_t now_ms, int64_t up_to) const {
  CheckOpen();
  CleanableInfo info;
  if (up_to < 0 || up_to > next_offset_) up_to = next_offset_;
  info.first_dirty = std::max(clean_offset_, log_start_offset_);
  info.first_uncleanable = segments_.rbegin()->first;  // the active segment
  for (const auto& [base, seg] : segments_) {
    if (seg.get() == segments_.rbegin()->second.get()) break;
    if (seg->next_offset() <= info.first_dirty) {
      info.clean_bytes += seg->size();
      continue;
    }
    // Dirty, if cleanable: entirely below the high watermark and older than the compaction lag.
    const bool lagging =
        config_.min_compaction_lag_ms > 0 && seg->max_timestamp() > now_ms - config_.min_compaction_lag_ms;
    if (seg->next_offset() > up_to || lagging) {
      info.first_uncleanable = base;
      break;
    }
    info.dirty_bytes += seg->size();
    // KIP-354: the first batch's timestamp says how long this segment's records have waited.
    if (config_.max_compaction_lag_ms != INT64_MAX && !info.compaction_overdue && seg->size() > 0) {
      const int64_t first_ts = seg->HeaderAt(0).max_timestamp;
      info.compaction_overdue = first_ts >= 0 && first_ts < now_ms - config_.max_compaction_lag_ms;
    }
  }
  const uint64_t total = info.clean_bytes + info.dirty_bytes;
  info.dirty_ratio = total == 0 ? 0 : double(info.dirty_bytes) / double(total);
  info.tombstones_due = tombstone_horizon_ != INT64_MAX && now_ms >= tombstone_horizon_;
  info.eligible =
      config_.cleanup_compact &&
      ((info.dirty_bytes > 0 && (info.dirty_ratio >= config_.min_cleanable_dirty_ratio || info.compaction_overdue)) ||
       info.tombstones_due);
  return info;
}

std::unique_ptr<CleanPlan> Log::PrepareClean(const CleanOptions& o, CleanStats* stats) {
  CheckOpen();
  *stats = CleanStats{};
  if (!config_.cleanup_compact) {
    stats->skipped = "not-compacted";
    return nullptr;
  }
  if (cleaning_) {
    stats->skipped = "busy";
    return nullptr;
  }
  const CleanableInfo info = Cleanable(o.now_ms, o.up_to);
  stats->dirty_ratio = info.dirty_ratio;
  stats->clean_bytes = info.clean_bytes;
  stats->dirty_bytes = info.dirty_bytes;
  stats->first_dirty = stats->cleaned_up_to = info.first_dirty;
  if (info.dirty_bytes == 0 && !info.tombstones_due && !(o.force && info.clean_bytes > 0)) {
    stats->skipped = "nothing-to-clean";
    return nullptr;
  }
  if (!o.force && !info.eligible) {
    stats->skipped = "below-ratio";
    return nullptr;
  }
  auto plan = std::make_unique<CleanPlan>();
  plan->dir = dir_;
  plan->segment_options = segment_options();
  plan->now_ms = o.now_ms;
  plan->delete_retention_ms = config_.delete_retention_ms;
  plan->clean_offset = info.first_dirty;
  plan->dirty_end = info.first_uncleanable;
  plan->map_bytes = o.map_bytes;
  plan->generation = clean_generation_;
  plan->crash_at = o.crash_at;
  for (const AbortedTxn& t : o.aborted) plan->aborted[t.producer_id].emplace_back(t.first_offset, t.last_offset);
  plan->first_dirty_index = SIZE_MAX;
  for (const auto& [base, seg] : segments_) {
    if (base >= info.first_uncleanable) break;
    if (plan->first_dirty_index == SIZE_MAX && seg->next_offset() > info.first_dirty) {
      plan->first_dirty_index = plan->segments.size();
    }
    plan->segments.push_back(CleanInput{base, seg->log_file(), seg->size()});
  }
  if (plan->first_dirty_index == SIZE_MAX) plan->first_dirty_index = plan->segments.size();
  plan->stats = *stats;
  cleaning_ = true;
  return plan;
}

namespace {
void MaybeCrash(const CleanPlan& plan, int step) {
  if (plan.crash_at == step) throw Error("TEST_CRASH", "simulated crash at compaction step " + std::to_string(step));
}
}  // namespace

// The swap (cleaner.h, "The swap protocol"). Test crash points, in order:
//   1 before any rename         2 after the first .cleaned -> .swap rename
//   3 after every .swap rename and the directory fsync
//   4 after the first old segment was renamed to .deleted   5 after its new indexes got final names
//   6 after its .swap became the .log   7 after all segments, before the checkpoint
//   8 after the checkpoint
CleanStats Log::CompleteClean(CleanPlan& plan) {
  cleaning_ = false;
  CleanStats stats = plan.stats;
  if (closed_ || plan.generation != clean_generation_) {
    DiscardClean(plan);
    stats.skipped = "discarded";
    return stats;
  }
  // Keep only results whose segment is still the one the worker read. A segment retention or
  // DeleteRecords removed meanwhile is simply gone; anything else that differs is a conflict, and
  // then the checkpoint must not advance (the unreplaced segment was not filtered by this map).
  std::vector<CleanOutput*> valid;
  bool conflict = false;
  for (auto& out : plan.outputs) {
    auto it = segments_.find(out.base);
    if (it != segments_.end() && it->second->log_file() == out.original && it->second->size() == out.size_before) {
      valid.push_back(&out);
      continue;
    }
    conflict = conflict || it != segments_.end();
    if (out.cleaned) {
      out.cleaned->CloseAndRemove();
      out.cleaned.reset();
    }
  }
  MaybeCrash(plan, 1);
  // Step A: commit every replacement (.cleaned -> .swap), then make the renames durable before any
  // old file is touched.
  bool any_swap = false;
  try {
    for (CleanOutput* out : valid) {
      if (!out->cleaned) continue;
      out->cleaned->RenameLog(".swap");
      any_swap = true;
      MaybeCrash(plan, 2);
    }
    if (any_swap) FsyncDir(dir_);
  } catch (const Error& e) {
    // A rename or fsync failed (not a simulated crash): take every .swap back out, or a later
    // Open would complete swaps of segments this process goes on using and changing.
    if (e.code() != "TEST_CRASH") DiscardClean(plan);
    throw;
  }
  MaybeCrash(plan, 3);
  // Step B: per segment, in offset order. Should a rename fail (a real I/O error), the segments
  // not reached yet keep their old files and lose their .swap: otherwise a later Open would complete
  // a swap for a segment this process goes on using (and retention may delete).
  try {
    for (CleanOutput* out : valid) {
      auto it = segments_.find(out->base);
      stats.bytes_before += it->second->size();
      if (!out->cleaned) {
        const bool first = it == segments_.begin();
        out->retention_ts = it->second->LargestTimestampForRetention();
        ScheduleDelete(it);
        stats.segments_removed++;
        // The log's first segment is replaced by an empty one instead, so that compaction never
        // moves the log start offset (a consumer positioned in it must not get OFFSET_OUT_OF_RANGE;
        // Kafka's cleaned segments keep their base offsets too). A crash before the create loses
        // only records that were all superseded.
        if (first) {
          auto empty = Segment::Create(dir_, out->base, segment_options(), plan.now_ms);
          empty->OnRoll();
          // Retention by time treats it as the original would have been treated.
          empty->log_file()->SetMtimeMs(out->retention_ts);
          segments_.emplace(out->base, std::move(empty));
        }
        continue;
      }
      // In memory first (cannot fail), so that a failing rename below leaves a usable log: the new
      // segment serves reads through its descriptors whatever its files are called, and the next
      // Open finishes the renames (the .swap is committed).
      stats.bytes_after += out->cleaned->size();
      Segment* fresh = out->cleaned.get();
      std::unique_ptr<Segment> old = std::exchange(it->second, std::move(out->cleaned));
      stats.segments_rewritten++;
      Retire(std::move(old));  // B1: old files -> .deleted, kept open
      MaybeCrash(plan, 4);
      fresh->RenameIndexes("");  // B2
      MaybeCrash(plan, 5);
      fresh->RenameLog("");  // B3
      MaybeCrash(plan, 6);
    }
  } catch (const Error& e) {
    dir_changes_++;
    if (e.code() == "TEST_CRASH") throw;
    for (CleanOutput* out : valid) {
      if (!out->cleaned) continue;
      try {
        out->cleaned->CloseAndRemove();
      } catch (const Error&) {
      }
      out->cleaned.reset();
    }
    throw;
  }
  if (!valid.empty()) dir_changes_++;
  log_start_offset_ = std::max(log_start_offset_, segments_.begin()->first);
  MaybeCrash(plan, 7);
  // Step C: the checkpoint.
  if (!conflict) {
    clean_offset_ = std::max(std::min(plan.cleaned_up_to, next_offset_), log_start_offset_);
    tombstone_horizon_ = plan.next_horizon;
  }
  stats.cleaned_up_to = clean_offset_;
  WriteCleanerCheckpoint();
  MaybeCrash(plan, 8);
  ReapDeleted();
  CheckInvariants();
  return stats;
}

void Log::AbortClean(CleanPlan& plan) {
  cleaning_ = false;
  DiscardClean(plan);
}

CleanStats Log::Clean(const CleanOptions& options) {
  CleanStats stats;
  auto plan = PrepareClean(options, &stats);
  if (!plan) return stats;
  try {
    RunClean(*plan);
  } catch (...) {
    AbortClean(*plan);
    throw;
  }
  return CompleteClean(*plan);
}

}  // namespace brook::storage
