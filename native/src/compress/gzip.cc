// gzip (codec 1) with zlib. Kafka's payload is an RFC 1952 stream as Java's GZIPOutputStream writes
// it: a 10-byte header (1f 8b 08 flags mtime xfl os, optional extra/name/comment/hcrc fields), raw
// deflate data, then CRC-32 and ISIZE (uncompressed size mod 2^32), both little-endian. zlib's
// windowBits 15 + 16 selects exactly this wrapper (and rejects a zlib or raw deflate stream).
#include <zlib.h>

#include "compress/codec_internal.h"

namespace brook::compress::internal {
namespace {

constexpr int kGzipWindowBits = 15 + 16;
constexpr size_t kGzipMinMember = 18;  // 10-byte header, empty deflate block (2), 8-byte trailer
// Deflate expands at most ~1032:1 (a 258-byte match per 2 bits), so an ISIZE claiming more than
// that is a lie we do not pre-allocate for.
constexpr size_t kDeflateMaxRatio = 1032;

struct Inflater {
  z_stream zs{};
  Inflater() {
    if (inflateInit2(&zs, kGzipWindowBits) != Z_OK) throw std::bad_alloc();
  }
  ~Inflater() { inflateEnd(&zs); }
};

struct Deflater {
  z_stream zs{};
  explicit Deflater(int level) {
    if (deflateInit2(&zs, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::bad_alloc();
  }
  ~Deflater() { deflateEnd(&zs); }
};

std::string ZMessage(const z_stream& zs, int ret) {
  return zs.msg != nullptr ? zs.msg : ("zlib error " + std::to_string(ret));
}

}  // namespace

void GzipCompress(const uint8_t* in, size_t len, int level, ByteBuffer& out) {
  Deflater d(level);
  const size_t bound = deflateBound(&d.zs, uLong(len));
  const size_t start = out.size();
  out.Reserve(start + bound);
  d.zs.next_in = const_cast<Bytef*>(in);
  d.zs.avail_in = uInt(len);
  d.zs.next_out = out.end();
  d.zs.avail_out = uInt(bound);
  const int ret = deflate(&d.zs, Z_FINISH);
  if (ret != Z_STREAM_END) Fail("gzip", "compression did not finish: " + ZMessage(d.zs, ret));
  out.Resize(start + d.zs.total_out);
}

void GzipDecompress(const uint8_t* in, size_t len, size_t max_size, ByteBuffer& out) {
  // The last member's ISIZE is a good first guess of the output size (exact for one member).
  size_t hint = len * 4;
  if (len >= kGzipMinMember) {
    const uint8_t* t = in + len - 4;
    const size_t isize = uint32_t(t[0]) | uint32_t(t[1]) << 8 | uint32_t(t[2]) << 16 | uint32_t(t[3]) << 24;
    if (isize <= len * kDeflateMaxRatio) hint = isize + 1;  // +1: room to see the end without a regrow
  }
  BoundedOutput output(out, max_size, "gzip", hint);
  Inflater inf;
  inf.zs.next_in = const_cast<Bytef*>(in);
  inf.zs.avail_in = uInt(len);
  for (;;) {
    size_t avail = 0;
    inf.zs.next_out = output.Space(&avail);
    inf.zs.avail_out = uInt(std::min<size_t>(avail, UINT32_MAX));
    const uInt before = inf.zs.avail_out;
    const int ret = inflate(&inf.zs, Z_NO_FLUSH);
    output.Commit(before - inf.zs.avail_out);
    if (ret == Z_STREAM_END) {
      // Another member follows only if the next bytes are a gzip magic; anything else after a
      // complete member is ignored, as Java's GZIPInputStream ignores trailing garbage.
      if (inf.zs.avail_in >= 2 && inf.zs.next_in[0] == 0x1f && inf.zs.next_in[1] == 0x8b) {
        inflateReset(&inf.zs);
        continue;
      }
      return;
    }
    if (ret == Z_OK) continue;
    if (ret == Z_BUF_ERROR) {
      if (inf.zs.avail_out == 0) continue;  // output full: Space() grows it (or fails at the limit)
      Fail("gzip", "truncated input");
    }
    Fail("gzip", ZMessage(inf.zs, ret));
  }
}

}  // namespace brook::compress::internal
