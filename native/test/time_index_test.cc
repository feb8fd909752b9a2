#include "storage/time_index.h"

#include <gtest/gtest.h>

#include "error.h"
#include "test_batches.h"

using namespace brook;
using namespace brook::storage;

namespace {
struct TimeIndexTest : ::testing::Test {
  test::TempDir dir;
  std::string path = dir / "00000000000000000050.timeindex";
  TimeIndex index{path, 50, 100};
  void SetUp() override { index.CreateEmpty(); }
};
}  // namespace

TEST_F(TimeIndexTest, EmptyIndexAnswersTheBaseOffset) { EXPECT_EQ(index.Lookup(12345), 50); }

TEST_F(TimeIndexTest, AppendsOnlyWhenTheTimestampGrows) {
  index.MaybeAppend(-1, 50);  // no timestamp: nothing
  EXPECT_TRUE(index.empty());
  index.MaybeAppend(1000, 60);
  index.MaybeAppend(1000, 70);  // same timestamp: skipped
  index.MaybeAppend(900, 80);   // smaller: skipped
  index.MaybeAppend(2000, 90);
  EXPECT_EQ(index.size(), 2u);
  EXPECT_THROW(index.MaybeAppend(3000, 85), Error);  // offset going back
}

TEST_F(TimeIndexTest, LookupBeforeExactBetweenAfter) {
  index.MaybeAppend(1000, 60);
  index.MaybeAppend(2000, 70);
  index.MaybeAppend(3000, 80);
  EXPECT_EQ(index.Lookup(999), 50);
  EXPECT_EQ(index.Lookup(1000), 60);
  EXPECT_EQ(index.Lookup(2500), 70);
  EXPECT_EQ(index.Lookup(99999), 80);
}

TEST_F(TimeIndexTest, PersistsTwelveByteEntriesAndRejectsCorruptFiles) {
  index.MaybeAppend(0x0102030405060708, 60);
  index.Persist();
  std::string bytes;
  ASSERT_TRUE(ReadSmallFile(path, &bytes));
  const uint8_t expect[] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 10};
  ASSERT_EQ(bytes.size(), 12u);
  EXPECT_EQ(0, std::memcmp(bytes.data(), expect, 12));
  EXPECT_TRUE(TimeIndex(path, 50, 100).Load());
  auto f = File::Open(path, false);
  f->PWriteAll(expect, 12, 12);  // same timestamp twice: not monotonic
  EXPECT_FALSE(TimeIndex(path, 50, 100).Load());
  f->Truncate(20);
  EXPECT_FALSE(TimeIndex(path, 50, 100).Load());
}

TEST_F(TimeIndexTest, TruncateToOffset) {
  index.MaybeAppend(1000, 60);
  index.MaybeAppend(2000, 70);
  index.TruncateToOffset(70);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.Lookup(5000), 60);
}
