#include "aesweep/core/run_result.hpp"

#include <type_traits>

namespace aesweep {
namespace {

// A field of FinalMetrics, read and written as a double.
template <auto Member>
double metric(const RunScalars& s) {
  return double(s.metrics.*Member);
}
template <auto Member>
void set_metric(RunScalars& s, double v) {
  using T = std::remove_reference_t<decltype(s.metrics.*Member)>;
  s.metrics.*Member = T(v);
}
template <auto Member>
double scalar(const RunScalars& s) {
  return double(s.*Member);
}
template <auto Member>
void set_scalar(RunScalars& s, double v) {
  using T = std::remove_reference_t<decltype(s.*Member)>;
  s.*Member = T(v);
}

#define AESWEEP_METRIC(name, integer, format, description) \
  ScalarField { #name, description, integer, format, metric<&FinalMetrics::name>, set_metric<&FinalMetrics::name> }
#define AESWEEP_SCALAR(name, integer, format, description) \
  ScalarField { #name, description, integer, format, scalar<&RunScalars::name>, set_scalar<&RunScalars::name> }

}  // namespace

const std::vector<ScalarField>& scalar_fields() {
  static const std::vector<ScalarField> fields = {
      AESWEEP_METRIC(train_mse, false, "%.6g", "mean squared error per pixel on the training set, evaluation mode"),
      AESWEEP_METRIC(test_mse, false, "%.6g", "mean squared error per pixel on the test set, evaluation mode"),
      AESWEEP_METRIC(train_loss, false, "%.6g", "the configured loss on the training set, evaluation mode"),
      AESWEEP_METRIC(test_loss, false, "%.6g", "the configured loss on the test set, evaluation mode"),
      AESWEEP_METRIC(latent_density, false, "%.6g", "fraction of nonzero latent values on the test set"),
      AESWEEP_METRIC(dead_units, true, "%d", "hidden units that are zero on every test sample"),
      AESWEEP_METRIC(mean_activation, false, "%.6g", "mean latent value on the test set"),
      AESWEEP_METRIC(w1_near_zero, false, "%.6g", "fraction of |w| < 1e-3 in W1"),
      AESWEEP_METRIC(w2_near_zero, false, "%.6g", "fraction of |w| < 1e-3 in W2"),
      AESWEEP_SCALAR(epochs_run, true, "%d", "epochs trained (fewer after early stopping or divergence)"),
      AESWEEP_SCALAR(wall_seconds, false, "%.3f", "training and evaluation time of the run"),
      AESWEEP_SCALAR(samples_per_second, false, "%.0f",
                     "training samples per second of the training loop (per-epoch evaluation not timed in)"),
  };
  return fields;
}

#undef AESWEEP_METRIC
#undef AESWEEP_SCALAR

const std::vector<CurveField>& curve_fields() {
  static const std::vector<CurveField> fields = {
      {"train_loss", "reconstruction loss, mean over the epoch's minibatches", &EpochRecord::train_loss},
      {"train_objective", "loss plus penalties, mean over the epoch's minibatches", &EpochRecord::train_objective},
      {"test_loss", "reconstruction loss on the whole test set, evaluation mode", &EpochRecord::test_loss},
      {"validation_loss", "loss on the validation split (NaN without one)", &EpochRecord::validation_loss},
      {"epoch_seconds", "wall time of the epoch", &EpochRecord::seconds},
  };
  return fields;
}

}  // namespace aesweep
