#include "aesweep/analysis/kmeans.hpp"

#include <cmath>
#include <limits>

#include "detail.hpp"

namespace aesweep::analysis {

void KmeansOptions::validate() const {
  detail::check_threads(threads, "KmeansOptions");
  if (n_init < 1) throw AnalysisError("KmeansOptions: n_init must be >= 1");
  if (max_iter < 1) throw AnalysisError("KmeansOptions: max_iter must be >= 1");
  if (!(tol >= 0.0)) throw AnalysisError("KmeansOptions: tol must be >= 0");
}

void KmeansSweepOptions::validate() const {
  if (k_min < 1 || k_max < k_min) throw AnalysisError("KmeansSweepOptions: need 1 <= k_min <= k_max");
  kmeans.validate();
  silhouette.validate();
}

namespace {

constexpr Eigen::Index kColBlock = 4096;

struct Centred {
  Eigen::MatrixXf x;      // centred points (dims x n)
  Eigen::VectorXf norms;  // squared norms of x's columns
};

// Squared distances from every point to each column of `c` (m x n, float GEMM identity,
// clamped at 0); only used where float precision is plenty (seeding, assignment).
void squared_distances_to(const Centred& d, const Eigen::MatrixXf& c, int threads, Eigen::MatrixXf& out) {
  const Eigen::Index n = d.x.cols(), m = c.cols();
  const Eigen::VectorXf cn = detail::squared_norms(c);
  out.resize(m, n);
  detail::parallel_tasks(threads, (n + kColBlock - 1) / kColBlock, [&](std::int64_t b, int) {
    const Eigen::Index j0 = b * kColBlock, bn = std::min(kColBlock, n - j0);
    auto blk = out.middleCols(j0, bn);
    blk.noalias() = c.transpose() * d.x.middleCols(j0, bn);
    for (Eigen::Index j = 0; j < bn; ++j)
      for (Eigen::Index r = 0; r < m; ++r)
        blk(r, j) = std::max(d.norms[j0 + j] + cn[r] - 2.0f * blk(r, j), 0.0f);
  });
}

// E-step: nearest centre (first one on ties) and its squared distance.
void assign(const Centred& d, const Eigen::MatrixXf& centers, int threads, std::vector<int>& labels,
            std::vector<float>& dist) {
  const Eigen::Index n = d.x.cols(), k = centers.cols();
  const Eigen::VectorXf cn = detail::squared_norms(centers);
  labels.resize(static_cast<std::size_t>(n));
  dist.resize(static_cast<std::size_t>(n));
  detail::parallel_tasks(threads, (n + kColBlock - 1) / kColBlock, [&](std::int64_t b, int) {
    const Eigen::Index j0 = b * kColBlock, bn = std::min(kColBlock, n - j0);
    Eigen::MatrixXf g(k, bn);
    g.noalias() = centers.transpose() * d.x.middleCols(j0, bn);
    for (Eigen::Index j = 0; j < bn; ++j) {
      int best = 0;
      float best_v = cn[0] - 2.0f * g(0, j);
      for (Eigen::Index c = 1; c < k; ++c) {
        const float v = cn[c] - 2.0f * g(c, j);
        if (v < best_v) best_v = v, best = static_cast<int>(c);
      }
      labels[j0 + j] = best;
      dist[j0 + j] = std::max(d.norms[j0 + j] + best_v, 0.0f);
    }
  });
}

double exact_inertia(const Centred& d, const Eigen::MatrixXf& centers, const std::vector<int>& labels) {
  double total = 0.0;
  for (Eigen::Index i = 0; i < d.x.cols(); ++i)
    total += (d.x.col(i).cast<double>() - centers.col(labels[i]).cast<double>()).squaredNorm();
  return total;
}

// Greedy k-means++ (sklearn's _kmeans_plusplus): each new centre is the best of
// 2 + floor(ln k) candidates sampled proportionally to the current squared distance.
Eigen::MatrixXf kmeans_plusplus(const Centred& d, int k, std::mt19937_64& rng, int threads) {
  const Eigen::Index n = d.x.cols();
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  Eigen::MatrixXf centers(d.x.rows(), k);
  const Eigen::Index first = std::min<Eigen::Index>(n - 1, static_cast<Eigen::Index>(detail::uniform01(rng) * n));
  centers.col(0) = d.x.col(first);
  Eigen::MatrixXf dist;
  squared_distances_to(d, centers.leftCols(1), threads, dist);
  std::vector<double> closest(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) closest[i] = dist(0, i);
  std::vector<double> cumsum(static_cast<std::size_t>(n));
  Eigen::MatrixXf cand(d.x.rows(), trials);
  std::vector<Eigen::Index> cand_ids(static_cast<std::size_t>(trials));
  for (int c = 1; c < k; ++c) {
    std::partial_sum(closest.begin(), closest.end(), cumsum.begin());
    const double pot = cumsum.back();
    for (int t = 0; t < trials; ++t) {
      const double r = detail::uniform01(rng) * pot;
      const auto it = std::lower_bound(cumsum.begin(), cumsum.end(), r);
      cand_ids[t] = std::min<Eigen::Index>(n - 1, it - cumsum.begin());
      cand.col(t) = d.x.col(cand_ids[t]);
    }
    squared_distances_to(d, cand, threads, dist);
    int best = 0;
    double best_pot = std::numeric_limits<double>::infinity();
    for (int t = 0; t < trials; ++t) {
      double p = 0.0;
      for (Eigen::Index i = 0; i < n; ++i) p += std::min<double>(closest[i], dist(t, i));
      if (p < best_pot) best_pot = p, best = t;
    }
    for (Eigen::Index i = 0; i < n; ++i) closest[i] = std::min<double>(closest[i], dist(best, i));
    centers.col(c) = cand.col(best);
  }
  return centers;
}

struct Run {
  std::vector<int> labels;
  Eigen::MatrixXf centers;
  double inertia = 0.0;
  int iterations = 0;
};

// M-step sums in double: per-thread partial sums over column blocks, added up in thread order.
class ClusterSums {
 public:
  ClusterSums(Eigen::Index n, Eigen::Index dims, Eigen::Index k, int threads)
      : n_(n), dims_(dims), k_(k), n_blocks_((n + kColBlock - 1) / kColBlock),
        t_(detail::effective_threads(threads, n_blocks_)), part_sums_(static_cast<std::size_t>(t_)),
        part_counts_(static_cast<std::size_t>(t_)) {}

  // sums (dims x k) and counts of the points of each label.
  void compute(const Centred& d, const std::vector<int>& labels) {
    for (int p = 0; p < t_; ++p) {
      part_sums_[p].setZero(dims_, k_);
      part_counts_[p].assign(static_cast<std::size_t>(k_), 0);
    }
    detail::parallel_tasks_strided(t_, n_blocks_, [&](std::int64_t b, int tid) {
      const Eigen::Index j0 = b * kColBlock, bn = std::min(kColBlock, n_ - j0);
      for (Eigen::Index j = j0; j < j0 + bn; ++j) {
        part_sums_[tid].col(labels[j]) += d.x.col(j).cast<double>();
        ++part_counts_[tid][labels[j]];
      }
    });
    sums = Eigen::MatrixXd::Zero(dims_, k_);
    counts.assign(static_cast<std::size_t>(k_), 0);
    for (int p = 0; p < t_; ++p) {
      sums += part_sums_[p];
      for (Eigen::Index c = 0; c < k_; ++c) counts[c] += part_counts_[p][c];
    }
  }

  // Empty clusters take the points farthest from their centres (sklearn's relocation).
  void relocate_empty(const Centred& d, const std::vector<int>& labels, const std::vector<float>& dist) {
    std::vector<int> empty;
    for (Eigen::Index c = 0; c < k_; ++c)
      if (counts[c] == 0) empty.push_back(static_cast<int>(c));
    if (empty.empty()) return;
    std::vector<Eigen::Index> far(static_cast<std::size_t>(n_));
    std::iota(far.begin(), far.end(), Eigen::Index{0});
    const auto m = static_cast<std::ptrdiff_t>(std::min<std::size_t>(empty.size(), far.size()));
    std::partial_sort(far.begin(), far.begin() + m, far.end(), [&](Eigen::Index a, Eigen::Index b) {
      return dist[a] > dist[b] || (dist[a] == dist[b] && a < b);
    });
    for (std::ptrdiff_t e = 0; e < m; ++e) {
      const Eigen::Index p = far[e];
      const int old_c = labels[p], new_c = empty[e];
      sums.col(old_c) -= d.x.col(p).cast<double>();
      --counts[old_c];
      sums.col(new_c) = d.x.col(p).cast<double>();
      counts[new_c] = 1;
    }
  }

  // Replaces centers by the cluster means (a cluster left empty: its zero sum); returns the
  // total squared shift of the centres.
  double move_centers(Eigen::MatrixXf& centers) const {
    Eigen::MatrixXf new_centers(dims_, k_);
    double shift = 0.0;
    for (Eigen::Index c = 0; c < k_; ++c) {
      const Eigen::VectorXd nc = counts[c] > 0 ? Eigen::VectorXd(sums.col(c) / static_cast<double>(counts[c]))
                                               : Eigen::VectorXd(sums.col(c));
      shift += (nc - centers.col(c).cast<double>()).squaredNorm();
      new_centers.col(c) = nc.cast<float>();
    }
    centers = std::move(new_centers);
    return shift;
  }

  Eigen::MatrixXd sums;
  std::vector<std::int64_t> counts;

 private:
  Eigen::Index n_, dims_, k_, n_blocks_;
  int t_;
  std::vector<Eigen::MatrixXd> part_sums_;
  std::vector<std::vector<std::int64_t>> part_counts_;
};

Run lloyd(const Centred& d, Eigen::MatrixXf centers, const KmeansOptions& opts, double tol_abs) {
  const Eigen::Index n = d.x.cols();
  Run run;
  std::vector<int> labels, labels_old(static_cast<std::size_t>(n), -1);
  std::vector<float> dist;
  bool strict = false;
  int it = 0;
  ClusterSums m_step(n, d.x.rows(), centers.cols(), opts.threads);
  for (it = 0; it < opts.max_iter; ++it) {
    assign(d, centers, opts.threads, labels, dist);
    m_step.compute(d, labels);
    m_step.relocate_empty(d, labels, dist);
    const double shift = m_step.move_centers(centers);
    if (labels == labels_old) {
      strict = true;
      break;
    }
    if (shift <= tol_abs) break;
    labels_old = labels;
  }
  // Labels must match the returned centres.
  if (!strict) assign(d, centers, opts.threads, labels, dist);
  run.iterations = std::min(it + 1, opts.max_iter);
  run.inertia = exact_inertia(d, centers, labels);
  run.labels = std::move(labels);
  run.centers = std::move(centers);
  return run;
}

}  // namespace

KmeansResult kmeans(const Eigen::MatrixXf& points, int k, const KmeansOptions& opts) {
  opts.validate();
  if (k < 1) throw AnalysisError("kmeans: k must be >= 1");
  KmeansResult out;
  out.inertia = std::numeric_limits<double>::quiet_NaN();
  const Eigen::Index n = points.cols();
  if (!detail::all_finite(points)) {
    out.nan_reason = detail::kNonFiniteReason;
    return out;
  }
  if (k > n) {
    out.nan_reason = "k (" + std::to_string(k) + ") exceeds the number of points (" + std::to_string(n) + ")";
    return out;
  }
  Centred d;
  const Eigen::VectorXd mean = points.cast<double>().rowwise().mean();
  d.x = (points.cast<double>().colwise() - mean).cast<float>();
  d.norms = detail::squared_norms(d.x);
  // sklearn: tol is relative to the mean per-feature variance.
  const double mean_var = points.rows() > 0 ? d.x.cast<double>().rowwise().squaredNorm().mean() / static_cast<double>(n) : 0.0;
  const double tol_abs = opts.tol * mean_var;

  Run best;
  best.inertia = std::numeric_limits<double>::infinity();
  for (int init = 0; init < opts.n_init; ++init) {
    std::mt19937_64 rng(detail::mix_seed(opts.seed, static_cast<std::uint64_t>(init)));
    Run run = lloyd(d, kmeans_plusplus(d, k, rng, opts.threads), opts, tol_abs);
    if (run.inertia < best.inertia) best = std::move(run);
  }
  out.labels = std::move(best.labels);
  out.centers = (best.centers.cast<double>().colwise() + mean).cast<float>();
  out.inertia = best.inertia;
  out.iterations = best.iterations;
  return out;
}

std::vector<KmeansSweepEntry> kmeans_sweep(const Eigen::MatrixXf& points, const KmeansSweepOptions& opts) {
  opts.validate();
  std::vector<KmeansSweepEntry> out;
  for (int k = opts.k_min; k <= opts.k_max; ++k) {
    KmeansSweepEntry e;
    e.k = k;
    const KmeansResult km = kmeans(points, k, opts.kmeans);
    e.inertia = km.inertia;
    e.iterations = km.iterations;
    if (!km.nan_reason.empty()) {
      e.silhouette = std::numeric_limits<double>::quiet_NaN();
      e.nan_reason = km.nan_reason;
    } else {
      SilhouetteOptions so = opts.silhouette;
      so.threads = opts.kmeans.threads;
      const SilhouetteResult s = silhouette(points, km.labels, so);
      e.silhouette = s.score;
      e.nan_reason = s.nan_reason;
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace aesweep::analysis
