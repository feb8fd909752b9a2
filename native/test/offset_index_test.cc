#include "storage/offset_index.h"

#include <gtest/gtest.h>

#include "error.h"
#include "test_batches.h"

using namespace brook;
using namespace brook::storage;

namespace {
struct OffsetIndexTest : ::testing::Test {
  test::TempDir dir;
  OffsetIndex index{dir / "00000000000000000100.index", 100, 1000};
  void SetUp() override { index.CreateEmpty(); }
};
}  // namespace

TEST_F(OffsetIndexTest, EmptyIndexLooksUpToTheSegmentStart) {
  auto e = index.Lookup(500);
  EXPECT_EQ(e.offset, 100);
  EXPECT_EQ(e.position, 0u);
}

TEST_F(OffsetIndexTest, LookupBeforeExactBetweenAndAfter) {
  index.Append(110, 4100);
  index.Append(120, 8200);
  index.Append(130, 12300);
  EXPECT_EQ(index.Lookup(105).position, 0u);       // before the first entry
  EXPECT_EQ(index.Lookup(110).position, 4100u);    // exact
  EXPECT_EQ(index.Lookup(125).position, 8200u);    // between
  EXPECT_EQ(index.Lookup(130).position, 12300u);   // exact last
  EXPECT_EQ(index.Lookup(9999).position, 12300u);  // after the last
  EXPECT_EQ(index.Lookup(9999).offset, 130);
}

TEST_F(OffsetIndexTest, LookupByPosition) {
  index.Append(110, 4100);
  index.Append(120, 8200);
  EXPECT_EQ(index.LookupPosition(4099).position, 0u);
  EXPECT_EQ(index.LookupPosition(4100).position, 4100u);
  EXPECT_EQ(index.LookupPosition(100000).position, 8200u);
}

TEST_F(OffsetIndexTest, RejectsOutOfOrderEntries) {
  index.Append(110, 4100);
  EXPECT_THROW(index.Append(110, 5000), Error);                           // same offset
  EXPECT_THROW(index.Append(105, 5000), Error);                           // smaller offset
  EXPECT_THROW(index.Append(120, 4100), Error);                           // same position
  EXPECT_THROW(index.Append(99, 9000), Error);                            // below the base
  EXPECT_THROW(index.Append(100 + int64_t(INT32_MAX) + 1, 9000), Error);  // relative offset overflow
  EXPECT_EQ(index.size(), 1u);
}

TEST_F(OffsetIndexTest, ReportsOverflowAtMaxEntries) {
  OffsetIndex small(dir / "x.index", 0, 2);
  small.CreateEmpty();
  small.Append(1, 10);
  EXPECT_FALSE(small.WouldOverflow(1));
  small.Append(2, 20);
  EXPECT_TRUE(small.WouldOverflow(1));
  EXPECT_THROW(small.Append(3, 30), Error);
}

TEST_F(OffsetIndexTest, PersistsInKafkasLayoutAndLoadsBack) {
  index.Append(110, 4100);
  index.Append(120, 8200);
  EXPECT_TRUE(index.Persist());
  EXPECT_FALSE(index.Persist());  // nothing pending
  std::string bytes;
  ASSERT_TRUE(ReadSmallFile(dir / "00000000000000000100.index", &bytes));
  const uint8_t expect[] = {0, 0, 0, 10, 0, 0, 0x10, 0x04, 0, 0, 0, 20, 0, 0, 0x20, 0x08};
  ASSERT_EQ(bytes.size(), sizeof expect);
  EXPECT_EQ(0, std::memcmp(bytes.data(), expect, sizeof expect));
  OffsetIndex again(dir / "00000000000000000100.index", 100, 1000);
  ASSERT_TRUE(again.Load(9000));
  EXPECT_EQ(again.Lookup(125).position, 8200u);
}

TEST_F(OffsetIndexTest, LoadRejectsMissingTornUnorderedOrOutOfRangeFiles) {
  OffsetIndex missing(dir / "nothing.index", 0, 10);
  EXPECT_FALSE(missing.Load(100));
  index.Append(110, 4100);
  index.Append(120, 8200);
  index.Persist();
  const std::string path = dir / "00000000000000000100.index";
  {
    OffsetIndex i(path, 100, 1000);
    EXPECT_FALSE(i.Load(8200)) << "position at/after the end of the log";
    EXPECT_TRUE(i.Load(8201));
  }
  auto f = File::Open(path, false);
  f->Truncate(13);  // torn entry
  EXPECT_FALSE(OffsetIndex(path, 100, 1000).Load(9000));
  const uint8_t swapped[] = {0, 0, 0, 20, 0, 0, 0x20, 0x08, 0, 0, 0, 10, 0, 0, 0x10, 0x04};
  f->Truncate(0);
  f->PWriteAll(swapped, sizeof swapped, 0);
  EXPECT_FALSE(OffsetIndex(path, 100, 1000).Load(9000));
  const uint8_t negative[] = {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1};
  f->Truncate(0);
  f->PWriteAll(negative, sizeof negative, 0);
  EXPECT_FALSE(OffsetIndex(path, 100, 1000).Load(9000));
}

TEST_F(OffsetIndexTest, TruncateDropsEntriesAtOrAfterAPositionInMemoryAndOnDisk) {
  index.Append(110, 4100);
  index.Append(120, 8200);
  index.Append(130, 12300);
  index.Persist();
  index.TruncateToPosition(8200);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(File::Open(dir / "00000000000000000100.index", false)->Size(), 8u);
  index.Append(125, 9000);
  index.Persist();
  OffsetIndex again(dir / "00000000000000000100.index", 100, 1000);
  ASSERT_TRUE(again.Load(10000));
  EXPECT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1].offset, 125);
}
