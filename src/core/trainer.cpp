#include "aesweep/core/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "aesweep/core/autoencoder.hpp"
#include "aesweep/core/corruption.hpp"
#include "aesweep/core/optimizer.hpp"
#include "aesweep/core/random.hpp"

namespace aesweep {
namespace {

// Seed streams: each source of randomness has its own, so enabling one option does not shift
// the random numbers of another.
enum SeedStream : std::uint64_t { init_stream = 1, split_stream = 2, shuffle_stream = 3, dropout_stream = 4,
                                  noise_stream = 5 };

constexpr Eigen::Index eval_chunk = 1024;

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Evaluation-mode pass over `images` in chunks; optionally keeps the codes.
struct EvalPass {
  double loss = 0;  // mean per-sample configured loss
  double mse = 0;   // mean per-element squared error
};

class Evaluator {
 public:
  Evaluator(const Autoencoder<float>& model, Eigen::Index input, Eigen::Index hidden)
      : model_(model), latent_(hidden, eval_chunk), output_(input, eval_chunk), pre_(input, eval_chunk) {}

  EvalPass run(const Eigen::MatrixXf& images, Eigen::MatrixXf* keep_latent = nullptr) {
    double loss = 0, squared = 0;
    const Eigen::Index n = images.cols();
    for (Eigen::Index start = 0; start < n; start += eval_chunk) {
      const Eigen::Index count = std::min(eval_chunk, n - start);
      auto sums = model_.evaluate(images.middleCols(start, count), latent_.leftCols(count), output_.leftCols(count),
                                  pre_.leftCols(count));
      loss += sums.loss;
      squared += sums.squared_error;
      if (keep_latent) keep_latent->middleCols(start, count) = latent_.leftCols(count);
    }
    const double samples = std::max<double>(1.0, double(n));
    return {loss / samples, squared / (samples * double(images.rows()))};
  }

 private:
  const Autoencoder<float>& model_;
  Eigen::MatrixXf latent_, output_, pre_;
};

Eigen::MatrixXf gather_columns(const Eigen::MatrixXf& source, const std::vector<Eigen::Index>& columns) {
  Eigen::MatrixXf out(source.rows(), Eigen::Index(columns.size()));
  for (std::size_t i = 0; i < columns.size(); ++i) out.col(Eigen::Index(i)) = source.col(columns[i]);
  return out;
}

void shuffle(std::vector<Eigen::Index>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

double fraction_near_zero(const Eigen::Ref<const Eigen::MatrixXf>& w) {
  if (w.size() == 0) return 0.0;
  return double((w.array().abs() < 1e-3f).count()) / double(w.size());
}

}  // namespace

RunResult train_autoencoder(const TrainOptions& options, const Dataset& data, const TrainCallbacks& callbacks) {
  const auto run_start = Clock::now();
  const int input = data.input_size();
  const int hidden = options.model.hidden;
  ModelOptions model_options = options.model;
  model_options.input_size = input;
  const std::uint64_t seed = options.training.seed;

  Autoencoder<float> model(model_options, options.reg);
  model.initialize(derive_seed(seed, init_stream));

  // Validation split: a seeded random subset of the training set, held out.
  std::vector<Eigen::Index> order(std::size_t(data.train_images.cols()));
  std::iota(order.begin(), order.end(), Eigen::Index(0));
  Rng split_rng(derive_seed(seed, split_stream));
  const auto n_validation = std::size_t(std::floor(options.training.validation_split * double(order.size())));
  if (n_validation > 0) shuffle(order, split_rng);
  const std::vector<Eigen::Index> validation_columns(order.begin(), order.begin() + std::ptrdiff_t(n_validation));
  std::vector<Eigen::Index> train_columns(order.begin() + std::ptrdiff_t(n_validation), order.end());
  std::sort(train_columns.begin(), train_columns.end());
  const Eigen::MatrixXf validation_images = gather_columns(data.train_images, validation_columns);

  const Eigen::Index batch_size = std::min<Eigen::Index>(options.training.batch_size,
                                                         std::max<Eigen::Index>(1, Eigen::Index(train_columns.size())));
  model.reserve(batch_size);
  ParameterSet<float> gradient(input, hidden);
  Optimizer<float> optimizer(options.optimizer, model.params().flat().size());
  Eigen::MatrixXf clean_batch(input, batch_size);
  const bool noisy = options.noise.kind != NoiseKind::none && options.noise.level > 0.0;
  Eigen::MatrixXf noisy_batch(noisy ? input : 0, noisy ? batch_size : 0);
  const bool dropping = options.reg.dropout > 0.0;
  Eigen::MatrixXf dropout_mask(dropping ? hidden : 0, dropping ? batch_size : 0);
  const float keep_scale = dropping ? float(1.0 / (1.0 - options.reg.dropout)) : 1.0f;
  const float dropout_rate = float(options.reg.dropout);

  Rng shuffle_rng(derive_seed(seed, shuffle_stream));
  Rng dropout_rng(derive_seed(seed, dropout_stream));
  Rng noise_rng(derive_seed(seed, noise_stream));
  Evaluator evaluator(model, input, hidden);

  RunResult result;
  double best_validation = std::numeric_limits<double>::infinity();
  int epochs_without_improvement = 0;
  std::size_t samples_trained = 0;
  const auto n_train = Eigen::Index(train_columns.size());

  for (int epoch = 1; epoch <= options.training.epochs && result.status == RunStatus::complete; ++epoch) {
    const auto epoch_start = Clock::now();
    shuffle(train_columns, shuffle_rng);
    double loss_sum = 0, objective_sum = 0;
    long batches = 0;
    for (Eigen::Index start = 0; start < n_train; start += batch_size) {
      const Eigen::Index count = std::min(batch_size, n_train - start);
      for (Eigen::Index i = 0; i < count; ++i)
        clean_batch.col(i) = data.train_images.col(train_columns[std::size_t(start + i)]);
      auto clean = clean_batch.leftCols(count);
      if (noisy) corrupt(options.noise, clean, noisy_batch.leftCols(count), noise_rng);
      if (dropping) {
        for (Eigen::Index i = 0; i < hidden * count; ++i)
          dropout_mask.data()[i] = dropout_rng.uniform_float() < dropout_rate ? 0.0f : keep_scale;
      }
      const auto objective = noisy ? model.forward_backward(noisy_batch.leftCols(count), clean,
                                                            dropping ? &dropout_mask : nullptr, gradient)
                                   : model.forward_backward(clean, clean, dropping ? &dropout_mask : nullptr, gradient);
      if (!std::isfinite(objective.total())) {
        std::ostringstream msg;
        msg << "objective became " << objective.total() << " at epoch " << epoch << ", batch " << batches + 1;
        result.status = RunStatus::diverged;
        result.error = msg.str();
        break;
      }
      optimizer.step(model.params().flat(), gradient.flat());
      loss_sum += objective.loss * double(count);
      objective_sum += objective.total() * double(count);
      samples_trained += std::size_t(count);
      ++batches;
      if (callbacks.on_batch) callbacks.on_batch();
    }
    if (result.status != RunStatus::complete) break;

    EpochRecord record;
    record.train_loss = loss_sum / double(std::max<Eigen::Index>(1, n_train));
    record.train_objective = objective_sum / double(std::max<Eigen::Index>(1, n_train));
    record.test_loss = evaluator.run(data.test_images).loss;
    record.validation_loss = n_validation > 0 ? evaluator.run(validation_images).loss
                                              : std::numeric_limits<double>::quiet_NaN();
    record.seconds = seconds_since(epoch_start);
    result.epochs.push_back(record);
    result.epochs_run = epoch;
    if (callbacks.on_epoch) callbacks.on_epoch(epoch, options.training.epochs, record);
    if (!std::isfinite(record.test_loss)) {
      result.status = RunStatus::diverged;
      result.error = "test loss became non-finite after epoch " + std::to_string(epoch);
      break;
    }
    if (options.training.patience > 0) {
      if (record.validation_loss < best_validation) {
        best_validation = record.validation_loss;
        epochs_without_improvement = 0;
      } else if (++epochs_without_improvement >= options.training.patience) {
        break;  // early stopping
      }
    }
  }
  const double training_seconds = seconds_since(run_start);

  // Final metrics in evaluation mode.
  result.test_latent.resize(hidden, data.test_images.cols());
  const EvalPass test_pass = evaluator.run(data.test_images, &result.test_latent);
  const EvalPass train_pass = evaluator.run(data.train_images);
  FinalMetrics& m = result.metrics;
  m.train_mse = train_pass.mse;
  m.test_mse = test_pass.mse;
  m.train_loss = train_pass.loss;
  m.test_loss = test_pass.loss;
  const auto& latent = result.test_latent;
  if (latent.size() > 0) {
    m.latent_density = double((latent.array() != 0.0f).count()) / double(latent.size());
    m.dead_units = int((latent.array() == 0.0f).rowwise().all().count());
    m.mean_activation = latent.cast<double>().mean();
  }
  const auto& params = model.params();
  m.w1_near_zero = fraction_near_zero(params.w1());
  m.w2_near_zero = fraction_near_zero(params.w2());
  result.w1 = params.w1();
  result.b1 = params.b1();
  result.w2 = params.w2();
  result.b2 = params.b2();
  result.wall_seconds = seconds_since(run_start);
  result.samples_per_second = training_seconds > 0 ? double(samples_trained) / training_seconds : 0.0;
  return result;
}

Eigen::MatrixXf reconstruct(const ModelOptions& model, const RunResult& result, const Eigen::MatrixXf& images) {
  ModelOptions options = model;
  options.input_size = int(images.rows());
  options.hidden = int(result.w1.rows());
  Autoencoder<float> autoencoder(options, RegularizerOptions{});
  autoencoder.params().w1() = result.w1;
  autoencoder.params().b1() = result.b1;
  autoencoder.params().w2() = result.w2;
  autoencoder.params().b2() = result.b2;
  Eigen::MatrixXf latent(options.hidden, images.cols()), output(images.rows(), images.cols()),
      pre(images.rows(), images.cols());
  autoencoder.encode(images, latent);
  autoencoder.decode(latent, output, pre);
  return output;
}

}  // namespace aesweep
