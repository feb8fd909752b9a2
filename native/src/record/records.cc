#include "record/records.h"

#include <string>

#include "error.h"
#include "record/crc32c.h"

namespace brook::record {
namespace {

using compress::ByteBuffer;

// The smallest record: length, attributes, timestampDelta, offsetDelta, keyLength, valueLength and
// headerCount at one byte each. Bounds recordsCount before anything is reserved for it.
constexpr size_t kMinRecordSize = 7;

[[noreturn]] void Corrupt(const std::string& what) { throw Error("CORRUPT_MESSAGE", what); }

// Bounds-checked reader over one region. Every read fails with CORRUPT_MESSAGE rather than leave
// the region.
struct Cursor {
  const uint8_t* p;
  const uint8_t* end;

  size_t left() const { return size_t(end - p); }

  // Base-128 little-endian, high bit = more bytes, at most max_bytes long.
  uint64_t RawVarint(int max_bytes) {
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; i++) {
      if (p == end) Corrupt("truncated varint");
      const uint8_t b = *p++;
      v |= uint64_t(b & 0x7F) << (7 * i);
      if ((b & 0x80) == 0) return v;
    }
    Corrupt(max_bytes == 5 ? "varint longer than 5 bytes" : "varlong longer than 10 bytes");
  }
  // Zig-zag int32. Bits beyond 32 in a 5-byte varint are dropped, as Kafka's ByteUtils does.
  int32_t Varint() {
    const uint32_t u = uint32_t(RawVarint(5));
    return int32_t((u >> 1) ^ (~(u & 1) + 1));
  }
  int64_t Varlong() {
    const uint64_t u = RawVarint(10);
    return int64_t((u >> 1) ^ (~(u & 1) + 1));
  }
  uint8_t Byte() {
    if (p == end) Corrupt("truncated record");
    return *p++;
  }
  // A length-prefixed field; returns its position (relative to base) or leaves it at -1 for null.
  int32_t Bytes(const uint8_t* base, size_t* pos, bool nullable, const char* what) {
    const int32_t n = Varint();
    if (n < 0) {
      if (n == -1 && nullable) {
        *pos = 0;
        return -1;
      }
      if (n == -1) throw Error("INVALID_RECORD", std::string("null ") + what);
      Corrupt(std::string("negative ") + what + " length " + std::to_string(n));
    }
    if (size_t(n) > left()) Corrupt(std::string(what) + " length " + std::to_string(n) + " runs past the record");
    *pos = size_t(p - base);
    p += n;
    return n;
  }
};

// Parses `count` records from section[0, len), calling on_record(record, headers...) for each:
// fills `record` (offset and timestamp as deltas) and appends headers. Positions are relative to
// `base`, which is where the section's source buffer starts.
template <typename OnRecord>
void WalkRecords(const uint8_t* base, const uint8_t* section, size_t len, int32_t count,
                 std::vector<DecodedHeader>* headers, OnRecord&& on_record) {
  if (count < 0) Corrupt("negative recordsCount " + std::to_string(count));
  if (size_t(count) > len / kMinRecordSize)
    Corrupt("recordsCount " + std::to_string(count) + " cannot fit in " + std::to_string(len) + " bytes");
  Cursor in{section, section + len};
  for (int32_t i = 0; i < count; i++) {
    const int32_t size = in.Varint();
    if (size <= 0 || size_t(size) > in.left())
      Corrupt("record " + std::to_string(i) + " length " + std::to_string(size) + " does not fit the batch");
    Cursor r{in.p, in.p + size};
    in.p += size;
    DecodedRecord rec{};
    r.Byte();  // attributes: unused
    rec.timestamp = r.Varlong();
    rec.offset = r.Varint();
    rec.key_len = r.Bytes(base, &rec.key_pos, true, "key");
    rec.value_len = r.Bytes(base, &rec.value_pos, true, "value");
    const int32_t header_count = r.Varint();
    // Each header takes at least two bytes (two lengths), which bounds the count before reserving.
    if (header_count < 0 || size_t(header_count) > r.left() / 2)
      Corrupt("record " + std::to_string(i) + " header count " + std::to_string(header_count) + " is impossible");
    rec.header_count = uint32_t(header_count);
    if (headers != nullptr) rec.first_header = uint32_t(headers->size());
    for (int32_t h = 0; h < header_count; h++) {
      DecodedHeader hd{};
      hd.key_len = r.Bytes(base, &hd.key_pos, false, "header key");
      hd.value_len = r.Bytes(base, &hd.value_pos, true, "header value");
      if (headers != nullptr) headers->push_back(hd);
    }
    if (r.p != r.end)
      Corrupt("record " + std::to_string(i) + " has " + std::to_string(r.left()) + " bytes beyond its fields");
    on_record(rec);
  }
  if (in.p != in.end) Corrupt(std::to_string(in.left()) + " bytes after the last record");
}

// Size, magic and CRC of the batch at p with `avail` bytes present. Returns its total size, or 0
// when it is cut short and `allow_truncated`.
size_t CheckBatch(const uint8_t* p, size_t avail, size_t position, bool verify_crc, bool allow_truncated) {
  const std::string where = " (batch at byte " + std::to_string(position) + ")";
  if (avail < size_t(kLogOverhead)) {
    if (allow_truncated) return 0;
    Corrupt("truncated batch: " + std::to_string(avail) + " bytes" + where);
  }
  const BatchHeaderView h{p};
  if (h.BatchLength() < kBatchHeaderSize - kLogOverhead)
    Corrupt("batch length " + std::to_string(h.BatchLength()) + " is below the minimum" + where);
  const size_t total = size_t(h.TotalSize());
  if (total > avail) {
    if (allow_truncated) return 0;
    Corrupt("batch of " + std::to_string(total) + " bytes but only " + std::to_string(avail) + " present" + where);
  }
  if (h.Magic() != kMagicV2) throw Error("INVALID_RECORD", "unsupported magic " + std::to_string(h.Magic()) + where);
  if (verify_crc) {
    const uint32_t actual = Crc32c(p + kAttributesPos, total - kAttributesPos);
    if (actual != h.Crc()) Corrupt("CRC mismatch" + where);
  }
  return total;
}

size_t VarlongSize(uint64_t zigzagged) {
  size_t n = 1;
  while (zigzagged >= 0x80) {
    zigzagged >>= 7;
    n++;
  }
  return n;
}
size_t VarintSize(uint32_t zigzagged) { return VarlongSize(zigzagged); }  // the same 7 bits a byte
uint32_t ZigZag32(int32_t v) { return (uint32_t(v) << 1) ^ uint32_t(v >> 31); }
uint64_t ZigZag64(int64_t v) { return (uint64_t(v) << 1) ^ uint64_t(v >> 63); }
uint8_t* PutVarint(uint8_t* p, uint64_t u) {
  while (u >= 0x80) {
    *p++ = uint8_t(u) | 0x80;
    u >>= 7;
  }
  *p++ = uint8_t(u);
  return p;
}

void CheckLength(int32_t len, const char* what, bool nullable) {
  if (len < (nullable ? -1 : 0)) throw Error("INVALID_ARGUMENT", std::string("invalid ") + what + " length");
}

}  // namespace

DecodedBatches DecodeBatches(const uint8_t* data, size_t len, const DecodeOptions& options) {
  DecodedBatches out;
  size_t pos = 0;
  while (pos < len) {
    const uint8_t* p = data + pos;
    const size_t total = CheckBatch(p, len - pos, pos, options.verify_crc, options.allow_truncated);
    if (total == 0) break;
    const BatchHeaderView h{p};
    DecodedBatch b{};
    b.position = pos;
    b.base_offset = h.BaseOffset();
    b.batch_length = h.BatchLength();
    b.partition_leader_epoch = h.LeaderEpoch();
    b.magic = h.Magic();
    b.crc = h.Crc();
    b.attributes = h.Attributes();
    b.last_offset_delta = h.LastOffsetDelta();
    b.base_timestamp = h.BaseTimestamp();
    b.max_timestamp = h.MaxTimestamp();
    b.producer_id = h.ProducerId();
    b.producer_epoch = h.ProducerEpoch();
    b.base_sequence = h.BaseSequence();
    b.records_count = h.RecordsCount();
    b.first_record = uint32_t(out.records.size());

    const uint8_t* base = data;
    ByteBuffer plain;
    auto [section, section_len] = PlainRecordsSection(p, total, options.max_decompressed_size, plain);
    b.source = -1;
    if (section != p + kRecordsPos) {  // decompressed: the output keeps the bytes records point into
      b.source = int32_t(out.buffers.size());
      out.buffers.push_back(std::move(plain));
      base = section = out.buffers.back().data();
    }
    const bool log_append_time = h.IsLogAppendTime();
    if (b.records_count > 0 && size_t(b.records_count) <= section_len / kMinRecordSize) {
      const size_t need = out.records.size() + size_t(b.records_count);
      if (need > out.records.capacity()) out.records.reserve(std::max(need, 2 * out.records.capacity()));
    }
    WalkRecords(base, section, section_len, b.records_count, &out.headers, [&](DecodedRecord& r) {
      // Unsigned arithmetic: deltas wrap exactly as the Java writer computed them.
      r.timestamp = log_append_time ? b.max_timestamp : int64_t(uint64_t(b.base_timestamp) + uint64_t(r.timestamp));
      r.offset = int64_t(uint64_t(b.base_offset) + uint64_t(r.offset));
      out.records.push_back(r);
    });
    out.batches.push_back(b);
    pos += total;
  }
  out.bytes_read = pos;
  return out;
}

BatchBuilder::BatchBuilder() { buf_.Resize(kRecordsPos); }

void BatchBuilder::Add(int64_t timestamp, const uint8_t* key, int32_t key_len, const uint8_t* value, int32_t value_len,
                       const HeaderInput* headers, size_t header_count) {
  if (last_delta_ == INT32_MAX) throw Error("INVALID_ARGUMENT", "too many records for one batch");
  AddAt(last_delta_ + 1, timestamp, key, key_len, value, value_len, headers, header_count);
}

void BatchBuilder::SetBaseTimestamp(int64_t ts) {
  if (count_ != 0) throw Error("INVALID_ARGUMENT", "the base timestamp must be set before the first record");
  base_timestamp_ = ts;
  base_timestamp_set_ = true;
}

void BatchBuilder::AddAt(int32_t delta, int64_t timestamp, const uint8_t* key, int32_t key_len, const uint8_t* value,
                         int32_t value_len, const HeaderInput* headers, size_t header_count) {
  CheckLength(key_len, "key", true);
  CheckLength(value_len, "value", true);
  if (delta <= last_delta_) {
    throw Error("INVALID_ARGUMENT",
                "offset delta " + std::to_string(delta) + " does not follow " + std::to_string(last_delta_));
  }
  if (count_ == INT32_MAX) throw Error("INVALID_ARGUMENT", "too many records for one batch");
  if (header_count > size_t(INT32_MAX)) throw Error("INVALID_ARGUMENT", "too many headers");
  if (count_ == 0) {
    if (!base_timestamp_set_) base_timestamp_ = timestamp;
    max_timestamp_ = timestamp;
  }
  if (timestamp > max_timestamp_) max_timestamp_ = timestamp;
  const uint64_t ts_delta = ZigZag64(int64_t(uint64_t(timestamp) - uint64_t(base_timestamp_)));
  const uint32_t offset_delta = ZigZag32(delta);

  // The body size comes first on the wire, so add it up before writing.
  uint64_t body = 1 + VarlongSize(ts_delta) + VarintSize(offset_delta);
  body += VarintSize(ZigZag32(key_len)) + uint64_t(std::max(key_len, 0));
  body += VarintSize(ZigZag32(value_len)) + uint64_t(std::max(value_len, 0));
  body += VarintSize(ZigZag32(int32_t(header_count)));
  for (size_t i = 0; i < header_count; i++) {
    CheckLength(headers[i].key_len, "header key", false);
    CheckLength(headers[i].value_len, "header value", true);
    body += VarintSize(ZigZag32(headers[i].key_len)) + uint64_t(headers[i].key_len);
    body += VarintSize(ZigZag32(headers[i].value_len)) + uint64_t(std::max(headers[i].value_len, 0));
  }
  if (body > uint64_t(INT32_MAX) || buf_.size() + body + 5 > compress::kMaxSize)
    throw Error("INVALID_ARGUMENT", "batch would exceed 2 GiB");

  const size_t start = buf_.size();
  const size_t need = start + size_t(body) + 5;  // 5: the length varint
  if (need > buf_.capacity()) buf_.Reserve(std::max(need, buf_.capacity() + buf_.capacity() / 2));
  uint8_t* w = buf_.data() + start;
  w = PutVarint(w, ZigZag32(int32_t(body)));
  *w++ = 0;  // attributes
  w = PutVarint(w, ts_delta);
  w = PutVarint(w, offset_delta);
  auto put_bytes = [&](const uint8_t* p, int32_t n) {
    w = PutVarint(w, ZigZag32(n));
    if (n > 0) {
      std::memcpy(w, p, size_t(n));
      w += n;
    }
  };
  put_bytes(key, key_len);
  put_bytes(value, value_len);
  w = PutVarint(w, ZigZag32(int32_t(header_count)));
  for (size_t i = 0; i < header_count; i++) {
    put_bytes(headers[i].key, headers[i].key_len);
    put_bytes(headers[i].value, headers[i].value_len);
  }
  buf_.Resize(size_t(w - buf_.data()));
  count_++;
  last_delta_ = delta;
}

namespace {

// Fills the header of a batch whose records section is already in place after kRecordsPos, then
// signs it. `attributes` carries codec and flags.
void WriteHeader(uint8_t* p, size_t total, int64_t base_offset, int32_t leader_epoch, uint16_t attributes,
                 int32_t last_offset_delta, int64_t base_timestamp, int64_t max_timestamp, int64_t producer_id,
                 int16_t producer_epoch, int32_t base_sequence, int32_t records_count) {
  StoreBE64(p + kBaseOffsetPos, uint64_t(base_offset));
  StoreBE32(p + kBatchLengthPos, uint32_t(total - kLogOverhead));
  StoreBE32(p + kLeaderEpochPos, uint32_t(leader_epoch));
  p[kMagicPos] = kMagicV2;
  StoreBE16(p + kAttributesPos, attributes);
  StoreBE32(p + kLastOffsetDeltaPos, uint32_t(last_offset_delta));
  StoreBE64(p + kBaseTimestampPos, uint64_t(base_timestamp));
  StoreBE64(p + kMaxTimestampPos, uint64_t(max_timestamp));
  StoreBE64(p + kProducerIdPos, uint64_t(producer_id));
  StoreBE16(p + kProducerEpochPos, uint16_t(producer_epoch));
  StoreBE32(p + kBaseSequencePos, uint32_t(base_sequence));
  StoreBE32(p + kRecordsCountPos, uint32_t(records_count));
  StoreBE32(p + kCrcPos, Crc32c(p + kAttributesPos, total - kAttributesPos));
}

void CheckTotal(size_t total) {
  if (total - kLogOverhead > size_t(INT32_MAX)) throw Error("INVALID_ARGUMENT", "batch would exceed 2 GiB");
}

}  // namespace

ByteBuffer BatchBuilder::Finish(const BuildOptions& o) {
  if (count_ == 0) throw Error("INVALID_ARGUMENT", "a batch needs at least one record");
  compress::CodecFromId(int(o.codec));
  if (o.last_offset_delta >= 0 && o.last_offset_delta < last_delta_) {
    throw Error("INVALID_ARGUMENT", "lastOffsetDelta " + std::to_string(o.last_offset_delta) +
                                        " is below the last record's " + std::to_string(last_delta_));
  }
  const int32_t last_offset_delta = o.last_offset_delta >= 0 ? o.last_offset_delta : last_delta_;
  uint16_t attributes = uint16_t(o.codec);
  if (o.log_append_time) attributes |= kTimestampTypeBit;
  if (o.transactional) attributes |= kTransactionalBit;
  if (o.control) attributes |= kControlBit;
  if (o.delete_horizon) attributes |= kDeleteHorizonBit;
  const int64_t max_timestamp = o.log_append_time ? o.log_append_time_ms : max_timestamp_;

  ByteBuffer out;
  if (o.codec == Codec::kNone) {
    out = std::move(buf_);
  } else {
    out.Reserve(kRecordsPos + (buf_.size() - kRecordsPos) / 2 + 64);
    out.Resize(kRecordsPos);
    compress::CompressAppend(o.codec, buf_.data() + kRecordsPos, buf_.size() - kRecordsPos, o.compression, out);
  }
  CheckTotal(out.size());
  WriteHeader(out.data(), out.size(), o.base_offset, o.partition_leader_epoch, attributes, last_offset_delta,
              base_timestamp_, max_timestamp, o.producer_id, o.producer_epoch, o.base_sequence, count_);
  out.ShrinkToFit();
  buf_ = ByteBuffer();
  buf_.Resize(kRecordsPos);
  count_ = 0;
  last_delta_ = -1;
  base_timestamp_set_ = false;
  return out;
}

ByteBuffer BuildHeaderOnlyBatch(const uint8_t* original) {
  const BatchHeaderView h{original};
  const uint16_t attributes = h.Attributes() & (kTimestampTypeBit | kTransactionalBit | kControlBit);
  ByteBuffer out;
  out.Resize(kRecordsPos);
  WriteHeader(out.data(), out.size(), h.BaseOffset(), h.LeaderEpoch(), attributes, h.LastOffsetDelta(),
              h.MaxTimestamp(), h.MaxTimestamp(), h.ProducerId(), h.ProducerEpoch(), h.BaseSequence(), 0);
  return out;
}

RecordsSection PlainRecordsSection(const uint8_t* batch, size_t size, size_t max_decompressed, ByteBuffer& scratch) {
  const BatchHeaderView h{batch};
  const Codec codec = compress::CodecFromId(h.Attributes() & kCodecMask);
  const uint8_t* section = batch + kRecordsPos;
  const size_t section_len = size - kRecordsPos;
  if (codec == Codec::kNone || (section_len == 0 && h.RecordsCount() == 0)) return {section, section_len};
  compress::DecompressAppend(codec, section, section_len, max_decompressed, scratch);
  return {scratch.data(), scratch.size()};
}

void CheckRecords(const uint8_t* batch, size_t size, const RecordChecks& checks, size_t max_decompressed) {
  const BatchHeaderView h{batch};
  ByteBuffer plain;
  const RecordsSection section = PlainRecordsSection(batch, size, max_decompressed, plain);
  const int64_t base_timestamp = h.BaseTimestamp();
  WalkRecords(section.data, section.data, section.size, h.RecordsCount(), nullptr, [&](const DecodedRecord& r) {
    if (checks.require_key && r.key_len < 0)
      throw Error("INVALID_RECORD", "Compacted topic cannot accept message without key");
    // r.timestamp and r.offset are deltas here; unsigned addition wraps as the Java writer's did.
    const int64_t ts = int64_t(uint64_t(base_timestamp) + uint64_t(r.timestamp));
    if (ts != -1 && (ts < checks.min_timestamp || ts > checks.max_timestamp)) {
      throw Error("INVALID_TIMESTAMP", "Timestamp " + std::to_string(ts) + " of record " + std::to_string(r.offset) +
                                           " of the batch is out of range. The timestamp should be within [" +
                                           std::to_string(checks.min_timestamp) + ", " +
                                           std::to_string(checks.max_timestamp) + "]");
    }
  });
}

ByteBuffer RecompressBatch(const uint8_t* batch, size_t len, Codec codec, const compress::CompressOptions& options,
                           size_t max_decompressed_size) {
  compress::CodecFromId(int(codec));
  const size_t total = CheckBatch(batch, len, 0, true, false);
  if (total != len)
    throw Error("INVALID_ARGUMENT", "expected exactly one batch: " + std::to_string(len - total) + " bytes follow it");
  const BatchHeaderView h{batch};
  ByteBuffer plain;
  const RecordsSection section = PlainRecordsSection(batch, total, max_decompressed_size, plain);
  WalkRecords(section.data, section.data, section.size, h.RecordsCount(), nullptr, [](DecodedRecord&) {});

  ByteBuffer out;
  out.Reserve(kRecordsPos + section.size / 2 + 64);
  out.Append(batch, kRecordsPos);
  compress::CompressAppend(codec, section.data, section.size, options, out);
  CheckTotal(out.size());
  const uint16_t attributes = uint16_t((h.Attributes() & ~kCodecMask) | uint16_t(codec));
  WriteHeader(out.data(), out.size(), h.BaseOffset(), h.LeaderEpoch(), attributes, h.LastOffsetDelta(),
              h.BaseTimestamp(), h.MaxTimestamp(), h.ProducerId(), h.ProducerEpoch(), h.BaseSequence(),
              h.RecordsCount());
  out.ShrinkToFit();
  return out;
}

}  // namespace brook::record
