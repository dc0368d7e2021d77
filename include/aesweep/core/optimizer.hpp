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

  // params -= update(gradient); allocation-free.
  void step(Eigen::Ref<Vec> params, const Eigen::Ref<const Vec>& gradient);

  long steps_taken() const { return steps_; }

 private:
  OptimizerOptions options_;
  Vec first_moment_;   // momentum velocity / Adam m
  Vec second_moment_;  // RMSProp and Adam v, AdaGrad accumulator
  long steps_ = 0;
};

extern template class Optimizer<float>;
extern template class Optimizer<double>;

}  // namespace aesweep
