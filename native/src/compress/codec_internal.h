// Shared plumbing of the codec implementations (gzip.cc, snappy.cc, lz4.cc, zstd.cc): the per-codec
// entry points codec.cc dispatches to, and BoundedOutput, which grows a ByteBuffer for a streaming
// decoder without ever letting it exceed the caller's limit.
#pragma once
#include <algorithm>
#include <string>

#include "compress/codec.h"
#include "error.h"

namespace brook::compress::internal {

// Each appends to `out`; level has already been resolved from kDefaultLevel and range-checked.
void GzipCompress(const uint8_t* in, size_t len, int level, ByteBuffer& out);
void GzipDecompress(const uint8_t* in, size_t len, size_t max_size, ByteBuffer& out);
void SnappyCompress(const uint8_t* in, size_t len, SnappyFraming framing, ByteBuffer& out);
void SnappyDecompress(const uint8_t* in, size_t len, size_t max_size, ByteBuffer& out);
void Lz4Compress(const uint8_t* in, size_t len, int level, ByteBuffer& out);
void Lz4Decompress(const uint8_t* in, size_t len, size_t max_size, ByteBuffer& out);
void ZstdCompress(const uint8_t* in, size_t len, int level, ByteBuffer& out);
void ZstdDecompress(const uint8_t* in, size_t len, size_t max_size, ByteBuffer& out);
int ZstdMinLevel();
int ZstdMaxLevel();

[[noreturn]] inline void Fail(const char* codec, const std::string& what) {
  throw Error("CODEC_ERROR", std::string(codec) + ": " + what);
}
[[noreturn]] inline void FailLimit(const char* codec, size_t max_size) {
  throw Error("CODEC_ERROR",
              std::string(codec) + ": decompressed data exceeds the limit of " + std::to_string(max_size) + " bytes");
}

// Output region for a streaming decoder appending to `out` from its current size. The decoder asks
// for room, writes, and commits what it wrote. Capacity never exceeds start + max_size + 1: one
// byte past the limit is enough to tell "exactly at the limit" from "over it".
class BoundedOutput {
 public:
  BoundedOutput(ByteBuffer& out, size_t max_size, const char* codec, size_t hint)
      : out_(out), start_(out.size()), max_(max_size), codec_(codec) {
    out_.Reserve(start_ + std::min(std::max<size_t>(hint, 256), max_ + 1));
  }
  // Room to write: grows geometrically when full. Never returns 0 bytes of room.
  uint8_t* Space(size_t* avail) {
    if (out_.size() == out_.capacity()) {
      const size_t produced = Produced();
      if (produced > max_) FailLimit(codec_, max_);
      const size_t want = std::min(std::max<size_t>(produced * 2, 64 << 10), max_ + 1);
      out_.Reserve(start_ + want);
    }
    *avail = out_.capacity() - out_.size();
    return out_.end();
  }
  void Commit(size_t n) {
    out_.Resize(out_.size() + n);
    if (Produced() > max_) FailLimit(codec_, max_);
  }
  // Room for n more bytes (a decoder that knows the size up front), failing when that would pass
  // the limit. Grows geometrically, so a decoder calling it per block stays linear.
  uint8_t* Exact(size_t n) {
    if (n > Remaining()) FailLimit(codec_, max_);
    const size_t need = out_.size() + n;
    if (need > out_.capacity()) out_.Reserve(std::max(need, std::min(out_.capacity() * 2, start_ + max_ + 1)));
    return out_.end();
  }
  size_t Produced() const { return out_.size() - start_; }
  size_t Remaining() const { return max_ - std::min(max_, Produced()); }

 private:
  ByteBuffer& out_;
  size_t start_;
  size_t max_;
  const char* codec_;
};

}  // namespace brook::compress::internal
