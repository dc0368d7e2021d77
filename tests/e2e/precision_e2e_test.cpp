// train.precision through the real binaries (issue 11): a study that sweeps fp32 against bf16
// gives the same archive at 1 and 2 ranks, bit for bit, and its bf16 runs differ from fp32 only by
// rounding; where bf16 cannot run (oneDNN held below avx512_core_bf16 with DNNL_MAX_CPU_ISA, as on
// a CPU without the instructions) train and sweep refuse it with exit 2, naming the option, and
// no archive is created.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "aesweep/archive/sweep_archive_reader.hpp"
#include "aesweep/core/gemm.hpp"
#include "e2e_support.hpp"

namespace fs = std::filesystem;

namespace aesweep {
namespace {

using e2e::data_dir;

constexpr const char* kConfig = R"(
[model]
hidden = 48
[train]
epochs = 3
batch_size = 128
seed = 5
[sweep.precision]
train.precision = fp32, bf16
reg.l1_activity = 0, 1e-4
)";

std::string setting(const ArchivedRun& run, const std::string& key) {
  for (const auto& s : run.settings)
    if (s.key == key) return s.value;
  return "(no " + key + ")";
}

class PrecisionE2E : public e2e::DirectoryTest {
 protected:
  PrecisionE2E() : DirectoryTest("aesweep-precision") {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(DirectoryTest::SetUp());
    write(dir_ / "study.ini", kConfig);
  }
  std::vector<std::string> sweep_args(int ranks, const std::string& out) const {
    return sweep_command(ranks, "study.ini", out, "1200", "300");
  }
};

TEST_F(PrecisionE2E, Bf16RunsAreIdenticalAtOneAndTwoRanksAndCloseToFp32) {
  if (!gemm::bf16_supported()) GTEST_SKIP() << gemm::bf16_unsupported_reason();
  ASSERT_EQ(run(sweep_args(1, "np1.h5"), "np1.txt"), 0) << log("np1.txt");
  ASSERT_EQ(run(sweep_args(2, "np2.h5"), "np2.txt"), 0) << log("np2.txt");
  auto a = SweepArchiveReader::open((dir_ / "np1.h5").string());
  auto b = SweepArchiveReader::open((dir_ / "np2.h5").string());
  ASSERT_EQ(a.run_count(), 4u);
  for (std::size_t i = 0; i < a.run_count(); ++i) {
    const RunResult ra = a.read_result(i), rb = b.read_result(i);
    ASSERT_EQ(ra.status, RunStatus::complete) << ra.error;
    EXPECT_TRUE(ra.w1 == rb.w1 && ra.w2 == rb.w2 && ra.b1 == rb.b1 && ra.b2 == rb.b2) << "run " << i;
    EXPECT_TRUE(a.read_latent(i) == b.read_latent(i)) << "run " << i;
    EXPECT_EQ(ra.metrics.test_mse, rb.metrics.test_mse) << "run " << i;
  }
  // Every run records what computed it: this build's backend and this CPU.
  const SummarySnapshot summary = a.read_done_summary();
  ASSERT_EQ(summary.done.size(), 4u);
  for (const auto& row : summary.done) {
    ASSERT_TRUE(row.compute.has_value());
    EXPECT_EQ(row.compute->rfind(gemm::backend_name() + " " + gemm::backend_version(), 0), 0u) << *row.compute;
    EXPECT_NE(row.compute->find(gemm::cpu_description().substr(0, 20)), std::string::npos) << *row.compute;
  }
  // Runs 0/1 are fp32, 2/3 the same settings in bf16 (the first key varies slowest).
  for (std::size_t i : {0u, 1u}) {
    EXPECT_EQ(setting(a.run(i), "train.precision"), "fp32");
    EXPECT_EQ(setting(a.run(i + 2), "train.precision"), "bf16");
    const RunResult fp32 = a.read_result(i), bf16 = a.read_result(i + 2);
    EXPECT_FALSE(fp32.w1 == bf16.w1) << "run " << i + 2 << " did not train in bf16";
    EXPECT_LT(std::abs(bf16.metrics.test_mse - fp32.metrics.test_mse), 0.02 * fp32.metrics.test_mse) << "run " << i;
  }
}

TEST_F(PrecisionE2E, Bf16IsRefusedWhereItCannotRunAndNoArchiveIsCreated) {
  setenv("DNNL_MAX_CPU_ISA", "AVX512_CORE", 1);  // oneDNN below bf16, like a CPU without it
  const int train = run({AESWEEP_BINARY, "train", "--data", data_dir(), "--train-samples", "500", "--test-samples",
                         "100", "--train.epochs", "1", "--train.precision", "bf16"},
                        "train.txt");
  const int sweep = run(sweep_args(2, "refused.h5"), "sweep.txt");
  unsetenv("DNNL_MAX_CPU_ISA");
  EXPECT_EQ(train, 2) << log("train.txt");
  EXPECT_NE(log("train.txt").find("train.precision"), std::string::npos) << log("train.txt");
  EXPECT_NE(log("train.txt").find("bf16"), std::string::npos) << log("train.txt");
  EXPECT_EQ(sweep, 2) << log("sweep.txt");
  EXPECT_NE(log("sweep.txt").find("train.precision = bf16 cannot run"), std::string::npos) << log("sweep.txt");
  EXPECT_FALSE(fs::exists(dir_ / "refused.h5"));
  EXPECT_FALSE(fs::exists(dir_ / "refused.h5.creating"));
  // fp32 still trains there.
  setenv("DNNL_MAX_CPU_ISA", "AVX512_CORE", 1);
  const int fp32 = run({AESWEEP_BINARY, "train", "--data", data_dir(), "--train-samples", "500", "--test-samples",
                        "100", "--train.epochs", "1"},
                       "fp32.txt");
  unsetenv("DNNL_MAX_CPU_ISA");
  EXPECT_EQ(fp32, 0) << log("fp32.txt");
}

}  // namespace
}  // namespace aesweep
