#pragma once
// Successive halving and hyperband over a study's runs, decided only when a rung is complete, so
// which runs go on never depends on the number of ranks or the order runs finish in.
//
// Rungs are the epochs min_epochs * eta^k below max_epochs, then max_epochs (ScheduleSettings::
// rungs). Runs compete in pools: one pool per section (a run's first section; the runs of a
// study without sections form one pool) and bracket. successive_halving has one bracket, which
// starts at the first rung. hyperband has one bracket per rung (Li et al. 2018:
// bracket s = s_max .. 0 starts at rung s_max - s); the runs go to brackets in proportion to
// Li et al.'s n_s = ceil((s_max + 1) / (s + 1) * eta^s), by a pure function of the run index:
// run i goes to the bracket whose share of a block of sum(n_s) positions holds i mod sum(n_s),
// most exploratory bracket (the first rung) first.
//
// A run trains in segments: from the start (or from its checkpoint at the rung before) up to its
// next rung. At a rung it is a candidate: paused with its state whole in the archive. When every
// run that went into rung k of a pool is a candidate there or has ended (diverged, failed, or
// stopped by its own patience rule), the best max(1, floor(n / eta)) of the n candidates, ranked by
// the metric at that epoch (lower first, NaN last, ties by run index), go on to rung k + 1; the
// rest stop (RunStatus::stopped) with their curves and weights of rung k. Runs reaching the last
// rung are complete.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "aesweep/config/run_spec.hpp"
#include "aesweep/config/study_config.hpp"
#include "aesweep/core/run_result.hpp"

namespace aesweep::sweep {

// The schedule's fixed structure: rungs, brackets, pools, and the work segments' numbering. Pure
// function of the settings and the runs; every rank builds the same one.
class RungSchedule {
 public:
  // requires: settings.active(); every run's train.epochs is settings.max_epochs.
  RungSchedule(const ScheduleSettings& settings, const std::vector<RunSpec>& runs);

  const ScheduleSettings& settings() const { return settings_; }
  const std::vector<int>& rungs() const { return rungs_; }
  int last_rung() const { return int(rungs_.size()) - 1; }
  std::size_t run_count() const { return bracket_.size(); }
  // The number of brackets (1 for successive halving).
  int brackets() const { return brackets_; }
  // The rung a run's bracket starts at, which is also the bracket's number (0 = starts at rung 0).
  int first_rung(std::size_t run) const { return bracket_[run]; }
  // Pools (section x bracket), numbered by their first run; a run's pool and a pool's runs (index order).
  std::size_t pool_count() const { return pools_.size(); }
  std::size_t pool(std::size_t run) const { return pool_of_[run]; }
  const std::vector<std::size_t>& pool_runs(std::size_t pool) const { return pools_[pool]; }

  // A segment trains `run` up to rung `rung`: from the start when rung is the run's first rung,
  // else from its checkpoint at rung - 1. Its number, a work item id: run * rungs + rung.
  std::size_t segment(std::size_t run, int rung) const { return run * rungs_.size() + std::size_t(rung); }
  std::size_t segment_run(std::size_t segment) const { return segment / rungs_.size(); }
  int segment_rung(std::size_t segment) const { return int(segment % rungs_.size()); }
  // Epochs trained before the segment (0 or the previous rung's) and at its end.
  int segment_start_epoch(std::size_t segment) const;
  int segment_stop_epoch(std::size_t segment) const { return rungs_[std::size_t(segment_rung(segment))]; }

  // The text the archive records: settings, rungs, brackets and how runs are assigned.
  std::string description() const;

 private:
  ScheduleSettings settings_;
  std::vector<int> rungs_;
  int brackets_ = 1;
  std::vector<int> bracket_;             // per run
  std::vector<std::size_t> pool_of_;     // per run
  std::vector<std::vector<std::size_t>> pools_;
};

// Hyperband's bracket of run `index` for `rung_count` rungs and `eta` (0 with one rung).
int hyperband_bracket(std::size_t index, int rung_count, int eta);
// The runs of one round of brackets, after which hyperband_bracket starts over (17 for 3 rungs, eta 3).
std::size_t hyperband_round(int rung_count, int eta);

// What rank 0 knows of one run when the sweep starts (from the archive; all pending when new).
struct ScheduledRunState {
  RunStatus status = RunStatus::pending;
  // The last rung at which the run was a candidate (its /runs_rung byte - 1), -1 for none.
  int rung = -1;
  // The metric at each rung epoch the run was a candidate at (NaN elsewhere), by rung.
  std::vector<double> metric;
};

// Rank 0's bookkeeping of the promotions. Replays the decisions a resumed archive implies, then
// takes each segment's outcome and says what to train next and which runs stop.
class Promotions {
 public:
  Promotions(const RungSchedule& schedule, std::vector<ScheduledRunState> runs);

  struct Decisions {
    std::vector<std::size_t> segments;  // to train now, ascending
    std::vector<std::size_t> stopped;   // runs that stop at the rung they are at, ascending
  };
  // The segments to train first and the runs a resumed archive's decisions stop (pending runs
  // whose rung was decided against them before a kill). Call once.
  Decisions start();
  // A segment's run is a candidate at its rung with `metric` (paused, its state saved).
  Decisions candidate(std::size_t run, int rung, double metric);
  // A segment's run ended before or at its rung's epoch (complete at the last rung, diverged,
  // failed, patience).
  Decisions ended(std::size_t run, RunStatus status);

  RunStatus status(std::size_t run) const { return runs_[run].status; }
  int rung(std::size_t run) const { return runs_[run].rung; }
  // Runs neither done nor stopped.
  std::size_t open_runs() const;

 private:
  void decide(std::size_t pool, Decisions& out);
  const RungSchedule& schedule_;
  std::vector<ScheduledRunState> runs_;
  std::vector<std::vector<std::vector<std::size_t>>> alive_;  // per pool, per rung: runs that went into it
  std::vector<int> next_decision_;                           // per pool: first undecided rung
  std::vector<char> in_flight_;                              // per run: a segment handed out
};

}  // namespace aesweep::sweep
