#include "record/batch.h"

#include <gtest/gtest.h>

#include "error.h"
#include "test_batches.h"

using namespace brook;
using namespace brook::record;
using brook::test::BatchSpec;
using brook::test::MakeBatch;

namespace {

std::string CodeOf(std::vector<uint8_t> b, int64_t max_bytes = 1048588) {
  std::vector<BatchSpan> spans;
  try {
    ValidateClientBatches(b.data(), b.size(), ValidateOptions{max_bytes}, &spans);
  } catch (const Error& e) {
    return e.code();
  }
  return "OK";
}

}  // namespace

TEST(Batch, AcceptsValidBatchesBackToBack) {
  auto b = test::Concat({MakeBatch({.records = 3}), MakeBatch({.records = 1}), MakeBatch({.records = 7})});
  std::vector<BatchSpan> spans;
  ValidateClientBatches(b.data(), b.size(), {}, &spans);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].count, 3);
  EXPECT_EQ(spans[2].count, 7);
  EXPECT_EQ(spans[1].pos, spans[0].size);
}

TEST(Batch, RejectsEmptyAndTruncatedInput) {
  EXPECT_EQ(CodeOf({}), "INVALID_RECORD");
  auto b = MakeBatch();
  for (size_t cut = 1; cut < b.size(); cut++) {
    EXPECT_EQ(CodeOf(std::vector<uint8_t>(b.begin(), b.begin() + cut)), "CORRUPT_MESSAGE") << "cut at " << cut;
  }
}

TEST(Batch, RejectsBatchLengthBelowMinimumOrPastTheBuffer) {
  auto b = MakeBatch();
  StoreBE32(&b[8], 48);  // 60 bytes total
  EXPECT_EQ(CodeOf(b), "CORRUPT_MESSAGE");
  b = MakeBatch();
  StoreBE32(&b[8], uint32_t(b.size()));  // 12 bytes too long
  EXPECT_EQ(CodeOf(b), "CORRUPT_MESSAGE");
  StoreBE32(&b[8], 0xFFFFFFFF);  // negative
  EXPECT_EQ(CodeOf(b), "CORRUPT_MESSAGE");
}

TEST(Batch, RejectsWrongMagicAndProducerAssignedOffsets) {
  auto b = MakeBatch();
  b[16] = 1;
  EXPECT_EQ(CodeOf(b), "INVALID_RECORD");
  b = MakeBatch();
  StoreBE64(&b[0], 5);
  EXPECT_EQ(CodeOf(b), "INVALID_RECORD");
}

TEST(Batch, RejectsBatchesOverMaxMessageBytes) {
  auto b = MakeBatch({.value_size = 1000});
  EXPECT_EQ(CodeOf(b, int64_t(b.size())), "OK");
  EXPECT_EQ(CodeOf(b, int64_t(b.size()) - 1), "MESSAGE_TOO_LARGE");
}

TEST(Batch, RejectsACorruptedByteAnywhereUnderTheCrc) {
  const auto good = MakeBatch({.records = 4, .value_size = 30});
  for (size_t pos = kAttributesPos; pos < good.size(); pos++) {
    for (uint8_t flip : {0x01, 0x80, 0xFF}) {
      auto b = good;
      b[pos] ^= flip;
      EXPECT_EQ(CodeOf(b), "CORRUPT_MESSAGE") << "byte " << pos << " ^ " << int(flip);
    }
  }
  // The CRC field itself.
  for (size_t pos = kCrcPos; pos < kAttributesPos; pos++) {
    auto b = good;
    b[pos] ^= 0x10;
    EXPECT_EQ(CodeOf(b), "CORRUPT_MESSAGE");
  }
}

TEST(Batch, RejectsInconsistentCounts) {
  auto b = MakeBatch({.records = 3});
  StoreBE32(&b[23], 1);  // lastOffsetDelta 1 with 3 records
  test::Reseal(b);
  EXPECT_EQ(CodeOf(b), "INVALID_RECORD");
  b = MakeBatch({.records = 1});
  StoreBE32(&b[57], 0);
  StoreBE32(&b[23], uint32_t(-1));
  test::Reseal(b);
  EXPECT_EQ(CodeOf(b), "INVALID_RECORD");
}

TEST(Batch, RejectsControlBatchesAndIdempotentBatchesWithoutSequence) {
  EXPECT_EQ(CodeOf(MakeBatch({.attributes = kControlBit})), "INVALID_RECORD");
  EXPECT_EQ(CodeOf(MakeBatch({.producer_id = 7, .producer_epoch = 0, .base_sequence = -1})), "INVALID_RECORD");
  EXPECT_EQ(CodeOf(MakeBatch({.producer_id = 7, .producer_epoch = 0, .base_sequence = 0})), "OK");
  // kafkajs: producerId -1 with baseSequence 0 is accepted.
  EXPECT_EQ(CodeOf(MakeBatch({.producer_id = -1, .base_sequence = 0})), "OK");
}

TEST(Batch, ErrorNamesTheBatchAndPosition) {
  auto good = MakeBatch();
  auto bad = MakeBatch();
  bad[40] ^= 1;
  auto b = test::Concat({good, bad});
  std::vector<BatchSpan> spans;
  try {
    ValidateClientBatches(b.data(), b.size(), {}, &spans);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("batch 1 at byte " + std::to_string(good.size())), std::string::npos)
        << e.what();
  }
}

TEST(Batch, AssignOffsetsRewritesOnlyBrokerFieldsAndKeepsTheCrcValid) {
  auto b = test::Concat({MakeBatch({.records = 3}), MakeBatch({.records = 2})});
  const auto before = b;
  std::vector<BatchSpan> spans;
  ValidateClientBatches(b.data(), b.size(), {}, &spans);
  EXPECT_EQ(AssignOffsets(b.data(), spans, 100, 7, -1), 105);
  BatchHeaderView h0{b.data()}, h1{b.data() + spans[1].pos};
  EXPECT_EQ(h0.BaseOffset(), 100);
  EXPECT_EQ(h1.BaseOffset(), 103);
  EXPECT_EQ(h0.LeaderEpoch(), 7);
  EXPECT_EQ(CheckStoredBatch(b.data(), spans[0].size), StoredBatchCheck::kOk);
  EXPECT_EQ(CheckStoredBatch(b.data() + spans[1].pos, spans[1].size), StoredBatchCheck::kOk);
  // Everything from the magic byte on is untouched.
  EXPECT_TRUE(std::equal(b.begin() + 16, b.begin() + spans[0].size, before.begin() + 16));
}

TEST(Batch, LogAppendTimeSetsTheTimestampTypeAndRecomputesTheCrc) {
  auto b = MakeBatch({.records = 2, .base_timestamp = 5});
  std::vector<BatchSpan> spans;
  ValidateClientBatches(b.data(), b.size(), {}, &spans);
  AssignOffsets(b.data(), spans, 0, 0, 123456);
  BatchHeaderView h{b.data()};
  EXPECT_TRUE(h.IsLogAppendTime());
  EXPECT_EQ(h.MaxTimestamp(), 123456);
  EXPECT_EQ(h.BaseTimestamp(), 5);  // record timestamps are never rewritten
  EXPECT_EQ(CheckStoredBatch(b.data(), b.size()), StoredBatchCheck::kOk);
  EXPECT_EQ(spans[0].max_timestamp, 123456);
}

TEST(Batch, StoredBatchCheckTellsTornFromCorrupt) {
  auto b = MakeBatch({.records = 2});
  EXPECT_EQ(CheckStoredBatch(b.data(), 16), StoredBatchCheck::kTorn);
  EXPECT_EQ(CheckStoredBatch(b.data(), b.size() - 1), StoredBatchCheck::kTorn);
  auto c = b;
  StoreBE32(&c[8], 10);
  EXPECT_EQ(CheckStoredBatch(c.data(), c.size()), StoredBatchCheck::kCorrupt);
  c = b;
  c[b.size() - 1] ^= 1;
  EXPECT_EQ(CheckStoredBatch(c.data(), c.size()), StoredBatchCheck::kCorrupt);
}

TEST(Batch, WalksRecordTimestamps) {
  auto b = MakeBatch({.records = 4, .base_timestamp = 100, .timestamp_step = 10});
  std::vector<std::pair<int64_t, int64_t>> seen;
  EXPECT_TRUE(
      ForEachRecordTimestamp(b.data(), b.data() + kRecordsPos, b.size() - kRecordsPos, [&](int64_t o, int64_t t) {
        seen.push_back({o, t});
        return true;
      }));
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[3], (std::pair<int64_t, int64_t>{3, 130}));
}
