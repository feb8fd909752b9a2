// Validation and offset assignment for RecordBatch v2 on the produce path (layout: batch_header.h).
//
// The produce path never parses records: it checks each batch header and its CRC, then rewrites the
// fields the broker owns in place. Two passes over the caller's buffer, both O(batches) except the
// CRC, which has to touch every byte once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace brook::record {

// Where one validated batch sits in the caller's buffer.
struct BatchSpan {
  size_t pos;     // offset of the batch in the buffer
  uint32_t size;  // total size (batchLength + 12)
  int32_t count;  // recordsCount (== lastOffsetDelta + 1)
  int64_t max_timestamp;
};

struct ValidateOptions {
  int64_t max_message_bytes = 1048588;  // Kafka's max.message.bytes default
  // Batches the broker writes itself, not a client: transaction markers (control batches) and the
  // group coordinator's transactional offset commits (a producer id and epoch, baseSequence -1:
  // the coordinator is no idempotent producer). Lifts the last two checks below, nothing else.
  bool internal = false;
};

// Checks every batch in buf[0, len) as Kafka does for batches from clients
// (UnifiedLog.analyzeAndValidateRecords + LogValidator.validateBatch), in this order per batch:
//   fewer than 12 bytes left, or batchLength + 12 < 61, or past the end   -> CORRUPT_MESSAGE
//   magic != 2                                                            -> INVALID_RECORD
//   baseOffset != 0 (producers do not assign offsets)                     -> INVALID_RECORD
//   size > max_message_bytes                                              -> MESSAGE_TOO_LARGE
//   CRC-32C of [attributes, end) != crc                                   -> CORRUPT_MESSAGE
//   recordsCount <= 0 or lastOffsetDelta + 1 != recordsCount              -> INVALID_RECORD
//   control bit set (only coordinators write control batches)             -> INVALID_RECORD
//   producerId >= 0 with baseSequence < 0                                 -> INVALID_RECORD
// (the last two are skipped for opts.internal: the broker's own markers and offset commits)
// An empty buffer is INVALID_RECORD. Throws brook::Error naming the batch index and byte position;
// on success fills `spans` (cleared first). Never writes to buf.
void ValidateClientBatches(const uint8_t* buf, size_t len, const ValidateOptions& opts, std::vector<BatchSpan>* spans);

// Rewrites the broker-owned fields of validated batches in place: baseOffset (consecutive from
// `first_offset`) and partitionLeaderEpoch, both outside the CRC. When log_append_time >= 0 also sets
// the timestamp-type attribute bit and maxTimestamp = log_append_time, which are inside the CRC, so
// the CRC is recomputed (Kafka's LogAppendTime path). Returns the next offset after the last batch.
int64_t AssignOffsets(uint8_t* buf, std::vector<BatchSpan>& spans, int64_t first_offset, int32_t leader_epoch,
                      int64_t log_append_time);

// Validation of a batch already in a segment (recovery): size bounds, magic and CRC only, since the
// broker-owned fields are legitimately set. `avail` is how many bytes of the batch are present.
enum class StoredBatchCheck { kOk, kTorn, kCorrupt };
StoredBatchCheck CheckStoredBatch(const uint8_t* p, size_t avail);

// Walks the records of a batch and returns, through fn, each record's (offset, timestamp); fn
// returns false to stop. `header` is the batch's 61-byte header; [records, records + len) its records
// section, already decompressed when the batch is compressed. Returns false if the record bytes are
// malformed. Used off the hot path (ListOffsets by timestamp), never on append.
template <typename F>
bool ForEachRecordTimestamp(const uint8_t* header, const uint8_t* records, size_t len, F&& fn);

namespace detail {
// Zig-zag varint/varlong as in Kafka's ByteUtils. Return false on truncated or overlong input.
bool ReadVarlong(const uint8_t*& p, const uint8_t* end, int64_t* out);
}  // namespace detail

}  // namespace brook::record

#include "record/batch_header.h"

namespace brook::record {
template <typename F>
bool ForEachRecordTimestamp(const uint8_t* header, const uint8_t* records, size_t len, F&& fn) {
  BatchHeaderView h{header};
  const int64_t base_offset = h.BaseOffset();
  const int64_t base_ts = h.BaseTimestamp();
  const int32_t count = h.RecordsCount();
  const uint8_t* p = records;
  const uint8_t* end = records + len;
  for (int32_t i = 0; i < count; i++) {
    int64_t len, ts_delta, off_delta;
    if (!detail::ReadVarlong(p, end, &len) || len < 0 || len > end - p) return false;
    const uint8_t* next = p + len;
    if (p >= next) return false;
    p++;  // attributes
    if (!detail::ReadVarlong(p, next, &ts_delta) || !detail::ReadVarlong(p, next, &off_delta)) return false;
    if (!fn(base_offset + off_delta, base_ts + ts_delta)) return true;
    p = next;
  }
  return true;
}
}  // namespace brook::record
