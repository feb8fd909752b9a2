// Thin RAII wrappers over the POSIX calls storage needs (open, pwrite, pread, ftruncate, fsync,
// rename, sendfile). Every failure becomes a brook::Error built from errno, so ENOSPC/EDQUOT/EFBIG
// surface as NO_SPACE and everything else as IO, always with the path involved.
//
// Nothing here knows about batches or offsets. Files are shared through std::shared_ptr so that a
// segment removed from a log (retention, truncation) keeps its descriptor open while a fetch that
// was handed (fd, position, length) may still be sending from it, and while a flush worker fsyncs it.
#pragma once
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace brook::storage {

class File {
 public:
  // Opens (creating if `create`) for reading and writing. Throws IO / NO_SPACE.
  static std::shared_ptr<File> Open(const std::string& path, bool create);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  uint64_t Size() const;
  // Writes all of [data, data+len) at `pos`, retrying short writes and EINTR. On failure some
  // prefix may have reached the file: the caller truncates back (see Segment::Append).
  void PWriteAll(const void* data, size_t len, uint64_t pos) const;
  // Reads up to len bytes at pos; returns how many (short only at end of file).
  size_t PRead(void* data, size_t len, uint64_t pos) const;
  // Reads exactly len bytes or throws IO ("short read").
  void PReadAll(void* data, size_t len, uint64_t pos) const;
  void Truncate(uint64_t size) const;
  void DataSync() const;  // fdatasync: data plus the metadata needed to read it back (size)
  int64_t MtimeMs() const;            // fstat: follows the file through renames
  void SetMtimeMs(int64_t ms) const;  // futimens (compaction keeps a segment's modification time)
  // Renames the file on disk; the descriptor stays valid and path() follows the new name.
  void Rename(const std::string& to);
  // Closes the descriptor now (idempotent). Used when the log is closed or a deferred delete is due.
  void Close();

 private:
  File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

bool PathExists(const std::string& path);
void MakeDirs(const std::string& path);          // mkdir -p
void FsyncDir(const std::string& dir);           // makes creates/renames/unlinks in dir durable
void RemoveFile(const std::string& path);        // unlink; missing is not an error
void RemoveTree(const std::string& path);        // rm -r; missing is not an error
std::vector<std::string> ListDir(const std::string& dir);  // names, without . and ..
// Reads a whole small file; returns false when it does not exist.
bool ReadSmallFile(const std::string& path, std::string* out);
// Replaces `path` atomically and durably: write path.tmp, fsync it, rename over path, fsync the dir.
// After a crash the file holds either the old or the new content, never a mix.
void WriteFileAtomic(const std::string& path, const std::string& content);
int64_t FileMtimeMs(const std::string& path);

// Moves [pos, pos+len) of file `fd` to socket `sock` with sendfile(2): no copy through user space.
// Blocks the calling thread (run it on a worker): handles partial writes, and when the non-blocking
// socket is full (EAGAIN) waits for POLLOUT up to timeout_ms per wait. Returns bytes sent (== len).
// Throws IO with errno ETIMEDOUT on timeout, EPIPE/ECONNRESET etc. as IO, and IO "file shorter
// than slice" if the file ends early.
uint64_t SendFile(int sock, int fd, uint64_t pos, uint64_t len, int timeout_ms);
// The copying alternative: pread into a per-thread reused buffer, then write(2) it to the socket with
// the same EAGAIN handling. Used for TLS-less fallbacks and as the benchmark's comparison point.
uint64_t PReadWrite(int sock, int fd, uint64_t pos, uint64_t len, int timeout_ms);

}  // namespace brook::storage
