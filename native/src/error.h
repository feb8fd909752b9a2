// The one error type of the native core. It carries a stable string code that the TypeScript side
// maps to protocol errors (storage knows nothing of Kafka error numbers), plus errno and the path
// involved when the cause is the operating system.
//
// Codes in use (add here when you add one):
//   CORRUPT_MESSAGE    batch fails size or CRC checks
//   INVALID_RECORD     batch is well-formed bytes but violates a rule (magic, offsets, counts)
//   INVALID_TIMESTAMP  a record timestamp outside the log's message.timestamp.before/after.max.ms
//   MESSAGE_TOO_LARGE  batch larger than max.message.bytes
//   OFFSET_OUT_OF_RANGE  read or truncate outside [logStartOffset, logEndOffset]
//   INVALID_ARGUMENT   caller passed something impossible (negative size, bad config value)
//   UNSUPPORTED_CODEC  compression codec id not known
//   CODEC_ERROR        compressed bytes that do not decode
//   NO_SPACE           ENOSPC / EDQUOT / EFBIG while writing; the log is left consistent
//   IO                 any other system call failure
//   CLOSED             use after close
#pragma once
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace brook {

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message, int sys_errno = 0, std::string path = {})
      : std::runtime_error(message), code_(std::move(code)), errno_(sys_errno), path_(std::move(path)) {}

  const std::string& code() const { return code_; }
  int sys_errno() const { return errno_; }
  const std::string& path() const { return path_; }

  // Builds an error from errno after a failed system call: ENOSPC-like errors get NO_SPACE so the
  // caller can tell "disk full, retry later" from a broken disk.
  static Error FromErrno(const char* what, const std::string& path, int err = errno) {
    const bool no_space = err == ENOSPC || err == EDQUOT || err == EFBIG;
    std::string msg = std::string(what) + " " + path + ": " + std::strerror(err);
    return Error(no_space ? "NO_SPACE" : "IO", msg, err, path);
  }

 private:
  std::string code_;
  int errno_;
  std::string path_;
};

}  // namespace brook
