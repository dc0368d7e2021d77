#pragma once
// The end-to-end tests' bitwise comparison of two sweep archives of one study.
#include <gtest/gtest.h>

#include <string>

#include "aesweep/archive/sweep_archive_reader.hpp"

namespace aesweep::e2e {

// Both archives hold the same study (run count, config hash), and every run is done and bitwise
// equal in each: state, settings, weights, latent codes, test MSE, latent density and test-loss
// curve. With `only_complete_in_a`, runs still pending in `a` are passed over (a killed sweep
// against the uninterrupted one).
inline void expect_same_runs(const std::string& a_path, const std::string& b_path, bool only_complete_in_a = false) {
  auto a = SweepArchiveReader::open(a_path);
  auto b = SweepArchiveReader::open(b_path);
  ASSERT_EQ(a.run_count(), b.run_count());
  EXPECT_EQ(a.header().config_hash, b.header().config_hash);
  const auto sa = a.read_states(), sb = b.read_states();
  for (std::size_t i = 0; i < a.run_count(); ++i) {
    if (only_complete_in_a && sa[i] == RunStatus::pending) continue;
    ASSERT_EQ(sa[i], sb[i]) << "run " << i;
    ASSERT_TRUE(is_done(sa[i])) << "run " << i;
    ASSERT_EQ(a.run(i).settings.size(), b.run(i).settings.size()) << "run " << i;
    for (std::size_t k = 0; k < a.run(i).settings.size(); ++k)
      EXPECT_EQ(a.run(i).settings[k].value, b.run(i).settings[k].value) << "run " << i;
    const RunResult ra = a.read_result(i), rb = b.read_result(i);
    EXPECT_TRUE(ra.w1 == rb.w1) << "W1 of run " << i;
    EXPECT_TRUE(ra.b1 == rb.b1) << "b1 of run " << i;
    EXPECT_TRUE(ra.w2 == rb.w2) << "W2 of run " << i;
    EXPECT_TRUE(ra.b2 == rb.b2) << "b2 of run " << i;
    EXPECT_TRUE(a.read_latent(i) == b.read_latent(i)) << "latent codes of run " << i;
    EXPECT_EQ(ra.metrics.test_mse, rb.metrics.test_mse) << "run " << i;
    EXPECT_EQ(ra.metrics.latent_density, rb.metrics.latent_density) << "run " << i;
    ASSERT_EQ(ra.epochs.size(), rb.epochs.size());
    for (std::size_t e = 0; e < ra.epochs.size(); ++e) EXPECT_EQ(ra.epochs[e].test_loss, rb.epochs[e].test_loss);
  }
}

}  // namespace aesweep::e2e
