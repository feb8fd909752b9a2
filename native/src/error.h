// The one error type of the native core. It carries a stable string code that the TypeScript side
// maps to protocol errors (storage knows nothing of Kafka error numbers), plus errno and the path
// involved when the cause is the operating system.
//
// The codes, one per line with their meaning, are listed in error_codes.h.
#pragma once
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace brook {

// The names of every code (error_codes.h), for diagnostics and tests.
inline constexpr const char* kErrorCodes[] = {
#define BROOK_ERROR_CODE(name, meaning) #name,
#include "error_codes.h"
#undef BROOK_ERROR_CODE
};

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message, int sys_errno = 0, std::string path = {})
      : std::runtime_error(message), code_(std::move(code)), errno_(sys_errno), path_(std::move(path)) {
#ifdef BROOK_DCHECK_ON
    // Debug and sanitizer builds: a code missing from error_codes.h is a bug in this library (the
    // TypeScript side would not know it), so stop where it is made rather than where it surfaces.
    bool known = false;
    for (const char* c : kErrorCodes) known = known || code_ == c;
    if (!known) {
      std::fprintf(stderr, "brook::Error with code %s, which error_codes.h does not list\n", code_.c_str());
      std::abort();
    }
#endif
  }

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
