#pragma once
// Trains one autoencoder on a dataset and reports curves, weights and final metrics.
#include <functional>
#include <vector>

#include "aesweep/core/dataset.hpp"
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
