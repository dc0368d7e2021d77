#pragma once
// The sweep as a library: the named steps `aesweep sweep` runs, each callable (and tested) on
// its own. Data flows config -> study -> header -> archive -> work plan -> run items -> progress.
//   load_study     the study's runs and sections, the data, every run checked against the data
//   make_header    what the archive records about the study and the data
//   check_free_space  refuses an archive that would not fit on its disk
//   plan_work      work items (single runs or fused groups) still to do, and their costs
//   RunItem        trains one work item and writes its pending runs (the scheduler's RunFunction)
//   Progress       rank 0's progress lines with the ETA
// The command itself (src/cli/sweep_command.cpp) only parses options, blocks the stop signals,
// starts MPI and calls these in order.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "aesweep/archive/sweep_archive.hpp"
#include "aesweep/cli/common.hpp"
#include "aesweep/config/run_spec.hpp"
#include "aesweep/config/study_config.hpp"
#include "aesweep/core/dataset.hpp"
#include "aesweep/dist/scheduler.hpp"
#include "aesweep/sweep/schedule.hpp"

namespace aesweep::sweep {

// A study ready to train: its runs (input size set, validated against the data) and sections.
struct Study {
  StudyConfig config;
  std::vector<RunSpec> runs;
  std::vector<StudySection> sections;
  Dataset data;
  // The study's [schedule] when it is active (successive halving, hyperband).
  std::optional<RungSchedule> schedule;
};

// Expands `config`, loads its data and checks every run against it (input size, a validation
// split that leaves samples on both sides, one for a schedule's validation_loss). Throws
// ConfigError or DataError naming the problem.
[[nodiscard]] Study load_study(StudyConfig config);

// Test digits whose reconstructions every run stores: the first `per_class` of each class, by
// class then test order.
[[nodiscard]] std::vector<std::size_t> pick_recon_digits(const Dataset& data, int per_class);

// The archive's study-wide record: config text (with the command-line settings), hashes, the
// data's identity, the sections and the reconstruction digits. `command` is the command line.
[[nodiscard]] ArchiveHeader make_header(const Study& study, const std::string& command, int recon_per_class);

// Refuses (ConfigError, both sizes named) an archive at `out` that would not fit on its disk: a
// new one needs its estimated size, a resumed one the part of its sparse storage not yet written.
void check_free_space(const std::string& out, const ArchiveHeader& header, const std::vector<RunSpec>& runs,
                      OpenMode mode);

// After a failed write to the archive at `path`: "; DIR has N free and the archive still needs
// about M (disk full or quota reached?): free space and rerun the same command to resume" when
// its disk has less room than its unwritten sparse storage, else "".
[[nodiscard]] std::string disk_space_hint(const std::string& path);

// What is left to train: work items are single runs or groups that train together, formed from
// the whole study so every rank and every resumed job sees the same groups. With a schedule,
// work items are segments (RungSchedule::segment: a run up to its next rung), known only as rungs
// are decided: `items` and `pending` are then empty and rank 0's Promotions hands them out; runs
// never train in groups (a group's runs would stop at different rungs).
struct WorkPlan {
  const RungSchedule* schedule = nullptr;
  std::vector<std::vector<std::size_t>> items;  // every item of the study, runs by index
  std::vector<std::size_t> pending;             // items with a run still to do
  std::vector<double> cost;                     // estimated cost of each pending item
  std::vector<double> run_cost;                 // estimated cost of each run still to do (0 when done)
  double total_cost = 0;
  std::size_t pending_runs = 0;
  std::size_t done_runs = 0;    // done in the archive before this job
  std::size_t fused_items = 0;  // pending items of two or more runs
  std::vector<double> epoch_cost;  // estimated cost of one epoch of each run
  // "12" for a run, "12+3" for a group of 4 runs, "12@2" for run 12's segment to rung 2.
  [[nodiscard]] std::string item_text(std::size_t item) const;
};
[[nodiscard]] WorkPlan plan_work(const Study& study, const std::vector<RunStatus>& states,
                                 const cli::FuseSettings& fuse);

// Estimated cost of training a run: hidden x input x epochs x samples (x1.3 with the
// contractive penalty), enough to hand out the longest runs first.
[[nodiscard]] double estimated_cost(const RunSpec& run, const Dataset& data);

// The epochs a schedule trains in all when no run ends early: per pool, each rung's runs times the
// epochs from the rung before (max(1, floor(n / eta)) going on at each rung), counting the runs
// marked in `only` (the pending ones).
[[nodiscard]] double scheduled_epochs(const RungSchedule& schedule, const std::vector<bool>& only);

// Rank 0, a scheduled study: the promotions as the archive left them (each run's state, rung and
// metric at its rungs read back), ready to start().
[[nodiscard]] Promotions read_promotions(const RungSchedule& schedule, const SweepArchive& archive);
// The cost of a segment (its epochs times its run's cost per epoch), and of each of these segments.
[[nodiscard]] double segment_cost(const WorkPlan& plan, std::size_t segment);
[[nodiscard]] std::vector<double> segment_costs(const WorkPlan& plan, const std::vector<std::size_t>& segments);

// Trains one work item and writes each of its pending runs to the archive (runs an earlier job
// saved are retrained only for their group and not written again). A run that throws is
// reported failed with its message; an archive that cannot take a run throws ArchiveError.
class RunItem {
 public:
  RunItem(const Study& study, const WorkPlan& plan, const std::vector<RunStatus>& states, SweepArchive& archive,
          const ArchiveHeader& header, int rank, std::string host);
  std::vector<RunReport> operator()(std::size_t item, const PollFunction& poll) const;

 private:
  std::vector<RunReport> segment(std::size_t item, const PollFunction& poll) const;
  // What a run's record carries besides its result: rank, host, compute, reconstructions.
  RunRecordInfo record_info(std::size_t run, const RunResult& result) const;
  // Calls `write` (a write of `run` to the archive); a failure becomes an ArchiveError naming this
  // rank, the run and the archive.
  template <class Write>
  void save(std::size_t run, Write&& write) const;
  // The report of a run written with this result (status, test MSE, density, seconds).
  static RunReport report_of(std::size_t run, const RunResult& result);
  const Study& study_;
  const WorkPlan& plan_;
  const std::vector<RunStatus>& states_;
  SweepArchive& archive_;
  const ArchiveHeader& header_;
  int rank_;
  std::string host_;
};

// Rank 0's account of the sweep: one line per finished run (done/total, run, section, rank,
// status, test MSE, latent density, time, what every rank holds, elapsed, ETA by cost).
class Progress {
 public:
  Progress(const Study& study, const WorkPlan& plan, int ranks, std::string out);
  // The opening lines: runs, already complete, to train, ranks, archive; fused groups.
  [[nodiscard]] std::string start_text() const;
  // Counts one finished run and returns its line; `elapsed` seconds since start. With a schedule a
  // report may be a run paused at a rung (status pending): its line says so and counts no run.
  std::string finish(const RunReport& report, const WorkQueue& queue, double elapsed);
  // A schedule stopped `run` at rung `rung` (counted as finished).
  std::string stopped(std::size_t run, int rung, double elapsed);
  // How busy the ranks were (the sweep's last line).
  [[nodiscard]] static std::string idle_text(const CoordinationStats& stats);
  // Runs trained by this job, and runs of the study still pending.
  [[nodiscard]] std::size_t trained() const { return done_; }
  [[nodiscard]] std::size_t left() const { return plan_.pending_runs - done_; }
  [[nodiscard]] std::string end_text(std::size_t left, double elapsed) const;

 private:
  const Study& study_;
  const WorkPlan& plan_;
  int ranks_;
  std::string out_;
  std::size_t done_ = 0;
  double done_cost_ = 0;
  // "[done/total] run N (SECTION)", the start of a line about run N ("-" for no section).
  [[nodiscard]] std::string line_head(std::size_t run) const;
};

// This machine's host name, "unknown" if it cannot be read.
[[nodiscard]] std::string host_name();

// What does this rank's products: the backend, its version and ISA, and the CPU (the summary's
// `compute` column).
[[nodiscard]] std::string compute_description();

}  // namespace aesweep::sweep
