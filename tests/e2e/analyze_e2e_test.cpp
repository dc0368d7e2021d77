// End-to-end test of aesweep-analyze under mpiexec on a real sweep archive that holds the
// degenerate cases of paper 000: an all-zero latent space and a diverged (NaN) run.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "aesweep/archive/h5.hpp"
#include "aesweep/core/error.hpp"
#include "aesweep/archive/sweep_archive_reader.hpp"
#include "e2e_support.hpp"

namespace fs = std::filesystem;

namespace aesweep {
namespace {

// Flips a byte inside the object header of `object` (its checksum then fails), as a bad sector
// or a stray write would.
void flip_object_header_byte(const std::string& path, const std::string& object) {
  haddr_t address = HADDR_UNDEF;
  {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    H5O_info_t info{};
    ASSERT_GE(H5Oget_info_by_name2(file, object.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT), 0);
    address = info.addr;
    H5Fclose(file);
  }
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(std::streamoff(address + 24));
  char c = 0;
  f.get(c);
  f.seekp(std::streamoff(address + 24));
  f.put(char(c ^ 0x5a));
}

using e2e::data_dir;

// Run 0, 1: ordinary; run 2: so strong an L1 activity penalty that every code is zero;
// run 3: SGD with a huge step, which diverges to NaN.
constexpr const char* kConfig = R"(
[model]
hidden = 32
[train]
epochs = 3
batch_size = 64
seed = 11
[sweep.normal]
reg.l2_kernel = 0, 1e-4
[sweep.dead]
reg.l1_activity = 50
optimizer.learning_rate = 0.01
[sweep.diverged]
optimizer.name = sgd
optimizer.learning_rate = 1e6
decoder.activation = identity
)";

class AnalyzeE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(fs::path(data_dir()) / "train-labels-idx1-ubyte.gz")) << "run scripts/get_data.sh";
    dir_ = fs::temp_directory_path() / ("aesweep-analyze-e2e-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "study.ini") << kConfig;
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  int run(const std::string& command) {
    const std::string full = command + " > " + (dir_ / "log.txt").string() + " 2>&1";
    const int status = std::system(full.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string log() const {
    std::ifstream in(dir_ / "log.txt");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string mpi(int ranks) const {
    return std::string(MPIEXEC) + " -np " + std::to_string(ranks) + " --oversubscribe ";
  }
  // A 12-run study (t-SNE of 1,000 codes a run: a few tenths of a second each) swept into `file`.
  void sweep_twelve_runs(const std::string& file) {
    std::ofstream(dir_ / "twelve.ini") << "[model]\nhidden = 16\n[train]\nepochs = 5\nbatch_size = 64\nseed = 3\n"
                                       << "[sweep.twelve]\nreg.l2_kernel = 0, 1e-7, 2e-7, 3e-7, 4e-7, 5e-7, 6e-7, "
                                          "7e-7, 8e-7, 9e-7, 1e-6, 2e-6\n";
    ASSERT_EQ(run(mpi(1) + AESWEEP_BINARY + " sweep " + (dir_ / "twelve.ini").string() + " --out " + file +
                  " --data " + data_dir() + " --train-samples 1500 --test-samples 1000 --quiet"),
              0)
        << log();
  }
  // aesweep-analyze ARCHIVE --out RESULTS started, returned once its first result is stored (at
  // most a minute); its output goes to analysis.log.
  pid_t analysis_under_way(const std::string& archive, const std::string& results) {
    const std::string analysis_log = (dir_ / "analysis.log").string();
    const pid_t analysis = e2e::spawn_logged(
        {MPIEXEC, "-np", "1", AESWEEP_ANALYZE, archive, "--out", results, "--k-max", "3"}, analysis_log);
    for (int i = 0; i < 3000 && e2e::read_text(analysis_log).find("[1/") == std::string::npos; ++i) ::usleep(20000);
    return analysis;
  }
  // NFS's locking on this machine (see SweepAndAnalysisFinishUnderNfsLocking): VAR=VALUE words
  // for env.
  static std::string nfs_environment() {
    const char* asan = std::getenv("ASAN_OPTIONS");
    return std::string("OMPI_MCA_io=ompio OMPI_MCA_fs_ufs_lock_algorithm=2 LD_PRELOAD=") + NFS_FLOCK_SHIM +
           " ASAN_OPTIONS=" + (asan != nullptr && *asan != 0 ? std::string(asan) + ":" : "") +
           "verify_asan_link_order=0";
  }
  fs::path dir_;
};

TEST_F(AnalyzeE2E, AnalysesEveryRunDegenerateOnesIncludedAndSkipsWhatIsDone) {
  const std::string archive = (dir_ / "study.h5").string();
  ASSERT_EQ(run(mpi(2) + AESWEEP_BINARY + " sweep " + (dir_ / "study.ini").string() + " --out " + archive +
                " --data " + data_dir() + " --train-samples 1500 --test-samples 300"),
            0)
      << log();
  {
    auto reader = SweepArchiveReader::open(archive);
    const auto states = reader.read_states();
    ASSERT_EQ(states.size(), 4u);
    EXPECT_EQ(states[3], RunStatus::diverged) << "the huge-step SGD run must diverge";
    EXPECT_EQ(reader.read_latent(2).cwiseAbs().maxCoeff(), 0.0f) << "run 2 must have an all-zero latent space";
  }
  const std::string analyze = mpi(2) + AESWEEP_ANALYZE + " " + archive + " --tsne-iter 300 --k-max 6";
  ASSERT_EQ(run(analyze), 0) << log();
  EXPECT_NE(log().find("4 runs to analyse"), std::string::npos) << log();

  {  // every handle closed before the next analysis opens the file for writing
  auto file = h5::File::open(archive, h5::Access::read_only, h5::FileAccess::defaults());
  const h5::Group analysis = file.open_group("analysis");
  const std::string hash = analysis.read_string_attribute("latest");
  const h5::Group runs = analysis.open_group(hash).open_group("runs");
  ASSERT_EQ(runs.child_names().size(), 4u);
  for (const char* name : {"000000", "000001"}) {
    const h5::Group g = runs.open_group(name);
    SCOPED_TRACE(name);
    EXPECT_EQ(g.read_int_attribute("complete"), 1);
    const double silhouette = g.read_double_attribute("silhouette");
    EXPECT_TRUE(std::isfinite(silhouette) && silhouette > -1 && silhouette < 1);
    // Real digits: the codes keep digit identity far above chance (0.1).
    EXPECT_GT(g.read_double_attribute("knn_accuracy"), 0.4);
    EXPECT_GT(g.read_double_attribute("cosine_same_mean"), g.read_double_attribute("cosine_different_mean"));
    EXPECT_TRUE(std::isfinite(g.read_double_attribute("tsne_kl_divergence")));
    EXPECT_GT(g.read_double_attribute("tsne_trustworthiness"), 0.8);
    EXPECT_EQ(g.read_int_attribute("tsne_perplexity_unmatched"), 0);  // every point reached it
    EXPECT_EQ(g.open_dataset("tsne_embedding").dims(), (std::vector<hsize_t>{300, 2}));
    EXPECT_EQ(g.open_dataset("kmeans_k").read<std::int64_t>(), (std::vector<std::int64_t>{2, 3, 4, 5, 6}));
    EXPECT_EQ(g.read_string_attribute("kmeans_nan_reason"), "");
    EXPECT_EQ(g.open_dataset("cosine_class_mean").dims(), (std::vector<hsize_t>{10, 10}));
  }
  {
    // All-zero latent space: every zero code is excluded and counted; NaN scores with reasons.
    const h5::Group g = runs.open_group("000002");
    EXPECT_EQ(g.read_int_attribute("complete"), 1);
    EXPECT_EQ(g.read_int_attribute("cosine_zero_rows"), 300);
    EXPECT_TRUE(std::isnan(g.read_double_attribute("silhouette")));
    EXPECT_FALSE(g.read_string_attribute("silhouette_nan_reason").empty());
    EXPECT_FALSE(g.read_string_attribute("tsne_nan_reason").empty());
    EXPECT_TRUE(std::isnan(g.read_double_attribute("knn_accuracy")));
    EXPECT_NE(g.read_string_attribute("knn_nan_reason").find("every latent code is identical"), std::string::npos);
    // One line per k, each saying why its silhouette is NaN.
    const std::string kmeans_reason = g.read_string_attribute("kmeans_nan_reason");
    EXPECT_EQ(kmeans_reason.rfind("k=2: every latent code is identical", 0), 0u) << kmeans_reason;
    EXPECT_NE(kmeans_reason.find("\nk=6: "), std::string::npos) << kmeans_reason;
  }
  {
    // The diverged run stopped before its non-finite step, so its codes are finite but wild:
    // analysed like any other, without a crash.
    const h5::Group g = runs.open_group("000003");
    EXPECT_EQ(g.read_int_attribute("complete"), 1);
    EXPECT_TRUE(g.has_attribute("knn_accuracy"));
  }
  }

  // Same options again: nothing to do. Other options: analysed alongside.
  ASSERT_EQ(run(analyze), 0) << log();
  EXPECT_NE(log().find("0 runs to analyse, 4 already done"), std::string::npos) << log();
  ASSERT_EQ(run(analyze + " --perplexity 10 --no-tsne"), 0) << log();
  EXPECT_NE(log().find("4 runs to analyse"), std::string::npos) << log();
  auto again = h5::File::open(archive, h5::Access::read_only, h5::FileAccess::defaults());
  EXPECT_EQ(again.open_group("analysis").child_names().size(), 2u);
  // The sweep's own data is untouched by the analysis.
  auto reader = SweepArchiveReader::open(archive);
  EXPECT_EQ(reader.read_states()[0], RunStatus::complete);
}

TEST_F(AnalyzeE2E, BadInputIsAClearError) {
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " " + (dir_ / "missing.h5").string()), 2);
  EXPECT_NE(log().find("missing.h5"), std::string::npos) << log();
  std::ofstream(dir_ / "notes.txt") << "not an archive\n";
  EXPECT_EQ(run(mpi(2) + AESWEEP_ANALYZE + " " + (dir_ / "notes.txt").string()), 2);
  EXPECT_NE(log().find("notes.txt"), std::string::npos) << log();
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " x.h5 --tsne-init spiral"), 2);
  EXPECT_NE(log().find("--tsne-init"), std::string::npos) << log();
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Results land only next to the archive they were computed from, and every output problem is
// found before any work, with exit status 2 and nothing changed.
TEST_F(AnalyzeE2E, ResultsOnlyGoNextToTheirOwnArchive) {
  const std::string a = (dir_ / "a.h5").string(), b = (dir_ / "b.h5").string();
  const std::string sweep = mpi(1) + AESWEEP_BINARY + " sweep " + (dir_ / "study.ini").string() + " --data " +
                            data_dir() + " --test-samples 200 --set train.epochs=1 --quiet --out ";
  ASSERT_EQ(run(sweep + a + " --train-samples 600"), 0) << log();
  ASSERT_EQ(run(sweep + b + " --train-samples 500"), 0) << log();
  const std::string b_before = file_bytes(b);
  const std::string analyze = mpi(2) + AESWEEP_ANALYZE + " --no-tsne --k-max 3 --quiet ";

  // Another sweep's archive as --out: refused, untouched.
  EXPECT_EQ(run(analyze + a + " --out " + b), 2) << log();
  EXPECT_NE(log().find("is another sweep archive"), std::string::npos) << log();
  EXPECT_TRUE(file_bytes(b) == b_before);

  // A text file, a directory, a missing directory: refused before any work.
  std::ofstream(dir_ / "notes.txt") << "my notes\n";
  EXPECT_EQ(run(analyze + a + " --out " + (dir_ / "notes.txt").string()), 2) << log();
  EXPECT_NE(log().find("is not an HDF5 file"), std::string::npos) << log();
  EXPECT_EQ(file_bytes(dir_ / "notes.txt"), "my notes\n");
  EXPECT_EQ(run(analyze + a + " --out " + dir_.string()), 2) << log();
  EXPECT_NE(log().find("is a directory"), std::string::npos) << log();
  EXPECT_EQ(run(analyze + a + " --out " + (dir_ / "missing" / "r.h5").string()), 2) << log();
  EXPECT_NE(log().find("does not exist"), std::string::npos) << log();
  fs::create_symlink("/nonexistent-dir/y.h5", dir_ / "dangling.h5");
  EXPECT_EQ(run(analyze + a + " --out " + (dir_ / "dangling.h5").string()), 2) << log();
  EXPECT_NE(log().find("/nonexistent-dir does not exist"), std::string::npos) << log();
  EXPECT_EQ(log().find("MPI_ABORT"), std::string::npos) << log();

  // A results file takes the analyses of one archive only.
  const std::string results = (dir_ / "results.h5").string();
  ASSERT_EQ(run(analyze + a + " --out " + results), 0) << log();
  const std::string results_before = file_bytes(results);
  EXPECT_EQ(run(analyze + b + " --out " + results), 2) << log();
  EXPECT_NE(log().find("holds results of another archive"), std::string::npos) << log();
  EXPECT_TRUE(file_bytes(results) == results_before);
  // Its own archive again: allowed (nothing left to do).
  ASSERT_EQ(run(analyze + a + " --out " + results), 0) << log();
  // --out naming the archive itself is the in-place analysis.
  ASSERT_EQ(run(analyze + b + " --out " + b), 0) << log();
  EXPECT_FALSE(file_bytes(b) == b_before);

  // A new results file is made under FILE.creating and renamed: a kill in its first milliseconds
  // left a truncated FILE that every rerun refused. The FILE.creating such a kill leaves (empty
  // here) is made again; someone's file of that name is refused and kept.
  const std::string fresh = (dir_ / "fresh.h5").string();
  std::ofstream(fresh + ".creating").close();
  ASSERT_EQ(run(analyze + a + " --out " + fresh), 0) << log();
  EXPECT_FALSE(fs::exists(fresh + ".creating"));
  const std::string other = (dir_ / "other.h5").string();
  std::ofstream(other + ".creating") << "my notes\n";
  EXPECT_EQ(run(analyze + a + " --out " + other), 2) << log();
  EXPECT_NE(log().find("exists and is not one being made"), std::string::npos) << log();
  EXPECT_EQ(file_bytes(other + ".creating"), "my notes\n");
  EXPECT_FALSE(fs::exists(other));
  // A link of that name is refused too, even to an HDF5 file: making the file through it would
  // truncate what it points to (here the archive itself).
  const std::string linked = (dir_ / "linked.h5").string();
  const std::string a_before = file_bytes(a);
  fs::create_symlink(a, linked + ".creating");
  EXPECT_EQ(run(analyze + a + " --out " + linked), 2) << log();
  EXPECT_TRUE(file_bytes(a) == a_before);
}

TEST_F(AnalyzeE2E, MessagesNameTheOptionAndItsRangeAndADamagedArchiveInOneSentence) {
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " x.h5 --k-min 5 --k-max 3"), 2);
  EXPECT_NE(log().find("--k-max (3) must be at least --k-min (5)"), std::string::npos) << log();
  EXPECT_EQ(log().find("KmeansSweepOptions"), std::string::npos) << log();
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " x.h5 --knn-k -1"), 2);
  EXPECT_NE(log().find("--knn-k must be an integer in [1, 1000], got '-1'"), std::string::npos) << log();
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " x.h5 --kmeans-seed -1"), 2);
  EXPECT_NE(log().find("--kmeans-seed must be an integer in [0, "), std::string::npos) << log();
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " x.h5 --tsne-seed 9007199254740993"), 2);  // read as 2^53
  EXPECT_NE(log().find("which a float64 cannot hold exactly"), std::string::npos) << log();
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " x.h5 --perplexity nan"), 2);
  EXPECT_NE(log().find("--perplexity must be a number in"), std::string::npos) << log();
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " x.h5 --perplexity " + std::string(100, '7') + "x"), 2);
  EXPECT_NE(log().find("...' (101 bytes)"), std::string::npos) << log();  // cut with its length
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " --help"), 0);
  EXPECT_NE(log().find("neighbours of the k-NN accuracy; an integer in [1, 1000]"), std::string::npos) << log();
  EXPECT_NE(log().find("Barnes-Hut opening angle (0 = exact); a number in [0, 1]"), std::string::npos) << log();

  // A damaged archive: one sentence naming the file; the HDF5 chain only with --verbose.
  const std::string archive = (dir_ / "a.h5").string();
  ASSERT_EQ(run(mpi(1) + AESWEEP_BINARY + " sweep " + (dir_ / "study.ini").string() + " --data " + data_dir() +
                " --train-samples 300 --test-samples 100 --set train.epochs=1 --quiet --out " + archive),
            0)
      << log();
  const std::string bytes = file_bytes(archive);
  std::ofstream(dir_ / "cut.h5", std::ios::binary) << bytes.substr(0, 3000);
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " " + (dir_ / "cut.h5").string()), 2);
  EXPECT_NE(log().find("cut.h5 cannot be read: it is damaged, truncated or not an aesweep archive"),
            std::string::npos) << log();
  EXPECT_EQ(log().find("H5F_open"), std::string::npos) << "the library's chain only with --verbose: " << log();
  const std::string text = log();
  const auto error_line = text.substr(text.find("aesweep-analyze: error:"));
  EXPECT_LT(error_line.find('\n'), 330u) << "one sentence: " << text;
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " -v " + (dir_ / "cut.h5").string()), 2);
  EXPECT_NE(log().find("HDF5 error chain: H5Fopen"), std::string::npos) << log();

  // One run's object header damaged (a flipped byte fails its checksum): HDF5 1.10 leaks a block
  // on that failure and then printed "infinite loop closing library" and a long dump at exit,
  // after our sentence, from both programs.
  const fs::path bad_run = dir_ / "bad-run.h5", bad_summary = dir_ / "bad-summary.h5";
  fs::copy_file(archive, bad_run);
  flip_object_header_byte(bad_run.string(), "runs/000001");
  fs::copy_file(archive, bad_summary);
  flip_object_header_byte(bad_summary.string(), "summary");
  // The analysis does not read /summary, but must not write its results into such a file (it
  // used to, with exit 0, and the report then failed on it).
  const std::string bad_summary_bytes = file_bytes(bad_summary.string());
  const std::string analyze_bad_summary = mpi(1) + AESWEEP_ANALYZE + " " + bad_summary.string();
  for (const std::string& command : {mpi(1) + AESWEEP_ANALYZE + " " + bad_run.string(),
                                     std::string(AESWEEP_BINARY) + " status " + bad_summary.string(),
                                     analyze_bad_summary, analyze_bad_summary + " --out " + (dir_ / "apart.h5").string()}) {
    SCOPED_TRACE(command);
    EXPECT_EQ(run(command), 2) << log();
    EXPECT_NE(log().find("incorrect metadata checksum"), std::string::npos) << log();
    EXPECT_EQ(log().find("infinite loop"), std::string::npos) << log();
  }
  EXPECT_EQ(file_bytes(bad_summary.string()), bad_summary_bytes) << "the damaged archive was written to";
  EXPECT_FALSE(fs::exists(dir_ / "apart.h5"));
}

// On a disk without room for the results the analysis is refused before it writes anything (an
// HDF5 metadata write cut short by a full disk left a whole archive unreadable); with room, the
// space it holds is given back at the end; once done, a re-run needs no room. Runs in a private mount namespace on a small tmpfs;
// skipped where that cannot be made (not root, no unshare).
TEST_F(AnalyzeE2E, AFullDiskIsRefusedBeforeAnythingIsWrittenAndHeldRoomIsGivenBack) {
  if (run("unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs " + dir_.string() + "'") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs in a private mount namespace here: " << log();
  const std::string archive = (dir_ / "study.h5").string();
  ASSERT_EQ(run(mpi(1) + AESWEEP_BINARY + " sweep " + (dir_ / "study.ini").string() + " --out " + archive +
                " --data " + data_dir() + " --train-samples 600 --test-samples 200 --set train.epochs=1 --quiet"),
            0)
      << log();
  const auto size = fs::file_size(archive);
  const fs::path mnt = dir_ / "mnt";
  fs::create_directories(mnt);
  const std::string analyze = mpi(1) + AESWEEP_ANALYZE + " " + (mnt / "a.h5").string() + " --tsne-iter 250 --k-max 4";
  // Refused on a full disk: exit 2, the reason, the archive byte for byte as it was. Then, with the
  // filler gone, analysed; the free space after is what it was less the results' own growth.
  const std::string script =
      "set -u; mount -t tmpfs -o size=" + std::to_string(size / 1024 + 4096) + "k tmpfs " + mnt.string() +
      " || exit 90; cp " + archive + " " + mnt.string() + "/a.h5; dd if=/dev/zero of=" + mnt.string() +
      "/filler bs=64k 2>/dev/null; " + analyze + "; echo refused_rc=$?; cmp " + archive + " " + mnt.string() +
      "/a.h5 && echo archive_unchanged; rm " + mnt.string() + "/filler; avail() { df -k --output=avail " +
      mnt.string() + " | tail -1; }; before=$(avail); " + analyze + "; echo analysed_rc=$?; after=$(avail); " +
      "grown=$(( ($(stat -c %s " + mnt.string() + "/a.h5) - " + std::to_string(size) +
      ") / 1024 )); echo lost_kb=$(( before - after - grown )); cp " + mnt.string() + "/a.h5 " + dir_.string() +
      "/analysed.h5; dd if=/dev/zero of=" + mnt.string() + "/filler bs=64k 2>/dev/null; " + analyze +
      "; echo again_rc=$?";
  std::ofstream(dir_ / "disk.sh") << script << "\n";
  ASSERT_EQ(run("unshare -m sh " + (dir_ / "disk.sh").string()), 0) << log();
  const std::string out = log();
  EXPECT_NE(out.find("refused_rc=2"), std::string::npos) << out;
  EXPECT_NE(out.find("the analysis needs about"), std::string::npos) << out;
  EXPECT_NE(out.find(" free: free space, or write"), std::string::npos) << out;  // both figures
  EXPECT_NE(out.find("--out FILE (nothing was written)"), std::string::npos) << out;
  EXPECT_NE(out.find("archive_unchanged"), std::string::npos) << out;
  EXPECT_NE(out.find("analysed_rc=0"), std::string::npos) << out;
  // Done already: a full disk does not stop a re-run that has nothing to write.
  EXPECT_NE(out.find("again_rc=0"), std::string::npos) << out;
  EXPECT_NE(out.find("0 runs to analyse, 4 already done"), std::string::npos) << out;
  // The held blocks came back: at most a few pages of tmpfs rounding lost, not the reservation
  // (about 1 MB here).
  const auto lost = out.find("lost_kb=");
  ASSERT_NE(lost, std::string::npos) << out;
  EXPECT_LT(std::stol(out.substr(lost + 8)), 64) << out;
  auto reader = SweepArchiveReader::open((dir_ / "analysed.h5").string());
  EXPECT_EQ(reader.read_states().size(), 4u);
  const h5::File file = h5::File::open((dir_ / "analysed.h5").string(), h5::Access::read_only, h5::FileAccess::defaults());
  EXPECT_TRUE(file.has_child("analysis"));
}

// One writer per archive (writer_lock.hpp). While a sweep runs: an in-place analysis is refused
// (exit 2, nothing written; doing it left the whole archive unreadable once the sweep closed it)
// and --out works; a second sweep on the same archive, resuming or overwriting, is refused and
// changes nothing. And a sweep does not resume an archive another program holds for writing
// (`flock -x`, util-linux, stands for an HDF5 tool with the file open for writing).
TEST_F(AnalyzeE2E, OneWriterPerArchiveWhileASweepRuns) {
  const std::string archive = (dir_ / "study.h5").string();
  const std::string lock = archive + ".lock";
  const std::string sweep_args = " sweep " + (dir_ / "study.ini").string() + " --out " + archive + " --data " +
                                 data_dir() + " --train-samples 3000 --test-samples 200 --set train.epochs=5000 --quiet";
  const std::vector<std::string> sweep = {MPIEXEC, "-np", "1", AESWEEP_BINARY, "sweep", (dir_ / "study.ini").string(),
                                          "--out", archive, "--data", data_dir(), "--train-samples", "3000",
                                          "--test-samples", "200", "--set", "train.epochs=5000", "--quiet"};
  const pid_t job = e2e::spawn_logged(sweep, (dir_ / "sweep.log").string());
  // Wait until the sweep holds the lock and the archive is there, at most 120 s.
  bool locked = false;
  for (int i = 0; i < 1200 && !locked; ++i) {
    locked = fs::exists(archive) && fs::exists(lock) && run("flock -n -x " + lock + " true") != 0;
    if (!locked) ::usleep(100000);
  }
  ASSERT_TRUE(locked) << e2e::read_text(dir_ / "sweep.log");
  EXPECT_NE(e2e::read_text(lock).find("aesweep sweep, pid"), std::string::npos) << e2e::read_text(lock);
  const auto inode = [&] {
    struct stat st {};
    return ::stat(archive.c_str(), &st) == 0 ? std::to_string(st.st_ino) : std::string();
  };
  const std::string before = inode();

  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " " + archive + " --no-tsne --k-max 3"), 2) << log();
  EXPECT_NE(log().find("is being written by aesweep sweep, pid"), std::string::npos) << log();
  EXPECT_NE(log().find("--out FILE"), std::string::npos) << log();
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " " + archive + " --no-tsne --k-max 3 --out " +
                (dir_ / "results.h5").string()),
            0)
      << log();
  // A second sweep, as a job script submitted twice: refused whether it resumes or overwrites.
  EXPECT_EQ(run(mpi(1) + AESWEEP_BINARY + sweep_args), 2) << log();
  EXPECT_NE(log().find("is being written by aesweep sweep, pid"), std::string::npos) << log();
  EXPECT_NE(log().find("nothing was changed"), std::string::npos) << log();
  EXPECT_EQ(run(mpi(2) + AESWEEP_BINARY + sweep_args + " --overwrite"), 2) << log();
  EXPECT_NE(log().find("is being written by aesweep sweep, pid"), std::string::npos) << log();
  EXPECT_EQ(inode(), before);  // not replaced under the running sweep
  EXPECT_FALSE(fs::exists(archive + ".creating"));

  ::kill(-job, SIGKILL);  // the whole job; its finished runs are on disk
  e2e::wait_exit(job);
  for (int i = 0; i < 100 && e2e::any_process_with(archive); ++i) ::usleep(100000);
  e2e::kill_processes_with(archive);
  EXPECT_TRUE(fs::exists(lock));  // left by the killed sweep, and harmless: its lock went with it

  // The reverse: a resumed sweep refuses an archive another program holds exclusively, unchanged.
  const std::string killed = file_bytes(archive);
  const std::string resume = std::string(MPIEXEC) + " -np 1 " + AESWEEP_BINARY + sweep_args;
  EXPECT_EQ(run("flock -x " + archive + " -c '" + resume + "'"), 2) << log();
  EXPECT_NE(log().find("is being written by another program (an aesweep-analyze storing its results in it, or an HDF5 "
                       "tool"),
            std::string::npos)
      << log();
  EXPECT_TRUE(file_bytes(archive) == killed);
  auto reader = SweepArchiveReader::open(archive);
  EXPECT_EQ(reader.read_states().size(), 4u);
}

// On NFS, flock is a byte-range lock on the whole file, and OpenMPI's MPI-IO locks the whole
// file around every write: a lock held on the archive itself made every sweep there wait forever
// at its first run. The shim and the MCA setting give this machine NFS's locking; the sweep (two
// ranks) and the in-place analysis must finish, and leave no lock file behind.
TEST_F(AnalyzeE2E, SweepAndAnalysisFinishUnderNfsLocking) {
  const std::string archive = (dir_ / "study.h5").string();
  // OpenMPI ignores an MCA setting it does not know: this one must exist, and OMPIO (the MPI-IO
  // component it belongs to) must be the one that runs.
  ASSERT_EQ(run("ompi_info --param fs ufs --level 9 | grep -q fs_ufs_lock_algorithm"), 0) << log();
  const std::string nfs = nfs_environment() + " timeout -k 10 240 ";
  // The shim is in effect: under it a shared flock conflicts with an fcntl write lock this process
  // holds on the file, as on NFS; on a local file system the two never interact.
  const std::string probe = (dir_ / "probe").string();
  std::ofstream(probe) << "x";
  const int fd = ::open(probe.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  struct flock write_lock {};
  write_lock.l_type = F_WRLCK;
  write_lock.l_whence = SEEK_SET;
  ASSERT_EQ(::fcntl(fd, F_SETLK, &write_lock), 0);
  EXPECT_EQ(run("flock -n -s " + probe + " true"), 0);
  EXPECT_EQ(run(std::string("env LD_PRELOAD=") + NFS_FLOCK_SHIM + " flock -n -s " + probe + " true"), 1) << log();
  ::close(fd);

  ASSERT_EQ(run("env " + nfs + mpi(2) + AESWEEP_BINARY + " sweep " + (dir_ / "study.ini").string() + " --out " +
                archive + " --data " + data_dir() + " --train-samples 1500 --test-samples 300 --quiet"),
            0)
      << log();
  ASSERT_EQ(run("env " + nfs + mpi(1) + AESWEEP_ANALYZE + " " + archive + " --no-tsne --k-max 3 --quiet"), 0) << log();
  EXPECT_FALSE(fs::exists(archive + ".lock"));
  auto reader = SweepArchiveReader::open(archive);
  for (const auto state : reader.read_states()) EXPECT_NE(state, RunStatus::pending);
  const h5::File file = h5::File::open(archive, h5::Access::read_only, h5::FileAccess::defaults());
  EXPECT_TRUE(file.has_child("analysis"));
}

// On NFS an analysis with --out of a running sweep's archive must not stop the sweep: a reader
// that keeps the archive open with HDF5's lock (a byte-range lock there) made every write of the
// sweep wait until the whole analysis ended. Here the sweep must finish runs while the analysis
// works through those done before it started, and the analysis must finish them all.
TEST_F(AnalyzeE2E, UnderNfsLockingASweepGoesOnWhileAnAnalysisReadsItsArchive) {
  ASSERT_EQ(run("ompi_info --param fs ufs --level 9 | grep -q fs_ufs_lock_algorithm"), 0) << log();
  const std::string archive = (dir_ / "study.h5").string();
  const std::string results = (dir_ / "results.h5").string();
  std::string values = "0";
  for (int i = 1; i < 120; ++i) values += ", " + std::to_string(i) + "e-7";
  std::ofstream(dir_ / "many.ini") << "[model]\nhidden = 16\n[train]\nepochs = 20\nbatch_size = 64\nseed = 3\n"
                                   << "[sweep.many]\nreg.l2_kernel = " << values << "\n";
  std::vector<std::string> environment = {"env"};
  for (std::istringstream words(nfs_environment()); !words.eof();) {
    std::string word;
    words >> word;
    if (!word.empty()) environment.push_back(word);
  }
  auto command = [&](std::vector<std::string> words) {
    words.insert(words.begin(), environment.begin(), environment.end());
    return words;
  };
  const pid_t sweep = e2e::spawn_logged(
      command({MPIEXEC, "-np", "1", AESWEEP_BINARY, "sweep", (dir_ / "many.ini").string(), "--out", archive, "--data",
               data_dir(), "--train-samples", "3000", "--test-samples", "1000", "--quiet"}),
      (dir_ / "sweep.log").string());
  e2e::KilledAtScopeEnd sweep_ends(sweep);
  const auto done_runs = [&] {  // as aesweep status reads them: no lock, nothing written
    try {
      std::size_t done = 0;
      for (const auto state : SweepArchiveReader::open_to_watch(archive).read_states())
        done += state == RunStatus::complete || state == RunStatus::diverged;
      return done;
    } catch (const ArchiveError&) {
      return std::size_t(0);  // not there yet
    }
  };
  // Enough runs done that the analysis (t-SNE, about 0.3 s a run) lasts many of the sweep's runs
  // (about 0.1 s each): the old code let the sweep store at most one.
  for (int i = 0; i < 1200 && done_runs() < 8; ++i) ::usleep(100000);
  ASSERT_GE(done_runs(), 8u) << e2e::read_text(dir_ / "sweep.log");

  const std::string analysis_log = (dir_ / "analysis.log").string();
  const pid_t analysis = e2e::spawn_logged(command({MPIEXEC, "-np", "1", AESWEEP_ANALYZE, archive, "--out", results,
                                                    "--k-max", "3"}),
                                           analysis_log);
  // From the moment it says how many runs it analyses (it reads the archive from then on) until
  // it ends, the sweep must store further runs.
  std::size_t at_start = 0;
  bool started = false;
  int status = -1;
  for (const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(5);
       std::chrono::steady_clock::now() < until;) {
    if (!started && e2e::read_text(analysis_log).find("runs to analyse") != std::string::npos) {
      started = true;
      at_start = done_runs();
    }
    if (::waitpid(analysis, &status, WNOHANG) == analysis) break;
    ::usleep(20000);
  }
  const std::size_t at_end = done_runs();
  const std::string said = e2e::read_text(analysis_log);
  sweep_ends.end();
  e2e::kill_processes_with(archive);
  ASSERT_TRUE(started) << said;
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << said;
  EXPECT_GE(at_end, at_start + 3) << "the sweep stored " << at_end - at_start << " runs while the analysis ran\n"
                                  << said << e2e::read_text(dir_ / "sweep.log");
  // Every run done when the analysis started was analysed, and the results file says so.
  const auto count = said.find(" runs to analyse");
  const auto first = said.rfind("aesweep-analyze: ", count);
  ASSERT_NE(first, std::string::npos) << said;
  const std::size_t analysed = std::stoul(said.substr(first + 17));
  EXPECT_GE(analysed, 8u) << said;
  EXPECT_NE(said.find("[" + std::to_string(analysed) + "/" + std::to_string(analysed) + "]"), std::string::npos) << said;
  const h5::File file = h5::File::open(results, h5::Access::read_only, h5::FileAccess::defaults());
  EXPECT_TRUE(file.has_child("analysis"));
}

// A program that holds the archive for writing (HDF5's exclusive lock: an analysis storing its
// results in it, an HDF5 tool) keeps an analysis with --out from reading it. Started meanwhile,
// the analysis waits a while, then is refused (exit 2, nothing written); held from part-way, the
// analysis stops with what it finished stored, and the same command afterwards does the rest.
// SIGTERM (a Slurm time limit; mpirun's after a Ctrl-C) and SIGINT stop an analysis storing its
// results in the archive itself, but never while it writes: a kill during HDF5's metadata writes
// could leave /analysis unreadable. Each stop says so with exit status 4; stops at many moments,
// then a rerun, give the same results as one uninterrupted analysis. It used to die at once. The
// signals go to the program itself (run without mpirun): mpirun turns a Ctrl-C into SIGTERM to
// the ranks a second later.
TEST_F(AnalyzeE2E, AStopSignalEndsItBetweenWritesAndTheSameCommandFinishes) {
  const std::string archive = (dir_ / "study.h5").string(), reference = (dir_ / "reference.h5").string();
  const std::string twice = (dir_ / "twice.h5").string();
  sweep_twelve_runs(archive);
  fs::copy_file(archive, reference);
  fs::copy_file(archive, twice);
  const std::string options = " --k-max 3 --tsne-iter 250";
  ASSERT_EQ(run(std::string(AESWEEP_ANALYZE) + " " + reference + options), 0) << log();

  // The program itself (no mpirun) signalled at many moments, from its start-up to its last run.
  const std::string analysis_log = (dir_ / "analysis.log").string();
  const std::vector<std::string> analyze = {AESWEEP_ANALYZE, archive, "--k-max", "3", "--tsne-iter", "250"};
  int stopped = 0;
  bool finished = false;
  for (int attempt = 0; attempt < 40 && !finished; ++attempt) {
    const int delay_ms = 150 + 60 * attempt;
    fs::remove(analysis_log);
    const pid_t pid = e2e::spawn_logged(analyze, analysis_log);
    ::usleep(useconds_t(delay_ms) * 1000);
    ::kill(pid, attempt % 2 ? SIGINT : SIGTERM);
    const int status = e2e::wait_exit_within(pid, 60);
    const std::string said = e2e::read_text(analysis_log);
    SCOPED_TRACE("signal after " + std::to_string(delay_ms) + " ms");
    ASSERT_TRUE(status == 4 || status == 0) << "exit " << status << ": " << said;
    if (status == 4) {
      ++stopped;
      EXPECT_NE(said.find(attempt % 2 ? "stopped by SIGINT" : "stopped by SIGTERM"), std::string::npos) << said;
    }
    finished = status == 0;
  }
  ASSERT_TRUE(finished) << "40 stops and it never got to the end";
  EXPECT_GE(stopped, 3) << "the signals came too late to test anything";
  ASSERT_EQ(run(std::string(AESWEEP_ANALYZE) + " " + archive + options), 0) << log();
  EXPECT_NE(log().find("0 runs to analyse, 12 already done"), std::string::npos) << log();

  // A --force analysis stopped part-way: the same command would redo every run, and says so.
  {
    const std::string forced = (dir_ / "forced.h5").string();
    fs::copy_file(archive, forced);
    std::vector<std::string> again = analyze;
    again[1] = forced;
    again.push_back("--force");
    fs::remove(analysis_log);
    const pid_t pid = e2e::spawn_logged(again, analysis_log);
    for (int i = 0; i < 3000 && e2e::read_text(analysis_log).find("[1/") == std::string::npos; ++i) ::usleep(2000);
    ::kill(pid, SIGTERM);
    EXPECT_EQ(e2e::wait_exit_within(pid, 60), 4) << e2e::read_text(analysis_log);
    EXPECT_NE(e2e::read_text(analysis_log).find("the same command redoes them all"), std::string::npos)
        << e2e::read_text(analysis_log);
  }

  // Started ignoring SIGINT (as a non-interactive shell starts a background job), it ignores it.
  const pid_t ignoring = e2e::spawn_logged({"sh", "-c", "trap '' INT; exec \"$0\" \"$@\"", AESWEEP_ANALYZE, twice,
                                            "--k-max", "3", "--tsne-iter", "250"},
                                           analysis_log);
  ::usleep(500000);
  ::kill(ignoring, SIGINT);
  EXPECT_EQ(e2e::wait_exit_within(ignoring, 120), 0) << e2e::read_text(analysis_log);

  // Ctrl-C to mpirun: it sends the ranks SIGTERM a second later, and SIGKILL a second after that.
  // The t-SNE runs here take about 1.4 s each on the project's 2-core VM, 12 runs on 2 ranks.
  const std::string mpirun_log = (dir_ / "mpirun.log").string();
  const pid_t mpirun = e2e::spawn_logged({MPIEXEC, "-np", "2", "--oversubscribe", AESWEEP_ANALYZE, twice, "--k-max",
                                          "3", "--tsne-iter", "6000"},
                                         mpirun_log);
  for (int i = 0; i < 3000 && e2e::read_text(mpirun_log).find("[1/") == std::string::npos; ++i) ::usleep(20000);
  ::kill(mpirun, SIGINT);
  (void)e2e::wait_exit_within(mpirun, 60);
  const std::string said = e2e::read_text(mpirun_log);
  EXPECT_NE(said.find("stopped by SIGTERM; this command stored the results of "), std::string::npos) << said;
  EXPECT_EQ(said.find("[12/12]"), std::string::npos) << "it finished before the signal: " << said;
  ASSERT_EQ(run(std::string(AESWEEP_ANALYZE) + " " + twice + " --k-max 3 --tsne-iter 6000"), 0) << log();
  EXPECT_EQ(log().find(" 0 already done"), std::string::npos) << log();

  // Every run's results, bit for bit, as the uninterrupted analysis stored them.
  {
    auto a = h5::File::open(archive, h5::Access::read_only, h5::FileAccess::defaults());
    auto b = h5::File::open(reference, h5::Access::read_only, h5::FileAccess::defaults());
    const std::string hash = b.open_group("analysis").read_string_attribute("latest");
    const h5::Group ra = a.open_group("analysis").open_group(hash).open_group("runs");
    const h5::Group rb = b.open_group("analysis").open_group(hash).open_group("runs");
    ASSERT_EQ(ra.child_names(), rb.child_names());
    for (const std::string& name : rb.child_names())
      for (const char* key : {"silhouette", "knn_accuracy", "tsne_kl_divergence", "tsne_trustworthiness", "cosine_different_mean"}) {
        SCOPED_TRACE(name + " " + key);
        const double x = ra.open_group(name).read_double_attribute(key);
        const double y = rb.open_group(name).read_double_attribute(key);
        EXPECT_TRUE(x == y || (std::isnan(x) && std::isnan(y))) << x << " vs " << y;
      }
  }
}

TEST_F(AnalyzeE2E, WithTheArchiveHeldForWritingAnAnalysisKeepsWhatItFinishedAndResumes) {
  const std::string archive = (dir_ / "study.h5").string();
  const std::string results = (dir_ / "results.h5").string();
  const std::string analysis_log = (dir_ / "analysis.log").string();
  ASSERT_NO_FATAL_FAILURE(sweep_twelve_runs(archive));
  const pid_t analysis = analysis_under_way(archive, results);
  const pid_t holder = e2e::spawn_logged({"flock", "-x", archive, "sleep", "300"}, (dir_ / "holder.log").string());
  e2e::KilledAtScopeEnd holder_ends(holder);
  const int status = e2e::wait_exit(analysis);
  const std::string said = e2e::read_text(analysis_log);
  EXPECT_EQ(status, 1) << said;
  EXPECT_NE(said.find("is locked for writing by another program (an aesweep-analyze storing its results in it, or an "
                      "HDF5 tool with it open for writing)"),
            std::string::npos)
      << said;
  const auto kept = said.find("runs analysed before are in " + results + ": run the same command again");
  ASSERT_NE(kept, std::string::npos) << said;
  const auto count = said.rfind("; the ", kept);
  ASSERT_NE(count, std::string::npos) << said;
  const int finished = std::stoi(said.substr(count + 6));
  EXPECT_GE(finished, 1) << said;
  EXPECT_LT(finished, 12) << said;

  // Started while it is held: refused before anything is written.
  const std::string other = (dir_ / "other.h5").string();
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " " + archive + " --out " + other + " --k-max 3"), 2) << log();
  EXPECT_NE(log().find("aesweep-analyze: error: archive " + archive + " is locked for writing by another program"),
            std::string::npos)
      << log();
  EXPECT_FALSE(fs::exists(other));

  holder_ends.end();
  ASSERT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " " + archive + " --out " + results + " --k-max 3"), 0) << log();
  EXPECT_NE(log().find(std::to_string(12 - finished) + " runs to analyse, " + std::to_string(finished) +
                       " already done"),
            std::string::npos)
      << log();
  const h5::File file = h5::File::open(results, h5::Access::read_only, h5::FileAccess::defaults());
  EXPECT_TRUE(file.has_child("analysis"));
  EXPECT_EQ(int(e2e::read_text(results).at(8)), 2) << "superblock version: checksummed, as the archive";
}

// An archive replaced part-way through an analysis with --out (a sweep started over with
// --overwrite renames a new file over it) stops the analysis instead of mixing two studies' runs
// in one results file; and an analysis storing its results in place is refused while a reader
// holds the archive (HDF5 would fail to open it for writing), after waiting 2 s for it.
TEST_F(AnalyzeE2E, AReplacedArchiveStopsAnAnalysisAndAReaderKeepsResultsOutOfIt) {
  const std::string archive = (dir_ / "study.h5").string();
  const std::string results = (dir_ / "results.h5").string();
  const std::string analysis_log = (dir_ / "analysis.log").string();
  ASSERT_NO_FATAL_FAILURE(sweep_twelve_runs(archive));
  ASSERT_NO_FATAL_FAILURE(sweep_twelve_runs((dir_ / "new.h5").string()));
  const pid_t analysis = analysis_under_way(archive, results);
  fs::rename(dir_ / "new.h5", archive);
  EXPECT_EQ(e2e::wait_exit(analysis), 1);
  const std::string said = e2e::read_text(analysis_log);
  EXPECT_NE(said.find("archive " + archive + " was replaced by another one (archive id "), std::string::npos) << said;
  EXPECT_NE(said.find("analyse the new one into another --out file; the "), std::string::npos) << said;
  EXPECT_EQ(said.find("[12/12]"), std::string::npos) << said;
  // What it stored belongs to the old archive: the new one is not analysed into that file.
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " " + archive + " --out " + results + " --k-max 3"), 2) << log();
  EXPECT_NE(log().find("its /analysis holds results of another archive"), std::string::npos) << log();

  const e2e::KilledAtScopeEnd reader(
      e2e::spawn_logged({"flock", "-s", archive, "sleep", "300"}, (dir_ / "reader.log").string()));
  for (int i = 0; i < 100 && run("flock -n -x " + archive + " true") == 0; ++i) ::usleep(50000);
  const std::string before = file_bytes(archive);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(run(mpi(1) + AESWEEP_ANALYZE + " " + archive + " --k-max 3"), 2) << log();
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_NE(log().find("aesweep-analyze: error: archive " + archive + " is open in another program that locks it "
                       "(h5py, an HDF5 tool, an aesweep-analyze), which keeps results from being stored in it: "
                       "close that program, or analyse it now with --out FILE; nothing was written"),
            std::string::npos)
      << log();
  EXPECT_TRUE(file_bytes(archive) == before);
  EXPECT_FALSE(fs::exists(archive + ".lock"));
}

// A file system without flock: no writer lock can be held. The sweep and the analysis still run,
// each warning that nothing keeps a second writer away (an analysis with --out, that its reads
// are unguarded); no empty lock file is left behind; and status says it cannot tell who writes the archive instead of claiming no one does.
TEST_F(AnalyzeE2E, WithoutFlockTheWritersWarnAndStatusDoesNotClaimNoOneWrites) {
  const std::string archive = (dir_ / "study.h5").string();
  const std::string none = std::string("env LD_PRELOAD=") + NO_FLOCK_SHIM + " ASAN_OPTIONS=verify_asan_link_order=0:" +
                           "detect_leaks=0 ";
  ASSERT_EQ(run(none + mpi(1) + AESWEEP_BINARY + " sweep " + (dir_ / "study.ini").string() + " --out " + archive +
                " --data " + data_dir() + " --train-samples 1500 --test-samples 300 --quiet"),
            0)
      << log();
  EXPECT_NE(log().find("aesweep sweep: warning: no writer lock " + archive + ".lock (flock: Function not implemented): "
                       "nothing keeps a second sweep"),
            std::string::npos)
      << log();
  EXPECT_FALSE(fs::exists(archive + ".lock"));
  ASSERT_EQ(run(none + mpi(1) + AESWEEP_ANALYZE + " " + archive + " --no-tsne --k-max 3 --quiet"), 0) << log();
  EXPECT_NE(log().find("aesweep-analyze: warning: no writer lock"), std::string::npos) << log();
  EXPECT_FALSE(fs::exists(archive + ".lock"));
  // Read with --out: its visits hold no lock either, and it says so once, not once a run.
  const std::string out = (dir_ / "results.h5").string();
  ASSERT_EQ(run(none + mpi(1) + AESWEEP_ANALYZE + " " + archive + " --out " + out + " --no-tsne --k-max 3 --quiet"), 0)
      << log();
  const std::string warning = "aesweep-analyze: warning: flock: Function not implemented: reading " + archive +
                              " under no lock, so nothing keeps a program";
  const auto first = log().find(warning);
  EXPECT_NE(first, std::string::npos) << log();
  EXPECT_EQ(log().find(warning, first + 1), std::string::npos) << log();
  ASSERT_EQ(run(none + AESWEEP_BINARY + " status " + archive), 0) << log();
  EXPECT_NE(log().find("written now by: unknown (this file system has no flock"), std::string::npos) << log();
  ASSERT_EQ(run(std::string(AESWEEP_BINARY) + " status " + archive), 0) << log();
  EXPECT_NE(log().find("written now by: no program holds its writer lock (no lock file)"), std::string::npos) << log();
}

}  // namespace
}  // namespace aesweep
