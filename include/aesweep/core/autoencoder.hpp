#pragma once
// The one-hidden-layer autoencoder of the papers:
//   h = act_e(W1 x + b1),  x' = act_d(W2 h + b2)
// with every penalty of the study. Samples are columns, so a minibatch is a (input x batch)
// matrix and every product is a whole-minibatch GEMM. All parameters live in one contiguous
// buffer so optimizers update them in a single fused loop.
#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "aesweep/core/gemm.hpp"
#include "aesweep/core/train_options.hpp"

namespace aesweep {

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <typename T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

// out += b on every column.
template <typename Out, typename B>
void add_bias(Out&& out, const B& b) {
  for (Eigen::Index j = 0; j < out.cols(); ++j) out.col(j) += b;
}

// out = w * in, plus b on every column when use_bias: the product first, then the bias, so that
// the backend's product writes `out` without reading it (as training computes it, where the
// bias is added in the activation's pass over the columns).
// Float products go through the matrix-product backend (gemm.hpp).
template <typename Out, typename W, typename In, typename B>
void affine(Out&& out, const W& w, const In& in, const B& b, bool use_bias) {
  gemm::product(out, w, false, in, false, false);
  if (use_bias) add_bias(out, b);
}

// W1 (hidden x input), b1 (hidden), W2 (input x hidden), b2 (input) as views into one buffer.
template <typename T>
class ParameterSet {
 public:
  ParameterSet() = default;
  ParameterSet(int input, int hidden) { resize(input, hidden); }
  void resize(int input, int hidden) {
    input_ = input;
    hidden_ = hidden;
    data_.setZero(Eigen::Index(2) * input * hidden + hidden + input);
  }
  int input() const { return input_; }
  int hidden() const { return hidden_; }
  Vector<T>& flat() { return data_; }
  const Vector<T>& flat() const { return data_; }

  Eigen::Map<Matrix<T>> w1() { return {data_.data(), hidden_, input_}; }
  Eigen::Map<const Matrix<T>> w1() const { return {data_.data(), hidden_, input_}; }
  Eigen::Map<Vector<T>> b1() { return {data_.data() + w1_size(), hidden_}; }
  Eigen::Map<const Vector<T>> b1() const { return {data_.data() + w1_size(), hidden_}; }
  Eigen::Map<Matrix<T>> w2() { return {data_.data() + w1_size() + hidden_, input_, hidden_}; }
  Eigen::Map<const Matrix<T>> w2() const { return {data_.data() + w1_size() + hidden_, input_, hidden_}; }
  Eigen::Map<Vector<T>> b2() { return {data_.data() + 2 * w1_size() + hidden_, input_}; }
  Eigen::Map<const Vector<T>> b2() const { return {data_.data() + 2 * w1_size() + hidden_, input_}; }

 private:
  Eigen::Index w1_size() const { return Eigen::Index(input_) * hidden_; }
  int input_ = 0;
  int hidden_ = 0;
  Vector<T> data_;
};

// The parts of one minibatch objective.
struct BatchObjective {
  double loss = 0;     // reconstruction loss, no penalty
  double penalty = 0;  // sum of all penalties
  double total() const { return loss + penalty; }
};

template <typename T>
class Autoencoder {
 public:
  // requires: options.validate() passed.
  Autoencoder(const ModelOptions& model, const RegularizerOptions& reg);

  // Glorot-uniform weights from `seed`, zero biases (Keras defaults).
  void initialize(std::uint64_t seed);

  // Preallocates every buffer for minibatches of up to `max_batch` columns; after this,
  // forward_backward and encode do not allocate.
  void reserve(Eigen::Index max_batch);

  // One training step's objective and gradient. `input` is the (possibly corrupted) batch,
  // `target` the clean batch (same shape). `dropout_mask` is null or a (hidden x batch) matrix
  // of 0 and 1/(1-rate) values. ensures: gradient has the shape of params().
  BatchObjective forward_backward(const Eigen::Ref<const Matrix<T>>& input, const Eigen::Ref<const Matrix<T>>& target,
                                  const Matrix<T>* dropout_mask, ParameterSet<T>& gradient);

  // The same step in three parts, for a trainer that computes the encoder's two products
  // (W1 x and the W1 gradient d/dz1 x^T) for several models of one shape at once:
  //   1. the caller writes the product W1 x into codes_workspace(batch);
  //   2. backward_from_codes: adds b1, then does everything except the W1-gradient product,
  //      which leaves d/dz1 in dz1_workspace(batch) (valid until the next step);
  //   3. the caller sets gradient.w1() = d/dz1 x^T, then finish_gradient adds W1's and W2's
  //      penalty terms. forward_backward is exactly these three parts.
  using Columns = Eigen::Block<Matrix<T>, Eigen::Dynamic, Eigen::Dynamic, true>;
  Columns codes_workspace(Eigen::Index batch);
  Columns dz1_workspace(Eigen::Index batch);
  BatchObjective backward_from_codes(const Eigen::Ref<const Matrix<T>>& target, const Matrix<T>* dropout_mask,
                                     ParameterSet<T>& gradient);
  void finish_gradient(Eigen::Index batch, ParameterSet<T>& gradient, BatchObjective& objective);

  // Evaluation mode (no dropout, no penalty): latent codes and reconstructions.
  void encode(const Eigen::Ref<const Matrix<T>>& input, Eigen::Ref<Matrix<T>> latent) const;
  void decode(const Eigen::Ref<const Matrix<T>>& latent, Eigen::Ref<Matrix<T>> output,
              Eigen::Ref<Matrix<T>> pre_activation) const;

  // Sum over the batch of the configured loss and of squared error, in evaluation mode;
  // divide by the caller's sample or element count. `latent` receives h (hidden x batch).
  struct EvalSums {
    double loss = 0;          // sum of per-sample loss (mse: mean over pixels per sample)
    double squared_error = 0; // sum over every element of (x' - x)^2
  };
  EvalSums evaluate(const Eigen::Ref<const Matrix<T>>& input, Eigen::Ref<Matrix<T>> latent,
                    Eigen::Ref<Matrix<T>> output, Eigen::Ref<Matrix<T>> pre_activation) const;

  // The training step's products in bf16 (operands rounded to bf16, fp32 accumulation; weights,
  // gradients, losses and penalties stay fp32). Evaluation stays fp32. Only for T = float, on a CPU
  // where gemm::bf16_supported(); throws std::logic_error otherwise.
  void set_precision(Precision precision);

  ParameterSet<T>& params() { return params_; }
  const ParameterSet<T>& params() const { return params_; }
  const ModelOptions& model_options() const { return model_; }

 private:
  ModelOptions model_;
  RegularizerOptions reg_;
  ParameterSet<T> params_;
  // Workspace, (rows x max_batch); batches use their left columns.
  Matrix<T> z1_, h_, dropped_, z2_, y_, dz2_, dh_, first_, second_, row_scratch_;
  // bf16 training: the step's operands rounded to bf16, packed (leading dimension = rows).
  bool bf16_ = false;
  std::vector<gemm::bf16> x16_, w1_16_, w2_16_, h16_, dz2_16_, dz1_16_;
  // c (+)= op(a) op(b) through the backend, or in bf16 from a16 and b16 (each first rounded from
  // a or b when its convert flag is set, else reused from an earlier product of the step).
  template <typename C, typename A, typename B>
  void multiply(C&& c, const A& a, bool trans_a, std::vector<gemm::bf16>& a16, bool convert_a, const B& b,
                bool trans_b, std::vector<gemm::bf16>& b16, bool convert_b, bool accumulate);
};

extern template class Autoencoder<float>;
extern template class Autoencoder<double>;

}  // namespace aesweep
