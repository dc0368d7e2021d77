// End-to-end checks of bad input through the real aesweep binary (issue 9, sections 1 and 2):
// each case must exit 2 with a message naming the option, file, line or key and the valid
// range, before any training; and `plan` of a million runs must stream in bounded memory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "aesweep/config/option_registry.hpp"
#include "e2e_support.hpp"

namespace fs = std::filesystem;

namespace aesweep {
namespace {

using e2e::data_dir;

struct Outcome {
  int status = -1;
  std::string output;       // stdout and stderr together
  long max_rss_kib = 0;     // the child's peak resident memory
  std::size_t output_bytes = 0;
};

class CliInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("aesweep-cli-e2e-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return (dir_ / name).string();
  }
  // Runs argv (no shell: empty and odd arguments pass as they are); output to a file.
  Outcome run(const std::vector<std::string>& args, bool keep_output = true) const {
    const fs::path log = dir_ / "output.txt";
    const pid_t pid = e2e::spawn_logged(args, log.string());
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    Outcome o;
    o.status = e2e::exit_status(status);
    o.max_rss_kib = usage.ru_maxrss;
    o.output_bytes = fs::file_size(log);
    if (keep_output) {
      std::ifstream in(log, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      o.output = text.str();
    }
    return o;
  }
  Outcome aesweep(std::vector<std::string> args) const {
    args.insert(args.begin(), AESWEEP_BINARY);
    return run(args);
  }
  // `aesweep plan` of a config written from `text`; expects exit 0 and returns the output.
  std::string planned(const std::string& name, const std::string& text) const {
    const Outcome o = aesweep({"plan", write(name, text)});
    EXPECT_EQ(o.status, 0) << name << ":\n" << o.output;
    return o.output;
  }
  // Expects exit status 2, a message in the "aesweep CMD: error: ..." form holding every part, and
  // no training.
  static void expect_refused(const Outcome& o, std::initializer_list<std::string> parts) {
    EXPECT_EQ(o.status, 2) << o.output;
    EXPECT_NE(o.output.find(": error: "), std::string::npos) << o.output;
    for (const auto& part : parts) EXPECT_NE(o.output.find(part), std::string::npos) << "lacks '" << part << "': " << o.output;
    EXPECT_EQ(o.output.find("epoch "), std::string::npos) << "trained: " << o.output;
    EXPECT_EQ(o.output.find("filesystem error"), std::string::npos) << o.output;
  }
  fs::path dir_;
};

// Boost wraps --help at 80 columns: one space for every run of white space.
std::string unwrapped(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t';
    if (space && !out.empty() && out.back() == ' ') continue;
    out += space ? ' ' : c;
  }
  return out;
}

TEST_F(CliInput, NegativeCountsAreRefusedNotWrapped) {
  // Boost read "-5" into a size_t: 2^64 - 5 samples, i.e. all of them.
  expect_refused(aesweep({"train", "--data", data_dir(), "--train-samples", "-5"}),
                 {"aesweep train: error: --train-samples", "'-5'", "[0, 1000000000]"});
  expect_refused(aesweep({"train", "--data", data_dir(), "--test-samples", "-1"}),
                 {"--test-samples", "'-1'", "[0, 1000000000]"});
  expect_refused(aesweep({"train", "--data", data_dir(), "--train-samples", "1e30"}), {"--train-samples", "[0, 1000000000]"});
  expect_refused(aesweep({"train", "--data", data_dir(), "--threads", "-3"}), {"--threads", "[0, 1024]", "-3"});
  expect_refused(aesweep({"train", "--data", data_dir(), "--threads", "lots"}), {"--threads", "[0, 1024]"});
  expect_refused(aesweep({"train", "--data", data_dir(), "--threads", "99999999999"}), {"--threads", "[0, 1024]"});
  const std::string config = write("study.ini", "[sweep.s]\nmodel.hidden = 8, 16\n");
  expect_refused(aesweep({"plan", config, "--fuse", "-2"}), {"--fuse", "[1, 64]"});
  expect_refused(aesweep({"plan", config, "--fuse", "two"}), {"--fuse", "[1, 64]"});
  expect_refused(aesweep({"plan", config, "--fuse-max-hidden", "-1"}), {"--fuse-max-hidden", "at least 1"});
  expect_refused(aesweep({"plan", config, "--train-samples", "-5"}), {"--train-samples", "[0, 1000000000]"});
  // The same counts in a config file.
  expect_refused(aesweep({"plan", write("neg.ini", "[data]\ntrain_samples = -5\n")}),
                 {"neg.ini line 2", "data.train_samples", "[0, 1000000000]"});
}

TEST_F(CliInput, TrainTakesSingleValues) {
  // The list became a sweep axis that train then dropped: dropout 0, silently.
  expect_refused(aesweep({"train", "--data", data_dir(), "--set", "reg.dropout=0.3,0.5"}),
                 {"--set reg.dropout", "train takes one value", "'0.3,0.5'", "aesweep sweep"});
  expect_refused(aesweep({"train", "--data", data_dir(), "--reg.dropout", "0.3, 5"}),
                 {"--reg.dropout", "train takes one value"});
  expect_refused(aesweep({"train", "--data", data_dir(), "--set", "reg.l1_activity=linspace(0, 1e-4, 3)"}),
                 {"--set reg.l1_activity", "train takes one value"});
  // A single out-of-range value names its range.
  expect_refused(aesweep({"train", "--data", data_dir(), "--reg.dropout", "5"}),
                 {"--reg.dropout 5", "reg.dropout", "a number in [0, 0.9]"});
}

TEST_F(CliInput, EmptyDataDirectoryIsRefused) {
  // It fell back to the default directory.
  expect_refused(aesweep({"train", "--data", ""}), {"--data", "empty"});
  expect_refused(aesweep({"train", "--data", "  "}), {"--data", "empty"});
  expect_refused(aesweep({"train", "--set", "data.dir="}), {"data.dir", "empty"});
}

TEST_F(CliInput, AValidationSplitWithoutValidationSamplesIsRefused) {
  expect_refused(aesweep({"train", "--data", data_dir(), "--train-samples", "1", "--set", "train.validation_split=0.9",
                          "--set", "train.patience=1"}),
                 {"train.validation_split = 0.9", "1 training sample", "holds out 0 for validation",
                  "leaves 1 for training"});
  // The sweep refuses it at set-up, before an archive exists.
  const std::string config =
      write("split.ini", "[train]\nepochs = 1\nvalidation_split = 0.5\npatience = 1\n[sweep.s]\nmodel.hidden = 4, 8\n");
  const Outcome o = run({MPIEXEC, "-np", "1", "--oversubscribe", AESWEEP_BINARY, "sweep", config, "--out",
                         (dir_ / "out.h5").string(), "--data", data_dir(), "--train-samples", "1", "--test-samples",
                         "10"});
  expect_refused(o, {"aesweep sweep: error: run 0 of [sweep.s]", "train.validation_split = 0.5",
                     "holds out 0 for validation"});
  EXPECT_FALSE(fs::exists(dir_ / "out.h5"));
}

TEST_F(CliInput, ADottedTypoInASweepSectionIsRefused) {
  const std::string config = write("typo.ini", "[sweep.s]\nmodel.hidden = 8, 16\nencoder.reg.l1_activity = 0, 1e-4\n");
  expect_refused(aesweep({"plan", config}), {"typo.ini line 3", "unknown key 'encoder.reg.l1_activity'", "[sweep.s]"});
}

TEST_F(CliInput, MessagesNameTheLineAndTheRange) {
  expect_refused(aesweep({"plan", write("noname.ini", "[model]\nhidden = 8\n[sweep]\nmodel.hidden = 8, 16\n")}),
                 {"noname.ini line 3", "[sweep.NAME]"});
  expect_refused(aesweep({"plan", write("lone.ini", "[sweep.s]\nbogus = 1\n")}),
                 {"lone.ini line 2", "unknown key 'bogus'"});
  expect_refused(aesweep({"plan", write("int.ini", "[model]\nhidden = 8.5\n")}),
                 {"int.ini line 2", "model.hidden", "an integer in [1, 100000]"});
  expect_refused(aesweep({"plan", write("mask.ini", "[noise]\nkind = masking\nlevel = 1.5\n")}),
                 {"mask.ini line 3", "noise.level", "line 2"});
  expect_refused(aesweep({"plan", write("bce.ini", "[model]\nloss = bce\n[decoder]\nactivation = identity\n")}),
                 {"bce.ini line 2", "decoder.activation"});
  expect_refused(aesweep({"plan", write("patience.ini", "[train]\npatience = 2\n")}),
                 {"patience.ini line 2", "train.validation_split"});
  // A UTF-8 byte-order mark is accepted.
  const Outcome bom = aesweep({"plan", write("bom.ini", "\xEF\xBB\xBF[model]\nhidden = 8\n[sweep.s]\nmodel.hidden = 8, 16\n")});
  EXPECT_EQ(bom.status, 0) << bom.output;
  EXPECT_NE(bom.output.find("2 runs"), std::string::npos) << bom.output;
  // A megabyte of bad value is not echoed whole, from a file or the command line.
  const std::string huge(1 << 20, '9');
  const Outcome file = aesweep({"plan", write("huge.ini", "[model]\nhidden = " + huge + "\n")});
  expect_refused(file, {"huge.ini line 2", "model.hidden", "(1048576 bytes)"});
  EXPECT_LT(file.output.size(), 1000u);
  // (One argument may hold at most 128 KiB.)
  const std::string long_arg(100000, '9');
  const Outcome cli = aesweep({"train", "--model.hidden", long_arg});
  EXPECT_EQ(cli.status, 2);
  EXPECT_LT(cli.output.size(), 1000u);
  const Outcome boost = aesweep({"train", "--threads", long_arg});
  EXPECT_EQ(boost.status, 2);
  EXPECT_LT(boost.output.size(), 1000u);
}

TEST_F(CliInput, SymlinkLoopsAreNamed) {
  fs::create_symlink(dir_ / "b", dir_ / "a");
  fs::create_symlink(dir_ / "a", dir_ / "b");
  expect_refused(aesweep({"train", "--data", (dir_ / "a").string()}), {(dir_ / "a").string(), "symbolic links"});
  expect_refused(aesweep({"plan", (dir_ / "a").string()}), {(dir_ / "a").string(), "symbolic links"});
}

TEST_F(CliInput, VersionNamesTheBuildAndTheCpu) {
  for (const char* flag : {"--version", "version"}) {
    const Outcome v = aesweep({flag});
    ASSERT_EQ(v.status, 0) << v.output;
    for (const char* part : {"aesweep 0.", "matrix products: ", "bf16: ", "hdf5: 1.", "cpu: "})
      EXPECT_NE(v.output.find(part), std::string::npos) << "lacks '" << part << "': " << v.output;
  }
}

TEST_F(CliInput, HelpGivesEveryRange) {
  const Outcome train = aesweep({"train", "--help"});
  ASSERT_EQ(train.status, 0);
  const std::string help = unwrapped(train.output);
  for (const char* part : {"--threads arg (=1) threads of the matrix products per process (per MPI rank), whichever backend runs them: an integer in [0, 1024]",
                           "--train-samples arg use at most this many training samples: an integer in [0, 1000000000]",
                           "--test-samples arg use at most this many test samples: an integer in [0, 1000000000]",
                           "an integer in [1, 100000] [default: 196]", "an integer in [1, 1000000] [default: 256]"})
    EXPECT_NE(help.find(part), std::string::npos) << "lacks '" << part << "': " << help;
  for (const auto& spec : option_registry()) {
    const auto at = help.find("--" + spec.key + " arg");
    ASSERT_NE(at, std::string::npos) << spec.key;
    const auto next = help.find(" --", at + 2);
    EXPECT_NE(help.substr(at, next - at).find(spec.range), std::string::npos)
        << spec.key << " lacks its range '" << spec.range << "': " << help.substr(at, next - at);
  }
  const Outcome plan = aesweep({"plan", "--help"});
  ASSERT_EQ(plan.status, 0);
  const std::string plan_help = unwrapped(plan.output);
  for (const char* unused : {"--threads", "--quiet", "--data"})
    EXPECT_EQ(plan_help.find(unused), std::string::npos) << "plan does not use " << unused << ": " << plan_help;
  for (const char* part : {"--fuse arg (=8)", "an integer in [1, 64] (1 = off)", "--fuse-max-hidden arg (=12)",
                           "an integer >= 1", "--train-samples"})
    EXPECT_NE(plan_help.find(part), std::string::npos) << "lacks '" << part << "': " << plan_help;
  // What plan does not use is refused, not silently ignored.
  EXPECT_EQ(aesweep({"plan", write("s.ini", "[model]\nhidden = 8\n"), "--threads", "4"}).status, 2);
}

TEST_F(CliInput, PlanOfAMillionRunsStreamsInBoundedMemory) {
  // 10^6 grid points in two sections, so runs the second shares with the first are merged through
  // the compact table: 990,000 + 10,000 points, of which 9,900 repeat runs of the first section.
  const std::string config = write(
      "million.ini",
      "[model]\nhidden = 8\n[sweep.big]\nreg.l1_activity = linspace(0, 1e-3, 100)\n"
      "reg.l2_kernel = linspace(0, 1e-3, 100)\ntrain.seed = linspace(1, 99, 99)\n"
      "[sweep.again]\nreg.l1_activity = linspace(0, 1e-3, 100)\nreg.l2_kernel = 0\ntrain.seed = linspace(1, 100, 100)\n");
  const Outcome o = run({AESWEEP_BINARY, "plan", config}, /*keep_output=*/false);
  ASSERT_EQ(o.status, 0);
  std::ifstream in(dir_ / "output.txt");
  std::string first, line, last;
  std::getline(in, first);
  std::size_t lines = 1;
  while (std::getline(in, line)) {
    ++lines;
    last.swap(line);
  }
  EXPECT_NE(first.find("990100 runs in 2 sweep sections"), std::string::npos) << first;
  EXPECT_EQ(lines, 990100u + 2u) << "header, groups line, one line per run";
  EXPECT_EQ(last.rfind("990099  again", 0), 0u) << last;
  EXPECT_NE(last.find("train.seed=100"), std::string::npos) << last;
  EXPECT_LT(o.max_rss_kib, 200 * 1024) << "peak RSS of plan over 10^6 runs: " << o.max_rss_kib << " KiB";
  RecordProperty("plan_1e6_max_rss_kib", std::to_string(o.max_rss_kib));
  fs::remove(dir_ / "output.txt");
}

// plan says what sweep will do with a [schedule]: it refuses a run without a validation split
// when the schedule ranks by validation_loss (plan used to accept what sweep refused), and it
// shows no fused groups, since a scheduled study trains every run alone (plan used to list them).
TEST_F(CliInput, PlanOfAScheduledStudyMatchesWhatSweepDoes) {
  const std::string schedule = "[schedule]\nkind = successive_halving\nmin_epochs = 1\nmax_epochs = 9\neta = 3\n";
  const std::string base = "[model]\nhidden = 8\n[train]\nepochs = 9\nvalidation_split = 0.1\n";
  const std::string unsplit = write("unsplit.ini", base + "[sweep.a]\ntrain.validation_split = 0, 0.1\n" + schedule);
  Outcome o = run({AESWEEP_BINARY, "plan", unsplit});
  EXPECT_EQ(o.status, 2) << o.output;
  EXPECT_NE(o.output.find("unsplit.ini line 8: schedule.metric: metric = validation_loss needs a validation split, and "
                          "run 0 of [sweep.a] has train.validation_split = 0"),
            std::string::npos)
      << o.output;
  const std::string alike = write("alike.ini", base + "[sweep.a]\nreg.l1_activity = 0, 1e-5, 1e-4\n" + schedule);
  o = run({AESWEEP_BINARY, "plan", alike});
  EXPECT_EQ(o.status, 0) << o.output;
  EXPECT_EQ(o.output.find("[group"), std::string::npos) << o.output;
  EXPECT_EQ(o.output.find("train together"), std::string::npos) << o.output;
  // Without the schedule the same runs do form a group.
  const std::string unscheduled = write("unscheduled.ini", base + "[sweep.a]\nreg.l1_activity = 0, 1e-5, 1e-4\n");
  o = run({AESWEEP_BINARY, "plan", unscheduled});
  EXPECT_NE(o.output.find("[group 1"), std::string::npos) << o.output;
}

// A Sobol search of a number of points that is not a power of two is planned, with a note of
// where its even cover ends (scipy warns there too); a power of two gets no note.
TEST_F(CliInput, PlanNotesASobolSearchThatIsNotAPowerOfTwo) {
  const std::string search = "[search.s]\nmethod = sobol\nseed = 1\nreg.dropout = uniform(0, 0.5)\nruns = ";
  const std::string six = planned("six.ini", search + "6\n");
  EXPECT_NE(six.find("note: 6 points is not a power of two: the Sobol points cover every key's range evenly up to the "
                     "first 4 (runs = 4 or 8 keeps that for all)"),
            std::string::npos)
      << six;
  EXPECT_EQ(planned("eight.ini", search + "8\n").find("not a power of two"), std::string::npos);
}

// Hyperband deals its brackets out by run index, 17 runs a round for 3 rungs and eta 3 (9, 5, 3):
// a 9-run study is successive halving alone, which plan says; 17 runs fill every bracket.
TEST_F(CliInput, PlanNotesAHyperbandStudyThatFillsOnlySomeBrackets) {
  const std::string head = "[train]\nepochs = 9\n[schedule]\nkind = hyperband\nmetric = test_loss\n"
                           "min_epochs = 1\nmax_epochs = 9\neta = 3\n[search.s]\nmethod = random\nseed = 2\n"
                           "reg.dropout = uniform(0, 0.5)\nruns = ";
  const std::string nine = planned("nine.ini", head + "9\n");
  EXPECT_NE(nine.find("note: hyperband deals its 3 brackets out by run index, 17 runs a round: these 9 runs fill "
                      "only 1 of them, which is successive halving alone"),
            std::string::npos)
      << nine;
  const std::string twelve = planned("twelve.ini", head + "12\n");
  EXPECT_NE(twelve.find("these 12 runs fill only 2 of them\n"), std::string::npos) << twelve;
  EXPECT_EQ(planned("seventeen.ini", head + "17\n").find("brackets out by run index"), std::string::npos);
}

// A data directory that is not there is named with where it was set (a config's file, line and
// key; $AESWEEP_DATA) and, when relative, with the absolute path it names from the working directory.
TEST_F(CliInput, AMissingDataDirectoryIsNamedWithWhereItWasSet) {
  const std::string config = write("rel.ini", "[data]\ndir = ../no-such-data\n[train]\nepochs = 1\n");
  Outcome o = run({AESWEEP_BINARY, "train", config});
  EXPECT_EQ(o.status, 2) << o.output;
  EXPECT_NE(o.output.find("rel.ini line 2: data.dir: data directory ../no-such-data ("), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("no-such-data) does not exist"), std::string::npos) << o.output;
  o = run({AESWEEP_BINARY, "train", config, "--data", "/no/such/data"});  // --data wins, named by itself
  EXPECT_EQ(o.status, 2) << o.output;
  EXPECT_NE(o.output.find("error: data directory /no/such/data does not exist"), std::string::npos) << o.output;
}

// A long value Boost cannot read is quoted cut to 80 characters with its length, as the config's
// own messages quote one (Boost echoed all of it).
TEST_F(CliInput, ALongUnreadableOptionValueIsCutWithItsLength) {
  const std::string value = std::string(50, '9') + std::string(150, 'x');
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{AESWEEP_BINARY, "plan", write("one.ini", "[train]\nepochs = 1\n"), "--fuse", value},
        std::vector<std::string>{AESWEEP_BINARY, "train", "--threads", value}}) {
    const Outcome o = run(args);
    EXPECT_EQ(o.status, 2) << o.output;
    EXPECT_NE(o.output.find("...' (200 bytes)"), std::string::npos) << o.output;
    EXPECT_EQ(o.output.find(std::string(150, 'x')), std::string::npos) << o.output;
  }
}

TEST_F(CliInput, ATooLargeStudyIsRefusedWithItsCount) {
  const std::string config = write("huge.ini", "[sweep.grid]\nreg.l1_activity = linspace(0, 1, 1000)\n"
                                               "reg.l2_kernel = linspace(0, 1, 1000)\nmodel.hidden = linspace(1, 10, 10)\n");
  const Outcome o = aesweep({"plan", config});
  expect_refused(o, {"10,000,000 runs", "at most 1,000,000", "huge.ini line 1 [sweep.grid]",
                     "reg.l1_activity (1000) x reg.l2_kernel (1000) x model.hidden (10)"});
  EXPECT_EQ(o.output.find("bad_alloc"), std::string::npos) << o.output;
  EXPECT_LT(o.max_rss_kib, 100 * 1024) << o.max_rss_kib;
}

}  // namespace
}  // namespace aesweep
