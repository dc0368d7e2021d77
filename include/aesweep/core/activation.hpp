#pragma once
// Activation functions on Eigen arrays: value, first derivative (from z and f(z)) and second
// derivative (needed by the contractive penalty). The switch happens once per call; the
// elementwise work inside is a single fused Eigen expression.
#include <Eigen/Core>

#include "aesweep/core/train_options.hpp"

namespace aesweep::activation {

// out = f(z). `out` may alias nothing but itself.
template <typename Out, typename In>
void apply(Activation a, const Eigen::MatrixBase<In>& z, Eigen::MatrixBase<Out> const& out_const) {
  using T = typename In::Scalar;
  auto& out = const_cast<Eigen::MatrixBase<Out>&>(out_const);
  switch (a) {
    case Activation::relu: out = z.array().max(T(0)).matrix(); break;
    case Activation::sigmoid: out = (T(1) + (-z.array()).exp()).inverse().matrix(); break;
    case Activation::tanh: out = z.array().tanh().matrix(); break;
    case Activation::identity: out = z; break;
    case Activation::negative: out = -z; break;
  }
}

// grad *= f'(z), using whichever of z or h = f(z) gives the cheaper formula.
template <typename G, typename Z, typename H>
void multiply_derivative(Activation a, const Eigen::MatrixBase<Z>& z, const Eigen::MatrixBase<H>& h,
                         Eigen::MatrixBase<G> const& grad_const) {
  using T = typename Z::Scalar;
  auto& grad = const_cast<Eigen::MatrixBase<G>&>(grad_const);
  switch (a) {
    case Activation::relu: grad.array() *= (z.array() > T(0)).template cast<T>(); break;
    case Activation::sigmoid: grad.array() *= h.array() * (T(1) - h.array()); break;
    case Activation::tanh: grad.array() *= T(1) - h.array().square(); break;
    case Activation::identity: break;
    case Activation::negative: grad = -grad; break;
  }
}

// out = f'(z) and out2 = f''(z), elementwise; h = f(z).
template <typename O1, typename O2, typename Z, typename H>
void derivatives(Activation a, const Eigen::MatrixBase<Z>& z, const Eigen::MatrixBase<H>& h,
                 Eigen::MatrixBase<O1> const& first_const, Eigen::MatrixBase<O2> const& second_const) {
  using T = typename Z::Scalar;
  auto& first = const_cast<Eigen::MatrixBase<O1>&>(first_const);
  auto& second = const_cast<Eigen::MatrixBase<O2>&>(second_const);
  switch (a) {
    case Activation::relu:
      first = (z.array() > T(0)).template cast<T>().matrix();
      second.setZero();
      break;
    case Activation::sigmoid:
      first = (h.array() * (T(1) - h.array())).matrix();
      second = (first.array() * (T(1) - T(2) * h.array())).matrix();
      break;
    case Activation::tanh:
      first = (T(1) - h.array().square()).matrix();
      second = (T(-2) * h.array() * first.array()).matrix();
      break;
    case Activation::identity:
      first.setOnes();
      second.setZero();
      break;
    case Activation::negative:
      first.setConstant(T(-1));
      second.setZero();
      break;
  }
}

}  // namespace aesweep::activation
