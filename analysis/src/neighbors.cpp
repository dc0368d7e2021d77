#include "aesweep/analysis/neighbors.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "detail.hpp"

namespace aesweep::analysis {

namespace {
constexpr int kExtraCandidates = 8;
constexpr Eigen::Index kChunk = 32;  // candidates per vectorised pre-test
}  // namespace

void KnnOptions::validate() const { detail::check_threads(threads, "KnnOptions"); }

KnnResult exact_knn(const Eigen::MatrixXf& points, int k, const KnnOptions& opts) {
  opts.validate();
  const Eigen::Index n = points.cols();
  if (k < 0 || k >= n) throw AnalysisError("exact_knn: need 0 <= k < number of points");
  if (!detail::all_finite(points)) throw AnalysisError("exact_knn: non-finite input values");
  KnnResult out;
  out.indices.resize(k, n);
  out.squared_distances.resize(k, n);
  if (k == 0) return out;

  // The float GEMM ranks candidates; a few extra ones are kept so that near-ties at the
  // k-th place are settled by the exact (double) distances.
  const int kk = static_cast<int>(std::min<Eigen::Index>(k + kExtraCandidates, n - 1));
  const Eigen::MatrixXf x = detail::centered(points);
  const Eigen::VectorXf norms = detail::squared_norms(x);
  // Queries in blocks of kRows; candidates in blocks of kCols so the GEMM result
  // (kCols x kRows floats, 2 MB) stays small. ||q||^2 is constant per query and dropped.
  constexpr Eigen::Index kRows = 256, kCols = 2048;
  const Eigen::Index n_row_blocks = (n + kRows - 1) / kRows;
  using Entry = std::pair<float, int>;  // (partial squared distance, index); lexicographic
  detail::parallel_tasks(opts.threads, n_row_blocks, [&](std::int64_t task, int) {
    const Eigen::Index r0 = task * kRows, rn = std::min(kRows, n - r0);
    std::vector<std::vector<Entry>> heaps(static_cast<std::size_t>(rn));
    for (auto& h : heaps) h.reserve(static_cast<std::size_t>(kk));
    Eigen::MatrixXf g(kCols, rn);
    for (Eigen::Index c0 = 0; c0 < n; c0 += kCols) {
      const Eigen::Index cn = std::min(kCols, n - c0);
      g.topRows(cn).noalias() = x.middleCols(c0, cn).transpose() * x.middleCols(r0, rn);
      const float* nc = norms.data() + c0;
      for (Eigen::Index q = 0; q < rn; ++q) {
        auto& heap = heaps[q];
        const float* col = g.col(q).data();
        const Eigen::Index self = r0 + q;
        for (Eigen::Index j0 = 0; j0 < cn; j0 += kChunk) {
          const Eigen::Index je = std::min(cn, j0 + kChunk);
          // Most candidates lose to the current k-th best: one vectorised test per chunk
          // skips them (the same strict test as below, so the result is unchanged).
          if (static_cast<int>(heap.size()) == kk) {
            const float worst = heap.front().first;
            int any = 0;
#pragma omp simd reduction(| : any)
            for (Eigen::Index j = j0; j < je; ++j) any |= (nc[j] - 2.0f * col[j]) < worst ? 1 : 0;
            if (!any) continue;
          }
          for (Eigen::Index j = j0; j < je; ++j) {
            const Eigen::Index idx = c0 + j;
            const float v = nc[j] - 2.0f * col[j];
            if (static_cast<int>(heap.size()) < kk) {
              if (idx == self) continue;
              heap.emplace_back(v, static_cast<int>(idx));
              std::push_heap(heap.begin(), heap.end());
            } else if (v < heap.front().first) {  // indices grow, so equal v never wins
              if (idx == self) continue;
              std::pop_heap(heap.begin(), heap.end());
              heap.back() = Entry(v, static_cast<int>(idx));
              std::push_heap(heap.begin(), heap.end());
            }
          }
        }
      }
    }
    // Exact distances for the winners, then the final order.
    std::vector<std::pair<double, int>> exact(static_cast<std::size_t>(kk));
    for (Eigen::Index q = 0; q < rn; ++q) {
      const Eigen::Index i = r0 + q;
      for (int m = 0; m < kk; ++m) {
        const int j = heaps[q][m].second;
        exact[m] = {detail::exact_squared_distance(points, i, j), j};
      }
      std::sort(exact.begin(), exact.end());
      for (int m = 0; m < k; ++m) {
        out.indices(m, i) = exact[m].second;
        out.squared_distances(m, i) = static_cast<float>(exact[m].first);
      }
    }
  });
  return out;
}

}  // namespace aesweep::analysis
