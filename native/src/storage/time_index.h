// Sparse time index of one segment: the .timeindex file, in Kafka's layout.
//
//   .timeindex = N entries of 12 bytes, big-endian:
//     offset size field
//          0    8 timestamp       largest batch maxTimestamp seen in the segment so far
//          8    4 relativeOffset  LAST offset of the batch that first reached that timestamp,
//                                 minus the segment base offset
//
// Entries are written beside offset-index entries (same interval) and only when the timestamp
// grows, so both columns are monotonic; the final entry is added when the segment is rolled or the
// log closed. Lookup(t) gives the greatest entry with timestamp <= t: every batch before that
// entry's batch has a smaller max timestamp, so the first record with timestamp >= t is at or after
// it (found with the offset index, then a header scan: Kafka's LogSegment.findOffsetByTimestamp).
//
// The entries in memory, the lazy write of the file and truncation are SparseIndex's (index_file.h).
#pragma once
#include <cstdint>
#include <string>

#include "storage/index_file.h"

namespace brook::storage {

struct TimeIndexEntry {
  int64_t timestamp;
  int64_t offset;  // absolute
};

class TimeIndex : public SparseIndex<TimeIndexEntry, 12> {
 public:
  using Entry = TimeIndexEntry;

  TimeIndex(std::string path, int64_t base_offset, size_t max_entries)
      : SparseIndex(std::move(path), base_offset, max_entries) {}

  // Loads and sanity-checks (size multiple of 12, timestamps strictly and offsets weakly increasing,
  // offsets >= base). False when missing or corrupt: the caller rebuilds.
  bool Load();

  // Appends only if timestamp is larger than the last entry's (Kafka's maybeAppend). An offset
  // smaller than the last entry's is INVALID_ARGUMENT, and so is a full index unless skip_full_check
  // (the final entry written at roll may exceed the limit, as in Kafka).
  void MaybeAppend(int64_t timestamp, int64_t offset, bool skip_full_check = false);

  // Offset of the greatest entry with timestamp <= target, or base_offset when there is none.
  int64_t Lookup(int64_t target) const;
  // Drops entries whose offset >= offset.
  void TruncateToOffset(int64_t offset);
  // Writes entries not yet in the file (see OffsetIndex::Persist).
  bool Persist();
};

}  // namespace brook::storage
