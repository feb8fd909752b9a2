// zstd (codec 4): standard zstd frames (RFC 8878), possibly several back to back, possibly with
// skippable frames, with or without the content size in the frame header (zstd-jni's streaming
// writer in the Java client omits it).
//
// A single frame that declares its content size is decoded in one shot into an exactly sized
// buffer, which needs no window buffer at all; anything else is streamed into a growing bounded
// buffer. The streaming decoder allocates a window of up to 2^27 bytes (libzstd's default
// windowLogMax, which we keep: frames that need more are rejected), so memory stays bounded by
// max_size + 128 MiB even for hostile input.
#include <zstd.h>

#include <memory>

#include "compress/codec_internal.h"

namespace brook::compress::internal {
namespace {

struct CctxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// One context per thread: creating one costs more than compressing a small batch.
ZSTD_CCtx* ThreadCctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CctxDeleter> cctx(ZSTD_createCCtx());
  if (!cctx) throw std::bad_alloc();
  ZSTD_CCtx_reset(cctx.get(), ZSTD_reset_session_and_parameters);
  return cctx.get();
}
ZSTD_DCtx* ThreadDctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DctxDeleter> dctx(ZSTD_createDCtx());
  if (!dctx) throw std::bad_alloc();
  ZSTD_DCtx_reset(dctx.get(), ZSTD_reset_session_and_parameters);
  return dctx.get();
}

void Check(size_t ret) {
  if (ZSTD_isError(ret)) Fail("zstd", ZSTD_getErrorName(ret));
}

}  // namespace

int ZstdMinLevel() { return ZSTD_minCLevel(); }
int ZstdMaxLevel() { return ZSTD_maxCLevel(); }

void ZstdCompress(const uint8_t* in, size_t len, int level, ByteBuffer& out) {
  ZSTD_CCtx* cctx = ThreadCctx();
  Check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level));
  const size_t bound = ZSTD_compressBound(len);
  const size_t start = out.size();
  out.Reserve(start + bound);
  const size_t n = ZSTD_compress2(cctx, out.end(), bound, in, len);
  Check(n);
  out.Resize(start + n);
}

void ZstdDecompress(const uint8_t* in, size_t len, size_t max_size, ByteBuffer& out) {
  ZSTD_DCtx* dctx = ThreadDctx();
  const unsigned long long declared = ZSTD_getFrameContentSize(in, len);
  if (declared == ZSTD_CONTENTSIZE_ERROR) Fail("zstd", "not a zstd frame");
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && ZSTD_findFrameCompressedSize(in, len) == len) {
    BoundedOutput output(out, max_size, "zstd", 0);
    if (declared > max_size) FailLimit("zstd", max_size);
    uint8_t* dst = output.Exact(size_t(declared));
    const size_t n = ZSTD_decompressDCtx(dctx, dst, size_t(declared), in, len);
    Check(n);
    if (n != declared) Fail("zstd", "frame shorter than its declared content size");
    output.Commit(n);
    return;
  }
  BoundedOutput output(out, max_size, "zstd", declared != ZSTD_CONTENTSIZE_UNKNOWN ? size_t(declared) : len * 4);
  ZSTD_inBuffer src{in, len, 0};
  for (;;) {
    size_t avail = 0;
    uint8_t* dst = output.Space(&avail);
    ZSTD_outBuffer sink{dst, avail, 0};
    const size_t ret = ZSTD_decompressStream(dctx, &sink, &src);
    Check(ret);
    output.Commit(sink.pos);
    if (src.pos == src.size) {
      if (ret == 0) return;                                       // every frame complete and flushed
      if (sink.pos < sink.size) Fail("zstd", "truncated frame");  // wants input we do not have
    }
  }
}

}  // namespace brook::compress::internal
