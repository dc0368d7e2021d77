#include "aesweep/analysis/trustworthiness.hpp"

#include <limits>

#include "aesweep/analysis/neighbors.hpp"
#include "detail.hpp"

namespace aesweep::analysis {

namespace {
// Float GEMM distance errors stay well below this fraction of ||a||^2 + ||b||^2 (centred
// data); comparisons closer than that to a threshold are redone in double.
constexpr double kGemmTolerance = 1e-5;
}  // namespace

void TrustworthinessOptions::validate() const {
  detail::check_threads(threads, "TrustworthinessOptions");
  if (n_neighbors < 1) throw AnalysisError("TrustworthinessOptions: n_neighbors must be >= 1");
}

TrustworthinessResult trustworthiness(const Eigen::MatrixXf& original, const Eigen::MatrixXf& embedded,
                                      const TrustworthinessOptions& opts) {
  opts.validate();
  const Eigen::Index n = original.cols();
  if (embedded.cols() != n) throw AnalysisError("trustworthiness: original and embedded point counts differ");
  TrustworthinessResult out;
  out.value = std::numeric_limits<double>::quiet_NaN();
  const int k = opts.n_neighbors;
  if (!detail::all_finite(original) || !detail::all_finite(embedded)) {
    out.nan_reason = detail::kNonFiniteReason;
    return out;
  }
  if (static_cast<double>(k) >= static_cast<double>(n) / 2.0) {
    out.nan_reason = "trustworthiness needs n_neighbors < n_points / 2";
    return out;
  }
  const KnnResult emb = exact_knn(embedded, k, KnnOptions{opts.threads});

  // For every point i and each embedding neighbour j: rank(i, j) = 1 + number of points
  // closer to i than j in the original space (ties: smaller index first). Only ranks > k
  // contribute. Scan rows of original-space distances block by block.
  const Eigen::MatrixXf x = detail::centered(original);
  const Eigen::VectorXf norms = detail::squared_norms(x);
  constexpr Eigen::Index kRows = 256, kCols = 2048;
  const Eigen::Index n_row_blocks = (n + kRows - 1) / kRows;
  std::vector<double> penalty(static_cast<std::size_t>(n_row_blocks), 0.0);
  detail::parallel_tasks(opts.threads, n_row_blocks, [&](std::int64_t task, int) {
    const Eigen::Index r0 = task * kRows, rn = std::min(kRows, n - r0);
    // Exact thresholds, sorted per query; is_nb marks the query's embedding neighbours,
    // whose order among themselves comes from the exact values, not the GEMM.
    std::vector<double> thr(static_cast<std::size_t>(rn * k));
    std::vector<int> thr_idx(static_cast<std::size_t>(rn * k));
    std::vector<std::int64_t> cnt(static_cast<std::size_t>(rn * (k + 1)), 0);
    std::vector<std::pair<double, int>> tmp(static_cast<std::size_t>(k));
    for (Eigen::Index q = 0; q < rn; ++q) {
      const Eigen::Index i = r0 + q;
      for (int m = 0; m < k; ++m) {
        const int j = emb.indices(m, i);
        tmp[m] = {detail::exact_squared_distance(original, i, j), j};
      }
      std::sort(tmp.begin(), tmp.end());
      for (int m = 0; m < k; ++m) thr[q * k + m] = tmp[m].first, thr_idx[q * k + m] = tmp[m].second;
    }
    std::vector<char> is_nb(static_cast<std::size_t>(n), 0);
    Eigen::MatrixXf g(kCols, rn);
    for (Eigen::Index c0 = 0; c0 < n; c0 += kCols) {
      const Eigen::Index cn = std::min(kCols, n - c0);
      g.topRows(cn).noalias() = x.middleCols(c0, cn).transpose() * x.middleCols(r0, rn);
      for (Eigen::Index q = 0; q < rn; ++q) {
        const Eigen::Index i = r0 + q;
        const double* t = &thr[q * k];
        const int* tj = &thr_idx[q * k];
        std::int64_t* c = &cnt[q * (k + 1)];
        for (int m = 0; m < k; ++m) is_nb[tj[m]] = 1;
        const double t_max = t[k - 1];
        const float ni = norms[i];
        const float* col = g.col(q).data();
        for (Eigen::Index jj = 0; jj < cn; ++jj) {
          const float both = ni + norms[c0 + jj];
          double d2 = static_cast<double>(std::max(both - 2.0f * col[jj], 0.0f));
          // Generous bound on the float GEMM error; within it, recompute exactly.
          const double tol = kGemmTolerance * static_cast<double>(both);
          if (d2 > t_max + tol) continue;
          const Eigen::Index l = c0 + jj;
          if (l == i || is_nb[l]) continue;
          int p = 0;
          while (p < k && !(d2 < t[p] || (d2 == t[p] && l < tj[p]))) ++p;
          const bool near_tie = (p < k && t[p] - d2 <= tol) || (p > 0 && d2 - t[p - 1] <= tol);
          if (near_tie) {
            d2 = detail::exact_squared_distance(original, i, l);
            p = 0;
            while (p < k && !(d2 < t[p] || (d2 == t[p] && l < tj[p]))) ++p;
          }
          ++c[p];
        }
        for (int m = 0; m < k; ++m) is_nb[tj[m]] = 0;
      }
    }
    double sum = 0.0;
    for (Eigen::Index q = 0; q < rn; ++q) {
      std::int64_t closer = 0;
      for (int m = 0; m < k; ++m) {
        closer += cnt[q * (k + 1) + m];
        const std::int64_t rank = 1 + m + closer;
        if (rank > k) sum += static_cast<double>(rank - k);
      }
    }
    penalty[task] = sum;
  });
  double t = 0.0;
  for (double p : penalty) t += p;
  const double nd = static_cast<double>(n), kd = static_cast<double>(k);
  out.value = 1.0 - t * (2.0 / (nd * kd * (2.0 * nd - 3.0 * kd - 1.0)));
  return out;
}

}  // namespace aesweep::analysis
