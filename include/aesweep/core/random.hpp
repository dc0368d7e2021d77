#pragma once
// A small, fast, fully specified random generator (xoshiro256**, seeded through splitmix64), so
// that the same seed gives the same numbers on every platform and standard library.
#include <array>
#include <cstdint>

namespace aesweep {

// Derives independent seeds from one run seed, e.g. one stream for initialisation and another
// for shuffling, so adding a noise option does not change the initial weights.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

// Everything an Rng holds: its four words and the cached second normal, so a run can stop at an
// epoch and continue later exactly where its random numbers were.
struct RngState {
  std::array<std::uint64_t, 4> words{};
  double cached_normal = 0.0;
  bool has_cached_normal = false;
  bool operator==(const RngState&) const = default;
};

class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  explicit Rng(const RngState& state) { restore(state); }

  RngState state() const { return {{state_[0], state_[1], state_[2], state_[3]}, cached_normal_, has_cached_normal_}; }
  void restore(const RngState& s) {
    for (int i = 0; i < 4; ++i) state_[i] = s.words[std::size_t(i)];
    cached_normal_ = s.cached_normal;
    has_cached_normal_ = s.has_cached_normal;
  }

  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 24 (float) or 53 (double) random bits.
  float uniform_float() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }
  double uniform_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, bound), bound > 0 (Lemire's multiply-shift, negligible bias here).
  std::uint64_t below(std::uint64_t bound) {
    __extension__ using wide = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<wide>(next_u64()) * bound) >> 64);
  }

  // Standard normal (Box-Muller; the second value is cached).
  double normal();

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4];
  double cached_normal_ = 0.0;
  bool has_cached_normal_ = false;
};

}  // namespace aesweep
