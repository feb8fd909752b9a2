// Records: build/decode round trips with every codec (null keys and values, headers, negative
// timestamp deltas, 10k records), exact bytes of a small batch, LogAppendTime, several batches and
// truncated tails, recompression, and malformed input of every kind failing with a typed error.
#include "record/records.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "error.h"
#include "record/crc32c.h"
#include "test_batches.h"

namespace brook::record {
namespace {

using Bytes = std::vector<uint8_t>;
using compress::ByteBuffer;
using test::ErrorCode;

struct Rec {
  int64_t timestamp;
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

Bytes ToVec(const ByteBuffer& b) { return Bytes(b.data(), b.data() + b.size()); }

Bytes Build(const std::vector<Rec>& recs, BuildOptions opts = {}) {
  BatchBuilder b;
  for (const auto& r : recs) {
    std::vector<HeaderInput> hs;
    for (const auto& [k, v] : r.headers)
      hs.push_back({reinterpret_cast<const uint8_t*>(k.data()), int32_t(k.size()),
                    v ? reinterpret_cast<const uint8_t*>(v->data()) : nullptr, v ? int32_t(v->size()) : -1});
    b.Add(r.timestamp, r.key ? reinterpret_cast<const uint8_t*>(r.key->data()) : nullptr,
          r.key ? int32_t(r.key->size()) : -1, r.value ? reinterpret_cast<const uint8_t*>(r.value->data()) : nullptr,
          r.value ? int32_t(r.value->size()) : -1, hs.data(), hs.size());
  }
  return ToVec(b.Finish(opts));
}

// Decoded records back to Rec form, reading keys and values from the right source.
std::vector<Rec> Records(const Bytes& input, const DecodedBatches& d) {
  std::vector<Rec> out;
  for (const auto& b : d.batches) {
    const uint8_t* src = b.source < 0 ? input.data() : d.buffers[size_t(b.source)].data();
    auto str = [&](size_t pos, int32_t len) -> std::optional<std::string> {
      if (len < 0) return std::nullopt;
      return std::string(reinterpret_cast<const char*>(src + pos), size_t(len));
    };
    for (int32_t i = 0; i < b.records_count; i++) {
      const auto& r = d.records[b.first_record + size_t(i)];
      Rec rec{r.timestamp, str(r.key_pos, r.key_len), str(r.value_pos, r.value_len), {}};
      for (uint32_t h = 0; h < r.header_count; h++) {
        const auto& hd = d.headers[r.first_header + h];
        rec.headers.emplace_back(*str(hd.key_pos, hd.key_len), str(hd.value_pos, hd.value_len));
      }
      out.push_back(std::move(rec));
    }
  }
  return out;
}

bool operator==(const Rec& a, const Rec& b) {
  return a.timestamp == b.timestamp && a.key == b.key && a.value == b.value && a.headers == b.headers;
}

std::vector<Rec> Sample(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Rec> recs;
  for (size_t i = 0; i < n; i++) {
    Rec r;
    // Timestamps jump backwards as well as forwards: negative deltas.
    r.timestamp = 1700000000000 + int64_t(rng() % 20000) - 10000;
    if (rng() % 5 != 0) r.key = "user-" + std::to_string(rng() % 1000);
    if (rng() % 7 != 0) r.value = std::string(rng() % 300, char('a' + rng() % 26));
    for (size_t h = 0; h < rng() % 3; h++)
      r.headers.emplace_back("h" + std::to_string(h), rng() % 4 == 0 ? std::nullopt : std::optional<std::string>("v"));
    recs.push_back(std::move(r));
  }
  return recs;
}

// Recomputes the CRC after a test edits a batch, so the edit reaches the record parser.
void Resign(Bytes& b) { StoreBE32(b.data() + kCrcPos, Crc32c(b.data() + kAttributesPos, b.size() - kAttributesPos)); }

// An uncompressed batch around hand-written record bytes.
Bytes BatchAround(const Bytes& records, int32_t count) {
  Bytes b(kRecordsPos, 0);
  b.insert(b.end(), records.begin(), records.end());
  StoreBE32(b.data() + kBatchLengthPos, uint32_t(b.size() - kLogOverhead));
  b[kMagicPos] = 2;
  StoreBE32(b.data() + kLastOffsetDeltaPos, uint32_t(count - 1));
  StoreBE32(b.data() + kRecordsCountPos, uint32_t(count));
  StoreBE64(b.data() + kProducerIdPos, uint64_t(-1));
  Resign(b);
  return b;
}

constexpr Codec kAll[] = {Codec::kNone, Codec::kGzip, Codec::kSnappy, Codec::kLz4, Codec::kZstd};
class RecordsEveryCodec : public ::testing::TestWithParam<Codec> {};
INSTANTIATE_TEST_SUITE_P(Codecs, RecordsEveryCodec, ::testing::ValuesIn(kAll),
                         [](const auto& info) { return std::string(compress::CodecName(info.param)); });

TEST(Records, BuildsTheExactBytesOfASmallBatch) {
  BuildOptions o;
  o.base_offset = 5;
  const Bytes b = Build({{1000, "k", "v", {}}}, o);
  // Record: length 8 (zigzag 0x10), attributes 0, timestampDelta 0, offsetDelta 0,
  // key length 1 (0x02) 'k', value length 1 (0x02) 'v', no headers.
  const Bytes record = {0x10, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x00};
  ASSERT_EQ(b.size(), size_t(kRecordsPos) + record.size());
  EXPECT_EQ(Bytes(b.begin() + kRecordsPos, b.end()), record);
  const BatchHeaderView h{b.data()};
  EXPECT_EQ(h.BaseOffset(), 5);
  EXPECT_EQ(h.BatchLength(), 58);
  EXPECT_EQ(h.LeaderEpoch(), -1);
  EXPECT_EQ(h.Magic(), 2);
  EXPECT_EQ(h.Attributes(), 0);
  EXPECT_EQ(h.LastOffsetDelta(), 0);
  EXPECT_EQ(h.BaseTimestamp(), 1000);
  EXPECT_EQ(h.MaxTimestamp(), 1000);
  EXPECT_EQ(h.ProducerId(), -1);
  EXPECT_EQ(h.ProducerEpoch(), -1);
  EXPECT_EQ(h.BaseSequence(), -1);
  EXPECT_EQ(h.RecordsCount(), 1);
  EXPECT_EQ(h.Crc(), Crc32c(b.data() + kAttributesPos, b.size() - kAttributesPos));
}

TEST_P(RecordsEveryCodec, RoundTripsRecordsWithNullsHeadersAndNegativeTimestampDeltas) {
  const auto recs = Sample(500, 1);
  BuildOptions o;
  o.codec = GetParam();
  o.base_offset = 1000;
  o.producer_id = 77;
  o.producer_epoch = 3;
  o.base_sequence = 42;
  o.partition_leader_epoch = 9;
  o.transactional = true;
  const Bytes b = Build(recs, o);
  const auto d = DecodeBatches(b.data(), b.size());
  ASSERT_EQ(d.batches.size(), 1u);
  const auto& batch = d.batches[0];
  EXPECT_EQ(batch.base_offset, 1000);
  EXPECT_EQ(batch.producer_id, 77);
  EXPECT_EQ(batch.producer_epoch, 3);
  EXPECT_EQ(batch.base_sequence, 42);
  EXPECT_EQ(batch.partition_leader_epoch, 9);
  EXPECT_EQ(batch.attributes & kCodecMask, uint16_t(GetParam()));
  EXPECT_TRUE(batch.attributes & kTransactionalBit);
  EXPECT_EQ(batch.records_count, 500);
  EXPECT_EQ(batch.last_offset_delta, 499);
  EXPECT_EQ(batch.base_timestamp, recs[0].timestamp);
  int64_t max_ts = INT64_MIN;
  for (const auto& r : recs) max_ts = std::max(max_ts, r.timestamp);
  EXPECT_EQ(batch.max_timestamp, max_ts);
  EXPECT_EQ(d.bytes_read, b.size());
  EXPECT_EQ(Records(b, d), recs);
  for (int i = 0; i < 500; i++) EXPECT_EQ(d.records[size_t(i)].offset, 1000 + i);
}

TEST_P(RecordsEveryCodec, RoundTripsTenThousandRecords) {
  const auto recs = Sample(10000, 2);
  BuildOptions o;
  o.codec = GetParam();
  const Bytes b = Build(recs, o);
  const auto d = DecodeBatches(b.data(), b.size());
  EXPECT_EQ(Records(b, d), recs);
  EXPECT_EQ(d.batches[0].last_offset_delta, 9999);
}

TEST_P(RecordsEveryCodec, RecompressesToEveryOtherCodecKeepingHeaderFieldsAndRecords) {
  const auto recs = Sample(300, 3);
  BuildOptions o;
  o.codec = GetParam();
  o.base_offset = 12345;
  o.producer_id = 5;
  o.producer_epoch = 1;
  o.base_sequence = 10;
  o.log_append_time = true;
  o.log_append_time_ms = 1700000099999;
  const Bytes original = Build(recs, o);
  for (Codec to : kAll) {
    const Bytes re = ToVec(RecompressBatch(original.data(), original.size(), to));
    const BatchHeaderView a{original.data()}, b{re.data()};
    EXPECT_EQ(b.CompressionCodec(), to);
    EXPECT_EQ(b.Attributes() & ~kCodecMask, a.Attributes() & ~kCodecMask);
    EXPECT_EQ(b.BaseOffset(), a.BaseOffset());
    EXPECT_EQ(b.LeaderEpoch(), a.LeaderEpoch());
    EXPECT_EQ(b.LastOffsetDelta(), a.LastOffsetDelta());
    EXPECT_EQ(b.BaseTimestamp(), a.BaseTimestamp());
    EXPECT_EQ(b.MaxTimestamp(), a.MaxTimestamp());
    EXPECT_EQ(b.ProducerId(), a.ProducerId());
    EXPECT_EQ(b.ProducerEpoch(), a.ProducerEpoch());
    EXPECT_EQ(b.BaseSequence(), a.BaseSequence());
    EXPECT_EQ(b.RecordsCount(), a.RecordsCount());
    const auto da = DecodeBatches(original.data(), original.size());
    const auto db = DecodeBatches(re.data(), re.size());
    EXPECT_EQ(Records(re, db), Records(original, da));
  }
}

TEST(Records, RecompressRejectsBadCrcAndTrailingBytes) {
  Bytes b = Build(Sample(10, 4));
  Bytes trailing = b;
  trailing.push_back(0);
  EXPECT_EQ(ErrorCode([&] { RecompressBatch(trailing.data(), trailing.size(), Codec::kZstd); }), "INVALID_ARGUMENT");
  b[kRecordsPos + 3] ^= 1;
  EXPECT_EQ(ErrorCode([&] { RecompressBatch(b.data(), b.size(), Codec::kZstd); }), "CORRUPT_MESSAGE");
}

TEST(Records, LogAppendTimeGivesEveryRecordTheBatchMaxTimestamp) {
  BuildOptions o;
  o.log_append_time = true;
  o.log_append_time_ms = 1700000000123;
  const Bytes b = Build({{5, "a", "1", {}}, {9, "b", "2", {}}}, o);
  const BatchHeaderView h{b.data()};
  EXPECT_TRUE(h.IsLogAppendTime());
  EXPECT_EQ(h.MaxTimestamp(), 1700000000123);
  EXPECT_EQ(h.BaseTimestamp(), 5);
  const auto d = DecodeBatches(b.data(), b.size());
  for (const auto& r : d.records) EXPECT_EQ(r.timestamp, 1700000000123);
}

TEST(Records, ControlFlagIsWritten) {
  BuildOptions o;
  o.control = true;
  o.transactional = true;
  // Control record: key {version 0, type 1 = COMMIT}, value {version 0, coordinatorEpoch 0}.
  const Bytes b = Build({{1, std::string("\0\0\0\1", 4), std::string(6, '\0'), {}}}, o);
  const BatchHeaderView h{b.data()};
  EXPECT_TRUE(h.IsControl());
  EXPECT_TRUE(h.IsTransactional());
}

TEST(Records, DecodesSeveralBatchesAndStopsBeforeATruncatedTailWhenAllowed) {
  BuildOptions o;
  Bytes all;
  std::vector<Rec> expect;
  for (int i = 0; i < 3; i++) {
    o.codec = kAll[i + 1];
    o.base_offset = i * 100;
    auto recs = Sample(20, uint64_t(10 + i));
    Bytes b = Build(recs, o);
    all.insert(all.end(), b.begin(), b.end());
    expect.insert(expect.end(), recs.begin(), recs.end());
  }
  const auto d = DecodeBatches(all.data(), all.size());
  EXPECT_EQ(d.batches.size(), 3u);
  EXPECT_EQ(Records(all, d), expect);
  EXPECT_EQ(d.records[20].offset, 100);

  const size_t whole = all.size();
  Bytes cut(all.begin(), all.end() - 10);
  EXPECT_EQ(ErrorCode([&] { DecodeBatches(cut.data(), cut.size()); }), "CORRUPT_MESSAGE");
  DecodeOptions lenient;
  lenient.allow_truncated = true;
  const auto partial = DecodeBatches(cut.data(), cut.size(), lenient);
  EXPECT_EQ(partial.batches.size(), 2u);
  EXPECT_EQ(partial.bytes_read, whole - (whole - d.batches[2].position));
  Bytes tiny(all.begin(), all.begin() + 5);
  EXPECT_EQ(DecodeBatches(tiny.data(), tiny.size(), lenient).batches.size(), 0u);
}

TEST(Records, KeysAndValuesOfUncompressedBatchesPointIntoTheInput) {
  const Bytes b = Build({{1, "key", "value", {}}});
  const auto d = DecodeBatches(b.data(), b.size());
  EXPECT_EQ(d.batches[0].source, -1);
  EXPECT_TRUE(d.buffers.empty());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data() + d.records[0].key_pos), 3), "key");
}

TEST(Records, BatchLevelErrorsHaveTheirCodes) {
  Bytes b = Build(Sample(5, 5));
  Bytes bad = b;
  bad[kRecordsPos + 1] ^= 0x40;
  EXPECT_EQ(ErrorCode([&] { DecodeBatches(bad.data(), bad.size()); }), "CORRUPT_MESSAGE");  // CRC
  DecodeOptions no_crc;
  no_crc.verify_crc = false;
  EXPECT_NE(ErrorCode([&] { DecodeBatches(b.data(), b.size(), no_crc); }), "CORRUPT_MESSAGE");

  bad = b;
  bad[kMagicPos] = 1;
  EXPECT_EQ(ErrorCode([&] { DecodeBatches(bad.data(), bad.size()); }), "INVALID_RECORD");

  bad = b;
  StoreBE32(bad.data() + kBatchLengthPos, 48);
  EXPECT_EQ(ErrorCode([&] { DecodeBatches(bad.data(), bad.size()); }), "CORRUPT_MESSAGE");

  bad = b;
  StoreBE16(bad.data() + kAttributesPos, 5);
  Resign(bad);
  EXPECT_EQ(ErrorCode([&] { DecodeBatches(bad.data(), bad.size()); }), "UNSUPPORTED_CODEC");

  bad = b;
  StoreBE16(bad.data() + kAttributesPos, uint16_t(Codec::kZstd));  // claims zstd, holds plain records
  Resign(bad);
  EXPECT_EQ(ErrorCode([&] { DecodeBatches(bad.data(), bad.size()); }), "CODEC_ERROR");

  for (int32_t count : {0, 4, 6, -1, 1 << 30}) {
    bad = b;
    StoreBE32(bad.data() + kRecordsCountPos, uint32_t(count));
    Resign(bad);
    EXPECT_EQ(ErrorCode([&] { DecodeBatches(bad.data(), bad.size()); }), "CORRUPT_MESSAGE") << count;
  }
}

TEST(Records, AcceptsABatchWithNoRecords) {
  // Compaction can empty a batch and keep it for its offsets.
  const Bytes b = BatchAround({}, 0);
  const auto d = DecodeBatches(b.data(), b.size());
  ASSERT_EQ(d.batches.size(), 1u);
  EXPECT_TRUE(d.records.empty());
  // Also when its codec bits still name a codec: there is nothing to decompress.
  Bytes zstd = b;
  StoreBE16(zstd.data() + kAttributesPos, uint16_t(Codec::kZstd));
  Resign(zstd);
  EXPECT_EQ(DecodeBatches(zstd.data(), zstd.size()).batches.size(), 1u);
  EXPECT_EQ(RecompressBatch(zstd.data(), zstd.size(), Codec::kGzip).size() > size_t(kRecordsPos), true);
}

TEST(Records, MalformedRecordsFailWithCorruptMessage) {
  struct Case {
    const char* name;
    Bytes records;
    const char* code;
  };
  const std::vector<Case> cases = {
      {"varint of 6 bytes", {0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, "CORRUPT_MESSAGE"},
      {"truncated length varint", {0x80}, "CORRUPT_MESSAGE"},
      {"length past the end", {0x40, 0, 0, 0, 1, 1, 0}, "CORRUPT_MESSAGE"},
      {"zero length", {0x00, 0, 0, 0, 1, 1, 0}, "CORRUPT_MESSAGE"},
      {"negative length", {0x01, 0, 0, 0, 1, 1, 0}, "CORRUPT_MESSAGE"},
      {"key past the record", {0x0C, 0, 0, 0, 0x0A, 'k', 1, 0}, "CORRUPT_MESSAGE"},
      {"key length -2", {0x0C, 0, 0, 0, 0x03, 1, 0, 0}, "CORRUPT_MESSAGE"},
      {"value past the record", {0x0C, 0, 0, 0, 1, 0x08, 'v', 0}, "CORRUPT_MESSAGE"},
      {"negative header count", {0x0C, 0, 0, 0, 1, 1, 0x01, 0}, "CORRUPT_MESSAGE"},
      {"header count too big", {0x0C, 0, 0, 0, 1, 1, 0x7E, 0}, "CORRUPT_MESSAGE"},
      {"null header key", {0x10, 0, 0, 0, 1, 1, 0x02, 0x01, 0x01}, "INVALID_RECORD"},
      {"header value past the record", {0x0E, 0, 0, 0, 1, 1, 0x02, 0x00, 0x10}, "CORRUPT_MESSAGE"},
      {"bytes left inside the record", {0x10, 0, 0, 0, 1, 1, 0, 0xAA, 0xBB}, "CORRUPT_MESSAGE"},
      {"bytes after the last record", {0x0C, 0, 0, 0, 1, 1, 0, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF}, "CORRUPT_MESSAGE"},
      {"varlong of 11 bytes",
       {0x1C, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 1, 1, 0},
       "CORRUPT_MESSAGE"},
  };
  for (const auto& c : cases) {
    const Bytes b = BatchAround(c.records, 1);
    EXPECT_EQ(ErrorCode([&] { DecodeBatches(b.data(), b.size()); }), c.code) << c.name;
  }
  // And the well-formed neighbour decodes: length 6, null key, null value, no headers.
  const Bytes ok = BatchAround({0x0C, 0, 0, 0, 1, 1, 0}, 1);
  const auto d = DecodeBatches(ok.data(), ok.size());
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].key_len, -1);
  EXPECT_EQ(d.records[0].value_len, -1);
}

TEST(Records, RandomCorruptionOfRecordBytesNeverCrashes) {
  const Bytes good = Build(Sample(50, 6));
  std::mt19937_64 rng(7);
  int decoded = 0;
  for (int trial = 0; trial < 5000; trial++) {
    Bytes b = good;
    const int flips = 1 + int(rng() % 3);
    for (int i = 0; i < flips; i++) b[kRecordsPos + rng() % (b.size() - kRecordsPos)] = uint8_t(rng());
    Resign(b);
    try {
      DecodeBatches(b.data(), b.size());
      decoded++;
    } catch (const Error& e) {
      EXPECT_TRUE(e.code() == "CORRUPT_MESSAGE" || e.code() == "INVALID_RECORD") << e.code();
    }
  }
  EXPECT_LT(decoded, 5000);
}

TEST(Records, BuilderRejectsAnEmptyBatchAndBadLengths) {
  BatchBuilder b;
  EXPECT_EQ(ErrorCode([&] { b.Finish({}); }), "INVALID_ARGUMENT");
  EXPECT_EQ(ErrorCode([&] { b.Add(0, nullptr, -2, nullptr, -1); }), "INVALID_ARGUMENT");
  HeaderInput null_key{nullptr, -1, nullptr, -1};
  EXPECT_EQ(ErrorCode([&] { b.Add(0, nullptr, -1, nullptr, -1, &null_key, 1); }), "INVALID_ARGUMENT");
  BuildOptions o;
  o.codec = Codec(6);
  b.Add(0, nullptr, -1, nullptr, -1);
  EXPECT_EQ(ErrorCode([&] { b.Finish(o); }), "UNSUPPORTED_CODEC");
}

TEST(Records, ExtremeTimestampDeltasWrapExactly) {
  const std::vector<Rec> recs = {{INT64_MAX, "a", "1", {}}, {INT64_MIN, "b", "2", {}}, {-1, "c", "3", {}}};
  const Bytes b = Build(recs);
  EXPECT_EQ(Records(b, DecodeBatches(b.data(), b.size())), recs);
}

TEST_P(RecordsEveryCodec, BuilderTakesExplicitOffsetDeltasABaseTimestampAndALastOffsetDelta) {
  // What compaction writes: records 1, 4 and 5 of a batch that spanned deltas 0..7, with the
  // KIP-534 delete horizon as baseTimestamp.
  BatchBuilder b;
  b.SetBaseTimestamp(9000);
  const std::string k = "k", v = "v";
  auto p = [](const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); };
  b.AddAt(1, 1001, p(k), 1, p(v), 1);
  b.AddAt(4, 1004, p(k), 1, nullptr, -1);
  EXPECT_EQ(ErrorCode([&] { b.AddAt(4, 1, nullptr, -1, nullptr, -1); }), "INVALID_ARGUMENT");
  b.Add(1000, p(k), 1, p(v), 1);  // Add continues after the last delta: 5
  BuildOptions o;
  o.codec = GetParam();
  o.base_offset = 100;
  o.last_offset_delta = 7;
  o.delete_horizon = true;
  o.producer_id = 5;
  o.base_sequence = 10;
  const Bytes out = ToVec(b.Finish(o));
  const BatchHeaderView h{out.data()};
  EXPECT_EQ(h.LastOffsetDelta(), 7);
  EXPECT_EQ(h.RecordsCount(), 3);
  EXPECT_EQ(h.BaseTimestamp(), 9000);
  EXPECT_EQ(h.MaxTimestamp(), 1004);
  EXPECT_TRUE(h.Attributes() & kDeleteHorizonBit);
  EXPECT_EQ(int(h.CompressionCodec()), int(GetParam()));
  const auto d = DecodeBatches(out.data(), out.size());
  ASSERT_EQ(d.records.size(), 3u);
  EXPECT_EQ(d.records[0].offset, 101);
  EXPECT_EQ(d.records[1].offset, 104);
  EXPECT_EQ(d.records[2].offset, 105);
  EXPECT_EQ(d.records[0].timestamp, 1001);
  EXPECT_EQ(d.records[1].timestamp, 1004);
  EXPECT_EQ(d.records[2].timestamp, 1000);
  EXPECT_EQ(d.records[1].value_len, -1);
  // The builder is reusable, and a last_offset_delta below the last record is refused.
  b.AddAt(3, 0, nullptr, -1, nullptr, -1);
  o.last_offset_delta = 2;
  EXPECT_EQ(ErrorCode([&] { b.Finish(o); }), "INVALID_ARGUMENT");
  EXPECT_EQ(ErrorCode([&] { b.SetBaseTimestamp(1); }), "INVALID_ARGUMENT");
}

TEST(Records, HeaderOnlyBatchKeepsTheProducerFieldsAndOffsetSpan) {
  BuildOptions o;
  o.codec = Codec::kLz4;
  o.base_offset = 50;
  o.partition_leader_epoch = 3;
  o.producer_id = 77;
  o.producer_epoch = 2;
  o.base_sequence = 40;
  o.transactional = true;
  const Bytes full = Build({{1000, "a", "1", {}}, {2000, "b", "2", {}}}, o);
  const Bytes empty = ToVec(BuildHeaderOnlyBatch(full.data()));
  ASSERT_EQ(empty.size(), size_t(kBatchHeaderSize));
  const BatchHeaderView h{empty.data()};
  EXPECT_EQ(h.BaseOffset(), 50);
  EXPECT_EQ(h.LastOffsetDelta(), 1);
  EXPECT_EQ(h.RecordsCount(), 0);
  EXPECT_EQ(h.LeaderEpoch(), 3);
  EXPECT_EQ(h.ProducerId(), 77);
  EXPECT_EQ(h.ProducerEpoch(), 2);
  EXPECT_EQ(h.BaseSequence(), 40);
  EXPECT_EQ(h.BaseTimestamp(), 2000);
  EXPECT_EQ(h.MaxTimestamp(), 2000);
  EXPECT_EQ(h.Attributes(), kTransactionalBit);  // codec none
  EXPECT_EQ(DecodeBatches(empty.data(), empty.size()).records.size(), 0u);
}

TEST_P(RecordsEveryCodec, CheckRecordsRefusesANullKeyAnywhereInTheBatch) {
  BuildOptions o;
  o.codec = GetParam();
  const RecordChecks keys{.require_key = true};
  const Bytes keyed = Build({{1, "a", "1", {}}, {2, "b", std::nullopt, {}}}, o);
  EXPECT_NO_THROW(CheckRecords(keyed.data(), keyed.size(), keys));
  const Bytes keyless = Build({{1, "a", "1", {}}, {2, std::nullopt, "2", {}}}, o);
  EXPECT_NO_THROW(CheckRecords(keyless.data(), keyless.size(), RecordChecks{}));
  try {
    CheckRecords(keyless.data(), keyless.size(), keys);
    FAIL() << "accepted a null key";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "INVALID_RECORD");
    EXPECT_STREQ(e.what(), "Compacted topic cannot accept message without key");
  }
  Bytes broken = BatchAround(Bytes{0x02, 0x00}, 1);  // a record whose length says 1 byte
  EXPECT_EQ(ErrorCode([&] { CheckRecords(broken.data(), broken.size(), keys); }), "CORRUPT_MESSAGE");
}

TEST_P(RecordsEveryCodec, CheckRecordsRefusesATimestampOutsideTheBoundsAnywhereInTheBatch) {
  BuildOptions o;
  o.codec = GetParam();
  const RecordChecks window{.min_timestamp = 1000, .max_timestamp = 2000};
  const Bytes inside = Build({{1000, "a", "1", {}}, {2000, "b", "2", {}}, {1500, "c", "3", {}}}, o);
  EXPECT_NO_THROW(CheckRecords(inside.data(), inside.size(), window));
  // The batch's base timestamp is in range; the third record is not (so is its maxTimestamp: a
  // check of the header alone would miss the first case below).
  for (int64_t bad : {int64_t(999), int64_t(2001)}) {
    const Bytes outside = Build({{1500, "a", "1", {}}, {1600, "b", "2", {}}, {bad, "c", "3", {}}}, o);
    try {
      CheckRecords(outside.data(), outside.size(), window);
      FAIL() << "accepted timestamp " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "INVALID_TIMESTAMP");
      EXPECT_EQ(std::string(e.what()),
                "Timestamp " + std::to_string(bad) +
                    " of record 2 of the batch is out of range. The timestamp should be within [1000, 2000]");
    }
  }
  // -1 means "no timestamp" and is never checked, as in Kafka.
  const Bytes none = Build({{1500, "a", "1", {}}, {-1, "b", "2", {}}}, o);
  EXPECT_NO_THROW(CheckRecords(none.data(), none.size(), window));
}

}  // namespace
}  // namespace brook::record
