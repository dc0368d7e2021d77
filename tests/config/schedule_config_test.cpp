// The [schedule] section (issue 12 section 2): parsing, the rules between its keys and the training
// options (errors naming file, line and key), its rungs, --set schedule.KEY, and the study hash:
// part of it when a schedule is active, and every jobs/*.ini without one keeps the hash its
// archives carry.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aesweep/config/grid.hpp"
#include "aesweep/config/study_config.hpp"
#include "aesweep/core/error.hpp"
#include "config_errors.hpp"

namespace aesweep {
namespace {

const char* const kBase = "[train]\nvalidation_split = 0.1\n[sweep.a]\nreg.l1_activity = 0, 1e-5, 1e-4\n";

StudyConfig parse(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return parse_study_config(text, "s.ini", overrides);
}

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return test::config_error_of([&] { expand_study(parse(text, overrides)); });
}

void expect_error(const std::string& text, std::initializer_list<std::string> parts,
                  const std::vector<std::string>& overrides = {}) {
  test::expect_config_error(error_of(text, overrides), text, "", parts);
}

TEST(ScheduleConfig, ParsesEveryKeyAndSetsTheRunsEpochs) {
  const StudyConfig c = parse(std::string(kBase) +
                              "[schedule]\nkind = successive_halving\nmetric = validation_loss\nmin_epochs = 1\n"
                              "max_epochs = 27\neta = 3\n");
  EXPECT_EQ(c.schedule.kind, ScheduleKind::successive_halving);
  EXPECT_EQ(c.schedule.metric, ScheduleMetric::validation_loss);
  EXPECT_EQ(c.schedule.min_epochs, 1);
  EXPECT_EQ(c.schedule.max_epochs, 27);
  EXPECT_EQ(c.schedule.eta, 3);
  EXPECT_EQ(c.schedule.origin, "config s.ini line 5");
  EXPECT_EQ(c.schedule.rungs(), (std::vector<int>{1, 3, 9, 27}));
  for (const auto& run : expand_study(c)) EXPECT_EQ(run.options.training.epochs, 27);
  // eta defaults to 3; test_loss needs no split; max_epochs may come from train.epochs.
  const StudyConfig d = parse("[train]\nepochs = 10\n[schedule]\nkind = hyperband\nmetric = test_loss\nmin_epochs = 2\n");
  EXPECT_EQ(d.schedule.eta, 3);
  EXPECT_EQ(d.schedule.max_epochs, 10);
  EXPECT_EQ(d.schedule.rungs(), (std::vector<int>{2, 6, 10}));
}

TEST(ScheduleConfig, RungsAreMinTimesEtaToTheKCappedByMax) {
  ScheduleSettings s;
  s.kind = ScheduleKind::successive_halving;
  s.min_epochs = 3, s.max_epochs = 27, s.eta = 3;
  EXPECT_EQ(s.rungs(), (std::vector<int>{3, 9, 27}));
  s.max_epochs = 20;
  EXPECT_EQ(s.rungs(), (std::vector<int>{3, 9, 20}));
  s.min_epochs = 20;
  EXPECT_EQ(s.rungs(), (std::vector<int>{20}));
  s.min_epochs = 1, s.max_epochs = 100000, s.eta = 1000;
  EXPECT_EQ(s.rungs(), (std::vector<int>{1, 1000, 100000}));
  s.min_epochs = 7, s.max_epochs = 100000, s.eta = 2;  // no overflow on the way
  EXPECT_EQ(s.rungs().back(), 100000);
  EXPECT_EQ(s.rungs()[1], 14);
}

TEST(ScheduleConfig, BadSchedulesAreErrorsNamingFileLineAndKey) {
  const std::string b = kBase;
  expect_error(b + "[schedule]\nkind = asha\nmin_epochs = 1\n", {"s.ini line 6", "schedule.kind", "asha"});
  expect_error(b + "[schedule]\nmin_epochs = 1\nmax_epochs = 9\n", {"s.ini line 5", "schedule.kind", "lacks"});
  expect_error(b + "[schedule]\nkind = hyperband\nmax_epochs = 9\n", {"s.ini line 5", "schedule.min_epochs"});
  expect_error(b + "[schedule]\nkind = hyperband\nmin_epochs = 10\nmax_epochs = 9\n",
               {"s.ini line 7", "schedule.min_epochs", "more than max_epochs = 9"});
  expect_error(b + "[schedule]\nkind = hyperband\nmin_epochs = 1\nmax_epochs = 9\neta = 1\n",
               {"s.ini line 9", "schedule.eta", "[2, 1000]"});
  expect_error(b + "[schedule]\nkind = hyperband\nmin_epochs = 1.5\nmax_epochs = 9\n", {"line 7", "schedule.min_epochs"});
  expect_error(b + "[schedule]\nkind = hyperband\nmin_epochs = 0\nmax_epochs = 9\n", {"line 7", "schedule.min_epochs"});
  expect_error(b + "[schedule]\nkind = hyperband\nmin_epochs = 1\nmax_epochs = nan\n", {"line 8", "schedule.max_epochs"});
  expect_error(b + "[schedule]\nkind = hyperband\nmin_epochs = 1\nmax_epochs = 9\nmetric = accuracy\n",
               {"line 9", "schedule.metric", "accuracy"});
  expect_error(b + "[schedule]\nkind = hyperband\nmin_epochs = 1\nmax_epochs = 9\nrungs = 4\n",
               {"line 9", "unknown key", "rungs"});
  // No validation split for the validation metric.
  expect_error("[sweep.a]\nreg.l1_activity = 0, 1e-5\n[schedule]\nkind = successive_halving\nmin_epochs = 1\n"
               "max_epochs = 9\nmetric = validation_loss\n",
               {"line 7", "schedule.metric", "train.validation_split"});
  // The default metric is validation_loss too: the error points at the section.
  expect_error("[schedule]\nkind = successive_halving\nmin_epochs = 1\nmax_epochs = 9\n", {"line 1", "validation split"});
  // max_epochs and train.epochs disagree, or epochs swept.
  expect_error("[train]\nepochs = 10\nvalidation_split = 0.1\n[schedule]\nkind = hyperband\nmin_epochs = 1\nmax_epochs = 9\n",
               {"line 7", "schedule.max_epochs", "train.epochs = 10", "line 2"});
  expect_error(b + "train.epochs = 3, 9\n[schedule]\nkind = hyperband\nmin_epochs = 1\nmax_epochs = 9\n",
               {"line 5", "train.epochs", "[sweep.a]"});
  expect_error(b + "[schedule]\nkind = hyperband\nmin_epochs = 1\n", {"line 5", "schedule.max_epochs"});
  // A dotted schedule key outside the section.
  expect_error(std::string("schedule.kind = hyperband\n") + kBase, {"line 1", "[schedule]"});
  // --set with a bad value names the --set.
  expect_error(b + "[schedule]\nkind = hyperband\nmin_epochs = 1\nmax_epochs = 9\n", {"--set schedule.eta=x", "schedule.eta"},
               {"schedule.eta=x"});
}

TEST(ScheduleConfig, KindNoneIsTodaysStudy) {
  const std::string b = kBase;
  const StudyConfig none = parse(b + "[schedule]\nkind = none\nmin_epochs = 1\nmax_epochs = 27\n");
  const StudyConfig plain = parse(b);
  EXPECT_FALSE(none.schedule.active());
  EXPECT_EQ(study_hash(none, expand_study(none)), study_hash(plain, expand_study(plain)));
  // and none ignores the rest: no rule between its keys and the options is checked
  EXPECT_EQ(error_of(b + "[schedule]\nkind = none\nmin_epochs = 50\nmax_epochs = 27\n"), "");
}

TEST(ScheduleConfig, AScheduleIsPartOfTheStudyHash) {
  const std::string b = kBase;
  const std::string sh = b + "[schedule]\nkind = successive_halving\nmin_epochs = 1\nmax_epochs = 27\n";
  const StudyConfig plain = parse(b, {"train.epochs=27"});
  const StudyConfig a = parse(sh);
  const std::string h = study_hash(a, expand_study(a));
  EXPECT_NE(h, study_hash(plain, expand_study(plain)));
  for (const std::string& other : {b + "[schedule]\nkind = hyperband\nmin_epochs = 1\nmax_epochs = 27\n",
                                   b + "[schedule]\nkind = successive_halving\nmin_epochs = 3\nmax_epochs = 27\n",
                                   b + "[schedule]\nkind = successive_halving\nmin_epochs = 1\nmax_epochs = 27\neta = 2\n",
                                   b + "[schedule]\nkind = successive_halving\nmin_epochs = 1\nmax_epochs = 27\n"
                                       "metric = test_loss\n"}) {
    const StudyConfig c = parse(other);
    EXPECT_NE(study_hash(c, expand_study(c)), h) << other;
  }
  // Written differently (eta's default spelled out, comments): the same study.
  const StudyConfig same = parse(b + "[schedule]  # early stopping\nmax_epochs = 27\nmin_epochs = 1\neta = 3\n"
                                     "kind = successive_halving\n");
  EXPECT_EQ(study_hash(same, expand_study(same)), h);
  // --set switches it off (today's hash) or changes it.
  const StudyConfig off = parse(sh, {"schedule.kind=none"});
  EXPECT_FALSE(off.schedule.active());
  const StudyConfig today = parse(b);  // kind = none ignores max_epochs: train.epochs keeps its default
  EXPECT_EQ(study_hash(off, expand_study(off)), study_hash(today, expand_study(today)));
  const StudyConfig eta2 = parse(sh, {"schedule.eta=2"});
  EXPECT_EQ(eta2.schedule.eta, 2);
  EXPECT_EQ(eta2.overrides, std::vector<std::string>{"schedule.eta=2"});
}

// Every job of jobs/ keeps the hash its archives carry (search_plan_test checks each against the
// values from before schedules existed); search_penalties.ini, which has a schedule now, keeps its
// old hash with schedule.kind=none.
TEST(ScheduleConfig, ThePenaltySearchKeepsItsHashWithoutItsSchedule) {
  const std::string penalties = std::string(AESWEEP_JOBS_DIR) + "/search_penalties.ini";
  const StudyConfig scheduled = load_study_config(penalties, {});
  EXPECT_TRUE(scheduled.schedule.active());
  EXPECT_NE(study_hash(scheduled, StudyPlan(scheduled)), "9f23a026e539af91");
  const StudyConfig none = load_study_config(penalties, {"schedule.kind=none"});
  EXPECT_EQ(study_hash(none, StudyPlan(none)), "9f23a026e539af91");
}

}  // namespace
}  // namespace aesweep
