#include "aesweep/core/train_options.hpp"

#include <array>
#include <cmath>
#include <sstream>
#include <utility>

#include "aesweep/core/error.hpp"
#include "aesweep/core/run_result.hpp"

namespace aesweep {
namespace {

template <typename E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr NameTable<Activation, 5> activation_names{{{Activation::relu, "relu"},
                                                      {Activation::sigmoid, "sigmoid"},
                                                      {Activation::tanh, "tanh"},
                                                      {Activation::identity, "identity"},
                                                      {Activation::negative, "negative"}}};
constexpr NameTable<LossKind, 3> loss_names{
    {{LossKind::mse, "mse"}, {LossKind::sum_squares, "sum_squares"}, {LossKind::bce, "bce"}}};
constexpr NameTable<KernelScope, 2> scope_names{{{KernelScope::encoder, "encoder"}, {KernelScope::both, "both"}}};
constexpr NameTable<NoiseKind, 5> noise_names{{{NoiseKind::none, "none"},
                                               {NoiseKind::gaussian, "gaussian"},
                                               {NoiseKind::masking, "masking"},
                                               {NoiseKind::salt_pepper, "salt_pepper"},
                                               {NoiseKind::uniform, "uniform"}}};
constexpr NameTable<OptimizerKind, 6> optimizer_names{{{OptimizerKind::sgd, "sgd"},
                                                       {OptimizerKind::momentum, "momentum"},
                                                       {OptimizerKind::nesterov, "nesterov"},
                                                       {OptimizerKind::rmsprop, "rmsprop"},
                                                       {OptimizerKind::adam, "adam"},
                                                       {OptimizerKind::adagrad, "adagrad"}}};

template <typename E, std::size_t N>
std::string_view name_of(const NameTable<E, N>& table, E value) {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  return "?";
}

template <typename E, std::size_t N>
E parse_name(const NameTable<E, N>& table, std::string_view text, std::string_view what) {
  for (const auto& [v, name] : table)
    if (name == text) return v;
  std::ostringstream msg;
  msg << "unknown " << what << " '" << text << "'; expected one of:";
  for (const auto& entry : table) msg << ' ' << entry.second;
  throw ConfigError(msg.str());
}

void require(bool ok, const std::string& field, const std::string& expectation, double got) {
  if (ok) return;
  std::ostringstream msg;
  msg << field << " must be " << expectation << ", got " << got;
  throw ConfigError(msg.str());
}

}  // namespace

std::string_view to_string(Activation a) { return name_of(activation_names, a); }
std::string_view to_string(LossKind l) { return name_of(loss_names, l); }
std::string_view to_string(KernelScope s) { return name_of(scope_names, s); }
std::string_view to_string(NoiseKind n) { return name_of(noise_names, n); }
std::string_view to_string(OptimizerKind o) { return name_of(optimizer_names, o); }
Activation parse_activation(std::string_view text) { return parse_name(activation_names, text, "activation"); }
LossKind parse_loss(std::string_view text) { return parse_name(loss_names, text, "loss"); }
KernelScope parse_kernel_scope(std::string_view text) { return parse_name(scope_names, text, "kernel scope"); }
NoiseKind parse_noise(std::string_view text) { return parse_name(noise_names, text, "noise kind"); }
OptimizerKind parse_optimizer(std::string_view text) { return parse_name(optimizer_names, text, "optimizer"); }

std::string_view to_string(RunStatus s) {
  switch (s) {
    case RunStatus::complete: return "complete";
    case RunStatus::diverged: return "diverged";
    case RunStatus::failed: return "failed";
  }
  return "?";
}

void TrainOptions::validate() const {
  const auto finite_nonneg = [](double v) { return std::isfinite(v) && v >= 0.0; };
  require(model.input_size > 0, "model.input_size", "positive", model.input_size);
  require(model.hidden >= 1 && model.hidden <= 100000, "model.hidden", "in [1, 100000]", model.hidden);
  if (model.decoder_activation != Activation::sigmoid && model.decoder_activation != Activation::identity)
    throw ConfigError("decoder.activation must be sigmoid or identity, got " +
                      std::string(to_string(model.decoder_activation)));
  if (model.loss == LossKind::bce && model.decoder_activation != Activation::sigmoid)
    throw ConfigError("loss bce needs decoder.activation = sigmoid, got " +
                      std::string(to_string(model.decoder_activation)));
  require(finite_nonneg(reg.l1_activity), "reg.l1_activity", "finite and >= 0", reg.l1_activity);
  require(finite_nonneg(reg.l2_activity), "reg.l2_activity", "finite and >= 0", reg.l2_activity);
  require(finite_nonneg(reg.l1_kernel), "reg.l1_kernel", "finite and >= 0", reg.l1_kernel);
  require(finite_nonneg(reg.l2_kernel), "reg.l2_kernel", "finite and >= 0", reg.l2_kernel);
  require(finite_nonneg(reg.kl_beta), "reg.kl_beta", "finite and >= 0", reg.kl_beta);
  require(reg.kl_rho > 0.0 && reg.kl_rho < 1.0, "reg.kl_rho", "in (0, 1)", reg.kl_rho);
  require(finite_nonneg(reg.contractive), "reg.contractive", "finite and >= 0", reg.contractive);
  require(reg.dropout >= 0.0 && reg.dropout <= 0.9, "reg.dropout", "in [0, 0.9]", reg.dropout);
  require(finite_nonneg(noise.level), "noise.level", "finite and >= 0", noise.level);
  if (noise.kind == NoiseKind::masking || noise.kind == NoiseKind::salt_pepper)
    require(noise.level <= 1.0, "noise.level", "in [0, 1] for " + std::string(to_string(noise.kind)) + " noise",
            noise.level);
  require(std::isfinite(optimizer.learning_rate) && optimizer.learning_rate > 0.0, "optimizer.learning_rate",
          "finite and > 0", optimizer.learning_rate);
  require(optimizer.momentum >= 0.0 && optimizer.momentum < 1.0, "optimizer.momentum", "in [0, 1)", optimizer.momentum);
  require(optimizer.beta1 >= 0.0 && optimizer.beta1 < 1.0, "optimizer.beta1", "in [0, 1)", optimizer.beta1);
  require(optimizer.beta2 >= 0.0 && optimizer.beta2 < 1.0, "optimizer.beta2", "in [0, 1)", optimizer.beta2);
  require(optimizer.rho >= 0.0 && optimizer.rho < 1.0, "optimizer.rho", "in [0, 1)", optimizer.rho);
  require(optimizer.epsilon > 0.0 && std::isfinite(optimizer.epsilon), "optimizer.epsilon", "finite and > 0",
          optimizer.epsilon);
  require(finite_nonneg(optimizer.adagrad_initial), "optimizer.adagrad_initial", "finite and >= 0",
          optimizer.adagrad_initial);
  require(training.epochs >= 1 && training.epochs <= 100000, "train.epochs", "in [1, 100000]", training.epochs);
  require(training.batch_size >= 1 && training.batch_size <= 1000000, "train.batch_size", "in [1, 1000000]",
          training.batch_size);
  require(training.validation_split >= 0.0 && training.validation_split < 1.0, "train.validation_split", "in [0, 1)",
          training.validation_split);
  require(training.patience >= 0, "train.patience", ">= 0", training.patience);
  if (training.patience > 0 && training.validation_split == 0.0)
    throw ConfigError("train.patience (early stopping) needs train.validation_split > 0");
}

}  // namespace aesweep
