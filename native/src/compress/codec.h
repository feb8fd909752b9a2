// The compression codecs of Kafka RecordBatch v2, behind one interface. Each codec produces and
// accepts exactly what goes into bytes 61..end of a compressed batch (see record/batch_header.h
// and the per-codec files for the framing):
//
//   codec   compress writes                              decompress accepts
//   ------  -------------------------------------------  -------------------------------------------
//   none    a copy                                       anything (a bounded copy)
//   gzip    one RFC 1952 member (zlib)                   concatenated members (Java's GZIPInputStream
//                                                        does the same); trailing bytes that do not
//                                                        start a member are ignored, as Java does
//   snappy  xerial framing (default) or one raw block    both, told apart by the xerial magic
//   lz4     one LZ4 frame: 64 KiB independent blocks,    any frames with independent blocks, with or
//           no checksums, no content size (as Kafka)     without block/content checksums (verified
//                                                        when present) and content size; dependent
//                                                        blocks are rejected, as Kafka rejects them
//   zstd    one frame with content size                  any frames, with or without content size
//
// Default levels (CompressOptions::level = kDefaultLevel):
//   gzip 6 (zlib's default, and Kafka's: compression.gzip.level=-1); valid -1..9.
//   lz4  0, LZ4's fast mode, as librdkafka. (Kafka >= 3.8 defaults to 9, LZ4-HC: 3x slower to
//        compress for ~10% smaller output; pass 9 to match it.) Valid 0..12.
//   zstd 3 (zstd's and Kafka's default); valid ZSTD_minCLevel()..ZSTD_maxCLevel(), 0 = default.
//   snappy has no levels; the level is ignored.
//
// Snappy framing default: xerial. It is what the Java client and the Kafka broker itself write
// (broker-side recompression), and every client we know decodes it: librdkafka, the Java client,
// kafka-python, Sarama, kafkajs-snappy. Raw blocks are what librdkafka writes; the Java client
// reads them too (snappy-java falls back to a raw block without the magic), but older
// kafka-python only sniffs xerial, so raw is opt-in.
//
// Decompression is bounded: at most max_size bytes are produced, and input that would produce more
// fails with CODEC_ERROR before anything beyond max_size + 1 bytes is allocated (zstd additionally
// bounds its window to 2^27 bytes, the library default). Corrupt or truncated input fails with
// CODEC_ERROR. Unknown codec ids fail with UNSUPPORTED_CODEC, bad levels with INVALID_ARGUMENT.
//
// Thread safety: every function may be called from any thread; zstd and lz4 keep one context per
// thread (thread_local) because creating a zstd context costs more than compressing a small batch.
#pragma once
#include <climits>
#include <cstddef>
#include <cstdint>

#include "compress/byte_buffer.h"
#include "record/batch_header.h"

namespace brook::compress {

using record::Codec;

constexpr int kDefaultLevel = INT_MIN;
constexpr size_t kDefaultMaxDecompressedSize = size_t(64) << 20;
// Batches are int32-sized on the wire; nothing we decompress may exceed that either.
constexpr size_t kMaxSize = size_t(INT32_MAX);

enum class SnappyFraming : uint8_t { kXerial = 0, kRaw = 1 };

struct CompressOptions {
  int level = kDefaultLevel;
  SnappyFraming snappy_framing = SnappyFraming::kXerial;
};

// Validates a wire codec id (attributes & 7): 0..4, else UNSUPPORTED_CODEC.
Codec CodecFromId(int id);
const char* CodecName(Codec codec);

// The whole output in a new buffer.
ByteBuffer Compress(Codec codec, const uint8_t* in, size_t len, const CompressOptions& options = {});
ByteBuffer Decompress(Codec codec, const uint8_t* in, size_t len, size_t max_size = kDefaultMaxDecompressedSize);

// Appends to `out` (which may already hold, say, a batch header). On error `out` keeps its original
// size. max_size limits the bytes appended.
void CompressAppend(Codec codec, const uint8_t* in, size_t len, const CompressOptions& options, ByteBuffer& out);
void DecompressAppend(Codec codec, const uint8_t* in, size_t len, size_t max_size, ByteBuffer& out);

}  // namespace brook::compress
