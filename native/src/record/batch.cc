#include "record/batch.h"

#include <string>

#include "error.h"
#include "record/batch_header.h"
#include "record/crc32c.h"

namespace brook::record {
namespace {

[[noreturn]] void Fail(const char* code, size_t index, size_t pos, const std::string& why) {
  throw Error(code, "batch " + std::to_string(index) + " at byte " + std::to_string(pos) + ": " + why);
}

}  // namespace

void ValidateClientBatches(const uint8_t* buf, size_t len, const ValidateOptions& opts, std::vector<BatchSpan>* spans) {
  spans->clear();
  if (len == 0) throw Error("INVALID_RECORD", "no record batches");
  size_t pos = 0;
  for (size_t i = 0; pos < len; i++) {
    const size_t left = len - pos;
    const uint8_t* p = buf + pos;
    if (left < size_t(kLogOverhead)) Fail("CORRUPT_MESSAGE", i, pos, "truncated batch header");
    const int64_t size = int64_t(int32_t(LoadBE32(p + kBatchLengthPos))) + kLogOverhead;
    if (size < kBatchHeaderSize) Fail("CORRUPT_MESSAGE", i, pos, "batch size " + std::to_string(size) + " < 61");
    if (uint64_t(size) > left) {
      Fail("CORRUPT_MESSAGE", i, pos,
           "batchLength runs past the end (" + std::to_string(size) + " > " + std::to_string(left) + ")");
    }
    BatchHeaderView h{p};
    if (h.Magic() != kMagicV2)
      Fail("INVALID_RECORD", i, pos, "magic " + std::to_string(h.Magic()) + ", only 2 is accepted");
    if (h.BaseOffset() != 0) Fail("INVALID_RECORD", i, pos, "baseOffset must be 0 from producers");
    if (size > opts.max_message_bytes) {
      Fail("MESSAGE_TOO_LARGE", i, pos,
           "batch of " + std::to_string(size) + " bytes exceeds max.message.bytes " +
               std::to_string(opts.max_message_bytes));
    }
    const uint32_t crc = Crc32c(p + kAttributesPos, size_t(size) - kAttributesPos);
    if (crc != h.Crc()) Fail("CORRUPT_MESSAGE", i, pos, "CRC mismatch");
    const int32_t count = h.RecordsCount();
    if (count <= 0 || int64_t(h.LastOffsetDelta()) + 1 != count) {
      Fail("INVALID_RECORD", i, pos,
           "lastOffsetDelta " + std::to_string(h.LastOffsetDelta()) + " with recordsCount " + std::to_string(count));
    }
    if (!opts.internal) {
      if (h.IsControl()) Fail("INVALID_RECORD", i, pos, "control batches cannot be produced by clients");
      if (h.ProducerId() >= 0 && h.BaseSequence() < 0)
        Fail("INVALID_RECORD", i, pos, "idempotent batch without a base sequence");
    }
    spans->push_back(BatchSpan{pos, uint32_t(size), count, h.MaxTimestamp()});
    pos += size_t(size);
  }
}

int64_t AssignOffsets(uint8_t* buf, std::vector<BatchSpan>& spans, int64_t first_offset, int32_t leader_epoch,
                      int64_t log_append_time) {
  int64_t next = first_offset;
  for (auto& s : spans) {
    uint8_t* p = buf + s.pos;
    StoreBE64(p + kBaseOffsetPos, uint64_t(next));
    StoreBE32(p + kLeaderEpochPos, uint32_t(leader_epoch));
    if (log_append_time >= 0) {
      StoreBE16(p + kAttributesPos, uint16_t(LoadBE16(p + kAttributesPos) | kTimestampTypeBit));
      StoreBE64(p + kMaxTimestampPos, uint64_t(log_append_time));
      StoreBE32(p + kCrcPos, Crc32c(p + kAttributesPos, s.size - kAttributesPos));
      s.max_timestamp = log_append_time;
    }
    next += s.count;
  }
  return next;
}

StoredBatchCheck CheckStoredBatch(const uint8_t* p, size_t avail) {
  // Kafka's FileLogInputStream.nextBatch: fewer than 17 header bytes or a declared size past EOF is
  // a torn tail; a declared size below the minimum is corruption.
  if (avail < size_t(kMagicReadSize)) return StoredBatchCheck::kTorn;
  const int64_t size = int64_t(int32_t(LoadBE32(p + kBatchLengthPos))) + kLogOverhead;
  if (size < kBatchHeaderSize) return StoredBatchCheck::kCorrupt;
  if (uint64_t(size) > avail) return StoredBatchCheck::kTorn;
  BatchHeaderView h{p};
  if (h.Magic() != kMagicV2) return StoredBatchCheck::kCorrupt;
  if (Crc32c(p + kAttributesPos, size_t(size) - kAttributesPos) != h.Crc()) return StoredBatchCheck::kCorrupt;
  if (h.LastOffsetDelta() < 0) return StoredBatchCheck::kCorrupt;
  return StoredBatchCheck::kOk;
}

namespace detail {
bool ReadVarlong(const uint8_t*& p, const uint8_t* end, int64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p >= end) return false;
    uint8_t b = *p++;
    v |= uint64_t(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      *out = int64_t(v >> 1) ^ -int64_t(v & 1);
      return true;
    }
  }
  return false;
}
}  // namespace detail

}  // namespace brook::record
