#pragma once
// Leave-one-out k-nearest-neighbour classification accuracy of latent codes (Euclidean,
// majority vote, exact).
#include <string>
#include <vector>

#include <Eigen/Core>

namespace aesweep::analysis {

struct KnnAccuracyOptions {
  int k = 5;
  int threads = 1;
  void validate() const;
};

struct KnnAccuracyResult {
  double accuracy = 0.0;  // fraction of points whose k nearest others vote their label; NaN if undefined
  std::vector<int> classes;                 // label values, increasing
  std::vector<double> per_class_accuracy;   // aligned with classes
  std::string nan_reason;
};

// Vote ties go to the smallest label (as sklearn's KNeighborsClassifier); neighbour
// distance ties to the smaller index. NaN with a reason if k >= n or values are non-finite.
KnnAccuracyResult knn_accuracy(const Eigen::MatrixXf& points, const std::vector<int>& labels,
                               const KnnAccuracyOptions& opts = {});

}  // namespace aesweep::analysis
