// A Slice shares ownership of its segment's File: the descriptor stays open (so its number cannot
// be reused for another file) until the last Slice of it is gone, whatever the log did meanwhile.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "error.h"
#include "log_helpers.h"
#include "storage/log.h"

using namespace brook;
using namespace brook::storage;
using namespace brook::test;

namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

}  // namespace

TEST(Slice, KeepsItsFileReadableAfterTheLogIsDeleted) {
  TempDir dir;
  auto log = OpenLog(dir / "t-0", SmallSegments(2500));
  for (int i = 0; i < 6; i++) AppendBatch(*log, {.records = 2, .value_size = 500, .base_timestamp = 0});
  const auto before = ReadBytes(*log, 0);
  auto slices = log->Read(0, INT32_MAX, -1);
  ASSERT_GT(slices.size(), 1u);
  log->Delete();
  EXPECT_FALSE(PathExists(dir / "t-0"));
  // New files take the lowest free numbers; ours are not free.
  auto other = OpenLog(dir / "u-0", SmallSegments(2500));
  AppendBatch(*other, {.records = 2, .value_size = 500});
  std::vector<uint8_t> after(before.size());
  Log::CopySlices(slices, after.data());
  EXPECT_EQ(after, before);
  const int fd = slices[0].file->fd();
  EXPECT_TRUE(IsOpen(fd));
  slices.clear();  // the last owner: the descriptor closes now
  EXPECT_FALSE(IsOpen(fd));
}

TEST(Slice, RetentionAndTruncationDropTheLogsReferencesButNotTheSlices) {
  TempDir dir;
  auto log = OpenLog(dir / "t-0", SmallSegments(2500));
  for (int i = 0; i < 6; i++) AppendBatch(*log, {.records = 2, .value_size = 500, .base_timestamp = 0});
  auto first = log->Read(0, 100, -1);  // the first segment
  ASSERT_EQ(first.size(), 1u);
  EXPECT_GT(log->ApplyRetention(10'000'000), 0);
  EXPECT_EQ(first[0].file.use_count(), 1);  // the log let go at once; only the slice holds it
  auto rest = log->Read(log->log_start_offset(), INT32_MAX, -1);
  const auto bytes = ReadBytes(*log, log->log_start_offset());
  log->TruncateTo(log->log_start_offset(), 1000);
  std::vector<uint8_t> copy(bytes.size());
  Log::CopySlices(rest, copy.data());
  EXPECT_EQ(copy, bytes);
  EXPECT_EQ(BatchBases(ReadBytes(*log, log->log_start_offset())).size(), 0u);
}
