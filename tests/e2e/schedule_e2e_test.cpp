// End-to-end: successive halving and hyperband (issue 12 section 2) by the real binary under
// mpiexec on real MNIST digits. At 1, 2 and 3 ranks the same runs stop at the same rungs and every
// weight, code, curve, metric and checkpoint is bit-identical; the run trained to the end equals
// the same run of the study without a schedule (continuing from a rung = straight through); a
// sweep SIGKILLed mid-rung resumes to the uninterrupted archive; the rung reached is stored.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "aesweep/archive/h5.hpp"
#include "aesweep/archive/sweep_archive_reader.hpp"
#include "aesweep/core/trainer.hpp"
#include "e2e_support.hpp"

namespace fs = std::filesystem;

namespace aesweep {
namespace {

using e2e::data_dir;

using e2e::read_text;

// Twelve Sobol points, rungs 1, 3, 9: 12 -> 4 -> 1 run.
constexpr const char* kHalving = R"(
[model]
hidden = 16
[train]
batch_size = 100
validation_split = 0.2
seed = 3
[search.p]
method = sobol
runs = 12
seed = 4
reg.l1_activity = loguniform(1e-6, 1e-2)
reg.dropout = uniform(0, 0.5)
noise.kind = gaussian
noise.level = 0.1
[schedule]
kind = successive_halving
metric = validation_loss
min_epochs = 1
max_epochs = 9
eta = 3
)";

// Hyperband over two sections (pools per section and bracket), the test loss as the metric.
constexpr const char* kHyperband = R"(
[model]
hidden = 12
[train]
batch_size = 100
seed = 5
[optimizer]
name = adam
[sweep.a]
reg.l2_kernel = 0, 1e-5, 1e-4, 1e-3, 1e-2
[search.b]
method = random
runs = 6
seed = 9
reg.l1_activity = loguniform(1e-6, 1e-2)
[schedule]
kind = hyperband
metric = test_loss
min_epochs = 1
max_epochs = 4
eta = 2
)";

// Slower runs for the kill test (on 20,000 digits): 9 points, rungs 2, 6, 18.
constexpr const char* kSlow = R"(
[model]
hidden = 256
[train]
batch_size = 64
validation_split = 0.1
seed = 2
[search.slow]
method = random
runs = 9
seed = 2
reg.l2_kernel = loguniform(1e-6, 1e-4)
reg.dropout = uniform(0, 0.6)
[schedule]
kind = successive_halving
min_epochs = 2
max_epochs = 18
)";

class ScheduleE2E : public e2e::DirectoryTest {
 protected:
  ScheduleE2E() : DirectoryTest("aesweep-schedule-e2e") {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(DirectoryTest::SetUp());
    write(dir_ / "halving.ini", kHalving);
    write(dir_ / "hyperband.ini", kHyperband);
    write(dir_ / "slow.ini", kSlow);
  }
  std::vector<std::string> sweep_args(int ranks, const std::string& config, const std::string& out,
                                      const std::vector<std::string>& more = {}) const {
    return sweep_command(ranks, config, out, config == "slow.ini" ? "20000" : "1500", "400", more);
  }
};

std::vector<std::uint8_t> rung_bytes(SweepArchiveReader& a) {
  return a.file().open_dataset("runs_rung").read<std::uint8_t>();
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The checkpoint without its timings (training and wall seconds, each epoch's seconds).
void expect_same_checkpoint(SweepArchiveReader& a, SweepArchiveReader& b, std::size_t run, const TrainOptions& o) {
  const std::string name = "runs/" + std::string(6 - std::to_string(run).size(), '0') + std::to_string(run) + "/checkpoint";
  const auto ba = a.file().open_dataset(name).read<std::uint8_t>();
  const auto bb = b.file().open_dataset(name).read<std::uint8_t>();
  const auto ca = decode_checkpoint(std::as_bytes(std::span(ba)), o);
  const auto cb = decode_checkpoint(std::as_bytes(std::span(bb)), o);
  EXPECT_EQ(ca.epoch, cb.epoch);
  EXPECT_TRUE(ca.params == cb.params) << run;
  EXPECT_TRUE(ca.first_moment == cb.first_moment && ca.second_moment == cb.second_moment) << run;
  EXPECT_EQ(ca.optimizer_steps, cb.optimizer_steps);
  EXPECT_TRUE(ca.dropout == cb.dropout && ca.noise == cb.noise && ca.shuffle == cb.shuffle) << run;
  ASSERT_EQ(ca.epochs.size(), cb.epochs.size());
  for (std::size_t e = 0; e < ca.epochs.size(); ++e) {
    EXPECT_TRUE(same_bits(ca.epochs[e].validation_loss, cb.epochs[e].validation_loss));
    EXPECT_TRUE(same_bits(ca.epochs[e].train_objective, cb.epochs[e].train_objective));
  }
}

// Every run of both archives: the same state and rung, and (where it has data) the same bits in
// every weight, code, curve (timings aside), metric and checkpoint. `options` of each run for
// decoding checkpoints (input size set).
void expect_same_study(const std::string& a_path, const std::string& b_path, bool only_done_in_a = false) {
  auto a = SweepArchiveReader::open(a_path);
  auto b = SweepArchiveReader::open(b_path);
  ASSERT_EQ(a.run_count(), b.run_count());
  EXPECT_EQ(a.header().config_hash, b.header().config_hash);
  EXPECT_EQ(a.header().schedule, b.header().schedule);
  const auto sa = a.read_states(), sb = b.read_states();
  const auto ra = rung_bytes(a), rb = rung_bytes(b);
  for (std::size_t i = 0; i < a.run_count(); ++i) {
    if (only_done_in_a && !is_done(sa[i])) continue;
    ASSERT_EQ(sa[i], sb[i]) << "run " << i;
    ASSERT_TRUE(is_done(sa[i])) << "run " << i;
    EXPECT_EQ(ra[i], rb[i]) << "rung of run " << i;
    const RunResult x = a.read_result(i), y = b.read_result(i);
    EXPECT_TRUE(x.w1 == y.w1 && x.w2 == y.w2 && x.b1 == y.b1 && x.b2 == y.b2) << "weights of run " << i;
    EXPECT_TRUE(a.read_latent(i) == b.read_latent(i)) << "codes of run " << i;
    EXPECT_TRUE(a.read_reconstructions(i) == b.read_reconstructions(i)) << "reconstructions of run " << i;
    ASSERT_EQ(x.epochs.size(), y.epochs.size()) << "run " << i;
    EXPECT_EQ(x.epochs_run, y.epochs_run);
    for (std::size_t e = 0; e < x.epochs.size(); ++e) {
      EXPECT_TRUE(same_bits(x.epochs[e].train_loss, y.epochs[e].train_loss)) << i << " " << e;
      EXPECT_TRUE(same_bits(x.epochs[e].train_objective, y.epochs[e].train_objective)) << i << " " << e;
      EXPECT_TRUE(same_bits(x.epochs[e].test_loss, y.epochs[e].test_loss)) << i << " " << e;
      EXPECT_TRUE(same_bits(x.epochs[e].validation_loss, y.epochs[e].validation_loss)) << i << " " << e;
    }
    for (const auto& f : scalar_fields()) {
      if (f.name != "wall_seconds" && f.name != "samples_per_second") {
        EXPECT_TRUE(same_bits(f.get(x), f.get(y))) << f.name << " of run " << i;
      }
    }
    if (ra[i] > 0 && sa[i] == RunStatus::stopped) {
      TrainOptions o;  // the checkpoint's sizes: from the run's shape and settings
      o.model.input_size = a.run(i).shape.input_size;
      o.model.hidden = a.run(i).shape.hidden;
      o.training.epochs = a.run(i).shape.epochs;
      for (const auto& s : a.run(i).settings)
        if (s.key == "optimizer.name") o.optimizer.kind = s.value == "adam" ? OptimizerKind::adam : OptimizerKind::sgd;
      expect_same_checkpoint(a, b, i, o);
    }
  }
}

std::map<RunStatus, int> count(const std::vector<RunStatus>& states) {
  std::map<RunStatus, int> c;
  for (auto s : states) ++c[s];
  return c;
}

TEST_F(ScheduleE2E, OneTwoAndThreeRanksStopTheSameRunsWithTheSameBits) {
  ASSERT_EQ(run(sweep_args(1, "halving.ini", "np1.h5"), "np1.txt"), 0) << log("np1.txt");
  ASSERT_EQ(run(sweep_args(2, "halving.ini", "np2.h5"), "np2.txt"), 0) << log("np2.txt");
  ASSERT_EQ(run(sweep_args(3, "halving.ini", "np3.h5"), "np3.txt"), 0) << log("np3.txt");
  expect_same_study(path("np1.h5"), path("np2.h5"));
  expect_same_study(path("np1.h5"), path("np3.h5"));
  EXPECT_NE(log("np3.txt").find("ranks held no work"), std::string::npos) << log("np3.txt");
  EXPECT_NE(log("np3.txt").find("stopped at rung 1 (epoch 3)"), std::string::npos) << log("np3.txt");

  // 12 -> 4 -> 1: eight stop after epoch 1, three after epoch 3, one trains all nine.
  auto a = SweepArchiveReader::open(path("np3.h5"));
  const auto states = a.read_states();
  const auto rungs = rung_bytes(a);
  const auto c = count(states);
  EXPECT_EQ(c.at(RunStatus::stopped), 11);
  EXPECT_EQ(c.at(RunStatus::complete), 1);
  std::size_t winner = 0;
  for (std::size_t i = 0; i < states.size(); ++i) {
    const RunResult r = a.read_result(i);
    if (states[i] == RunStatus::complete) {
      winner = i;
      EXPECT_EQ(r.epochs_run, 9);
      EXPECT_EQ(rungs[i], 2) << "a complete run's rung byte is the last rung it paused at (1)";
    } else {
      EXPECT_EQ(r.epochs_run, rungs[i] == 1 ? 1 : 3) << i;
    }
  }
  // The summary's rung column says the same (the complete run: rung 2, the last).
  const auto snapshot = a.read_done_summary({"rung"});
  ASSERT_TRUE(snapshot.extra_present.at(0));
  for (const auto& row : snapshot.done)
    EXPECT_EQ(row.extra.at(0), row.index == winner ? 2.0 : double(rungs[row.index]) - 1.0) << row.index;
  // The rung-1 survivors ranked best at epoch 1: no stopped run had a lower validation loss there.
  const double winner_at_1 = a.read_result(winner).epochs[0].validation_loss;
  std::size_t better = 0;
  for (std::size_t i = 0; i < states.size(); ++i)
    if (rungs[i] == 1 && a.read_result(i).epochs[0].validation_loss < winner_at_1) ++better;
  EXPECT_EQ(better, 0u);

  // aesweep status counts the stopped runs and shows the rung each best run reached.
  ASSERT_EQ(run({AESWEEP_BINARY, "status", path("np3.h5"), "--by", "epochs_run", "--top", "12"}, "status.txt"), 0)
      << log("status.txt");
  const std::string status = log("status.txt");
  EXPECT_NE(status.find("runs: 0 pending, 1 complete, 0 diverged, 0 failed, 11 stopped (12 of 12 done, 100%)"),
            std::string::npos) << status;
  EXPECT_NE(status.find(" rung "), std::string::npos) << status;
  ASSERT_EQ(run({AESWEEP_BINARY, "status", path("np3.h5"), "--json"}, "status.json"), 0) << log("status.json");
  EXPECT_NE(log("status.json").find("\"rung\": 2"), std::string::npos) << log("status.json");
  EXPECT_NE(log("status.json").find("\"stopped\": 11"), std::string::npos) << log("status.json");

  // The run trained to the end through two checkpoints equals the same run trained straight
  // through in the study without a schedule.
  ASSERT_EQ(run(sweep_args(2, "halving.ini", "none.h5", {"--set", "schedule.kind=none", "--set", "train.epochs=9"}),
                "none.txt"), 0) << log("none.txt");
  auto plain = SweepArchiveReader::open(path("none.h5"));
  EXPECT_FALSE(plain.file().has_child("runs_rung"));
  const RunResult straight = plain.read_result(winner), halved = a.read_result(winner);
  EXPECT_TRUE(straight.w1 == halved.w1 && straight.w2 == halved.w2 && straight.b1 == halved.b1 &&
              straight.b2 == halved.b2);
  EXPECT_TRUE(plain.read_latent(winner) == a.read_latent(winner));
  for (std::size_t e = 0; e < 9; ++e) EXPECT_TRUE(same_bits(straight.epochs[e].test_loss, halved.epochs[e].test_loss));
  // and every stopped run's curve is the start of its straight-through curve
  for (std::size_t i = 0; i < states.size(); ++i) {
    const RunResult s = plain.read_result(i), h = a.read_result(i);
    for (std::size_t e = 0; e < h.epochs.size(); ++e)
      EXPECT_TRUE(same_bits(s.epochs[e].validation_loss, h.epochs[e].validation_loss)) << i << " " << e;
  }
}

TEST_F(ScheduleE2E, HyperbandIsTheSameAtTwoAndThreeRanks) {
  ASSERT_EQ(run(sweep_args(2, "hyperband.ini", "np2.h5"), "np2.txt"), 0) << log("np2.txt");
  ASSERT_EQ(run(sweep_args(3, "hyperband.ini", "np3.h5"), "np3.txt"), 0) << log("np3.txt");
  expect_same_study(path("np2.h5"), path("np3.h5"));
  auto a = SweepArchiveReader::open(path("np3.h5"));
  auto c = count(a.read_states());
  EXPECT_GT(c[RunStatus::stopped], 0);
  EXPECT_GT(c[RunStatus::complete], 1);  // one per pool at least
  EXPECT_NE(a.header().schedule.find("kind = hyperband"), std::string::npos) << a.header().schedule;
  EXPECT_NE(a.header().schedule.find("rungs = 1 2 4"), std::string::npos) << a.header().schedule;
}

using e2e::any_process_with;
using e2e::kill_processes_with;

// Killed once after the first rung's decision (runs paused at rung 1 or training towards it),
// resumed, killed again, resumed to the end: the archive equals the uninterrupted one.
TEST_F(ScheduleE2E, SigkillMidRungThenResumeEqualsTheUninterruptedStudy) {
  ASSERT_EQ(run(sweep_args(2, "slow.ini", "reference.h5"), "reference.txt"), 0) << log("reference.txt");
  const std::string out = path("killed.h5");
  const std::vector<std::string> marks = {"stopped at rung 0", "at rung 1,"};
  for (std::size_t k = 0; k < marks.size(); ++k) {
    const std::string name = "killed" + std::to_string(k) + ".txt";
    const pid_t pid = e2e::spawn_logged(sweep_args(2, "slow.ini", "killed.h5"), path(name));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
    while (std::chrono::steady_clock::now() < deadline && log(name).find(marks[k]) == std::string::npos)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    kill_processes_with(out);
    e2e::wait_exit(pid);
    for (int i = 0; i < 300 && any_process_with(out); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_NE(log(name).find(marks[k]), std::string::npos) << log(name);
    EXPECT_EQ(log(name).find("runs left"), std::string::npos) << "the kill came too late: " << log(name);
    // What was done when killed is what the uninterrupted study has.
    expect_same_study(out, path("reference.h5"), /*only_done_in_a=*/true);
    // Left mid-rung: runs still pending whose state at a rung is saved, to be continued from there.
    auto killed = SweepArchiveReader::open(out);
    const auto states = killed.read_states();
    const auto rungs = rung_bytes(killed);
    std::size_t saved = 0;
    for (std::size_t i = 0; i < states.size(); ++i) saved += states[i] == RunStatus::pending && rungs[i] > 0;
    EXPECT_GT(saved, 0u) << "kill " << k << " left no run paused at a rung";
  }
  // A kill between a rung's checkpoint and its rung byte (a window of one fdatasync) leaves the
  // checkpoint a rung ahead of the byte: the same state as a run paused at rung 1 whose byte says
  // rung 0. The resume used to record such a run as failed and rank the others without it.
  std::size_t behind = 0;
  {
    auto killed = SweepArchiveReader::open(out);
    const auto states = killed.read_states();
    std::vector<std::uint8_t> rungs = rung_bytes(killed);
    while (behind < rungs.size() && !(states[behind] == RunStatus::pending && rungs[behind] >= 2)) ++behind;
    ASSERT_LT(behind, rungs.size()) << "no run was left paused at rung 1";
  }
  {
    const h5::File file = h5::File::open(out, h5::Access::read_write, h5::FileAccess::defaults());
    const h5::Dataset bytes = file.open_dataset("runs_rung");
    const std::uint8_t at = bytes.read<std::uint8_t>()[behind];
    bytes.write_rows<std::uint8_t>(behind, std::vector<std::uint8_t>{std::uint8_t(at - 1)});
  }
  ASSERT_EQ(run(sweep_args(2, "slow.ini", "killed.h5"), "resume.txt"), 0) << log("resume.txt");
  EXPECT_NE(log("resume.txt").find("run " + std::to_string(behind) + ": its checkpoint is after epoch"),
            std::string::npos)
      << log("resume.txt");
  expect_same_study(out, path("reference.h5"));
  // Resuming a finished archive trains nothing.
  ASSERT_EQ(run(sweep_args(1, "slow.ini", "killed.h5"), "again.txt"), 0) << log("again.txt");
  EXPECT_NE(log("again.txt").find("0 to train"), std::string::npos) << log("again.txt");
}

}  // namespace
}  // namespace aesweep
