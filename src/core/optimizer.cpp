#include "aesweep/core/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace aesweep {

template <typename T>
Optimizer<T>::Optimizer(const OptimizerOptions& options, Eigen::Index size) : options_(options) {
  switch (options.kind) {
    case OptimizerKind::sgd: break;
    case OptimizerKind::momentum:
    case OptimizerKind::nesterov: first_moment_.setZero(size); break;
    case OptimizerKind::rmsprop: second_moment_.setZero(size); break;
    case OptimizerKind::adam:
      first_moment_.setZero(size);
      second_moment_.setZero(size);
      break;
    case OptimizerKind::adagrad: second_moment_.setConstant(size, T(options.adagrad_initial)); break;
  }
}

template <typename T>
void Optimizer<T>::step(Eigen::Ref<Vec> params, const Eigen::Ref<const Vec>& gradient) {
  ++steps_;
  const T lr = T(options_.learning_rate);
  const T eps = T(options_.epsilon);
  // TensorFlow's Adam: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t); w -= lr_t m / (sqrt(v) + eps).
  const double t = double(steps_);
  const T adam_lr = options_.kind == OptimizerKind::adam
                        ? T(options_.learning_rate * std::sqrt(1.0 - std::pow(options_.beta2, t)) /
                            (1.0 - std::pow(options_.beta1, t)))
                        : T(0);
  // The update rules other than Adam's take several passes over their vectors; done a chunk at a
  // time, every pass after the first finds the chunk in L1 cache instead of reading the whole
  // vectors again. Adam's is one pass (its sqrt and division are IEEE-exact).
  constexpr Eigen::Index chunk = 2048;
  const Eigen::Index size = params.size();
  for (Eigen::Index start = 0; start < size; start += chunk) {
    const Eigen::Index n = std::min(chunk, size - start);
    auto p = params.segment(start, n).array();
    auto g = gradient.segment(start, n).array();
    switch (options_.kind) {
      case OptimizerKind::sgd: p -= lr * g; break;
      case OptimizerKind::momentum: {
        // v = mu v - lr g; w += v
        const T mu = T(options_.momentum);
        auto v = first_moment_.segment(start, n).array();
        v = mu * v - lr * g;
        p += v;
        break;
      }
      case OptimizerKind::nesterov: {
        // v = mu v - lr g; w += mu v - lr g
        const T mu = T(options_.momentum);
        auto v = first_moment_.segment(start, n).array();
        v = mu * v - lr * g;
        p += mu * v - lr * g;
        break;
      }
      case OptimizerKind::rmsprop: {
        const T rho = T(options_.rho);
        auto a = second_moment_.segment(start, n).array();
        a = rho * a + (T(1) - rho) * g.square();
        p -= lr * g / (a.sqrt() + eps);
        break;
      }
      case OptimizerKind::adam: {
        // One pass: the loads of the next values overlap the square root and division of these.
        const T b1 = T(options_.beta1), b2 = T(options_.beta2), c1 = T(1) - b1, c2 = T(1) - b2;
        T* __restrict__ pp = params.data() + start;
        const T* __restrict__ gg = gradient.data() + start;
        T* __restrict__ mm = first_moment_.data() + start;
        T* __restrict__ vv = second_moment_.data() + start;
        for (Eigen::Index i = 0; i < n; ++i) {
          const T gi = gg[i];
          const T mi = b1 * mm[i] + c1 * gi;
          const T vi = b2 * vv[i] + c2 * (gi * gi);
          mm[i] = mi;
          vv[i] = vi;
          // (vi - vi) is 0, or NaN once g^2 overflowed v to inf: the weight then becomes NaN and
          // the run is stopped as diverged, instead of that weight's step being 0 for good.
          pp[i] -= adam_lr * mi / (std::sqrt(vi) + eps) + (vi - vi);
        }
        break;
      }
      case OptimizerKind::adagrad: {
        auto a = second_moment_.segment(start, n).array();
        a += g.square();
        p -= lr * g / (a.sqrt() + eps);
        break;
      }
    }
  }
}

template <typename T>
void Optimizer<T>::restore(const Vec& first, const Vec& second, long steps) {
  if (first.size() != first_moment_.size() || second.size() != second_moment_.size() || steps < 0)
    throw std::invalid_argument("Optimizer::restore: the state does not fit this optimizer (" +
                                std::to_string(first.size()) + "+" + std::to_string(second.size()) + " values for " +
                                std::to_string(first_moment_.size()) + "+" + std::to_string(second_moment_.size()) +
                                ", " + std::to_string(steps) + " steps)");
  first_moment_ = first;
  second_moment_ = second;
  steps_ = steps;
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace aesweep
