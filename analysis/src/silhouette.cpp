#include "aesweep/analysis/silhouette.hpp"

#include <limits>

#include "aesweep/core/gemm.hpp"
#include "detail.hpp"

namespace aesweep::analysis {

void SilhouetteOptions::validate() const {
  detail::check_threads(threads, "SilhouetteOptions");
  if (sample_size < 0) throw AnalysisError("SilhouetteOptions: sample_size must be >= 0");
}

namespace {

constexpr Eigen::Index kBlock = 256;
// Pairs with d^2 below this fraction of ||a||^2 + ||b||^2 (near-duplicates, where the float
// GEMM identity loses its relative precision) are recomputed directly in double.
constexpr float kRefineRatio = 1e-3f;
// Per-thread n x C accumulators are used (symmetric blocks, half the GEMM work) while they
// fit in this many bytes; beyond it each row block is computed against all columns.
constexpr double kSymmetricScratchBytes = 512.0 * 1024 * 1024;
// With very many labels the per-thread reduction of n x C dominates; use row blocks.
constexpr int kMaxSymmetricLabels = 1024;

struct Sorted {
  Eigen::MatrixXf x;           // centred points, grouped by label
  Eigen::VectorXf norms;       // squared norms of x's columns
  std::vector<int> label;      // compact label per sorted point
  std::vector<Eigen::Index> start;  // first sorted index of each label, plus n
};

// Distances of rows [i0, i0+bi) to columns [j0, j0+bj) into d (bi x bj); then adds the
// per-cluster row sums into s_rows (and, if col_sums, the per-cluster column sums too).
void block_sums(const Sorted& s, Eigen::Index i0, Eigen::Index bi, Eigen::Index j0, Eigen::Index bj,
                bool col_sums, int n_labels, Eigen::MatrixXf& d, Eigen::VectorXf& acc, double* sums) {
  auto dv = d.topLeftCorner(bi, bj);
  // The products through the project's matrix-product backend (core/gemm, issue 11).
  gemm::product(dv, s.x.middleCols(i0, bi), true, s.x.middleCols(j0, bj), false, false);
  const float* ni = s.norms.data() + i0;
  for (Eigen::Index j = 0; j < bj; ++j) {
    const float nj = s.norms[j0 + j];
    float* col = dv.col(j).data();
    int refine = 0;
#pragma omp simd reduction(| : refine)
    for (Eigen::Index i = 0; i < bi; ++i) {
      const float both = ni[i] + nj;
      const float d2 = both - 2.0f * col[i];
      refine |= d2 < kRefineRatio * both ? 1 : 0;
      col[i] = d2;
    }
    if (refine) {  // rare: near-duplicate pairs, recomputed exactly
      for (Eigen::Index i = 0; i < bi; ++i)
        if (col[i] < kRefineRatio * (ni[i] + nj))
          col[i] = static_cast<float>(detail::exact_squared_distance(s.x, i0 + i, j0 + j));
    }
    if (i0 == j0) col[j] = 0.0f;  // self distance is exactly zero
  }
  dv = dv.array().max(0.0f).sqrt();  // Eigen's packet sqrt: vectorised
  // Row sums per label segment of the columns (vectorised over rows).
  float* a = acc.data();
  for (Eigen::Index j = 0; j < bj;) {
    const int c = s.label[j0 + j];
    const Eigen::Index e = std::min(bj, s.start[c + 1] - j0);
    std::fill(a, a + bi, 0.0f);
    for (Eigen::Index t = j; t < e; ++t) {
      const float* col = dv.col(t).data();
#pragma omp simd
      for (Eigen::Index i = 0; i < bi; ++i) a[i] += col[i];
    }
    for (Eigen::Index i = 0; i < bi; ++i) sums[(i0 + i) * n_labels + c] += a[i];
    j = e;
  }
  if (!col_sums) return;
  for (Eigen::Index j = 0; j < bj; ++j) {
    const float* col = dv.col(j).data();
    for (Eigen::Index i = 0; i < bi;) {
      const int c = s.label[i0 + i];
      const Eigen::Index e = std::min(bi, s.start[c + 1] - i0);
      float part = 0.0f;
#pragma omp simd reduction(+ : part)
      for (Eigen::Index t = i; t < e; ++t) part += col[t];
      sums[(j0 + j) * n_labels + c] += part;
      i = e;
    }
  }
}

// Upper-triangular block pairs; each thread accumulates into its own n x C array, and the
// arrays are added up in thread order.
void symmetric_sums(const Sorted& s, int n_labels, int threads, std::vector<double>& sums) {
  const Eigen::Index n = s.x.cols();
  const Eigen::Index nb = (n + kBlock - 1) / kBlock;
  std::vector<std::pair<Eigen::Index, Eigen::Index>> pairs;
  for (Eigen::Index a = 0; a < nb; ++a)
    for (Eigen::Index b = a; b < nb; ++b) pairs.emplace_back(a, b);
  const int t = detail::effective_threads(threads, static_cast<std::int64_t>(pairs.size()));
  std::vector<std::vector<double>> partial(static_cast<std::size_t>(t));
  detail::parallel_tasks_strided(t, static_cast<std::int64_t>(pairs.size()), [&](std::int64_t task, int tid) {
    thread_local Eigen::MatrixXf d;
    thread_local Eigen::VectorXf acc;
    d.resize(kBlock, kBlock);
    acc.resize(kBlock);
    auto& mine = partial[tid];
    if (mine.empty()) mine.assign(sums.size(), 0.0);
    const auto [a, b] = pairs[task];
    const Eigen::Index i0 = a * kBlock, j0 = b * kBlock;
    block_sums(s, i0, std::min(kBlock, n - i0), j0, std::min(kBlock, n - j0), a != b, n_labels, d, acc,
               mine.data());
  });
  for (const auto& p : partial)
    if (!p.empty())
      for (std::size_t q = 0; q < sums.size(); ++q) sums[q] += p[q];
}

// Many labels: each row block owns its rows of `sums` and scans every column block.
void row_block_sums(const Sorted& s, int n_labels, int threads, std::vector<double>& sums) {
  const Eigen::Index n = s.x.cols();
  const Eigen::Index nb = (n + kBlock - 1) / kBlock;
  detail::parallel_tasks(threads, nb, [&](std::int64_t a, int) {
    Eigen::MatrixXf d(kBlock, kBlock);
    Eigen::VectorXf acc(kBlock);
    const Eigen::Index i0 = a * kBlock;
    for (Eigen::Index b = 0; b < nb; ++b) {
      const Eigen::Index j0 = b * kBlock;
      block_sums(s, i0, std::min(kBlock, n - i0), j0, std::min(kBlock, n - j0), false, n_labels, d, acc,
                 sums.data());
    }
  });
}

// n x C: the sum of each point's distances to the points of each label.
std::vector<double> label_sums(const Sorted& s, int n_labels, int threads) {
  const Eigen::Index n = s.x.cols();
  const Eigen::Index nb = (n + kBlock - 1) / kBlock;
  std::vector<double> sums(static_cast<std::size_t>(n) * n_labels, 0.0);
  const double scratch = static_cast<double>(n) * n_labels * 8.0 * detail::effective_threads(threads, nb * (nb + 1) / 2);
  if (scratch <= kSymmetricScratchBytes && n_labels <= kMaxSymmetricLabels) symmetric_sums(s, n_labels, threads, sums);
  else row_block_sums(s, n_labels, threads, sums);
  return sums;
}

// The points of `chosen` grouped by label so that per-cluster sums are sums over contiguous
// ranges; order receives each sorted point's position in `chosen`.
Sorted sort_by_label(const Eigen::MatrixXf& points, const std::vector<Eigen::Index>& chosen,
                     const detail::CompactLabels& cl, std::vector<Eigen::Index>& order) {
  const Eigen::Index n = static_cast<Eigen::Index>(chosen.size());
  const int n_labels = static_cast<int>(cl.values.size());
  order.resize(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) { return cl.index[a] < cl.index[b]; });
  Sorted s;
  {
    Eigen::MatrixXf grouped(points.rows(), n);
    for (Eigen::Index t = 0; t < n; ++t) grouped.col(t) = points.col(chosen[order[t]]);
    s.x = detail::centered(grouped);
  }
  s.norms = detail::squared_norms(s.x);
  s.label.resize(static_cast<std::size_t>(n));
  for (Eigen::Index t = 0; t < n; ++t) s.label[t] = cl.index[order[t]];
  s.start.assign(static_cast<std::size_t>(n_labels) + 1, 0);
  for (int c = 0; c < n_labels; ++c) s.start[c + 1] = s.start[c] + cl.counts[c];
  return s;
}

// Why the chosen points cannot be scored; empty if they can.
std::string undefined_reason(const Eigen::MatrixXf& points, const std::vector<Eigen::Index>& chosen, int n_labels) {
  const Eigen::Index n = static_cast<Eigen::Index>(chosen.size());
  if (!detail::all_finite(points)) return detail::kNonFiniteReason;
  // All codes equal (an all-zero latent space, as strong L1 penalties produce in paper 000):
  // every distance is 0 and there is no structure to score. sklearn's nan_to_num would report
  // 0, which reads like a real score; NaN with the reason says what happened.
  bool all_identical = n > 0;
  for (Eigen::Index t = 1; t < n && all_identical; ++t)
    all_identical = (points.col(chosen[std::size_t(t)]) - points.col(chosen[0])).cwiseAbs().maxCoeff() == 0.0f;
  if (all_identical)
    return n < points.cols() && !detail::all_identical(points)
               ? "every latent code of the sample is identical: no structure to score (a larger sample may find some)"
               : "every latent code is identical (e.g. an all-zero latent space): no structure to score";
  if (n_labels < 2 || n_labels >= n)
    return "silhouette needs 2 <= distinct labels <= n_points - 1 (got " + std::to_string(n_labels) + " labels for " +
           std::to_string(n) + " points)";
  return {};
}

}  // namespace

SilhouetteResult silhouette(const Eigen::MatrixXf& points, const std::vector<int>& labels,
                            const SilhouetteOptions& opts) {
  opts.validate();
  const Eigen::Index n_all = points.cols();
  if (static_cast<Eigen::Index>(labels.size()) != n_all)
    throw AnalysisError("silhouette: labels.size() does not match the number of points");
  detail::compact_labels(labels, "silhouette");  // rejects negative labels

  SilhouetteResult out;
  out.score = std::numeric_limits<double>::quiet_NaN();
  std::vector<Eigen::Index> chosen;
  if (opts.sample_size > 0 && opts.sample_size < n_all) {
    chosen = detail::random_subset(n_all, opts.sample_size, opts.seed);
  } else {
    chosen.resize(static_cast<std::size_t>(n_all));
    std::iota(chosen.begin(), chosen.end(), Eigen::Index{0});
  }
  const Eigen::Index n = static_cast<Eigen::Index>(chosen.size());
  out.n_points = n;
  std::vector<int> sub_labels(chosen.size());
  for (std::size_t t = 0; t < chosen.size(); ++t) sub_labels[t] = labels[chosen[t]];
  const detail::CompactLabels cl = detail::compact_labels(sub_labels, "silhouette");
  const int n_labels = static_cast<int>(cl.values.size());
  out.n_labels = n_labels;
  out.nan_reason = undefined_reason(points, chosen, n_labels);
  if (!out.nan_reason.empty()) return out;

  std::vector<Eigen::Index> order;
  const Sorted s = sort_by_label(points, chosen, cl, order);
  const std::vector<double> sums = label_sums(s, n_labels, opts.threads);
  std::vector<double> sil(static_cast<std::size_t>(n), 0.0);
  double total = 0.0;
  for (Eigen::Index t = 0; t < n; ++t) {
    const int own = s.label[t];
    const std::int64_t own_count = cl.counts[own];
    double value = 0.0;  // singleton clusters: s = 0
    if (own_count > 1) {
      const double* row = &sums[static_cast<std::size_t>(t) * n_labels];
      const double a = row[own] / static_cast<double>(own_count - 1);
      double b = std::numeric_limits<double>::infinity();
      for (int c = 0; c < n_labels; ++c)
        if (c != own) b = std::min(b, row[c] / static_cast<double>(cl.counts[c]));
      const double denom = std::max(a, b);
      value = denom > 0.0 ? (b - a) / denom : 0.0;  // 0/0 (all duplicates) -> 0 as sklearn
    }
    sil[order[t]] = value;
    total += value;
  }
  out.score = total / static_cast<double>(n);
  if (opts.keep_samples) out.samples = std::move(sil);
  return out;
}

}  // namespace aesweep::analysis
