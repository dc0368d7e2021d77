#include "aesweep/analysis/knn_accuracy.hpp"

#include <limits>

#include "aesweep/analysis/neighbors.hpp"
#include "detail.hpp"

namespace aesweep::analysis {

void KnnAccuracyOptions::validate() const {
  detail::check_threads(threads, "KnnAccuracyOptions");
  if (k < 1) throw AnalysisError("KnnAccuracyOptions: k must be >= 1");
}

KnnAccuracyResult knn_accuracy(const Eigen::MatrixXf& points, const std::vector<int>& labels,
                               const KnnAccuracyOptions& opts) {
  opts.validate();
  const Eigen::Index n = points.cols();
  if (static_cast<Eigen::Index>(labels.size()) != n)
    throw AnalysisError("knn_accuracy: labels.size() does not match the number of points");
  const detail::CompactLabels cl = detail::compact_labels(labels, "knn_accuracy");
  KnnAccuracyResult out;
  out.accuracy = std::numeric_limits<double>::quiet_NaN();
  out.classes = cl.values;
  const int n_classes = static_cast<int>(cl.values.size());
  out.per_class_accuracy.assign(static_cast<std::size_t>(n_classes), std::numeric_limits<double>::quiet_NaN());
  if (!detail::all_finite(points)) {
    out.nan_reason = detail::kNonFiniteReason;
    return out;
  }
  if (opts.k >= n) {
    out.nan_reason = "leave-one-out kNN needs k < number of points";
    return out;
  }
  // All codes equal (an all-zero latent space): every neighbour ties with every other, and with
  // more than one class the vote would only count the points that come first, a number that
  // reads like a real accuracy.
  if (n_classes > 1 && detail::all_identical(points)) {
    out.nan_reason = "every latent code is identical (e.g. an all-zero latent space): no nearest neighbours to tell apart";
    return out;
  }
  const KnnResult knn = exact_knn(points, opts.k, KnnOptions{opts.threads});
  std::vector<std::int64_t> correct(static_cast<std::size_t>(n_classes), 0);
  std::vector<int> votes(static_cast<std::size_t>(n_classes), 0);
  std::int64_t total = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    std::fill(votes.begin(), votes.end(), 0);
    for (int m = 0; m < opts.k; ++m) ++votes[cl.index[knn.indices(m, i)]];
    // First maximum = smallest label among ties.
    const int predicted = static_cast<int>(std::max_element(votes.begin(), votes.end()) - votes.begin());
    if (predicted == cl.index[i]) {
      ++correct[predicted];
      ++total;
    }
  }
  out.accuracy = static_cast<double>(total) / static_cast<double>(n);
  for (int c = 0; c < n_classes; ++c)
    out.per_class_accuracy[c] = static_cast<double>(correct[c]) / static_cast<double>(cl.counts[c]);
  return out;
}

}  // namespace aesweep::analysis
