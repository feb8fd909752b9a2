// snappy (codec 2). Two framings occur inside Kafka batches:
//
// Raw: one snappy block, as librdkafka writes. A block starts with the uncompressed length as a
// little-endian base-128 varint, then literal/copy elements.
//
// Xerial (snappy-java's SnappyOutputStream, used by the Java client, kafka-python and the Kafka
// broker when it recompresses):
//
//   offset size  field
//   ------ ----  -------------------------------------------------------------
//        0    8  magic 82 53 4E 41 50 50 59 00 ("\x82SNAPPY\0")
//        8    4  version, int32 BE (1)
//       12    4  minimum compatible version, int32 BE (1)
//       16    .  blocks, each: int32 BE compressed length, then one raw snappy block
//                of that many bytes. Java writes 32 KiB of input per block.
//
// A raw block cannot be mistaken for the magic in practice (it would have to claim an uncompressed
// length of 10626 and continue with exactly "NAPPY\0"), which is why librdkafka and snappy-java
// both tell the two apart by sniffing the first 8 bytes, as we do. The version fields are not
// checked: every writer uses 1/1 and the readers ignore them.
#include <snappy.h>

#include "compress/codec_internal.h"
#include "record/batch_header.h"

namespace brook::compress::internal {
namespace {

constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t kXerialHeaderSize = 16;
constexpr int32_t kXerialVersion = 1;
constexpr int32_t kXerialMinCompatibleVersion = 1;
constexpr size_t kXerialBlockSize = 32 << 10;

void AppendRawBlock(const uint8_t* in, size_t len, ByteBuffer& out) {
  const size_t start = out.size();
  out.Reserve(start + snappy::MaxCompressedLength(len));
  size_t written = 0;
  snappy::RawCompress(reinterpret_cast<const char*>(in), len, reinterpret_cast<char*>(out.end()), &written);
  out.Resize(start + written);
}

void DecodeRawBlock(const uint8_t* in, size_t len, BoundedOutput& output) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(reinterpret_cast<const char*>(in), len, &n))
    Fail("snappy", "corrupt block header");
  uint8_t* dst = output.Exact(n);  // fails when n would pass the limit, before allocating n
  if (!snappy::RawUncompress(reinterpret_cast<const char*>(in), len, reinterpret_cast<char*>(dst)))
    Fail("snappy", "corrupt block");
  output.Commit(n);
}

}  // namespace

void SnappyCompress(const uint8_t* in, size_t len, SnappyFraming framing, ByteBuffer& out) {
  if (framing == SnappyFraming::kRaw) {
    AppendRawBlock(in, len, out);
    return;
  }
  const size_t blocks = (len + kXerialBlockSize - 1) / kXerialBlockSize;
  out.Reserve(out.size() + kXerialHeaderSize + blocks * (4 + snappy::MaxCompressedLength(kXerialBlockSize)));
  uint8_t header[kXerialHeaderSize];
  std::memcpy(header, kXerialMagic, 8);
  record::StoreBE32(header + 8, uint32_t(kXerialVersion));
  record::StoreBE32(header + 12, uint32_t(kXerialMinCompatibleVersion));
  out.Append(header, sizeof header);
  for (size_t pos = 0; pos < len; pos += kXerialBlockSize) {
    const size_t n = std::min(kXerialBlockSize, len - pos);
    const size_t length_at = out.size();
    out.Resize(length_at + 4);
    AppendRawBlock(in + pos, n, out);
    record::StoreBE32(out.data() + length_at, uint32_t(out.size() - length_at - 4));
  }
}

void SnappyDecompress(const uint8_t* in, size_t len, size_t max_size, ByteBuffer& out) {
  const bool xerial = len >= 8 && std::memcmp(in, kXerialMagic, 8) == 0;
  if (!xerial) {
    BoundedOutput output(out, max_size, "snappy", 0);
    DecodeRawBlock(in, len, output);
    return;
  }
  if (len < kXerialHeaderSize) Fail("snappy", "truncated xerial header");
  // First pass: check the block framing and add up the lengths the blocks claim, so the output is
  // allocated once (and a stream claiming more than the limit fails before any allocation).
  size_t total = 0;
  for (size_t pos = kXerialHeaderSize; pos < len;) {
    if (len - pos < 4) Fail("snappy", "truncated xerial block length");
    const int32_t block = int32_t(record::LoadBE32(in + pos));
    pos += 4;
    if (block <= 0 || size_t(block) > len - pos)
      Fail("snappy", "xerial block length " + std::to_string(block) + " does not fit the " + std::to_string(len - pos) +
                         " bytes left");
    size_t n = 0;
    if (!snappy::GetUncompressedLength(reinterpret_cast<const char*>(in + pos), size_t(block), &n))
      Fail("snappy", "corrupt block header");
    total += n;
    if (total > max_size) FailLimit("snappy", max_size);
    pos += size_t(block);
  }
  BoundedOutput output(out, max_size, "snappy", 0);
  output.Exact(total);
  for (size_t pos = kXerialHeaderSize; pos < len;) {
    const size_t block = record::LoadBE32(in + pos);
    DecodeRawBlock(in + pos + 4, block, output);
    pos += 4 + block;
  }
}

}  // namespace brook::compress::internal
