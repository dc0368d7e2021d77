// The groups plan shows and the sweep trains are group_runs' groups: fuse_groups and
// fuse_group_numbers form them in one pass (group_runs scans pairs) and must agree with it exactly.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "aesweep/cli/common.hpp"
#include "aesweep/config/grid.hpp"
#include "aesweep/config/study_config.hpp"
#include "aesweep/core/trainer.hpp"

namespace aesweep {
namespace {

TEST(FuseGroups, SameGroupsAsGroupRuns) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<RunSpec> runs(std::size_t(1 + rng() % 60));
    std::vector<TrainOptions> options;
    for (auto& run : runs) {
      TrainOptions& o = run.options;
      o.model.hidden = int(4 + 4 * (rng() % 5));  // 4 to 20: some above max_hidden
      o.training.seed = 1 + rng() % 3;
      o.training.batch_size = rng() % 4 == 0 ? 64 : 128;
      o.training.validation_split = rng() % 5 == 0 ? 0.1 : (rng() % 2 ? 0.0 : -0.0);  // -0.0 == 0.0 there
      o.noise.kind = rng() % 6 == 0 ? NoiseKind::gaussian : NoiseKind::none;
      o.reg.l1_activity = double(rng() % 3) * 1e-4;  // does not matter for grouping
      options.push_back(o);
    }
    for (int max_group : {1, 2, 3, 8}) {
      for (int max_hidden : {1, 12, 100}) {
        const cli::FuseSettings fuse{max_group, max_hidden};
        const auto expected = group_runs(options, max_group, max_hidden);
        ASSERT_EQ(cli::fuse_groups(runs, fuse), expected) << "trial " << trial;
      }
    }
  }
}

TEST(FuseGroups, PlanNumbersTheGroupsOfTwoOrMoreInOrder) {
  const StudyConfig config = parse_study_config(
      "[model]\nhidden = 8\n[sweep.s]\nmodel.hidden = 8, 32\ntrain.seed = 1, 2\nreg.l1_activity = 0, 1e-4, 1e-3\n",
      "g.ini", {});
  const StudyPlan plan(config);
  const auto runs = expand_study(config);
  const cli::FuseSettings fuse{2, 12};
  std::size_t groups = 0;
  const auto number = cli::fuse_group_numbers(plan, fuse, groups);
  ASSERT_EQ(number.size(), runs.size());
  // hidden 8: seeds 1 and 2 each have three runs -> a pair and a lone run each; hidden 32 alone.
  EXPECT_EQ(groups, 2u);
  std::vector<std::uint32_t> expected(runs.size(), 0);
  std::uint32_t next = 0;
  for (const auto& group : cli::fuse_groups(runs, fuse)) {
    if (group.size() < 2) continue;
    ++next;
    for (std::size_t i : group) expected[i] = next;
  }
  EXPECT_EQ(number, expected);
  EXPECT_EQ(number, (std::vector<std::uint32_t>{1, 1, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0}));
}

}  // namespace
}  // namespace aesweep
