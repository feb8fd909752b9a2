// Sparse offset index of one segment: the .index file, in Kafka's layout so Kafka's tools read it.
//
//   .index = N entries of 8 bytes, big-endian:
//     offset size field
//          0    4 relativeOffset  LAST offset of the indexed batch - segment base offset
//          4    4 position        byte position in the .log where that batch STARTS
//
// One entry per `index.interval.bytes` of log (the first batch of a segment is never indexed,
// position 0 is implied). Lookup(target) returns the greatest entry whose offset is <= target: every
// batch before that position ends at or before the entry's offset, so the batch containing target
// starts at or after that position, and a short forward scan of batch headers finds it. Storing
// the batch's last offset (not its base) is what Kafka does and what its DumpLogSegments checks.
// 4-byte relative offsets and positions are why a segment rolls before either would pass 2^31-1.
//
// The entries in memory, the lazy write of the file and truncation are SparseIndex's (index_file.h).
#pragma once
#include <cstdint>
#include <string>

#include "storage/index_file.h"

namespace brook::storage {

struct OffsetIndexEntry {
  int64_t offset;  // absolute
  uint32_t position;
};

class OffsetIndex : public SparseIndex<OffsetIndexEntry, 8> {
 public:
  using Entry = OffsetIndexEntry;

  OffsetIndex(std::string path, int64_t base_offset, size_t max_entries)
      : SparseIndex(std::move(path), base_offset, max_entries) {}

  // Loads the file and sanity-checks it as Kafka's OffsetIndex.sanityCheck does (size a multiple of
  // 8, offsets and positions strictly increasing, offsets >= base, positions < log_size). Returns
  // false when the file is missing or fails a check; the caller then rebuilds from the .log.
  bool Load(uint64_t log_size);

  // Appends in memory. Offsets and positions must increase: anything else is a bug in the caller
  // (INVALID_ARGUMENT), never silently accepted, because lookups rely on both orders.
  void Append(int64_t offset, uint32_t position);

  // Greatest entry with offset <= target, or {base_offset, 0} when there is none.
  Entry Lookup(int64_t target) const;
  // Greatest entry with position <= pos, or {base_offset, 0}.
  Entry LookupPosition(uint64_t pos) const;
  // Drops entries whose position >= pos (in memory and in the file).
  void TruncateToPosition(uint64_t pos);

  // Writes entries not yet in the file. Returns true if it wrote anything (the file then needs an
  // fsync to be durable). Runs on the JS thread; page-cache writes only.
  bool Persist();
};

}  // namespace brook::storage
