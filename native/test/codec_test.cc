// The codecs: round trips over the sizes that exercise framing (empty, one byte, random, highly
// compressible, several lz4 / xerial blocks), output formats other decoders rely on, concatenated
// streams, corrupt and truncated input, and the decompressed-size limit.
#include "compress/codec.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "error.h"
#include "test_batches.h"

namespace brook::compress {
namespace {

using Bytes = std::vector<uint8_t>;
using test::ErrorCode;

Bytes RandomBytes(size_t n, uint64_t seed) {
  Bytes v(n);
  std::mt19937_64 rng(seed);
  for (auto& b : v) b = uint8_t(rng());
  return v;
}

// Log-like text: compressible but not trivially so.
Bytes LogLines(size_t n) {
  std::string s;
  std::mt19937_64 rng(7);
  const char* paths[] = {"/api/v1/orders", "/api/v1/users/me", "/static/app.js", "/healthz", "/api/v2/search?q=kafka"};
  while (s.size() < n) {
    s += "{\"ts\":" + std::to_string(1700000000000 + rng() % 100000) + ",\"level\":\"info\",\"path\":\"" +
         paths[rng() % 5] + "\",\"status\":" + std::to_string(200 + rng() % 5 * 100) +
         ",\"latency_ms\":" + std::to_string(rng() % 1000) + ",\"req\":\"" + std::to_string(rng()) + "\"}\n";
  }
  s.resize(n);
  return Bytes(s.begin(), s.end());
}

Bytes ToVec(const ByteBuffer& b) { return Bytes(b.data(), b.data() + b.size()); }

Bytes RoundTrip(Codec codec, const Bytes& in, CompressOptions opts = {}) {
  ByteBuffer c = Compress(codec, in.data(), in.size(), opts);
  ByteBuffer d = Decompress(codec, c.data(), c.size(), in.size() + 16);
  return ToVec(d);
}

constexpr Codec kAll[] = {Codec::kNone, Codec::kGzip, Codec::kSnappy, Codec::kLz4, Codec::kZstd};
constexpr Codec kCompressing[] = {Codec::kGzip, Codec::kSnappy, Codec::kLz4, Codec::kZstd};

class CodecEvery : public ::testing::TestWithParam<Codec> {};
INSTANTIATE_TEST_SUITE_P(Codecs, CodecEvery, ::testing::ValuesIn(kAll),
                         [](const auto& info) { return std::string(CodecName(info.param)); });

class CodecCompressing : public ::testing::TestWithParam<Codec> {};
INSTANTIATE_TEST_SUITE_P(Codecs, CodecCompressing, ::testing::ValuesIn(kCompressing),
                         [](const auto& info) { return std::string(CodecName(info.param)); });

TEST_P(CodecEvery, RoundTripsEmptyAndOneByte) {
  EXPECT_EQ(RoundTrip(GetParam(), {}), Bytes{});
  EXPECT_EQ(RoundTrip(GetParam(), {0x42}), Bytes{0x42});
}

TEST_P(CodecEvery, RoundTripsIncompressibleRandomBytes) {
  for (size_t n : {size_t(100), size_t(4096), size_t(300000)}) {
    const Bytes in = RandomBytes(n, n);
    EXPECT_EQ(RoundTrip(GetParam(), in), in) << n;
  }
}

TEST_P(CodecEvery, RoundTripsHighlyCompressibleAndMultiBlockInput) {
  // 1 MiB of zeros and 700 KiB of log lines: many 64 KiB lz4 blocks and 32 KiB xerial blocks.
  const Bytes zeros(1 << 20, 0);
  const Bytes logs = LogLines(700 << 10);
  EXPECT_EQ(RoundTrip(GetParam(), zeros), zeros);
  EXPECT_EQ(RoundTrip(GetParam(), logs), logs);
  if (GetParam() != Codec::kNone) {
    EXPECT_LT(Compress(GetParam(), zeros.data(), zeros.size()).size(), zeros.size() / 20);
  }
}

TEST_P(CodecEvery, RoundTripsAtEveryLevelWeAccept) {
  const Bytes logs = LogLines(100 << 10);
  std::vector<int> levels = {kDefaultLevel};
  if (GetParam() == Codec::kGzip) levels = {-1, 0, 1, 9};
  if (GetParam() == Codec::kLz4) levels = {0, 1, 3, 9, 12};
  if (GetParam() == Codec::kZstd) levels = {-5, 0, 1, 3, 19};
  for (int level : levels) EXPECT_EQ(RoundTrip(GetParam(), logs, {level}), logs) << level;
}

TEST(Codec, RejectsLevelsOutOfRange) {
  const Bytes in = {1, 2, 3};
  EXPECT_EQ(ErrorCode([&] { Compress(Codec::kGzip, in.data(), in.size(), {10}); }), "INVALID_ARGUMENT");
  EXPECT_EQ(ErrorCode([&] { Compress(Codec::kLz4, in.data(), in.size(), {13}); }), "INVALID_ARGUMENT");
  EXPECT_EQ(ErrorCode([&] { Compress(Codec::kZstd, in.data(), in.size(), {23}); }), "INVALID_ARGUMENT");
}

TEST(Codec, RejectsUnknownCodecIds) {
  EXPECT_EQ(ErrorCode([] { CodecFromId(5); }), "UNSUPPORTED_CODEC");
  EXPECT_EQ(ErrorCode([] { CodecFromId(-1); }), "UNSUPPORTED_CODEC");
  const Bytes in = {1};
  EXPECT_EQ(ErrorCode([&] { Decompress(Codec(7), in.data(), in.size()); }), "UNSUPPORTED_CODEC");
}

TEST_P(CodecCompressing, EmptyInputIsNotAValidStream) {
  EXPECT_EQ(ErrorCode([&] { Decompress(GetParam(), nullptr, 0); }), "CODEC_ERROR");
}

TEST_P(CodecCompressing, EveryTruncationFailsWithCodecErrorNotACrash) {
  const Bytes in = LogLines(40000);
  const ByteBuffer c = Compress(GetParam(), in.data(), in.size());
  int silent = 0;
  for (size_t cut = 0; cut < c.size(); cut += (cut < 64 ? 1 : 97)) {
    try {
      ByteBuffer d = Decompress(GetParam(), c.data(), cut, 1 << 20);
      // A prefix may decode only if it is a complete shorter stream (a gzip or xerial prefix
      // ending on a member or block boundary); it must never equal the whole input.
      EXPECT_NE(ToVec(d), in) << "cut " << cut;
      silent++;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "CODEC_ERROR");
    }
  }
  if (GetParam() != Codec::kSnappy) {
    EXPECT_EQ(silent, 0);
  }
}

TEST_P(CodecCompressing, CorruptBytesFailWithCodecErrorOrDecodeToSomethingBounded) {
  const Bytes in = LogLines(50000);
  const ByteBuffer c = Compress(GetParam(), in.data(), in.size());
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 400; trial++) {
    Bytes bad(c.data(), c.data() + c.size());
    for (int flips = 0; flips < 1 + int(rng() % 4); flips++) bad[rng() % bad.size()] ^= uint8_t(1 + rng() % 255);
    try {
      ByteBuffer d = Decompress(GetParam(), bad.data(), bad.size(), 200000);
      EXPECT_LE(d.size(), 200000u);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "CODEC_ERROR");
    }
  }
}

TEST_P(CodecEvery, EnforcesTheDecompressedSizeLimit) {
  const Bytes zeros(10 << 20, 0);  // 10 MiB of zeros: a few KiB compressed
  const ByteBuffer c = Compress(GetParam(), zeros.data(), zeros.size());
  EXPECT_EQ(ErrorCode([&] { Decompress(GetParam(), c.data(), c.size(), (10 << 20) - 1); }), "CODEC_ERROR");
  EXPECT_EQ(ErrorCode([&] { Decompress(GetParam(), c.data(), c.size(), 1000); }), "CODEC_ERROR");
  EXPECT_EQ(Decompress(GetParam(), c.data(), c.size(), 10 << 20).size(), size_t(10) << 20);
}

TEST(Codec, LimitFailureLeavesTheOutputBufferAsItWas) {
  const Bytes zeros(1 << 20, 0);
  const ByteBuffer c = Compress(Codec::kZstd, zeros.data(), zeros.size());
  ByteBuffer out;
  out.Append("head", 4);
  EXPECT_THROW(DecompressAppend(Codec::kGzip, c.data(), c.size(), 100, out), Error);
  EXPECT_EQ(out.size(), 4u);
  EXPECT_THROW(DecompressAppend(Codec::kZstd, c.data(), c.size(), 100, out), Error);
  EXPECT_EQ(out.size(), 4u);
}

TEST(Gzip, WritesAGzipMemberAndAcceptsConcatenatedMembers) {
  const Bytes a = LogLines(5000), b = RandomBytes(3000, 1);
  ByteBuffer ca = Compress(Codec::kGzip, a.data(), a.size());
  ByteBuffer cb = Compress(Codec::kGzip, b.data(), b.size());
  ASSERT_GE(ca.size(), 18u);
  EXPECT_EQ(ca.data()[0], 0x1f);
  EXPECT_EQ(ca.data()[1], 0x8b);
  EXPECT_EQ(ca.data()[2], 8);  // deflate
  Bytes both(ca.data(), ca.data() + ca.size());
  both.insert(both.end(), cb.data(), cb.data() + cb.size());
  Bytes expect = a;
  expect.insert(expect.end(), b.begin(), b.end());
  EXPECT_EQ(ToVec(Decompress(Codec::kGzip, both.data(), both.size())), expect);
  // Trailing bytes that are not a gzip member are ignored, as Java's GZIPInputStream does.
  both.push_back(0);
  both.push_back(0);
  EXPECT_EQ(ToVec(Decompress(Codec::kGzip, both.data(), both.size())), expect);
}

TEST(Gzip, RejectsAZlibStream) {
  const Bytes zlib_stream = {0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01};  // zlib of ""
  EXPECT_EQ(ErrorCode([&] { Decompress(Codec::kGzip, zlib_stream.data(), zlib_stream.size()); }), "CODEC_ERROR");
}

TEST(Snappy, XerialIsTheDefaultFramingWith32KiBBlocks) {
  const Bytes in = LogLines(100000);  // 4 blocks: 3 x 32 KiB + 1696 bytes
  ByteBuffer c = Compress(Codec::kSnappy, in.data(), in.size());
  const uint8_t header[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
  ASSERT_GE(c.size(), 16u);
  EXPECT_EQ(Bytes(c.data(), c.data() + 16), Bytes(header, header + 16));
  size_t pos = 16, blocks = 0;
  while (pos < c.size()) {
    const uint32_t n = record::LoadBE32(c.data() + pos);
    pos += 4 + n;
    blocks++;
  }
  EXPECT_EQ(pos, c.size());
  EXPECT_EQ(blocks, 4u);
}

TEST(Snappy, RawFramingIsOneBlockAndBothFramingsDecode) {
  const Bytes in = LogLines(100000);
  ByteBuffer raw = Compress(Codec::kSnappy, in.data(), in.size(), {kDefaultLevel, SnappyFraming::kRaw});
  EXPECT_NE(raw.data()[0], 0x82);
  EXPECT_EQ(ToVec(Decompress(Codec::kSnappy, raw.data(), raw.size())), in);
  ByteBuffer xerial = Compress(Codec::kSnappy, in.data(), in.size(), {kDefaultLevel, SnappyFraming::kXerial});
  EXPECT_EQ(ToVec(Decompress(Codec::kSnappy, xerial.data(), xerial.size())), in);
}

TEST(Snappy, XerialWithBadBlockLengthsFails) {
  const Bytes in = LogLines(1000);
  ByteBuffer c = Compress(Codec::kSnappy, in.data(), in.size());
  Bytes bad(c.data(), c.data() + c.size());
  record::StoreBE32(bad.data() + 16, 0x7FFFFFFF);
  EXPECT_EQ(ErrorCode([&] { Decompress(Codec::kSnappy, bad.data(), bad.size()); }), "CODEC_ERROR");
  record::StoreBE32(bad.data() + 16, 0);
  EXPECT_EQ(ErrorCode([&] { Decompress(Codec::kSnappy, bad.data(), bad.size()); }), "CODEC_ERROR");
  record::StoreBE32(bad.data() + 16, 0xFFFFFFFF);
  EXPECT_EQ(ErrorCode([&] { Decompress(Codec::kSnappy, bad.data(), bad.size()); }), "CODEC_ERROR");
  // A header alone is an empty stream; part of a header is truncated.
  EXPECT_EQ(Decompress(Codec::kSnappy, c.data(), 16).size(), 0u);
  EXPECT_EQ(ErrorCode([&] { Decompress(Codec::kSnappy, c.data(), 12); }), "CODEC_ERROR");
}

TEST(Snappy, ARawBlockClaimingAHugeLengthFailsBeforeAllocating) {
  // varint 0xFFFFFFFF then a literal: claims 4 GiB.
  const Bytes bomb = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00, 'x'};
  EXPECT_EQ(ErrorCode([&] { Decompress(Codec::kSnappy, bomb.data(), bomb.size(), 1 << 20); }), "CODEC_ERROR");
}

TEST(Lz4, WritesKafkasFrameDescriptor) {
  const Bytes in = LogLines(200000);
  ByteBuffer c = Compress(Codec::kLz4, in.data(), in.size());
  ASSERT_GE(c.size(), 7u);
  EXPECT_EQ(Bytes(c.data(), c.data() + 4), (Bytes{0x04, 0x22, 0x4D, 0x18}));
  EXPECT_EQ(c.data()[4], 0x60);  // version 1, independent blocks, no checksums, no content size
  EXPECT_EQ(c.data()[5], 0x40);  // 64 KiB blocks
  EXPECT_EQ(Bytes(c.data() + c.size() - 4, c.data() + c.size()), (Bytes{0, 0, 0, 0}));  // end mark
}

TEST(Lz4, RejectsDependentBlocks) {
  const Bytes in = LogLines(1000);
  ByteBuffer c = Compress(Codec::kLz4, in.data(), in.size());
  Bytes bad(c.data(), c.data() + c.size());
  bad[4] &= ~0x20;  // clear block independence; the header checksum then no longer matches
  EXPECT_EQ(ErrorCode([&] { Decompress(Codec::kLz4, bad.data(), bad.size()); }), "CODEC_ERROR");
}

TEST_P(CodecCompressing, ConcatenatedStreamsDecodeToTheConcatenation) {
  if (GetParam() == Codec::kSnappy) GTEST_SKIP() << "snappy blocks do not concatenate";
  const Bytes a = LogLines(70000), b = RandomBytes(5000, 3);
  ByteBuffer both = Compress(GetParam(), a.data(), a.size());
  ByteBuffer cb = Compress(GetParam(), b.data(), b.size());
  both.Append(cb.data(), cb.size());
  Bytes expect = a;
  expect.insert(expect.end(), b.begin(), b.end());
  EXPECT_EQ(ToVec(Decompress(GetParam(), both.data(), both.size())), expect);
}

}  // namespace
}  // namespace brook::compress
