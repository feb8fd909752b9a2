// Disk-full behaviour, simulated with RLIMIT_FSIZE: a write crossing the limit is cut short and the
// next one fails with EFBIG (SIGXFSZ ignored), which storage reports as NO_SPACE, the same as ENOSPC.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include "error.h"
#include "log_helpers.h"

using namespace brook;
using namespace brook::storage;
using namespace brook::test;

namespace {

class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old_);
    Set(bytes);
  }
  void Set(rlim_t bytes) {
    struct rlimit r = old_;
    r.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &r);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    ::signal(SIGXFSZ, old_handler_);
  }

 private:
  struct rlimit old_;
  sighandler_t old_handler_;
};

}  // namespace

TEST(Storage, DiskFullIsNoSpaceAndLeavesTheLogConsistent) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  const auto batch = MakeBatch({.records = 2, .value_size = 1000});
  const uint64_t limit = batch.size() * 3 + batch.size() / 2;  // room for 3.5 batches
  std::string code;
  int appended = 0;
  {
    FileSizeLimit fs(limit);
    for (int i = 0; i < 10; i++) {
      auto b = batch;
      try {
        log->Append(b.data(), b.size(), 0, 1000);
        appended++;
      } catch (const Error& e) {
        code = e.code();
        EXPECT_EQ(e.sys_errno(), EFBIG);
        break;
      }
    }
    EXPECT_EQ(code, "NO_SPACE");
    EXPECT_EQ(appended, 3);
    // The half-written 4th batch was cut back off: file size, in-memory end and offsets agree.
    EXPECT_EQ(File::Open(dir / "00000000000000000000.log", false)->Size(), batch.size() * 3);
    EXPECT_EQ(log->size_bytes(), batch.size() * 3);
    EXPECT_EQ(log->log_end_offset(), 6);
    EXPECT_EQ(BatchBases(ReadBytes(*log, 0)), (std::vector<int64_t>{0, 2, 4}));
    auto b = batch;
    EXPECT_THROW(log->Append(b.data(), b.size(), 0, 1000), Error);  // still full: still consistent
    EXPECT_EQ(log->log_end_offset(), 6);
    fs.Set(RLIM_INFINITY);  // space comes back
    auto c = batch;
    EXPECT_EQ(log->Append(c.data(), c.size(), 0, 1000).base_offset, 6);
  }
  EXPECT_EQ(BatchBases(ReadBytes(*log, 0)), (std::vector<int64_t>{0, 2, 4, 6}));
  log->Close();
  auto again = OpenLog(dir.path());
  EXPECT_EQ(again->log_end_offset(), 8);
}

TEST(Storage, DiskFullWhileRollingLeavesTheOldSegmentActive) {
  TempDir dir;
  LogConfig cfg;
  cfg.index_interval_bytes = 1;
  const auto batch = MakeBatch({.value_size = 500});
  cfg.segment_bytes = int64_t(batch.size() * 2);
  auto log = OpenLog(dir.path(), cfg);
  for (int i = 0; i < 2; i++) AppendBatch(*log, {.value_size = 500});
  {
    // The index files of segment 0 cannot be written at roll.
    FileSizeLimit fs(4);
    auto b = batch;
    try {
      log->Append(b.data(), b.size(), 0, 1000);
      FAIL() << "append should fail";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "NO_SPACE");
    }
    EXPECT_EQ(log->segment_count(), 1u);
    EXPECT_EQ(log->log_end_offset(), 2);
  }
  AppendBatch(*log, {.value_size = 500});
  EXPECT_EQ(log->SegmentBaseOffsets(), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(BatchBases(ReadBytes(*log, 0)), (std::vector<int64_t>{0, 1, 2}));
}

TEST(Storage, FlushFailsWithNoSpaceAndSucceedsLater) {
  TempDir dir;
  LogConfig cfg;
  cfg.index_interval_bytes = 1;
  auto log = OpenLog(dir.path(), cfg);
  for (int i = 0; i < 5; i++) AppendBatch(*log);
  {
    FileSizeLimit fs(1);  // index entries cannot be persisted
    try {
      log->Flush();
      FAIL();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "NO_SPACE");
    }
    EXPECT_EQ(log->recovery_point(), 0);
  }
  log->Flush();
  EXPECT_EQ(log->recovery_point(), 5);
}
