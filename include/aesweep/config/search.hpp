#pragma once
// Sampled search spaces: the distributions a [search.NAME] section gives its keys, and the points
// of the unit cube they are drawn at (random, or a scrambled Sobol sequence). Every point is a
// pure function of (method, seed, point index, key): run i of a search is computed from i alone,
// without generating the points before it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aesweep {

enum class SearchMethod { random, sobol };
std::string_view to_string(SearchMethod method);
// "random" or "sobol"; throws ConfigError "unknown search method 'x': expected random or sobol".
SearchMethod parse_search_method(std::string_view text);

// The seed of a search section: an integer in [0, 2^53]. Throws ConfigError.
std::uint64_t parse_search_seed(std::string_view text);
// The points of a search section: an integer in [1, max]. Throws ConfigError.
std::size_t parse_search_runs(std::string_view text, std::size_t max);

// One key's distribution. Values are drawn at a coordinate u in [0, 1):
//   uniform(a, b)      a + u (b - a)                   a < b, both valid values of the option
//   loguniform(a, b)   exp(log a + u (log b - log a))  0 < a < b
//   int(a, b)          a + floor(u (b - a + 1))        integers a < b, every one of a..b equally likely
//   choice(v1, ...)    v_floor(u n)                    n >= 1 distinct values, each equally likely
struct Distribution {
  enum class Kind { uniform, loguniform, integer, choice };
  Kind kind = Kind::uniform;
  double low = 0, high = 0;          // uniform, loguniform, int
  std::vector<std::string> choices;  // choice: canonical values, as listed
  std::string text;                  // canonical text, "loguniform(1e-07, 0.001)"

  // The value at u in [0, 1) as text for the option to parse (numbers in shortest round-trip
  // form, a choice as listed). Never outside [low, high].
  std::string value_at(double u) const;
};

// True when `text` is written as a function call "name(...)" other than linspace/logspace: a
// distribution, or a misspelt one that parse_distribution names.
bool is_distribution(std::string_view text);

// Parses a distribution for option `key` and checks that it can only give values the option
// accepts: the form and arguments (a < b, loguniform's a > 0, int's integers, choice's values,
// none empty or repeated), and the option's kind and range. Throws ConfigError naming the key
// (callers add the place), and for a range the option's range, "reaches outside reg.dropout's
// range a number in [0, 0.9]".
Distribution parse_distribution(std::string_view key, std::string_view text);

// Joe & Kuo's direction numbers (new-joe-kuo-6.21201) are built in for this many dimensions.
constexpr std::size_t kSobolDimensions = 64;
// The unscrambled Sobol point `index` (Gray-code order, as Joe & Kuo's reference generator and
// scipy's qmc.Sobol give the points), coordinate `dimension` (< kSobolDimensions), as 32 binary
// digits: the coordinate is bits / 2^32. Point 0 is the origin.
std::uint32_t sobol_bits(std::uint64_t index, std::size_t dimension);

// The Sobol dimension (and the random stream) each option key draws from: fixed per key, not by
// its place in the file, so reordering a section's lines or fixing one of its keys leaves the
// other keys' values as they were. Keys not in the built-in list follow it, registry order.
std::size_t search_dimension(std::string_view key);
// The keys with a fixed dimension, dimension order (for tests).
const std::vector<std::string_view>& search_dimension_keys();

// The points of one search: point i, dimension d -> a coordinate in [0, 1).
//   random: 53 random bits from a counter-based hash of (seed, i, d);
//   sobol:  Sobol point i with, unless `scramble` is false, a seeded random linear matrix
//           scramble and digital shift per dimension (Matousek 1998), which keep the sequence's
//           stratification: each of the 2^k elementary intervals of the first 2^k points holds
//           as many points as in the unscrambled sequence (one in each 1-D interval of length 2^-k).
class SearchSampler {
 public:
  SearchSampler(SearchMethod method, std::uint64_t seed, bool scramble = true);
  SearchMethod method() const { return method_; }
  // Sobol: 2^32 points; random: no limit.
  std::uint64_t max_points() const;
  double coordinate(std::uint64_t point, std::size_t dimension) const;
  // The same as 32 binary digits (Sobol; random gives its top 32 bits).
  std::uint32_t coordinate_bits(std::uint64_t point, std::size_t dimension) const;

 private:
  SearchMethod method_;
  std::uint64_t seed_;
  // Sobol: per dimension, the (scrambled) direction numbers v_1..v_32 and the digital shift.
  std::vector<std::array<std::uint32_t, 32>> directions_;
  std::vector<std::uint32_t> shift_;
};

}  // namespace aesweep
