#pragma once
// What one training run produces: weights, curves, metrics. Layout notes: matrices are
// Eigen column-major, so W1 (hidden x input) is stored in memory as input-major rows,
// i.e. a row-major (input, hidden) array, which is the Keras "kernel" layout.
#include <Eigen/Core>
#include <cstdint>
#include <string_view>
#include <string>
#include <vector>

namespace aesweep {

// Where a run stands. The values are the archive's /runs_state bytes. A trained run is complete,
// diverged or failed, or stopped: a schedule (successive halving) ended it at a rung, where it keeps
// its curves and weights; only pending runs are (re)trained when a sweep resumes.
enum class RunStatus : std::uint8_t { pending = 0, complete = 1, diverged = 2, failed = 3, stopped = 4 };
std::string_view to_string(RunStatus s);
inline bool is_done(RunStatus s) { return s != RunStatus::pending; }

struct EpochRecord {
  double train_loss = 0;       // reconstruction loss, mean over the epoch's minibatches
  double train_objective = 0;  // loss + penalties, mean over the epoch's minibatches
  double test_loss = 0;        // reconstruction loss on the whole test set, evaluation mode
  double validation_loss = 0;  // NaN when there is no validation split
  double seconds = 0;
};

struct FinalMetrics {
  double train_mse = 0;           // mean squared error per pixel, evaluation mode
  double test_mse = 0;
  double train_loss = 0;          // the configured loss, evaluation mode
  double test_loss = 0;
  double latent_density = 0;      // fraction of nonzero latent values on the test set
  int dead_units = 0;             // hidden units that are zero on every test sample
  double mean_activation = 0;     // mean latent value on the test set
  double w1_near_zero = 0;        // fraction of |w| < 1e-3 in W1
  double w2_near_zero = 0;
};

// The numbers that sum a run up: what the archive's metrics and /summary hold and `train` prints.
struct RunScalars {
  FinalMetrics metrics;
  int epochs_run = 0;
  double wall_seconds = 0;
  double samples_per_second = 0;
};

struct RunResult : RunScalars {
  RunStatus status = RunStatus::complete;
  std::string error;  // why the run diverged or failed
  Eigen::MatrixXf w1;  // hidden x input
  Eigen::VectorXf b1;  // hidden (zeros when biases are off)
  Eigen::MatrixXf w2;  // input x hidden
  Eigen::VectorXf b2;  // input
  Eigen::MatrixXf test_latent;  // hidden x test samples
  std::vector<EpochRecord> epochs;
};

// ---------------------------------------------------------------------------------- the schema
// A run's outcome is spelled here once: every writer, reader and printer goes through these two
// lists, in this order (the archive's column order).

// One scalar of RunScalars: its name (archive column, `train` output), meaning, type and format.
struct ScalarField {
  std::string_view name;
  std::string_view description;
  bool integer;             // int32 in the archive
  const char* format;       // printf format of `train`'s output for the value as a double/int
  double (*get)(const RunScalars&);
  void (*set)(RunScalars&, double);
};
const std::vector<ScalarField>& scalar_fields();

// One per-epoch curve of EpochRecord: its dataset name in the archive and meaning.
struct CurveField {
  std::string_view name;
  std::string_view description;
  double EpochRecord::*member;
};
const std::vector<CurveField>& curve_fields();

}  // namespace aesweep
