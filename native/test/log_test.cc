#include "storage/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>
#include <set>
#include <thread>

#include "compress/codec.h"
#include "error.h"
#include "log_helpers.h"

using namespace brook;
using namespace brook::storage;
using namespace brook::test;

TEST(Log, AppendAssignsConsecutiveOffsetsAndReadsThemBack) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  EXPECT_EQ(log->log_end_offset(), 0);
  auto r1 = AppendBatch(*log, {.records = 3});
  auto r2 = AppendBatch(*log, {.records = 2});
  EXPECT_EQ(r1.base_offset, 0);
  EXPECT_EQ(r1.last_offset, 2);
  EXPECT_EQ(r2.base_offset, 3);
  EXPECT_EQ(r2.last_offset, 4);
  EXPECT_EQ(r1.log_append_time, -1);
  EXPECT_EQ(log->log_end_offset(), 5);
  EXPECT_EQ(BatchBases(ReadBytes(*log, 0)), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(BatchBases(ReadBytes(*log, 4)), (std::vector<int64_t>{3}));  // the batch containing 4
  EXPECT_TRUE(ReadBytes(*log, 5).empty());                               // == logEndOffset
  EXPECT_EQ(ErrorCode([&] { log->Read(6, 100, -1); }), "OFFSET_OUT_OF_RANGE");
  EXPECT_EQ(ErrorCode([&] { log->Read(-1, 100, -1); }), "OFFSET_OUT_OF_RANGE");
}

TEST(Log, MultipleBatchesInOneAppendAreWrittenTogether) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  auto b = Concat({MakeBatch({.records = 2}), MakeBatch({.records = 3})});
  auto r = log->Append(b.data(), b.size(), 4, 1000);
  EXPECT_EQ(r.base_offset, 0);
  EXPECT_EQ(r.last_offset, 4);
  auto bytes = ReadBytes(*log, 0);
  EXPECT_EQ(bytes, b);  // the caller's buffer was rewritten in place and stored as is
  EXPECT_EQ(record::BatchHeaderView{bytes.data()}.LeaderEpoch(), 4);
}

TEST(Log, ARejectedAppendWritesNothing) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  AppendBatch(*log);
  auto good = MakeBatch();
  auto bad = MakeBatch();
  bad[50] ^= 4;
  auto both = Concat({good, bad});
  EXPECT_EQ(ErrorCode([&] { log->Append(both.data(), both.size(), 0, 1000); }), "CORRUPT_MESSAGE");
  EXPECT_EQ(log->log_end_offset(), 1);
  EXPECT_EQ(log->size_bytes(), good.size());
  AppendBatch(*log);
  EXPECT_EQ(log->log_end_offset(), 2);
}

TEST(Log, LogAppendTimeTopicsStampBatches) {
  TempDir dir;
  LogConfig cfg;
  cfg.log_append_time = true;
  auto log = OpenLog(dir.path(), cfg);
  auto r = AppendBatch(*log, {.records = 2, .base_timestamp = 5}, 777);
  EXPECT_EQ(r.log_append_time, 777);
  auto bytes = ReadBytes(*log, 0);
  record::BatchHeaderView h{bytes.data()};
  EXPECT_TRUE(h.IsLogAppendTime());
  EXPECT_EQ(h.MaxTimestamp(), 777);
  BatchBases(bytes);  // CRC valid
}

TEST(Log, ReadReturnsAtLeastOneWholeBatchKip74) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  for (int i = 0; i < 5; i++) AppendBatch(*log, {.records = 1, .value_size = 1000});
  EXPECT_EQ(BatchBases(ReadBytes(*log, 0, 10)).size(), 1u);  // larger than maxBytes: still one
  EXPECT_EQ(BatchBases(ReadBytes(*log, 0, 0)).size(), 1u);
  const size_t one = ReadBytes(*log, 0, 1).size();
  EXPECT_EQ(BatchBases(ReadBytes(*log, 0, int64_t(one) * 2)).size(), 2u);
  EXPECT_EQ(BatchBases(ReadBytes(*log, 0, int64_t(one) * 2 + 5)).size(), 2u);  // never a partial batch
  EXPECT_EQ(BatchBases(ReadBytes(*log, 1, int64_t(one) * 3 - 1)), (std::vector<int64_t>{1, 2}));
}

TEST(Log, ReadStopsAtUpTo) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  for (int i = 0; i < 5; i++) AppendBatch(*log, {.records = 2});
  EXPECT_EQ(BatchBases(ReadBytes(*log, 0, INT32_MAX, 6)), (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(BatchBases(ReadBytes(*log, 0, INT32_MAX, 5)), (std::vector<int64_t>{0, 2}));  // 4..5 not below 5
  EXPECT_TRUE(ReadBytes(*log, 6, INT32_MAX, 6).empty());
  EXPECT_TRUE(ReadBytes(*log, 7, INT32_MAX, 6).empty());  // between HW and LEO: empty, not an error
}

TEST(Log, RollsBySizeAndReadsSpanSegments) {
  TempDir dir;
  LogConfig cfg;
  const size_t batch = MakeBatch({.value_size = 500}).size();
  cfg.segment_bytes = int64_t(batch * 3);
  auto log = OpenLog(dir.path(), cfg);
  for (int i = 0; i < 10; i++) AppendBatch(*log, {.value_size = 500});
  EXPECT_EQ(log->SegmentBaseOffsets(), (std::vector<int64_t>{0, 3, 6, 9}));
  EXPECT_TRUE(PathExists(dir / "00000000000000000003.log"));
  EXPECT_TRUE(PathExists(dir / "00000000000000000003.index"));
  EXPECT_TRUE(PathExists(dir / "00000000000000000003.timeindex"));
  auto slices = log->Read(1, INT32_MAX, -1);
  EXPECT_EQ(slices.size(), 4u);
  EXPECT_EQ(BatchBases(ReadBytes(*log, 1)), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(BatchBases(ReadBytes(*log, 2, int64_t(batch * 3))), (std::vector<int64_t>{2, 3, 4}));
}

TEST(Log, RollsByTime) {
  TempDir dir;
  LogConfig cfg;
  cfg.segment_ms = 1000;
  auto log = OpenLog(dir.path(), cfg);
  AppendBatch(*log, {}, 10'000);
  AppendBatch(*log, {}, 10'999);
  EXPECT_EQ(log->segment_count(), 1u);
  AppendBatch(*log, {}, 11'000);
  EXPECT_EQ(log->SegmentBaseOffsets(), (std::vector<int64_t>{0, 2}));
  AppendBatch(*log, {}, 11'500);
  EXPECT_EQ(log->segment_count(), 2u);
}

TEST(Log, SegmentJitterRollsEachSegmentAtARandomAgeUpToSegmentMs) {
  TempDir dir;
  LogConfig cfg;
  cfg.segment_ms = 1000;
  cfg.segment_jitter_ms = 5000;  // capped at segment.ms
  auto log = OpenLog(dir.path(), cfg);
  int64_t now = 10'000;
  std::vector<int64_t> ages;
  for (int roll = 0; roll < 30; roll++) {
    AppendBatch(*log, {}, now);  // the first batch of a segment
    const int64_t created = now;
    const size_t segments = log->segment_count();
    while (log->segment_count() == segments) AppendBatch(*log, {}, now += 10);
    ages.push_back(now - created);
  }
  for (int64_t age : ages) {
    EXPECT_GT(age, 0);
    EXPECT_LE(age, 1000);
  }
  EXPECT_GT(std::set<int64_t>(ages.begin(), ages.end()).size(), 5u) << "the jitter did not vary";
}

TEST(Log, RollsWhenTheIndexWouldOverflow) {
  TempDir dir;
  LogConfig cfg;
  cfg.index_interval_bytes = 1;     // an entry per batch (after the first)
  cfg.segment_index_bytes = 8 * 3;  // three entries
  auto log = OpenLog(dir.path(), cfg);
  for (int i = 0; i < 10; i++) AppendBatch(*log);
  EXPECT_EQ(log->SegmentBaseOffsets(), (std::vector<int64_t>{0, 4, 8}));
  EXPECT_EQ(BatchBases(ReadBytes(*log, 0)).size(), 10u);
}

TEST(Log, IndexEntriesPointAtBatchStartsWithTheBatchLastOffset) {
  TempDir dir;
  LogConfig cfg;
  cfg.index_interval_bytes = 100;
  auto log = OpenLog(dir.path(), cfg);
  for (int i = 0; i < 20; i++) AppendBatch(*log, {.records = 3, .value_size = 40});
  log->Flush();
  const auto& index = log->segment(0).offset_index();
  ASSERT_GT(index.size(), 3u);
  auto bytes = ReadBytes(*log, 0);
  for (size_t i = 0; i < index.size(); i++) {
    record::BatchHeaderView h{bytes.data() + index[i].position};
    EXPECT_EQ(h.LastOffset(), index[i].offset);  // what Kafka's DumpLogSegments verifies
  }
  // Every offset is found through the index.
  for (int64_t o = 0; o < 60; o++) EXPECT_EQ(BatchBases(ReadBytes(*log, o, 1))[0], o / 3 * 3);
}

TEST(Log, OffsetForTimestampFindsTheFirstRecordAtOrAfter) {
  TempDir dir;
  LogConfig cfg;
  cfg.index_interval_bytes = 50;
  auto log = OpenLog(dir.path(), cfg);
  // batch i: 4 records with timestamps 1000*i + {0,10,20,30}
  for (int i = 0; i < 30; i++) AppendBatch(*log, {.records = 4, .base_timestamp = 1000 * i, .timestamp_step = 10});
  auto r = log->OffsetForTimestamp(5015);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 5 * 4 + 2);
  EXPECT_EQ(r->timestamp, 5020);
  r = log->OffsetForTimestamp(5000);
  EXPECT_EQ(r->offset, 20);
  r = log->OffsetForTimestamp(-5);
  EXPECT_EQ(r->offset, 0);
  r = log->OffsetForTimestamp(5031);  // next batch
  EXPECT_EQ(r->offset, 24);
  EXPECT_EQ(r->timestamp, 6000);
  EXPECT_FALSE(log->OffsetForTimestamp(29031));
  auto m = log->MaxTimestamp();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->timestamp, 29030);
  EXPECT_EQ(m->offset, 119);
}

TEST(Log, OffsetForTimestampLooksInsideCompressedBatches) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  // One batch per codec, records at timestamps 1000*batch + {0, 10, 20, 30, 40}.
  const record::Codec codecs[] = {record::Codec::kGzip, record::Codec::kSnappy, record::Codec::kLz4,
                                  record::Codec::kZstd};
  for (int i = 0; i < 4; i++) {
    std::vector<TestRecord> recs;
    for (int j = 0; j < 5; j++)
      recs.push_back({.key = "k" + std::to_string(j), .value = "v", .timestamp = 1000 * i + 10 * j});
    const auto section = EncodeRecords(recs);
    const auto z = compress::Compress(codecs[i], section.data(), section.size());
    auto b = MakeBatchWithSection(recs, std::vector<uint8_t>(z.data(), z.data() + z.size()),
                                  {.attributes = uint16_t(codecs[i])});
    log->Append(b.data(), b.size(), 0, 1000);
  }
  for (int i = 0; i < 4; i++) {
    auto r = log->OffsetForTimestamp(1000 * i + 15);
    ASSERT_TRUE(r) << "batch " << i;
    EXPECT_EQ(r->offset, 5 * i + 2) << "batch " << i;
    EXPECT_EQ(r->timestamp, 1000 * i + 20) << "batch " << i;
  }
  // Within the batch whose records precede the log start offset, the first record after it.
  log->DeleteRecordsBefore(7, 1000);
  EXPECT_EQ(log->OffsetForTimestamp(1000)->offset, 7);
  EXPECT_EQ(log->OffsetForTimestamp(1035)->offset, 9);
}

TEST(Log, OffsetForTimestampAnswersWithTheBatchWhenItsRecordsDoNotDecompress) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  // A valid CRC over a zstd section that is not zstd: appends do not parse records, so it is stored.
  std::vector<TestRecord> recs = {{.key = "a", .timestamp = 100}, {.key = "b", .timestamp = 200}};
  auto b = MakeBatchWithSection(recs, std::vector<uint8_t>(40, 0x5a), {.attributes = 4});
  log->Append(b.data(), b.size(), 0, 1000);
  auto r = log->OffsetForTimestamp(150);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 0);
  EXPECT_EQ(r->timestamp, 200);
}

TEST(Log, TimestampBoundsRefuseAppendsOfCreateTimeRecordsOutsideThem) {
  TempDir dir;
  LogConfig cfg;
  cfg.timestamp_before_max_ms = 1000;
  cfg.timestamp_after_max_ms = 500;
  auto log = OpenLog(dir.path(), cfg);
  const int64_t now = 10000;
  // Records at now-1000 .. now+500 pass; one past either bound refuses the whole append.
  EXPECT_EQ(AppendBatch(*log, {.records = 4, .base_timestamp = now - 1000, .timestamp_step = 500}, now).last_offset, 3);
  auto early = MakeBatch({.records = 3, .base_timestamp = now, .timestamp_step = -501});
  EXPECT_EQ(ErrorCode([&] { log->Append(early.data(), early.size(), 0, now); }), "INVALID_TIMESTAMP");
  auto late = MakeBatch({.records = 2, .base_timestamp = now + 500, .timestamp_step = 1});
  EXPECT_EQ(ErrorCode([&] { log->Append(late.data(), late.size(), 0, now); }), "INVALID_TIMESTAMP");
  EXPECT_EQ(log->log_end_offset(), 4);
  EXPECT_EQ(BatchBases(ReadBytes(*log, 0)), (std::vector<int64_t>{0}));
  // LogAppendTime overwrites the timestamps, so nothing is checked.
  log->Close();
  cfg.log_append_time = true;
  log = OpenLog(dir.path(), cfg);
  EXPECT_EQ(log->Append(late.data(), late.size(), 0, now).base_offset, 4);
}

TEST(Log, MaxTimestampPointsAtTheRecordNotTheBatch) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  AppendBatch(*log, {.records = 3, .base_timestamp = 100, .timestamp_step = 0});
  AppendBatch(*log, {.records = 3, .base_timestamp = 500, .timestamp_step = -100});  // max is the first record
  AppendBatch(*log, {.records = 3, .base_timestamp = 200});
  auto m = log->MaxTimestamp();
  EXPECT_EQ(m->timestamp, 500);
  EXPECT_EQ(m->offset, 3);
}

TEST(Log, RestartKeepsOffsetsAndData) {
  TempDir dir;
  LogConfig cfg;
  cfg.segment_bytes = 2000;
  std::vector<uint8_t> before;
  {
    auto log = OpenLog(dir.path(), cfg);
    for (int i = 0; i < 25; i++) AppendBatch(*log, {.records = 2, .value_size = 100, .base_timestamp = i * 10});
    before = ReadBytes(*log, 0);
    log->Close();
    EXPECT_TRUE(PathExists(dir / Log::kCleanShutdownFile));
  }
  auto log = OpenLog(dir.path(), cfg);
  EXPECT_FALSE(PathExists(dir / Log::kCleanShutdownFile));
  EXPECT_EQ(log->log_end_offset(), 50);
  EXPECT_EQ(log->recovery_point(), 50);
  EXPECT_EQ(ReadBytes(*log, 0), before);
  EXPECT_EQ(log->OffsetForTimestamp(125)->offset, 26);
  EXPECT_EQ(log->MaxTimestamp()->timestamp, 241);
  auto r = AppendBatch(*log);
  EXPECT_EQ(r.base_offset, 50);
}

TEST(Log, FlushAdvancesAndPersistsTheRecoveryPoint) {
  TempDir dir;
  LogConfig cfg;
  cfg.flush_messages = 3;
  auto log = OpenLog(dir.path(), cfg);
  EXPECT_FALSE(AppendBatch(*log).flush_due);
  EXPECT_FALSE(AppendBatch(*log).flush_due);
  EXPECT_TRUE(AppendBatch(*log).flush_due);
  EXPECT_EQ(log->recovery_point(), 0);
  auto plan = log->PrepareFlush();
  AppendBatch(*log);  // after the capture: not covered
  std::thread worker([&] { Log::RunFlush(plan); });
  worker.join();
  log->CompleteFlush(plan);
  EXPECT_EQ(log->recovery_point(), 3);
  EXPECT_EQ(log->unflushed_messages(), 1);
  EXPECT_EQ(ReadFileBytes(dir / Log::kRecoveryPointFile), "0\n3\n");
}

TEST(Log, RetentionByTimeDeletesOldClosedSegmentsOnly) {
  TempDir dir;
  LogConfig cfg;
  cfg.segment_bytes = 300;
  cfg.retention_ms = 1000;
  cfg.file_delete_delay_ms = 0;
  auto log = OpenLog(dir.path(), cfg);
  for (int i = 0; i < 6; i++) AppendBatch(*log, {.value_size = 200, .base_timestamp = 1000 * i});
  ASSERT_EQ(log->segment_count(), 6u);
  // Segment i holds one batch with max timestamp 1000*i; at 2500 those older than 1500 go.
  EXPECT_EQ(log->ApplyRetention(2500), 2);
  EXPECT_EQ(log->log_start_offset(), 2);
  EXPECT_EQ(log->ApplyRetention(100000), 3);  // never the active segment
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_EQ(log->log_start_offset(), 5);
  EXPECT_FALSE(PathExists(dir / "00000000000000000000.log"));
  EXPECT_FALSE(PathExists(dir / "00000000000000000000.log.deleted"));
  EXPECT_EQ(ErrorCode([&] { log->Read(4, 100, -1); }), "OFFSET_OUT_OF_RANGE");
  EXPECT_EQ(BatchBases(ReadBytes(*log, 5)), (std::vector<int64_t>{5}));
}

TEST(Log, RetentionBySizeKeepsAtLeastRetentionBytes) {
  TempDir dir;
  LogConfig cfg;
  const int64_t batch = int64_t(MakeBatch({.value_size = 200}).size());
  cfg.segment_bytes = batch;  // one batch per segment
  cfg.retention_ms = -1;
  cfg.retention_bytes = batch * 3 + 1;
  cfg.file_delete_delay_ms = 0;
  auto log = OpenLog(dir.path(), cfg);
  for (int i = 0; i < 8; i++) AppendBatch(*log, {.value_size = 200});
  EXPECT_EQ(log->ApplyRetention(0), 4);  // 8 -> 4 segments: 4 * batch >= retention, 3 * batch would not be
  EXPECT_EQ(log->size_bytes(), uint64_t(batch * 4));
  EXPECT_EQ(log->log_start_offset(), 4);
  EXPECT_EQ(log->ApplyRetention(0), 0);
}

TEST(Log, DeletedSegmentsStayOpenForTheDeleteDelay) {
  TempDir dir;
  LogConfig cfg;
  cfg.segment_bytes = 100;
  cfg.retention_ms = 0;
  cfg.file_delete_delay_ms = 300;
  auto log = OpenLog(dir.path(), cfg);
  for (int i = 0; i < 3; i++) AppendBatch(*log, {.value_size = 100, .base_timestamp = 0});
  auto slices = log->Read(0, 100, -1);  // a fetch in flight on segment 0
  EXPECT_EQ(log->ApplyRetention(10'000), 2);
  EXPECT_TRUE(PathExists(dir / "00000000000000000000.log.deleted"));
  EXPECT_FALSE(PathExists(dir / "00000000000000000000.log"));
  std::vector<uint8_t> buf(slices[0].length);
  Log::CopySlices(slices, buf.data());  // still readable through the open descriptor
  EXPECT_EQ(BatchBases(buf), (std::vector<int64_t>{0}));
  usleep(350'000);
  log->Read(2, 100, -1);  // lazily reaps
  EXPECT_FALSE(PathExists(dir / "00000000000000000000.log.deleted"));
  EXPECT_EQ(log->pending_deletes(), 0u);
}

TEST(Log, DeleteRecordsBeforeAdvancesTheStartAndSurvivesRestart) {
  TempDir dir;
  LogConfig cfg;
  cfg.segment_bytes = 200;
  cfg.file_delete_delay_ms = 0;
  {
    auto log = OpenLog(dir.path(), cfg);
    for (int i = 0; i < 6; i++) AppendBatch(*log, {.records = 2, .value_size = 100});
    log->DeleteRecordsBefore(5, 1000);
    EXPECT_EQ(log->log_start_offset(), 5);
    EXPECT_EQ(log->SegmentBaseOffsets().front(), 4);  // segments [0,2) and [2,4) are gone
    EXPECT_EQ(ErrorCode([&] { log->Read(4, 100, -1); }), "OFFSET_OUT_OF_RANGE");
    EXPECT_EQ(BatchBases(ReadBytes(*log, 5, 1)), (std::vector<int64_t>{4}));  // the batch containing 5
    EXPECT_EQ(ErrorCode([&] { log->DeleteRecordsBefore(13, 1000); }), "OFFSET_OUT_OF_RANGE");
  }  // no Close(): crash
  auto log = OpenLog(dir.path(), cfg);
  EXPECT_EQ(log->log_start_offset(), 5);
  EXPECT_EQ(log->log_end_offset(), 12);
  log->DeleteRecordsBefore(12, 1000);  // everything: the active segment rolls and goes
  EXPECT_EQ(log->log_start_offset(), 12);
  EXPECT_EQ(log->SegmentBaseOffsets(), (std::vector<int64_t>{12}));
  EXPECT_TRUE(ReadBytes(*log, 12).empty());
  EXPECT_EQ(AppendBatch(*log).base_offset, 12);
}

TEST(Log, TruncateToDropsTheTailAcrossSegments) {
  TempDir dir;
  LogConfig cfg;
  cfg.segment_bytes = 200;
  cfg.file_delete_delay_ms = 0;
  cfg.index_interval_bytes = 1;
  auto log = OpenLog(dir.path(), cfg);
  for (int i = 0; i < 10; i++) AppendBatch(*log, {.records = 2, .value_size = 50, .base_timestamp = 100 * i});
  const auto segs = log->SegmentBaseOffsets();
  ASSERT_GT(segs.size(), 3u);
  log->TruncateTo(7, 1000);  // inside batch [6,7]: the batch goes
  EXPECT_EQ(log->log_end_offset(), 6);
  EXPECT_EQ(BatchBases(ReadBytes(*log, 0)), (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(log->MaxTimestamp()->timestamp, 201);
  EXPECT_EQ(AppendBatch(*log).base_offset, 6);
  log->TruncateTo(0, 1000);
  EXPECT_EQ(log->log_end_offset(), 0);
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_EQ(AppendBatch(*log).base_offset, 0);
  EXPECT_EQ(ErrorCode([&] { log->TruncateTo(5, 1000); }), "OFFSET_OUT_OF_RANGE");
  log->Close();
  auto again = OpenLog(dir.path(), cfg);
  EXPECT_EQ(again->log_end_offset(), 1);
}

TEST(Log, BatchHeadersForProducerStateRebuild) {
  TempDir dir;
  LogConfig cfg;
  cfg.segment_bytes = 150;
  auto log = OpenLog(dir.path(), cfg);
  for (int i = 0; i < 5; i++) {
    AppendBatch(*log, {.records = 2, .producer_id = 42, .producer_epoch = 3, .base_sequence = 2 * i});
  }
  auto h = log->BatchHeaders(3, 10);
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[0].base_offset, 2);
  EXPECT_EQ(h[0].last_offset, 3);
  EXPECT_EQ(h[0].producer_id, 42);
  EXPECT_EQ(h[0].producer_epoch, 3);
  EXPECT_EQ(h[3].base_sequence, 8);
  EXPECT_EQ(log->BatchHeaders(0, 2).size(), 2u);
  EXPECT_TRUE(log->BatchHeaders(10, 5).empty());
}

TEST(Log, UseAfterCloseIsClosed) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  log->Close();
  EXPECT_EQ(ErrorCode([&] { AppendBatch(*log); }), "CLOSED");
  EXPECT_EQ(ErrorCode([&] { log->Read(0, 1, -1); }), "CLOSED");
}

TEST(Log, DeleteRemovesTheDirectory) {
  TempDir dir;
  auto log = OpenLog(dir / "topic-0");
  AppendBatch(*log);
  log->Delete();
  EXPECT_FALSE(PathExists(dir / "topic-0"));
}

TEST(Log, UpdateConfigAppliesToTheOpenLog) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  AppendBatch(*log, {.value_size = 500});
  auto cfg = log->config();
  cfg.max_message_bytes = 100;
  log->UpdateConfig(cfg);
  EXPECT_EQ(ErrorCode([&] { AppendBatch(*log, {.value_size = 500}); }), "MESSAGE_TOO_LARGE");
  cfg.segment_bytes = 10;
  log->UpdateConfig(cfg);
  AppendBatch(*log);
  EXPECT_EQ(log->segment_count(), 2u);
}
