#pragma once
// The config module's one bit mixer (private header): splitmix64's finaliser, used by the grid's
// run hashing and by a search's random draws and scrambles.
#include <cstdint>

namespace aesweep::detail {

inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace aesweep::detail
