// Log compaction (storage/cleaner.h): what survives a pass, how batches are rebuilt, tombstones and
// their delete horizon, the swap protocol under crashes at every step, and passes that race appends,
// retention and truncation.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "compress/codec.h"
#include "error.h"
#include "log_helpers.h"
#include "record/records.h"

using namespace brook;
using namespace brook::storage;
using namespace brook::test;

namespace {

struct Rec {
  int64_t offset;
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp;
  bool operator==(const Rec& o) const {
    return offset == o.offset && key == o.key && value == o.value && timestamp == o.timestamp;
  }
};

std::ostream& operator<<(std::ostream& os, const Rec& r) {
  return os << "{" << r.offset << " " << r.key.value_or("<null>") << "=" << r.value.value_or("<null>") << " @"
            << r.timestamp << "}";
}

std::optional<std::string> Str(const uint8_t* base, size_t pos, int32_t len) {
  if (len < 0) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(base + pos), size_t(len));
}

// Every record from `from` (default: log start) to the log end, through Read() and the production
// decoder, after checking the bytes are whole batches with valid CRCs.
std::vector<Rec> AllRecords(Log& log, int64_t from = -1) {
  if (from < 0) from = log.log_start_offset();
  auto bytes = ReadBytes(log, from);
  BatchBases(bytes);
  auto d = record::DecodeBatches(bytes.data(), bytes.size());
  std::vector<Rec> out;
  for (const auto& b : d.batches) {
    const uint8_t* base = b.source < 0 ? bytes.data() : d.buffers[size_t(b.source)].data();
    for (uint32_t i = 0; i < uint32_t(b.records_count); i++) {
      const auto& r = d.records[b.first_record + i];
      out.push_back(Rec{r.offset, Str(base, r.key_pos, r.key_len), Str(base, r.value_pos, r.value_len), r.timestamp});
    }
  }
  return out;
}

// The latest record of each key among `recs` (what a full compaction keeps, tombstones included),
// in offset order.
std::vector<Rec> LatestPerKey(const std::vector<Rec>& recs, int64_t below = INT64_MAX) {
  std::map<std::string, Rec> latest;
  std::vector<Rec> tail;
  for (const auto& r : recs) {
    if (r.offset >= below) {
      tail.push_back(r);
    } else if (r.key) {
      latest.insert_or_assign(*r.key, r);
    }
  }
  std::vector<Rec> out;
  for (auto& [k, r] : latest) out.push_back(r);
  std::sort(out.begin(), out.end(), [](const Rec& a, const Rec& b) { return a.offset < b.offset; });
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

LogConfig CompactConfig(int64_t segment_bytes = 250) {
  LogConfig cfg;
  cfg.segment_bytes = segment_bytes;
  cfg.cleanup_compact = true;
  cfg.cleanup_delete = false;
  cfg.min_cleanable_dirty_ratio = 0;
  cfg.delete_retention_ms = 1000;
  cfg.index_interval_bytes = 0;  // an index entry per batch: lookups into cleaned segments are exercised
  cfg.file_delete_delay_ms = 0;
  return cfg;
}

AppendResult Put(Log& log, const std::string& key, const std::optional<std::string>& value, int64_t now = 1000,
                 const BatchSpec& spec = {}) {
  auto b = MakeKeyedBatch({{key, value, now}}, spec);
  return log.Append(b.data(), b.size(), 0, now);
}

CleanOptions Force(int64_t now = 1000) {
  CleanOptions o;
  o.now_ms = now;
  o.force = true;
  return o;
}

// Plans a forced pass; the test runs it with RunClean, as the libuv worker would.
std::unique_ptr<CleanPlan> PlanForced(Log& log) {
  CleanStats st;
  return log.PrepareClean(Force(), &st);
}

// No .cleaned file is left in dir.
void ExpectNoCleanedFiles(const std::string& dir) {
  for (const auto& name : ListDir(dir)) EXPECT_EQ(name.find(".cleaned"), std::string::npos) << name;
}

// 10 keys x 8 updates, one record per batch: 80 batches over many segments.
std::vector<Rec> FillUpdates(Log& log, int keys = 10, int rounds = 8) {
  for (int round = 0; round < rounds; round++) {
    for (int k = 0; k < keys; k++)
      Put(log, "key" + std::to_string(k), "v" + std::to_string(round) + "-" + std::to_string(k), 1000 + round);
  }
  return AllRecords(log);
}

std::vector<uint8_t> SegmentBytes(Log& log, int64_t base) {
  const Segment& s = log.segment(base);
  std::vector<uint8_t> out(s.size());
  s.log_file()->PReadAll(out.data(), out.size(), 0);
  return out;
}

}  // namespace

TEST(Cleaner, KeepsTheLatestRecordPerKeyWithItsOffset) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig());
  const auto before = FillUpdates(*log);
  ASSERT_GT(log->segment_count(), 5u);
  const int64_t active = log->SegmentBaseOffsets().back();
  const auto active_bytes = SegmentBytes(*log, active);
  const int64_t leo = log->log_end_offset();

  const CleanStats st = log->Clean(Force());
  EXPECT_EQ(st.skipped, "");
  EXPECT_GT(st.records_dropped, 0);
  EXPECT_GT(st.segments_rewritten + st.segments_removed, 0);
  EXPECT_EQ(st.cleaned_up_to, active);

  const auto after = AllRecords(*log);
  EXPECT_EQ(after, LatestPerKey(before, active));
  EXPECT_EQ(log->log_end_offset(), leo);
  EXPECT_EQ(SegmentBytes(*log, active), active_bytes) << "the active segment is never rewritten";
  EXPECT_EQ(log->clean_offset(), active);
}

TEST(Cleaner, FetchFromAnOffsetThatWasCompactedAwayReturnsTheNextRecords) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig());
  const auto before = FillUpdates(*log);
  log->Clean(Force());
  const auto after = AllRecords(*log);
  // Every offset of the original log, read from there, starts at the first retained record >= it.
  for (const auto& r : before) {
    const auto from = AllRecords(*log, r.offset);
    auto expected = std::find_if(after.begin(), after.end(), [&](const Rec& x) { return x.offset >= r.offset; });
    ASSERT_FALSE(from.empty());
    // Whole batches: the first batch returned contains the first retained offset >= r.offset.
    const auto first = std::find_if(from.begin(), from.end(), [&](const Rec& x) { return x.offset >= r.offset; });
    ASSERT_NE(first, from.end());
    EXPECT_EQ(*first, *expected) << "fetch at " << r.offset;
  }
}

TEST(Cleaner, SurvivesRestartWithCleanAndUncleanShutdown) {
  TempDir dir;
  std::vector<Rec> expected;
  {
    auto log = OpenLog(dir.path(), CompactConfig());
    FillUpdates(*log);
    log->Clean(Force());
    expected = AllRecords(*log);
    log->Close();
  }
  {
    auto log = OpenLog(dir.path(), CompactConfig());
    EXPECT_EQ(AllRecords(*log), expected);
    EXPECT_GT(log->clean_offset(), 0);
    Put(*log, "key0", "after-restart");
    // no Close(): a crash
  }
  auto log = OpenLog(dir.path(), CompactConfig());
  auto again = AllRecords(*log);
  ASSERT_EQ(again.size(), expected.size() + 1);
  EXPECT_EQ(again.back().value, "after-restart");
}

TEST(Cleaner, TheActiveSegmentIsNeitherMappedNorRewritten) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig(100000));
  for (int i = 0; i < 5; i++) Put(*log, "a", "old" + std::to_string(i));
  log->Flush();
  // Roll by hand: a big batch does not fit the remaining segment.
  LogConfig cfg = CompactConfig(400);
  log->UpdateConfig(cfg);
  Put(*log, "b", std::string(400, 'x'));  // rolls: segment 0 is closed
  Put(*log, "a", "new");
  const int64_t active = log->SegmentBaseOffsets().back();
  // The map covers the dirty section only (up to the active segment), so "a"@new in the active
  // segment does not reach into segment 0; the latest closed "a" survives.
  log->Clean(Force());
  auto recs = AllRecords(*log);
  std::vector<std::string> values;
  for (auto& r : recs) values.push_back(r.value.value_or("<null>").substr(0, 5));
  EXPECT_EQ(values, (std::vector<std::string>{"old4", "xxxxx", "new"}));
  EXPECT_EQ(log->SegmentBaseOffsets().back(), active);
}

TEST(Cleaner, TombstonesGetADeleteHorizonAndGoAfterDeleteRetention) {
  TempDir dir;
  auto cfg = CompactConfig();
  cfg.delete_retention_ms = 5000;
  auto log = OpenLog(dir.path(), cfg);
  Put(*log, "gone", "v1");
  Put(*log, "kept", "v1");
  Put(*log, "gone", std::nullopt);  // tombstone at offset 2
  for (int i = 0; i < 6; i++) Put(*log, "filler" + std::to_string(i), "x");
  ASSERT_GT(log->segment_count(), 2u);

  // Pass 1 at t=10000: v1 of "gone" is superseded; the tombstone stays and its batch gets the
  // horizon 10000 + 5000 (KIP-534: attribute bit 6, baseTimestamp = horizon).
  log->Clean(Force(10000));
  auto recs = AllRecords(*log);
  ASSERT_EQ(recs[0].key, "kept");
  ASSERT_EQ(recs[1].key, "gone");
  EXPECT_EQ(recs[1].value, std::nullopt);
  EXPECT_EQ(recs[1].offset, 2);
  EXPECT_EQ(recs[1].timestamp, 1000) << "record timestamps are unchanged by the horizon";
  const auto headers = log->BatchHeaders(2, 1);
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_TRUE(headers[0].attributes & record::kDeleteHorizonBit);
  EXPECT_EQ(headers[0].base_timestamp, 15000);
  EXPECT_EQ(headers[0].base_offset, 2);

  // The horizon makes the log eligible once it passes, whatever the dirty ratio.
  EXPECT_FALSE(log->Cleanable(14999).tombstones_due);
  EXPECT_TRUE(log->Cleanable(15000).tombstones_due);

  // Before the horizon: still there (and still the same bytes).
  log->Clean(Force(14999));
  EXPECT_EQ(AllRecords(*log).size(), recs.size());
  // At the horizon: gone, and so is every trace of the key.
  const CleanStats st = log->Clean(Force(15000));
  EXPECT_EQ(st.tombstones_dropped, 1);
  for (const auto& r : AllRecords(*log)) EXPECT_NE(r.key, "gone");
  EXPECT_FALSE(log->Cleanable(INT64_MAX).tombstones_due);
}

TEST(Cleaner, TheTombstoneHorizonSurvivesRestartInTheCheckpoint) {
  TempDir dir;
  auto cfg = CompactConfig();
  {
    auto log = OpenLog(dir.path(), cfg);
    Put(*log, "gone", std::nullopt);
    for (int i = 0; i < 6; i++) Put(*log, "filler" + std::to_string(i), "x");
    log->Clean(Force(10000));
    log->Close();
  }
  EXPECT_EQ(ReadFileBytes(dir / Log::kCleanerCheckpointFile).substr(0, 2), "0\n");
  auto log = OpenLog(dir.path(), cfg);
  EXPECT_FALSE(log->Cleanable(10999).tombstones_due);
  const auto info = log->Cleanable(11000);
  EXPECT_TRUE(info.tombstones_due);
  EXPECT_TRUE(info.eligible);
  CleanOptions o;
  o.now_ms = 11000;  // not forced: the due horizon alone triggers the pass
  EXPECT_EQ(log->Clean(o).tombstones_dropped, 1);
}

TEST(Cleaner, ATombstoneNotYetBelowTheCheckpointIsNeverDropped) {
  // A crash can leave a tombstone batch that already carries a horizon above the checkpoint (its
  // segment was swapped, the checkpoint not written). It must survive the next pass, which first
  // drops the older values of its key and only then advances the checkpoint.
  TempDir dir;
  auto cfg = CompactConfig();
  {
    auto log = OpenLog(dir.path(), cfg);
    Put(*log, "k", "v1");
    Put(*log, "k", std::nullopt);
    for (int i = 0; i < 6; i++) Put(*log, "filler" + std::to_string(i), "x");
    auto o = Force(10000);
    o.crash_at = 7;  // every segment swapped, checkpoint not written
    EXPECT_THROW(log->Clean(o), Error);
  }
  auto log = OpenLog(dir.path(), cfg);
  EXPECT_EQ(log->clean_offset(), 0);
  // Long after the horizon: the tombstone is still kept by this pass (it is in the dirty section)...
  log->Clean(Force(1'000'000));
  auto recs = AllRecords(*log);
  ASSERT_EQ(recs[0].key, "k");
  EXPECT_EQ(recs[0].value, std::nullopt);
  // ...and dropped by the next one.
  log->Clean(Force(1'000'000));
  for (const auto& r : AllRecords(*log)) EXPECT_NE(r.key, "k");
}

TEST(Cleaner, RecordsWithoutKeyAreRefusedOnCompactedLogsOnly) {
  TempDir dir;
  auto compacted = OpenLog(dir / "compact", CompactConfig());
  auto plain = OpenLog(dir / "delete");
  auto nokey = MakeKeyedBatch({{std::nullopt, "v"}});
  try {
    auto b = nokey;
    compacted->Append(b.data(), b.size(), 0, 1000);
    FAIL() << "accepted a record without a key";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "INVALID_RECORD");
    EXPECT_STREQ(e.what(), "Compacted topic cannot accept message without key");
  }
  EXPECT_EQ(compacted->log_end_offset(), 0);
  // Also when the keyless record hides in a compressed batch after keyed ones.
  std::vector<TestRecord> recs{{"a", "1"}, {std::nullopt, "2"}};
  auto section = EncodeRecords(recs);
  auto z = compress::Compress(record::Codec::kZstd, section.data(), section.size());
  auto zb = MakeBatchWithSection(recs, std::vector<uint8_t>(z.data(), z.data() + z.size()), {.attributes = 4});
  EXPECT_THROW(compacted->Append(zb.data(), zb.size(), 0, 1000), Error);
  EXPECT_EQ(compacted->log_end_offset(), 0);
  // A delete-only log takes both.
  auto b1 = nokey;
  EXPECT_EQ(plain->Append(b1.data(), b1.size(), 0, 1000).base_offset, 0);
  EXPECT_EQ(plain->Append(zb.data(), zb.size(), 0, 1000).base_offset, 1);
  // Switching the policy on the open log applies at once.
  auto cfg = LogConfig{};
  cfg.cleanup_compact = true;
  plain->UpdateConfig(cfg);
  auto b2 = nokey;
  EXPECT_THROW(plain->Append(b2.data(), b2.size(), 0, 1000), Error);
}

TEST(Cleaner, KeylessRecordsLeftFromADeletePolicyAreDroppedByTheCleaner) {
  TempDir dir;
  auto cfg = CompactConfig();
  cfg.cleanup_compact = false;
  cfg.cleanup_delete = true;
  auto log = OpenLog(dir.path(), cfg);
  Put(*log, "a", "1");
  AppendBatch(*log, {.records = 2});  // null keys
  for (int i = 0; i < 6; i++) Put(*log, "f" + std::to_string(i), "x");
  EXPECT_EQ(log->Clean(Force()).skipped, "not-compacted");
  cfg.cleanup_compact = true;
  log->UpdateConfig(cfg);
  log->Clean(Force());
  for (const auto& r : AllRecords(*log)) EXPECT_TRUE(r.key.has_value());
}

class CleanerCodec : public ::testing::TestWithParam<int> {};

TEST_P(CleanerCodec, PartiallyRetainedBatchesAreRebuiltWithTheSameCodecAndAbsoluteOffsets) {
  const auto codec = record::Codec(GetParam());
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig(100000));
  // Batch 0: offsets 0..5, keys a b c d e f, with headers and distinct timestamps, idempotent.
  std::vector<TestRecord> recs;
  for (int i = 0; i < 6; i++) {
    recs.push_back(
        {std::string(1, char('a' + i)), "value-" + std::to_string(i), 5000 + 10 * i, {{"h", std::to_string(i)}}});
  }
  auto section = EncodeRecords(recs);
  std::vector<uint8_t> payload = section;
  if (codec != record::Codec::kNone) {
    auto c = compress::Compress(codec, section.data(), section.size());
    payload.assign(c.data(), c.data() + c.size());
  }
  BatchSpec spec{.producer_id = 42, .producer_epoch = 3, .base_sequence = 0, .attributes = uint16_t(GetParam())};
  auto b0 = MakeBatchWithSection(recs, payload, spec);
  log->Append(b0.data(), b0.size(), 7, 1000);
  // Batch 1 supersedes a, c and f (f is batch 0's LAST record).
  auto b1 = MakeKeyedBatch({{"a", "A"}, {"c", "C"}, {"f", "F"}});
  log->Append(b1.data(), b1.size(), 7, 1000);
  log->UpdateConfig(CompactConfig(100));
  Put(*log, "roll", "x");  // rolls: both batches are in a closed segment

  log->Clean(Force());
  const auto headers = log->BatchHeaders(0, 10);
  ASSERT_GE(headers.size(), 2u);
  const auto& h = headers[0];
  EXPECT_EQ(h.base_offset, 0);
  EXPECT_EQ(h.last_offset, 5) << "lastOffsetDelta kept although the last record went";
  EXPECT_EQ(h.records_count, 3);
  EXPECT_EQ(h.attributes & record::kCodecMask, GetParam());
  EXPECT_EQ(h.producer_id, 42);
  EXPECT_EQ(h.producer_epoch, 3);
  EXPECT_EQ(h.base_sequence, 0);
  EXPECT_EQ(h.leader_epoch, 7);
  EXPECT_EQ(h.base_timestamp, 5010);  // the first retained record's
  EXPECT_EQ(h.max_timestamp, 5040);

  auto bytes = ReadBytes(*log, 0);
  auto d = record::DecodeBatches(bytes.data(), bytes.size());
  const auto& db = d.batches[0];
  const uint8_t* base = db.source < 0 ? bytes.data() : d.buffers[size_t(db.source)].data();
  std::vector<std::string> got;
  for (uint32_t i = 0; i < 3; i++) {
    const auto& r = d.records[db.first_record + i];
    ASSERT_EQ(r.header_count, 1u);
    const auto& hd = d.headers[r.first_header];
    got.push_back(std::to_string(r.offset) + ":" + *Str(base, r.key_pos, r.key_len) + "=" +
                  *Str(base, r.value_pos, r.value_len) + "@" + std::to_string(r.timestamp) + "/" +
                  *Str(base, hd.value_pos, hd.value_len));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"1:b=value-1@5010/1", "3:d=value-3@5030/3", "4:e=value-4@5040/4"}));
  // Batch 1 kept every record: copied byte for byte.
  EXPECT_EQ(headers[1].base_offset, 6);
  EXPECT_EQ(headers[1].records_count, 3);
}

INSTANTIATE_TEST_SUITE_P(Codecs, CleanerCodec, ::testing::Values(0, 1, 2, 3, 4),
                         [](const auto& info) { return std::string(compress::CodecName(record::Codec(info.param))); });

TEST(Cleaner, AnIdempotentProducersLastBatchLeavesAHeaderOnlyBatch) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig(100000));
  Put(*log, "k", "p1-0", 1000, {.producer_id = 9, .producer_epoch = 1, .base_sequence = 0});
  Put(*log, "k", "p1-1", 1000, {.producer_id = 9, .producer_epoch = 1, .base_sequence = 1});
  Put(*log, "k", "plain");  // supersedes both; producer 9 has no later batch
  log->UpdateConfig(CompactConfig(100));
  Put(*log, "roll", "x");
  const auto st = log->Clean(Force());
  EXPECT_EQ(st.empty_batches_kept, 1);
  EXPECT_EQ(st.batches_dropped, 1);
  const auto headers = log->BatchHeaders(0, 10);
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[0].base_offset, 1);
  EXPECT_EQ(headers[0].last_offset, 1);
  EXPECT_EQ(headers[0].records_count, 0);
  EXPECT_EQ(headers[0].producer_id, 9);
  EXPECT_EQ(headers[0].base_sequence, 1);
  EXPECT_EQ(headers[0].size, 61u);
  EXPECT_EQ(headers[1].base_offset, 2);
  // The header-only batch decodes as a batch without records.
  EXPECT_EQ(AllRecords(*log).front().value, "plain");
  // A second pass keeps it while it is still the producer's last.
  log->Clean(Force());
  EXPECT_EQ(log->BatchHeaders(0, 10).size(), 3u);
}

TEST(Cleaner, BelowTheDirtyRatioNothingRunsAndEachPassMapsOnlyTheDirtySection) {
  TempDir dir;
  auto cfg = CompactConfig();
  cfg.min_cleanable_dirty_ratio = 0.5;
  auto log = OpenLog(dir.path(), cfg);
  FillUpdates(*log, 10, 8);
  CleanOptions o;
  o.now_ms = 1000;
  const auto first = log->Clean(o);
  ASSERT_EQ(first.skipped, "");
  EXPECT_DOUBLE_EQ(first.dirty_ratio, 1.0);
  const int mapped_first = first.segments_mapped;
  // A little more data (one more closed segment): below the ratio.
  for (int i = 0; i < 4; i++) Put(*log, "key" + std::to_string(i), "late");
  const auto info = log->Cleanable(1000);
  EXPECT_LT(info.dirty_ratio, 0.5);
  EXPECT_EQ(log->Clean(o).skipped, "below-ratio");
  // Forced: maps only what was appended since the checkpoint.
  const auto forced = log->Clean(Force());
  EXPECT_EQ(forced.skipped, "");
  EXPECT_LT(forced.segments_mapped, mapped_first);
  EXPECT_EQ(forced.first_dirty, first.cleaned_up_to);
}

TEST(Cleaner, TheMapBudgetSplitsTheWorkAcrossPasses) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig());
  const auto before = FillUpdates(*log, 30, 4);
  const int64_t active = log->SegmentBaseOffsets().back();
  auto o = Force();
  o.map_bytes = 1;  // one segment per pass
  int passes = 0;
  while (log->clean_offset() < active) {
    const auto st = log->Clean(o);
    ASSERT_EQ(st.segments_mapped, 1);
    ASSERT_LT(++passes, 100);
  }
  EXPECT_GT(passes, 3);
  EXPECT_EQ(AllRecords(*log), LatestPerKey(before, active));
}

TEST(Cleaner, MinCompactionLagHoldsBackRecentSegments) {
  TempDir dir;
  auto cfg = CompactConfig();
  cfg.min_compaction_lag_ms = 10000;
  auto log = OpenLog(dir.path(), cfg);
  for (int i = 0; i < 6; i++) Put(*log, "k", "old" + std::to_string(i), 1000);
  for (int i = 0; i < 6; i++) Put(*log, "k", "new" + std::to_string(i), 50000);
  // At t=20000 only the segments whose records are all older than 10 s are cleanable.
  const auto st = log->Clean(Force(20000));
  EXPECT_EQ(st.skipped, "");
  auto recs = AllRecords(*log);
  int old = 0;
  for (auto& r : recs) old += r.value->rfind("old", 0) == 0;
  EXPECT_EQ(old, 1) << "only the latest old value survives in the cleanable part";
  EXPECT_EQ(recs.size(), 7u);
  // Later, everything but the active segment: the latest closed value plus the active segment.
  log->Clean(Force(100000));
  recs = AllRecords(*log);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].value, "new2");
}

TEST(Cleaner, CompactOnlyLogsIgnoreRetentionAndCompactDeleteLogsHaveBoth) {
  TempDir dir;
  auto cfg = CompactConfig();
  cfg.retention_ms = 1;
  auto compact_only = OpenLog(dir / "c", cfg);
  FillUpdates(*compact_only, 3, 4);
  EXPECT_EQ(compact_only->ApplyRetention(1'000'000), 0);
  cfg.cleanup_delete = true;
  auto both = OpenLog(dir / "cd", cfg);
  FillUpdates(*both, 3, 4);
  EXPECT_EQ(both->Clean(Force()).skipped, "");
  EXPECT_GT(both->ApplyRetention(1'000'000), 0);
  EXPECT_EQ(both->segment_count(), 1u);
}

// ---- crashes -------------------------------------------------------------------------------------

namespace {

// After a crash and Open(): no offset twice, nothing that was not in the original, every key's
// latest record present, and a second pass converges on the fully compacted log.
void ExpectConsistent(Log& log, const std::vector<Rec>& original, int64_t active, const std::string& what) {
  const auto recs = AllRecords(log);
  std::set<int64_t> seen;
  int64_t prev = -1;
  for (const auto& r : recs) {
    ASSERT_TRUE(seen.insert(r.offset).second) << what << ": offset " << r.offset << " twice";
    ASSERT_GT(r.offset, prev) << what;
    prev = r.offset;
    auto it = std::find_if(original.begin(), original.end(), [&](const Rec& o) { return o.offset == r.offset; });
    ASSERT_NE(it, original.end()) << what << ": unknown offset " << r.offset;
    ASSERT_EQ(*it, r) << what;
  }
  for (const auto& latest : LatestPerKey(original, active)) {
    if (latest.offset >= active) continue;
    ASSERT_TRUE(seen.count(latest.offset)) << what << ": lost the latest record " << latest;
  }
}

}  // namespace

TEST(Cleaner, ACrashAtEveryStepOfTheSwapLosesNothingAndDuplicatesNothing) {
  for (int step = 1; step <= 8; step++) {
    TempDir dir;
    std::vector<Rec> original;
    int64_t active;
    {
      auto log = OpenLog(dir.path(), CompactConfig());
      original = FillUpdates(*log);
      active = log->SegmentBaseOffsets().back();
      auto o = Force();
      o.crash_at = step;
      try {
        log->Clean(o);
        FAIL() << "no crash at step " << step;
      } catch (const Error& e) {
        ASSERT_EQ(e.code(), "TEST_CRASH");
      }
      // The Log object dies without Close(): files stay as the crash left them.
    }
    const std::string what = "crash at step " + std::to_string(step);
    auto log = OpenLog(dir.path(), CompactConfig());
    for (const auto& name : ListDir(dir.path())) {
      EXPECT_EQ(name.find(".cleaned"), std::string::npos) << what << ": " << name;
      EXPECT_EQ(name.find(".swap"), std::string::npos) << what << ": " << name;
      EXPECT_EQ(name.find(".deleted"), std::string::npos) << what << ": " << name;
    }
    ExpectConsistent(*log, original, active, what);
    if (step >= 7) {
      EXPECT_EQ(AllRecords(*log), LatestPerKey(original, active)) << what;
    } else if (step >= 3) {
      // Every replacement was committed (Open completed the .swap files); segments the pass was
      // removing outright may still be there, with only superseded records.
      EXPECT_LT(AllRecords(*log).size(), original.size()) << what;
    } else if (step == 1) {
      EXPECT_EQ(AllRecords(*log), original) << what << ": nothing had been committed";
    }
    log->Clean(Force());
    EXPECT_EQ(AllRecords(*log), LatestPerKey(original, active)) << what;
  }
}

TEST(Cleaner, OpenCompletesOrRollsBackHandMadeSwapStates) {
  // The states of cleaner.h's table, built file by file for one segment.
  TempDir dir;
  std::vector<Rec> original;
  std::vector<Rec> compacted;
  int64_t active;
  std::string probe = dir / "probe";
  {
    auto log = OpenLog(probe, CompactConfig());
    Put(*log, "unique", "only-once");  // segment 0 keeps this record when cleaned
    original = FillUpdates(*log);
    active = log->SegmentBaseOffsets().back();
    log->Close();
  }
  const std::string seg0 = "00000000000000000000";
  auto copy_file = [](const std::string& from, const std::string& to) {
    std::string bytes;
    ReadSmallFile(from, &bytes);
    auto f = File::Open(to, true);
    f->Truncate(0);
    f->PWriteAll(bytes.data(), bytes.size(), 0);
  };
  // Produce the cleaned segment 0 once, in a copy, to have its bytes.
  const std::string cleaned_dir = dir / "cleaned";
  MakeDirs(cleaned_dir);
  for (const auto& n : ListDir(probe)) copy_file(probe + "/" + n, cleaned_dir + "/" + n);
  {
    auto log = OpenLog(cleaned_dir, CompactConfig());
    log->Clean(Force());
    compacted = AllRecords(*log);
    log->Close();
  }
  ASSERT_TRUE(PathExists(cleaned_dir + "/" + seg0 + ".log")) << "segment 0 keeps a record";
  struct State {
    const char* name;
    bool keep_old_log, keep_old_index;
    const char* new_log_suffix;  // where the new .log is
    bool new_index_final;
    bool expect_new;
  };
  const State states[] = {
      {"cleaned only", true, true, ".log.cleaned", false, false},
      {"swap beside the old files", true, true, ".log.swap", false, true},
      {"swap, old renamed away", false, false, ".log.swap", false, true},
      {"swap, new indexes in place", false, false, ".log.swap", true, true},
      {"swap, old log still there with the new indexes", true, false, ".log.swap", true, true},
  };
  for (const auto& s : states) {
    const std::string d = dir / (std::string("state-") + s.name);
    MakeDirs(d);
    for (const auto& n : ListDir(probe)) copy_file(probe + "/" + n, d + "/" + n);
    RemoveFile(d + "/.clean-shutdown");
    if (!s.keep_old_log) File::Open(d + "/" + seg0 + ".log", false)->Rename(d + "/" + seg0 + ".log.deleted");
    if (!s.keep_old_index) {
      RemoveFile(d + "/" + seg0 + ".index");
      RemoveFile(d + "/" + seg0 + ".timeindex");
    }
    copy_file(cleaned_dir + "/" + seg0 + ".log", d + "/" + seg0 + s.new_log_suffix);
    const char* idx_suffix = s.new_index_final ? "" : ".cleaned";
    copy_file(cleaned_dir + "/" + seg0 + ".index", d + "/" + seg0 + ".index" + idx_suffix);
    copy_file(cleaned_dir + "/" + seg0 + ".timeindex", d + "/" + seg0 + ".timeindex" + idx_suffix);
    auto log = OpenLog(d, CompactConfig());
    ExpectConsistent(*log, original, active, s.name);
    const auto recs = AllRecords(*log);
    auto first_seg = [&](const std::vector<Rec>& v) {
      std::vector<Rec> out;
      for (auto& r : v)
        if (r.offset < log->SegmentBaseOffsets()[1]) out.push_back(r);
      return out;
    };
    if (s.expect_new) {
      EXPECT_EQ(first_seg(recs), first_seg(compacted)) << s.name;
    } else {
      EXPECT_EQ(first_seg(recs), first_seg(original)) << s.name;
    }
    for (const auto& n : ListDir(d)) EXPECT_EQ(n.find(".swap"), std::string::npos) << s.name << ": " << n;
  }
}

// ---- concurrency -----------------------------------------------------------------------------------

TEST(Cleaner, AppendsContinueWhileTheWorkerCleans) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig());
  const auto before = FillUpdates(*log);
  const int64_t active = log->SegmentBaseOffsets().back();
  CleanStats st;
  auto plan = log->PrepareClean(Force(), &st);
  ASSERT_TRUE(plan);
  EXPECT_EQ(log->PrepareClean(Force(), &st), nullptr);
  EXPECT_EQ(st.skipped, "busy");
  std::thread worker([&] { RunClean(*plan); });
  // Meanwhile: appends (rolling new segments) and reads on this thread.
  for (int i = 0; i < 40; i++) {
    Put(*log, "key" + std::to_string(i % 10), "during-" + std::to_string(i));
    AllRecords(*log);
  }
  worker.join();
  const auto done = log->CompleteClean(*plan);
  EXPECT_EQ(done.skipped, "");
  const auto all = AllRecords(*log);
  std::vector<Rec> expected;
  for (auto& r : LatestPerKey(before, active))
    if (r.offset < active) expected.push_back(r);
  for (auto& r : all)
    if (r.offset >= active) expected.push_back(r);
  EXPECT_EQ(all, expected);
  EXPECT_EQ(all.back().value, "during-39");
  // And the newly closed segments are dirty for the next pass.
  EXPECT_GT(log->Cleanable(1000).dirty_bytes, 0u);
}

TEST(Cleaner, ResultsForSegmentsRetentionDeletedMeanwhileAreDropped) {
  TempDir dir;
  auto cfg = CompactConfig();
  cfg.cleanup_delete = true;
  cfg.retention_ms = 1'000'000;
  auto log = OpenLog(dir.path(), cfg);
  const auto before = FillUpdates(*log);
  auto plan = PlanForced(*log);
  RunClean(*plan);
  ASSERT_GT(plan->outputs.size(), 2u);
  // Retention removes the first segments (by size) before the swap.
  cfg.retention_bytes = int64_t(log->size_bytes()) - 600;
  log->UpdateConfig(cfg);
  ASSERT_GT(log->ApplyRetention(1000), 0);
  const int64_t lso = log->log_start_offset();
  const auto done = log->CompleteClean(*plan);
  EXPECT_EQ(done.skipped, "");
  EXPECT_EQ(log->log_start_offset(), lso);
  ExpectNoCleanedFiles(dir.path());
  // What is left is the compacted part of the surviving segments.
  const auto recs = AllRecords(*log);
  for (const auto& r : recs) EXPECT_GE(r.offset, lso);
  const int64_t active = log->SegmentBaseOffsets().back();
  std::vector<Rec> surviving;
  for (auto& r : before)
    if (r.offset >= lso) surviving.push_back(r);
  EXPECT_EQ(recs, LatestPerKey(surviving, active));
}

TEST(Cleaner, ATruncationDuringAPassDiscardsItsResult) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig());
  const auto before = FillUpdates(*log);
  auto plan = PlanForced(*log);
  RunClean(*plan);
  log->TruncateTo(40, 1000);
  const auto done = log->CompleteClean(*plan);
  EXPECT_EQ(done.skipped, "discarded");
  ExpectNoCleanedFiles(dir.path());
  std::vector<Rec> expected(before.begin(), before.begin() + 40);
  EXPECT_EQ(AllRecords(*log), expected);
  EXPECT_LE(log->clean_offset(), 40);
}

TEST(Cleaner, ACancelledPassLeavesNoFiles) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig());
  const auto before = FillUpdates(*log);
  auto plan = PlanForced(*log);
  plan->cancel->store(true);
  try {
    RunClean(*plan);
    FAIL() << "not cancelled";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "CANCELLED");
  }
  log->AbortClean(*plan);
  EXPECT_FALSE(log->cleaning());
  ExpectNoCleanedFiles(dir.path());
  EXPECT_EQ(AllRecords(*log), before);
}

TEST(Cleaner, AClosedLogDiscardsTheResult) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig());
  const auto before = FillUpdates(*log);
  auto plan = PlanForced(*log);
  RunClean(*plan);
  log->Close();
  EXPECT_EQ(log->CompleteClean(*plan).skipped, "discarded");
  ExpectNoCleanedFiles(dir.path());
  auto again = OpenLog(dir.path(), CompactConfig());
  EXPECT_EQ(AllRecords(*again), before);
}

TEST(OffsetMap, KeepsTheLatestOffsetPerKeyThroughGrowth) {
  OffsetMap m;
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 5000; i++) {
      const std::string k = "key-" + std::to_string(i);
      m.Put(reinterpret_cast<const uint8_t*>(k.data()), k.size(), round * 10000 + i);
    }
  }
  EXPECT_EQ(m.size(), 5000u);
  for (int i = 0; i < 5000; i++) {
    const std::string k = "key-" + std::to_string(i);
    ASSERT_EQ(m.Get(reinterpret_cast<const uint8_t*>(k.data()), k.size()), 20000 + i);
  }
  EXPECT_EQ(m.Get(reinterpret_cast<const uint8_t*>("nope"), 4), -1);
  const uint8_t empty = 0;
  m.Put(&empty, 0, 7);  // the empty key is a key
  EXPECT_EQ(m.Get(&empty, 0), 7);
}
