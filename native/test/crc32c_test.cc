#include <gtest/gtest.h>

#include <cstring>

#include "record/crc32c.h"

using brook::record::Crc32c;
using brook::record::Crc32cPortable;

TEST(Crc32c, KnownAnswer) {
  const char* s = "123456789";
  EXPECT_EQ(Crc32c(reinterpret_cast<const uint8_t*>(s), std::strlen(s)), 0xE3069283u);
  EXPECT_EQ(Crc32cPortable(reinterpret_cast<const uint8_t*>(s), std::strlen(s)), 0xE3069283u);
}
