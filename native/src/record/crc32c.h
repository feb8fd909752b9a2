// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka RecordBatch v2.
// Check value: Crc32c("123456789") == 0xE3069283. Node's zlib.crc32 is the IEEE CRC, not this one.
//
// Crc32c picks the fastest implementation this CPU supports once, at load (hardware crc32
// instructions, carry-less multiply folding, or the portable table), and is safe to call from any
// thread. `crc` is the running value from a previous call, so a buffer can be checksummed in parts:
// Crc32c(b, Crc32c(a)) == Crc32c(a ++ b).
#pragma once
#include <cstddef>
#include <cstdint>

namespace brook::record {

uint32_t Crc32c(const uint8_t* data, size_t len, uint32_t crc = 0);
// The portable byte-at-a-time table version: the baseline the benchmarks compare against.
uint32_t Crc32cPortable(const uint8_t* data, size_t len, uint32_t crc = 0);
// Name of the implementation Crc32c dispatches to, e.g. "sse42", "pclmul", "table".
const char* Crc32cImplementation();

}  // namespace brook::record
