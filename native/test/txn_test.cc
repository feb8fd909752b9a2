// Transactions in the storage layer: the broker's internal appends (transaction markers, the group
// coordinator's transactional offset commits), followers copying markers, and compaction of logs that
// hold transactions (storage/cleaner.h, "Transactions").
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "error.h"
#include "log_helpers.h"
#include "record/records.h"

using namespace brook;
using namespace brook::storage;
using namespace brook::test;

namespace {

constexpr uint16_t kTransactional = 0x10;  // attribute bit 4
constexpr uint16_t kControl = 0x20;        // attribute bit 5

// A transaction marker as the broker writes it: attributes transactional|control, baseSequence -1,
// one record with key int16 version 0 + int16 type (0 ABORT, 1 COMMIT) and value int16 version 0 +
// int32 coordinator epoch.
std::vector<uint8_t> Marker(int64_t pid, int16_t epoch, bool commit, int32_t coordinator_epoch = 0) {
  std::string key{'\0', '\0', '\0', char(commit ? 1 : 0)};
  std::string value(6, '\0');
  value[5] = char(coordinator_epoch);
  return MakeKeyedBatch({{key, value, 1000}}, {.producer_id = pid,
                                               .producer_epoch = epoch,
                                               .base_sequence = -1,
                                               .attributes = uint16_t(kTransactional | kControl)});
}

// A producer's transactional data batch of one record.
std::vector<uint8_t> TxnRecord(const std::string& key, const std::string& value, int64_t pid, int32_t seq) {
  return MakeKeyedBatch({{key, value, 1000}},
                        {.producer_id = pid, .producer_epoch = 0, .base_sequence = seq, .attributes = kTransactional});
}

AppendResult Write(Log& log, std::vector<uint8_t> batch, bool internal) {
  return log.Append(batch.data(), batch.size(), 0, 1000, internal);
}

struct Rec {
  int64_t offset;
  std::string key;
  std::optional<std::string> value;
  bool operator==(const Rec& o) const { return offset == o.offset && key == o.key && value == o.value; }
};

std::ostream& operator<<(std::ostream& os, const Rec& r) {
  return os << "{" << r.offset << " " << r.key << "=" << r.value.value_or("<null>") << "}";
}

// Every data record of the log (markers left out), through Read() and the production decoder.
std::vector<Rec> DataRecords(Log& log) {
  auto bytes = ReadBytes(log, log.log_start_offset());
  BatchBases(bytes);
  auto d = record::DecodeBatches(bytes.data(), bytes.size());
  std::vector<Rec> out;
  for (const auto& b : d.batches) {
    if (b.attributes & kControl) continue;
    const uint8_t* base = b.source < 0 ? bytes.data() : d.buffers[size_t(b.source)].data();
    for (uint32_t i = 0; i < uint32_t(b.records_count); i++) {
      const auto& r = d.records[b.first_record + i];
      std::optional<std::string> value;
      if (r.value_len >= 0) value = std::string(reinterpret_cast<const char*>(base + r.value_pos), size_t(r.value_len));
      out.push_back(
          Rec{r.offset, std::string(reinterpret_cast<const char*>(base + r.key_pos), size_t(r.key_len)), value});
    }
  }
  return out;
}

// The bytes of the batch at `offset`, as Read() returns them.
std::vector<uint8_t> BatchAt(Log& log, int64_t offset) {
  auto bytes = ReadBytes(log, offset, 1);
  record::BatchHeaderView h{bytes.data()};
  bytes.resize(h.TotalSize());
  return bytes;
}

LogConfig CompactConfig(int64_t segment_bytes) {
  LogConfig cfg;
  cfg.segment_bytes = segment_bytes;
  cfg.cleanup_compact = true;
  cfg.cleanup_delete = false;
  cfg.min_cleanable_dirty_ratio = 0;
  cfg.index_interval_bytes = 0;
  cfg.file_delete_delay_ms = 0;
  return cfg;
}

// Closes the segment written so far: everything appended before becomes cleanable.
void RollNow(Log& log) {
  const LogConfig big = log.config();
  log.UpdateConfig(CompactConfig(100));
  Write(log, MakeKeyedBatch({{"roll", "x", 1000}}), false);
  log.UpdateConfig(big);
}

CleanStats CleanWith(Log& log, std::vector<AbortedTxn> aborted, int64_t up_to = -1) {
  CleanOptions o;
  o.now_ms = 1000;
  o.force = true;
  o.up_to = up_to;
  o.aborted = std::move(aborted);
  return log.Clean(o);
}

}  // namespace

TEST(InternalAppend, AcceptsMarkersAndSequencelessTransactionalBatches) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  EXPECT_EQ(Write(*log, Marker(7, 2, true), true).base_offset, 0);
  // The group coordinator's transactional offset commit: pid and epoch, no sequence.
  auto commit =
      MakeKeyedBatch({{"group-key", "offset", 1000}},
                     {.producer_id = 7, .producer_epoch = 2, .base_sequence = -1, .attributes = kTransactional});
  EXPECT_EQ(Write(*log, commit, true).base_offset, 1);
  EXPECT_EQ(log->log_end_offset(), 2);
  const auto headers = log->BatchHeaders(0, 10);
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0].attributes & (kTransactional | kControl), kTransactional | kControl);
  EXPECT_EQ(headers[0].producer_id, 7);
  EXPECT_EQ(headers[0].base_sequence, -1);
  EXPECT_EQ(headers[1].producer_epoch, 2);
}

TEST(InternalAppend, ClientAppendsStillRefuseBoth) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  EXPECT_EQ(ErrorCode([&] { Write(*log, Marker(7, 2, false), false); }), "INVALID_RECORD");
  EXPECT_EQ(ErrorCode([&] { Write(*log, MakeBatch({.producer_id = 7, .producer_epoch = 0}), false); }),
            "INVALID_RECORD");
  EXPECT_EQ(log->log_end_offset(), 0);
}

TEST(InternalAppend, KeepsEveryOtherCheck) {
  TempDir dir;
  LogConfig cfg;
  cfg.max_message_bytes = 200;
  auto log = OpenLog(dir.path(), cfg);
  auto corrupt = Marker(7, 2, true);
  corrupt.back() ^= 1;  // inside the CRC
  EXPECT_EQ(ErrorCode([&] { Write(*log, corrupt, true); }), "CORRUPT_MESSAGE");
  auto offset_set = Marker(7, 2, true);
  StoreBE64(&offset_set[0], 5);
  EXPECT_EQ(ErrorCode([&] { Write(*log, offset_set, true); }), "INVALID_RECORD");
  auto magic = Marker(7, 2, true);
  magic[16] = 1;
  EXPECT_EQ(ErrorCode([&] { Write(*log, magic, true); }), "INVALID_RECORD");
  auto counts = Marker(7, 2, true);
  StoreBE32(&counts[57], 2);  // recordsCount != lastOffsetDelta + 1
  Reseal(counts);
  EXPECT_EQ(ErrorCode([&] { Write(*log, counts, true); }), "INVALID_RECORD");
  auto big = MakeKeyedBatch({{"k", std::string(300, 'v'), 1000}},
                            {.producer_id = 7, .producer_epoch = 0, .base_sequence = -1, .attributes = kTransactional});
  EXPECT_EQ(ErrorCode([&] { Write(*log, big, true); }), "MESSAGE_TOO_LARGE");
  EXPECT_EQ(log->log_end_offset(), 0);
}

TEST(InternalAppend, AFollowerCopiesTheLeadersMarkers) {
  TempDir dir;
  auto leader = OpenLog(dir / "leader");
  Write(*leader, TxnRecord("k", "v", 7, 0), false);
  Write(*leader, Marker(7, 0, true), true);
  const auto bytes = ReadBytes(*leader, 0);
  auto follower = OpenLog(dir / "follower");
  const auto r = follower->AppendAsFollower(bytes.data(), bytes.size(), 1000);
  EXPECT_EQ(r.last_offset, 1);
  EXPECT_EQ(ReadBytes(*follower, 0), bytes);
  EXPECT_TRUE(follower->BatchHeaders(1, 1)[0].attributes & kControl);
}

TEST(TxnCleaner, MarkersAreNeverMappedAndAreKeptByteForByte) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig(100000));
  // A data record whose key has the bytes of a COMMIT marker's key, before and after two COMMITs.
  const std::string commit_key{'\0', '\0', '\0', '\1'};
  Write(*log, MakeKeyedBatch({{commit_key, "data-0", 1000}}), false);  // 0
  Write(*log, TxnRecord("a", "a1", 7, 0), false);                      // 1
  Write(*log, Marker(7, 0, true), true);                               // 2
  Write(*log, TxnRecord("b", "b1", 7, 1), false);                      // 3
  Write(*log, Marker(7, 0, true), true);                               // 4
  const auto first_marker = BatchAt(*log, 2);
  const auto second_marker = BatchAt(*log, 4);
  RollNow(*log);  // 5
  const auto st = CleanWith(*log, {});
  EXPECT_EQ(st.records_dropped, 0);
  // The later COMMIT did not remove the earlier one, nor did either remove the data record.
  EXPECT_EQ(BatchAt(*log, 2), first_marker);
  EXPECT_EQ(BatchAt(*log, 4), second_marker);
  EXPECT_EQ(DataRecords(*log),
            (std::vector<Rec>{{0, commit_key, "data-0"}, {1, "a", "a1"}, {3, "b", "b1"}, {5, "roll", "x"}}));
  // A later data record with that key supersedes the data record only.
  Write(*log, MakeKeyedBatch({{commit_key, "data-6", 1000}}), false);  // 6
  RollNow(*log);
  CleanWith(*log, {});
  EXPECT_EQ(BatchAt(*log, 2), first_marker);
  EXPECT_EQ(BatchAt(*log, 4), second_marker);
  EXPECT_EQ(DataRecords(*log).front(), (Rec{1, "a", "a1"}));
  std::vector<int64_t> bases;
  for (const auto& h : log->BatchHeaders(0, 10)) bases.push_back(h.base_offset);
  EXPECT_EQ(bases, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7}));
}

TEST(TxnCleaner, DropsAbortedTransactionsAndTheirKeysSupersedeNothing) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig(100000));
  Write(*log, MakeKeyedBatch({{"k", "committed-0", 1000}}), false);  // 0
  Write(*log, TxnRecord("k", "aborted", 5, 0), false);               // 1
  Write(*log, TxnRecord("new", "aborted", 5, 1), false);             // 2
  Write(*log, Marker(5, 0, false), true);                            // 3 ABORT
  Write(*log, TxnRecord("j", "committed", 5, 2), false);             // 4: producer 5's last data batch
  Write(*log, Marker(5, 0, true), true);                             // 5 COMMIT
  const auto abort_marker = BatchAt(*log, 3);
  RollNow(*log);  // 6
  const auto st = CleanWith(*log, {{5, 1, 3}});
  EXPECT_EQ(st.aborted_records_dropped, 2);
  EXPECT_EQ(st.records_dropped, 2);
  EXPECT_EQ(st.batches_dropped, 2);
  EXPECT_EQ(st.empty_batches_kept, 0);
  EXPECT_EQ(DataRecords(*log), (std::vector<Rec>{{0, "k", "committed-0"}, {4, "j", "committed"}, {6, "roll", "x"}}));
  EXPECT_EQ(BatchAt(*log, 3), abort_marker);
  std::vector<int64_t> bases;
  for (const auto& h : log->BatchHeaders(0, 10)) bases.push_back(h.base_offset);
  EXPECT_EQ(bases, (std::vector<int64_t>{0, 3, 4, 5, 6}));
}

TEST(TxnCleaner, WithoutTheAbortedListTheSameBatchesAreData) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig(100000));
  Write(*log, MakeKeyedBatch({{"k", "committed-0", 1000}}), false);  // 0
  Write(*log, TxnRecord("k", "aborted", 5, 0), false);               // 1
  Write(*log, Marker(5, 0, false), true);                            // 2
  RollNow(*log);
  // An aborted list for another producer, or for another range of producer 5, changes nothing.
  const auto st = CleanWith(*log, {{6, 0, 2}, {5, 2, 2}});
  EXPECT_EQ(st.aborted_records_dropped, 0);
  EXPECT_EQ(DataRecords(*log), (std::vector<Rec>{{1, "k", "aborted"}, {3, "roll", "x"}}));
}

TEST(TxnCleaner, CommittedTransactionalRecordsAreMappedLikeAnyOther) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig(100000));
  Write(*log, TxnRecord("k", "old", 7, 0), false);      // 0
  Write(*log, Marker(7, 0, true), true);                // 1
  Write(*log, TxnRecord("k", "new", 7, 1), false);      // 2
  Write(*log, Marker(7, 0, true), true);                // 3
  Write(*log, TxnRecord("k", "aborted", 7, 2), false);  // 4
  Write(*log, Marker(7, 0, false), true);               // 5
  const auto committed = BatchAt(*log, 2);
  RollNow(*log);
  const auto st = CleanWith(*log, {{7, 4, 5}});
  EXPECT_EQ(st.records_dropped, 2);  // "old" superseded, "aborted" aborted
  EXPECT_EQ(st.aborted_records_dropped, 1);
  EXPECT_EQ(DataRecords(*log), (std::vector<Rec>{{2, "k", "new"}, {6, "roll", "x"}}));
  EXPECT_EQ(BatchAt(*log, 2), committed);  // nothing dropped from it: copied as it was
  // The aborted batch was producer 7's last data batch: its header stays for the sequence.
  const auto h4 = log->BatchHeaders(4, 1);
  ASSERT_EQ(h4.size(), 1u);
  EXPECT_EQ(h4[0].base_offset, 4);
  EXPECT_EQ(h4[0].records_count, 0);
  EXPECT_EQ(h4[0].base_sequence, 2);
  EXPECT_EQ(h4[0].producer_id, 7);
  EXPECT_TRUE(h4[0].attributes & kTransactional);
}

TEST(TxnCleaner, AMarkerAfterTheLastDataBatchDoesNotLetThatBatchGo) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig(100000));
  Write(*log, TxnRecord("k", "v", 7, 0), false);               // 0: producer 7's last data batch
  Write(*log, Marker(7, 0, true), true);                       // 1
  Write(*log, MakeKeyedBatch({{"k", "plain", 1000}}), false);  // 2 supersedes it
  RollNow(*log);
  const auto st = CleanWith(*log, {});
  EXPECT_EQ(st.empty_batches_kept, 1);
  const auto headers = log->BatchHeaders(0, 10);
  ASSERT_GE(headers.size(), 2u);
  EXPECT_EQ(headers[0].base_offset, 0);
  EXPECT_EQ(headers[0].records_count, 0);
  EXPECT_EQ(headers[1].base_offset, 1);
  EXPECT_TRUE(headers[1].attributes & kControl);
}

TEST(TxnCleaner, UpToKeepsAnOpenTransactionOutOfThePass) {
  TempDir dir;
  auto log = OpenLog(dir.path(), CompactConfig(100000));
  Write(*log, MakeKeyedBatch({{"k", "v0", 1000}}), false);  // 0, segment [0, 1)
  RollNow(*log);                                            // 1, segment [1, 3)
  Write(*log, TxnRecord("k", "open", 7, 0), false);         // 2, not decided yet
  RollNow(*log);                                            // 3, active segment from 3
  Write(*log, MakeKeyedBatch({{"x", "y", 1000}}), false);   // 4
  // Last stable offset 2: the segment holding the open transaction is neither mapped nor rewritten.
  CleanWith(*log, {}, 2);
  EXPECT_EQ(log->clean_offset(), 1);
  EXPECT_EQ(DataRecords(*log).front(), (Rec{0, "k", "v0"}));
  EXPECT_EQ(DataRecords(*log)[2], (Rec{2, "k", "open"}));
  // The transaction aborts (marker at 5) and the bound moves past it.
  Write(*log, Marker(7, 0, false), true);
  RollNow(*log);
  CleanWith(*log, {{7, 2, 5}});
  const auto recs = DataRecords(*log);
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.front(), (Rec{0, "k", "v0"}));  // the aborted value superseded nothing
}
