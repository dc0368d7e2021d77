#pragma once
// Penalties, each reporting both its value and its gradient (the value goes into the reported
// objective, not only the update). Keras semantics: activity penalties are divided by the batch
// size, kernel penalties are not; L2 is lambda * sum(w^2) with no factor 1/2.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>

namespace aesweep::regularizer {

// lambda1 * sum|a| + lambda2 * sum a^2 (scaled by `scale`); adds its gradient to `grad`.
template <typename A, typename G>
double add_l1_l2(const Eigen::MatrixBase<A>& a, double lambda1, double lambda2, double scale,
                 Eigen::MatrixBase<G> const& grad_const) {
  using T = typename A::Scalar;
  auto& grad = const_cast<Eigen::MatrixBase<G>&>(grad_const);
  double value = 0.0;
  if (lambda1 != 0.0) {
    value += lambda1 * scale * a.array().abs().template cast<double>().sum();
    grad.array() += T(lambda1 * scale) * a.array().sign();
  }
  if (lambda2 != 0.0) {
    value += lambda2 * scale * a.array().square().template cast<double>().sum();
    grad.array() += T(2.0 * lambda2 * scale) * a.array();
  }
  return value;
}

// KL-divergence sparsity (papers 001, 003): rho_hat_j = mean over the batch of h_j,
// penalty beta * sum_j KL(rho || rho_hat_j). rho_hat is clipped into (eps, 1 - eps) so ReLU codes
// (which can exceed 1) stay defined; where clipped the gradient is zero.
template <typename H, typename G>
double add_kl_sparsity(const Eigen::MatrixBase<H>& h, double beta, double rho, Eigen::MatrixBase<G> const& grad_const) {
  using T = typename H::Scalar;
  auto& grad = const_cast<Eigen::MatrixBase<G>&>(grad_const);
  constexpr double eps = 1e-7;
  const double batch = double(h.cols());
  double value = 0.0;
  for (Eigen::Index j = 0; j < h.rows(); ++j) {
    const double raw = h.row(j).template cast<double>().sum() / batch;
    const double rho_hat = std::clamp(raw, eps, 1.0 - eps);
    value += rho * std::log(rho / rho_hat) + (1.0 - rho) * std::log((1.0 - rho) / (1.0 - rho_hat));
    if (raw > eps && raw < 1.0 - eps) {
      const double d = beta * (-rho / rho_hat + (1.0 - rho) / (1.0 - rho_hat)) / batch;
      grad.row(j).array() += T(d);
    }
  }
  return beta * value;
}

}  // namespace aesweep::regularizer
