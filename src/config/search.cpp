#include "aesweep/config/search.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "aesweep/config/option_registry.hpp"
#include "aesweep/core/error.hpp"
#include "aesweep/core/train_options.hpp"
#include "mix64.hpp"

namespace aesweep {
namespace {

// ------------------------------------------------------------------------------- Sobol

// One row of Joe & Kuo's table new-joe-kuo-6.21201 (https://web.maths.unsw.edu.au/~fkuo/sobol/):
// dimension d, degree s of its primitive polynomial, the polynomial's inner coefficients a, and
// the initial direction numbers m_1..m_s. Dimension 1 (van der Corput) has no row.
struct JoeKuoRow {
  int d, s, a;
  std::array<std::uint32_t, 10> m;
};

constexpr JoeKuoRow kJoeKuo[] = {
    {2, 1, 0, {1}}, {3, 2, 1, {1, 3}}, {4, 3, 1, {1, 3, 1}}, {5, 3, 2, {1, 1, 1}}, {6, 4, 1, {1, 1, 3, 3}},
    {7, 4, 4, {1, 3, 5, 13}}, {8, 5, 2, {1, 1, 5, 5, 17}}, {9, 5, 4, {1, 1, 5, 5, 5}}, {10, 5, 7, {1, 1, 7, 11, 19}},
    {11, 5, 11, {1, 1, 5, 1, 1}}, {12, 5, 13, {1, 1, 1, 3, 11}}, {13, 5, 14, {1, 3, 5, 5, 31}},
    {14, 6, 1, {1, 3, 3, 9, 7, 49}}, {15, 6, 13, {1, 1, 1, 15, 21, 21}}, {16, 6, 16, {1, 3, 1, 13, 27, 49}},
    {17, 6, 19, {1, 1, 1, 15, 7, 5}}, {18, 6, 22, {1, 3, 1, 15, 13, 25}}, {19, 6, 25, {1, 1, 5, 5, 19, 61}},
    {20, 7, 1, {1, 3, 7, 11, 23, 15, 103}}, {21, 7, 4, {1, 3, 7, 13, 13, 15, 69}},
    {22, 7, 7, {1, 1, 3, 13, 7, 35, 63}}, {23, 7, 8, {1, 3, 5, 9, 1, 25, 53}}, {24, 7, 14, {1, 3, 1, 13, 9, 35, 107}},
    {25, 7, 19, {1, 3, 1, 5, 27, 61, 31}}, {26, 7, 21, {1, 1, 5, 11, 19, 41, 61}},
    {27, 7, 28, {1, 3, 5, 3, 3, 13, 69}}, {28, 7, 31, {1, 1, 7, 13, 1, 19, 1}}, {29, 7, 32, {1, 3, 7, 5, 13, 19, 59}},
    {30, 7, 37, {1, 1, 3, 9, 25, 29, 41}}, {31, 7, 41, {1, 3, 5, 13, 23, 1, 55}},
    {32, 7, 42, {1, 3, 7, 3, 13, 59, 17}}, {33, 7, 50, {1, 3, 1, 3, 5, 53, 69}},
    {34, 7, 55, {1, 1, 5, 5, 23, 33, 13}}, {35, 7, 56, {1, 1, 7, 7, 1, 61, 123}},
    {36, 7, 59, {1, 1, 7, 9, 13, 61, 49}}, {37, 7, 62, {1, 3, 3, 5, 3, 55, 33}},
    {38, 8, 14, {1, 3, 1, 15, 31, 13, 49, 245}}, {39, 8, 21, {1, 3, 5, 15, 31, 59, 63, 97}},
    {40, 8, 22, {1, 3, 1, 11, 11, 11, 77, 249}}, {41, 8, 38, {1, 3, 1, 11, 27, 43, 71, 9}},
    {42, 8, 47, {1, 1, 7, 15, 21, 11, 81, 45}}, {43, 8, 49, {1, 3, 7, 3, 25, 31, 65, 79}},
    {44, 8, 50, {1, 3, 1, 1, 19, 11, 3, 205}}, {45, 8, 52, {1, 1, 5, 9, 19, 21, 29, 157}},
    {46, 8, 56, {1, 3, 7, 11, 1, 33, 89, 185}}, {47, 8, 67, {1, 3, 3, 3, 15, 9, 79, 71}},
    {48, 8, 70, {1, 3, 7, 11, 15, 39, 119, 27}}, {49, 8, 84, {1, 1, 3, 1, 11, 31, 97, 225}},
    {50, 8, 97, {1, 1, 1, 3, 23, 43, 57, 177}}, {51, 8, 103, {1, 3, 7, 7, 17, 17, 37, 71}},
    {52, 8, 115, {1, 3, 1, 5, 27, 63, 123, 213}}, {53, 8, 122, {1, 1, 3, 5, 11, 43, 53, 133}},
    {54, 9, 8, {1, 3, 5, 5, 29, 17, 47, 173, 479}}, {55, 9, 13, {1, 3, 3, 11, 3, 1, 109, 9, 69}},
    {56, 9, 16, {1, 1, 1, 5, 17, 39, 23, 5, 343}}, {57, 9, 22, {1, 3, 1, 5, 25, 15, 31, 103, 499}},
    {58, 9, 25, {1, 1, 1, 11, 11, 17, 63, 105, 183}}, {59, 9, 44, {1, 1, 5, 11, 9, 29, 97, 231, 363}},
    {60, 9, 47, {1, 1, 5, 15, 19, 45, 41, 7, 383}}, {61, 9, 52, {1, 3, 7, 7, 31, 19, 83, 137, 221}},
    {62, 9, 55, {1, 1, 1, 3, 23, 15, 111, 223, 83}}, {63, 9, 59, {1, 1, 5, 13, 31, 15, 55, 25, 161}},
    {64, 9, 62, {1, 1, 3, 13, 25, 47, 39, 87, 257}},
};
static_assert(std::size(kJoeKuo) + 1 == kSobolDimensions);

using Directions = std::array<std::uint32_t, 32>;  // v_1..v_32, v_k's first binary digit at bit 31

Directions directions_of(std::size_t dimension) {
  Directions v{};
  if (dimension == 0) {
    for (int k = 0; k < 32; ++k) v[k] = std::uint32_t(1) << (31 - k);
    return v;
  }
  const JoeKuoRow& row = kJoeKuo[dimension - 1];
  const int s = row.s;
  for (int k = 0; k < s; ++k) v[k] = row.m[k] << (31 - k);
  for (int k = s; k < 32; ++k) {
    v[k] = v[k - s] ^ (v[k - s] >> s);
    for (int i = 1; i < s; ++i)
      if ((row.a >> (s - 1 - i)) & 1) v[k] ^= v[k - i];
  }
  return v;
}

const std::vector<Directions>& sobol_table() {
  static const std::vector<Directions> table = [] {
    std::vector<Directions> t;
    for (std::size_t d = 0; d < kSobolDimensions; ++d) t.push_back(directions_of(d));
    return t;
  }();
  return table;
}

// Point `index` from direction numbers: the XOR of v_k over the set bits k of index's Gray code.
std::uint32_t sobol_point(const Directions& v, std::uint64_t index) {
  std::uint64_t gray = index ^ (index >> 1);
  std::uint32_t x = 0;
  for (int k = 0; gray != 0; ++k, gray >>= 1)
    if (gray & 1) x ^= v[std::size_t(k)];
  return x;
}

constexpr std::uint64_t kSobolPoints = std::uint64_t(1) << 32;

// ------------------------------------------------------------------------------- hashing

using detail::mix64;

// 64 random bits of point `point`, dimension `dimension` of a random search.
std::uint64_t random_bits(std::uint64_t seed, std::uint64_t point, std::size_t dimension) {
  std::uint64_t h = mix64(seed ^ 0x72616e646f6d5f5fULL);
  h = mix64(h ^ point);
  return mix64(h ^ (std::uint64_t(dimension) + 1) * 0x9e3779b97f4a7c15ULL);
}

// splitmix64: the stream of one dimension's scramble.
struct SplitMix {
  std::uint64_t state;
  std::uint64_t next() { return mix64(state += 0x9e3779b97f4a7c15ULL); }
};

// -------------------------------------------------------------------------- distributions

const char* const kForms = "uniform(a, b), loguniform(a, b), int(a, b) or choice(v1, v2, ...)";

}  // namespace

std::string_view to_string(SearchMethod method) { return method == SearchMethod::random ? "random" : "sobol"; }

SearchMethod parse_search_method(std::string_view raw) {
  const std::string text = trim_whitespace(raw);
  if (text == "random") return SearchMethod::random;
  if (text == "sobol") return SearchMethod::sobol;
  throw ConfigError("unknown search method " + shown_value(text) + ": expected random or sobol");
}

std::uint64_t parse_search_seed(std::string_view raw) {
  const std::string text = trim_whitespace(raw);
  constexpr std::uint64_t kMax = std::uint64_t(1) << 53;  // what a float64 attribute holds exactly
  std::uint64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size() || value > kMax)
    throw ConfigError("the seed must be an integer in [0, 9007199254740992], got " + shown_value(text));
  return value;
}

std::size_t parse_search_runs(std::string_view raw, std::size_t max) {
  const std::string text = trim_whitespace(raw);
  double value = -1;
  try {
    value = parse_number(text);
  } catch (const ConfigError&) {
  }
  if (!(value >= 1 && value <= double(max) && value == std::floor(value)))
    throw ConfigError("runs must be an integer in [1, " + std::to_string(max) + "], got " + shown_value(text));
  return std::size_t(value);
}

bool is_distribution(std::string_view raw) {
  const std::string text = trim_whitespace(raw);
  const auto open = text.find('(');
  if (open == std::string::npos) return false;
  // A name of letters and underscores, maybe a space before the parenthesis: "uniform (0, 1)".
  const std::string name = trim_whitespace(text.substr(0, open));
  if (name.empty()) return false;
  for (const char c : name)
    if (!(std::isalpha(static_cast<unsigned char>(c)) || c == '_')) return false;
  return name != "linspace" && name != "logspace";
}

std::string Distribution::value_at(double u) const {
  switch (kind) {
    case Kind::uniform:
      return format_number(std::min(high, std::max(low, low + u * (high - low))));
    case Kind::loguniform: {
      const double x = std::exp(std::log(low) + u * (std::log(high) - std::log(low)));
      return format_number(std::min(high, std::max(low, x)));
    }
    case Kind::integer:
      return std::to_string(static_cast<long long>(std::min(high, low + std::floor(u * (high - low + 1)))));
    case Kind::choice:
      break;
  }
  const auto n = choices.size();
  return choices[std::min(n - 1, std::size_t(u * double(n)))];
}

Distribution parse_distribution(std::string_view key_view, std::string_view raw) {
  const std::string key(key_view);
  const std::string text = trim_whitespace(raw);
  const OptionSpec* spec = find_option(key);
  if (!spec) throw ConfigError("unknown option " + shown_value(key) + " (aesweep train --help lists them)");
  const auto fail = [&](const std::string& reason) { return ConfigError(reason, {key}); };
  const auto open = text.find('(');
  if (open == std::string::npos) throw fail(shown_value(text) + " is not a distribution; use " + kForms);
  const std::string name = trim_whitespace(text.substr(0, open));
  Distribution d;
  if (name == "uniform") d.kind = Distribution::Kind::uniform;
  else if (name == "loguniform") d.kind = Distribution::Kind::loguniform;
  else if (name == "int") d.kind = Distribution::Kind::integer;
  else if (name == "choice") d.kind = Distribution::Kind::choice;
  else throw fail("unknown distribution " + shown_value(name, 40) + " in " + shown_value(text) + "; use " + kForms);
  if (text.back() != ')') throw fail(shown_value(text) + " lacks its closing )");
  const std::string inner = trim_whitespace(text.substr(open + 1, text.size() - open - 2));

  TrainOptions probe;
  if (d.kind == Distribution::Kind::choice) {
    if (inner.empty()) throw fail("choice() is empty: list at least one value, e.g. choice(relu, tanh)");
    const auto items = split_commas(inner);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i].empty())
        throw fail("item " + std::to_string(i + 1) + " of " + shown_value(text) + " is empty");
      set_option(probe, key, items[i]);  // throws naming the key and what it accepts
      std::string canonical = spec->get(probe);
      if (std::find(d.choices.begin(), d.choices.end(), canonical) != d.choices.end())
        throw fail(shown_value(text) + " lists " + shown_value(canonical) + " twice");
      d.choices.push_back(std::move(canonical));
    }
    d.text = "choice(";
    for (std::size_t i = 0; i < d.choices.size(); ++i) d.text += (i ? ", " : "") + d.choices[i];
    d.text += ")";
    return d;
  }

  const auto args = split_commas(inner);
  if (args.size() != 2) throw fail(name + " takes (low, high), got " + shown_value(text));
  const auto parse_end = [&](const std::string& a) {
    try {
      return parse_number(a);
    } catch (const ConfigError&) {
      throw fail(shown_value(text) + ": " + shown_value(a) + " is not a finite number");
    }
  };
  d.low = parse_end(args[0]);
  d.high = parse_end(args[1]);
  if (!(d.low < d.high))
    throw fail(shown_value(text) + ": the low end must be below the high end (for one value, set the key to it)");
  if (d.kind == Distribution::Kind::loguniform && !(d.low > 0))
    throw fail(shown_value(text) + ": loguniform needs a low end above 0");
  if (d.kind == Distribution::Kind::integer &&
      (d.low != std::floor(d.low) || d.high != std::floor(d.high) || std::fabs(d.low) > 9007199254740992.0 ||
       std::fabs(d.high) > 9007199254740992.0))
    throw fail(shown_value(text) + ": int takes integers");
  // The option's kind: a choice option has no numbers, a boolean no range, an integer option no
  // fractions.
  const OptionRange* range = find_range(key);
  if (!spec->numeric)
    throw fail(name + "() draws numbers, and " + key + " takes " + spec->range + ": draw it with choice(...)");
  if (!range)
    throw fail(name + "() draws numbers, and " + key + " is true or false: draw it with choice(true, false)");
  if (range->integer && d.kind != Distribution::Kind::integer)
    throw fail(key + " takes integers: draw it with int(a, b) or choice(...), not " + name + "()");
  // Every value between two valid ones is valid (ranges are intervals): checking the ends suffices.
  for (const double end : {d.low, d.high})
    if (!range->contains(end))
      throw fail(shown_value(text) + " reaches outside the range of " + key + ": it takes " + range->text());
  const auto number = [&](double v) {
    return d.kind == Distribution::Kind::integer ? std::to_string(static_cast<long long>(v)) : format_number(v);
  };
  d.text = name + "(" + number(d.low) + ", " + number(d.high) + ")";
  return d;
}

std::uint32_t sobol_bits(std::uint64_t index, std::size_t dimension) {
  if (dimension >= kSobolDimensions || index >= kSobolPoints)
    throw ConfigError("Sobol point " + std::to_string(index) + " of dimension " + std::to_string(dimension) +
                      " is beyond the built-in table (" + std::to_string(kSobolDimensions) + " dimensions, 2^32 points)");
  return sobol_point(sobol_table()[dimension], index);
}

const std::vector<std::string_view>& search_dimension_keys() {
  // Never reorder: a key's dimension decides the values it is drawn at. Append new options.
  static const std::vector<std::string_view> keys = {
      "model.hidden",       "model.bias",          "model.loss",         "encoder.activation",
      "decoder.activation", "reg.l1_activity",     "reg.l2_activity",    "reg.l1_kernel",
      "reg.l2_kernel",      "reg.kernel_scope",    "reg.kl_beta",        "reg.kl_rho",
      "reg.contractive",    "reg.dropout",         "noise.kind",         "noise.level",
      "optimizer.name",     "optimizer.learning_rate", "optimizer.momentum", "optimizer.beta1",
      "optimizer.beta2",    "optimizer.rho",       "optimizer.epsilon",  "optimizer.adagrad_initial",
      "train.epochs",       "train.batch_size",    "train.validation_split", "train.patience",
      "train.seed",         "train.precision",
  };
  return keys;
}

std::size_t search_dimension(std::string_view key) {
  const auto& keys = search_dimension_keys();
  if (const auto it = std::find(keys.begin(), keys.end(), key); it != keys.end()) return std::size_t(it - keys.begin());
  std::size_t dimension = keys.size();
  for (const auto& spec : option_registry()) {
    if (spec.key == key) return dimension;
    if (std::find(keys.begin(), keys.end(), spec.key) == keys.end()) ++dimension;
  }
  throw ConfigError("unknown option " + shown_value(key) + " (aesweep train --help lists them)");
}

SearchSampler::SearchSampler(SearchMethod method, std::uint64_t seed, bool scramble) : method_(method), seed_(seed) {
  if (method_ != SearchMethod::sobol) return;
  for (std::size_t d = 0; d < kSobolDimensions; ++d) {
    const Directions& v = sobol_table()[d];
    if (!scramble) {
      directions_.push_back(v);
      shift_.push_back(0);
      continue;
    }
    SplitMix rng{mix64(seed ^ 0x736f626f6c5f6c6dULL) ^ mix64(d + 1)};
    // Lower-triangular matrix with a unit diagonal, digit 1 (bit 31) first: output digit k is
    // input digit k plus a random combination of the digits before it. Row k as a mask.
    std::array<std::uint32_t, 32> rows{};
    for (int k = 0; k < 32; ++k) {
      const std::uint64_t diagonal = std::uint64_t(1) << (31 - k);
      const std::uint64_t above = ~((diagonal << 1) - 1) & 0xffffffffULL;  // the digits before k
      rows[std::size_t(k)] = std::uint32_t(diagonal | (rng.next() & above));
    }
    Directions scrambled{};
    for (int j = 0; j < 32; ++j) {
      std::uint32_t out = 0;
      for (int k = 0; k < 32; ++k)
        if (std::popcount(v[std::size_t(j)] & rows[std::size_t(k)]) & 1) out |= std::uint32_t(1) << (31 - k);
      scrambled[std::size_t(j)] = out;
    }
    directions_.push_back(scrambled);
    shift_.push_back(std::uint32_t(rng.next() >> 32));
  }
}

std::uint64_t SearchSampler::max_points() const {
  return method_ == SearchMethod::sobol ? kSobolPoints : std::numeric_limits<std::uint64_t>::max();
}

std::uint32_t SearchSampler::coordinate_bits(std::uint64_t point, std::size_t dimension) const {
  if (method_ == SearchMethod::random) return std::uint32_t(random_bits(seed_, point, dimension) >> 32);
  if (dimension >= directions_.size() || point >= kSobolPoints)
    throw ConfigError("Sobol point " + std::to_string(point) + " of dimension " + std::to_string(dimension) +
                      " is beyond the built-in table (" + std::to_string(kSobolDimensions) + " dimensions, 2^32 points)");
  return sobol_point(directions_[dimension], point) ^ shift_[dimension];
}

double SearchSampler::coordinate(std::uint64_t point, std::size_t dimension) const {
  if (method_ == SearchMethod::random) return double(random_bits(seed_, point, dimension) >> 11) * 0x1p-53;
  return double(coordinate_bits(point, dimension)) * 0x1p-32;
}

}  // namespace aesweep
