// Log::AppendAsFollower: a follower copies the leader's batches byte for byte, offsets and partition
// leader epochs included, and refuses anything that does not continue its log exactly.
#include <gtest/gtest.h>

#include "compress/codec.h"
#include "error.h"
#include "log_helpers.h"

using namespace brook;
using namespace brook::storage;
using namespace brook::test;

namespace {

const std::string kSeg0 = "00000000000000000000";

// A batch as it sits in a leader's log: baseOffset and leader epoch set (both outside the CRC).
std::vector<uint8_t> LeaderBatch(int64_t base, int32_t epoch, const BatchSpec& spec = {}) {
  auto b = MakeBatch(spec);
  StoreBE64(&b[record::kBaseOffsetPos], uint64_t(base));
  StoreBE32(&b[record::kLeaderEpochPos], uint32_t(epoch));
  return b;
}

// A leader log with four batches: offsets 0-2 and 3-4 (one append) at epoch 3, then 5-8 and 9 at
// epoch 5, the last one gzip-compressed. Returns its whole content as Fetch would send it.
std::vector<uint8_t> FillLeader(Log& leader) {
  auto first = Concat({MakeBatch({.records = 3}), MakeBatch({.records = 2, .value_size = 30})});
  leader.Append(first.data(), first.size(), 3, 1000);
  auto third = MakeBatch({.records = 4, .base_timestamp = 2000});
  leader.Append(third.data(), third.size(), 5, 1000);
  std::vector<TestRecord> recs = {{.key = "k", .value = "compressed", .timestamp = 3000}};
  const auto section = EncodeRecords(recs);
  const auto z = compress::Compress(record::Codec::kGzip, section.data(), section.size());
  auto gz = MakeBatchWithSection(recs, std::vector<uint8_t>(z.data(), z.data() + z.size()),
                                 {.attributes = uint16_t(record::Codec::kGzip)});
  leader.Append(gz.data(), gz.size(), 5, 1000);
  return ReadBytes(leader, 0);
}

std::vector<int32_t> Epochs(Log& log) {
  std::vector<int32_t> out;
  for (const auto& h : log.BatchHeaders(0, 100)) out.push_back(h.leader_epoch);
  return out;
}

}  // namespace

TEST(Follower, KeepsTheLeadersOffsetsEpochsAndBytes) {
  TempDir dir;
  auto leader = OpenLog(dir / "leader");
  const auto bytes = FillLeader(*leader);
  auto follower = OpenLog(dir / "follower");
  const auto input = bytes;
  const auto r = follower->AppendAsFollower(input.data(), input.size(), 1000);
  EXPECT_EQ(r.base_offset, 0);
  EXPECT_EQ(r.last_offset, 9);
  EXPECT_EQ(r.log_append_time, -1);
  EXPECT_EQ(input, bytes);  // the caller's buffer is only read
  EXPECT_EQ(follower->log_end_offset(), 10);
  EXPECT_EQ(follower->unflushed_messages(), 10);
  EXPECT_EQ(ReadBytes(*follower, 0), bytes);
  EXPECT_EQ(ReadFileBytes(dir / "follower/" + kSeg0 + ".log"), ReadFileBytes(dir / "leader/" + kSeg0 + ".log"));
  EXPECT_EQ(Epochs(*follower), (std::vector<int32_t>{3, 3, 5, 5}));
  EXPECT_EQ(BatchBases(ReadBytes(*follower, 0)), (std::vector<int64_t>{0, 3, 5, 9}));
  // Reads by offset find every batch, through the index the follower built.
  EXPECT_EQ(BatchBases(ReadBytes(*follower, 6, 1)), std::vector<int64_t>{5});
  follower->CheckInvariants();
}

TEST(Follower, AppendsBatchByBatchAsWellAsAllAtOnce) {
  TempDir dir;
  auto leader = OpenLog(dir / "leader");
  const auto bytes = FillLeader(*leader);
  auto follower = OpenLog(dir / "follower");
  for (const auto& h : leader->BatchHeaders(0, 100)) {
    const auto r = follower->AppendAsFollower(bytes.data() + h.position, h.size, 1000);
    EXPECT_EQ(r.base_offset, h.base_offset);
    EXPECT_EQ(r.last_offset, h.last_offset);
  }
  EXPECT_EQ(ReadBytes(*follower, 0), bytes);
}

TEST(Follower, RefusesAGapOrAnOverlapWithTheLogEndAndWritesNothing) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  auto start = LeaderBatch(0, 1, {.records = 3});
  log->AppendAsFollower(start.data(), start.size(), 1000);
  const uint64_t size = log->size_bytes();
  for (int64_t base : {2, 4, 0, 100}) {
    auto b = LeaderBatch(base, 1);
    EXPECT_EQ(ErrorCode([&] { log->AppendAsFollower(b.data(), b.size(), 1000); }), "OFFSET_MISMATCH") << base;
  }
  // Within one buffer: the second batch must start right after the first one's last offset.
  for (int64_t second : {5, 7, 3}) {
    auto buf = Concat({LeaderBatch(3, 1, {.records = 3}), LeaderBatch(second, 1)});
    EXPECT_EQ(ErrorCode([&] { log->AppendAsFollower(buf.data(), buf.size(), 1000); }), "OFFSET_MISMATCH") << second;
  }
  EXPECT_EQ(log->log_end_offset(), 3);
  EXPECT_EQ(log->size_bytes(), size);
  EXPECT_EQ(File::Open(dir / (kSeg0 + ".log"), false)->Size(), size);
  auto next = Concat({LeaderBatch(3, 1, {.records = 3}), LeaderBatch(6, 2)});
  EXPECT_EQ(log->AppendAsFollower(next.data(), next.size(), 1000).last_offset, 6);
}

TEST(Follower, RefusesBadBytesBeforeWritingAny) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  const auto good = LeaderBatch(0, 1, {.records = 2});
  auto bad_crc = LeaderBatch(2, 1);
  bad_crc.back() ^= 1;
  auto bad_magic = LeaderBatch(2, 1);
  bad_magic[record::kMagicPos] = 1;
  auto too_many = LeaderBatch(2, 1, {.records = 2});  // recordsCount 3 for 2 offsets
  StoreBE32(&too_many[record::kRecordsCountPos], 3);
  Reseal(too_many);
  const auto second = LeaderBatch(2, 1, {.records = 2});
  const std::vector<uint8_t> partial(second.begin(), second.end() - 1);
  const std::vector<uint8_t> header_only(second.begin(), second.begin() + 14);
  const std::pair<std::vector<uint8_t>, std::string> cases[] = {
      {Concat({good, bad_crc}), "CORRUPT_MESSAGE"}, {Concat({good, bad_magic}), "CORRUPT_MESSAGE"},
      {Concat({good, partial}), "CORRUPT_MESSAGE"}, {Concat({good, header_only}), "CORRUPT_MESSAGE"},
      {Concat({good, too_many}), "INVALID_RECORD"}, {{}, "INVALID_RECORD"},
  };
  for (const auto& [buf, code] : cases) {
    EXPECT_EQ(ErrorCode([&] { log->AppendAsFollower(buf.data(), buf.size(), 1000); }), code) << buf.size();
    EXPECT_EQ(log->log_end_offset(), 0);
    EXPECT_EQ(log->size_bytes(), 0u);
  }
}

TEST(Follower, SkipsTheLeadersSizeAndTimestampChecks) {
  TempDir dir;
  // A leader append would refuse these batches on all three counts (size, keys, timestamps).
  auto log = OpenLog(dir.path(), {.max_message_bytes = 100, .cleanup_compact = true, .timestamp_before_max_ms = 10});
  auto big = LeaderBatch(0, 1, {.records = 5, .value_size = 200, .base_timestamp = 1});
  EXPECT_EQ(log->AppendAsFollower(big.data(), big.size(), 1'000'000).last_offset, 4);
}

TEST(Follower, AcceptsControlBatchesAndCompactedBatchesWithOffsetGaps) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  // A transaction marker: transactional + control bits, written by the leader's coordinator.
  auto marker = LeaderBatch(0, 4, {.producer_id = 7, .producer_epoch = 0, .attributes = 0x30});
  // A compacted batch: 2 records left of offsets 1-5 (the cleaner keeps lastOffsetDelta).
  auto compacted = LeaderBatch(1, 4, {.records = 2});
  StoreBE32(&compacted[record::kLastOffsetDeltaPos], 4);
  Reseal(compacted);
  auto after = LeaderBatch(6, 4);
  const auto buf = Concat({marker, compacted, after});
  const auto r = log->AppendAsFollower(buf.data(), buf.size(), 1000);
  EXPECT_EQ(r.last_offset, 6);
  EXPECT_EQ(log->log_end_offset(), 7);
  const auto headers = log->BatchHeaders(0, 10);
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_TRUE(headers[0].attributes & record::kControlBit);
  EXPECT_EQ(headers[1].last_offset, 5);
  EXPECT_EQ(ReadBytes(*log, 0), buf);
  EXPECT_EQ(BatchBases(ReadBytes(*log, 4, 1)), std::vector<int64_t>{1});
  log->CheckInvariants();
}

TEST(Follower, RollsSegmentsAsAppendDoes) {
  TempDir dir;
  const LogConfig cfg = SmallSegments(300);
  auto leader = OpenLog(dir / "leader", cfg);
  for (int i = 0; i < 8; i++) AppendBatch(*leader, {.records = 2, .value_size = 40});
  ASSERT_GT(leader->segment_count(), 2u);
  const auto bytes = ReadBytes(*leader, 0);
  auto follower = OpenLog(dir / "follower", cfg);
  size_t pos = 0;  // BatchInfo.position is within its segment; bytes runs across segments
  for (const auto& h : leader->BatchHeaders(0, 100)) {
    follower->AppendAsFollower(bytes.data() + pos, h.size, 1000);
    pos += h.size;
  }
  EXPECT_EQ(follower->SegmentBaseOffsets(), leader->SegmentBaseOffsets());
  for (int64_t base : leader->SegmentBaseOffsets()) {
    const std::string name = Segment::FileName("", base, ".log");
    EXPECT_EQ(ReadFileBytes(dir / "follower" + name), ReadFileBytes(dir / "leader" + name)) << base;
  }
  // By time as well: the active segment is older than segment.ms.
  LogConfig timed;
  timed.segment_ms = 100;
  auto log = OpenLog(dir / "timed", timed);
  auto a = LeaderBatch(0, 1);
  auto b = LeaderBatch(1, 1);
  log->AppendAsFollower(a.data(), a.size(), 1000);
  log->AppendAsFollower(b.data(), b.size(), 1200);
  EXPECT_EQ(log->SegmentBaseOffsets(), (std::vector<int64_t>{0, 1}));
  follower->CheckInvariants();
}

TEST(Follower, AppendedBatchesSurviveACrashAndAReopen) {
  TempDir dir;
  auto leader = OpenLog(dir / "leader", SmallSegments(300));
  for (int i = 0; i < 6; i++) {
    auto b = MakeBatch({.records = 2, .value_size = 40});
    leader->Append(b.data(), b.size(), i < 3 ? 3 : 5, 1000);
  }
  const auto bytes = ReadBytes(*leader, 0);
  {
    auto follower = OpenLog(dir / "follower", SmallSegments(300));
    follower->AppendAsFollower(bytes.data(), bytes.size(), 1000);
  }  // no Close(): recovery validates every batch again
  auto follower = OpenLog(dir / "follower", SmallSegments(300));
  EXPECT_EQ(follower->log_end_offset(), 12);
  EXPECT_EQ(ReadBytes(*follower, 0), bytes);
  EXPECT_EQ(Epochs(*follower), (std::vector<int32_t>{3, 3, 3, 5, 5, 5}));
  follower->Close();
  follower = OpenLog(dir / "follower", SmallSegments(300));  // clean: indexes loaded as written
  EXPECT_EQ(ReadBytes(*follower, 7), ReadBytes(*leader, 7));
}

TEST(Follower, TruncatesToABatchBoundaryAndFollowsTheNewLeader) {
  TempDir dir;
  auto old_leader = OpenLog(dir / "old");
  for (int i = 0; i < 3; i++) {
    auto b = MakeBatch({.records = 3});
    old_leader->Append(b.data(), b.size(), 3, 1000);
  }
  const auto old_bytes = ReadBytes(*old_leader, 0);
  auto follower = OpenLog(dir / "follower");
  follower->AppendAsFollower(old_bytes.data(), old_bytes.size(), 1000);
  // The new leader kept offsets 0-2 and wrote its own from 3 at epoch 5.
  auto new_leader = OpenLog(dir / "new");
  new_leader->AppendAsFollower(old_bytes.data(), size_t(record::BatchHeaderView{old_bytes.data()}.TotalSize()), 1000);
  for (int i = 0; i < 2; i++) {
    auto b = MakeBatch({.records = 4, .fill = 'n'});
    new_leader->Append(b.data(), b.size(), 5, 1000);
  }
  follower->TruncateTo(3, 1000);
  EXPECT_EQ(follower->log_end_offset(), 3);
  auto stale = LeaderBatch(6, 3, {.records = 3});
  EXPECT_EQ(ErrorCode([&] { follower->AppendAsFollower(stale.data(), stale.size(), 1000); }), "OFFSET_MISMATCH");
  const auto fresh = ReadBytes(*new_leader, 3);
  EXPECT_EQ(follower->AppendAsFollower(fresh.data(), fresh.size(), 1000).last_offset, 10);
  EXPECT_EQ(ReadBytes(*follower, 0), ReadBytes(*new_leader, 0));
  EXPECT_EQ(Epochs(*follower), (std::vector<int32_t>{3, 5, 5}));
  follower->CheckInvariants();
}
