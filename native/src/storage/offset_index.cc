#include "storage/offset_index.h"

#include <algorithm>

#include "error.h"
#include "record/batch_header.h"

namespace brook::storage {

using record::LoadBE32;
using record::StoreBE32;

bool OffsetIndex::Load(uint64_t log_size) {
  Reset();
  std::string bytes;
  if (!file_.ReadExisting(&bytes)) return false;
  if (bytes.size() % kEntrySize != 0) return false;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size() / kEntrySize;
  entries_.reserve(n);
  for (size_t i = 0; i < n; i++) {
    const int32_t rel = int32_t(LoadBE32(p + i * kEntrySize));
    const uint32_t pos = LoadBE32(p + i * kEntrySize + 4);
    if (rel < 0 || pos >= log_size || pos > uint32_t(INT32_MAX)) return false;
    const int64_t off = base_offset_ + rel;
    if (!entries_.empty() && (off <= entries_.back().offset || pos <= entries_.back().position)) return false;
    entries_.push_back({off, pos});
  }
  persisted_ = n;
  return true;
}

void OffsetIndex::Append(int64_t offset, uint32_t position) {
  if (offset < base_offset_ || offset - base_offset_ > INT32_MAX) {
    throw Error("INVALID_ARGUMENT", "offset " + std::to_string(offset) + " does not fit the index of segment " + std::to_string(base_offset_));
  }
  if (!entries_.empty() && (offset <= entries_.back().offset || position <= entries_.back().position)) {
    throw Error("INVALID_ARGUMENT", "out-of-order index entry: offset " + std::to_string(offset) + " at " +
                                        std::to_string(position) + " after " + std::to_string(entries_.back().offset) +
                                        " at " + std::to_string(entries_.back().position));
  }
  if (entries_.size() >= max_entries_) throw Error("INVALID_ARGUMENT", "offset index full");
  entries_.push_back({offset, position});
}

OffsetIndex::Entry OffsetIndex::Lookup(int64_t target) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), target,
                             [](int64_t t, const Entry& e) { return t < e.offset; });
  if (it == entries_.begin()) return {base_offset_, 0};
  return *(it - 1);
}

OffsetIndex::Entry OffsetIndex::LookupPosition(uint64_t pos) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), pos,
                             [](uint64_t p, const Entry& e) { return p < e.position; });
  if (it == entries_.begin()) return {base_offset_, 0};
  return *(it - 1);
}

void OffsetIndex::TruncateToPosition(uint64_t pos) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), pos,
                             [](const Entry& e, uint64_t p) { return e.position < p; });
  const size_t n = size_t(it - entries_.begin());
  entries_.resize(n);
  persisted_ = std::min(persisted_, n);
  file_.TruncateEntries(n);
}

bool OffsetIndex::Persist() {
  if (persisted_ == entries_.size() && file_.entries_in_file() == persisted_ && file_.file()) return false;
  std::string buf((entries_.size() - persisted_) * kEntrySize, '\0');
  auto* p = reinterpret_cast<uint8_t*>(buf.data());
  for (size_t i = persisted_; i < entries_.size(); i++, p += kEntrySize) {
    StoreBE32(p, uint32_t(entries_[i].offset - base_offset_));
    StoreBE32(p + 4, entries_[i].position);
  }
  file_.Write(persisted_, buf);
  persisted_ = entries_.size();
  return true;
}

}  // namespace brook::storage
