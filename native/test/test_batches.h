// Test helpers: a tiny RecordBatch v2 builder (uncompressed records, correct CRC), a temporary
// directory and ErrorCode. Independent of record/records.cc on purpose: tests should not trust the code they
// check, and the production builder belongs to another module.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "error.h"
#include "record/batch_header.h"
#include "record/crc32c.h"
#include "storage/file.h"

namespace brook::test {

using record::StoreBE16;
using record::StoreBE32;
using record::StoreBE64;

// The code of the brook::Error that fn throws, or "none" when it returns.
inline std::string ErrorCode(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  return "none";
}

inline void PutVarlong(std::vector<uint8_t>& out, int64_t v) {
  uint64_t z = (uint64_t(v) << 1) ^ uint64_t(v >> 63);
  while (z >= 0x80) {
    out.push_back(uint8_t(z | 0x80));
    z >>= 7;
  }
  out.push_back(uint8_t(z));
}

struct BatchSpec {
  int records = 1;
  size_t value_size = 10;
  int64_t base_timestamp = 1000;
  int64_t timestamp_step = 1;  // record i has base_timestamp + i * step
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  uint16_t attributes = 0;
  uint8_t fill = 'x';
};

// Recomputes the CRC after a test edited checksummed bytes on purpose.
inline void Reseal(std::vector<uint8_t>& b, size_t pos = 0) {
  const uint32_t size = record::LoadBE32(&b[pos + 8]) + 12;
  StoreBE32(&b[pos + 17], record::Crc32c(&b[pos + 21], size - 21));
}

// Builds one batch as a producer sends it: baseOffset 0, leader epoch -1, CRC over [21, end).
inline std::vector<uint8_t> MakeBatch(const BatchSpec& s = {}) {
  std::vector<uint8_t> records;
  int64_t max_ts = s.base_timestamp;
  for (int i = 0; i < s.records; i++) {
    std::vector<uint8_t> body;
    body.push_back(0);  // attributes
    const int64_t delta = int64_t(i) * s.timestamp_step;
    max_ts = std::max(max_ts, s.base_timestamp + delta);
    PutVarlong(body, delta);
    PutVarlong(body, i);   // offsetDelta
    PutVarlong(body, -1);  // null key
    PutVarlong(body, int64_t(s.value_size));
    body.insert(body.end(), s.value_size, s.fill);
    PutVarlong(body, 0);  // headers
    PutVarlong(records, int64_t(body.size()));
    records.insert(records.end(), body.begin(), body.end());
  }
  std::vector<uint8_t> b(record::kRecordsPos + records.size());
  StoreBE64(&b[0], 0);
  StoreBE32(&b[8], uint32_t(b.size() - record::kLogOverhead));
  StoreBE32(&b[12], uint32_t(-1));
  b[16] = 2;
  StoreBE16(&b[21], s.attributes);
  StoreBE32(&b[23], uint32_t(s.records - 1));
  StoreBE64(&b[27], uint64_t(s.base_timestamp));
  StoreBE64(&b[35], uint64_t(max_ts));
  StoreBE64(&b[43], uint64_t(s.producer_id));
  StoreBE16(&b[51], uint16_t(s.producer_epoch));
  StoreBE32(&b[53], uint32_t(s.base_sequence));
  StoreBE32(&b[57], uint32_t(s.records));
  std::copy(records.begin(), records.end(), b.begin() + record::kRecordsPos);
  Reseal(b);
  return b;
}

// One record of a keyed test batch: nullopt key/value = null (a null value is a tombstone).
struct TestRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp = 1000;
  std::vector<std::pair<std::string, std::string>> headers = {};
};

inline void PutBytes(std::vector<uint8_t>& out, const std::optional<std::string>& s) {
  if (!s) {
    PutVarlong(out, -1);
    return;
  }
  PutVarlong(out, int64_t(s->size()));
  out.insert(out.end(), s->begin(), s->end());
}

// The records section of a batch (uncompressed), offsetDelta = index, timestamps relative to the
// first record's.
inline std::vector<uint8_t> EncodeRecords(const std::vector<TestRecord>& recs) {
  std::vector<uint8_t> records;
  for (size_t i = 0; i < recs.size(); i++) {
    std::vector<uint8_t> body;
    body.push_back(0);
    PutVarlong(body, recs[i].timestamp - recs[0].timestamp);
    PutVarlong(body, int64_t(i));
    PutBytes(body, recs[i].key);
    PutBytes(body, recs[i].value);
    PutVarlong(body, int64_t(recs[i].headers.size()));
    for (const auto& [k, v] : recs[i].headers) {
      PutBytes(body, k);
      PutBytes(body, v);
    }
    PutVarlong(records, int64_t(body.size()));
    records.insert(records.end(), body.begin(), body.end());
  }
  return records;
}

// A producer batch of keyed records whose records section is `section` (already compressed with
// the codec in spec.attributes, if any). Header fields other than counts/timestamps from spec.
inline std::vector<uint8_t> MakeBatchWithSection(const std::vector<TestRecord>& recs,
                                                 const std::vector<uint8_t>& section, const BatchSpec& s = {}) {
  int64_t max_ts = recs[0].timestamp;
  for (const auto& r : recs) max_ts = std::max(max_ts, r.timestamp);
  std::vector<uint8_t> b(record::kRecordsPos + section.size());
  StoreBE64(&b[0], 0);
  StoreBE32(&b[8], uint32_t(b.size() - record::kLogOverhead));
  StoreBE32(&b[12], uint32_t(-1));
  b[16] = 2;
  StoreBE16(&b[21], s.attributes);
  StoreBE32(&b[23], uint32_t(recs.size() - 1));
  StoreBE64(&b[27], uint64_t(recs[0].timestamp));
  StoreBE64(&b[35], uint64_t(max_ts));
  StoreBE64(&b[43], uint64_t(s.producer_id));
  StoreBE16(&b[51], uint16_t(s.producer_epoch));
  StoreBE32(&b[53], uint32_t(s.base_sequence));
  StoreBE32(&b[57], uint32_t(recs.size()));
  std::copy(section.begin(), section.end(), b.begin() + record::kRecordsPos);
  Reseal(b);
  return b;
}

// Uncompressed keyed batch.
inline std::vector<uint8_t> MakeKeyedBatch(const std::vector<TestRecord>& recs, const BatchSpec& s = {}) {
  return MakeBatchWithSection(recs, EncodeRecords(recs), s);
}

inline std::vector<uint8_t> Concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A directory under $TMPDIR removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/brook-test-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = buf.data();
  }
  ~TempDir() { storage::RemoveTree(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace brook::test
