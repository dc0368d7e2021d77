// Successive halving and hyperband decisions (src/sweep/schedule.cpp), without training: runs
// with made-up metrics, finishing in many orders. The decisions never depend on the order, a
// resumed bookkeeping (from what an archive records) makes the same ones, ties go by run index,
// NaN ranks last, runs that end early are out, and hyperband's brackets follow Li et al.
#include "aesweep/sweep/schedule.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

namespace aesweep::sweep {
namespace {

ScheduleSettings settings(ScheduleKind kind, int min_epochs, int max_epochs, int eta = 3) {
  ScheduleSettings s;
  s.kind = kind;
  s.min_epochs = min_epochs;
  s.max_epochs = max_epochs;
  s.eta = eta;
  return s;
}

std::vector<RunSpec> runs(std::size_t n, int epochs, std::size_t sections = 1) {
  std::vector<RunSpec> r(n);
  for (std::size_t i = 0; i < n; ++i) {
    r[i].index = i;
    r[i].section = "s" + std::to_string(i * sections / n);
    r[i].options.training.epochs = epochs;
  }
  return r;
}

// What training a segment gives: a metric at the rung, or the run ending there.
struct Outcome {
  bool ends = false;
  RunStatus status = RunStatus::complete;
  double metric = 0;
};
using Oracle = std::function<Outcome(std::size_t run, int rung)>;

struct Final {
  std::vector<RunStatus> status;
  std::vector<int> rung;
  bool operator==(const Final&) const = default;
};

// Runs the schedule to its end, taking finished segments in the order `rng` picks (nullptr: in
// hand-out order). `kill_after` events: stop there and return the archive's view instead.
Final simulate(const RungSchedule& schedule, const Oracle& oracle, std::mt19937* rng,
               std::vector<ScheduledRunState> start_state = {}, std::size_t kill_after = SIZE_MAX,
               std::vector<ScheduledRunState>* archive = nullptr) {
  if (start_state.empty()) start_state.resize(schedule.run_count());
  std::vector<ScheduledRunState> seen = start_state;  // what the archive would hold
  for (auto& s : seen) s.metric.resize(schedule.rungs().size(), std::nan(""));
  Promotions p(schedule, start_state);
  auto d = p.start();
  std::vector<std::size_t> flight = d.segments;
  for (auto run : d.stopped) seen[run].status = RunStatus::stopped;
  std::size_t events = 0;
  while (!flight.empty()) {
    if (events++ == kill_after) {
      if (archive != nullptr) *archive = seen;  // a kill without an archive to look at: nothing to keep
      return {};
    }
    const std::size_t at = rng ? std::uniform_int_distribution<std::size_t>(0, flight.size() - 1)(*rng) : 0;
    const std::size_t segment = flight[at];
    flight.erase(flight.begin() + std::ptrdiff_t(at));
    const std::size_t run = schedule.segment_run(segment);
    const int rung = schedule.segment_rung(segment);
    const Outcome o = oracle(run, rung);
    if (o.ends || rung == schedule.last_rung()) {
      seen[run].status = o.ends ? o.status : RunStatus::complete;
      d = p.ended(run, seen[run].status);
    } else {
      seen[run].rung = rung;
      seen[run].metric[std::size_t(rung)] = o.metric;
      d = p.candidate(run, rung, o.metric);
    }
    flight.insert(flight.end(), d.segments.begin(), d.segments.end());
    for (auto r : d.stopped) seen[r].status = RunStatus::stopped;
  }
  Final f;
  for (std::size_t i = 0; i < schedule.run_count(); ++i) {
    f.status.push_back(p.status(i));
    f.rung.push_back(p.rung(i));
    EXPECT_EQ(p.status(i), seen[i].status) << i;
  }
  EXPECT_EQ(p.open_runs(), 0u);
  return f;
}

// Metric of a run at a rung: a fixed pseudo-random number, some ties.
double metric(std::size_t run, int rung) { return double((run * 7919 + std::size_t(rung) * 104729) % 13); }

TEST(RungSchedule, SuccessiveHalvingKeepsTheBestThirdAtEachRung) {
  const auto s = settings(ScheduleKind::successive_halving, 1, 27);
  const RungSchedule schedule(s, runs(27, 27));
  EXPECT_EQ(schedule.rungs(), (std::vector<int>{1, 3, 9, 27}));
  EXPECT_EQ(schedule.pool_count(), 1u);
  const Final f = simulate(schedule, [](std::size_t run, int) { return Outcome{false, {}, double(26 - run)}; }, nullptr);
  // Lowest metric is the highest index: 27 -> 9 -> 3 -> 1 run.
  for (std::size_t i = 0; i < 27; ++i) {
    // The last rung each was a candidate at (the complete one's is 2: the last rung is no pause).
    EXPECT_EQ(f.rung[i], i >= 24 ? 2 : i >= 18 ? 1 : 0) << i;
    EXPECT_EQ(f.status[i], i == 26 ? RunStatus::complete : RunStatus::stopped) << i;
  }
}

TEST(RungSchedule, TiesGoByRunIndexNaNRanksLastAndEndedRunsAreOut) {
  const RungSchedule schedule(settings(ScheduleKind::successive_halving, 1, 3), runs(6, 3));
  // All tie at rung 0 but run 1 (NaN) and run 4 (diverges): 4 candidates, floor(4/3) = 1 goes on,
  // the lowest index among the ties.
  const Final f = simulate(schedule, [](std::size_t run, int) {
    if (run == 4) return Outcome{true, RunStatus::diverged, 0};
    return Outcome{false, {}, run == 1 ? std::nan("") : 0.5};
  }, nullptr);
  EXPECT_EQ(f.status, (std::vector<RunStatus>{RunStatus::complete, RunStatus::stopped, RunStatus::stopped,
                                              RunStatus::stopped, RunStatus::diverged, RunStatus::stopped}));
  // Only NaN metrics: floor(6 / 3) = 2 still go on, by index.
  const Final g = simulate(schedule, [](std::size_t, int) { return Outcome{false, {}, std::nan("")}; }, nullptr);
  EXPECT_EQ(g.status[0], RunStatus::complete);
  EXPECT_EQ(g.status[1], RunStatus::complete);
  EXPECT_EQ(std::count(g.status.begin(), g.status.end(), RunStatus::stopped), 4);
  // Two candidates with eta 3: floor(2 / 3) = 0, but at least one goes on.
  const RungSchedule two(settings(ScheduleKind::successive_halving, 1, 3), runs(2, 3));
  const Final t = simulate(two, [](std::size_t run, int) { return Outcome{false, {}, run == 0 ? 2.0 : 1.0}; }, nullptr);
  EXPECT_EQ(t.status, (std::vector<RunStatus>{RunStatus::stopped, RunStatus::complete}));
  // Every run ends before the rung: nothing to decide, nothing stopped.
  const Final h = simulate(schedule, [](std::size_t, int) { return Outcome{true, RunStatus::failed, 0}; }, nullptr);
  EXPECT_EQ(std::count(h.status.begin(), h.status.end(), RunStatus::failed), 6);
}

TEST(RungSchedule, DecisionsDoNotDependOnTheOrderRunsFinishIn) {
  for (const auto kind : {ScheduleKind::successive_halving, ScheduleKind::hyperband}) {
    const RungSchedule schedule(settings(kind, 1, 9, 3), runs(40, 9, 3));
    const Oracle oracle = [](std::size_t run, int rung) {
      if (run % 11 == 5 && rung == 1) return Outcome{true, RunStatus::diverged, 0};
      if (run % 13 == 3) return Outcome{true, RunStatus::complete, 0};  // patience
      return Outcome{false, {}, metric(run, rung)};
    };
    const Final in_order = simulate(schedule, oracle, nullptr);
    EXPECT_GT(std::count(in_order.status.begin(), in_order.status.end(), RunStatus::stopped), 10);
    EXPECT_GT(std::count(in_order.status.begin(), in_order.status.end(), RunStatus::complete), 3);
    for (unsigned seed = 1; seed <= 30; ++seed) {
      std::mt19937 rng(seed);
      EXPECT_EQ(simulate(schedule, oracle, &rng), in_order) << "seed " << seed;
    }
  }
}

TEST(RungSchedule, AResumeFromWhatTheArchiveHoldsDecidesTheSame) {
  for (const auto kind : {ScheduleKind::successive_halving, ScheduleKind::hyperband}) {
    const RungSchedule schedule(settings(kind, 1, 27, 3), runs(30, 27, 2));
    const Oracle oracle = [](std::size_t run, int rung) {
      if (run == 7 && rung == 2) return Outcome{true, RunStatus::diverged, 0};
      return Outcome{false, {}, metric(run, rung)};
    };
    const Final whole = simulate(schedule, oracle, nullptr);
    for (std::size_t kill : {0, 1, 5, 17, 29, 30, 31, 40, 45}) {
      std::mt19937 rng{static_cast<unsigned>(kill)};
      std::vector<ScheduledRunState> archive;
      simulate(schedule, oracle, &rng, {}, kill, &archive);
      if (archive.empty()) continue;  // finished before the kill
      std::mt19937 rng2{static_cast<unsigned>(kill) + 100};
      EXPECT_EQ(simulate(schedule, oracle, &rng2, archive), whole) << "killed after " << kill;
    }
  }
}

TEST(RungSchedule, HyperbandBracketsFollowLiEtAl) {
  // rungs 1, 3, 9, 27: s_max = 3, n_s = ceil(4 / (s + 1) * 3^s) = 27, 12 (ceil 4/3*9), 6, 4.
  std::map<int, int> count;
  for (std::size_t i = 0; i < 49; ++i) ++count[hyperband_bracket(i, 4, 3)];
  EXPECT_EQ(count, (std::map<int, int>{{0, 27}, {1, 12}, {2, 6}, {3, 4}}));
  EXPECT_EQ(hyperband_bracket(49, 4, 3), 0);  // the pattern repeats
  EXPECT_EQ(hyperband_bracket(48, 4, 3), 3);
  EXPECT_EQ(hyperband_bracket(5, 1, 3), 0);
  const RungSchedule schedule(settings(ScheduleKind::hyperband, 1, 27, 3), runs(60, 27));
  EXPECT_EQ(schedule.brackets(), 4);
  EXPECT_EQ(schedule.pool_count(), 4u);
  for (std::size_t i = 0; i < 60; ++i) {
    EXPECT_EQ(schedule.first_rung(i), hyperband_bracket(i, 4, 3));
    const std::size_t seg = schedule.segment(i, schedule.first_rung(i));
    EXPECT_EQ(schedule.segment_run(seg), i);
    EXPECT_EQ(schedule.segment_start_epoch(seg), 0);
  }
  // A bracket that starts at the last rung trains its runs straight to the end.
  const Final f = simulate(schedule, [](std::size_t run, int rung) { return Outcome{false, {}, metric(run, rung)}; }, nullptr);
  for (std::size_t i = 0; i < 60; ++i) {
    if (schedule.first_rung(i) == 3) {
      EXPECT_EQ(f.status[i], RunStatus::complete) << i;
    }
  }
}

TEST(RungSchedule, SegmentsAndMisuse) {
  const RungSchedule schedule(settings(ScheduleKind::successive_halving, 3, 20, 3), runs(4, 20));
  EXPECT_EQ(schedule.rungs(), (std::vector<int>{3, 9, 20}));
  const std::size_t seg = schedule.segment(2, 1);
  EXPECT_EQ(schedule.segment_start_epoch(seg), 3);
  EXPECT_EQ(schedule.segment_stop_epoch(seg), 9);
  EXPECT_THROW(RungSchedule(settings(ScheduleKind::none, 1, 3), runs(2, 3)), std::invalid_argument);
  EXPECT_THROW(RungSchedule(settings(ScheduleKind::hyperband, 1, 9), runs(2, 3)), std::invalid_argument);
  Promotions p(schedule, std::vector<ScheduledRunState>(4));
  p.start();
  EXPECT_THROW(p.candidate(0, 2, 1.0), std::logic_error);  // the last rung is not a pause
  p.candidate(0, 0, 1.0);
  EXPECT_THROW(p.candidate(0, 0, 1.0), std::logic_error);   // twice
  EXPECT_THROW(p.ended(0, RunStatus::complete), std::logic_error);  // not in flight any more
  EXPECT_THROW(p.ended(1, RunStatus::pending), std::logic_error);
  EXPECT_THROW(Promotions(schedule, std::vector<ScheduledRunState>(3)), std::invalid_argument);
}

}  // namespace
}  // namespace aesweep::sweep
