#include "aesweep/analysis/cosine_statistics.hpp"

#include <limits>

#include "detail.hpp"

namespace aesweep::analysis {

void CosineOptions::validate() const {
  detail::check_threads(threads, "CosineOptions");
  if (histogram_bins < 1) throw AnalysisError("CosineOptions: histogram_bins must be >= 1");
  if (max_pairs < 0) throw AnalysisError("CosineOptions: max_pairs must be >= 0");
}

namespace {

constexpr Eigen::Index kBlock = 256;

struct Accum {
  std::vector<std::uint64_t> hist[2];  // [0] different, [1] same; fine bins
  double sum[2] = {0.0, 0.0};
  double sumsq[2] = {0.0, 0.0};
  std::vector<double> class_sum;  // C x C, upper triangle used (a <= b)
};

CosineGroupStats finish_group(const std::vector<std::uint64_t>& fine, double sum, double sumsq, int bins) {
  CosineGroupStats g;
  const std::size_t n_fine = fine.size();
  const std::size_t per_bin = n_fine / static_cast<std::size_t>(bins);
  g.histogram.assign(static_cast<std::size_t>(bins), 0);
  for (std::size_t f = 0; f < n_fine; ++f) {
    g.pairs += fine[f];
    g.histogram[f / per_bin] += fine[f];
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (g.pairs == 0) {
    g.mean = g.std = nan;
    g.quantiles.fill(nan);
    return g;
  }
  const double np = static_cast<double>(g.pairs);
  g.mean = sum / np;
  g.std = std::sqrt(std::max(sumsq / np - g.mean * g.mean, 0.0));
  const double width = 2.0 / static_cast<double>(n_fine);
  for (std::size_t q = 0; q < kCosineQuantileLevels.size(); ++q) {
    // numpy "linear": value at fractional rank h = q (N - 1); inside a fine bin the values
    // are taken as evenly spread.
    const double h = kCosineQuantileLevels[q] * (np - 1.0);
    double before = 0.0;
    std::size_t f = 0;
    for (; f < n_fine; ++f) {
      if (before + static_cast<double>(fine[f]) > h) break;
      before += static_cast<double>(fine[f]);
    }
    f = std::min(f, n_fine - 1);
    const double within = fine[f] > 0 ? (h - before + 0.5) / static_cast<double>(fine[f]) : 0.5;
    g.quantiles[q] = std::clamp(-1.0 + (static_cast<double>(f) + std::min(within, 1.0)) * width, -1.0, 1.0);
  }
  return g;
}

// Codes with a direction (zero codes have none: excluded and counted in zero_rows), as many
// as give at most max_pairs pairs (a seeded random subset); norm receives every code's norm.
std::vector<Eigen::Index> directed_points(const Eigen::MatrixXf& points, const CosineOptions& opts,
                                          Eigen::VectorXd& norm, std::int64_t& zero_rows) {
  const Eigen::Index n_all = points.cols();
  std::vector<Eigen::Index> kept;
  norm.resize(n_all);
  for (Eigen::Index i = 0; i < n_all; ++i) {
    norm[i] = points.col(i).cast<double>().norm();
    if (norm[i] > 0.0) kept.push_back(i);
    else ++zero_rows;
  }
  if (opts.max_pairs > 0) {
    const auto m = static_cast<double>(kept.size());
    if (m * (m - 1.0) / 2.0 > static_cast<double>(opts.max_pairs)) {
      auto fit = static_cast<Eigen::Index>(std::floor((1.0 + std::sqrt(1.0 + 8.0 * static_cast<double>(opts.max_pairs))) / 2.0));
      while (fit > 2 && fit * (fit - 1) / 2 > opts.max_pairs) --fit;
      const auto pick = detail::random_subset(static_cast<Eigen::Index>(kept.size()), std::max<Eigen::Index>(fit, 2), opts.seed);
      std::vector<Eigen::Index> sub;
      for (Eigen::Index t : pick) sub.push_back(kept[t]);
      kept.swap(sub);
    }
  }
  return kept;
}

// Normalised codes grouped by label.
struct Grouped {
  Eigen::MatrixXf x;                // unit columns, sorted by label
  std::vector<int> lab;             // compact label per column
  std::vector<Eigen::Index> start;  // first column of each label, plus n
};

Grouped group_by_label(const Eigen::MatrixXf& points, const std::vector<Eigen::Index>& kept,
                       const Eigen::VectorXd& norm, const detail::CompactLabels& cl) {
  const Eigen::Index n = static_cast<Eigen::Index>(kept.size());
  const int n_classes = static_cast<int>(cl.values.size());
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) { return cl.index[a] < cl.index[b]; });
  Grouped g;
  g.x.resize(points.rows(), n);
  g.lab.resize(static_cast<std::size_t>(n));
  for (Eigen::Index t = 0; t < n; ++t) {
    const Eigen::Index i = kept[order[t]];
    g.x.col(t) = (points.col(i).cast<double>() / norm[i]).cast<float>();
    g.lab[t] = cl.index[order[t]];
  }
  g.start.assign(static_cast<std::size_t>(n_classes) + 1, 0);
  for (int c = 0; c < n_classes; ++c) g.start[c + 1] = g.start[c] + cl.counts[c];
  return g;
}

// Adds the pairs i < j of column blocks bi <= bj to a: their cosines (one GEMM), binned and
// summed per group, and summed per class pair.
void add_block_pair(const Grouped& g, Eigen::Index bi, Eigen::Index bj, std::size_t n_fine, int n_classes, Accum& a) {
  const Eigen::Index n = g.x.cols();
  const double scale = static_cast<double>(n_fine) / 2.0;
  const Eigen::Index i0 = bi * kBlock, j0 = bj * kBlock;
  const Eigen::Index ni = std::min(kBlock, n - i0), nj = std::min(kBlock, n - j0);
  Eigen::MatrixXf dot(ni, nj);
  dot.noalias() = g.x.middleCols(i0, ni).transpose() * g.x.middleCols(j0, nj);
  for (Eigen::Index j = 0; j < nj; ++j) {
    const int cj = g.lab[j0 + j];
    const Eigen::Index i_end = bi == bj ? j : ni;  // diagonal block: pairs i < j only
    const float* col = dot.col(j).data();
    for (Eigen::Index i = 0; i < i_end;) {
      const int ci = g.lab[i0 + i];
      const Eigen::Index e = std::min(i_end, g.start[ci + 1] - i0);
      const int same = ci == cj ? 1 : 0;
      std::uint64_t* h = a.hist[same].data();
      double s = 0.0, s2 = 0.0;
      for (Eigen::Index r = i; r < e; ++r) {
        const double v = std::clamp(static_cast<double>(col[r]), -1.0, 1.0);
        s += v;
        s2 += v * v;
        ++h[std::min(n_fine - 1, static_cast<std::size_t>((v + 1.0) * scale))];
      }
      a.sum[same] += s;
      a.sumsq[same] += s2;
      a.class_sum[static_cast<std::size_t>(ci) * n_classes + cj] += s;  // ci <= cj (sorted)
      i = e;
    }
  }
}

// Every pair i < j: per-thread accumulators over upper-triangular block pairs, then added up
// in thread order.
Accum all_pairs(const Grouped& g, int n_classes, std::size_t n_fine, int threads) {
  const Eigen::Index n = g.x.cols();
  const Eigen::Index nb = (n + kBlock - 1) / kBlock;
  std::vector<std::pair<Eigen::Index, Eigen::Index>> pairs;
  for (Eigen::Index a = 0; a < nb; ++a)
    for (Eigen::Index b = a; b < nb; ++b) pairs.emplace_back(a, b);
  const int t = detail::effective_threads(threads, static_cast<std::int64_t>(pairs.size()));
  std::vector<Accum> acc(static_cast<std::size_t>(t));
  detail::parallel_tasks_strided(t, static_cast<std::int64_t>(pairs.size()), [&](std::int64_t task, int tid) {
    Accum& a = acc[tid];
    if (a.hist[0].empty()) {
      a.hist[0].assign(n_fine, 0);
      a.hist[1].assign(n_fine, 0);
      a.class_sum.assign(static_cast<std::size_t>(n_classes) * n_classes, 0.0);
    }
    add_block_pair(g, pairs[task].first, pairs[task].second, n_fine, n_classes, a);
  });
  Accum total;
  total.hist[0].assign(n_fine, 0);
  total.hist[1].assign(n_fine, 0);
  total.class_sum.assign(static_cast<std::size_t>(n_classes) * n_classes, 0.0);
  for (const Accum& a : acc) {
    if (a.hist[0].empty()) continue;
    for (int s = 0; s < 2; ++s) {
      for (std::size_t f = 0; f < n_fine; ++f) total.hist[s][f] += a.hist[s][f];
      total.sum[s] += a.sum[s];
      total.sumsq[s] += a.sumsq[s];
    }
    for (std::size_t q = 0; q < total.class_sum.size(); ++q) total.class_sum[q] += a.class_sum[q];
  }
  return total;
}

// Mean cosine per class pair (symmetric); NaN where a class pair has no pairs.
Eigen::MatrixXd class_means(const std::vector<double>& class_sum, const std::vector<std::int64_t>& counts) {
  const int n_classes = static_cast<int>(counts.size());
  Eigen::MatrixXd mean(n_classes, n_classes);
  for (int ca = 0; ca < n_classes; ++ca)
    for (int cb = ca; cb < n_classes; ++cb) {
      const double na = static_cast<double>(counts[ca]), nbb = static_cast<double>(counts[cb]);
      const double count = ca == cb ? na * (na - 1.0) / 2.0 : na * nbb;
      const double v = count > 0 ? class_sum[static_cast<std::size_t>(ca) * n_classes + cb] / count
                                 : std::numeric_limits<double>::quiet_NaN();
      mean(ca, cb) = mean(cb, ca) = v;
    }
  return mean;
}

}  // namespace

CosineStatistics cosine_statistics(const Eigen::MatrixXf& points, const std::vector<int>& labels,
                                   const CosineOptions& opts) {
  opts.validate();
  const Eigen::Index n_all = points.cols();
  if (static_cast<Eigen::Index>(labels.size()) != n_all)
    throw AnalysisError("cosine_statistics: labels.size() does not match the number of points");
  detail::compact_labels(labels, "cosine_statistics");
  const int bins = opts.histogram_bins;
  const std::size_t n_fine = static_cast<std::size_t>(bins) * ((65536 + bins - 1) / bins);
  CosineStatistics out;
  auto empty_stats = [&](const std::string& why) {
    out.nan_reason = why;
    out.same = finish_group(std::vector<std::uint64_t>(n_fine, 0), 0.0, 0.0, bins);
    out.different = out.same;
    return out;
  };
  if (!detail::all_finite(points)) return empty_stats(detail::kNonFiniteReason);

  Eigen::VectorXd norm;
  const std::vector<Eigen::Index> kept = directed_points(points, opts, norm, out.zero_rows);
  const Eigen::Index n = static_cast<Eigen::Index>(kept.size());
  out.points_used = n;
  std::vector<int> kept_labels;
  for (Eigen::Index i : kept) kept_labels.push_back(labels[i]);
  const detail::CompactLabels cl = detail::compact_labels(kept_labels, "cosine_statistics");
  const int n_classes = static_cast<int>(cl.values.size());
  out.classes = cl.values;
  if (n < 2) return empty_stats("fewer than 2 non-zero codes");

  const Accum total = all_pairs(group_by_label(points, kept, norm, cl), n_classes, n_fine, opts.threads);
  out.different = finish_group(total.hist[0], total.sum[0], total.sumsq[0], bins);
  out.same = finish_group(total.hist[1], total.sum[1], total.sumsq[1], bins);
  out.class_mean = class_means(total.class_sum, cl.counts);
  return out;
}

}  // namespace aesweep::analysis
