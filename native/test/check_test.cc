// Invariant checks (check.h): a violated one stops the operation with INVARIANT before any byte is
// written, in every build for the data-guarding BROOK_CHECKs.
#include "check.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <set>

#include "log_helpers.h"
#include "storage/log.h"
#include "storage/offset_index.h"
#include "storage/segment.h"
#include "storage/time_index.h"

using namespace brook;
using namespace brook::storage;
using namespace brook::test;

namespace {

// The code of the brook::Error fn throws and its message (empty code when it does not throw).
std::pair<std::string, std::string> Failure(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  return {};
}

}  // namespace

TEST(Check, ThrowsInvariantWithTheConditionAndMessage) {
  auto [code, what] = Failure([] { BROOK_CHECK(1 + 1 == 3, "arithmetic is " + std::string("broken")); });
  EXPECT_EQ(code, "INVARIANT");
  EXPECT_NE(what.find("1 + 1 == 3"), std::string::npos) << what;
  EXPECT_NE(what.find("arithmetic is broken"), std::string::npos) << what;
  EXPECT_NE(what.find("check_test.cc"), std::string::npos) << what;
  EXPECT_EQ(Failure([] { BROOK_CHECK(true, "never built"); }).first, "");
}

TEST(Check, DcheckRunsOnlyInDebugAndSanitizerBuilds) {
  int evaluated = 0;
  auto [code, what] = Failure([&] { BROOK_DCHECK(++evaluated == 0, "debug only"); });
#ifdef BROOK_DCHECK_ON
  EXPECT_EQ(code, "INVARIANT");
  EXPECT_EQ(evaluated, 1);
#else
  EXPECT_EQ(code, "");
  EXPECT_EQ(evaluated, 0);  // not even evaluated
#endif
}

TEST(Check, EveryCodeIsListedOnce) {
  std::set<std::string> seen;
  for (const char* c : kErrorCodes) EXPECT_TRUE(seen.insert(c).second) << c;
  EXPECT_TRUE(seen.count("INVARIANT"));
}

TEST(Check, OutOfOrderIndexEntriesAreInvariantViolations) {
  TempDir dir;
  OffsetIndex index(dir / "0.index", 100, 100);
  index.CreateEmpty();
  index.Append(110, 4096);
  EXPECT_EQ(Failure([&] { index.Append(105, 8192); }).first, "INVARIANT");  // offset going back
  EXPECT_EQ(Failure([&] { index.Append(120, 4096); }).first, "INVARIANT");  // position not advancing
  EXPECT_EQ(index.size(), 1u);
  TimeIndex times(dir / "0.timeindex", 100, 100);
  times.CreateEmpty();
  times.MaybeAppend(2000, 110);
  EXPECT_EQ(Failure([&] { times.MaybeAppend(3000, 105); }).first, "INVARIANT");
  EXPECT_EQ(times.size(), 1u);
}

TEST(Check, ASegmentRefusesAnAppendThatDoesNotContinueItsOffsets) {
  TempDir dir;
  auto seg = Segment::Create(dir.path(), 0, SegmentOptions{}, 1000);
  auto batch = MakeBatch({.records = 2});
  std::vector<record::BatchSpan> spans;
  record::ValidateClientBatches(batch.data(), batch.size(), record::ValidateOptions{1 << 20}, &spans);
  bool broken = false;
  auto [code, what] = Failure([&] { seg->Append(batch.data(), batch.size(), spans, 5, 1000, &broken); });
  EXPECT_EQ(code, "INVARIANT");
  EXPECT_NE(what.find("next offset is 0"), std::string::npos) << what;
  EXPECT_EQ(seg->size(), 0u);  // nothing written
  seg->Append(batch.data(), batch.size(), spans, 0, 1000, &broken);
  EXPECT_EQ(seg->next_offset(), 2);
}

TEST(Check, ASegmentRefusesStoredBatchesOutOfOrder) {
  TempDir dir;
  auto seg = Segment::Create(dir.path(), 0, SegmentOptions{}, 1000);
  auto a = MakeBatch({.records = 2});
  auto b = MakeBatch({.records = 2});
  auto both = Concat({a, b});
  const std::vector<StoredSpan> backwards = {{uint32_t(a.size()), 5, 1000}, {uint32_t(b.size()), 3, 1000}};
  EXPECT_EQ(Failure([&] { seg->AppendStored(both.data(), both.size(), backwards); }).first, "INVARIANT");
  const std::vector<StoredSpan> short_sizes = {{uint32_t(a.size()), 1, 1000}};
  EXPECT_EQ(Failure([&] { seg->AppendStored(both.data(), both.size(), short_sizes); }).first, "INVARIANT");
  EXPECT_EQ(seg->size(), 0u);
}

TEST(Check, LogInvariantsHoldThroughItsLife) {
  TempDir dir;
  auto log = OpenLog(dir.path(), SmallSegments(300));
  for (int i = 0; i < 10; i++) AppendBatch(*log, {.records = 2, .value_size = 100, .base_timestamp = 0});
  log->CheckInvariants();
  log->DeleteRecordsBefore(5, 1000);  // the start passes the (unflushed) recovery point
  EXPECT_GT(log->log_start_offset(), log->recovery_point());
  log->CheckInvariants();
  log->TruncateTo(12, 1000);
  log->ApplyRetention(10'000'000);
  log->Flush();
  log->CheckInvariants();
  EXPECT_LE(log->recovery_point(), log->log_end_offset());
}
