#include "aesweep/core/train_options.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <utility>

#include "aesweep/core/error.hpp"
#include "aesweep/core/run_result.hpp"

namespace aesweep {
namespace {

template <typename E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr NameTable<Activation, 5> kActivationTable{{{Activation::relu, "relu"},
                                                      {Activation::sigmoid, "sigmoid"},
                                                      {Activation::tanh, "tanh"},
                                                      {Activation::identity, "identity"},
                                                      {Activation::negative, "negative"}}};
constexpr NameTable<LossKind, 3> kLossTable{
    {{LossKind::mse, "mse"}, {LossKind::sum_squares, "sum_squares"}, {LossKind::bce, "bce"}}};
constexpr NameTable<KernelScope, 2> kScopeTable{{{KernelScope::encoder, "encoder"}, {KernelScope::both, "both"}}};
constexpr NameTable<NoiseKind, 5> kNoiseTable{{{NoiseKind::none, "none"},
                                               {NoiseKind::gaussian, "gaussian"},
                                               {NoiseKind::masking, "masking"},
                                               {NoiseKind::salt_pepper, "salt_pepper"},
                                               {NoiseKind::uniform, "uniform"}}};
constexpr NameTable<OptimizerKind, 6> kOptimizerTable{{{OptimizerKind::sgd, "sgd"},
                                                       {OptimizerKind::momentum, "momentum"},
                                                       {OptimizerKind::nesterov, "nesterov"},
                                                       {OptimizerKind::rmsprop, "rmsprop"},
                                                       {OptimizerKind::adam, "adam"},
                                                       {OptimizerKind::adagrad, "adagrad"}}};
constexpr NameTable<Precision, 2> kPrecisionTable{{{Precision::fp32, "fp32"}, {Precision::bf16, "bf16"}}};

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

template <typename E, std::size_t N>
std::vector<std::string_view> names_in(const NameTable<E, N>& table) {
  std::vector<std::string_view> names;
  for (const auto& entry : table) names.push_back(entry.second);
  return names;
}

std::string number_text(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<OptionRange> build_ranges() {
  using O = const TrainOptions&;
  const auto real = [](std::string_view key, double lo, double hi, bool lo_open, bool hi_open, double (*get)(O)) {
    return OptionRange{key, lo, hi, lo_open, hi_open, false, get};
  };
  const auto integer = [](std::string_view key, double lo, double hi, double (*get)(O)) {
    return OptionRange{key, lo, hi, false, false, true, get};
  };
  return {
      integer("model.hidden", 1, 100000, [](O o) { return double(o.model.hidden); }),
      real("reg.l1_activity", 0, kInf, false, true, [](O o) { return o.reg.l1_activity; }),
      real("reg.l2_activity", 0, kInf, false, true, [](O o) { return o.reg.l2_activity; }),
      real("reg.l1_kernel", 0, kInf, false, true, [](O o) { return o.reg.l1_kernel; }),
      real("reg.l2_kernel", 0, kInf, false, true, [](O o) { return o.reg.l2_kernel; }),
      real("reg.kl_beta", 0, kInf, false, true, [](O o) { return o.reg.kl_beta; }),
      real("reg.kl_rho", 0, 1, true, true, [](O o) { return o.reg.kl_rho; }),
      real("reg.contractive", 0, kInf, false, true, [](O o) { return o.reg.contractive; }),
      real("reg.dropout", 0, 0.9, false, false, [](O o) { return o.reg.dropout; }),
      real("noise.level", 0, kInf, false, true, [](O o) { return o.noise.level; }),
      real("optimizer.learning_rate", 0, kInf, true, true, [](O o) { return o.optimizer.learning_rate; }),
      real("optimizer.momentum", 0, 1, false, true, [](O o) { return o.optimizer.momentum; }),
      real("optimizer.beta1", 0, 1, false, true, [](O o) { return o.optimizer.beta1; }),
      real("optimizer.beta2", 0, 1, false, true, [](O o) { return o.optimizer.beta2; }),
      real("optimizer.rho", 0, 1, false, true, [](O o) { return o.optimizer.rho; }),
      real("optimizer.epsilon", 0, kInf, true, true, [](O o) { return o.optimizer.epsilon; }),
      real("optimizer.adagrad_initial", 0, kInf, false, true, [](O o) { return o.optimizer.adagrad_initial; }),
      integer("train.epochs", 1, 100000, [](O o) { return double(o.training.epochs); }),
      integer("train.batch_size", 1, 1000000, [](O o) { return double(o.training.batch_size); }),
      real("train.validation_split", 0, 1, false, true, [](O o) { return o.training.validation_split; }),
      integer("train.patience", 0, 100000, [](O o) { return double(o.training.patience); }),
      integer("train.seed", 0, 9007199254740992.0, [](O o) { return double(o.training.seed); }),
  };
}

void require(bool ok, const std::string& field, const std::string& expectation, double got) {
  if (ok) return;
  std::ostringstream msg;
  msg << field << " must be " << expectation << ", got " << got;
  throw ConfigError(msg.str(), {field});
}

}  // namespace

std::string_view to_string(Activation a) { return name_of(kActivationTable, a); }
std::string_view to_string(LossKind l) { return name_of(kLossTable, l); }
std::string_view to_string(KernelScope s) { return name_of(kScopeTable, s); }
std::string_view to_string(NoiseKind n) { return name_of(kNoiseTable, n); }
std::string_view to_string(OptimizerKind o) { return name_of(kOptimizerTable, o); }
std::string_view to_string(Precision p) { return name_of(kPrecisionTable, p); }
Activation parse_activation(std::string_view text) { return parse_name(kActivationTable, text, "activation"); }
LossKind parse_loss(std::string_view text) { return parse_name(kLossTable, text, "loss"); }
KernelScope parse_kernel_scope(std::string_view text) { return parse_name(kScopeTable, text, "kernel scope"); }
NoiseKind parse_noise(std::string_view text) { return parse_name(kNoiseTable, text, "noise kind"); }
OptimizerKind parse_optimizer(std::string_view text) { return parse_name(kOptimizerTable, text, "optimizer"); }
Precision parse_precision(std::string_view text) { return parse_name(kPrecisionTable, text, "precision"); }

std::vector<std::string_view> activation_names() { return names_in(kActivationTable); }
std::vector<std::string_view> loss_names() { return names_in(kLossTable); }
std::vector<std::string_view> kernel_scope_names() { return names_in(kScopeTable); }
std::vector<std::string_view> noise_names() { return names_in(kNoiseTable); }
std::vector<std::string_view> optimizer_names() { return names_in(kOptimizerTable); }
std::vector<std::string_view> precision_names() { return names_in(kPrecisionTable); }

bool OptionRange::contains(double v) const {
  if (!std::isfinite(v)) return false;
  if (lo_open ? !(v > lo) : !(v >= lo)) return false;
  if (hi_open ? !(v < hi) : !(v <= hi)) return false;
  return !integer || v == std::floor(v);
}

std::string OptionRange::text() const {
  const auto bound = [&](double v) { return integer ? std::to_string((long long)v) : number_text(v); };
  const std::string kind = integer ? "an integer" : "a number";
  if (std::isinf(hi)) return (integer ? kind : "a finite number") + (lo_open ? " > " : " >= ") + bound(lo);
  return kind + " in " + (lo_open ? "(" : "[") + bound(lo) + ", " + bound(hi) + (hi_open ? ")" : "]");
}

const std::vector<OptionRange>& option_ranges() {
  static const std::vector<OptionRange> ranges = build_ranges();
  return ranges;
}

const OptionRange* find_range(std::string_view key) {
  for (const auto& r : option_ranges())
    if (r.key == key) return &r;
  return nullptr;
}

std::size_t validation_count(double validation_split, std::size_t n_train) {
  return std::size_t(std::floor(validation_split * double(n_train)));
}

std::string_view to_string(RunStatus s) {
  switch (s) {
    case RunStatus::pending: return "pending";
    case RunStatus::complete: return "complete";
    case RunStatus::diverged: return "diverged";
    case RunStatus::failed: return "failed";
    case RunStatus::stopped: return "stopped";
  }
  return "?";
}

void TrainOptions::validate() const {
  require(model.input_size > 0, "model.input_size", "positive", model.input_size);
  if (model.decoder_activation != Activation::sigmoid && model.decoder_activation != Activation::identity)
    throw ConfigError("decoder.activation must be sigmoid or identity, got " +
                          std::string(to_string(model.decoder_activation)),
                      {"decoder.activation"});
  for (const auto& range : option_ranges()) {
    const double value = range.get(*this);
    if (!range.contains(value))
      throw ConfigError(std::string(range.key) + " must be " + range.text() + ", got " + number_text(value),
                        {std::string(range.key)});
  }
  // Rules that relate several options carry every key involved, in the order the message names them.
  if (model.loss == LossKind::bce && model.decoder_activation != Activation::sigmoid)
    throw ConfigError("model.loss = bce needs decoder.activation = sigmoid, got decoder.activation = " +
                          std::string(to_string(model.decoder_activation)),
                      {"model.loss", "decoder.activation"});
  if ((noise.kind == NoiseKind::masking || noise.kind == NoiseKind::salt_pepper) && noise.level > 1.0)
    throw ConfigError("noise.level must be in [0, 1] with noise.kind = " + std::string(to_string(noise.kind)) +
                          " (a fraction of the pixels), got " + number_text(noise.level),
                      {"noise.level", "noise.kind"});
  if (training.patience > 0 && training.validation_split == 0.0)
    throw ConfigError("train.patience = " + std::to_string(training.patience) +
                          " (early stopping) needs train.validation_split > 0, got train.validation_split = 0",
                      {"train.patience", "train.validation_split"});
}

void TrainOptions::validate_for_data(std::size_t n_train) const {
  const double split = training.validation_split;
  if (split == 0.0) return;
  const std::size_t held_out = validation_count(split, n_train);
  const std::size_t left = n_train - std::min(held_out, n_train);
  if (held_out >= 1 && left >= 1) return;
  std::ostringstream msg;
  msg << "train.validation_split = " << number_text(split) << " of " << n_train << " training sample"
      << (n_train == 1 ? "" : "s") << " holds out " << held_out << " for validation and leaves " << left
      << " for training; ";
  if (held_out == 0)
    msg << "a validation split needs at least one validation sample: use more training samples (--train-samples, "
           "data.train_samples) or a larger train.validation_split, or set train.validation_split = 0"
        << (training.patience > 0 ? " and train.patience = 0" : "");
  else
    msg << "training needs at least one sample: use a smaller train.validation_split";
  throw ConfigError(msg.str(), {"train.validation_split"});
}

}  // namespace aesweep
