// End-to-end tests of `aesweep status` (issue 12): called again and again while `aesweep sweep`
// runs under mpiexec on real MNIST digits and writes the archive (parallel HDF5, MPI-IO), every
// call succeeds and its counts only grow; the final counts and Pareto front match the archive;
// hostile input is a one-line error with exit status 2.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "aesweep/archive/sweep_archive_reader.hpp"
#include "e2e_support.hpp"

namespace fs = std::filesystem;

namespace aesweep {
namespace {

// Ten runs of a few tenths of a second each: nine complete (l1 and dropout penalties), one that diverges.
constexpr const char* kConfig = R"(
[model]
hidden = 128
[train]
epochs = 8
batch_size = 64
seed = 5
[sweep.l1]
reg.l1_activity = 0, 1e-5, 1e-4, 1e-3, 3e-3
[sweep.dropout]
reg.dropout = 0.1, 0.3, 0.5, 0.7
[sweep.boom]
encoder.activation = identity
decoder.activation = identity
optimizer.name = sgd
optimizer.learning_rate = 10
)";

using e2e::read_text;

// The "counts" object of status --json: state -> runs.
std::map<std::string, long> counts(const std::string& json) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex(R"("counts": \{([^}]*)\})"))) return {};
  std::map<std::string, long> out;
  const std::string body = m[1];
  const std::regex pair(R"re("([a-z_]+)": (\d+))re");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), pair); it != std::sregex_iterator(); ++it)
    out[(*it)[1]] = std::stol((*it)[2]);
  return out;
}

std::vector<std::size_t> json_front(const std::string& json) {
  std::smatch m;
  std::vector<std::size_t> out;
  if (!std::regex_search(json, m, std::regex(R"("pareto_front": \[([0-9, ]*)\])"))) return out;
  std::istringstream in(std::regex_replace(std::string(m[1]), std::regex(","), " "));
  for (std::size_t i; in >> i;) out.push_back(i);
  return out;
}

class StatusE2E : public e2e::DirectoryTest {
 protected:
  StatusE2E() : DirectoryTest("aesweep-status-e2e") {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(DirectoryTest::SetUp());
    write(dir_ / "study.ini", kConfig);
  }
  // `aesweep status ARGS...`: exit status, stdout+stderr in *output.
  int status(const std::vector<std::string>& args, std::string* output) const {
    std::vector<std::string> argv = {AESWEEP_BINARY, "status"};
    argv.insert(argv.end(), args.begin(), args.end());
    const fs::path log_file = dir_ / "status.txt";
    const int code = e2e::wait_exit(e2e::spawn_logged(argv, log_file.string()));
    *output = read_text(log_file);
    return code;
  }
};

TEST_F(StatusE2E, WatchesARunningSweepUnderMpiexecAndEveryCountOnlyGrows) {
  const std::string archive = (dir_ / "study.h5").string();
  const pid_t sweep = e2e::spawn_logged(
      {MPIEXEC, "-np", "2", "--oversubscribe", AESWEEP_BINARY, "sweep", (dir_ / "study.ini").string(), "--out",
       archive, "--data", e2e::data_dir(), "--train-samples", "8000", "--test-samples", "500", "--fuse", "1"},
      (dir_ / "sweep.txt").string());
  std::map<std::string, long> last;
  int calls = 0, calls_mid_sweep = 0;
  int sweep_exit = -1;
  while (true) {
    int wstatus = 0;
    const pid_t done = waitpid(sweep, &wstatus, WNOHANG);
    if (done == sweep) {
      sweep_exit = e2e::exit_status(wstatus);
      break;
    }
    // The archive appears whole (built under another name, then renamed); from then on every call
    // must succeed.
    if (fs::exists(archive)) {
      std::string out;
      const int code = status({archive, "--json"}, &out);
      ASSERT_EQ(code, 0) << "call " << calls << " during the sweep failed:\n" << out;
      const auto now = counts(out);
      ASSERT_EQ(now.at("runs"), 10) << out;
      ASSERT_EQ(now.at("pending") + now.at("complete") + now.at("diverged") + now.at("failed"), 10) << out;
      for (const auto& [state, n] : last) {
        if (state == "pending") EXPECT_LE(now.at(state), n) << "pending runs came back:\n" << out;
        else EXPECT_GE(now.at(state), n) << state << " shrank:\n" << out;
      }
      if (now.at("done") > 0 && now.at("done") < 10) {
        ++calls_mid_sweep;
        // Part-way, the sweep holds the archive's writer lock, and status names it.
        EXPECT_NE(out.find("\"writer\": \"aesweep sweep, pid "), std::string::npos) << out;
      }
      last = now;
      ++calls;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(sweep_exit, 0) << read_text(dir_ / "sweep.txt");
  std::printf("aesweep status ran %d times while the sweep ran, %d of them with the sweep part-way\n", calls,
              calls_mid_sweep);
  EXPECT_GE(calls, 3) << "status was called only " << calls << " times while the sweep ran";
  EXPECT_GE(calls_mid_sweep, 1) << "no call saw the sweep part-way (" << calls << " calls)";

  std::string out;
  ASSERT_EQ(status({archive, "--json", "--top", "20"}, &out), 0) << out;
  const auto final_counts = counts(out);
  EXPECT_EQ(final_counts.at("pending"), 0);
  EXPECT_EQ(final_counts.at("complete"), 9);
  EXPECT_EQ(final_counts.at("diverged"), 1);
  EXPECT_EQ(final_counts.at("failed"), 0);
  EXPECT_EQ(final_counts.at("done"), 10);
  EXPECT_NE(out.find("\"writer\": null, \"writer_lock\": \"absent\""), std::string::npos) << "the sweep ended:\n"
                                                                                            << out;
  // The front status computes is the one the sweep marked in /summary when it finished.
  const auto reader = SweepArchiveReader::open_to_watch(archive);
  std::vector<std::size_t> marked;
  for (const auto& row : reader.read_done_summary().done)
    if (row.pareto_front.value_or(false)) marked.push_back(row.index);
  EXPECT_FALSE(marked.empty());
  EXPECT_EQ(json_front(out), marked) << out;
  EXPECT_NE(out.find("\"ranked\": 9"), std::string::npos) << "the diverged run has no finite test MSE:\n" << out;

  ASSERT_EQ(status({archive, "--top", "3", "--by", "latent_density"}, &out), 0) << out;
  EXPECT_NE(out.find("runs: 0 pending, 9 complete, 1 diverged, 0 failed, 0 stopped (10 of 10 done, 100%)"), std::string::npos) << out;
  EXPECT_NE(out.find("best 3 of 10 runs by latent_density (lowest first):"), std::string::npos) << out;
  EXPECT_NE(out.find("  boom     0 pending, 0 complete, 1 diverged"), std::string::npos) << out;
}

TEST_F(StatusE2E, HostileInputIsOneLineAndExitStatusTwo) {
  std::ofstream(dir_ / "notes.txt") << "this is not an archive\n";
  {
    std::ofstream cut(dir_ / "cut.h5", std::ios::binary);
    cut << std::string("\x89HDF\r\n\x1a\n", 8) << std::string(200, '\0');  // an HDF5 signature, then nothing
  }
  const std::string notes = (dir_ / "notes.txt").string(), cut = (dir_ / "cut.h5").string();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{notes}, "is not an HDF5 file"},
      {{cut}, "cannot be read: it is damaged, truncated or not an aesweep archive"},
      {{(dir_ / "missing.h5").string()}, "does not exist"},
      {{dir_.string()}, "not a regular file"},
      {{}, "missing ARCHIVE"},
      {{notes, "--top", "0"}, "--top must be an integer in [1, 1000000], got 0"},
      {{notes, "--top=-4"}, "--top must be an integer in [1, 1000000], got -4"},
      {{notes, "--top", "ten"}, "--top: 'ten' is not an integer in [1, 1000000]"},
      {{notes, "--by", "accuracy"}, "--by: unknown metric 'accuracy'; valid: train_mse, test_mse"},
      {{notes, "--frobnicate"}, "unrecognised option '--frobnicate'"},
  };
  for (const auto& [args, words] : cases) {
    std::string out;
    std::string shown;
    for (const auto& a : args) shown += " " + a;
    EXPECT_EQ(status(args, &out), 2) << shown << ":\n" << out;
    EXPECT_NE(out.find(words), std::string::npos) << shown << ":\n" << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << shown << ":\n" << out;
    EXPECT_EQ(out.rfind("aesweep status: error: ", 0), 0u) << shown << ":\n" << out;
  }
  std::string help;
  ASSERT_EQ(status({"--help"}, &help), 0);
  for (const char* words : {"--by", "--top", "1000000]", "--json", "samples_per_second", "lock"})
    EXPECT_NE(help.find(words), std::string::npos) << words << "\n" << help;
}

}  // namespace
}  // namespace aesweep
