// The individual CRC-32C implementations behind Crc32c(), exposed so the tests can check every one
// this CPU can run against the portable table (not only the one the dispatcher picked), and the
// benchmarks can time each. Production code calls Crc32c() from crc32c.h.
#pragma once
#include <cstddef>
#include <cstdint>

namespace brook::record::detail {

using Crc32cFn = uint32_t (*)(const uint8_t* data, size_t len, uint32_t crc);

struct Crc32cImpl {
  const char* name;  // "avx512", "sse42", "slice8", "table"
  Crc32cFn fn;
  bool supported;  // this CPU (and OS, for AVX-512 state) can run it
};

// Every implementation, fastest first. The dispatcher picks the first supported one.
// Unsupported entries must not be called.
const Crc32cImpl* Crc32cImpls(size_t* count);

// x^n mod P in the bit-reflected 32-bit form (bit 31 is x^0), where P is the Castagnoli polynomial.
// The building block of the shift constants; exposed for tests.
uint32_t Crc32cXPowMod(uint64_t n);

}  // namespace brook::record::detail
