#include "aesweep/config/option_registry.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "aesweep/core/error.hpp"

namespace aesweep {
namespace {

// The range `key` owns in the core's table (written once there).
const OptionRange& range_of(const std::string& key) {
  const OptionRange* range = find_range(key);
  if (!range) throw std::logic_error("option " + key + " has no range in option_ranges()");
  return *range;
}

bool parse_bool(std::string_view raw) {
  const std::string text = trim_whitespace(raw);
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  throw ConfigError("expected true or false, got " + shown_value(text));
}

std::string joined(const std::vector<std::string_view>& names) {
  std::string text;
  for (const auto& n : names) text += (text.empty() ? "" : ", ") + std::string(n);
  return text;
}

OptionSpec real(std::string key, std::string description, double& (*field)(TrainOptions&)) {
  const OptionRange& range = range_of(key);
  return {std::move(key), std::move(description), true,
          [field, &range](TrainOptions& o, std::string_view t) { field(o) = parse_in_range(t, range); },
          [field](const TrainOptions& o) { return format_number(field(const_cast<TrainOptions&>(o))); },
          range.text()};
}

OptionSpec integer(std::string key, std::string description, int& (*field)(TrainOptions&)) {
  const OptionRange& range = range_of(key);
  return {std::move(key), std::move(description), true,
          [field, &range](TrainOptions& o, std::string_view t) { field(o) = int(parse_in_range(t, range)); },
          [field](const TrainOptions& o) { return std::to_string(field(const_cast<TrainOptions&>(o))); },
          range.text()};
}

OptionSpec boolean(std::string key, std::string description, bool& (*field)(TrainOptions&)) {
  return {std::move(key), std::move(description), true,
          [field](TrainOptions& o, std::string_view t) { field(o) = parse_bool(t); },
          [field](const TrainOptions& o) { return std::string(field(const_cast<TrainOptions&>(o)) ? "true" : "false"); },
          "true or false (also yes/no, on/off, 1/0)"};
}

template <typename E>
OptionSpec choice(std::string key, std::string description, E& (*field)(TrainOptions&), E (*parse)(std::string_view),
                  const std::vector<std::string_view>& names) {
  return {std::move(key), std::move(description), false,
          [field, parse](TrainOptions& o, std::string_view t) {
            const std::string text = trim_whitespace(t);
            if (text.size() > 80) throw ConfigError("unknown value " + shown_value(text));
            field(o) = parse(text);
          },
          [field](const TrainOptions& o) { return std::string(to_string(field(const_cast<TrainOptions&>(o)))); },
          "one of " + joined(names)};
}

Activation parse_decoder_activation(std::string_view text) {
  const Activation a = parse_activation(text);
  if (a != Activation::sigmoid && a != Activation::identity)
    throw ConfigError("the decoder takes sigmoid or identity, got '" + std::string(text) + "'");
  return a;
}

std::vector<OptionSpec> build_registry() {
  std::vector<OptionSpec> r;
  r.push_back(integer("model.hidden", "hidden units (latent size); papers use 8 to 1568, 196 in paper 000",
                      [](TrainOptions& o) -> int& { return o.model.hidden; }));
  r.push_back(boolean("model.bias", "use biases b1 and b2 (paper 004 trains without)",
                      [](TrainOptions& o) -> bool& { return o.model.use_bias; }));
  r.push_back(choice<LossKind>("model.loss",
                               "reconstruction loss: mse (mean over pixels), sum_squares (sum over pixels, paper 004), "
                               "bce (binary cross-entropy, needs a sigmoid decoder)",
                               [](TrainOptions& o) -> LossKind& { return o.model.loss; }, parse_loss, loss_names()));
  r.push_back(choice<Activation>("encoder.activation", "encoder activation (negative: f(x) = -x)",
                                 [](TrainOptions& o) -> Activation& { return o.model.encoder_activation; },
                                 parse_activation, activation_names()));
  r.push_back(choice<Activation>("decoder.activation", "decoder activation",
                                 [](TrainOptions& o) -> Activation& { return o.model.decoder_activation; },
                                 parse_decoder_activation, {"sigmoid", "identity"}));
  r.push_back(real("reg.l1_activity", "L1 activity penalty lambda * sum|h| on the code, averaged over the batch",
                   [](TrainOptions& o) -> double& { return o.reg.l1_activity; }));
  r.push_back(real("reg.l2_activity", "L2 activity penalty lambda * sum h^2 on the code, averaged over the batch",
                   [](TrainOptions& o) -> double& { return o.reg.l2_activity; }));
  r.push_back(real("reg.l1_kernel", "L1 kernel penalty lambda * sum|W| on W1 (and W2 with reg.kernel_scope = both)",
                   [](TrainOptions& o) -> double& { return o.reg.l1_kernel; }));
  r.push_back(real("reg.l2_kernel", "L2 kernel penalty lambda * sum W^2 on W1 (and W2 with reg.kernel_scope = both)",
                   [](TrainOptions& o) -> double& { return o.reg.l2_kernel; }));
  r.push_back(choice<KernelScope>("reg.kernel_scope",
                                  "which weights the kernel penalties cover: encoder (W1) or both (W1 and W2, "
                                  "paper 000 scenarios 4 and 5)",
                                  [](TrainOptions& o) -> KernelScope& { return o.reg.kernel_scope; },
                                  parse_kernel_scope, kernel_scope_names()));
  r.push_back(real("reg.kl_beta", "weight beta of the KL-divergence sparsity penalty (0 = off)",
                   [](TrainOptions& o) -> double& { return o.reg.kl_beta; }));
  r.push_back(real("reg.kl_rho", "target mean activation rho of the KL sparsity penalty",
                   [](TrainOptions& o) -> double& { return o.reg.kl_rho; }));
  r.push_back(real("reg.contractive", "contractive penalty lambda * ||dh/dx||_F^2, averaged over the batch",
                   [](TrainOptions& o) -> double& { return o.reg.contractive; }));
  r.push_back(real("reg.dropout", "dropout rate on the code during training (inverted dropout)",
                   [](TrainOptions& o) -> double& { return o.reg.dropout; }));
  r.push_back(choice<NoiseKind>("noise.kind",
                                "input corruption for denoising",
                                [](TrainOptions& o) -> NoiseKind& { return o.noise.kind; }, parse_noise,
                                noise_names()));
  r.push_back(real("noise.level",
                   "corruption strength: gaussian sigma, masking/salt_pepper fraction (at most 1), uniform amplitude",
                   [](TrainOptions& o) -> double& { return o.noise.level; }));
  r.push_back(choice<OptimizerKind>("optimizer.name", "optimizer (Keras update rules)",
                                    [](TrainOptions& o) -> OptimizerKind& { return o.optimizer.kind; },
                                    parse_optimizer, optimizer_names()));
  r.push_back(real("optimizer.learning_rate", "step size",
                   [](TrainOptions& o) -> double& { return o.optimizer.learning_rate; }));
  r.push_back(real("optimizer.momentum", "momentum coefficient (momentum, nesterov)",
                   [](TrainOptions& o) -> double& { return o.optimizer.momentum; }));
  r.push_back(real("optimizer.beta1", "Adam first-moment decay",
                   [](TrainOptions& o) -> double& { return o.optimizer.beta1; }));
  r.push_back(real("optimizer.beta2", "Adam second-moment decay",
                   [](TrainOptions& o) -> double& { return o.optimizer.beta2; }));
  r.push_back(real("optimizer.rho", "RMSProp decay of the squared-gradient average",
                   [](TrainOptions& o) -> double& { return o.optimizer.rho; }));
  r.push_back(real("optimizer.epsilon", "denominator guard of Adam, RMSProp and AdaGrad",
                   [](TrainOptions& o) -> double& { return o.optimizer.epsilon; }));
  r.push_back(real("optimizer.adagrad_initial", "AdaGrad initial accumulator value",
                   [](TrainOptions& o) -> double& { return o.optimizer.adagrad_initial; }));
  r.push_back(integer("train.epochs", "passes over the training set",
                      [](TrainOptions& o) -> int& { return o.training.epochs; }));
  r.push_back(integer("train.batch_size", "samples per minibatch",
                      [](TrainOptions& o) -> int& { return o.training.batch_size; }));
  r.push_back(real("train.validation_split", "fraction of training samples held out for early stopping (at least one sample each side)",
                   [](TrainOptions& o) -> double& { return o.training.validation_split; }));
  r.push_back(integer("train.patience", "early stopping: epochs without validation improvement (0 = off)",
                      [](TrainOptions& o) -> int& { return o.training.patience; }));
  r.push_back({"train.seed", "seed of initialisation, shuffling, dropout and noise; the run's whole randomness", true,
               [](TrainOptions& o, std::string_view t) {
                 o.training.seed = std::uint64_t(parse_in_range(t, range_of("train.seed")));
               },
               [](const TrainOptions& o) { return std::to_string(o.training.seed); }, range_of("train.seed").text()});
  r.push_back(choice<Precision>("train.precision",
                                 "precision of the training products: fp32, or bf16 operands with fp32 accumulation "
                                 "(weights, optimizer state and losses stay fp32; needs a CPU with avx512_bf16)",
                                 [](TrainOptions& o) -> Precision& { return o.training.precision; }, parse_precision,
                                 precision_names()));
  return r;
}

}  // namespace

double parse_in_range(std::string_view text, const OptionRange& range) {
  double value = 0;
  try {
    value = parse_number(text);
  } catch (const ConfigError&) {
    throw ConfigError("expected " + range.text() + ", got " + shown_value(text));
  }
  if (!range.contains(value)) throw ConfigError("expected " + range.text() + ", got " + shown_value(text));
  // An integer beyond 2^53 can round onto one in range (2^53 + 1 reads as 2^53): read at long
  // double's 64-bit precision too, which holds every such integer the ranges allow exactly.
  if (range.integer && !reads_exactly_as(text, value))
    throw ConfigError("expected " + range.text() + ", got " + shown_value(text) +
                      ", which a float64 cannot hold exactly");
  return value;
}


std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> parts;
  if (text.empty()) return parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    parts.push_back(trim_whitespace(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) return parts;
    start = comma + 1;
  }
}

std::string format_number(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

double parse_number(std::string_view raw) {
  const std::string text = trim_whitespace(raw);
  double value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (!text.empty() && *begin == '+') ++begin;
  const auto result = std::from_chars(begin, end, value);
  if (text.empty() || result.ec != std::errc() || result.ptr != end || !std::isfinite(value))
    throw ConfigError("expected a finite number, got " + shown_value(text));
  return value;
}

const std::vector<OptionSpec>& option_registry() {
  static const std::vector<OptionSpec> registry = build_registry();
  return registry;
}

const OptionSpec* find_option(std::string_view key) {
  for (const auto& spec : option_registry())
    if (spec.key == key) return &spec;
  return nullptr;
}

void set_option(TrainOptions& options, std::string_view key, std::string_view text) {
  const OptionSpec* spec = find_option(key);
  if (!spec) throw ConfigError("unknown option " + shown_value(key) + " (aesweep train --help lists them)");
  try {
    spec->set(options, text);
  } catch (const ConfigError& e) {
    throw ConfigError(e.reason(), {std::string(key)});
  }
}

std::vector<Setting> describe(const TrainOptions& options) {
  std::vector<Setting> settings;
  for (const auto& spec : option_registry()) {
    Setting s{spec.key, spec.get(options), std::nullopt};
    if (spec.numeric) {
      if (s.value == "true" || s.value == "false") s.numeric = s.value == "true" ? 1.0 : 0.0;
      else s.numeric = parse_number(s.value);
    }
    settings.push_back(std::move(s));
  }
  return settings;
}

}  // namespace aesweep
