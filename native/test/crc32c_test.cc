// CRC-32C: the known answer, every implementation this CPU supports against the byte-at-a-time
// reference (lengths 0..1024 at several alignments, large buffers), and the chained form.
#include "record/crc32c.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "record/crc32c_impl.h"

namespace brook::record {
namespace {

std::vector<uint8_t> RandomBytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  std::mt19937_64 rng(seed);
  for (auto& b : v) b = uint8_t(rng());
  return v;
}

std::vector<detail::Crc32cImpl> Supported() {
  size_t n = 0;
  const detail::Crc32cImpl* all = detail::Crc32cImpls(&n);
  std::vector<detail::Crc32cImpl> out;
  for (size_t i = 0; i < n; i++)
    if (all[i].supported) out.push_back(all[i]);
  return out;
}

TEST(Crc32c, KnownAnswer) {
  const auto* s = reinterpret_cast<const uint8_t*>("123456789");
  EXPECT_EQ(Crc32c(s, 9), 0xE3069283u);
  EXPECT_EQ(Crc32cPortable(s, 9), 0xE3069283u);
  for (const auto& impl : Supported()) EXPECT_EQ(impl.fn(s, 9, 0), 0xE3069283u) << impl.name;
}

TEST(Crc32c, EmptyInputReturnsTheRunningValue) {
  EXPECT_EQ(Crc32c(nullptr, 0), 0u);
  EXPECT_EQ(Crc32c(nullptr, 0, 0xDEADBEEF), 0xDEADBEEFu);
}

// RFC 3720 (iSCSI) B.4 test vectors.
TEST(Crc32c, IscsiVectors) {
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xFF), inc(32), dec(32);
  for (int i = 0; i < 32; i++) {
    inc[i] = uint8_t(i);
    dec[i] = uint8_t(31 - i);
  }
  EXPECT_EQ(Crc32c(zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(inc.data(), 32), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(dec.data(), 32), 0x113FDB5Cu);
}

// The choice is made once, when the library loads, so the test cannot unset BROOK_CRC32C for
// itself: it checks the rule against the environment the process started with. Without the
// variable (or with one naming nothing this CPU supports) the fastest supported implementation is
// chosen; with it, the one it names. Either way Crc32c must be that implementation.
TEST(Crc32c, DispatcherPicksTheFastestSupported) {
  auto supported = Supported();
  ASSERT_FALSE(supported.empty());
  const char* forced = std::getenv("BROOK_CRC32C");
  std::string expected = supported.front().name;
  if (forced != nullptr) {
    for (const auto& impl : supported)
      if (std::strcmp(impl.name, forced) == 0) expected = impl.name;
  }
  EXPECT_EQ(std::string(Crc32cImplementation()), expected) << "BROOK_CRC32C=" << (forced ? forced : "(unset)");
  // The dispatched function is the chosen one: same answers, including for chained calls.
  const detail::Crc32cImpl* chosen = nullptr;
  for (const auto& impl : supported)
    if (expected == impl.name) chosen = &impl;
  ASSERT_NE(chosen, nullptr);
  const auto buf = RandomBytes(4096 + 7, 3);
  for (size_t len : {size_t(0), size_t(1), size_t(63), size_t(64), size_t(1000), size_t(4096 + 7)}) {
    EXPECT_EQ(Crc32c(buf.data(), len), chosen->fn(buf.data(), len, 0)) << chosen->name << " len " << len;
    EXPECT_EQ(Crc32c(buf.data(), len, 0x12345678u), chosen->fn(buf.data(), len, 0x12345678u))
        << chosen->name << " len " << len;
  }
}

TEST(Crc32c, EveryImplementationMatchesThePortableTableForAllShortLengthsAndAlignments) {
  const auto buf = RandomBytes(1024 + 64, 1);
  for (const auto& impl : Supported()) {
    for (size_t align = 0; align < 16; align++) {
      for (size_t len = 0; len + align <= 1024 + 16 && len <= 1024; len++) {
        const uint8_t* p = buf.data() + align;
        ASSERT_EQ(impl.fn(p, len, 0), Crc32cPortable(p, len, 0)) << impl.name << " len " << len << " align " << align;
        ASSERT_EQ(impl.fn(p, len, 0xA5A5A5A5), Crc32cPortable(p, len, 0xA5A5A5A5)) << impl.name << " len " << len;
      }
    }
  }
}

TEST(Crc32c, EveryImplementationMatchesOnLargeBuffersAtRandomAlignments) {
  const auto buf = RandomBytes((4 << 20) + 64, 2);
  std::mt19937_64 rng(3);
  // Sizes straddling each tier and fold boundary, plus random ones.
  std::vector<size_t> sizes = {255,  256,  383,   384,   511,   512,   513,   767,     768,          3071,
                               3072, 3073, 24575, 24576, 24577, 65536, 65537, 1 << 20, (4 << 20) - 1};
  for (int i = 0; i < 40; i++) sizes.push_back(size_t(rng() % (1 << 20)));
  for (const auto& impl : Supported()) {
    for (size_t len : sizes) {
      const size_t align = rng() % 64;
      const uint8_t* p = buf.data() + align;
      const uint32_t init = uint32_t(rng());
      ASSERT_EQ(impl.fn(p, len, init), Crc32cPortable(p, len, init))
          << impl.name << " len " << len << " align " << align;
    }
  }
}

TEST(Crc32c, ChainedCallsEqualOneCall) {
  const auto buf = RandomBytes(200000, 4);
  const uint32_t whole = Crc32cPortable(buf.data(), buf.size());
  std::mt19937_64 rng(5);
  for (const auto& impl : Supported()) {
    for (int trial = 0; trial < 20; trial++) {
      uint32_t crc = 0;
      size_t pos = 0;
      while (pos < buf.size()) {
        const size_t n = std::min(buf.size() - pos, size_t(rng() % 5000));
        crc = impl.fn(buf.data() + pos, n, crc);
        pos += n;
      }
      ASSERT_EQ(crc, whole) << impl.name;
    }
  }
}

TEST(Crc32c, ShiftConstantsAreReducedPowersOfX) {
  // x^0 is 1; x^31 is the last bit of the reversed register; x^32 reduces to P's low terms.
  EXPECT_EQ(detail::Crc32cXPowMod(0), 0x80000000u);
  EXPECT_EQ(detail::Crc32cXPowMod(31), 0x00000001u);
  EXPECT_EQ(detail::Crc32cXPowMod(32), 0x82F63B78u);
  // Against multiplying by x one step at a time.
  uint32_t v = 0x80000000u;
  for (uint64_t n = 0; n <= 5000; n++) {
    ASSERT_EQ(detail::Crc32cXPowMod(n), v) << n;
    v = (v & 1) ? (v >> 1) ^ 0x82F63B78u : v >> 1;
  }
  // Appending n zero bytes multiplies the inverted register by x^(8n): the link to Crc32c itself.
  std::vector<uint8_t> zeros(100, 0);
  const uint32_t r = 0x80000000u;  // register value 1: the raw CRC is then x^800 mod P
  EXPECT_EQ(~Crc32cPortable(zeros.data(), zeros.size(), ~r), detail::Crc32cXPowMod(800));
}

}  // namespace
}  // namespace brook::record
