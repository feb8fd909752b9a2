// The file half of a sparse index (.index, .timeindex): fixed-size big-endian entries appended
// in order. The authoritative copy of the entries lives in memory (lookups never touch the disk);
// the file is written lazily, at flush, roll and close, with one pwrite of the pending entries, so
// the append path makes no extra system call for the index. That is safe because an index is only
// trusted for segments below the recovery point, which a flush has made durable together with
// their index, and because every loaded index is sanity-checked and rebuilt from the .log if wrong.
//
// Unlike Kafka we do not preallocate and mmap the file, so a crash never leaves a zero-filled tail
// that looks like entries.
#pragma once
#include <memory>
#include <string>

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

}  // namespace brook::storage
