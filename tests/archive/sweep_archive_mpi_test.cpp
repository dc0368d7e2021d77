// The sweep archive under mpiexec (1, 2 and 3 ranks): every rank writes its share of the runs
// independently into the one shared file; rank 0 then reads everything back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <mpi.h>

#include <filesystem>

#include "aesweep/archive/sweep_archive.hpp"
#include "aesweep/archive/sweep_archive_reader.hpp"
#include "aesweep/core/error.hpp"
#include "test_support.hpp"

namespace aesweep {
namespace {

using ::testing::HasSubstr;

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

class SweepArchiveMpiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Rank 0 picks the directory, every rank uses it.
    std::string dir = world_rank() == 0 ? testing::make_temp_dir("mpi") : std::string();
    unsigned long n = dir.size();
    MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG, 0, MPI_COMM_WORLD);
    dir.resize(n);
    MPI_Bcast(dir.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
    dir_ = dir;
    size_ = testing::small_study();
    size_.runs = 11;
    header_ = testing::make_header(size_);
    runs_ = testing::make_runs(size_);
  }
  void TearDown() override {
    MPI_Barrier(MPI_COMM_WORLD);
    if (world_rank() == 0) std::filesystem::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // Which rank writes run i: round robin, shifted so rank 0 is not always first.
  static int writer_of(std::size_t i) { return static_cast<int>((i + 1) % static_cast<std::size_t>(world_size())); }

  void write_share(SweepArchive& archive, bool (*wanted)(std::size_t)) const {
    for (std::size_t i = 0; i < runs_.size(); ++i) {
      if (writer_of(i) != world_rank() || !wanted(i) || archive.is_done(i)) continue;
      const RunShape shape = archive.shape(i);
      archive.write_run(i, testing::make_result(runs_[i], shape), testing::make_info(shape, i, world_rank()));
    }
  }

  std::string dir_;
  testing::StudySize size_;
  ArchiveHeader header_;
  std::vector<RunSpec> runs_;
};

TEST_F(SweepArchiveMpiTest, EveryRankWritesItsRunsIndependently) {
  const std::string file = path("study.h5");
  {
    SweepArchive archive = SweepArchive::open_for_sweep(file, testing::world_communicator(), header_, runs_, OpenMode::create_or_resume);
    EXPECT_FALSE(archive.resumed());
    write_share(archive, [](std::size_t) { return true; });
    archive.close();
  }
  if (world_rank() == 0) {
    const SweepArchiveReader reader = SweepArchiveReader::open(file);
    testing::expect_header_matches(reader, header_);
    ASSERT_EQ(reader.run_count(), runs_.size());
    for (std::size_t i = 0; i < runs_.size(); ++i) testing::expect_run_matches(reader, runs_, header_, i, writer_of(i));
  }
}

TEST_F(SweepArchiveMpiTest, ResumeSeesTheSameStatesOnEveryRank) {
  const std::string file = path("resume.h5");
  {
    SweepArchive archive = SweepArchive::open_for_sweep(file, testing::world_communicator(), header_, runs_, OpenMode::create_or_resume);
    write_share(archive, [](std::size_t i) { return i % 3 == 0; });
    archive.close();
  }
  {
    SweepArchive archive = SweepArchive::open_for_sweep(file, testing::world_communicator(), header_, runs_, OpenMode::create_or_resume);
    EXPECT_TRUE(archive.resumed());
    for (std::size_t i = 0; i < runs_.size(); ++i) EXPECT_EQ(archive.is_done(i), i % 3 == 0) << i;
    write_share(archive, [](std::size_t) { return true; });
    archive.close();
  }
  if (world_rank() == 0) {
    const SweepArchiveReader reader = SweepArchiveReader::open(file);
    for (std::size_t i = 0; i < runs_.size(); ++i) testing::expect_run_matches(reader, runs_, header_, i, writer_of(i));
  }
  // Every run done: reopening and closing on every rank changes no byte.
  std::string before;
  if (world_rank() == 0) before = testing::read_bytes(file);
  MPI_Barrier(MPI_COMM_WORLD);
  {
    SweepArchive archive = SweepArchive::open_for_sweep(file, testing::world_communicator(), header_, runs_, OpenMode::create_or_resume);
    EXPECT_EQ(archive.run_states().size(), runs_.size());
    for (std::size_t i = 0; i < runs_.size(); ++i) EXPECT_TRUE(archive.is_done(i)) << i;
    archive.close();
  }
  if (world_rank() == 0) {
    EXPECT_TRUE(testing::read_bytes(file) == before);
  }
}

TEST_F(SweepArchiveMpiTest, RefusalsReachEveryRankWithTheSameMessage) {
  const std::string file = path("refuse.h5");
  {
    SweepArchive archive = SweepArchive::open_for_sweep(file, testing::world_communicator(), header_, runs_, OpenMode::create_or_resume);
    archive.close();
  }
  const ArchiveHeader other = testing::make_header(size_, "hash-B");
  std::string before;
  if (world_rank() == 0) before = testing::read_bytes(file);
  try {
    (void)SweepArchive::open_for_sweep(file, testing::world_communicator(), other, runs_, OpenMode::create_or_resume);
    ADD_FAILURE() << "must refuse on every rank";
  } catch (const ArchiveError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("was written by a different config (hash hash-A, this config hash hash-B)"));
  }
  if (world_rank() == 0) {
    EXPECT_TRUE(testing::read_bytes(file) == before);
  }

  const std::string text = path("notes.txt");
  if (world_rank() == 0) testing::write_text(text, "plain text");
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_THROW((void)SweepArchive::open_for_sweep(text, testing::world_communicator(), header_, runs_, OpenMode::overwrite), ArchiveError);
  try {
    (void)SweepArchive::open_for_sweep(path("no/dir/x.h5"), testing::world_communicator(), header_, runs_, OpenMode::overwrite);
    ADD_FAILURE() << "must throw on every rank";
  } catch (const ArchiveError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr(path("no/dir/x.h5")));
  }
}

TEST_F(SweepArchiveMpiTest, ParallelReaderReadsOnEveryRank) {
  const std::string file = path("read.h5");
  {
    SweepArchive archive = SweepArchive::open_for_sweep(file, testing::world_communicator(), header_, runs_, OpenMode::create_or_resume);
    write_share(archive, [](std::size_t) { return true; });
    archive.close();
  }
  SweepArchiveReader reader = SweepArchiveReader::open(file, testing::world_communicator());
  for (std::size_t i = 0; i < runs_.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(world_size())) == world_rank()) {
      testing::expect_run_matches(reader, runs_, header_, i, writer_of(i));
    }
  }
  reader.close();
}

// A step that fails on one rank only (here its own inputs) fails on every rank with that rank's
// message, and nothing is created: no rank goes on to a collective call alone.
TEST_F(SweepArchiveMpiTest, AFailureOnOneRankIsEveryRanksError) {
  ArchiveHeader mine = header_;
  if (world_rank() == world_size() - 1) mine.input_size = 0;
  try {
    (void)SweepArchive::open_for_sweep(path("one.h5"), testing::world_communicator(), mine, runs_,
                                       OpenMode::create_or_resume);
    ADD_FAILURE() << "no exception on rank " << world_rank();
  } catch (const ArchiveError& e) {
    EXPECT_THAT(e.what(), HasSubstr("header.input_size must be positive"));
  }
  testing::world_communicator().barrier();
  EXPECT_FALSE(std::filesystem::exists(path("one.h5")));
}

}  // namespace
}  // namespace aesweep
