#pragma once
// Private helpers shared by the analysis sources: threading, input checks, label
// compaction, centring. Not installed, not part of the API.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <exception>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "aesweep/analysis/error.hpp"

namespace aesweep::analysis::detail {

inline const char* const kNonFiniteReason = "non-finite latent values";

// Runs fn(task, thread_id) for task in [0, n_tasks) on exactly `threads` threads with
// dynamic scheduling. Inside, each thread sets its own nthreads ICV to 1 so that Eigen's
// GEMM (which parallelises itself under OpenMP) stays single-threaded: our thread count
// is the only one in play. Exceptions are carried out of the parallel region.
template <class Fn>
void parallel_tasks(int threads, std::int64_t n_tasks, Fn&& fn) {
  if (n_tasks <= 0) return;
  const int t = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(threads, n_tasks)));
  std::atomic<std::int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
#pragma omp parallel num_threads(t)
  {
    omp_set_num_threads(1);
    const int tid = omp_get_thread_num();
    try {
      for (;;) {
        const std::int64_t task = next.fetch_add(1, std::memory_order_relaxed);
        if (task >= n_tasks) break;
        fn(task, tid);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(n_tasks);
    }
  }
  if (error) std::rethrow_exception(error);
}

// The same, for callers that add into per-thread accumulators: thread `tid` takes the tasks
// tid, tid + t, tid + 2t, ... in that order, so every accumulator sums the same tasks in the same
// order on every run and the result is repeatable for a given thread count (dynamic hand-out
// would let floating-point sums differ from run to run).
template <class Fn>
void parallel_tasks_strided(int threads, std::int64_t n_tasks, Fn&& fn) {
  if (n_tasks <= 0) return;
  const int t = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(threads, n_tasks)));
  std::exception_ptr error;
  std::mutex error_mutex;
  std::atomic<bool> failed{false};
#pragma omp parallel num_threads(t)
  {
    omp_set_num_threads(1);
    const int tid = omp_get_thread_num();
    try {
      for (std::int64_t task = tid; task < n_tasks && !failed.load(std::memory_order_relaxed); task += t) fn(task, tid);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      failed.store(true);
    }
  }
  if (error) std::rethrow_exception(error);
}

// Number of threads parallel_tasks will actually start (for per-thread scratch sizing).
inline int effective_threads(int threads, std::int64_t n_tasks) {
  return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(threads, n_tasks)));
}

inline bool all_finite(const Eigen::MatrixXf& m) { return m.allFinite(); }

// Whether every point (column) is the same (no dimensions, or fewer than two points, count as so).
inline bool all_identical(const Eigen::MatrixXf& points) {
  return points.rows() == 0 || points.cols() < 2 || (points.colwise() - points.col(0)).cwiseAbs().maxCoeff() == 0.0f;
}

inline void check_threads(int threads, const char* where) {
  if (threads < 1) throw AnalysisError(std::string(where) + ": threads must be >= 1");
}

// Labels mapped to 0..C-1 in increasing order of their value.
struct CompactLabels {
  std::vector<int> index;            // per point
  std::vector<int> values;           // original label of each compact index
  std::vector<std::int64_t> counts;  // points per compact index
};

inline CompactLabels compact_labels(const std::vector<int>& labels, const char* where) {
  CompactLabels out;
  int max_label = -1;
  for (int l : labels) {
    if (l < 0) throw AnalysisError(std::string(where) + ": labels must be non-negative");
    max_label = std::max(max_label, l);
  }
  // Dense lookup when labels are small (the usual 0..9), sort otherwise.
  std::vector<int> sorted;
  if (max_label < 4 * static_cast<int>(labels.size()) + 1024) {
    std::vector<char> seen(static_cast<std::size_t>(max_label) + 1, 0);
    for (int l : labels) seen[l] = 1;
    for (int l = 0; l <= max_label; ++l)
      if (seen[l]) sorted.push_back(l);
  } else {
    sorted = labels;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  }
  out.values = sorted;
  out.counts.assign(sorted.size(), 0);
  out.index.resize(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const int c = static_cast<int>(std::lower_bound(sorted.begin(), sorted.end(), labels[i]) - sorted.begin());
    out.index[i] = c;
    ++out.counts[c];
  }
  return out;
}

// Copy with the (double-accumulated) mean removed: Euclidean geometry is unchanged and the
// ||a||^2 + ||b||^2 - 2ab trick loses far less precision in float on centred data.
inline Eigen::MatrixXf centered(const Eigen::MatrixXf& x) {
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(x.rows());
  for (Eigen::Index j = 0; j < x.cols(); ++j) mean += x.col(j).cast<double>();
  if (x.cols() > 0) mean /= static_cast<double>(x.cols());
  Eigen::MatrixXf out(x.rows(), x.cols());
  for (Eigen::Index j = 0; j < x.cols(); ++j) out.col(j) = (x.col(j).cast<double>() - mean).cast<float>();
  return out;
}

inline Eigen::VectorXf squared_norms(const Eigen::MatrixXf& x) {
  return x.cast<double>().colwise().squaredNorm().transpose().cast<float>();
}

// In double, vectorised (the kNN searches recompute ~100 of these per point).
inline double exact_squared_distance(const Eigen::MatrixXf& x, Eigen::Index i, Eigen::Index j) {
  const float* a = x.col(i).data();
  const float* b = x.col(j).data();
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (Eigen::Index d = 0; d < x.rows(); ++d) {
    const double t = static_cast<double>(a[d]) - static_cast<double>(b[d]);
    s += t * t;
  }
  return s;
}

// splitmix64: derives independent seeds from (seed, stream).
inline std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform double in [0, 1) from a 64-bit engine; std::uniform_real_distribution is not
// specified bit-for-bit across standard libraries, this is.
inline double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Fisher-Yates on the first m positions: a uniformly random subset of size m, sorted.
inline std::vector<Eigen::Index> random_subset(Eigen::Index n, Eigen::Index m, std::uint64_t seed) {
  std::vector<Eigen::Index> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), Eigen::Index{0});
  std::mt19937_64 rng(seed);
  for (Eigen::Index i = 0; i < m; ++i) {
    const Eigen::Index j = i + static_cast<Eigen::Index>(uniform01(rng) * static_cast<double>(n - i));
    std::swap(perm[i], perm[std::min(j, n - 1)]);
  }
  perm.resize(static_cast<std::size_t>(m));
  std::sort(perm.begin(), perm.end());
  return perm;
}

}  // namespace aesweep::analysis::detail
