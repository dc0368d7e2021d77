#pragma once
// Trains one autoencoder on a dataset and reports curves, weights and final metrics.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <vector>

#include "aesweep/core/dataset.hpp"
#include "aesweep/core/random.hpp"
#include "aesweep/core/run_result.hpp"
#include "aesweep/core/train_options.hpp"

namespace aesweep {

struct TrainCallbacks {
  // Called after every epoch with the 1-based epoch number and the planned total.
  std::function<void(int epoch, int total, const EpochRecord&)> on_epoch;
  // Called after every minibatch; the MPI coordinator serves requests from here.
  std::function<void()> on_batch;
};

// requires: options.validate() passes for options with model.input_size = data.input_size().
// A NaN or Inf objective stops the run with status diverged; the result still holds the
// weights and curves up to that point. Same options and data give bit-identical results.
RunResult train_autoencoder(const TrainOptions& options, const Dataset& data, const TrainCallbacks& callbacks = {});

// A run's whole training state after an epoch: what it needs to continue exactly as if it had
// never stopped (successive halving pauses runs at rungs and continues the promoted ones).
struct TrainCheckpoint {
  int epoch = 0;                     // epochs trained; 0: no checkpoint (the run ended before the stop)
  Eigen::VectorXf params;            // the model's flat parameters
  Eigen::VectorXf first_moment;      // the optimizer's moments (empty where its rule keeps none)
  Eigen::VectorXf second_moment;
  std::int64_t optimizer_steps = 0;
  RngState shuffle, noise, dropout;  // the data order, input noise and dropout streams
  std::vector<EpochRecord> epochs;   // the curves so far
  double best_validation = std::numeric_limits<double>::infinity();  // the patience rule's state
  std::int32_t epochs_without_improvement = 0;
  std::uint64_t samples_trained = 0;
  double training_seconds = 0, wall_seconds = 0;  // time spent so far (not part of bit-identity)
};

// The checkpoint as bytes (little-endian, versioned, sizes inside) and back. decode_checkpoint
// throws std::runtime_error for bytes that are not a checkpoint of a run with these options
// (wrong sizes, epochs out of range, trailing bytes other than zero padding).
std::vector<std::byte> encode_checkpoint(const TrainCheckpoint& checkpoint);
TrainCheckpoint decode_checkpoint(std::span<const std::byte> bytes, const TrainOptions& options);
// The most bytes encode_checkpoint writes for a run with these options (model.input_size set),
// at any epoch: what an archive reserves per run.
std::size_t checkpoint_capacity(const TrainOptions& options);

// One stretch of a run: from the start or from a checkpoint, up to `stop_epoch` (0: the
// configured epochs).
struct TrainSegment {
  const TrainCheckpoint* resume_from = nullptr;  // its epoch must be in [1, stop_epoch)
  int stop_epoch = 0;
  TrainCheckpoint* checkpoint = nullptr;  // receives the state after stop_epoch if the run goes on
};

// Trains one run over one segment. The result is the run as it stands after the segment: curves
// from epoch 1, weights and final metrics at its last epoch. Training 1..a then a+1..b from the
// checkpoint equals training 1..b straight through, bit for bit (weights, curves, metrics; the
// timings aside). `segment.checkpoint`, when given, gets the state after stop_epoch when the run
// is still going (epoch = stop_epoch), else epoch = 0 (diverged, stopped by patience, or at its
// configured epochs). Throws std::invalid_argument for a bad segment or a checkpoint that does
// not fit the options.
RunResult train_segment(const TrainOptions& options, const Dataset& data, const TrainSegment& segment,
                        const TrainCallbacks& callbacks = {});

// Whether two runs can train as one group: the same shape, data order, batches, epochs and input
// corruption (input size, hidden size, seed, batch size, epochs, validation split, noise), and precision.
// Everything else (activations, losses, penalties, dropout, optimizer, patience) may differ.
bool can_train_together(const TrainOptions& a, const TrainOptions& b);

// Trains a group of runs that can_train_together, batch by batch in step: each batch is gathered
// and corrupted once, and with two or more runs the encoder's two products (z1 = W1 x and the
// W1 gradient) are single wide products over the runs' stacked W1. Each result is what that run
// trained alone would give, up to float rounding in those products (a run alone uses
// train_autoencoder's own products); the same group gives bit-identical results. A run that
// diverges or stops early leaves the group; the others go on. Callbacks fire once per run per
// epoch and once per batch. Throws std::invalid_argument if the runs cannot train together.
std::vector<RunResult> train_together(const std::vector<TrainOptions>& group, const Dataset& data,
                                      const TrainCallbacks& callbacks = {});

// Splits runs (in order) into groups to train_together: each group is the first run not yet
// placed and the runs after it that can train with it, up to `max_group` runs. Runs with more
// than `max_hidden` hidden units stay alone, as do bf16 runs and every run when max_group <= 1. Depends on
// the options only, so every rank and every resumed job forms the same groups.
std::vector<std::vector<std::size_t>> group_runs(const std::vector<TrainOptions>& runs, int max_group, int max_hidden);

// The same groups for `n` runs whose options come from `options_of(i)`, without holding them:
// per run the number of its group (0, 1, ... in order of each group's first run), in one pass
// over the runs; `sizes` receives each group's size.
std::vector<std::uint32_t> group_numbers(std::size_t n, const std::function<TrainOptions(std::size_t)>& options_of,
                                         int max_group, int max_hidden, std::vector<std::uint32_t>& sizes);

// Reconstructions (input x samples) of `images` by the trained model of `result`, evaluation mode.
Eigen::MatrixXf reconstruct(const ModelOptions& model, const RunResult& result, const Eigen::MatrixXf& images);

}  // namespace aesweep
