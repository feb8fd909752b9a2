// Log compaction (cleanup.policy=compact), after Kafka's LogCleaner: keep the latest record per key
// in the closed segments of a partition log, drop the records a later record of the same key
// supersedes, and drop tombstones (null values) delete.retention.ms after they were first cleaned.
// Offsets never change: the retained records keep their offsets, and gaps are normal afterwards.
//
// ---- Sections of a log (Kafka's names) ----------------------------------------------------------
//
//   logStart        cleaner checkpoint          first uncleanable offset         active base   LEO
//   |--- clean section ---|------ dirty section ------|---- held back ----|--- active ---|
//
//   clean     every record here was filtered by an earlier pass: each key appears at most once,
//             except for keys updated later in the dirty section
//   dirty     appended since; a pass maps it (key -> latest offset) and then rewrites clean + dirty
//   held back segments not entirely below upTo, or newer than min.compaction.lag.ms (a segment's
//             largest timestamp > now - lag), and everything after the first such segment; the
//             active segment is never touched. upTo is the high watermark, and on a log that
//             holds transactions min(high watermark, last stable offset): see "Transactions"
//
// As in Kafka, the map covers the dirty section only: a record in a held-back or the active segment
// supersedes nothing yet (the older records of its key go in the pass after it becomes dirty).
// Mapping the active segment would read bytes still being appended, for little gain.
//
// The checkpoint lives in `cleaner-offset-checkpoint` in the partition directory:
//   "0\n<clean offset>\n<earliest delete horizon of a retained tombstone, -1 if none>\n"
// written atomically (temp + fsync + rename + directory fsync) at the end of every pass. It is always
// the base offset of a segment (or the first uncleanable offset), lowered by truncation, and read
// back clamped to [logStartOffset, logEndOffset]. The horizon lets the cleaner run a pass when
// tombstones expire even if the dirty ratio is low.
//
// ---- When a pass runs -------------------------------------------------------------------------
//
// dirty ratio = dirty bytes / (clean bytes + dirty bytes), over segments below the first uncleanable
// offset. A pass runs when the ratio >= min.cleanable.dirty.ratio (and there are dirty bytes), or
// when the earliest tombstone horizon has passed, or when forced (tests, admin).
//
// ---- One pass ---------------------------------------------------------------------------------
//
// 1. PrepareClean (JS thread, cheap): picks the sections from in-memory segment sizes and
//    timestamps, captures the closed segments' File handles and sizes (closed segments are never
//    appended to, so the worker can read [0, size) while appends continue on the active segment).
// 2. RunClean (libuv worker, the expensive part):
//    a. map the dirty segments in order: every record's key -> its offset (the later one wins), in
//       an OffsetMap holding the key bytes themselves (no hash collisions: a collision would drop a
//       live record). The map has a memory budget checked after each segment: when it is reached,
//       the pass only cleans up to the end of the segments mapped so far and the checkpoint stops
//       there (the next pass continues). At least one dirty segment is always mapped.
//    b. rewrite every segment from the log start to the end of the mapped range, each into its own
//       new files `<base>.log.cleaned`, `<base>.index.cleaned`, `<base>.timeindex.cleaned`
//       (segments are not grouped: each keeps its base offset and name). Per batch:
//         - a record is dropped if the map holds a LATER offset for its key; records without a key
//           are dropped too (Kafka's cleaner does the same; compacted topics refuse them on append);
//         - a tombstone that is the latest for its key is dropped when its batch carries a delete
//           horizon (KIP-534: attribute bit 6, baseTimestamp = horizon) that has passed AND it sits
//           below the checkpoint the pass started from (see "Tombstones" below);
//         - all records kept, and no tombstone needing a horizon: the batch is copied byte for byte;
//         - some records kept (or a tombstone needs its horizon): the batch is rebuilt with the same
//           codec (recompressed at the codec's default level), baseOffset, lastOffsetDelta (kept
//           even when the last record went, as Kafka does, so the batch spans the same offsets and
//           the producer's last sequence = baseSequence + lastOffsetDelta is unchanged), leader
//           epoch, producer id/epoch/baseSequence and attribute bits; each retained record keeps
//           its absolute offset (explicit offsetDelta) and timestamp;
//         - no record kept: the batch goes, unless it is the last batch of its idempotent producer
//           among the segments this pass reads: then a header-only batch (recordsCount 0, Kafka's
//           writeEmptyHeader) keeps the producer's last sequence for the state rebuilt at start.
//       A segment in which nothing changed is not replaced (its .cleaned files are removed). A
//       segment in which nothing is left is removed rather than replaced by an empty file, except
//       the log's first segment, which becomes an empty segment with the same base offset, so
//       compaction never moves the log start offset (consumers positioned there keep reading).
//       Changed segments get the original's modification time, their final time-index entry, and
//       an fdatasync of all three files.
// 3. CompleteClean (JS thread, renames only): checks that the log is still the one the worker
//    read (see "Concurrent changes"), then swaps the results in (protocol below), writes the
//    checkpoint, and hands the replaced segments to the delayed-deletion path (file.delete.delay.ms),
//    so readers holding slices of them keep valid descriptors.
//
// ---- The swap protocol and what Open() does after a crash at each step --------------------------
//
//   state on disk for segment B                         Open() (Log::Load)
//   ------------------------------------------------    ---------------------------------------------
//   0  B.log + B.*.cleaned (worker wrote, fsynced)      deletes *.cleaned: the old segment stays
//   A  rename B.log.cleaned -> B.log.swap, for every    B.log.swap is the commit point of B: delete
//      changed segment in offset order, then ONE        B.log, B.index, B.timeindex (old or new,
//      fsync of the directory                           whichever exist), rename B.log.swap -> B.log,
//                                                       rebuild both indexes from it (Recover)
//   B1 old B.log/.index/.timeindex -> *.deleted         same as A (*.deleted are deleted)
//      (a removed segment stops here)
//   B2 B.index.cleaned -> B.index, same for timeindex   same as A (the new indexes are deleted and
//                                                       rebuilt)
//   B3 B.log.swap -> B.log                              the new segment, nothing to do
//   C  cleaner-offset-checkpoint written (fsync)        the pass is complete
//
// Every segment is at every moment either wholly old or wholly new, never both (no duplicates) and
// never neither (nothing lost): its old files are only renamed to .deleted after every .swap of the
// pass is durable (the directory fsync closing step A). Which subset of segments ends up new after a
// crash before that fsync does not matter: a record is only dropped because a later record of its
// key exists, and the latest record of each key is kept in both versions of its segment; the one
// exception, an expired tombstone, is handled next.
//
// ---- Tombstones -------------------------------------------------------------------------------
//
// KIP-534's rule: the first pass that writes a batch holding a retained tombstone sets the batch's
// delete horizon (bit 6, baseTimestamp = now + delete.retention.ms; record timestamps are deltas
// from it, so they are unchanged); a later pass drops the tombstone once now >= horizon. Brook adds
// one condition: the tombstone must be below the checkpoint the pass started from. The pass that put
// the tombstone below the checkpoint had it in its map, so it dropped every earlier record of that
// key, and its checkpoint write (an fsync of the directory) came after its swaps: dropping the
// tombstone can then never resurrect an older value after a crash, whatever order the file system
// persisted renames in. Consumers see the tombstone for at least delete.retention.ms after the
// segment holding it was first cleaned (Kafka's guarantee).
//
// ---- Transactions -----------------------------------------------------------------------------
//
// Kafka's cleaner rules for transactional data, simplified. Attribute bit 4 marks a transactional
// batch, bit 5 a control batch (a transaction marker: one record, key int16 version + int16 type,
// 0 ABORT, 1 COMMIT); batch_header.h has the layout.
//   - Control batches are never mapped and always copied byte for byte: their 4-byte keys live in
//     another namespace than the data keys, so a marker neither supersedes a data record nor is
//     superseded by one, and a later COMMIT never removes an earlier COMMIT. Markers are kept
//     forever: Kafka drops a marker once every record of its transaction is gone and
//     delete.retention.ms has passed since (its delete horizon); Brook does not do that.
//   - The caller passes the aborted transactions it knows (CleanOptions::aborted: producer id, first
//     offset, and last offset = the offset of the ABORT marker). A transactional data batch whose
//     producer id has an entry with firstOffset <= baseOffset <= lastOffset is aborted: its records
//     are never mapped (an aborted value supersedes nothing) and are all dropped. The batch goes
//     entirely, except when it is its producer's last data batch among the segments the pass reads:
//     then, as for any batch whose records all went, a header-only batch keeps the producer's last
//     sequence and epoch (Kafka retains that batch empty for the same reason).
//   - Committed transactional batches are mapped and filtered like any other batch.
//   - Only data batches count as a producer's batches for the header-only rule: a marker after a
//     producer's last data batch does not make that batch droppable (the marker carries no sequence).
//   - upTo keeps every pass below the last stable offset: the data of an open transaction is neither
//     mapped nor rewritten until its marker decides it, so the aborted list given to a pass is
//     complete for everything the pass reads.
//
// ---- Concurrent changes -----------------------------------------------------------------------
//
// The worker reads only closed segments through its own File references: retention or
// DeleteRecords may delete one meanwhile (the descriptor stays valid), appends never touch them.
// CompleteClean then keeps a result only if the segment is still in the log with the same File
// (else its files are removed); truncation bumps a generation that discards the whole result (the
// map may hold records that no longer exist); a closed or deleted log discards it too. Close()
// callers (the TS facade) cancel and await a pass first: the worker checks the cancel flag between
// batches.
//
// Threading: RunClean and DiscardClean touch only the plan (and the files it names); everything else
// is the Log's, on the JS thread.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/file.h"
#include "storage/segment.h"

namespace brook::storage {

// key bytes -> offset of the latest record with that key. Open addressing over 32-byte slots plus
// an arena holding each distinct key once; lookups compare the full key, so unlike Kafka's
// SkimpyOffsetMap (MD5 of the key) there are no false matches.
class OffsetMap {
 public:
  OffsetMap();
  void Put(const uint8_t* key, size_t len, int64_t offset);
  // Offset of the latest record with this key, or -1.
  int64_t Get(const uint8_t* key, size_t len) const;
  size_t size() const { return size_; }
  // Bytes held (slot table + key arena), for the memory budget.
  size_t memory() const { return slots_.capacity() * sizeof(Slot) + arena_.capacity(); }

 private:
  struct Slot {
    uint64_t hash;  // 0 = empty (real hashes are forced odd... see Hash())
    uint64_t key_pos;
    uint32_t key_len;
    int64_t offset;
  };
  static uint64_t Hash(const uint8_t* key, size_t len);
  size_t Find(uint64_t hash, const uint8_t* key, size_t len) const;  // slot index: match or empty
  void Grow();
  std::vector<Slot> slots_;
  std::vector<uint8_t> arena_;
  size_t size_ = 0;
};

// An aborted transaction, as the caller's transaction index knows it ("Transactions" above).
struct AbortedTxn {
  int64_t producer_id;
  int64_t first_offset;  // the transaction's first data offset in this partition
  int64_t last_offset;   // the offset of its ABORT marker
};

struct CleanOptions {
  int64_t now_ms = 0;
  int64_t up_to = -1;  // min(high watermark, last stable offset): only segments entirely below it; < 0 = log end
  std::vector<AbortedTxn> aborted;  // aborted transactions whose data may lie in the segments a pass reads
  bool force = false;               // ignore min.cleanable.dirty.ratio
  size_t map_bytes = 128 << 20;     // key map budget (Kafka's log.cleaner.dedupe.buffer.size)
  int crash_at = 0;                 // test hook: CompleteClean throws TEST_CRASH at this step (cleaner.cc)
};

// What a pass did (or why none ran).
struct CleanStats {
  std::string skipped;  // "" = a pass ran; else not-compacted | nothing-to-clean | below-ratio | busy | discarded
  double dirty_ratio = 0;
  uint64_t clean_bytes = 0;
  uint64_t dirty_bytes = 0;
  int64_t first_dirty = 0;    // checkpoint before
  int64_t cleaned_up_to = 0;  // checkpoint after
  int segments_mapped = 0;
  uint64_t map_keys = 0;
  uint64_t map_memory = 0;
  uint64_t bytes_read = 0;    // of the segments rewritten (clean + mapped dirty)
  uint64_t bytes_before = 0;  // of the segments replaced or removed
  uint64_t bytes_after = 0;   // of their replacements
  int64_t records_read = 0;
  int64_t records_dropped = 0;          // superseded, keyless, expired tombstones, and aborted
  int64_t aborted_records_dropped = 0;  // of records_dropped: in aborted transactions
  int64_t tombstones_dropped = 0;
  int64_t batches_rebuilt = 0;
  int64_t batches_dropped = 0;
  int64_t empty_batches_kept = 0;
  int segments_rewritten = 0;  // replaced by a cleaned copy
  int segments_removed = 0;    // nothing left in them
};

struct CleanInput {
  int64_t base;
  std::shared_ptr<File> log;
  uint64_t size;
};

struct CleanOutput {
  int64_t base;
  std::shared_ptr<File> original;  // identity check at swap time
  uint64_t size_before;
  std::unique_ptr<Segment> cleaned;  // null: nothing left, the segment is removed
  int64_t retention_ts = 0;          // CompleteClean: the removed segment's retention timestamp
};

// Everything a pass needs, captured on the JS thread (PrepareClean), then filled by the worker.
struct CleanPlan {
  std::string dir;
  SegmentOptions segment_options;
  int64_t now_ms = 0;
  int64_t delete_retention_ms = 0;
  int64_t clean_offset = 0;          // checkpoint at the start: tombstones expire only below it
  std::vector<CleanInput> segments;  // closed segments from the log start to the first uncleanable
  size_t first_dirty_index = 0;      // segments[first_dirty_index..] are the dirty section
  int64_t dirty_end = 0;             // first uncleanable offset: the new checkpoint if all is mapped
  size_t map_bytes = 0;
  uint64_t generation = 0;
  int crash_at = 0;
  // producer id -> [first offset, ABORT marker offset] of its aborted transactions (CleanOptions).
  std::unordered_map<int64_t, std::vector<std::pair<int64_t, int64_t>>> aborted;
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
  // Filled by RunClean:
  std::vector<CleanOutput> outputs;  // changed segments, increasing base offset
  int64_t cleaned_up_to = 0;
  int64_t next_horizon = INT64_MAX;  // earliest delete horizon among retained tombstones
  CleanStats stats;
};

// Worker thread. Throws brook::Error (CANCELLED when the cancel flag was set); on a throw it has
// already removed every file it created.
void RunClean(CleanPlan& plan);
// Removes the .cleaned files of every output (a discarded or failed result). Any thread.
void DiscardClean(CleanPlan& plan);

}  // namespace brook::storage
