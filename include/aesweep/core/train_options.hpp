#pragma once
// Everything that defines one training run. The option registry (config module) maps
// "section.key" strings onto these fields; core code only sees the typed struct.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aesweep {

enum class Activation { relu, sigmoid, tanh, identity, negative };
enum class LossKind { mse, sum_squares, bce };
enum class KernelScope { encoder, both };
enum class NoiseKind { none, gaussian, masking, salt_pepper, uniform };
enum class OptimizerKind { sgd, momentum, nesterov, rmsprop, adam, adagrad };
// Precision of the training products: fp32, or bf16 operands with fp32 accumulation (weights,
// optimizer state, losses and penalties stay fp32); bf16 needs a CPU with avx512_bf16.
enum class Precision { fp32, bf16 };

std::string_view to_string(Activation a);
std::string_view to_string(LossKind l);
std::string_view to_string(KernelScope s);
std::string_view to_string(NoiseKind n);
std::string_view to_string(OptimizerKind o);
std::string_view to_string(Precision p);

// Parsers throw ConfigError naming the accepted values.
Activation parse_activation(std::string_view text);
LossKind parse_loss(std::string_view text);
KernelScope parse_kernel_scope(std::string_view text);
NoiseKind parse_noise(std::string_view text);
OptimizerKind parse_optimizer(std::string_view text);
Precision parse_precision(std::string_view text);

struct ModelOptions {
  int input_size = 784;  // set from the data, not by the user
  int hidden = 196;
  Activation encoder_activation = Activation::relu;
  Activation decoder_activation = Activation::sigmoid;  // sigmoid or identity
  bool use_bias = true;
  LossKind loss = LossKind::mse;
};

// Keras semantics: activity penalties are averaged over the batch, kernel penalties are not.
struct RegularizerOptions {
  double l1_activity = 0.0;
  double l2_activity = 0.0;
  double l1_kernel = 0.0;
  double l2_kernel = 0.0;
  KernelScope kernel_scope = KernelScope::encoder;  // both: same penalty on W2 (paper 000 scenarios 4, 5)
  double kl_beta = 0.0;    // weight of the KL sparsity penalty; 0 disables it
  double kl_rho = 0.05;    // target mean activation
  double contractive = 0.0;  // lambda of ||dh/dx||_F^2
  double dropout = 0.0;      // rate on h, inverted dropout, [0, 0.9]
};

struct NoiseOptions {
  NoiseKind kind = NoiseKind::none;
  double level = 0.0;  // gaussian: sigma; masking: fraction zeroed; salt_pepper: fraction; uniform: amplitude
};

struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::adam;
  double learning_rate = 1e-3;
  double momentum = 0.9;   // momentum, nesterov
  double beta1 = 0.9;      // adam
  double beta2 = 0.999;    // adam
  double rho = 0.9;        // rmsprop
  double epsilon = 1e-7;   // adam, rmsprop, adagrad (Keras default)
  double adagrad_initial = 0.1;  // adagrad initial accumulator (Keras default)
};

struct TrainingOptions {
  int epochs = 10;
  int batch_size = 256;
  double validation_split = 0.0;  // fraction of training samples held out for early stopping
  int patience = 0;               // epochs without validation improvement before stopping; 0 = off
  std::uint64_t seed = 1;
  Precision precision = Precision::fp32;
};

struct TrainOptions {
  ModelOptions model;
  RegularizerOptions reg;
  NoiseOptions noise;
  OptimizerOptions optimizer;
  TrainingOptions training;

  // Throws ConfigError naming the first invalid field and its valid range.
  void validate() const;

  // The checks that need the training set's size: a validation split must hold out at least one
  // sample and leave at least one for training. Throws ConfigError naming train.validation_split,
  // the sample count and the resulting validation and training counts.
  void validate_for_data(std::size_t n_train) const;
};

// Samples held out for validation from n_train training samples (the trainer's own formula).
std::size_t validation_count(double validation_split, std::size_t n_train);

// The valid range of one numeric or boolean option, written once: validate() checks it, the
// option registry parses against it and --help prints it.
struct OptionRange {
  std::string_view key;  // "reg.dropout"
  double lo = 0, hi = 0;  // hi may be +infinity
  bool lo_open = false, hi_open = false;
  bool integer = false;
  double (*get)(const TrainOptions&) = nullptr;

  bool contains(double value) const;
  // "an integer in [1, 100000]", "a number in [0, 0.9]", "a finite number >= 0"
  std::string text() const;
};

// Every numeric option's range, registry order.
const std::vector<OptionRange>& option_ranges();
// The range of `key`, or nullptr for options without one (choices, booleans).
const OptionRange* find_range(std::string_view key);

// The names a choice option accepts, in order ("relu", "sigmoid", ...).
std::vector<std::string_view> activation_names();
std::vector<std::string_view> loss_names();
std::vector<std::string_view> kernel_scope_names();
std::vector<std::string_view> noise_names();
std::vector<std::string_view> optimizer_names();
std::vector<std::string_view> precision_names();

}  // namespace aesweep
