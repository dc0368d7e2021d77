// The Pareto front (src/archive/pareto.cpp) on hand-made points, and the archive's Pareto marks in
// /summary (SweepArchive::close): written once every run is done, per study and per section, only
// over complete runs, and recomputed by a resume when a killed job left them unwritten.
#include "aesweep/archive/pareto.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <stdexcept>

#include "aesweep/archive/h5.hpp"
#include "aesweep/archive/sweep_archive.hpp"
#include "aesweep/archive/sweep_archive_reader.hpp"
#include "test_support.hpp"

namespace aesweep {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<std::size_t> on(const std::vector<bool>& mask) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) out.push_back(i);
  return out;
}

using Indices = std::vector<std::size_t>;

TEST(ParetoFront, KeepsTheTradeOffAndDropsDominatedPoints) {
  const std::vector<double> error = {0.10, 0.20, 0.30, 0.15, 0.40};
  const std::vector<double> density = {0.90, 0.50, 0.10, 0.95, 0.60};
  // 3 is beaten by 0 on both; 4 by 1 on both.
  EXPECT_EQ(on(pareto_front(error, density)), (Indices{0, 1, 2}));
}

TEST(ParetoFront, TiesOnOneCoordinateKeepOnlyTheBetterOther) {
  // Same error: only the lower density; same density: only the lower error.
  EXPECT_EQ(on(pareto_front(std::vector<double>{0.2, 0.2, 0.1}, std::vector<double>{0.5, 0.4, 0.9})), (Indices{1, 2}));
  EXPECT_EQ(on(pareto_front(std::vector<double>{0.3, 0.2, 0.1}, std::vector<double>{0.4, 0.4, 0.9})), (Indices{1, 2}));
  // A point tied on both coordinates with a front point is a duplicate, not dominated.
  EXPECT_EQ(on(pareto_front(std::vector<double>{0.2, 0.2, 0.2}, std::vector<double>{0.4, 0.4, 0.4})),
            (Indices{0, 1, 2}));
}

TEST(ParetoFront, DuplicatesOfAFrontPointAreAllOnItAndDuplicatesOfADominatedOneAreNot) {
  const std::vector<double> error = {0.1, 0.3, 0.1, 0.3, 0.5, 0.5};
  const std::vector<double> density = {0.8, 0.2, 0.8, 0.2, 0.9, 0.9};
  EXPECT_EQ(on(pareto_front(error, density)), (Indices{0, 1, 2, 3}));
}

TEST(ParetoFront, NanAndInfinitePointsAreNeverOnItAndHideNothing) {
  // Run 1 (diverged: NaN error) would dominate everything if NaN compared as small.
  const std::vector<double> error = {0.2, kNaN, 0.1, 0.05, -kInf, 0.3};
  const std::vector<double> density = {0.5, 0.0, kNaN, kInf, 0.1, 0.4};
  EXPECT_EQ(on(pareto_front(error, density)), (Indices{0, 5}));
  EXPECT_TRUE(on(pareto_front(std::vector<double>{kNaN}, std::vector<double>{kNaN})).empty());
  EXPECT_TRUE(pareto_front(std::vector<double>{}, std::vector<double>{}).empty());
}

TEST(ParetoFront, IneligiblePointsAreLeftOutEvenWhenTheyWouldWin) {
  const std::vector<double> error = {0.01, 0.2, 0.3};
  const std::vector<double> density = {0.01, 0.5, 0.4};
  EXPECT_EQ(on(pareto_front(error, density, {false, true, true})), (Indices{1, 2}));
  EXPECT_EQ(on(pareto_front(error, density, {true, true, true})), (Indices{0}));
  EXPECT_THROW((void)pareto_front(error, density, {true}), std::invalid_argument);
  EXPECT_THROW((void)pareto_front(error, std::vector<double>{0.1}), std::invalid_argument);
}

// The sort-and-sweep answer equals the definition, checked pair by pair, on random points with
// many ties and duplicates, whatever their order.
TEST(ParetoFront, EqualsTheDefinitionOnRandomPointsInAnyOrder) {
  std::mt19937 random(12);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = 1 + random() % 40;
    std::vector<double> error(n), density(n);
    std::vector<bool> eligible(n);
    for (std::size_t i = 0; i < n; ++i) {
      error[i] = double(random() % 6) / 10.0;  // few distinct values: ties and duplicates
      density[i] = random() % 9 == 0 ? kNaN : double(random() % 6) / 10.0;
      eligible[i] = random() % 8 != 0;
    }
    std::vector<bool> expected(n, false);
    for (std::size_t i = 0; i < n; ++i) {
      if (!eligible[i] || !std::isfinite(error[i]) || !std::isfinite(density[i])) continue;
      bool dominated = false;
      for (std::size_t j = 0; j < n && !dominated; ++j)
        dominated = j != i && eligible[j] && std::isfinite(density[j]) && error[j] <= error[i] &&
                    density[j] <= density[i] && (error[j] < error[i] || density[j] < density[i]);
      expected[i] = !dominated;
    }
    ASSERT_EQ(pareto_front(error, density, eligible), expected) << "trial " << trial;
    // Reversed order: the same points on the front.
    std::vector<double> re(error.rbegin(), error.rend()), rd(density.rbegin(), density.rend());
    std::vector<bool> rel(eligible.rbegin(), eligible.rend());
    const std::vector<bool> reversed = pareto_front(re, rd, rel);
    ASSERT_EQ(std::vector<bool>(reversed.rbegin(), reversed.rend()), expected) << "trial " << trial;
  }
}

TEST(ParetoFront, GroupsMarkAPointOnTheFrontOfAnyGroupListingIt) {
  const std::vector<double> error = {0.1, 0.2, 0.25, 0.22, 0.05};
  const std::vector<double> density = {0.9, 0.5, 0.45, 0.44, 0.95};
  // Point 2 is beaten by 3 overall, but 3 is not in its group.
  EXPECT_EQ(on(pareto_front(error, density)), (Indices{0, 1, 3, 4}));
  const std::vector<std::vector<std::size_t>> groups = {{0, 1, 2}, {0, 3, 4}, {}};
  EXPECT_EQ(on(pareto_front_of_groups(error, density, {}, groups)), (Indices{0, 1, 2, 3, 4}));
  EXPECT_EQ(on(pareto_front_of_groups(error, density, {true, true, true, false, true}, groups)), (Indices{0, 1, 2, 4}));
  EXPECT_THROW((void)pareto_front_of_groups(error, density, {}, {{0, 5}}), std::out_of_range);
}

// ------------------------------------------------------------------------ the archive's marks

class ParetoMarksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("pareto");
    size_ = testing::small_study();  // 9 runs: 3 and 8 diverge, 5 fails; baseline 0-3, sparse_l1 0 and 4-8
    header_ = testing::make_header(size_);
    runs_ = testing::make_runs(size_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  SweepArchive open(const std::string& file) const {
    return SweepArchive::open_for_sweep(file, testing::self_communicator(), header_, runs_, OpenMode::create_or_resume);
  }
  // (test MSE, density) per run: 2 is on its section's front only (7 beats it), 8 diverged with
  // finite numbers that would beat everything, 3 diverged with NaN.
  void write(SweepArchive& archive, std::size_t i) const {
    static const double mse[] = {0.10, 0.20, 0.25, kNaN, 0.30, kNaN, 0.05, 0.22, 0.01};
    static const double density[] = {0.90, 0.50, 0.45, 0.5, 0.30, kNaN, 0.95, 0.44, 0.01};
    const RunShape shape = archive.shape(i);
    RunResult result = testing::make_result(runs_[i], shape);
    result.metrics.test_mse = mse[i];
    result.metrics.latent_density = density[i];
    archive.write_run(i, result, testing::make_info(shape, i, 0));
  }
  // The marks as the reader returns them, or nothing for a run without them.
  std::pair<Indices, Indices> marks(const std::string& file) const {
    const auto reader = SweepArchiveReader::open_to_watch(file);
    const SummarySnapshot snapshot = reader.read_done_summary();
    Indices front, section;
    for (const auto& row : snapshot.done) {
      EXPECT_TRUE(row.pareto_front.has_value() && row.pareto_front_section.has_value()) << row.index;
      if (row.pareto_front.value_or(false)) front.push_back(row.index);
      if (row.pareto_front_section.value_or(false)) section.push_back(row.index);
    }
    return {front, section};
  }

  std::string dir_;
  testing::StudySize size_;
  ArchiveHeader header_;
  std::vector<RunSpec> runs_;
};

TEST_F(ParetoMarksTest, MarkedWhenTheLastRunIsDoneNotBefore) {
  const std::string file = dir_ + "/study.h5";
  {
    SweepArchive archive = open(file);
    for (std::size_t i = 0; i < runs_.size(); ++i)
      if (i != 6) write(archive, i);
    archive.close();  // run 6 pending: no front yet
  }
  EXPECT_EQ(marks(file), (std::pair<Indices, Indices>{{}, {}}));
  {
    SweepArchive archive = open(file);
    write(archive, 6);
    archive.close();
  }
  // Overall: 6, 0, 1, 7, 4 (2 is beaten by 7; 8 and 3 diverged, 5 failed). Per section: baseline
  // {0, 1, 2, 3} has 0, 1, 2; sparse_l1 {0, 4, ..., 8} has 6, 0, 7, 4.
  EXPECT_EQ(marks(file), (std::pair<Indices, Indices>{{0, 1, 4, 6, 7}, {0, 1, 2, 4, 6, 7}}));
  // h5py sees the columns as uint8 0/1 at the end of the summary.
  const auto reader = SweepArchiveReader::open(file);
  const h5::Dataset summary = reader.file().open_dataset("summary");
  EXPECT_EQ(H5Tget_member_index(summary.type().id(), kParetoFrontColumn), int(H5Tget_nmembers(summary.type().id())) - 2);
  EXPECT_EQ(reader.format_version(), 3);
}

TEST_F(ParetoMarksTest, AResumeMarksTheFrontAKilledJobLeftUnwrittenAndAgainLeavesTheFileAlone) {
  const std::string file = dir_ + "/study.h5";
  {
    SweepArchive archive = open(file);
    for (std::size_t i = 0; i < runs_.size(); ++i) write(archive, i);
    archive.close();
  }
  const auto want = marks(file);
  ASSERT_FALSE(want.first.empty());
  {  // what a job killed after its last run and before close() leaves: every mark 0
    h5::File f = h5::File::open(file, h5::Access::read_write, h5::FileAccess::defaults());
    const h5::Dataset summary = f.open_dataset("summary");
    h5::Datatype zero = h5::Datatype::compound(2);
    zero.insert(kParetoFrontColumn, 0, h5::Datatype::native<std::uint8_t>());
    zero.insert(kParetoFrontSectionColumn, 1, h5::Datatype::native<std::uint8_t>());
    const std::vector<std::uint8_t> zeros(2 * runs_.size(), 0);
    summary.write_bytes(zero, zeros.data(), 0, runs_.size());
  }
  EXPECT_EQ(marks(file), (std::pair<Indices, Indices>{{}, {}}));
  {
    SweepArchive archive = open(file);  // nothing left to train
    EXPECT_TRUE(archive.resumed());
    archive.close();
  }
  EXPECT_EQ(marks(file), want);
  const std::string before = testing::read_bytes(file);
  {
    SweepArchive archive = open(file);
    archive.close();
  }
  EXPECT_TRUE(testing::read_bytes(file) == before) << "closing a finished archive again changed it";
}

TEST_F(ParetoMarksTest, AStudyWithNoCompleteRunHasAnEmptyFront) {
  size_.runs = 1;
  header_ = testing::make_header(size_);
  runs_ = testing::make_runs(size_);
  const std::string file = dir_ + "/one.h5";
  {
    SweepArchive archive = open(file);
    const RunShape shape = archive.shape(0);
    RunResult result = testing::make_result(runs_[0], shape);
    result.status = RunStatus::diverged;
    archive.write_run(0, result, testing::make_info(shape, 0, 0));
    archive.close();
  }
  EXPECT_EQ(marks(file), (std::pair<Indices, Indices>{{}, {}}));
}

}  // namespace
}  // namespace aesweep
