#include "storage/offset_index.h"

#include <algorithm>

#include "check.h"
#include "error.h"
#include "record/batch_header.h"

namespace brook::storage {

using record::LoadBE32;
using record::StoreBE32;

bool OffsetIndex::Load(uint64_t log_size) {
  return LoadEntries([&](const uint8_t* p, const Entry* prev, Entry* e) {
    const int32_t rel = int32_t(LoadBE32(p));
    const uint32_t pos = LoadBE32(p + 4);
    if (rel < 0 || pos >= log_size || pos > uint32_t(INT32_MAX)) return false;
    *e = {base_offset_ + rel, pos};
    return !prev || (e->offset > prev->offset && e->position > prev->position);
  });
}

void OffsetIndex::Append(int64_t offset, uint32_t position) {
  CheckRelative(offset, "index");
  // Lookups binary-search the entries: one out of order would send reads to the wrong batch.
  BROOK_CHECK(entries_.empty() || (offset > entries_.back().offset && position > entries_.back().position),
              "index entry offset " + std::to_string(offset) + " at " + std::to_string(position) + " after " +
                  std::to_string(entries_.back().offset) + " at " + std::to_string(entries_.back().position));
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
  TruncateEntries(size_t(it - entries_.begin()));
}

bool OffsetIndex::Persist() {
  return PersistEntries([&](const Entry& e, uint8_t* p) {
    StoreBE32(p, uint32_t(e.offset - base_offset_));
    StoreBE32(p + 4, e.position);
  });
}

}  // namespace brook::storage
