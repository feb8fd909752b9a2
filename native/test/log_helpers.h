// Shared helpers for the Log tests: open with a config, append producer batches, read back.
#pragma once
#include "storage/log.h"
#include "test_batches.h"

namespace brook::test {

inline std::unique_ptr<storage::Log> OpenLog(const std::string& dir, storage::LogConfig cfg = {}, int64_t now = 1000) {
  return storage::Log::Open(dir, cfg, now);
}

// Small segments that retention may delete at once (retention.ms=0) and that leave the disk as soon
// as they are deleted (file.delete.delay.ms=0).
inline storage::LogConfig SmallSegments(int64_t segment_bytes) {
  storage::LogConfig cfg;
  cfg.segment_bytes = segment_bytes;
  cfg.retention_ms = 0;
  cfg.file_delete_delay_ms = 0;
  return cfg;
}

// Appends one producer batch (copied: Append rewrites its buffer) and returns the result.
inline storage::AppendResult AppendBatch(storage::Log& log, const BatchSpec& spec = {}, int64_t now = 1000) {
  auto b = MakeBatch(spec);
  return log.Append(b.data(), b.size(), 0, now);
}

inline std::vector<uint8_t> ReadBytes(storage::Log& log, int64_t offset, int64_t max_bytes = INT32_MAX,
                                      int64_t up_to = -1) {
  auto slices = log.Read(offset, max_bytes, up_to);
  size_t n = 0;
  for (auto& s : slices) n += s.length;
  std::vector<uint8_t> out(n);
  storage::Log::CopySlices(slices, out.data());
  return out;
}

// Base offsets of the batches in a byte range, checking that the range is whole, valid batches.
inline std::vector<int64_t> BatchBases(const std::vector<uint8_t>& bytes) {
  std::vector<int64_t> bases;
  size_t pos = 0;
  while (pos < bytes.size()) {
    EXPECT_GE(bytes.size() - pos, 61u);
    record::BatchHeaderView h{bytes.data() + pos};
    EXPECT_LE(pos + h.TotalSize(), bytes.size()) << "partial batch";
    EXPECT_EQ(record::CheckStoredBatch(bytes.data() + pos, h.TotalSize()), record::StoredBatchCheck::kOk);
    bases.push_back(h.BaseOffset());
    pos += h.TotalSize();
  }
  return bases;
}

inline std::string ReadFileBytes(const std::string& path) {
  std::string s;
  storage::ReadSmallFile(path, &s);
  return s;
}

}  // namespace brook::test
