// Sampled search spaces: the Sobol sequence against Joe & Kuo's (scipy's) points, the scramble's
// stratification, the random points, and every distribution's values and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "aesweep/config/option_registry.hpp"
#include "aesweep/config/search.hpp"
#include "aesweep/core/error.hpp"

namespace aesweep {
namespace {

TEST(Sobol, FirstPointsOfTheUnscrambledTwoDimensionalSequence) {
  // The textbook first points of the 2-D Sobol sequence (Gray-code order, as Joe & Kuo's and
  // scipy's generators give them).
  const double expected[][2] = {{0, 0},         {0.5, 0.5},     {0.75, 0.25},    {0.25, 0.75},
                                {0.375, 0.375}, {0.875, 0.875}, {0.625, 0.125},  {0.125, 0.625},
                                {0.1875, 0.3125}, {0.6875, 0.8125}, {0.9375, 0.0625}, {0.4375, 0.5625}};
  const SearchSampler plain(SearchMethod::sobol, 0, /*scramble=*/false);
  for (std::size_t i = 0; i < std::size(expected); ++i)
    for (std::size_t d = 0; d < 2; ++d) {
      EXPECT_EQ(plain.coordinate(i, d), expected[i][d]) << "point " << i << " dimension " << d;
      EXPECT_EQ(double(sobol_bits(i, d)) * 0x1p-32, expected[i][d]);
    }
}

TEST(Sobol, HighDimensionsMatchJoeKuoAsScipyGivesThem) {
  // scipy.stats.qmc.Sobol(64, scramble=False).random(4096) * 2**30 (30-bit integers: our 32-bit
  // points shifted right by 2); all 64 x 4096 were compared once, these guard them.
  struct Row {
    std::uint64_t index;
    std::uint32_t dim2, dim13, dim29, dim63;
  };
  const Row rows[] = {{1000, 556793856, 412090368, 365953024, 479199232},
                      {1001, 19922944, 948961280, 902823936, 1016070144},
                      {2047, 999817216, 1060634624, 421003264, 1061683200},
                      {4095, 358875136, 558104576, 918290432, 594280448}};
  for (const auto& r : rows) {
    EXPECT_EQ(sobol_bits(r.index, 2) >> 2, r.dim2) << r.index;
    EXPECT_EQ(sobol_bits(r.index, 13) >> 2, r.dim13) << r.index;
    EXPECT_EQ(sobol_bits(r.index, 29) >> 2, r.dim29) << r.index;
    EXPECT_EQ(sobol_bits(r.index, 63) >> 2, r.dim63) << r.index;
  }
  // Points 4..7 of dimension 63 (scipy): 0.125, 0.625, 0.875, 0.375.
  EXPECT_EQ(double(sobol_bits(4, 63)) * 0x1p-32, 0.125);
  EXPECT_EQ(double(sobol_bits(7, 63)) * 0x1p-32, 0.375);
  EXPECT_THROW(sobol_bits(0, kSobolDimensions), ConfigError);
  EXPECT_THROW(sobol_bits(std::uint64_t(1) << 32, 0), ConfigError);
}

// Does every elementary interval [a/2^p, (a+1)/2^p) x [b/2^q, (b+1)/2^q), p + q = k, hold exactly
// one of the first 2^k points in dimensions (d1, d2)? Returns the splits p for which it does.
std::vector<int> one_point_splits(const SearchSampler& s, std::size_t d1, std::size_t d2, int k) {
  std::vector<int> splits;
  for (int p = 0; p <= k; ++p) {
    const int q = k - p;
    std::vector<int> count(std::size_t(1) << k, 0);
    for (std::uint64_t i = 0; i < (std::uint64_t(1) << k); ++i) {
      const std::uint32_t a = p == 0 ? 0 : s.coordinate_bits(i, d1) >> (32 - p);
      const std::uint32_t b = q == 0 ? 0 : s.coordinate_bits(i, d2) >> (32 - q);
      ++count[(std::size_t(a) << q) | b];
    }
    if (std::all_of(count.begin(), count.end(), [](int c) { return c == 1; })) splits.push_back(p);
  }
  return splits;
}

TEST(Sobol, ScrambledPointsStayInTheCubeAndKeepTheStratification) {
  const SearchSampler plain(SearchMethod::sobol, 0, false);
  for (const std::uint64_t seed : {0ULL, 1ULL, 12345ULL, 9007199254740992ULL}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const SearchSampler s(SearchMethod::sobol, seed);
    // One point in each of the 2^k intervals of length 2^-k, every dimension, k up to 10.
    for (std::size_t d = 0; d < kSobolDimensions; ++d)
      for (int k = 0; k <= 10; ++k) {
        std::set<std::uint32_t> cells;
        for (std::uint64_t i = 0; i < (std::uint64_t(1) << k); ++i) {
          const double u = s.coordinate(i, d);
          ASSERT_GE(u, 0.0);
          ASSERT_LT(u, 1.0);
          cells.insert(k == 0 ? 0 : s.coordinate_bits(i, d) >> (32 - k));
        }
        ASSERT_EQ(cells.size(), std::size_t(1) << k) << "dimension " << d << ", k " << k;
      }
    // The first two dimensions are a (0, m, 2)-net: every elementary interval of area 2^-k holds
    // one of the first 2^k points, scrambled or not.
    for (int k = 1; k <= 10; ++k) EXPECT_EQ(one_point_splits(s, 0, 1, k).size(), std::size_t(k + 1)) << k;
    // Other pairs: the scramble keeps exactly the intervals the plain sequence balances.
    for (const auto& [d1, d2] : std::vector<std::pair<std::size_t, std::size_t>>{{5, 6}, {7, 8}, {5, 13}, {29, 63}})
      for (int k = 1; k <= 8; ++k)
        EXPECT_EQ(one_point_splits(s, d1, d2, k), one_point_splits(plain, d1, d2, k)) << d1 << "," << d2 << " k " << k;
  }
}

TEST(Sobol, SeedsScrambleDifferentlyAndAPointIsAFunctionOfItsIndex) {
  const SearchSampler a(SearchMethod::sobol, 1), b(SearchMethod::sobol, 2), a2(SearchMethod::sobol, 1);
  int differ = 0;
  for (std::uint64_t i = 0; i < 64; ++i)
    for (std::size_t d = 0; d < 8; ++d) {
      differ += a.coordinate(i, d) != b.coordinate(i, d);
      EXPECT_EQ(a.coordinate(i, d), a2.coordinate(i, d));
    }
  EXPECT_GT(differ, 500);
  // A far point needs no earlier one, and is the same asked first or last.
  const SearchSampler fresh(SearchMethod::sobol, 1);
  const double far = fresh.coordinate(999999, 13);
  EXPECT_EQ(far, a.coordinate(999999, 13));
  EXPECT_NE(far, a.coordinate(999998, 13));
  // The scramble is not the identity: point 0 is not the origin.
  EXPECT_NE(a.coordinate_bits(0, 0), 0u);
}

TEST(RandomSearch, PointsAreSeededUniformAndIndependentOfOrder) {
  const SearchSampler a(SearchMethod::random, 7), b(SearchMethod::random, 8);
  double sum = 0;
  std::vector<int> bins(10, 0);
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double u = a.coordinate(std::uint64_t(i), 3);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    ++bins[std::size_t(u * 10)];
  }
  EXPECT_NEAR(sum / n, 0.5, 0.01);
  for (int c : bins) EXPECT_NEAR(c, n / 10, 200);  // ~4.7 sigma
  EXPECT_NE(a.coordinate(5, 3), b.coordinate(5, 3));
  EXPECT_NE(a.coordinate(5, 3), a.coordinate(5, 4));
  EXPECT_EQ(a.coordinate(5, 3), SearchSampler(SearchMethod::random, 7).coordinate(5, 3));
  EXPECT_EQ(a.max_points(), ~std::uint64_t(0));
  EXPECT_EQ(SearchSampler(SearchMethod::sobol, 0).max_points(), std::uint64_t(1) << 32);
}

TEST(SearchDimension, EveryOptionHasItsOwnDimensionWithinTheTable) {
  std::set<std::size_t> used;
  for (const auto& spec : option_registry()) {
    const std::size_t d = search_dimension(spec.key);
    EXPECT_LT(d, kSobolDimensions) << spec.key;
    EXPECT_TRUE(used.insert(d).second) << spec.key << " shares dimension " << d;
  }
  // The fixed list names real options only (a typo would silently move a key).
  for (const auto key : search_dimension_keys()) EXPECT_NE(find_option(key), nullptr) << key;
  // New options get a dimension of their own without reshuffling the listed ones: every registry
  // key is listed today, so nothing falls back.
  for (const auto& spec : option_registry())
    EXPECT_NE(std::find(search_dimension_keys().begin(), search_dimension_keys().end(), spec.key),
              search_dimension_keys().end())
        << spec.key << ": append it to search_dimension_keys()";
  EXPECT_EQ(search_dimension("model.hidden"), 0u);
  EXPECT_EQ(search_dimension("reg.dropout"), 13u);
  EXPECT_THROW(search_dimension("reg.nope"), ConfigError);
}

std::string error_of(const std::string& key, const std::string& text) {
  try {
    parse_distribution(key, text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

void expect_error(const std::string& key, const std::string& text, std::initializer_list<std::string> parts) {
  const std::string message = error_of(key, text);
  ASSERT_FALSE(message.empty()) << "accepted " << key << " = " << text;
  EXPECT_NE(message.find(key), std::string::npos) << "does not name the key: " << message;
  for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "lacks '" << part << "': " << message;
}

TEST(Distribution, UniformAndLogUniform) {
  const Distribution u = parse_distribution("reg.dropout", " uniform( 0 , 0.9 ) ");
  EXPECT_EQ(u.kind, Distribution::Kind::uniform);
  EXPECT_EQ(u.text, "uniform(0, 0.9)");
  EXPECT_EQ(u.value_at(0), "0");
  EXPECT_EQ(u.value_at(0.5), "0.45");
  EXPECT_LE(parse_number(u.value_at(std::nextafter(1.0, 0.0))), 0.9);

  const Distribution l = parse_distribution("reg.l1_activity", "loguniform(1e-7, 1e-3)");
  EXPECT_EQ(l.text, "loguniform(1e-07, 0.001)");
  EXPECT_EQ(parse_number(l.value_at(0)), 1e-7);
  EXPECT_NEAR(parse_number(l.value_at(0.5)), 1e-5, 1e-17);  // the geometric middle
  EXPECT_NEAR(parse_number(l.value_at(0.25)), 1e-6, 1e-18);
  const double top = parse_number(l.value_at(std::nextafter(1.0, 0.0)));
  EXPECT_LE(top, 1e-3);
  EXPECT_GT(top, 0.99e-3);
  // Log-uniform: a quarter of the draws in each decade.
  std::map<int, int> decades;
  for (int i = 0; i < 4000; ++i) ++decades[int(std::floor(std::log10(parse_number(l.value_at((i + 0.5) / 4000)))))];
  EXPECT_EQ(decades, (std::map<int, int>{{-7, 1000}, {-6, 1000}, {-5, 1000}, {-4, 1000}}));
}

TEST(Distribution, IntegersAndChoices) {
  const Distribution h = parse_distribution("model.hidden", "int(8, 11)");
  EXPECT_EQ(h.text, "int(8, 11)");
  std::map<std::string, int> seen;
  for (int i = 0; i < 400; ++i) ++seen[h.value_at((i + 0.5) / 400)];
  EXPECT_EQ(seen, (std::map<std::string, int>{{"8", 100}, {"9", 100}, {"10", 100}, {"11", 100}}));
  EXPECT_EQ(h.value_at(std::nextafter(1.0, 0.0)), "11");
  // Integers are written as integers, however large.
  const Distribution big = parse_distribution("model.hidden", "int(99999, 1e5)");
  EXPECT_EQ(big.text, "int(99999, 100000)");
  EXPECT_EQ(big.value_at(0.99), "100000");
  // At 2^53 doubles space integers 1 apart (2 apart above): the top is within one of the end.
  const std::string top = parse_distribution("train.seed", "int(0, 9007199254740992)").value_at(std::nextafter(1.0, 0.0));
  EXPECT_TRUE(top == "9007199254740992" || top == "9007199254740991") << top;

  const Distribution a = parse_distribution("encoder.activation", "choice(relu, tanh,sigmoid)");
  EXPECT_EQ(a.text, "choice(relu, tanh, sigmoid)");
  EXPECT_EQ(a.value_at(0), "relu");
  EXPECT_EQ(a.value_at(0.34), "tanh");
  EXPECT_EQ(a.value_at(std::nextafter(1.0, 0.0)), "sigmoid");
  // Choices are canonical: numbers in shortest form, booleans as true/false.
  EXPECT_EQ(parse_distribution("model.hidden", "choice(8, 16.0, 3.2e1)").choices,
            (std::vector<std::string>{"8", "16", "32"}));
  EXPECT_EQ(parse_distribution("model.bias", "choice(yes, off)").choices, (std::vector<std::string>{"true", "false"}));
  EXPECT_EQ(parse_distribution("reg.dropout", "choice(0.5)").value_at(0.99), "0.5");
}

TEST(Distribution, BadFormsNameTheKeyAndWhy) {
  expect_error("reg.dropout", "uniform(0.5, 0.1)", {"low end must be below"});
  expect_error("reg.dropout", "uniform(0.5, 0.5)", {"low end must be below"});
  expect_error("reg.l1_activity", "loguniform(0, 1e-3)", {"above 0"});
  expect_error("reg.l1_activity", "loguniform(-1, 1e-3)", {"above 0"});
  expect_error("encoder.activation", "choice()", {"empty"});
  expect_error("encoder.activation", "choice( )", {"empty"});
  expect_error("encoder.activation", "choice(relu, , tanh)", {"item 2", "empty"});
  expect_error("encoder.activation", "choice(relu, relu)", {"twice"});
  expect_error("model.hidden", "choice(8, 8.0)", {"'8' twice"});
  expect_error("encoder.activation", "choice(relu, swish)", {"swish"});
  expect_error("model.hidden", "int(8.5, 16)", {"integers"});
  expect_error("model.hidden", "int(8, 1e9)", {"reaches outside", "an integer in [1, 100000]"});
  expect_error("model.hidden", "int(16, 8)", {"low end"});
  expect_error("reg.dropout", "uniform(0)", {"takes (low, high)"});
  expect_error("reg.dropout", "uniform(0, 0.5, 1)", {"takes (low, high)"});
  expect_error("reg.dropout", "uniform(0, lots)", {"'lots' is not a finite number"});
  expect_error("reg.dropout", "uniform(0, nan)", {"not a finite number"});
  expect_error("reg.dropout", "uniform(0, 0.5", {"closing )"});
  expect_error("reg.dropout", "normal(0, 0.5)", {"unknown distribution 'normal'", "loguniform"});
}

TEST(Distribution, DrawnValuesStayInTheOptionsRange) {
  expect_error("reg.dropout", "uniform(0, 1)", {"reaches outside", "a number in [0, 0.9]"});
  expect_error("reg.kl_rho", "uniform(0, 0.5)", {"reaches outside", "(0, 1)"});
  expect_error("optimizer.learning_rate", "uniform(-1, 1)", {"reaches outside"});
  expect_error("reg.l2_kernel", "uniform(-1e-3, 1e-3)", {"reaches outside", ">= 0"});
  // Kinds: a choice option takes choice(), a boolean choice(true, false), an integer option int().
  expect_error("encoder.activation", "uniform(0, 1)", {"choice(...)"});
  expect_error("model.bias", "uniform(0, 1)", {"choice(true, false)"});
  expect_error("model.hidden", "uniform(8, 64)", {"takes integers", "int(a, b)"});
  expect_error("model.hidden", "loguniform(8, 64)", {"takes integers"});
  EXPECT_NO_THROW(parse_distribution("reg.kl_rho", "uniform(0.01, 0.5)"));
  EXPECT_NO_THROW(parse_distribution("optimizer.learning_rate", "loguniform(1e-5, 1e-1)"));
}

TEST(Distribution, RecognisedByItsForm) {
  EXPECT_TRUE(is_distribution("uniform(0, 1)"));
  EXPECT_TRUE(is_distribution("  choice(relu)"));
  EXPECT_TRUE(is_distribution("normal(0, 1)"));  // named as unknown by parse_distribution
  EXPECT_TRUE(is_distribution("UNIFORM(0, 1)"));
  EXPECT_TRUE(is_distribution("uniform (0, 1)"));
  EXPECT_EQ(parse_distribution("reg.dropout", "uniform (0, 0.5)").text, "uniform(0, 0.5)");
  EXPECT_NE(error_of("reg.dropout", "UNIFORM(0, 0.5)").find("unknown distribution 'UNIFORM'"), std::string::npos);
  EXPECT_FALSE(is_distribution("linspace(0, 1, 3)"));
  EXPECT_FALSE(is_distribution("logspace(0, 1, 3)"));
  EXPECT_FALSE(is_distribution("relu, tanh"));
  EXPECT_FALSE(is_distribution("0.5"));
  EXPECT_FALSE(is_distribution("(0, 1)"));
}

TEST(SearchSettings, MethodSeedAndRuns) {
  EXPECT_EQ(parse_search_method(" sobol "), SearchMethod::sobol);
  EXPECT_EQ(parse_search_method("random"), SearchMethod::random);
  EXPECT_THROW(parse_search_method("grid"), ConfigError);
  EXPECT_THROW(parse_search_method("Sobol"), ConfigError);
  EXPECT_EQ(parse_search_seed("0"), 0u);
  EXPECT_EQ(parse_search_seed("9007199254740992"), 9007199254740992ULL);
  EXPECT_THROW(parse_search_seed("-1"), ConfigError);
  EXPECT_THROW(parse_search_seed("1.5"), ConfigError);
  EXPECT_THROW(parse_search_seed("9007199254740993"), ConfigError);
  EXPECT_EQ(parse_search_runs("200", 1000000), 200u);
  EXPECT_THROW(parse_search_runs("0", 1000000), ConfigError);
  EXPECT_THROW(parse_search_runs("-3", 1000000), ConfigError);
  EXPECT_THROW(parse_search_runs("2.5", 1000000), ConfigError);
  EXPECT_THROW(parse_search_runs("1000001", 1000000), ConfigError);
  EXPECT_THROW(parse_search_runs("many", 1000000), ConfigError);
}

}  // namespace
}  // namespace aesweep
