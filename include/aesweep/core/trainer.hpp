#pragma once
// Trains one autoencoder on a dataset and reports curves, weights and final metrics.
#include <functional>

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

// Reconstructions (input x samples) of `images` by the trained model of `result`, evaluation mode.
Eigen::MatrixXf reconstruct(const ModelOptions& model, const RunResult& result, const Eigen::MatrixXf& images);

}  // namespace aesweep
