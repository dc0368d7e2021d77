// End-to-end: a study with a [search.NAME] section next to a [sweep.NAME] section, swept by the
// real binary under mpiexec on real MNIST digits: the archive holds the runs `aesweep plan` lists,
// the search's space in /sections, the same bits at 1 and 2 ranks, and a SIGKILLed sweep resumes
// to the uninterrupted result (issue 12 section 1).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "aesweep/archive/sweep_archive_reader.hpp"
#include "e2e_support.hpp"
#include "same_runs.hpp"

namespace fs = std::filesystem;

namespace aesweep {
namespace {

using e2e::data_dir;

using e2e::read_text;

// Two grid runs and six Sobol points (one of them may coincide with nothing: all distinct).
constexpr const char* kConfig = R"(
[model]
hidden = 16
[train]
epochs = 3
batch_size = 128
seed = 7
[sweep.grid]
model.hidden = 8, 24
[search.pen]
method = sobol
runs = 6
seed = 11
reg.l1_activity = loguniform(1e-6, 1e-3)
reg.dropout = uniform(0, 0.5)
model.hidden = int(8, 32)
)";

// Slower runs for the kill test: eight random points.
constexpr const char* kSlowConfig = R"(
[model]
hidden = 64
[train]
epochs = 60
batch_size = 64
seed = 3
[search.slow]
method = random
runs = 8
seed = 2
reg.l2_kernel = loguniform(1e-6, 1e-4)
reg.dropout = uniform(0, 0.6)
)";

class SearchE2E : public e2e::DirectoryTest {
 protected:
  SearchE2E() : DirectoryTest("aesweep-search-e2e") {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(DirectoryTest::SetUp());
    write(dir_ / "study.ini", kConfig);
    write(dir_ / "slow.ini", kSlowConfig);
  }
  std::vector<std::string> sweep_args(int ranks, const std::string& config, const std::string& out) const {
    return sweep_command(ranks, config, out, "1500", "400");
  }
};

using e2e::expect_same_runs;

std::string setting(const ArchivedRun& run, const std::string& key) {
  for (const auto& s : run.settings)
    if (s.key == key) return s.value;
  return "";
}

TEST_F(SearchE2E, OneAndTwoRanksGiveIdenticalArchivesOfThePlannedRuns) {
  ASSERT_EQ(run({AESWEEP_BINARY, "plan", (dir_ / "study.ini").string()}, "plan.txt"), 0) << log("plan.txt");
  const std::string plan = log("plan.txt");
  EXPECT_NE(plan.find("8 runs in 1 sweep sections and 1 search section"), std::string::npos) << plan;
  EXPECT_NE(plan.find("[search.pen]: sobol, seed 11, 6 points: reg.l1_activity = loguniform(1e-06, 0.001), "
                      "reg.dropout = uniform(0, 0.5), model.hidden = int(8, 32)"),
            std::string::npos)
      << plan;

  ASSERT_EQ(run(sweep_args(1, "study.ini", "np1.h5"), "np1.txt"), 0) << log("np1.txt");
  ASSERT_EQ(run(sweep_args(2, "study.ini", "np2.h5"), "np2.txt"), 0) << log("np2.txt");
  expect_same_runs((dir_ / "np1.h5").string(), (dir_ / "np2.h5").string());

  auto archive = SweepArchiveReader::open((dir_ / "np2.h5").string());
  ASSERT_EQ(archive.run_count(), 8u);
  // The search's space is stored with its section; the grid section has none.
  const auto& sections = archive.header().sections;
  ASSERT_EQ(sections.size(), 2u);
  EXPECT_EQ(sections[0].name, "grid");
  EXPECT_EQ(sections[0].method, "");
  EXPECT_EQ(sections[1].name, "pen");
  EXPECT_EQ(sections[1].method, "sobol");
  EXPECT_EQ(sections[1].seed, 11);
  EXPECT_EQ(sections[1].points, 6);
  EXPECT_EQ(sections[1].distributions,
            (std::vector<std::string>{"reg.l1_activity = loguniform(1e-06, 0.001)", "reg.dropout = uniform(0, 0.5)",
                                      "model.hidden = int(8, 32)"}));
  EXPECT_EQ(sections[1].swept_keys, (std::vector<std::string>{"reg.l1_activity", "reg.dropout", "model.hidden"}));
  EXPECT_EQ(sections[1].runs, (std::vector<std::int64_t>{2, 3, 4, 5, 6, 7}));
  // Each search run in the archive is the one plan listed: its line holds its drawn values.
  for (std::size_t i = 2; i < 8; ++i) {
    const ArchivedRun& r = archive.run(i);
    EXPECT_EQ(r.section, "pen");
    EXPECT_EQ(r.state, RunStatus::complete);
    char index[16];
    std::snprintf(index, sizeof index, "%6zu  ", i);
    const auto line_start = plan.find(index);
    ASSERT_NE(line_start, std::string::npos) << i;
    const std::string line = plan.substr(line_start, plan.find('\n', line_start) - line_start);
    for (const char* key : {"reg.l1_activity", "reg.dropout", "model.hidden"})
      EXPECT_NE(line.find(std::string(key) + "=" + setting(r, key)), std::string::npos) << line;
    const double dropout = std::stod(setting(r, "reg.dropout"));
    EXPECT_GE(dropout, 0.0);
    EXPECT_LE(dropout, 0.5);
    EXPECT_EQ(r.shape.hidden, std::stoi(setting(r, "model.hidden")));
  }
}

using e2e::any_process_with;
using e2e::kill_processes_with;

TEST_F(SearchE2E, SigkillThenResumeEqualsTheUninterruptedSearch) {
  ASSERT_EQ(run(sweep_args(2, "slow.ini", "reference.h5"), "reference.txt"), 0) << log("reference.txt");
  const std::string out = (dir_ / "killed.h5").string();
  const pid_t pid = e2e::spawn_logged(sweep_args(2, "slow.ini", "killed.h5"), (dir_ / "killed.txt").string());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline && log("killed.txt").find("[2/8]") == std::string::npos)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // inside the next runs
  kill_processes_with(out);
  e2e::wait_exit(pid);
  for (int i = 0; i < 300 && any_process_with(out); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));

  expect_same_runs(out, (dir_ / "reference.h5").string(), /*only_complete_in_a=*/true);
  const auto states = SweepArchiveReader::open(out).read_states();
  const auto complete = std::count(states.begin(), states.end(), RunStatus::complete);
  EXPECT_GE(complete, 2);
  EXPECT_LT(complete, 8) << "the kill came too late to interrupt anything";
  ASSERT_EQ(run(sweep_args(2, "slow.ini", "killed.h5"), "resume.txt"), 0) << log("resume.txt");
  EXPECT_NE(log("resume.txt").find(std::to_string(complete) + " already complete"), std::string::npos)
      << log("resume.txt");
  expect_same_runs(out, (dir_ / "reference.h5").string());
}

}  // namespace
}  // namespace aesweep
