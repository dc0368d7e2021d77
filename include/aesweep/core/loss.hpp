#pragma once
// Reconstruction losses. Each reports the batch loss (a mean over samples) and writes the
// gradient with respect to the decoder's pre-activation z2, the decoder derivative included.
#include <Eigen/Core>

#include "aesweep/core/train_options.hpp"

namespace aesweep::loss {

// Sum over the elements of one column of the per-element loss, in the model's precision (a
// column is short and stays in cache, so this is one vectorised pass).
// mse / sum_squares: (y - x)^2; bce: softplus(z2) - x * z2, the stable form of binary
// cross-entropy on the logits (needs a sigmoid decoder).
template <typename Y, typename Z, typename X>
typename Y::Scalar column_sum(LossKind kind, const Eigen::MatrixBase<Y>& y, const Eigen::MatrixBase<Z>& z2,
                              const Eigen::MatrixBase<X>& x) {
  using T = typename Y::Scalar;
  if (kind == LossKind::bce) {
    const auto za = z2.array();
    return (za.max(T(0)) + (-za.abs()).exp().log1p() - x.array() * za).sum();
  }
  return (y - x).squaredNorm();
}

// Sum over all elements of the per-element loss (not yet divided by anything): each column in
// the model's precision, the columns in double.
template <typename Y, typename Z, typename X>
double elementwise_sum(LossKind kind, const Eigen::MatrixBase<Y>& y, const Eigen::MatrixBase<Z>& z2,
                       const Eigen::MatrixBase<X>& x) {
  double total = 0.0;
  for (Eigen::Index j = 0; j < y.cols(); ++j) total += double(column_sum(kind, y.col(j), z2.col(j), x.col(j)));
  return total;
}

// The divisor that turns elementwise_sum into the batch loss: mse and bce average over pixels
// and samples (Keras), sum_squares averages over samples only (paper 004).
inline double normalizer(LossKind kind, Eigen::Index rows, Eigen::Index cols) {
  return kind == LossKind::sum_squares ? double(cols) : double(rows) * double(cols);
}

// dz2 = d(batch loss)/d(z2) for some columns of the batch. y = decoder(z2); `scale` is
// 1 / normalizer(kind, rows, whole batch size).
template <typename D, typename Y, typename X>
void gradient(LossKind kind, Activation decoder, const Eigen::MatrixBase<Y>& y, const Eigen::MatrixBase<X>& x,
              typename Y::Scalar scale, Eigen::MatrixBase<D> const& dz2_const) {
  using T = typename Y::Scalar;
  auto& dz2 = const_cast<Eigen::MatrixBase<D>&>(dz2_const);
  if (kind == LossKind::bce) {  // sigmoid decoder: the derivative cancels
    dz2 = scale * (y - x);
    return;
  }
  switch (decoder) {
    case Activation::sigmoid: dz2 = ((T(2) * scale) * (y - x).array() * y.array() * (T(1) - y.array())).matrix(); break;
    case Activation::identity: dz2 = (T(2) * scale) * (y - x); break;
    default: dz2 = (T(2) * scale) * (y - x); break;  // validate() restricts decoders to the two above
  }
}

}  // namespace aesweep::loss
