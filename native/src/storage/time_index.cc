#include "storage/time_index.h"

#include <algorithm>

#include "check.h"
#include "error.h"
#include "record/batch_header.h"

namespace brook::storage {

using record::LoadBE32;
using record::LoadBE64;
using record::StoreBE32;
using record::StoreBE64;

bool TimeIndex::Load() {
  return LoadEntries([&](const uint8_t* p, const Entry* prev, Entry* e) {
    const int64_t ts = int64_t(LoadBE64(p));
    const int32_t rel = int32_t(LoadBE32(p + 8));
    if (rel < 0) return false;
    *e = {ts, base_offset_ + rel};
    return !prev || (e->timestamp > prev->timestamp && e->offset >= prev->offset);
  });
}

void TimeIndex::MaybeAppend(int64_t timestamp, int64_t offset, bool skip_full_check) {
  // An empty index behaves as if its last entry were (-1, base): a batch without timestamps never
  // creates an entry (Kafka's TimeIndex.maybeAppend).
  const int64_t last_ts = entries_.empty() ? -1 : entries_.back().timestamp;
  if (timestamp <= last_ts) return;
  CheckRelative(offset, "time index");
  // Timestamps only grow here (checked above); offsets must not go back, or lookups by time would
  // answer with an offset past the record asked for.
  BROOK_CHECK(entries_.empty() || offset >= entries_.back().offset,
              "time index entry offset " + std::to_string(offset) + " after " + std::to_string(entries_.back().offset));
  if (!skip_full_check && entries_.size() >= max_entries_) throw Error("INVALID_ARGUMENT", "time index full");
  entries_.push_back({timestamp, offset});
}

int64_t TimeIndex::Lookup(int64_t target) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), target,
                             [](int64_t t, const Entry& e) { return t < e.timestamp; });
  if (it == entries_.begin()) return base_offset_;
  return (it - 1)->offset;
}

void TimeIndex::TruncateToOffset(int64_t offset) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), offset,
                             [](const Entry& e, int64_t o) { return e.offset < o; });
  TruncateEntries(size_t(it - entries_.begin()));
}

bool TimeIndex::Persist() {
  return PersistEntries([&](const Entry& e, uint8_t* p) {
    StoreBE64(p, uint64_t(e.timestamp));
    StoreBE32(p + 8, uint32_t(e.offset - base_offset_));
  });
}

}  // namespace brook::storage
