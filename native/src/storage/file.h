// Thin RAII wrappers over the POSIX calls storage needs (open, pwrite, pread, ftruncate, fsync,
// rename, sendfile). Every failure becomes a brook::Error built from errno, so ENOSPC/EDQUOT/EFBIG
// surface as NO_SPACE and everything else as IO, always with the path involved.
//
// Nothing here knows about batches or offsets. Files are shared through std::shared_ptr, and the
// descriptor closes only when the last owner lets go (~File; nothing closes it earlier): a segment
// removed from a log (retention, truncation, topic deletion) lets go at once, while a fetch slice in
// flight (napi/log_wrap.cc FileRef) and a flush worker fsyncing it keep it open. So a descriptor
// number handed to sendfile can never have been closed and reused for another file meanwhile.
#pragma once
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
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
  void DataSync() const;              // fdatasync: data plus the metadata needed to read it back (size)
  int64_t MtimeMs() const;            // fstat: follows the file through renames
  void SetMtimeMs(int64_t ms) const;  // futimens (compaction keeps a segment's modification time)
  // Renames the file on disk; the descriptor stays valid and path() follows the new name.
  void Rename(const std::string& to);

 private:
  File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

bool PathExists(const std::string& path);
void MakeDirs(const std::string& path);                    // mkdir -p
void FsyncDir(const std::string& dir);                     // makes creates/renames/unlinks in dir durable
void RemoveFile(const std::string& path);                  // unlink; missing is not an error
void RemoveTree(const std::string& path);                  // rm -r; missing is not an error
std::vector<std::string> ListDir(const std::string& dir);  // names, without . and ..
// Reads a whole small file; returns false when it does not exist.
bool ReadSmallFile(const std::string& path, std::string* out);
// Replaces `path` atomically and durably: write path.tmp, fsync it, rename over path, fsync the dir.
// After a crash the file holds either the old or the new content, never a mix.
void WriteFileAtomic(const std::string& path, const std::string& content);
int64_t FileMtimeMs(const std::string& path);

// Writes all of [data, data+len) to fd: with pwrite at `pos`, or with write at the file position when
// pos < 0 (sockets, O_TRUNC files). Retries short writes and EINTR; on EAGAIN calls wait() (a
// non-blocking socket is full) and retries. Returns 0, or the errno of the call that failed (callers
// build their own error: they know the path and what to clean up). The one write loop of the core.
template <typename Wait>
int WriteFully(int fd, const void* data, size_t len, int64_t pos, Wait&& wait);
inline int WriteFully(int fd, const void* data, size_t len, int64_t pos) {
  return WriteFully(fd, data, len, pos, [] { return false; });
}

// Reads up to len bytes at pos with pread, retrying short reads and EINTR; returns how many (fewer
// only at end of file or on error, when *err gets the errno). The one read loop of the core.
size_t PReadFully(int fd, void* data, size_t len, uint64_t pos, int* err);

// Moves [pos, pos+len) of file `fd` to socket `sock` with sendfile(2): no copy through user space.
// Blocks the calling thread (run it on a worker): handles partial writes, and when the non-blocking
// socket is full (EAGAIN) waits for POLLOUT up to timeout_ms per wait. Returns bytes sent (== len).
// Throws IO with errno ETIMEDOUT on timeout, EPIPE/ECONNRESET etc. as IO, and IO "file shorter
// than slice" if the file ends early.
uint64_t SendFile(int sock, int fd, uint64_t pos, uint64_t len, int timeout_ms);
// The copying alternative: pread into a per-thread reused buffer, then write(2) it to the socket with
// the same EAGAIN handling. Used for TLS-less fallbacks and as the benchmark's comparison point.
uint64_t PReadWrite(int sock, int fd, uint64_t pos, uint64_t len, int timeout_ms);

// A socket descriptor of the send's own: a worker that writes to the caller's descriptor NUMBER
// would, once the caller closes it (a peer reset, a protocol error on the same connection), write
// the rest of one client's records into whatever connection the system gives that number next.
// The duplicate shares the socket, so the send still reaches its own peer, and keeps the socket
// open until the send's owner closes it. Called on the JS thread while the caller's descriptor is
// known to be open. Throws IO when the process is out of descriptors.
class SendSocket {
 public:
  explicit SendSocket(int sock);
  ~SendSocket();
  SendSocket(const SendSocket&) = delete;
  SendSocket& operator=(const SendSocket&) = delete;
  int fd() const { return fd_; }
  void Close();

 private:
  int fd_;
};

// shutdown(2) of both directions: a send blocked waiting for POLLOUT on this socket (or on a
// duplicate of it) wakes at once and fails with EPIPE, instead of holding a worker thread until its
// timeout. For a connection closing while a send is in flight. Errors are ignored: the socket may
// already be shut down or reset by the peer.
void ShutdownSocket(int sock);

template <typename Wait>
int WriteFully(int fd, const void* data, size_t len, int64_t pos, Wait&& wait) {
  auto* p = static_cast<const uint8_t*>(data);
  while (len > 0) {
    const ssize_t n = pos >= 0 ? ::pwrite(fd, p, len, off_t(pos)) : ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN && wait()) continue;
      return errno;
    }
    if (n == 0) return EIO;  // no progress and no error: give up rather than spin
    p += n;
    len -= size_t(n);
    if (pos >= 0) pos += n;
  }
  return 0;
}

}  // namespace brook::storage
