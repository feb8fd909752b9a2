#include "storage/time_index.h"

#include <algorithm>

#include "error.h"
#include "record/batch_header.h"

namespace brook::storage {

using record::LoadBE32;
using record::LoadBE64;
using record::StoreBE32;
using record::StoreBE64;

bool TimeIndex::Load() {
  Reset();
  std::string bytes;
  if (!file_.ReadExisting(&bytes)) return false;
  if (bytes.size() % kEntrySize != 0) return false;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size() / kEntrySize;
  entries_.reserve(n);
  for (size_t i = 0; i < n; i++) {
    const int64_t ts = int64_t(LoadBE64(p + i * kEntrySize));
    const int32_t rel = int32_t(LoadBE32(p + i * kEntrySize + 8));
    if (rel < 0) return false;
    const int64_t off = base_offset_ + rel;
    if (!entries_.empty() && (ts <= entries_.back().timestamp || off < entries_.back().offset)) return false;
    entries_.push_back({ts, off});
  }
  persisted_ = n;
  return true;
}

void TimeIndex::MaybeAppend(int64_t timestamp, int64_t offset, bool skip_full_check) {
  // An empty index behaves as if its last entry were (-1, base): a batch without timestamps never
  // creates an entry (Kafka's TimeIndex.maybeAppend).
  const int64_t last_ts = entries_.empty() ? -1 : entries_.back().timestamp;
  if (timestamp <= last_ts) return;
  if (offset < base_offset_ || offset - base_offset_ > INT32_MAX) {
    throw Error("INVALID_ARGUMENT", "offset " + std::to_string(offset) + " does not fit the time index of segment " + std::to_string(base_offset_));
  }
  if (!entries_.empty() && offset < entries_.back().offset) {
    throw Error("INVALID_ARGUMENT", "out-of-order time index entry: offset " + std::to_string(offset) + " after " +
                                        std::to_string(entries_.back().offset));
  }
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
  const size_t n = size_t(it - entries_.begin());
  entries_.resize(n);
  persisted_ = std::min(persisted_, n);
  file_.TruncateEntries(n);
}

bool TimeIndex::Persist() {
  if (persisted_ == entries_.size() && file_.entries_in_file() == persisted_ && file_.file()) return false;
  std::string buf((entries_.size() - persisted_) * kEntrySize, '\0');
  auto* p = reinterpret_cast<uint8_t*>(buf.data());
  for (size_t i = persisted_; i < entries_.size(); i++, p += kEntrySize) {
    StoreBE64(p, uint64_t(entries_[i].timestamp));
    StoreBE32(p + 8, uint32_t(entries_[i].offset - base_offset_));
  }
  file_.Write(persisted_, buf);
  persisted_ = entries_.size();
  return true;
}

}  // namespace brook::storage
