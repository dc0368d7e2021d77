// aesweep status's pieces (src/cli/status_command.cpp) on archives written by SweepArchive: counts
// per state and section, the ranking by any metric, JSON, reading while a writer adds runs and
// while another process holds an exclusive lock on the file, and hostile files and options. And
// the visits aesweep-analyze --out reads a running sweep's archive with (open_to_visit).
#include "aesweep/cli/status.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include "aesweep/archive/sweep_archive.hpp"
#include "aesweep/archive/sweep_archive_reader.hpp"
#include "aesweep/archive/writer_lock.hpp"
#include "aesweep/core/error.hpp"
#include "test_support.hpp"

namespace aesweep {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class StatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("status");
    size_ = testing::small_study();  // 9 runs: 3 and 8 diverge, 5 fails
    header_ = testing::make_header(size_);
    runs_ = testing::make_runs(size_);
    file_ = dir_ + "/study.h5";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  SweepArchive open() const {
    return SweepArchive::open_for_sweep(file_, testing::self_communicator(), header_, runs_, OpenMode::create_or_resume);
  }
  // make_result's numbers: test MSE 0.02 i (NaN for the diverged runs here), samples/s 1000 + i.
  void write(SweepArchive& archive, std::size_t i, double test_mse = -1) const {
    const RunShape shape = archive.shape(i);
    RunResult result = testing::make_result(runs_[i], shape);
    if (result.status == RunStatus::diverged) result.metrics.test_mse = std::numeric_limits<double>::quiet_NaN();
    if (test_mse >= 0) result.metrics.test_mse = test_mse;
    archive.write_run(i, result, testing::make_info(shape, i, 0));
  }
  static std::size_t count_of(const cli::StatusCounts& c, RunStatus s) {
    for (const auto& [state, n] : c.by_state)
      if (state == s) return n;
    ADD_FAILURE() << "no count for " << to_string(s);
    return 0;
  }

  std::string dir_, file_;
  testing::StudySize size_;
  ArchiveHeader header_;
  std::vector<RunSpec> runs_;
};

TEST_F(StatusTest, CountsEveryStateOfTheEnumOverallAndPerSection) {
  {
    SweepArchive archive = open();
    for (const std::size_t i : {0, 1, 3, 5, 6}) write(archive, i);
    archive.close();
  }
  const cli::StudyStatus s = cli::read_status(file_, {});
  // Every named state is counted, in byte order, whatever the enum holds.
  ASSERT_EQ(s.counts.by_state.size(), run_status_values().size());
  for (std::size_t k = 0; k < run_status_values().size(); ++k) EXPECT_EQ(s.counts.by_state[k].first, run_status_values()[k]);
  EXPECT_EQ(count_of(s.counts, RunStatus::pending), 4u);
  EXPECT_EQ(count_of(s.counts, RunStatus::complete), 3u);  // 0, 1, 6
  EXPECT_EQ(count_of(s.counts, RunStatus::diverged), 1u);  // 3
  EXPECT_EQ(count_of(s.counts, RunStatus::failed), 1u);    // 5
  EXPECT_EQ(s.counts.runs, 9u);
  EXPECT_EQ(s.counts.done, 5u);
  ASSERT_EQ(s.sections.size(), 2u);
  EXPECT_EQ(s.sections[0].name, "baseline");  // runs 0-3
  EXPECT_EQ(s.sections[0].counts.runs, 4u);
  EXPECT_EQ(s.sections[0].counts.done, 3u);
  EXPECT_EQ(s.sections[1].name, "sparse_l1");  // runs 0, 4-8
  EXPECT_EQ(s.sections[1].counts.runs, 6u);
  EXPECT_EQ(count_of(s.sections[1].counts, RunStatus::failed), 1u);
  EXPECT_EQ(count_of(s.sections[1].counts, RunStatus::pending), 3u);
  EXPECT_EQ(s.format_version, kArchiveFormatVersion);
  EXPECT_EQ(s.config_hash, "hash-A");
}

TEST_F(StatusTest, RanksDoneRunsByTheMetricLeavingOutNanAndBreakingTiesByIndex) {
  {
    SweepArchive archive = open();
    for (std::size_t i = 0; i < runs_.size(); ++i) write(archive, i, i == 7 ? 0.04 : -1);  // 7 ties with 2
    archive.close();
  }
  cli::StatusOptions options;
  options.top = 4;
  cli::StudyStatus s = cli::read_status(file_, options);
  EXPECT_EQ(s.by, "test_mse");
  EXPECT_FALSE(s.higher_first);
  // Done: 0..8; NaN test MSE: 3 and 8 (diverged); failed 5 has make_result's 0.1.
  EXPECT_EQ(s.ranked, 7u);
  std::vector<std::size_t> order;
  for (const auto& r : s.best) order.push_back(r.index);
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 7}));
  EXPECT_EQ(s.best[3].outcome.metrics.test_mse, 0.04);

  options.by = "samples_per_second";  // the highest first
  options.top = 2;
  s = cli::read_status(file_, options);
  EXPECT_TRUE(s.higher_first);
  ASSERT_EQ(s.best.size(), 2u);
  EXPECT_EQ(s.best[0].index, 8u);
  EXPECT_EQ(s.best[1].index, 7u);
  EXPECT_EQ(s.ranked, 9u);

  options.by = "dead_units";  // an integer column: i % 3, ties by index
  options.top = 3;
  s = cli::read_status(file_, options);
  ASSERT_EQ(s.best.size(), 3u);
  EXPECT_EQ(s.best[0].index, 0u);
  EXPECT_EQ(s.best[1].index, 3u);
  EXPECT_EQ(s.best[2].index, 6u);

  options.top = 1000000;  // more than there are
  s = cli::read_status(file_, options);
  EXPECT_EQ(s.best.size(), 9u);
}

TEST_F(StatusTest, TableAndJsonShowTheRunsTheFrontAndNullForNan) {
  {
    SweepArchive archive = open();
    for (std::size_t i = 0; i < runs_.size(); ++i) write(archive, i);
    archive.close();
  }
  cli::StatusOptions options;
  options.by = "wall_seconds";  // diverged runs rank too, their NaN test MSE shows as null / nan
  options.top = 9;
  const cli::StudyStatus s = cli::read_status(file_, options);
  // Every run has density 0.5: the front is the complete run of lowest MSE, run 0.
  EXPECT_EQ(s.pareto_front, (std::vector<std::size_t>{0}));
  const std::string table = cli::status_table(s);
  EXPECT_THAT(table, HasSubstr("runs: 0 pending, 6 complete, 2 diverged, 1 failed, 0 stopped (9 of 9 done, 100%)"));
  EXPECT_THAT(table, HasSubstr("best 9 of 9 runs by wall_seconds (lowest first)"));
  EXPECT_THAT(table, HasSubstr("Pareto front (test MSE vs latent density, complete runs; * above): 1 run: 0"));
  EXPECT_THAT(table, HasSubstr("nan"));
  const std::string json = cli::status_json(s);
  EXPECT_THAT(json, HasSubstr("\"counts\": {\"pending\": 0, \"complete\": 6, \"diverged\": 2, \"failed\": 1, \"stopped\": 0, \"runs\": 9, \"done\": 9}"));
  EXPECT_THAT(json, HasSubstr("\"run\": 3, \"section\": \"baseline\", \"status\": \"diverged\", \"train_mse\": 0.029999999999999999, \"test_mse\": null"));
  EXPECT_THAT(json, HasSubstr("\"pareto_front\": [0]}"));
  EXPECT_THAT(json, Not(HasSubstr("nan")));
  // The error text of a failed run (600 x's cut to the column) and the long host are escaped strings.
  EXPECT_THAT(json, HasSubstr("\"error\": \"std::bad_alloc while allocating a xxx"));
  // Balanced braces and brackets, so a JSON parser has a chance (tests/e2e parses it with Python).
  EXPECT_EQ(std::count(json.begin(), json.end(), '{'), std::count(json.begin(), json.end(), '}'));
  EXPECT_EQ(std::count(json.begin(), json.end(), '['), std::count(json.begin(), json.end(), ']'));
}

// Which program writes the archive now: the holder of its writer lock while the sweep has it
// open, no one once it is closed; status itself takes nothing a sweep would wait for.
TEST_F(StatusTest, NamesTheSweepThatWritesTheArchiveAndNoneOnceItIsClosed) {
  cli::StudyStatus s;
  {
    SweepArchive archive = open();
    write(archive, 0);
    s = cli::read_status(file_, {});
    EXPECT_EQ(s.writer_lock.kind, LockState::Kind::held);
    EXPECT_THAT(s.writer_lock.text, HasSubstr("aesweep sweep, pid " + std::to_string(::getpid()) + " on "));
    EXPECT_THAT(cli::status_table(s), HasSubstr("written now by: aesweep sweep, pid "));
    EXPECT_THAT(cli::status_json(s), HasSubstr("\"writer\": \"aesweep sweep, pid "));
    EXPECT_THAT(cli::status_json(s), HasSubstr("\"writer_lock\": \"held\""));
    EXPECT_THROW((void)WriterLock::acquire(file_, "a second sweep"), ArchiveBusy);  // still held after status
    archive.close();
  }
  s = cli::read_status(file_, {});
  EXPECT_EQ(s.writer_lock.kind, LockState::Kind::absent);
  EXPECT_THAT(cli::status_table(s), HasSubstr("written now by: no program holds its writer lock (no lock file)"));
  EXPECT_THAT(cli::status_json(s), HasSubstr("\"writer\": null, \"writer_lock\": \"absent\""));
  // A killed sweep leaves its lock file, held by no one: status says what it recorded, and no more.
  std::ofstream(file_ + ".lock") << "aesweep writer lock\naesweep sweep, pid 7 on gone, since 2026-01-01 00:00:00 UTC\n";
  s = cli::read_status(file_, {});
  EXPECT_EQ(s.writer_lock.kind, LockState::Kind::free);
  EXPECT_THAT(cli::status_table(s),
              HasSubstr("written now by: no program holds its writer lock; the last one to hold it (aesweep sweep, pid "
                        "7 on gone, since 2026-01-01 00:00:00 UTC) ended or was killed"));
  EXPECT_THAT(cli::status_json(s), HasSubstr("\"writer\": null, \"writer_lock\": \"free\""));
  // Unreadable to this user (root reads anything: a directory stands in for it).
  std::filesystem::remove(file_ + ".lock");
  std::filesystem::create_directory(file_ + ".lock");
  s = cli::read_status(file_, {});
  EXPECT_EQ(s.writer_lock.kind, LockState::Kind::unknown);
  EXPECT_THAT(cli::status_table(s), HasSubstr("written now by: unknown ("));
}

TEST_F(StatusTest, ReadsWhileAWriterAddsRunsAndCountsOnlyGrow) {
  SweepArchive archive = open();  // open for writing in this process, as a sweep rank holds it
  std::size_t last_done = 0;
  for (std::size_t i = 0; i < runs_.size(); ++i) {
    write(archive, i);
    const cli::StudyStatus s = cli::read_status(file_, {});
    EXPECT_EQ(s.counts.done, i + 1) << "after run " << i;
    EXPECT_GE(s.counts.done, last_done);
    last_done = s.counts.done;
  }
  archive.close();
}

TEST_F(StatusTest, ReadsWhileAnotherProcessHoldsAnExclusiveLock) {
  {
    SweepArchive archive = open();
    write(archive, 0);
    archive.close();
  }
  const int fd = ::open(file_.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);  // what a sec2 writer (HDF5's flock) holds
  const char* env = std::getenv("HDF5_USE_FILE_LOCKING");
  if (env == nullptr) {
    // HDF5's own read-only open takes a shared lock and fails on this one: the case status avoids.
    // It says so, not that the file is damaged.
    EXPECT_THAT([&] { (void)SweepArchiveReader::open(file_); },
                ::testing::ThrowsMessage<ArchiveBusy>(
                    AllOf(HasSubstr("is open in another program that locks it"), Not(HasSubstr("damaged")))));
  }
  if (env == nullptr || std::string(env) == "FALSE") {
    const cli::StudyStatus s = cli::read_status(file_, {});
    EXPECT_EQ(s.counts.done, 1u);
  }
  ::close(fd);
}

// A visit reads the same codes as a full open, from the header alone; while it is open a program
// that would write the file with HDF5's lock is kept out (and says who keeps it out), and once it
// is closed nothing of it remains. A program holding the file exclusively is waited for, then named.
TEST_F(StatusTest, AVisitReadsTheCodesAndKeepsOutAWriterOnlyWhileItIsOpen) {
  {
    SweepArchive archive = open();
    for (std::size_t i : {0, 1, 3}) write(archive, i);
    archive.close();
  }
  using std::chrono::milliseconds;
  // The codes as a full open reads them (closed before the visit: HDF5 refuses one file open twice
  // in a process, once with its lock and once without).
  std::vector<Eigen::MatrixXf> codes_read;
  for (std::size_t i = 0; i < 4; ++i)
    codes_read.push_back(i == 2 ? Eigen::MatrixXf() : SweepArchiveReader::open(file_).read_latent(i));
  {
    auto visit = SweepArchiveReader::open_to_visit(file_, milliseconds(100));
    EXPECT_TRUE(visit.runs().empty());
    EXPECT_EQ(visit.run_count(), 9u);
    for (std::size_t i : {0, 1, 3}) {
      const Eigen::MatrixXf codes = visit.read_latent(i);
      EXPECT_EQ(codes.rows(), 3 + int(i % 3));
      EXPECT_EQ(codes, codes_read[i]);
    }
    EXPECT_THAT([&] { (void)visit.read_latent(9); }, ::testing::ThrowsMessage<ArchiveError>(HasSubstr("has no run 9")));
    EXPECT_FALSE(wait_for_no_flock(file_, milliseconds(50)));  // HDF5 could not open it for writing now
    visit.close();
    EXPECT_TRUE(wait_for_no_flock(file_, milliseconds(0)));
    const auto every_run = SweepArchiveReader::open_to_visit(file_, milliseconds(100), /*every_run=*/true);
    EXPECT_EQ(every_run.runs().size(), 9u);
    EXPECT_EQ(every_run.read_latent(1), codes_read[1]);
  }
  EXPECT_TRUE(wait_for_no_flock(file_, milliseconds(0)));

  // A program holding the file for writing (what HDF5 takes for a writer).
  const int fd = ::open(file_.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const auto refusal = [&] {
    try {
      (void)SweepArchiveReader::open_to_visit(file_, milliseconds(100));
    } catch (const ArchiveBusy& e) {
      return std::string(e.what());
    }
    return std::string("visited");
  };
  EXPECT_THAT(refusal(), HasSubstr("is locked for writing by another program (an aesweep-analyze storing its results"));
  {
    // An analysis storing its results in it is named from its writer lock; a sweep, which never
    // holds the archive itself, is not.
    WriterLock analysis = WriterLock::acquire(file_, "aesweep-analyze");
    EXPECT_THAT(refusal(), HasSubstr("is locked for writing by aesweep-analyze, pid " + std::to_string(::getpid())));
  }
  {
    // A sweep never holds the archive itself, but on NFS its MPI-IO writes do, for a moment each.
    WriterLock sweep = WriterLock::acquire(file_, "aesweep sweep");
    EXPECT_THAT(refusal(), HasSubstr("by another program (an aesweep-analyze storing its results in it, or an HDF5 tool "
                                     "with it open for writing), or, on NFS, the writes of aesweep sweep, pid"));
  }
  ::close(fd);
  {
    // An analysis storing its results in it without HDF5's lock (HDF5_USE_FILE_LOCKING=FALSE) is
    // kept out by its writer lock alone; a sweep's writer lock keeps no visit out.
    WriterLock analysis = WriterLock::acquire(file_, "aesweep-analyze");
    EXPECT_THAT(refusal(), HasSubstr("is locked for writing by aesweep-analyze, pid " + std::to_string(::getpid())));
    // Also when the archive is visited through a link: the lock lies beside the file itself.
    const std::string link = dir_ + "/link-to-study.h5";
    std::filesystem::create_symlink(file_, link);
    EXPECT_THAT([&] { (void)SweepArchiveReader::open_to_visit(link, milliseconds(100)); },
                ::testing::ThrowsMessage<ArchiveBusy>(HasSubstr("is locked for writing by aesweep-analyze, pid")));
  }
  {
    WriterLock sweep = WriterLock::acquire(file_, "aesweep sweep");
    EXPECT_EQ(SweepArchiveReader::open_to_visit(file_, milliseconds(100)).run_count(), 9u);
  }
  // One that lets go within the patience is waited for.
  const int again = ::open(file_.c_str(), O_RDWR);
  ASSERT_GE(again, 0);
  ASSERT_EQ(::flock(again, LOCK_EX | LOCK_NB), 0);
  // Timed from before the holder's thread starts: it lets go at least 200 ms later. A jthread
  // joins even when the open throws.
  const auto start = std::chrono::steady_clock::now();
  std::jthread lets_go([fd = again] {
    std::this_thread::sleep_for(milliseconds(200));
    ::close(fd);
  });
  const auto reader = SweepArchiveReader::open_to_visit(file_, milliseconds(5000));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(200));
  EXPECT_EQ(reader.read_states().size(), 9u);
}

// Opening an archive for writing (an analysis storing its results in it) waits up to 2 s for a
// reader that holds it a moment (a visit, HDF5's shared lock), then says another program has it
// open, not that the file is damaged.
TEST_F(StatusTest, OpeningForWritingWaitsForAReaderThenSaysAnotherProgramHasItOpen) {
  if (std::getenv("HDF5_USE_FILE_LOCKING") != nullptr) GTEST_SKIP() << "SKIPPED: HDF5_USE_FILE_LOCKING is set";
  {
    SweepArchive archive = open();
    write(archive, 0);
    archive.close();
  }
  using std::chrono::milliseconds;
  const int reader = ::open(file_.c_str(), O_RDONLY);
  ASSERT_GE(reader, 0);
  ASSERT_EQ(::flock(reader, LOCK_SH | LOCK_NB), 0);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT([&] { (void)SweepArchiveReader::open(file_, h5::Access::read_write); },
              ::testing::ThrowsMessage<ArchiveBusy>(
                  AllOf(HasSubstr("is open in another program that locks it"), Not(HasSubstr("damaged")))));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(1900));
  start = std::chrono::steady_clock::now();  // before the reader's thread: it lets go 300 ms on
  std::jthread lets_go([reader] {
    std::this_thread::sleep_for(milliseconds(300));
    ::close(reader);
  });
  auto writer = SweepArchiveReader::open(file_, h5::Access::read_write);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(300));
  EXPECT_EQ(writer.read_states().size(), 9u);
}

TEST_F(StatusTest, ExtraSummaryColumnsAreReadByNameAndMissingOnesAreNan) {
  {
    SweepArchive archive = open();
    write(archive, 2);
    archive.close();
  }
  const auto reader = SweepArchiveReader::open_to_watch(file_);
  EXPECT_EQ(reader.run_count(), 9u);
  EXPECT_TRUE(reader.runs().empty());
  const SummarySnapshot snapshot = reader.read_done_summary({"model.hidden", "epochs_run", "rung"});
  EXPECT_EQ(snapshot.extra_present, (std::vector<bool>{true, true, false}));
  ASSERT_EQ(snapshot.done.size(), 1u);
  const SummaryRow& row = snapshot.done[0];
  EXPECT_EQ(row.index, 2u);
  EXPECT_EQ(row.section, "baseline");
  ASSERT_EQ(row.extra.size(), 3u);
  EXPECT_EQ(row.extra[0], 5.0);  // hidden_base 3 + 2 % 3
  EXPECT_EQ(row.extra[1], double(row.outcome.epochs_run));
  EXPECT_TRUE(std::isnan(row.extra[2]));
  EXPECT_EQ(row.outcome.metrics.test_mse, 0.04);
  EXPECT_EQ(row.outcome.host, "node-0");
}

TEST_F(StatusTest, HostileFilesAreOneLineErrors) {
  const auto refused = [&](const std::string& path, const std::string& words) {
    try {
      (void)cli::read_status(path, {});
      ADD_FAILURE() << path << " was read";
    } catch (const ArchiveError& e) {
      const std::string what = e.what();
      EXPECT_THAT(what, HasSubstr(words)) << path;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  };
  testing::write_text(dir_ + "/notes.txt", "not an archive\n");
  refused(dir_ + "/notes.txt", "is not an HDF5 file");
  refused(dir_ + "/missing.h5", "does not exist");
  refused(dir_, "does not exist or is not a regular file");
  {
    SweepArchive archive = open();
    write(archive, 0);
    archive.close();
  }
  const std::string bytes = testing::read_bytes(file_);
  testing::write_text(dir_ + "/cut.h5", bytes.substr(0, bytes.size() / 3));
  refused(dir_ + "/cut.h5", "cannot be read: it is damaged, truncated or not an aesweep archive");
  testing::write_text(dir_ + "/head.h5", bytes.substr(0, 600));
  refused(dir_ + "/head.h5", "cannot be read");
  {  // an HDF5 file that is not an archive
    h5::File f = h5::File::create(dir_ + "/other.h5", h5::FileAccess::defaults());
    f.write_attribute("format_version", std::int64_t(3));
  }
  refused(dir_ + "/other.h5", "is not an aesweep sweep archive");
}

TEST(StatusOptions, TopAndByAreCheckedWithTheirRange) {
  EXPECT_EQ(cli::parse_top("1"), 1u);
  EXPECT_EQ(cli::parse_top("1000000"), 1000000u);
  for (const char* bad : {"0", "-3", "1000001", "x", "", "3.5", "10abc", "99999999999999999999999"}) {
    try {
      (void)cli::parse_top(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr("[1, 1000000]")) << bad;
    }
  }
  EXPECT_EQ(cli::status_metric("latent_density").name, "latent_density");
  try {
    (void)cli::status_metric("accuracy");
    ADD_FAILURE() << "accuracy accepted";
  } catch (const ConfigError& e) {
    // Every scalar field of the schema is named.
    for (const auto& f : scalar_fields()) EXPECT_THAT(e.what(), HasSubstr(std::string(f.name)));
  }
  EXPECT_TRUE(cli::higher_is_better(cli::status_metric("samples_per_second")));
  EXPECT_FALSE(cli::higher_is_better(cli::status_metric("test_mse")));
}

}  // namespace
}  // namespace aesweep
