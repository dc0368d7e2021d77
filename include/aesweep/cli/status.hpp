#pragma once
// aesweep status: how far a sweep has come, read from its archive, also while the sweep is still
// writing it (SweepArchiveReader::open_to_watch: no file lock, nothing written, only runs whose
// /runs_state byte says done). The pieces are separate so the tests can check them one by one.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "aesweep/archive/sweep_archive_reader.hpp"
#include "aesweep/archive/writer_lock.hpp"
#include "aesweep/core/run_result.hpp"

namespace aesweep::cli {

inline constexpr std::size_t kStatusTopMax = 1000000;

struct StatusOptions {
  std::string by = "test_mse";  // a scalar field of the result schema (scalar_fields())
  std::size_t top = 10;         // 1 to kStatusTopMax
};

// The scalar field --by names. Throws ConfigError naming every valid one.
[[nodiscard]] const ScalarField& status_metric(const std::string& name);
// Which way --by ranks: the highest first for throughput (samples_per_second), the lowest first for
// everything else (errors, losses, density, dead units, time...).
[[nodiscard]] bool higher_is_better(const ScalarField& field);
// --top's text, checked: an integer in [1, kStatusTopMax]. Throws ConfigError naming the option.
[[nodiscard]] std::size_t parse_top(const std::string& text);

struct StatusCounts {
  std::vector<std::pair<RunStatus, std::size_t>> by_state;  // every run_status_values() entry, byte order
  std::size_t runs = 0;
  std::size_t done = 0;
};

struct SectionStatus {
  std::string name;
  StatusCounts counts;  // its distinct runs
};

struct StudyStatus {
  std::string path;
  std::int64_t format_version = 0;
  std::string config_hash, created, dataset;
  StatusCounts counts;
  std::vector<SectionStatus> sections;  // as /sections lists them (none in a study of the defaults)
  std::string by;                       // the ranking metric
  bool higher_first = false;
  std::size_t top = 0;                  // as asked
  std::size_t ranked = 0;               // done runs with a finite value of `by`
  std::vector<SummaryRow> best;         // at most `top` of them, best first (ties: lower run index)
  // The Pareto front of test MSE against latent density over the complete runs (pareto.hpp), run
  // indices ascending, computed from the rows read (so also for an unfinished sweep).
  std::vector<std::size_t> pareto_front;
  // A scheduled study (successive halving, hyperband): each best run's rung reached is shown.
  bool has_rung = false;
  // The archive's writer lock as seen from here (writer_lock.hpp): who holds it (a running sweep,
  // an analysis storing its results), or that no one does, or why that cannot be told. Set by
  // read_status.
  LockState writer_lock;
};

// Reads the archive (open_to_watch + read_done_summary) and ranks its done runs.
[[nodiscard]] StudyStatus read_status(const std::string& path, const StatusOptions& options);
// From rows already read: counts, sections, ranking and front (what read_status does after reading).
[[nodiscard]] StudyStatus summarize_status(const SweepArchiveReader& reader, const SummarySnapshot& snapshot,
                                           const StatusOptions& options);

// The human-readable report: counts, sections, the best runs as a table, the front.
[[nodiscard]] std::string status_table(const StudyStatus& status);
// The same as one JSON object (NaN and infinities as null).
[[nodiscard]] std::string status_json(const StudyStatus& status);

}  // namespace aesweep::cli
