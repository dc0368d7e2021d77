#include "aesweep/core/autoencoder.hpp"

#include <cmath>
#include <stdexcept>
#include <type_traits>

#include "aesweep/core/activation.hpp"
#include "aesweep/core/loss.hpp"
#include "aesweep/core/random.hpp"
#include "aesweep/core/regularizer.hpp"

namespace aesweep {
template <typename T>
Autoencoder<T>::Autoencoder(const ModelOptions& model, const RegularizerOptions& reg)
    : model_(model), reg_(reg), params_(model.input_size, model.hidden) {}

template <typename T>
void Autoencoder<T>::initialize(std::uint64_t seed) {
  Rng rng(seed);
  // Glorot uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)); the same l for W1 and W2.
  const double limit = std::sqrt(6.0 / double(model_.input_size + model_.hidden));
  auto fill = [&](auto&& w) {
    for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = T((2.0 * rng.uniform_double() - 1.0) * limit);
  };
  fill(params_.w1());
  fill(params_.w2());
  params_.b1().setZero();
  params_.b2().setZero();
}

template <typename T>
void Autoencoder<T>::set_precision(Precision precision) {
  if (precision == Precision::bf16) {
    if (!std::is_same_v<T, float>) throw std::logic_error("bf16 training is for Autoencoder<float> only");
    if (!gemm::bf16_supported()) throw std::logic_error("bf16 products unavailable: " + gemm::bf16_unsupported_reason());
  }
  bf16_ = precision == Precision::bf16;
}

namespace {
// The columns of `m` (contiguous columns) rounded to bf16, packed with leading dimension m.rows().
template <typename M>
void round_to_bf16(const M& m, std::vector<gemm::bf16>& out) {
  out.resize(std::size_t(m.rows() * m.cols()));
  if (m.outerStride() == m.rows()) {
    gemm::to_bf16(m.data(), out.data(), m.rows() * m.cols());
    return;
  }
  for (Eigen::Index j = 0; j < m.cols(); ++j) gemm::to_bf16(m.col(j).data(), out.data() + j * m.rows(), m.rows());
}
}  // namespace

template <typename T>
template <typename C, typename A, typename B>
void Autoencoder<T>::multiply(C&& c, const A& a, bool trans_a, std::vector<gemm::bf16>& a16, bool convert_a,
                              const B& b, bool trans_b, std::vector<gemm::bf16>& b16, bool convert_b, bool accumulate) {
  if constexpr (std::is_same_v<T, float>) {
    if (bf16_) {
      if (convert_a) round_to_bf16(a, a16);
      if (convert_b) round_to_bf16(b, b16);
      gemm::bf16gemm(trans_a, trans_b, c.rows(), c.cols(), trans_a ? a.rows() : a.cols(), a16.data(), a.rows(),
                     b16.data(), b.rows(), accumulate, c.data(), c.outerStride());
      return;
    }
  }
  gemm::product(c, a, trans_a, b, trans_b, accumulate);
}

template <typename T>
void Autoencoder<T>::reserve(Eigen::Index max_batch) {
  const Eigen::Index hidden = model_.hidden, input = model_.input_size;
  for (auto* m : {&z1_, &h_, &dropped_, &dh_}) m->resize(hidden, max_batch);
  for (auto* m : {&z2_, &y_, &dz2_}) m->resize(input, max_batch);
  if (reg_.contractive != 0.0) {
    first_.resize(hidden, max_batch);
    second_.resize(hidden, max_batch);
    // Two hidden-sized scratch columns: squared row norms of W1 and per-unit sums.
    row_scratch_.resize(hidden, 2);
  }
}

template <typename T>
BatchObjective Autoencoder<T>::forward_backward(const Eigen::Ref<const Matrix<T>>& input,
                                                const Eigen::Ref<const Matrix<T>>& target,
                                                const Matrix<T>* dropout_mask, ParameterSet<T>& gradient) {
  const Eigen::Index batch = input.cols();
  auto z1 = codes_workspace(batch);
  multiply(z1, params_.w1(), false, w1_16_, true, input, false, x16_, true, false);
  BatchObjective objective = backward_from_codes(target, dropout_mask, gradient);
  multiply(gradient.w1(), dz1_workspace(batch), false, dz1_16_, true, input, true, x16_, false, false);
  finish_gradient(batch, gradient, objective);
  return objective;
}

template <typename T>
typename Autoencoder<T>::Columns Autoencoder<T>::codes_workspace(Eigen::Index batch) {
  if (z1_.cols() < batch) reserve(batch);
  return z1_.leftCols(batch);
}

template <typename T>
typename Autoencoder<T>::Columns Autoencoder<T>::dz1_workspace(Eigen::Index batch) {
  return dh_.leftCols(batch);
}

template <typename T>
BatchObjective Autoencoder<T>::backward_from_codes(const Eigen::Ref<const Matrix<T>>& target,
                                                   const Matrix<T>* dropout_mask, ParameterSet<T>& gradient) {
  const Eigen::Index batch = target.cols();
  auto z1 = z1_.leftCols(batch);
  auto h = h_.leftCols(batch);
  auto dropped = dropped_.leftCols(batch);
  auto z2 = z2_.leftCols(batch);
  auto y = y_.leftCols(batch);
  auto dz2 = dz2_.leftCols(batch);
  auto dh = dh_.leftCols(batch);
  const auto w1 = params_.w1();
  const auto w2 = params_.w2();

  // Forward from the encoder's product W1 x: its bias and activation, a column at a time while
  // the column is in cache.
  for (Eigen::Index j = 0; j < batch; ++j) {
    if (model_.use_bias) z1.col(j) += params_.b1();
    activation::apply(model_.encoder_activation, z1.col(j), h.col(j));
  }
  if (dropout_mask) dropped = h.cwiseProduct(dropout_mask->leftCols(batch));
  const auto& decoder_input = dropout_mask ? dropped : h;
  multiply(z2, w2, false, w2_16_, true, decoder_input, false, h16_, true, false);

  // Decoder bias and activation, loss and the loss gradient dz2, one column at a time while it is
  // in cache.
  const double normalizer = loss::normalizer(model_.loss, y.rows(), batch);
  double loss_sum = 0.0;
  for (Eigen::Index j = 0; j < batch; ++j) {
    if (model_.use_bias) z2.col(j) += params_.b2();
    activation::apply(model_.decoder_activation, z2.col(j), y.col(j));
    loss_sum += double(loss::column_sum(model_.loss, y.col(j), z2.col(j), target.col(j)));
    loss::gradient(model_.loss, model_.decoder_activation, y.col(j), target.col(j), T(1.0 / normalizer), dz2.col(j));
  }
  BatchObjective objective;
  objective.loss = loss_sum / normalizer;

  // Backward through the decoder.
  multiply(gradient.w2(), dz2, false, dz2_16_, true, decoder_input, true, h16_, false, false);
  if (model_.use_bias) gradient.b2() = dz2.rowwise().sum();
  else gradient.b2().setZero();
  multiply(dh, w2, true, w2_16_, false, dz2, false, dz2_16_, false, false);
  if (dropout_mask) dh.array() *= dropout_mask->leftCols(batch).array();

  // Penalties on the code h (before dropout, as a Keras activity_regularizer on the Dense layer).
  objective.penalty += regularizer::add_l1_l2(h, reg_.l1_activity, reg_.l2_activity, 1.0 / double(batch), dh);
  if (reg_.kl_beta != 0.0) objective.penalty += regularizer::add_kl_sparsity(h, reg_.kl_beta, reg_.kl_rho, dh);

  // Through the encoder activation: dh becomes d/dz1.
  activation::multiply_derivative(model_.encoder_activation, z1, h, dh);

  // Contractive penalty lambda/B * sum_b ||diag(f'(z_b)) W1||_F^2 = lambda/B * sum_jb f'(z_jb)^2 |W1_j|^2.
  const bool contractive = reg_.contractive != 0.0;
  if (contractive) {
    auto first = first_.leftCols(batch);
    auto second = second_.leftCols(batch);
    activation::derivatives(model_.encoder_activation, z1, h, first, second);
    auto row_norms = row_scratch_.col(0);
    auto unit_sums = row_scratch_.col(1);
    row_norms = w1.rowwise().squaredNorm();
    unit_sums = first.array().square().rowwise().sum().matrix();
    const double scale = reg_.contractive / double(batch);
    objective.penalty += scale * (unit_sums.array().template cast<double>() * row_norms.array().template cast<double>()).sum();
    // Through z: d/dz_jb = scale * 2 f' f'' |W1_j|^2.
    dh.noalias() += (T(2 * scale) * row_norms).asDiagonal() * first.cwiseProduct(second);
  }

  if (model_.use_bias) gradient.b1() = dh.rowwise().sum();
  else gradient.b1().setZero();
  return objective;
}

template <typename T>
void Autoencoder<T>::finish_gradient(Eigen::Index batch, ParameterSet<T>& gradient, BatchObjective& objective) {
  const auto w1 = params_.w1();
  const auto w2 = params_.w2();
  if (reg_.contractive != 0.0) {
    // Through |W1_j|^2 directly: scale * 2 * sum_b f'^2 * W1_j.
    const double scale = reg_.contractive / double(batch);
    gradient.w1() += (T(2 * scale) * row_scratch_.col(1)).asDiagonal() * w1;
  }

  objective.penalty += regularizer::add_l1_l2(w1, reg_.l1_kernel, reg_.l2_kernel, 1.0, gradient.w1());
  if (reg_.kernel_scope == KernelScope::both)
    objective.penalty += regularizer::add_l1_l2(w2, reg_.l1_kernel, reg_.l2_kernel, 1.0, gradient.w2());
}

template <typename T>
void Autoencoder<T>::encode(const Eigen::Ref<const Matrix<T>>& input, Eigen::Ref<Matrix<T>> latent) const {
  affine(latent, params_.w1(), input, params_.b1(), model_.use_bias);
  activation::apply(model_.encoder_activation, latent, latent);
}

template <typename T>
void Autoencoder<T>::decode(const Eigen::Ref<const Matrix<T>>& latent, Eigen::Ref<Matrix<T>> output,
                            Eigen::Ref<Matrix<T>> pre_activation) const {
  affine(pre_activation, params_.w2(), latent, params_.b2(), model_.use_bias);
  activation::apply(model_.decoder_activation, pre_activation, output);
}

template <typename T>
typename Autoencoder<T>::EvalSums Autoencoder<T>::evaluate(const Eigen::Ref<const Matrix<T>>& input,
                                                           Eigen::Ref<Matrix<T>> latent, Eigen::Ref<Matrix<T>> output,
                                                           Eigen::Ref<Matrix<T>> pre_activation) const {
  encode(input, latent);
  decode(latent, output, pre_activation);
  EvalSums sums;
  const double per_sample = model_.loss == LossKind::sum_squares ? 1.0 : double(input.rows());
  // For mse and sum_squares the loss sum is the squared error: one pass, not two.
  sums.squared_error = loss::elementwise_sum(LossKind::mse, output, pre_activation, input);
  const double loss_sum = model_.loss == LossKind::bce ? loss::elementwise_sum(model_.loss, output, pre_activation, input)
                                                       : sums.squared_error;
  sums.loss = loss_sum / per_sample;
  return sums;
}

template class Autoencoder<float>;
template class Autoencoder<double>;

}  // namespace aesweep
