// Dispatch, level defaults and argument checks for the codecs; the codecs themselves live in
// gzip.cc, snappy.cc, lz4.cc and zstd.cc.
#include "compress/codec.h"

#include <string>

#include "compress/codec_internal.h"
#include "error.h"

namespace brook::compress {
namespace {

int ResolveLevel(Codec codec, int level) {
  auto check = [&](int lo, int hi, int def) {
    if (level == kDefaultLevel) return def;
    if (level < lo || level > hi)
      throw Error("INVALID_ARGUMENT", std::string(CodecName(codec)) + " level " + std::to_string(level) +
                                          " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    return level;
  };
  switch (codec) {
    case Codec::kGzip: return check(-1, 9, 6);
    case Codec::kLz4: return check(0, 12, 0);
    case Codec::kZstd: return check(internal::ZstdMinLevel(), internal::ZstdMaxLevel(), 3);
    default: return 0;
  }
}

void CheckSize(size_t len) {
  if (len > kMaxSize) throw Error("INVALID_ARGUMENT", "input of " + std::to_string(len) + " bytes is over 2 GiB");
}

}  // namespace

Codec CodecFromId(int id) {
  if (id < 0 || id > 4) throw Error("UNSUPPORTED_CODEC", "unknown compression codec " + std::to_string(id));
  return Codec(id);
}

const char* CodecName(Codec codec) {
  switch (codec) {
    case Codec::kNone: return "none";
    case Codec::kGzip: return "gzip";
    case Codec::kSnappy: return "snappy";
    case Codec::kLz4: return "lz4";
    case Codec::kZstd: return "zstd";
  }
  return "unknown";
}

void CompressAppend(Codec codec, const uint8_t* in, size_t len, const CompressOptions& options, ByteBuffer& out) {
  CodecFromId(int(codec));
  CheckSize(len);
  const int level = ResolveLevel(codec, options.level);
  const size_t start = out.size();
  try {
    switch (codec) {
      case Codec::kNone: out.Append(in, len); break;
      case Codec::kGzip: internal::GzipCompress(in, len, level, out); break;
      case Codec::kSnappy: internal::SnappyCompress(in, len, options.snappy_framing, out); break;
      case Codec::kLz4: internal::Lz4Compress(in, len, level, out); break;
      case Codec::kZstd: internal::ZstdCompress(in, len, level, out); break;
    }
  } catch (...) {
    out.Resize(start);
    throw;
  }
}

void DecompressAppend(Codec codec, const uint8_t* in, size_t len, size_t max_size, ByteBuffer& out) {
  CodecFromId(int(codec));
  CheckSize(len);
  max_size = std::min(max_size, kMaxSize);
  const size_t start = out.size();
  try {
    if (codec == Codec::kNone) {
      if (len > max_size) internal::FailLimit("none", max_size);
      out.Append(in, len);
      return;
    }
    // No codec encodes nothing as nothing: an empty stream is truncated.
    if (len == 0) internal::Fail(CodecName(codec), "empty input");
    switch (codec) {
      case Codec::kGzip: internal::GzipDecompress(in, len, max_size, out); break;
      case Codec::kSnappy: internal::SnappyDecompress(in, len, max_size, out); break;
      case Codec::kLz4: internal::Lz4Decompress(in, len, max_size, out); break;
      case Codec::kZstd: internal::ZstdDecompress(in, len, max_size, out); break;
      default: break;
    }
  } catch (...) {
    out.Resize(start);
    throw;
  }
}

ByteBuffer Compress(Codec codec, const uint8_t* in, size_t len, const CompressOptions& options) {
  ByteBuffer out;
  CompressAppend(codec, in, len, options, out);
  out.ShrinkToFit();
  return out;
}

ByteBuffer Decompress(Codec codec, const uint8_t* in, size_t len, size_t max_size) {
  ByteBuffer out;
  DecompressAppend(codec, in, len, max_size, out);
  out.ShrinkToFit();
  return out;
}

}  // namespace brook::compress
