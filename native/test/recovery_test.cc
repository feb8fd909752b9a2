// Crash recovery: what Open() does with a directory left by a crash, a torn write, bit rot, or a
// lost/garbled index (Kafka's LogLoader semantics, see log.cc).
#include <gtest/gtest.h>

#include "error.h"
#include "log_helpers.h"

using namespace brook;
using namespace brook::storage;
using namespace brook::test;

namespace {

const std::string kSeg0 = "00000000000000000000";

void TruncateFile(const std::string& path, uint64_t size) { File::Open(path, false)->Truncate(size); }
void FlipByte(const std::string& path, uint64_t pos) {
  auto f = File::Open(path, false);
  uint8_t b;
  f->PReadAll(&b, 1, pos);
  b ^= 0x5A;
  f->PWriteAll(&b, 1, pos);
}

// Five batches of 3 records in one segment, left without Close() (a crash). Returns batch ends.
std::vector<uint64_t> WriteAndCrash(const std::string& dir, LogConfig cfg = {}) {
  auto log = OpenLog(dir, cfg);
  std::vector<uint64_t> ends;
  for (int i = 0; i < 5; i++) {
    AppendBatch(*log, {.records = 3, .value_size = 20 + 7 * size_t(i), .base_timestamp = 100 * i});
    ends.push_back(log->size_bytes());
  }
  return ends;
}

}  // namespace

TEST(Recovery, TruncatesATornTailAtEveryCutPosition) {
  TempDir scratch;
  const auto ends = WriteAndCrash(scratch / "probe");
  for (uint64_t cut = 0; cut <= ends.back(); cut++) {
    const std::string dir = scratch / ("cut-" + std::to_string(cut));
    WriteAndCrash(dir);
    TruncateFile(dir + "/" + kSeg0 + ".log", cut);
    auto log = OpenLog(dir);
    size_t whole = 0;
    while (whole < ends.size() && ends[whole] <= cut) whole++;
    ASSERT_EQ(log->log_end_offset(), int64_t(whole) * 3) << "cut at " << cut;
    ASSERT_EQ(log->size_bytes(), whole ? ends[whole - 1] : 0) << "cut at " << cut;
    ASSERT_EQ(File::Open(dir + "/" + kSeg0 + ".log", false)->Size(), log->size_bytes());
    if (whole > 0) {
      ASSERT_EQ(BatchBases(ReadBytes(*log, 0)).size(), whole);
    }
    ASSERT_EQ(AppendBatch(*log).base_offset, int64_t(whole) * 3);  // and the log goes on
    ASSERT_EQ(BatchBases(ReadBytes(*log, 0)).size(), whole + 1);
    log.reset();
    RemoveTree(dir);
  }
}

TEST(Recovery, TruncatesAtTheFirstCorruptBatchWhereverTheDamageIs) {
  TempDir scratch;
  const auto ends = WriteAndCrash(scratch / "probe");
  // Damage every byte of batch 2 that recovery can check: batchLength (8..11), magic (16), CRC
  // (17..20) and everything the CRC covers (21..end). baseOffset and leader epoch are not
  // checksummed by design.
  for (uint64_t pos = ends[1]; pos < ends[2]; pos++) {
    const uint64_t rel = pos - ends[1];
    if (rel < 8 || (rel >= 12 && rel < 16)) continue;
    const std::string dir = scratch / ("flip-" + std::to_string(pos));
    WriteAndCrash(dir);
    FlipByte(dir + "/" + kSeg0 + ".log", pos);
    auto log = OpenLog(dir);
    ASSERT_EQ(log->log_end_offset(), 6) << "byte " << pos;
    ASSERT_EQ(log->size_bytes(), ends[1]) << "byte " << pos;
    log.reset();
    RemoveTree(dir);
  }
}

TEST(Recovery, DeletesSegmentsAfterATruncatedOne) {
  TempDir dir;
  LogConfig cfg;
  cfg.segment_bytes = 400;  // two batches per segment
  {
    auto log = OpenLog(dir.path(), cfg);
    for (int i = 0; i < 9; i++) AppendBatch(*log, {.records = 1, .value_size = 100});
    ASSERT_EQ(log->SegmentBaseOffsets(), (std::vector<int64_t>{0, 2, 4, 6, 8}));
  }
  FlipByte(dir / "00000000000000000002.log", 100);
  auto log = OpenLog(dir.path(), cfg);
  EXPECT_EQ(log->log_end_offset(), 2);
  EXPECT_EQ(log->SegmentBaseOffsets(), (std::vector<int64_t>{0, 2}));
  EXPECT_FALSE(PathExists(dir / "00000000000000000004.log"));
  EXPECT_EQ(AppendBatch(*log).base_offset, 2);
}

TEST(Recovery, ACleanShutdownSkipsTheScan) {
  TempDir dir;
  {
    auto log = OpenLog(dir.path());
    for (int i = 0; i < 4; i++) AppendBatch(*log, {.records = 2});
    log->Close();
  }
  const uint64_t size = File::Open(dir / (kSeg0 + ".log"), false)->Size();
  FlipByte(dir / (kSeg0 + ".log"), size - 3);  // bit rot in the last batch's records
  {
    auto log = OpenLog(dir.path());
    EXPECT_EQ(log->log_end_offset(), 8);  // trusted: the marker said it was flushed and intact
  }                                       // crash: the marker was consumed by Open
  auto log = OpenLog(dir.path());
  EXPECT_EQ(log->log_end_offset(), 6);  // this time recovery runs and finds the bad CRC
}

TEST(Recovery, OnlySegmentsFromTheRecoveryPointAreScanned) {
  TempDir dir;
  LogConfig cfg;
  cfg.segment_bytes = 250;
  {
    auto log = OpenLog(dir.path(), cfg);
    for (int i = 0; i < 4; i++) AppendBatch(*log, {.records = 1, .value_size = 100});
    log->Flush();  // [0, 4) durable: recovery point 4, in segment 4
    EXPECT_EQ(log->recovery_point(), 4);
    for (int i = 0; i < 4; i++) AppendBatch(*log, {.records = 1, .value_size = 100});
  }
  FlipByte(dir / "00000000000000000000.log", 100);  // below the recovery point: not scanned
  FlipByte(dir / "00000000000000000006.log", 100);  // above it: truncated
  auto log = OpenLog(dir.path(), cfg);
  EXPECT_EQ(log->log_end_offset(), 6);
  EXPECT_EQ(log->recovery_point(), 4);
  EXPECT_EQ(log->log_start_offset(), 0);
}

TEST(Recovery, WithoutACheckpointEverythingIsScanned) {
  TempDir dir;
  LogConfig cfg;
  cfg.segment_bytes = 250;
  {
    auto log = OpenLog(dir.path(), cfg);
    for (int i = 0; i < 6; i++) AppendBatch(*log, {.records = 1, .value_size = 100});
    log->Flush();
  }
  RemoveFile(dir / Log::kRecoveryPointFile);
  FlipByte(dir / "00000000000000000002.log", 100);
  auto log = OpenLog(dir.path(), cfg);
  EXPECT_EQ(log->log_end_offset(), 2);
}

TEST(Recovery, RebuildsMissingTornOrGarbledIndexes) {
  TempDir scratch;
  LogConfig cfg;
  cfg.index_interval_bytes = 64;
  enum Damage { kMissing, kTorn, kUnordered, kPastEnd, kWrongBatch, kTimeMissing, kTimeTorn };
  for (Damage d : {kMissing, kTorn, kUnordered, kPastEnd, kWrongBatch, kTimeMissing, kTimeTorn}) {
    const std::string dir = scratch / ("d" + std::to_string(int(d)));
    std::vector<OffsetIndex::Entry> before;
    {
      auto log = OpenLog(dir, cfg);
      for (int i = 0; i < 30; i++) AppendBatch(*log, {.records = 2, .value_size = 30, .base_timestamp = 10 * i});
      log->Close();
    }
    const std::string index = dir + "/" + kSeg0 + ".index";
    const std::string timeindex = dir + "/" + kSeg0 + ".timeindex";
    {
      auto f = File::Open(index, false);
      const uint64_t n = f->Size();
      ASSERT_GE(n, 32u);
      uint8_t e[8];
      switch (d) {
        case kMissing: RemoveFile(index); break;
        case kTorn: f->Truncate(n - 3); break;
        case kUnordered:
          f->PReadAll(e, 8, 0);
          f->PWriteAll(e, 8, 16);
          break;
        case kPastEnd: {
          uint8_t big[8] = {0x7f, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff};
          f->PWriteAll(big, 8, n);
          break;
        }
        case kWrongBatch:  // last entry names the right position but a wrong offset
          f->PReadAll(e, 8, n - 8);
          e[3] += 1;
          f->PWriteAll(e, 8, n - 8);
          break;
        case kTimeMissing: RemoveFile(timeindex); break;
        case kTimeTorn: File::Open(timeindex, false)->Truncate(5); break;
      }
    }
    auto log = OpenLog(dir, cfg);
    EXPECT_EQ(log->log_end_offset(), 60) << "damage " << d;
    for (int64_t o = 0; o < 60; o += 7) ASSERT_EQ(BatchBases(ReadBytes(*log, o, 1))[0], o / 2 * 2) << "damage " << d;
    EXPECT_EQ(log->OffsetForTimestamp(95)->offset, 20) << "damage " << d;
    EXPECT_GT(log->segment(0).offset_index().size(), 10u) << "damage " << d;
    log->Close();
    auto again = OpenLog(dir, cfg);  // the rebuilt index was written and is trusted now
    EXPECT_EQ(again->log_end_offset(), 60);
  }
}

TEST(Recovery, RemovesLeftoversFromInterruptedOperations) {
  TempDir dir;
  {
    auto log = OpenLog(dir.path());
    AppendBatch(*log);
    log->Close();
  }
  File::Open(dir / "00000000000000000099.log.deleted", true);
  File::Open(dir / (std::string(Log::kRecoveryPointFile) + ".tmp"), true);
  File::Open(dir / "00000000000000000200.index", true);  // index without a log
  auto log = OpenLog(dir.path());
  EXPECT_FALSE(PathExists(dir / "00000000000000000099.log.deleted"));
  EXPECT_FALSE(PathExists(dir / (std::string(Log::kRecoveryPointFile) + ".tmp")));
  EXPECT_FALSE(PathExists(dir / "00000000000000000200.index"));
  EXPECT_EQ(log->log_end_offset(), 1);
}
