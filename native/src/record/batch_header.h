// Kafka RecordBatch v2 (magic 2): the unit Brook stores, indexes and sends. Segment files hold these
// batches back to back, byte for byte as consumers fetch them, so a fetch can be served with
// sendfile and Kafka's own tools can read our segments.
//
// All integers are big-endian.
//
//   offset size field                 notes
//   ------ ---- --------------------- ---------------------------------------------------------------
//        0    8 baseOffset            producers send 0; the broker assigns it on append
//        8    4 batchLength           bytes after this field = total size - 12
//       12    4 partitionLeaderEpoch  overwritten by the broker
//       16    1 magic                 2
//       17    4 crc                   CRC-32C of bytes [21, end): baseOffset, length and leader
//                                     epoch sit before the checksummed range on purpose, so the
//                                     broker can assign offsets without recomputing it
//       21    2 attributes            bits 0-2 codec (0 none,1 gzip,2 snappy,3 lz4,4 zstd),
//                                     bit 3 timestamp type (1 = LogAppendTime), bit 4 transactional,
//                                     bit 5 control, bit 6 delete horizon set (KIP-534)
//       23    4 lastOffsetDelta       recordsCount - 1 for batches from producers
//       27    8 baseTimestamp
//       35    8 maxTimestamp          with LogAppendTime, the append time
//       43    8 producerId            -1 when not idempotent
//       51    2 producerEpoch
//       53    4 baseSequence          -1 when not idempotent (kafkajs sends 0 with pid -1)
//       57    4 recordsCount          never compressed
//       61    . records               if compressed: one codec stream of all records
//
// Each record (inside the possibly compressed records section):
//   length varint (zigzag, bytes after this field), attributes int8, timestampDelta varlong,
//   offsetDelta varint, keyLength varint (-1 = null), key, valueLength varint (-1 = null), value,
//   headerCount varint, then per header: keyLength varint, key, valueLength varint (-1 = null), value.
#pragma once
#include <cstdint>
#include <cstring>

namespace brook::record {

constexpr int kBaseOffsetPos = 0;
constexpr int kBatchLengthPos = 8;
constexpr int kLeaderEpochPos = 12;
constexpr int kMagicPos = 16;
constexpr int kCrcPos = 17;
constexpr int kAttributesPos = 21;  // the CRC covers [kAttributesPos, end)
constexpr int kLastOffsetDeltaPos = 23;
constexpr int kBaseTimestampPos = 27;
constexpr int kMaxTimestampPos = 35;
constexpr int kProducerIdPos = 43;
constexpr int kProducerEpochPos = 51;
constexpr int kBaseSequencePos = 53;
constexpr int kRecordsCountPos = 57;
constexpr int kRecordsPos = 61;

constexpr int kBatchHeaderSize = 61;  // smallest valid batch (Kafka's RECORD_BATCH_OVERHEAD)
constexpr int kLogOverhead = 12;      // baseOffset + batchLength: enough to know a batch's size
constexpr int kMagicReadSize = 17;    // bytes needed to read the magic byte
constexpr uint8_t kMagicV2 = 2;

constexpr uint16_t kCodecMask = 0x07;
constexpr uint16_t kTimestampTypeBit = 0x08;  // LogAppendTime
constexpr uint16_t kTransactionalBit = 0x10;
constexpr uint16_t kControlBit = 0x20;
constexpr uint16_t kDeleteHorizonBit = 0x40;

enum class Codec : uint8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

inline uint16_t LoadBE16(const uint8_t* p) { return uint16_t(p[0]) << 8 | p[1]; }
inline uint32_t LoadBE32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline uint64_t LoadBE64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
inline void StoreBE16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline void StoreBE32(uint8_t* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void StoreBE64(uint8_t* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

// A read-only view of a batch header. The caller guarantees at least kBatchHeaderSize bytes
// (or kLogOverhead for BaseOffset/BatchLength/TotalSize).
struct BatchHeaderView {
  const uint8_t* p;

  int64_t BaseOffset() const { return int64_t(LoadBE64(p + kBaseOffsetPos)); }
  int32_t BatchLength() const { return int32_t(LoadBE32(p + kBatchLengthPos)); }
  int64_t TotalSize() const { return int64_t(BatchLength()) + kLogOverhead; }
  int32_t LeaderEpoch() const { return int32_t(LoadBE32(p + kLeaderEpochPos)); }
  uint8_t Magic() const { return p[kMagicPos]; }
  uint32_t Crc() const { return LoadBE32(p + kCrcPos); }
  uint16_t Attributes() const { return LoadBE16(p + kAttributesPos); }
  Codec CompressionCodec() const { return Codec(Attributes() & kCodecMask); }
  bool IsLogAppendTime() const { return Attributes() & kTimestampTypeBit; }
  bool IsTransactional() const { return Attributes() & kTransactionalBit; }
  bool IsControl() const { return Attributes() & kControlBit; }
  int32_t LastOffsetDelta() const { return int32_t(LoadBE32(p + kLastOffsetDeltaPos)); }
  int64_t LastOffset() const { return BaseOffset() + LastOffsetDelta(); }
  int64_t BaseTimestamp() const { return int64_t(LoadBE64(p + kBaseTimestampPos)); }
  int64_t MaxTimestamp() const { return int64_t(LoadBE64(p + kMaxTimestampPos)); }
  int64_t ProducerId() const { return int64_t(LoadBE64(p + kProducerIdPos)); }
  int16_t ProducerEpoch() const { return int16_t(LoadBE16(p + kProducerEpochPos)); }
  int32_t BaseSequence() const { return int32_t(LoadBE32(p + kBaseSequencePos)); }
  int32_t RecordsCount() const { return int32_t(LoadBE32(p + kRecordsCountPos)); }
};

}  // namespace brook::record
