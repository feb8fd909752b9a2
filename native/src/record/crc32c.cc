// CRC-32C implementations and the load-time dispatcher.
//
// Notation used in the comments (everything is in the bit-reflected convention of this CRC):
// a message is a bit stream, least significant bit of each byte first; as a polynomial over GF(2)
// its first bit has the highest degree. A w-bit register holds a polynomial "reversed": bit k is
// the coefficient of x^(w-1-k), so bit 0 is the highest degree. Loading 8 message bytes
// little-endian gives exactly the reversed 64-bit form of those 64 message bits. The raw CRC of a
// message M is M * x^32 mod P; the standard CRC-32C additionally starts the register at ~0 (which
// is the same as XOR-ing ~crc into the first 32 message bits) and inverts the result.
//
// Three useful facts for the x86 instructions:
//  * crc32q(c, d) = (c * x^64 + d * x^32) mod P, with c a reversed 32-bit and d a reversed 64-bit
//    polynomial. So crc32q(0, d) reduces a 64-bit polynomial, times x^32.
//  * pclmulqdq of a reversed w1-bit and a reversed w2-bit operand yields the reversed
//    (w1 + w2 - 1)-bit product in the low bits. Read as a reversed value of a wider width W it is
//    the product times x^(W - w1 - w2 + 1): the "extra x" every reflected CLMUL derivation has.
//  * The raw CRC is linear, so the CRC of A ++ B is CRC(A) * x^(8|B|) + CRC(B) (mod P), when B's
//    register starts at 0. Shifting a CRC forward by n bytes is a multiplication by x^(8n) mod P.
//
// Implementations, fastest first:
//  avx512  VPCLMULQDQ folding of four 512-bit accumulators (256 bytes per step), reduced to a CRC
//          with two crc32q. Buffers under 512 bytes go to sse42.
//  sse42   crc32q on three interleaved streams (the instruction has 3-cycle latency and issues one
//          per cycle, so three independent chains fill the pipe), recombined with one pclmulqdq
//          shift per stream.
//  slice8  portable slicing-by-8 tables: the fallback for CPUs without SSE4.2.
//  table   the byte-at-a-time reference (Crc32cPortable).
#include "record/crc32c.h"

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "record/crc32c_impl.h"

#if defined(__x86_64__) || defined(_M_X64)
#define BROOK_CRC_X86 1
#include <immintrin.h>
#endif

namespace brook::record {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // Castagnoli polynomial without its x^32 term, reflected
constexpr uint32_t kOne = 0x80000000u;   // the polynomial 1 (x^0) in reversed 32-bit form

// Multiplies two reduced polynomials mod P. Walks a from x^0 upwards while b is multiplied by x
// one step at a time (a right shift in reversed form, with a reduction when x^32 appears).
constexpr uint32_t MulMod(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (int k = 0; k < 32; k++) {
    if (a & (kOne >> k)) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;
  }
  return product;
}

constexpr uint32_t XPowMod(uint64_t n) {
  uint32_t result = kOne;
  uint32_t base = kOne >> 1;  // x^1
  for (; n != 0; n >>= 1) {
    if (n & 1) result = MulMod(result, base);
    base = MulMod(base, base);
  }
  return result;
}

using Tables = std::array<std::array<uint32_t, 256>, 8>;

// tables[0] is the classic byte table; tables[k][i] is the CRC of byte i followed by k zero bytes,
// which lets slicing-by-8 look up eight bytes independently and XOR the results.
constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (int k = 1; k < 8; k++)
    for (uint32_t i = 0; i < 256; i++) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  return t;
}
constexpr Tables kTables = MakeTables();

static_assert(XPowMod(0) == kOne);
static_assert(XPowMod(32) == kPoly, "x^32 mod P is P without its leading term");

inline uint32_t LoadLE32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

uint32_t Crc32cSlice8(const uint8_t* p, size_t n, uint32_t crc) {
  uint32_t c = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    const uint32_t lo = c ^ LoadLE32(p);
    const uint32_t hi = LoadLE32(p + 4);
    c = kTables[7][lo & 0xFF] ^ kTables[6][(lo >> 8) & 0xFF] ^ kTables[5][(lo >> 16) & 0xFF] ^ kTables[4][lo >> 24] ^
        kTables[3][hi & 0xFF] ^ kTables[2][(hi >> 8) & 0xFF] ^ kTables[1][(hi >> 16) & 0xFF] ^ kTables[0][hi >> 24];
  }
  for (; n > 0; n--) c = kTables[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}

#ifdef BROOK_CRC_X86

// --- sse42: three interleaved crc32q streams ---------------------------------------------------
//
// A chunk of 3L bytes is split into streams A, B, C of L bytes each. A continues the running
// register; B and C start at 0. Then CRC(A ++ B ++ C) = A * x^(8*2L) + B * x^(8L) + C.
// Shift(c, K) multiplies by x^(8n) with one carry-less multiply and one crc32q:
// pclmul(c, K) is the reversed 63-bit c*K, which read as a reversed 64-bit value is c*K*x;
// crc32q(0, that) = c*K*x^33. So K = x^(8n - 33) mod P.
struct Tier {
  size_t len;       // L, a multiple of 8
  uint32_t shift1;  // x^(8L - 33)
  uint32_t shift2;  // x^(16L - 33)
};
constexpr Tier MakeTier(size_t len) { return {len, XPowMod(8 * len - 33), XPowMod(16 * len - 33)}; }
// Long streams amortise the recombination (about 15 cycles); shorter tiers keep the single-stream
// tail under 3 * 128 bytes.
constexpr Tier kTiers[] = {MakeTier(8192), MakeTier(1024), MakeTier(128)};

__attribute__((target("sse4.2,pclmul"))) inline uint64_t Shift(uint64_t crc, uint32_t k) {
  const __m128i product = _mm_clmulepi64_si128(_mm_cvtsi32_si128(int(crc)), _mm_cvtsi32_si128(int(k)), 0x00);
  return _mm_crc32_u64(0, uint64_t(_mm_cvtsi128_si64(product)));
}

__attribute__((target("sse4.2"))) inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

__attribute__((target("sse4.2,pclmul"))) uint32_t Crc32cSse42(const uint8_t* p, size_t n, uint32_t crc) {
  uint64_t c = ~crc;
  // Align so the 8-byte loads of all three streams are aligned (L is a multiple of 8).
  for (; n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0; n--) c = _mm_crc32_u8(uint32_t(c), *p++);
  for (const Tier& tier : kTiers) {
    const size_t len = tier.len;
    while (n >= 3 * len) {
      uint64_t c1 = 0, c2 = 0;
      const uint8_t* const end = p + len;
      do {
        c = _mm_crc32_u64(c, Load64(p));
        c1 = _mm_crc32_u64(c1, Load64(p + len));
        c2 = _mm_crc32_u64(c2, Load64(p + 2 * len));
        p += 8;
      } while (p != end);
      c = Shift(c, tier.shift2) ^ Shift(c1, tier.shift1) ^ c2;
      p += 2 * len;
      n -= 3 * len;
    }
  }
  for (; n >= 8; n -= 8, p += 8) c = _mm_crc32_u64(c, Load64(p));
  for (; n > 0; n--) c = _mm_crc32_u8(uint32_t(c), *p++);
  return ~uint32_t(c);
}

// --- avx512: VPCLMULQDQ folding --------------------------------------------------------------
//
// Each 128-bit lane X of an accumulator stands for 16 message bytes: its low quadword L is the
// first 8 (higher degrees), its high quadword H the next 8, so X = L * x^64 + H. Moving X forward
// by D bits (to the lane D/128 positions later) means X * x^D = L * x^(64+D) + H * x^D mod P.
// pclmul(L, K) with K a reversed 32-bit constant is the reversed 95-bit product; read as a reversed
// 128-bit lane it is L*K*x^33. Hence per lane: low constant KL = x^(D+31), high constant
// KH = x^(D-33), and the folded lane is clmul(L, KL) ^ clmul(H, KH), a 128-bit value congruent to
// X * x^D that is simply XORed into the data at the destination.
//
// Four 512-bit accumulators cover 256 bytes, so the main loop folds by D = 2048 bits. At the end,
// lane j (of 16) is folded by (15 - j) * 128 bits onto the last lane and everything is XORed into
// one 128-bit value X. Its CRC (X * x^32 mod P) is crc32q(crc32q(0, L), H), by the crc32q identity
// above, and the sse42 code continues from that register with whatever is left.
struct FoldConst {
  uint64_t lo, hi;
};
constexpr FoldConst MakeFold(uint64_t bits) {
  return {bits == 0 ? 0 : XPowMod(bits + 31), bits == 0 ? 0 : XPowMod(bits - 33)};
}
constexpr FoldConst kFold2048 = MakeFold(2048);
struct LaneConsts {
  FoldConst lane[16];
};
constexpr LaneConsts MakeLaneConsts() {
  LaneConsts c{};
  // Lane 15 gets zero constants: it is the destination and is XORed in unfolded.
  for (int j = 0; j < 16; j++) c.lane[j] = MakeFold(uint64_t(15 - j) * 128);
  return c;
}
alignas(64) constexpr LaneConsts kLaneConsts = MakeLaneConsts();

// GCC 12 warns "may be used uninitialized" from inside its own AVX-512 intrinsic headers (the
// _mm512_undefined_* placeholders of zext/extract); a known false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define BROOK_AVX512_TARGET __attribute__((target("avx512f,avx512vl,avx512bw,vpclmulqdq,pclmul,sse4.2")))

BROOK_AVX512_TARGET inline __m512i Fold(__m512i x, __m512i k) {
  return _mm512_xor_si512(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11));
}
BROOK_AVX512_TARGET inline __m512i FoldInto(__m512i x, __m512i k, const uint8_t* data) {
  // 0x96 is the truth table of a ^ b ^ c.
  return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11),
                                   _mm512_loadu_si512(data), 0x96);
}

BROOK_AVX512_TARGET uint32_t Crc32cAvx512(const uint8_t* p, size_t n, uint32_t crc) {
  if (n < 512) return Crc32cSse42(p, n, crc);
  // The starting register is XORed into the first 32 message bits.
  __m512i x0 = _mm512_xor_si512(_mm512_loadu_si512(p), _mm512_zextsi128_si512(_mm_cvtsi32_si128(int(~crc))));
  __m512i x1 = _mm512_loadu_si512(p + 64);
  __m512i x2 = _mm512_loadu_si512(p + 128);
  __m512i x3 = _mm512_loadu_si512(p + 192);
  p += 256;
  n -= 256;
  const __m512i k = _mm512_broadcast_i32x4(_mm_set_epi64x(int64_t(kFold2048.hi), int64_t(kFold2048.lo)));
  for (; n >= 256; n -= 256, p += 256) {
    x0 = FoldInto(x0, k, p);
    x1 = FoldInto(x1, k, p + 64);
    x2 = FoldInto(x2, k, p + 128);
    x3 = FoldInto(x3, k, p + 192);
  }
  const auto* lanes = reinterpret_cast<const uint8_t*>(&kLaneConsts);
  __m512i t = _mm512_ternarylogic_epi64(Fold(x0, _mm512_load_si512(lanes)), Fold(x1, _mm512_load_si512(lanes + 64)),
                                        Fold(x2, _mm512_load_si512(lanes + 128)), 0x96);
  t = _mm512_xor_si512(t, Fold(x3, _mm512_load_si512(lanes + 192)));
  __m128i x = _mm_xor_si128(_mm512_extracti32x4_epi32(t, 0), _mm512_extracti32x4_epi32(t, 1));
  x = _mm_xor_si128(x, _mm512_extracti32x4_epi32(t, 2));
  x = _mm_xor_si128(x, _mm512_extracti32x4_epi32(t, 3));
  x = _mm_xor_si128(x, _mm512_extracti32x4_epi32(x3, 3));
  uint64_t c = _mm_crc32_u64(0, uint64_t(_mm_cvtsi128_si64(x)));
  c = _mm_crc32_u64(c, uint64_t(_mm_extract_epi64(x, 1)));
  return Crc32cSse42(p, n, ~uint32_t(c));
}

#pragma GCC diagnostic pop

bool HasSse42() { return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul"); }
// libgcc's feature bits already include the OS check (XGETBV) for AVX-512 register state.
bool HasAvx512() {
  return HasSse42() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("vpclmulqdq");
}

#endif  // BROOK_CRC_X86

using Impls = std::array<detail::Crc32cImpl, 4>;

Impls MakeImpls() {
#ifdef BROOK_CRC_X86
  __builtin_cpu_init();
  return {{{"avx512", Crc32cAvx512, HasAvx512()},
           {"sse42", Crc32cSse42, HasSse42()},
           {"slice8", Crc32cSlice8, true},
           {"table", Crc32cPortable, true}}};
#else
  return {{{"avx512", nullptr, false},
           {"sse42", nullptr, false},
           {"slice8", Crc32cSlice8, true},
           {"table", Crc32cPortable, true}}};
#endif
}

// Function-local statics rather than globals, so a caller running during another file's static
// initialisation still gets a chosen implementation (no initialisation-order dependence).
const Impls& AllImpls() {
  static const Impls impls = MakeImpls();
  return impls;
}

// BROOK_CRC32C=<name> forces a (supported) implementation, so the fallbacks can be exercised end to
// end on a machine that would never pick them.
const detail::Crc32cImpl& Chosen() {
  static const detail::Crc32cImpl& chosen = [&]() -> const detail::Crc32cImpl& {
    const Impls& impls = AllImpls();
    const char* forced = std::getenv("BROOK_CRC32C");
    if (forced != nullptr)
      for (const auto& impl : impls)
        if (impl.supported && std::strcmp(impl.name, forced) == 0) return impl;
    for (const auto& impl : impls)
      if (impl.supported) return impl;
    return impls.back();
  }();
  return chosen;
}

// The dispatch pointer starts at a resolver (constant-initialised, so valid before any dynamic
// initialisation) that installs the chosen implementation on first use; the static below makes
// that first use happen when the library loads. After that a call costs one relaxed load.
uint32_t ResolveAndRun(const uint8_t* data, size_t len, uint32_t crc);
std::atomic<detail::Crc32cFn> g_dispatch{ResolveAndRun};

uint32_t ResolveAndRun(const uint8_t* data, size_t len, uint32_t crc) {
  const detail::Crc32cFn fn = Chosen().fn;
  g_dispatch.store(fn, std::memory_order_relaxed);
  return fn(data, len, crc);
}

[[maybe_unused]] const uint32_t kResolvedAtLoad = ResolveAndRun(nullptr, 0, 0);

}  // namespace

uint32_t Crc32cPortable(const uint8_t* data, size_t len, uint32_t crc) {
  crc = ~crc;
  for (size_t i = 0; i < len; i++) crc = kTables[0][(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

uint32_t Crc32c(const uint8_t* data, size_t len, uint32_t crc) {
  return g_dispatch.load(std::memory_order_relaxed)(data, len, crc);
}

const char* Crc32cImplementation() { return Chosen().name; }

namespace detail {
const Crc32cImpl* Crc32cImpls(size_t* count) {
  *count = AllImpls().size();
  return AllImpls().data();
}
uint32_t Crc32cXPowMod(uint64_t n) { return XPowMod(n); }
}  // namespace detail

}  // namespace brook::record
