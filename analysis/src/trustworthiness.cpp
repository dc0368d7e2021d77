#include "aesweep/analysis/trustworthiness.hpp"

#include <limits>

#include "aesweep/analysis/neighbors.hpp"
#include "detail.hpp"

namespace aesweep::analysis {

namespace {

// Float GEMM distance errors stay well below this fraction of ||a||^2 + ||b||^2 (centred
// data); comparisons closer than that to a threshold are redone in double.
constexpr double kGemmTolerance = 1e-5;
constexpr Eigen::Index kRows = 256, kCols = 2048;

// Exact squared distances from each query rows[q] to its k embedding neighbours, sorted per
// query into thr[q k ..] (neighbour indices in thr_idx): the order of the neighbours among
// themselves comes from the exact values, not the GEMM.
void neighbour_thresholds(const Eigen::MatrixXf& original, const KnnResult& emb, const Eigen::Index* rows,
                          Eigen::Index rn, int k, std::vector<double>& thr, std::vector<int>& thr_idx) {
  thr.resize(static_cast<std::size_t>(rn * k));
  thr_idx.resize(static_cast<std::size_t>(rn * k));
  std::vector<std::pair<double, int>> tmp(static_cast<std::size_t>(k));
  for (Eigen::Index q = 0; q < rn; ++q) {
    const Eigen::Index i = rows[q];
    for (int m = 0; m < k; ++m) {
      const int j = emb.indices(m, i);
      tmp[m] = {detail::exact_squared_distance(original, i, j), j};
    }
    std::sort(tmp.begin(), tmp.end());
    for (int m = 0; m < k; ++m) thr[q * k + m] = tmp[m].first, thr_idx[q * k + m] = tmp[m].second;
  }
}

// Number of thresholds point l (at squared distance d2) comes after (ties: smaller index first).
inline int slot(double d2, Eigen::Index l, const double* t, const int* tj, int k) {
  int p = 0;
  while (p < k && !(d2 < t[p] || (d2 == t[p] && l < tj[p]))) ++p;
  return p;
}

// Query i against columns [c0, c0 + cn) (col: their GEMM products with i): counts in c[p] the
// points other than i and its embedding neighbours (is_nb) that fall in slot p < k.
void count_slots(const Eigen::MatrixXf& original, const Eigen::VectorXf& norms, Eigen::Index i, Eigen::Index c0,
                 Eigen::Index cn, const float* col, int k, const double* t, const int* tj,
                 const std::vector<char>& is_nb, std::int64_t* c) {
  const double t_max = t[k - 1];
  const float ni = norms[i];
  for (Eigen::Index jj = 0; jj < cn; ++jj) {
    const float both = ni + norms[c0 + jj];
    double d2 = static_cast<double>(std::max(both - 2.0f * col[jj], 0.0f));
    // Generous bound on the float GEMM error; within it, recompute exactly.
    const double tol = kGemmTolerance * static_cast<double>(both);
    if (d2 > t_max + tol) continue;
    const Eigen::Index l = c0 + jj;
    if (l == i || is_nb[l]) continue;
    int p = slot(d2, l, t, tj, k);
    const bool near_tie = (p < k && t[p] - d2 <= tol) || (p > 0 && d2 - t[p - 1] <= tol);
    if (near_tie) {
      d2 = detail::exact_squared_distance(original, i, l);
      p = slot(d2, l, t, tj, k);
    }
    ++c[p];
  }
}

// Sum over the queries of one row block of max(rank - k, 0), from the slot counts.
double rank_penalty(const std::vector<std::int64_t>& cnt, Eigen::Index rn, int k) {
  double sum = 0.0;
  for (Eigen::Index q = 0; q < rn; ++q) {
    std::int64_t closer = 0;
    for (int m = 0; m < k; ++m) {
      closer += cnt[q * (k + 1) + m];
      const std::int64_t rank = 1 + m + closer;
      if (rank > k) sum += static_cast<double>(rank - k);
    }
  }
  return sum;
}

// The penalty of queries rows[0..rn): rows of original-space distances (x centred, norms its
// squared norms) scanned block by block.
double row_block_penalty(const Eigen::MatrixXf& original, const Eigen::MatrixXf& x, const Eigen::VectorXf& norms,
                         const KnnResult& emb, const Eigen::Index* rows, Eigen::Index rn, int k) {
  const Eigen::Index n = x.cols();
  std::vector<double> thr;
  std::vector<int> thr_idx;
  neighbour_thresholds(original, emb, rows, rn, k, thr, thr_idx);
  std::vector<std::int64_t> cnt(static_cast<std::size_t>(rn * (k + 1)), 0);
  std::vector<char> is_nb(static_cast<std::size_t>(n), 0);
  Eigen::MatrixXf queries(x.rows(), rn);
  for (Eigen::Index q = 0; q < rn; ++q) queries.col(q) = x.col(rows[q]);
  Eigen::MatrixXf g(kCols, rn);
  for (Eigen::Index c0 = 0; c0 < n; c0 += kCols) {
    const Eigen::Index cn = std::min(kCols, n - c0);
    g.topRows(cn).noalias() = x.middleCols(c0, cn).transpose() * queries;
    for (Eigen::Index q = 0; q < rn; ++q) {
      const int* tj = &thr_idx[q * k];
      for (int m = 0; m < k; ++m) is_nb[tj[m]] = 1;
      count_slots(original, norms, rows[q], c0, cn, g.col(q).data(), k, &thr[q * k], tj, is_nb, &cnt[q * (k + 1)]);
      for (int m = 0; m < k; ++m) is_nb[tj[m]] = 0;
    }
  }
  return rank_penalty(cnt, rn, k);
}

// Neighbours this close to the end of a K-list are not trusted for ranks: the list's float
// ranking could in principle have swapped a near-tie there (exact_knn settles ties among its
// extra candidates, but the margin costs nothing).
constexpr int kListMargin = 8;

// With the original space's K nearest neighbours: the penalty of point i if every embedding
// neighbour is within the first K - kListMargin places of its list (rank = place + 1, the same
// distance-then-index order as the scan); false if the point needs the scan.
bool penalty_from_list(const KnnResult& emb, const KnnResult& orig, Eigen::Index i, int k, double& penalty) {
  const int usable = static_cast<int>(orig.indices.rows()) - kListMargin;
  penalty = 0.0;
  for (int m = 0; m < k; ++m) {
    const int j = emb.indices(m, i);
    int place = -1;
    for (int t = 0; t < usable; ++t)
      if (orig.indices(t, i) == j) {
        place = t;
        break;
      }
    if (place < 0) return false;
    if (place + 1 > k) penalty += static_cast<double>(place + 1 - k);
  }
  return true;
}

// Exact k nearest neighbours of 2-D points (the embedding) with a uniform grid of about two
// points per cell: rings of cells around each point until no unvisited cell can hold anything
// closer. Distances exact in double, ties by the smaller index (exact_knn's order). Threads
// take blocks of points; every point's list is its own.
KnnResult grid_knn_2d(const Eigen::MatrixXf& e, int k, int threads) {
  const Eigen::Index n = e.cols();
  double minx = e(0, 0), maxx = minx, miny = e(1, 0), maxy = miny;
  for (Eigen::Index i = 1; i < n; ++i) {
    minx = std::min<double>(minx, e(0, i)), maxx = std::max<double>(maxx, e(0, i));
    miny = std::min<double>(miny, e(1, i)), maxy = std::max<double>(maxy, e(1, i));
  }
  const double span = std::max(maxx - minx, maxy - miny);
  if (!(span > 0.0)) return exact_knn(e, k, KnnOptions{threads});
  const int g = static_cast<int>(std::clamp(std::ceil(std::sqrt(static_cast<double>(n) / 2.0)), 1.0, 4096.0));
  const double cell = span / g * (1.0 + 1e-9);
  auto cell_of = [&](double v, double lo) { return std::min(g - 1, static_cast<int>((v - lo) / cell)); };
  std::vector<std::int64_t> start(static_cast<std::size_t>(g) * g + 1, 0);
  std::vector<int> cx(static_cast<std::size_t>(n)), cy(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    cx[i] = cell_of(e(0, i), minx), cy[i] = cell_of(e(1, i), miny);
    ++start[static_cast<std::size_t>(cy[i]) * g + cx[i] + 1];
  }
  for (std::size_t c = 1; c < start.size(); ++c) start[c] += start[c - 1];
  std::vector<int> members(static_cast<std::size_t>(n));
  {
    std::vector<std::int64_t> fill(start.begin(), start.end() - 1);
    for (Eigen::Index i = 0; i < n; ++i) members[fill[static_cast<std::size_t>(cy[i]) * g + cx[i]]++] = static_cast<int>(i);
  }
  KnnResult out;
  out.indices.resize(k, n);
  out.squared_distances.resize(k, n);
  constexpr Eigen::Index kBlock = 1024;
  detail::parallel_tasks(threads, (n + kBlock - 1) / kBlock, [&](std::int64_t b, int) {
    std::vector<std::pair<double, int>> best;  // max-heap of the k best (distance, index)
    for (Eigen::Index i = b * kBlock; i < std::min(n, (b + 1) * kBlock); ++i) {
      best.clear();
      const double xi = e(0, i), yi = e(1, i);
      auto visit = [&](int gx, int gy) {
        const std::size_t c = static_cast<std::size_t>(gy) * g + gx;
        for (std::int64_t t = start[c]; t < start[c + 1]; ++t) {
          const int j = members[t];
          if (j == i) continue;
          const double dx = xi - e(0, j), dy = yi - e(1, j);
          const std::pair<double, int> cand(dx * dx + dy * dy, j);
          if (static_cast<int>(best.size()) < k) {
            best.push_back(cand);
            std::push_heap(best.begin(), best.end());
          } else if (cand < best.front()) {
            std::pop_heap(best.begin(), best.end());
            best.back() = cand;
            std::push_heap(best.begin(), best.end());
          }
        }
      };
      for (int r = 0;; ++r) {
        // Ring r: cells at Chebyshev distance r from the point's cell.
        const int x0 = cx[i] - r, x1 = cx[i] + r, y0 = cy[i] - r, y1 = cy[i] + r;
        for (int gx = std::max(x0, 0); gx <= std::min(x1, g - 1); ++gx) {
          if (y0 >= 0) visit(gx, y0);
          if (r > 0 && y1 < g) visit(gx, y1);
        }
        for (int gy = std::max(y0 + 1, 0); gy <= std::min(y1 - 1, g - 1); ++gy) {
          if (x0 >= 0) visit(x0, gy);
          if (r > 0 && x1 < g) visit(x1, gy);
        }
        // Cells beyond ring r are at least r cells away from the point's own cell.
        const double reach = r * cell;
        if (static_cast<int>(best.size()) == k && best.front().first < reach * reach) break;
        if (x0 <= 0 && y0 <= 0 && x1 >= g - 1 && y1 >= g - 1) break;  // every cell visited
      }
      std::sort(best.begin(), best.end());
      for (int m = 0; m < k; ++m) {
        out.indices(m, i) = best[m].second;
        out.squared_distances(m, i) = static_cast<float>(best[m].first);
      }
    }
  });
  return out;
}

}  // namespace

void TrustworthinessOptions::validate() const {
  detail::check_threads(threads, "TrustworthinessOptions");
  if (n_neighbors < 1) throw AnalysisError("TrustworthinessOptions: n_neighbors must be >= 1");
}

TrustworthinessResult trustworthiness(const Eigen::MatrixXf& original, const Eigen::MatrixXf& embedded,
                                      const TrustworthinessOptions& opts, const KnnResult* original_neighbours) {
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
  const KnnResult emb =
      embedded.rows() == 2 ? grid_knn_2d(embedded, k, opts.threads) : exact_knn(embedded, k, KnnOptions{opts.threads});

  // For every point i and each embedding neighbour j: rank(i, j) = 1 + number of points
  // closer to i than j in the original space (ties: smaller index first). Only ranks > k
  // contribute. Points answered by original_neighbours first; the rest scan everything.
  std::vector<Eigen::Index> scan;
  double listed = 0.0;
  const bool use_list = original_neighbours && original_neighbours->indices.cols() == n &&
                        original_neighbours->indices.rows() - kListMargin >= k;
  for (Eigen::Index i = 0; i < n; ++i) {
    double p = 0.0;
    if (use_list && penalty_from_list(emb, *original_neighbours, i, k, p)) listed += p;
    else scan.push_back(i);
  }
  const Eigen::Index n_scan = static_cast<Eigen::Index>(scan.size());
  const Eigen::MatrixXf x = detail::centered(original);
  const Eigen::VectorXf norms = detail::squared_norms(x);
  const Eigen::Index n_row_blocks = (n_scan + kRows - 1) / kRows;
  std::vector<double> penalty(static_cast<std::size_t>(n_row_blocks), 0.0);
  detail::parallel_tasks(opts.threads, n_row_blocks, [&](std::int64_t task, int) {
    const Eigen::Index r0 = task * kRows, rn = std::min(kRows, n_scan - r0);
    penalty[task] = row_block_penalty(original, x, norms, emb, scan.data() + r0, rn, k);
  });
  double t = listed;  // an integer-valued sum: exact in double, so the order does not matter
  for (double p : penalty) t += p;
  const double nd = static_cast<double>(n), kd = static_cast<double>(k);
  out.value = 1.0 - t * (2.0 / (nd * kd * (2.0 * nd - 3.0 * kd - 1.0)));
  return out;
}

}  // namespace aesweep::analysis
