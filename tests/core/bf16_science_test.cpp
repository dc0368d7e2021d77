// bf16 training against fp32 on runs of paper 000's study (jobs/regularization.ini as written:
// 784-196-784, Adam, batch 256, 20 epochs) on the 8,000 real training digits: the strongest
// penalty of every section and the unregularised run. Issue 11's bound: the final test MSE of the
// bf16 run within 2% of the fp32 run's, and the latent density (the study's other axis) close.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "aesweep/config/grid.hpp"
#include "aesweep/config/study_config.hpp"
#include "aesweep/core/gemm.hpp"
#include "aesweep/core/trainer.hpp"
#include "support/test_support.hpp"

namespace aesweep {
namespace {

TEST(Bf16Science, RegularizationStudyRunsMatchFp32Within2Percent) {
  if (!gemm::bf16_supported()) GTEST_SKIP() << gemm::bf16_unsupported_reason();
  const StudyConfig config = load_study_config(AESWEEP_SOURCE_DIR "/jobs/regularization.ini", {});
  const StudyPlan plan(config);
  // The last run of each section is its strongest penalty; run 0 has none.
  std::map<std::string, std::size_t> strongest;
  for (std::size_t i = 0; i < plan.size(); ++i) strongest[plan.section_of(i)] = i;
  std::vector<std::size_t> picked = {0};
  for (const auto& [section, index] : strongest) picked.push_back(index);
  ASSERT_EQ(picked.size(), 6u);
  const Dataset& data = test::mnist(0, 0);  // all 8,000 / 2,000 digits
  for (std::size_t index : picked) {
    TrainOptions fp32 = plan.options(index);
    fp32.model.input_size = data.input_size();
    TrainOptions bf16 = fp32;
    bf16.training.precision = Precision::bf16;
    const RunResult a = train_autoencoder(fp32, data), b = train_autoencoder(bf16, data);
    ASSERT_EQ(a.status, RunStatus::complete) << a.error;
    ASSERT_EQ(b.status, RunStatus::complete) << b.error;
    const double relative = std::abs(b.metrics.test_mse - a.metrics.test_mse) / a.metrics.test_mse;
    std::printf("run %zu [%s]: test MSE fp32 %.6f bf16 %.6f (%.2f%%), density %.4f / %.4f\n", index,
                plan.section_of(index).c_str(), a.metrics.test_mse, b.metrics.test_mse, 100 * relative,
                a.metrics.latent_density, b.metrics.latent_density);
    EXPECT_LT(relative, 0.02) << "run " << index << " of [sweep." << plan.section_of(index) << "]";
    EXPECT_NEAR(b.metrics.latent_density, a.metrics.latent_density, 0.02 + 0.05 * a.metrics.latent_density)
        << "run " << index;
    EXPECT_FALSE(a.w1 == b.w1) << "run " << index << " did not train in bf16";
  }
}

}  // namespace
}  // namespace aesweep
