#include "storage/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"

namespace brook::storage {

std::shared_ptr<File> File::Open(const std::string& path, bool create) {
  int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
  int fd;
  do {
    fd = ::open(path.c_str(), flags, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw Error::FromErrno("open", path);
  return std::shared_ptr<File>(new File(fd, path));
}

// The only close: the last owner is gone, so no slice or flush can still use the number.
File::~File() {
  ::close(fd_);  // errors on close of a file we fsync explicitly carry no extra information
}

uint64_t File::Size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) throw Error::FromErrno("fstat", path_);
  return uint64_t(st.st_size);
}

void File::PWriteAll(const void* data, size_t len, uint64_t pos) const {
  if (int err = WriteFully(fd_, data, len, int64_t(pos))) throw Error::FromErrno("write", path_, err);
}

size_t File::PRead(void* data, size_t len, uint64_t pos) const {
  int err = 0;
  const size_t done = PReadFully(fd_, data, len, pos, &err);
  if (err != 0) throw Error::FromErrno("read", path_, err);
  return done;
}

size_t PReadFully(int fd, void* data, size_t len, uint64_t pos, int* err) {
  auto* p = static_cast<uint8_t*>(data);
  size_t done = 0;
  *err = 0;
  while (done < len) {
    const ssize_t n = ::pread(fd, p + done, len - done, off_t(pos + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      break;
    }
    if (n == 0) break;
    done += size_t(n);
  }
  return done;
}

void File::PReadAll(void* data, size_t len, uint64_t pos) const {
  if (PRead(data, len, pos) != len) throw Error("IO", "short read from " + path_, EIO, path_);
}

void File::Truncate(uint64_t size) const {
  int r;
  do {
    r = ::ftruncate(fd_, off_t(size));
  } while (r != 0 && errno == EINTR);
  if (r != 0) throw Error::FromErrno("truncate", path_);
}

void File::DataSync() const {
  if (::fdatasync(fd_) != 0) throw Error::FromErrno("fdatasync", path_);
}

int64_t File::MtimeMs() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) throw Error::FromErrno("fstat", path_);
  return int64_t(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

void File::SetMtimeMs(int64_t ms) const {
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;  // access time unchanged
  times[1].tv_sec = time_t(ms / 1000);
  times[1].tv_nsec = long(ms % 1000) * 1000000;
  if (::futimens(fd_, times) != 0) throw Error::FromErrno("futimens", path_);
}

void File::Rename(const std::string& to) {
  if (::rename(path_.c_str(), to.c_str()) != 0) throw Error::FromErrno("rename", path_);
  path_ = to;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void MakeDirs(const std::string& path) {
  std::string cur;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    cur = path.substr(0, j);
    if (!cur.empty() && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) throw Error::FromErrno("mkdir", cur);
    i = j + 1;
  }
}

void FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw Error::FromErrno("open", dir);
  int r = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (r != 0) throw Error::FromErrno("fsync", dir, err);
}

void RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw Error::FromErrno("unlink", path);
}

void RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw Error::FromErrno("stat", path);
  }
  if (S_ISDIR(st.st_mode)) {
    for (const auto& name : ListDir(path)) RemoveTree(path + "/" + name);
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) throw Error::FromErrno("rmdir", path);
  } else {
    RemoveFile(path);
  }
}

std::vector<std::string> ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) throw Error::FromErrno("opendir", dir);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  ::closedir(d);
  return names;
}

bool ReadSmallFile(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return false;
    throw Error::FromErrno("open", path);
  }
  out->clear();
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      throw Error::FromErrno("read", path, err);
    }
    if (n == 0) break;
    out->append(buf, size_t(n));
  }
  ::close(fd);
  return true;
}

void WriteFileAtomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error::FromErrno("open", tmp);
  if (int err = WriteFully(fd, content.data(), content.size(), -1)) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw Error::FromErrno("write", tmp, err);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw Error::FromErrno("fsync", tmp, err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw Error::FromErrno("rename", tmp);
  auto slash = path.rfind('/');
  FsyncDir(slash == std::string::npos ? "." : path.substr(0, slash));
}

int64_t FileMtimeMs(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw Error::FromErrno("stat", path);
  return int64_t(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

namespace {

// Waits until `sock` is writable. Node sockets are non-blocking, so EAGAIN is the normal signal that
// the socket buffer is full; the receiver not reading for timeout_ms is an error, never a hang.
void WaitWritable(int sock, int timeout_ms) {
  for (;;) {
    struct pollfd p = {sock, POLLOUT, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw Error::FromErrno("poll", "socket");
    }
    if (r == 0) throw Error("IO", "socket not writable within " + std::to_string(timeout_ms) + " ms", ETIMEDOUT);
    // POLLERR/POLLHUP: let the next write report the actual errno (EPIPE, ECONNRESET).
    return;
  }
}

}  // namespace

uint64_t SendFile(int sock, int fd, uint64_t pos, uint64_t len, int timeout_ms) {
  off_t off = off_t(pos);
  uint64_t sent = 0;
  while (sent < len) {
    ssize_t n = ::sendfile(sock, fd, &off, len - sent);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        WaitWritable(sock, timeout_ms);
        continue;
      }
      throw Error::FromErrno("sendfile", "socket");
    }
    if (n == 0) throw Error("IO", "sendfile: file shorter than the slice", EIO);
    sent += uint64_t(n);
  }
  return sent;
}

uint64_t PReadWrite(int sock, int fd, uint64_t pos, uint64_t len, int timeout_ms) {
  // One buffer per worker thread, reused across calls: the point of this path is to measure (and
  // fall back to) a copy, not to measure malloc.
  constexpr size_t kChunk = 1 << 20;
  thread_local std::unique_ptr<uint8_t[]> buf(new uint8_t[kChunk]);
  uint64_t sent = 0;
  while (sent < len) {
    const size_t want = size_t(std::min<uint64_t>(kChunk, len - sent));
    int read_err = 0;
    const size_t got = PReadFully(fd, buf.get(), want, pos + sent, &read_err);
    if (read_err != 0) throw Error::FromErrno("read", "segment", read_err);
    if (got < want) throw Error("IO", "pread: file shorter than the slice", EIO);
    const int err = WriteFully(sock, buf.get(), got, -1, [&] {
      WaitWritable(sock, timeout_ms);
      return true;
    });
    if (err) throw Error::FromErrno("write", "socket", err);
    sent += got;
  }
  return sent;
}

SendSocket::SendSocket(int sock) : fd_(::fcntl(sock, F_DUPFD_CLOEXEC, 0)) {
  if (fd_ < 0) throw Error::FromErrno("dup", "socket");
}

SendSocket::~SendSocket() { Close(); }

void SendSocket::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void ShutdownSocket(int sock) { ::shutdown(sock, SHUT_RDWR); }

}  // namespace brook::storage
