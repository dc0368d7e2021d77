#include "aesweep/core/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <sstream>
#include <unordered_map>

#include "aesweep/core/autoencoder.hpp"
#include "aesweep/core/bytes.hpp"
#include "aesweep/core/corruption.hpp"
#include "aesweep/core/error.hpp"
#include "aesweep/core/gemm.hpp"
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

// One model of a training group and everything that is its own.
struct Member {
  Member(const TrainOptions& o, int input, Eigen::Index batch_size)
      : options(o),
        model(with_input(o.model, input), o.reg),
        gradient(input, o.model.hidden),
        optimizer(o.optimizer, model.params().flat().size()),
        dropout_rng(derive_seed(o.training.seed, dropout_stream)),
        dropout_mask(o.reg.dropout > 0.0 ? o.model.hidden : 0, o.reg.dropout > 0.0 ? batch_size : 0),
        evaluator(model, input, o.model.hidden) {
    model.initialize(derive_seed(o.training.seed, init_stream));
    model.set_precision(o.training.precision);
    model.reserve(batch_size);
  }
  static ModelOptions with_input(ModelOptions m, int input) {
    m.input_size = input;
    return m;
  }
  bool dropping() const { return options.reg.dropout > 0.0; }
  void draw_dropout_mask(Eigen::Index count) {
    const float rate = float(options.reg.dropout);
    const float keep_scale = float(1.0 / (1.0 - options.reg.dropout));
    for (Eigen::Index i = 0; i < options.model.hidden * count; ++i)
      dropout_mask.data()[i] = dropout_rng.uniform_float() < rate ? 0.0f : keep_scale;
  }
  const Eigen::MatrixXf* mask() const { return dropping() ? &dropout_mask : nullptr; }
  // After a step: stops the run if the objective is not finite, else updates and counts.
  void take_step(const BatchObjective& objective, Eigen::Index count, int epoch, long batch) {
    if (!std::isfinite(objective.total())) {
      std::ostringstream msg;
      msg << "objective became " << objective.total() << " at epoch " << epoch << ", batch " << batch;
      result.status = RunStatus::diverged;
      result.error = msg.str();
      active = false;
      return;
    }
    optimizer.step(model.params().flat(), gradient.flat());
    loss_sum += objective.loss * double(count);
    objective_sum += objective.total() * double(count);
    samples_trained += std::size_t(count);
  }

  // After an epoch: keeps its record, then stops the run if the test loss is not finite or the
  // patience rule fires.
  void end_epoch(int epoch, const EpochRecord& record, const TrainCallbacks& callbacks) {
    result.epochs.push_back(record);
    result.epochs_run = epoch;
    if (callbacks.on_epoch) callbacks.on_epoch(epoch, options.training.epochs, record);
    if (!std::isfinite(record.test_loss)) {
      result.status = RunStatus::diverged;
      result.error = "test loss became non-finite after epoch " + std::to_string(epoch);
      active = false;
    } else if (options.training.patience > 0) {
      if (record.validation_loss < best_validation) {
        best_validation = record.validation_loss;
        epochs_without_improvement = 0;
      } else if (++epochs_without_improvement >= options.training.patience) {
        active = false;  // early stopping
        stopped_by_patience = true;
      }
    }
  }

  // The member's part of a checkpoint (the group's data streams are the Batches').
  void save(TrainCheckpoint& c, int epoch) const {
    c.epoch = epoch;
    c.params = model.params().flat();
    c.first_moment = optimizer.first_moment();
    c.second_moment = optimizer.second_moment();
    c.optimizer_steps = optimizer.steps_taken();
    c.dropout = dropout_rng.state();
    c.epochs = result.epochs;
    c.best_validation = best_validation;
    c.epochs_without_improvement = epochs_without_improvement;
    c.samples_trained = samples_trained;
    c.training_seconds = training_seconds;
  }
  void restore(const TrainCheckpoint& c) {
    if (c.params.size() != model.params().flat().size())
      throw std::invalid_argument("checkpoint has " + std::to_string(c.params.size()) + " parameters, the model " +
                                  std::to_string(model.params().flat().size()));
    model.params().flat() = c.params;
    optimizer.restore(c.first_moment, c.second_moment, long(c.optimizer_steps));
    dropout_rng.restore(c.dropout);
    result.epochs = c.epochs;
    result.epochs_run = c.epoch;
    best_validation = c.best_validation;
    epochs_without_improvement = c.epochs_without_improvement;
    samples_trained = c.samples_trained;
    training_seconds = c.training_seconds;
  }

  TrainOptions options;
  Autoencoder<float> model;
  ParameterSet<float> gradient;
  Optimizer<float> optimizer;
  Rng dropout_rng;
  Eigen::MatrixXf dropout_mask;
  Evaluator evaluator;
  RunResult result;
  bool active = true;
  double best_validation = std::numeric_limits<double>::infinity();
  int epochs_without_improvement = 0;
  std::size_t samples_trained = 0;
  double loss_sum = 0, objective_sum = 0;
  // Time in the training loop (shuffles, batches, steps), summed over the epochs the run was
  // active, checkpointed segments included; the per-epoch evaluation is not in it.
  double training_seconds = 0;
  bool stopped_by_patience = false;
};

// The encoder products of several models as single wide products: their W1 stacked into one
// (models x hidden) x input matrix, so z1 for all of them is one product with the shared batch,
// and so is the W1 gradient. The decoder products stay per model (each has its own codes).
class FusedEncoder {
 public:
  FusedEncoder(std::size_t models, int hidden, int input, Eigen::Index batch)
      : hidden_(hidden), w1_(Eigen::Index(models) * hidden, input), z1_(w1_.rows(), batch),
        dz1_(w1_.rows(), batch), gw1_(w1_.rows(), input) {}

  void step(const std::vector<Member*>& active, const Eigen::Ref<const Eigen::MatrixXf>& input,
            const Eigen::Ref<const Eigen::MatrixXf>& target, std::vector<BatchObjective>& objectives) {
    const Eigen::Index rows = Eigen::Index(active.size()) * hidden_, count = input.cols();
    auto w1 = w1_.topRows(rows);
    auto z1 = z1_.topLeftCorner(rows, count);
    auto dz1 = dz1_.topLeftCorner(rows, count);
    auto gw1 = gw1_.topRows(rows);
    for (std::size_t k = 0; k < active.size(); ++k)
      w1.middleRows(Eigen::Index(k) * hidden_, hidden_) = active[k]->model.params().w1();
    gemm::product(z1, w1, false, input, false, false);  // each model adds its b1 to its rows
    objectives.resize(active.size());
    for (std::size_t k = 0; k < active.size(); ++k) {
      Member& m = *active[k];
      m.model.codes_workspace(count) = z1.middleRows(Eigen::Index(k) * hidden_, hidden_);
      objectives[k] = m.model.backward_from_codes(target, m.mask(), m.gradient);
      dz1.middleRows(Eigen::Index(k) * hidden_, hidden_) = m.model.dz1_workspace(count);
    }
    gemm::product(gw1, dz1, false, input, true, false);
    for (std::size_t k = 0; k < active.size(); ++k) {
      Member& m = *active[k];
      m.gradient.w1() = gw1.middleRows(Eigen::Index(k) * hidden_, hidden_);
      m.model.finish_gradient(count, m.gradient, objectives[k]);
    }
  }

 private:
  Eigen::Index hidden_;
  Eigen::MatrixXf w1_;
  Eigen::MatrixXf z1_, dz1_, gw1_;
};

void finish_run(Member& m, const Dataset& data) {
  RunResult& result = m.result;
  const int hidden = m.options.model.hidden;
  // Final metrics in evaluation mode.
  result.test_latent.resize(hidden, data.test_images.cols());
  const EvalPass test_pass = m.evaluator.run(data.test_images, &result.test_latent);
  const EvalPass train_pass = m.evaluator.run(data.train_images);
  FinalMetrics& metrics = result.metrics;
  metrics.train_mse = train_pass.mse;
  metrics.test_mse = test_pass.mse;
  metrics.train_loss = train_pass.loss;
  metrics.test_loss = test_pass.loss;
  const auto& latent = result.test_latent;
  if (latent.size() > 0) {
    metrics.latent_density = double((latent.array() != 0.0f).count()) / double(latent.size());
    metrics.dead_units = int((latent.array() == 0.0f).rowwise().all().count());
    metrics.mean_activation = latent.cast<double>().mean();
  }
  const auto& params = m.model.params();
  metrics.w1_near_zero = fraction_near_zero(params.w1());
  metrics.w2_near_zero = fraction_near_zero(params.w2());
  result.w1 = params.w1();
  result.b1 = params.b1();
  result.w2 = params.w2();
  result.b2 = params.b2();
  result.samples_per_second = m.training_seconds > 0 ? double(m.samples_trained) / m.training_seconds : 0.0;
}

}  // namespace

namespace {

// What runs must share to train in one group: shape, data order, batches, epochs, corruption.
struct GroupKey {
  int input, hidden, batch, epochs;
  std::uint64_t seed;
  double split, level;
  NoiseKind noise;
  Precision precision;
  bool operator==(const GroupKey&) const = default;  // -0.0 == 0.0, as the options compare
};

GroupKey group_key(const TrainOptions& o) {
  return {o.model.input_size, o.model.hidden,       o.training.batch_size, o.training.epochs,
          o.training.seed,    o.training.validation_split, o.noise.level,   o.noise.kind,
          o.training.precision};
}

struct GroupKeyHash {
  std::size_t operator()(const GroupKey& k) const {
    auto bits = [](double v) {
      v = v == 0.0 ? 0.0 : v;  // one hash for the two zeros that compare equal
      std::uint64_t b;
      std::memcpy(&b, &v, sizeof b);
      return b;
    };
    std::uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (std::uint64_t part : {std::uint64_t(k.input), std::uint64_t(k.hidden), std::uint64_t(k.batch),
                               std::uint64_t(k.epochs), k.seed, bits(k.split), bits(k.level), std::uint64_t(k.noise)})
      h ^= part + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return std::size_t(h);
  }
};

}  // namespace

bool can_train_together(const TrainOptions& a, const TrainOptions& b) { return group_key(a) == group_key(b); }

// ---------------------------------------------------------------------------------- checkpoints
namespace {

constexpr char kCheckpointMagic[8] = {'A', 'E', 'S', 'W', 'C', 'K', 'P', 'T'};
constexpr std::uint32_t kCheckpointVersion = 1;
// magic, version + epoch, params/first/second sizes, steps, three RNG states (4 words, cached
// normal, flag), best validation, epochs without improvement + pad, samples, two times, records.
constexpr std::size_t kCheckpointHeaderBytes = 8 + 8 + 3 * 8 + 8 + 3 * (4 * 8 + 8 + 8) + 8 + 8 + 8 + 2 * 8 + 8;
constexpr std::size_t kEpochRecordValues = 5;

std::int64_t parameter_count(const TrainOptions& o) {
  const std::int64_t input = o.model.input_size, hidden = o.model.hidden;
  return 2 * input * hidden + hidden + input;
}

// The moments an optimizer keeps: (first, second) sizes for `params` parameters.
std::pair<std::int64_t, std::int64_t> moment_sizes(const TrainOptions& o, std::int64_t params) {
  switch (o.optimizer.kind) {
    case OptimizerKind::sgd: return {0, 0};
    case OptimizerKind::momentum:
    case OptimizerKind::nesterov: return {params, 0};
    case OptimizerKind::rmsprop:
    case OptimizerKind::adagrad: return {0, params};
    case OptimizerKind::adam: return {params, params};
  }
  return {params, params};
}

void put_floats(ByteWriter& w, const Eigen::VectorXf& v) {
  w.put_raw(std::as_bytes(std::span<const float>(v.data(), std::size_t(v.size()))));
}
void put_rng(ByteWriter& w, const RngState& r) {
  for (auto word : r.words) w.put(word);
  w.put(r.cached_normal).put(std::uint64_t(r.has_cached_normal));
}

// n floats; n was checked against the run's sizes before.
Eigen::VectorXf get_floats(ByteReader& r, std::int64_t n) {
  const auto raw = r.get_raw(std::size_t(n) * sizeof(float));
  Eigen::VectorXf v(n);
  if (n > 0) std::memcpy(v.data(), raw.data(), raw.size());  // an empty v has no data()
  return v;
}
RngState get_rng(ByteReader& r) {
  RngState state;
  for (auto& word : state.words) word = r.get<std::uint64_t>();
  state.cached_normal = r.get<double>();
  const auto flag = r.get<std::uint64_t>();
  if (flag > 1) throw std::runtime_error("checkpoint: bad random-number state");
  state.has_cached_normal = flag == 1;
  return state;
}

}  // namespace

std::vector<std::byte> encode_checkpoint(const TrainCheckpoint& c) {
  ByteWriter w;
  for (char ch : kCheckpointMagic) w.put(ch);
  w.put(kCheckpointVersion).put(std::int32_t(c.epoch));
  w.put(std::int64_t(c.params.size())).put(std::int64_t(c.first_moment.size())).put(std::int64_t(c.second_moment.size()));
  w.put(c.optimizer_steps);
  put_rng(w, c.shuffle);
  put_rng(w, c.noise);
  put_rng(w, c.dropout);
  w.put(c.best_validation).put(c.epochs_without_improvement).put(std::int32_t(0));
  w.put(c.samples_trained).put(c.training_seconds).put(c.wall_seconds);
  w.put(std::int64_t(c.epochs.size()));
  put_floats(w, c.params);
  put_floats(w, c.first_moment);
  put_floats(w, c.second_moment);
  for (const auto& e : c.epochs)
    w.put(e.train_loss).put(e.train_objective).put(e.test_loss).put(e.validation_loss).put(e.seconds);
  return w.take();
}

std::size_t checkpoint_capacity(const TrainOptions& options) {
  const std::int64_t params = parameter_count(options);
  const auto [first, second] = moment_sizes(options, params);
  return kCheckpointHeaderBytes + std::size_t(params + first + second) * sizeof(float) +
         std::size_t(std::max(options.training.epochs, 0)) * kEpochRecordValues * sizeof(double);
}

TrainCheckpoint decode_checkpoint(std::span<const std::byte> bytes, const TrainOptions& options) {
  ByteReader r(bytes, "checkpoint");
  for (char ch : kCheckpointMagic)
    if (r.get<char>() != ch) throw std::runtime_error("checkpoint: not a training checkpoint (no magic)");
  const auto version = r.get<std::uint32_t>();
  if (version != kCheckpointVersion)
    throw std::runtime_error("checkpoint: version " + std::to_string(version) + ", this aesweep reads " +
                             std::to_string(kCheckpointVersion));
  TrainCheckpoint c;
  c.epoch = r.get<std::int32_t>();
  if (c.epoch < 1 || c.epoch >= options.training.epochs)
    throw std::runtime_error("checkpoint: after epoch " + std::to_string(c.epoch) + ", outside [1, " +
                             std::to_string(options.training.epochs) + ")");
  const auto params = r.get<std::int64_t>(), first = r.get<std::int64_t>(), second = r.get<std::int64_t>();
  const std::int64_t expected = parameter_count(options);
  const auto [first_expected, second_expected] = moment_sizes(options, expected);
  if (params != expected || first != first_expected || second != second_expected)
    throw std::runtime_error("checkpoint: " + std::to_string(params) + " parameters and moments of " +
                             std::to_string(first) + " and " + std::to_string(second) + " values; this run has " +
                             std::to_string(expected) + ", " + std::to_string(first_expected) + " and " +
                             std::to_string(second_expected));
  c.optimizer_steps = r.get<std::int64_t>();
  if (c.optimizer_steps < 0) throw std::runtime_error("checkpoint: negative optimizer step count");
  c.shuffle = get_rng(r);
  c.noise = get_rng(r);
  c.dropout = get_rng(r);
  c.best_validation = r.get<double>();
  c.epochs_without_improvement = r.get<std::int32_t>();
  (void)r.get<std::int32_t>();
  c.samples_trained = r.get<std::uint64_t>();
  c.training_seconds = r.get<double>();
  c.wall_seconds = r.get<double>();
  const auto records = r.get<std::int64_t>();
  if (records != c.epoch)
    throw std::runtime_error("checkpoint: " + std::to_string(records) + " epoch records after epoch " +
                             std::to_string(c.epoch));
  c.params = get_floats(r, params);
  c.first_moment = get_floats(r, first);
  c.second_moment = get_floats(r, second);
  c.epochs.resize(std::size_t(records));
  for (auto& e : c.epochs) {
    e.train_loss = r.get<double>();
    e.train_objective = r.get<double>();
    e.test_loss = r.get<double>();
    e.validation_loss = r.get<double>();
    e.seconds = r.get<double>();
  }
  for (std::byte b : r.rest())
    if (b != std::byte{0}) throw std::runtime_error("checkpoint: unexpected bytes after its end");
  return c;
}

namespace {

// The training samples, less the validation samples held out of them: a seeded random subset.
struct ValidationSplit {
  std::vector<Eigen::Index> train_columns;  // increasing
  std::size_t n_validation = 0;
  Eigen::MatrixXf validation_images;
};

ValidationSplit split_validation(const Eigen::MatrixXf& train_images, double fraction, std::uint64_t seed) {
  std::vector<Eigen::Index> order(std::size_t(train_images.cols()));
  std::iota(order.begin(), order.end(), Eigen::Index(0));
  Rng split_rng(derive_seed(seed, split_stream));
  ValidationSplit split;
  split.n_validation = std::size_t(std::floor(fraction * double(order.size())));
  if (split.n_validation > 0) shuffle(order, split_rng);
  const auto held_out = order.begin() + std::ptrdiff_t(split.n_validation);
  const std::vector<Eigen::Index> validation_columns(order.begin(), held_out);
  split.train_columns.assign(held_out, order.end());
  std::sort(split.train_columns.begin(), split.train_columns.end());
  split.validation_images = gather_columns(train_images, validation_columns);
  return split;
}

// The minibatches of a group, the same for every member: each epoch shuffles the training
// columns, and each batch is gathered and corrupted once.
class Batches {
 public:
  Batches(const Dataset& data, const TrainOptions& lead, std::vector<Eigen::Index> train_columns,
          Eigen::Index batch_size)
      : images_(data.train_images), noise_(lead.noise), columns_(std::move(train_columns)),
        noisy_(lead.noise.kind != NoiseKind::none && lead.noise.level > 0.0),
        clean_(data.input_size(), batch_size),
        corrupted_(noisy_ ? data.input_size() : 0, noisy_ ? batch_size : 0),
        shuffle_rng_(derive_seed(lead.training.seed, shuffle_stream)),
        noise_rng_(derive_seed(lead.training.seed, noise_stream)) {}

  Eigen::Index samples() const { return Eigen::Index(columns_.size()); }
  void shuffle_epoch() { shuffle(columns_, shuffle_rng_); }
  // Gathers (and corrupts) the `count` samples from `start` in this epoch's order.
  void load(Eigen::Index start, Eigen::Index count) {
    for (Eigen::Index i = 0; i < count; ++i) clean_.col(i) = images_.col(columns_[std::size_t(start + i)]);
    if (noisy_) corrupt(noise_, clean_.leftCols(count), corrupted_.leftCols(count), noise_rng_);
  }
  RngState shuffle_state() const { return shuffle_rng_.state(); }
  RngState noise_state() const { return noise_rng_.state(); }
  // Where the data streams stand after `epochs` epochs: the data order is replayed from the
  // seed (cheap, and checked against the checkpoint's shuffle state), the noise stream restored.
  void continue_after(int epochs, const RngState& shuffle_state, const RngState& noise_state) {
    for (int e = 0; e < epochs; ++e) shuffle_epoch();
    if (!(shuffle_rng_.state() == shuffle_state))
      throw std::invalid_argument("checkpoint's data order does not follow from the run's seed after " +
                                  std::to_string(epochs) + " epochs");
    noise_rng_.restore(noise_state);
  }
  auto clean(Eigen::Index count) const { return clean_.leftCols(count); }
  auto input(Eigen::Index count) const { return noisy_ ? corrupted_.leftCols(count) : clean_.leftCols(count); }

 private:
  const Eigen::MatrixXf& images_;
  NoiseOptions noise_;
  std::vector<Eigen::Index> columns_;
  bool noisy_;
  Eigen::MatrixXf clean_, corrupted_;
  Rng shuffle_rng_, noise_rng_;
};

// A group of runs that can_train_together, trained batch by batch in step.
class GroupTraining {
 public:
  GroupTraining(const std::vector<TrainOptions>& group, const Dataset& data, const TrainCallbacks& callbacks,
                Clock::time_point run_start, const TrainSegment& segment = {})
      : lead_(group.front()), data_(data), callbacks_(callbacks), run_start_(run_start), segment_(segment),
        split_(split_validation(data.train_images, lead_.training.validation_split, lead_.training.seed)),
        batch_size_(std::min<Eigen::Index>(lead_.training.batch_size,
                                           std::max<Eigen::Index>(1, Eigen::Index(split_.train_columns.size())))),
        members_(make_members(group, data.input_size(), batch_size_)),
        // The batches own the training columns from here on.
        batches_(data, lead_, std::move(split_.train_columns), batch_size_) {
    if (members_.size() > 1) fused_.emplace(members_.size(), lead_.model.hidden, data.input_size(), batch_size_);
    if (const TrainCheckpoint* from = segment_.resume_from) {
      members_.front()->restore(*from);
      batches_.continue_after(from->epoch, from->shuffle, from->noise);
      first_epoch_ = from->epoch + 1;
      earlier_wall_seconds_ = from->wall_seconds;
    }
  }

  std::vector<RunResult> run() {
    const int last = segment_.stop_epoch > 0 ? segment_.stop_epoch : lead_.training.epochs;
    for (int epoch = first_epoch_; epoch <= last; ++epoch)
      if (!run_epoch(epoch)) break;
    if (TrainCheckpoint* out = segment_.checkpoint) {
      const Member& m = *members_.front();
      *out = TrainCheckpoint{};
      if (m.active && last < lead_.training.epochs) {
        m.save(*out, last);
        out->shuffle = batches_.shuffle_state();
        out->noise = batches_.noise_state();
      }
    }
    std::vector<RunResult> results;
    for (auto& m : members_) {
      finish_run(*m, data_);
      results.push_back(std::move(m->result));
    }
    // A group's runs share its wall time, every member's final evaluation included.
    const double wall_seconds = earlier_wall_seconds_ + seconds_since(run_start_);
    for (RunResult& r : results) r.wall_seconds = wall_seconds;
    if (segment_.checkpoint && segment_.checkpoint->epoch > 0) segment_.checkpoint->wall_seconds = wall_seconds;
    return results;
  }

 private:
  static std::vector<std::unique_ptr<Member>> make_members(const std::vector<TrainOptions>& group, int input,
                                                           Eigen::Index batch_size) {
    std::vector<std::unique_ptr<Member>> members;
    for (const auto& o : group) members.push_back(std::make_unique<Member>(o, input, batch_size));
    return members;
  }

  // One epoch of the members still active; false if there were none.
  bool run_epoch(int epoch) {
    active_.clear();
    for (auto& m : members_)
      if (m->active) active_.push_back(m.get());
    if (active_.empty()) return false;
    const std::vector<Member*> in_epoch = active_;
    const auto epoch_start = epoch_start_ = Clock::now();
    batches_.shuffle_epoch();
    for (Member* m : in_epoch) m->loss_sum = m->objective_sum = 0.0;
    const Eigen::Index n_train = batches_.samples();
    long batches = 0;
    for (Eigen::Index start = 0; start < n_train && !active_.empty(); start += batch_size_) {
      train_batch(start, std::min(batch_size_, n_train - start), epoch, ++batches);
      if (callbacks_.on_batch) callbacks_.on_batch();
    }
    // The loop's time, before any evaluation (those that diverged in it were timed as they left).
    const double loop_seconds = seconds_since(epoch_start);
    for (Member* m : active_) m->training_seconds += loop_seconds;
    for (Member* m : in_epoch)
      if (m->active) m->end_epoch(epoch, epoch_record(*m, epoch_start), callbacks_);  // not diverged in it
    return true;
  }

  // One step of every active member on the batch at `start`; members that diverge leave.
  void train_batch(Eigen::Index start, Eigen::Index count, int epoch, long batch) {
    batches_.load(start, count);
    const auto clean = batches_.clean(count);
    const auto input = batches_.input(count);
    for (Member* m : active_)
      if (m->dropping()) m->draw_dropout_mask(count);
    if (active_.size() == 1) {
      Member& m = *active_.front();
      m.take_step(m.model.forward_backward(input, clean, m.mask(), m.gradient), count, epoch, batch);
    } else {
      fused_->step(active_, input, clean, objectives_);
      for (std::size_t k = 0; k < active_.size(); ++k) active_[k]->take_step(objectives_[k], count, epoch, batch);
    }
    std::erase_if(active_, [this](Member* m) {
      if (m->active) return false;
      m->training_seconds += seconds_since(epoch_start_);  // it diverged in this batch
      return true;
    });
  }

  // A member's record of the epoch that began at `epoch_start`, its evaluation timed in.
  EpochRecord epoch_record(Member& m, Clock::time_point epoch_start) {
    const Eigen::Index n_train = batches_.samples();
    EpochRecord record;
    record.train_loss = m.loss_sum / double(std::max<Eigen::Index>(1, n_train));
    record.train_objective = m.objective_sum / double(std::max<Eigen::Index>(1, n_train));
    record.test_loss = m.evaluator.run(data_.test_images).loss;
    record.validation_loss = split_.n_validation > 0 ? m.evaluator.run(split_.validation_images).loss
                                                     : std::numeric_limits<double>::quiet_NaN();
    record.seconds = seconds_since(epoch_start);
    return record;
  }

  const TrainOptions& lead_;
  const Dataset& data_;
  const TrainCallbacks& callbacks_;
  const Clock::time_point run_start_;
  const TrainSegment segment_;
  int first_epoch_ = 1;
  Clock::time_point epoch_start_;
  double earlier_wall_seconds_ = 0;
  ValidationSplit split_;
  const Eigen::Index batch_size_;
  std::vector<std::unique_ptr<Member>> members_;
  Batches batches_;
  std::optional<FusedEncoder> fused_;
  std::vector<Member*> active_;
  std::vector<BatchObjective> objectives_;
};

}  // namespace

std::vector<RunResult> train_together(const std::vector<TrainOptions>& group, const Dataset& data,
                                      const TrainCallbacks& callbacks) {
  const auto run_start = Clock::now();
  if (group.empty()) return {};
  for (const auto& o : group)
    if (!can_train_together(group.front(), o))
      throw std::invalid_argument("train_together: the runs differ in shape, seed, batches, epochs or noise");
  if (group.front().training.precision == Precision::bf16) {
    if (group.size() > 1) throw std::invalid_argument("train_together: bf16 runs train alone");
    if (!gemm::bf16_supported())
      throw ConfigError("train.precision = bf16 cannot run here: " + gemm::bf16_unsupported_reason(), {"train.precision"});
  }
  return GroupTraining(group, data, callbacks, run_start).run();
}

std::vector<std::uint32_t> group_numbers(std::size_t n, const std::function<TrainOptions(std::size_t)>& options_of,
                                         int max_group, int max_hidden, std::vector<std::uint32_t>& sizes) {
  // A run joins the open group of its key while that has room, else opens a new one: the groups
  // of the pairwise definition (group_runs), since groups of one key fill in run order.
  std::vector<std::uint32_t> number(n);
  sizes.clear();
  std::unordered_map<GroupKey, std::uint32_t, GroupKeyHash> open;
  for (std::size_t i = 0; i < n; ++i) {
    const TrainOptions o = options_of(i);
    // bf16 runs train alone: the fused encoder's products are fp32.
    if (max_group > 1 && o.model.hidden <= max_hidden && o.training.precision == Precision::fp32) {
      const auto it = open.find(group_key(o));
      if (it != open.end() && sizes[it->second] < std::uint32_t(max_group)) {
        number[i] = it->second;
        ++sizes[it->second];
        continue;
      }
      open[group_key(o)] = std::uint32_t(sizes.size());
    }
    number[i] = std::uint32_t(sizes.size());
    sizes.push_back(1);
  }
  return number;
}

std::vector<std::vector<std::size_t>> group_runs(const std::vector<TrainOptions>& runs, int max_group, int max_hidden) {
  std::vector<std::uint32_t> sizes;
  const auto number = group_numbers(runs.size(), [&](std::size_t i) { return runs[i]; }, max_group, max_hidden, sizes);
  std::vector<std::vector<std::size_t>> groups(sizes.size());
  for (std::size_t i = 0; i < runs.size(); ++i) groups[number[i]].push_back(i);
  return groups;
}

RunResult train_segment(const TrainOptions& options, const Dataset& data, const TrainSegment& segment,
                        const TrainCallbacks& callbacks) {
  const auto run_start = Clock::now();
  const int epochs = options.training.epochs;
  if (segment.stop_epoch < 0 || segment.stop_epoch > epochs)
    throw std::invalid_argument("train_segment: stop epoch " + std::to_string(segment.stop_epoch) + " outside [0, " +
                                std::to_string(epochs) + "]");
  const int stop = segment.stop_epoch > 0 ? segment.stop_epoch : epochs;
  if (segment.resume_from) {
    const TrainCheckpoint& from = *segment.resume_from;
    if (from.epoch < 1 || from.epoch >= stop || from.epochs.size() != std::size_t(from.epoch))
      throw std::invalid_argument("train_segment: a checkpoint after epoch " + std::to_string(from.epoch) + " (" +
                                  std::to_string(from.epochs.size()) + " epoch records) cannot continue to epoch " +
                                  std::to_string(stop));
  }
  if (options.training.precision == Precision::bf16 && !gemm::bf16_supported())
    throw ConfigError("train.precision = bf16 cannot run here: " + gemm::bf16_unsupported_reason(), {"train.precision"});
  return std::move(GroupTraining({options}, data, callbacks, run_start, segment).run().front());
}

RunResult train_autoencoder(const TrainOptions& options, const Dataset& data, const TrainCallbacks& callbacks) {
  return std::move(train_together({options}, data, callbacks).front());
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
