// lz4 (codec 3): the LZ4 frame format (lz4frame, not the legacy or raw block format), all integers
// little-endian:
//
//   field        size  notes
//   -----------  ----  -------------------------------------------------------------------------
//   magic          4   04 22 4D 18 (0x184D2204). 0x184D2A50..5F are skippable frames: u32 size, data
//   FLG            1   bits 7-6 version (01), 5 block independence, 4 block checksum,
//                      3 content size present, 2 content checksum, 0 dictionary id present
//   BD             1   bits 6-4 max block size: 4 = 64 KiB, 5 = 256 KiB, 6 = 1 MiB, 7 = 4 MiB
//   content size  0/8  if FLG bit 3
//   dict id       0/4  if FLG bit 0
//   HC             1   (xxh32(descriptor) >> 8) & 0xFF
//   blocks             u32 size (high bit set = stored uncompressed), data, u32 checksum if FLG bit 4
//   end mark       4   00 00 00 00
//   checksum      0/4  xxh32 of the content if FLG bit 2
//
// Kafka writes FLG = 0x60 (version 1, independent blocks, nothing optional) and BD = 0x40 (64 KiB),
// and on read rejects dependent blocks (FLG bit 5 clear) because its decoder keeps no history
// between blocks. We write the same, and reject dependent blocks too, so a batch we accept is one
// every Java consumer can read. Content size and checksums are accepted; checksums present are
// verified by liblz4.
#include <lz4frame.h>

#include <memory>

#include "compress/codec_internal.h"

namespace brook::compress::internal {
namespace {

struct DctxDeleter {
  void operator()(LZ4F_dctx* d) const { LZ4F_freeDecompressionContext(d); }
};

LZ4F_dctx* ThreadDctx() {
  thread_local std::unique_ptr<LZ4F_dctx, DctxDeleter> dctx = [] {
    LZ4F_dctx* d = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) throw std::bad_alloc();
    return std::unique_ptr<LZ4F_dctx, DctxDeleter>(d);
  }();
  LZ4F_resetDecompressionContext(dctx.get());
  return dctx.get();
}

void Check(size_t ret) {
  if (LZ4F_isError(ret)) Fail("lz4", LZ4F_getErrorName(ret));
}

}  // namespace

void Lz4Compress(const uint8_t* in, size_t len, int level, ByteBuffer& out) {
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof prefs);
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
  prefs.frameInfo.contentSize = 0;
  prefs.compressionLevel = level;
  const size_t bound = LZ4F_compressFrameBound(len, &prefs);
  const size_t start = out.size();
  out.Reserve(start + bound);
  const size_t n = LZ4F_compressFrame(out.end(), bound, in, len, &prefs);
  Check(n);
  out.Resize(start + n);
}

void Lz4Decompress(const uint8_t* in, size_t len, size_t max_size, ByteBuffer& out) {
  LZ4F_dctx* dctx = ThreadDctx();
  BoundedOutput output(out, max_size, "lz4", len * 3);
  size_t pos = 0;
  while (pos < len) {  // one frame per iteration
    LZ4F_frameInfo_t info;
    size_t consumed = len - pos;
    size_t hint = LZ4F_getFrameInfo(dctx, &info, in + pos, &consumed);
    Check(hint);
    pos += consumed;
    if (info.frameType == LZ4F_frame && info.blockMode != LZ4F_blockIndependent)
      Fail("lz4", "frame uses dependent blocks, which Kafka does not allow");
    if (info.contentSize != 0) {
      if (info.contentSize > output.Remaining()) FailLimit("lz4", max_size);
      output.Exact(size_t(info.contentSize));
    }
    while (hint != 0) {  // until this frame's end mark (and checksum) is consumed
      if (pos == len) Fail("lz4", "truncated frame");
      size_t avail = 0;
      uint8_t* dst = output.Space(&avail);
      size_t src_size = len - pos;
      hint = LZ4F_decompress(dctx, dst, &avail, in + pos, &src_size, nullptr);
      Check(hint);
      pos += src_size;
      output.Commit(avail);
    }
    LZ4F_resetDecompressionContext(dctx);
  }
}

}  // namespace brook::compress::internal
