// Invariants as checks with messages. Two strengths:
//
//   BROOK_CHECK(cond, message)   always compiled in. For invariants that guard data: a violation
//                                means the next write or read would corrupt or misplace records, so
//                                the operation stops with brook::Error("INVARIANT", ...) before it
//                                touches a file. Must be O(1) where it sits on the append/read path.
//   BROOK_DCHECK(cond, message)  only where BROOK_DCHECK_ON is defined (debug and sanitizer builds:
//                                native/CMakeLists.txt); in release builds neither cond nor message
//                                is evaluated. For whole-structure checks too costly per operation
//                                (every segment of a log) and for conditions a release build
//                                already guards elsewhere.
//
// Both throw rather than abort: the JS thread turns the error into a rejected call and the broker
// maps it to a storage error on one partition instead of losing the process. `message` is any
// expression convertible to std::string, built only when the check fails.
#pragma once
#include <string>

#include "error.h"

namespace brook::detail {
[[noreturn]] inline void CheckFailed(const char* file, int line, const char* cond, const std::string& message) {
  throw Error("INVARIANT", std::string("invariant violated at ") + file + ":" + std::to_string(line) + ": " + cond +
                               " (" + message + ")");
}
}  // namespace brook::detail

#define BROOK_CHECK(cond, message)                                                                        \
  do {                                                                                                    \
    if (__builtin_expect(!(cond), 0)) ::brook::detail::CheckFailed(__FILE__, __LINE__, #cond, (message)); \
  } while (0)

#ifdef BROOK_DCHECK_ON
#define BROOK_DCHECK(cond, message) BROOK_CHECK(cond, message)
#else
// sizeof keeps the expressions compiled (so they cannot rot) without evaluating them.
#define BROOK_DCHECK(cond, message) \
  do {                              \
    (void)sizeof(!(cond));          \
  } while (0)
#endif
