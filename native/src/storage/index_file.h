// The file half of a sparse index (.index, .timeindex): fixed-size big-endian entries appended
// in order. The authoritative copy of the entries lives in memory (lookups never touch the disk);
// the file is written lazily, at flush, roll and close, with one pwrite of the pending entries, so
// the append path makes no extra system call for the index. That is safe because an index is only
// trusted for segments below the recovery point, which a flush has made durable together with
// their index, and because every loaded index is sanity-checked and rebuilt from the .log if wrong.
//
// Unlike Kafka we do not preallocate and mmap the file, so a crash never leaves a zero-filled tail
// that looks like entries.
//
// SparseIndex, below, is the memory half shared by both indexes (Kafka's AbstractIndex): the
// entries, the count already in the file, the entry limit, load, truncate and lazy persist. Each
// index keeps only its entry layout, its ordering checks and its lookups.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "error.h"
#include "storage/file.h"

namespace brook::storage {

class IndexFile {
 public:
  IndexFile(std::string path, size_t entry_size) : path_(std::move(path)), entry_size_(entry_size) {}

  const std::string& path() const { return path_; }
  const std::shared_ptr<File>& file() const { return file_; }

  // Opens the existing file (false if missing) and returns its bytes in *out.
  bool ReadExisting(std::string* out) {
    if (!PathExists(path_)) return false;
    file_ = File::Open(path_, false);
    out->resize(size_t(file_->Size()));
    file_->PReadAll(out->data(), out->size(), 0);
    in_file_ = out->size() / entry_size_;
    return true;
  }
  // Creates (or empties) the file.
  void CreateEmpty() {
    file_ = File::Open(path_, true);
    file_->Truncate(0);
    in_file_ = 0;
  }
  // Writes encoded entries [from, from + n) (bytes already encoded) at entry index `from`. A file
  // holding more entries than `from` (after a truncation in memory) is cut back first.
  void Write(size_t from, const std::string& encoded) {
    if (!file_) file_ = File::Open(path_, true);
    if (in_file_ > from) file_->Truncate(uint64_t(from) * entry_size_);
    in_file_ = std::min(in_file_, from);
    file_->PWriteAll(encoded.data(), encoded.size(), uint64_t(from) * entry_size_);
    in_file_ = from + encoded.size() / entry_size_;
  }
  // Drops entries >= n from the file now.
  void TruncateEntries(size_t n) {
    if (file_ && in_file_ > n) {
      file_->Truncate(uint64_t(n) * entry_size_);
      in_file_ = n;
    }
  }
  size_t entries_in_file() const { return in_file_; }
  void Rename(const std::string& to) {
    if (file_) {
      file_->Rename(to);
    } else if (PathExists(path_)) {
      File::Open(path_, false)->Rename(to);
    }
    path_ = to;
  }
  // Drops this reference to the descriptor (see Segment::Close).
  void Close() { file_.reset(); }

 private:
  std::string path_;
  size_t entry_size_;
  std::shared_ptr<File> file_;
  size_t in_file_ = 0;
};

// In-memory entries of one segment's index with the IndexFile behind them. Entry is the decoded
// entry; EntrySize its size on disk. Runs on the JS thread, like the segment that owns it.
template <typename Entry, size_t EntrySize>
class SparseIndex {
 public:
  static constexpr size_t kEntrySize = EntrySize;

  void CreateEmpty() {
    Reset();
    file_.CreateEmpty();
  }
  void Reset() {
    entries_.clear();
    persisted_ = 0;
  }
  bool WouldOverflow(size_t more) const { return entries_.size() + more > max_entries_; }
  void set_max_entries(size_t n) { max_entries_ = n; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const Entry& last() const { return entries_.back(); }
  const Entry& operator[](size_t i) const { return entries_[i]; }
  IndexFile& file() { return file_; }
  const IndexFile& file() const { return file_; }

 protected:
  SparseIndex(std::string path, int64_t base_offset, size_t max_entries)
      : base_offset_(base_offset), max_entries_(max_entries), file_(std::move(path), kEntrySize) {}

  // Replaces the entries with the file's. decode(bytes, prev, &entry) decodes one entry and returns
  // false when it is corrupt or out of order after *prev (nullptr for the first). False when the
  // file is missing, not a whole number of entries, or any entry fails.
  template <typename Decode>
  bool LoadEntries(Decode decode) {
    Reset();
    std::string bytes;
    if (!file_.ReadExisting(&bytes)) return false;
    if (bytes.size() % kEntrySize != 0) return false;
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    const size_t n = bytes.size() / kEntrySize;
    entries_.reserve(n);
    for (size_t i = 0; i < n; i++) {
      Entry e;
      if (!decode(p + i * kEntrySize, entries_.empty() ? nullptr : &entries_.back(), &e)) return false;
      entries_.push_back(e);
    }
    persisted_ = n;
    return true;
  }

  // Writes the entries not yet in the file, each with encode(entry, bytes). Returns true if it wrote
  // anything (the file then needs an fsync to be durable). Page-cache writes only.
  template <typename Encode>
  bool PersistEntries(Encode encode) {
    if (persisted_ == entries_.size() && file_.entries_in_file() == persisted_ && file_.file()) return false;
    std::string buf((entries_.size() - persisted_) * kEntrySize, '\0');
    auto* p = reinterpret_cast<uint8_t*>(buf.data());
    for (size_t i = persisted_; i < entries_.size(); i++, p += kEntrySize) encode(entries_[i], p);
    file_.Write(persisted_, buf);
    persisted_ = entries_.size();
    return true;
  }

  // Keeps the first n entries, in memory and in the file.
  void TruncateEntries(size_t n) {
    entries_.resize(n);
    persisted_ = std::min(persisted_, n);
    file_.TruncateEntries(n);
  }

  // INVALID_ARGUMENT unless offset - base offset fits the 4-byte relative offset of an entry.
  void CheckRelative(int64_t offset, const char* index_name) const {
    if (offset < base_offset_ || offset - base_offset_ > INT32_MAX) {
      throw Error("INVALID_ARGUMENT", "offset " + std::to_string(offset) + " does not fit the " + index_name +
                                          " of segment " + std::to_string(base_offset_));
    }
  }

  int64_t base_offset_;
  size_t max_entries_;
  std::vector<Entry> entries_;

 private:
  IndexFile file_;
  size_t persisted_ = 0;
};

}  // namespace brook::storage
