#pragma once
// Loads the sklearn reference fixtures written by scripts/make_sklearn_fixtures.py.
#include <cstdint>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace aesweep::analysis::fixtures {

// dims x n standard-normal points, reproducible from `seed`.
inline Eigen::MatrixXf random_points(int dims, int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  Eigen::MatrixXf x(dims, n);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < dims; ++i) x(i, j) = nd(rng);
  return x;
}

struct Fixture {
  Eigen::MatrixXf points;  // d x n
  std::vector<int> labels;
  std::map<std::string, std::string> ref;

  double num(const std::string& key) const { return std::stod(ref.at(key)); }
  std::vector<double> nums(const std::string& key) const {
    std::istringstream in(ref.at(key));
    std::vector<double> out;
    for (double v; in >> v;) out.push_back(v);
    return out;
  }
};

inline Fixture load_fixture(const std::string& name) {
  const std::string base = std::string(AESWEEP_ANALYSIS_FIXTURES) + "/" + name;
  Fixture f;
  std::ifstream txt(base + ".txt");
  if (!txt) throw std::runtime_error("missing fixture " + base + ".txt");
  for (std::string line; std::getline(txt, line);) {
    const auto sp = line.find(' ');
    if (sp != std::string::npos) f.ref[line.substr(0, sp)] = line.substr(sp + 1);
  }
  const long n = std::stol(f.ref.at("n")), d = std::stol(f.ref.at("d"));
  f.points.resize(d, n);
  f.labels.resize(static_cast<std::size_t>(n));
  std::vector<std::int32_t> lab(static_cast<std::size_t>(n));
  std::ifstream pts(base + ".f32", std::ios::binary), lbl(base + ".labels", std::ios::binary);
  // Row-major n x d float32 on disk == column-major d x n (little-endian hosts only).
  pts.read(reinterpret_cast<char*>(f.points.data()), static_cast<std::streamsize>(n * d * 4));
  lbl.read(reinterpret_cast<char*>(lab.data()), static_cast<std::streamsize>(n * 4));
  if (!pts || !lbl) throw std::runtime_error("truncated fixture " + base);
  for (long i = 0; i < n; ++i) f.labels[i] = lab[i];
  return f;
}

inline const std::vector<std::string>& fixture_names() {
  static const std::vector<std::string> names = {"blobs_600x20", "blobs_1200x40", "fashion_1500x32"};
  return names;
}

}  // namespace aesweep::analysis::fixtures
