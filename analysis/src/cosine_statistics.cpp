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

  // Zero codes have no direction: excluded and counted.
  std::vector<Eigen::Index> kept;
  Eigen::VectorXd norm(n_all);
  for (Eigen::Index i = 0; i < n_all; ++i) {
    norm[i] = points.col(i).cast<double>().norm();
    if (norm[i] > 0.0) kept.push_back(i);
    else ++out.zero_rows;
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
  const Eigen::Index n = static_cast<Eigen::Index>(kept.size());
  out.points_used = n;
  std::vector<int> kept_labels;
  for (Eigen::Index i : kept) kept_labels.push_back(labels[i]);
  const detail::CompactLabels cl = detail::compact_labels(kept_labels, "cosine_statistics");
  const int n_classes = static_cast<int>(cl.values.size());
  out.classes = cl.values;
  if (n < 2) return empty_stats("fewer than 2 non-zero codes");

  // Normalised codes grouped by label.
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) { return cl.index[a] < cl.index[b]; });
  Eigen::MatrixXf x(points.rows(), n);
  std::vector<int> lab(static_cast<std::size_t>(n));
  for (Eigen::Index t = 0; t < n; ++t) {
    const Eigen::Index i = kept[order[t]];
    x.col(t) = (points.col(i).cast<double>() / norm[i]).cast<float>();
    lab[t] = cl.index[order[t]];
  }
  std::vector<Eigen::Index> start(static_cast<std::size_t>(n_classes) + 1, 0);
  for (int c = 0; c < n_classes; ++c) start[c + 1] = start[c] + cl.counts[c];

  const Eigen::Index nb = (n + kBlock - 1) / kBlock;
  std::vector<std::pair<Eigen::Index, Eigen::Index>> pairs;
  for (Eigen::Index a = 0; a < nb; ++a)
    for (Eigen::Index b = a; b < nb; ++b) pairs.emplace_back(a, b);
  const int t = detail::effective_threads(opts.threads, static_cast<std::int64_t>(pairs.size()));
  std::vector<Accum> acc(static_cast<std::size_t>(t));
  const double scale = static_cast<double>(n_fine) / 2.0;
  detail::parallel_tasks(t, static_cast<std::int64_t>(pairs.size()), [&](std::int64_t task, int tid) {
    Accum& a = acc[tid];
    if (a.hist[0].empty()) {
      a.hist[0].assign(n_fine, 0);
      a.hist[1].assign(n_fine, 0);
      a.class_sum.assign(static_cast<std::size_t>(n_classes) * n_classes, 0.0);
    }
    const auto [bi, bj] = pairs[task];
    const Eigen::Index i0 = bi * kBlock, j0 = bj * kBlock;
    const Eigen::Index ni = std::min(kBlock, n - i0), nj = std::min(kBlock, n - j0);
    Eigen::MatrixXf g(ni, nj);
    g.noalias() = x.middleCols(i0, ni).transpose() * x.middleCols(j0, nj);
    for (Eigen::Index j = 0; j < nj; ++j) {
      const int cj = lab[j0 + j];
      const Eigen::Index i_end = bi == bj ? j : ni;  // diagonal block: pairs i < j only
      const float* col = g.col(j).data();
      for (Eigen::Index i = 0; i < i_end;) {
        const int ci = lab[i0 + i];
        const Eigen::Index e = std::min(i_end, start[ci + 1] - i0);
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
  });
  std::vector<std::uint64_t> fine[2] = {std::vector<std::uint64_t>(n_fine, 0), std::vector<std::uint64_t>(n_fine, 0)};
  double sum[2] = {0.0, 0.0}, sumsq[2] = {0.0, 0.0};
  std::vector<double> class_sum(static_cast<std::size_t>(n_classes) * n_classes, 0.0);
  for (const Accum& a : acc) {
    if (a.hist[0].empty()) continue;
    for (int g = 0; g < 2; ++g) {
      for (std::size_t f = 0; f < n_fine; ++f) fine[g][f] += a.hist[g][f];
      sum[g] += a.sum[g];
      sumsq[g] += a.sumsq[g];
    }
    for (std::size_t q = 0; q < class_sum.size(); ++q) class_sum[q] += a.class_sum[q];
  }
  out.different = finish_group(fine[0], sum[0], sumsq[0], bins);
  out.same = finish_group(fine[1], sum[1], sumsq[1], bins);
  out.class_mean.resize(n_classes, n_classes);
  for (int ca = 0; ca < n_classes; ++ca)
    for (int cb = ca; cb < n_classes; ++cb) {
      const double na = static_cast<double>(cl.counts[ca]), nbb = static_cast<double>(cl.counts[cb]);
      const double count = ca == cb ? na * (na - 1.0) / 2.0 : na * nbb;
      const double v = count > 0 ? class_sum[static_cast<std::size_t>(ca) * n_classes + cb] / count
                                 : std::numeric_limits<double>::quiet_NaN();
      out.class_mean(ca, cb) = out.class_mean(cb, ca) = v;
    }
  return out;
}

}  // namespace aesweep::analysis
