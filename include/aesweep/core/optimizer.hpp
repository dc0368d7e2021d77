#pragma once
// First-order optimizers as small update rules over the flat parameter vector, with Keras's
// update formulas and defaults so that results compare with the Keras-based paper 000.
#include <Eigen/Core>

#include "aesweep/core/train_options.hpp"

namespace aesweep {

template <typename T>
class Optimizer {
 public:
  using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

  // requires: options validated; size = number of parameters.
  Optimizer(const OptimizerOptions& options, Eigen::Index size);

  // params -= update(gradient); allocation-free. params and gradient must not overlap.
  void step(Eigen::Ref<Vec> params, const Eigen::Ref<const Vec>& gradient);

  long steps_taken() const { return steps_; }

  // The optimizer's whole state (moments and step count), to stop and later continue a run bit
  // for bit. The moments are empty where the rule keeps none (SGD; m for RMSProp and AdaGrad).
  const Vec& first_moment() const { return first_moment_; }
  const Vec& second_moment() const { return second_moment_; }
  // requires: vectors shaped as this optimizer's own (checked: std::invalid_argument), steps >= 0.
  void restore(const Vec& first, const Vec& second, long steps);

 private:
  OptimizerOptions options_;
  Vec first_moment_;   // momentum velocity / Adam m
  Vec second_moment_;  // RMSProp and Adam v, AdaGrad accumulator
  long steps_ = 0;
};

extern template class Optimizer<float>;
extern template class Optimizer<double>;

}  // namespace aesweep
