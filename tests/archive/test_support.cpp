#include "test_support.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "aesweep/dist/mpi_communicator.hpp"

namespace aesweep::testing {

Communicator& self_communicator() {
  static MpiCommunicator self(MPI_COMM_SELF);
  return self;
}

Communicator& world_communicator() {
  static MpiCommunicator world(MPI_COMM_WORLD);
  return world;
}
namespace {

float value(std::size_t run, int array, Eigen::Index k) {
  return static_cast<float>(run) * 1.0f + static_cast<float>(array) * 0.125f + static_cast<float>(k) * 0.0009765625f;
}

Eigen::MatrixXf filled(std::size_t run, int array, Eigen::Index rows, Eigen::Index cols) {
  Eigen::MatrixXf m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = value(run, array, k);
  return m;
}

std::string format_double(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

ArchiveHeader make_header(const StudySize& size, const std::string& config_hash) {
  ArchiveHeader h;
  h.config_text = "[study]\nname = archive test\n[sweep.baseline]\nmodel.hidden = 3, 4, 5\n";
  h.config_hash = config_hash;
  h.dataset_name = "mnist-fake";
  h.n_train = 60;
  h.n_test = size.n_test;
  h.input_size = size.input;
  for (int i = 0; i < size.n_test; ++i) h.test_labels.push_back(static_cast<std::uint8_t>(i % 10));
  for (int i = 0; i < size.n_recon; ++i) h.recon_indices.push_back((i * 5) % size.n_test);
  h.recon_originals = filled(999, 0, size.input, size.n_recon);
  h.command = "aesweep sweep --config study.ini --out study.h5";
  h.aesweep_version = "0.1.0-test";
  h.created = "2024-01-02T03:04:05Z";
  // Run 0 belongs to both sections (make_runs): the first half is baseline, the rest sparse_l1.
  StudySection baseline;
  baseline.name = "baseline";
  baseline.origin = "study.ini line 3";
  baseline.swept_keys = {"model.hidden"};
  StudySection sparse;
  sparse.name = "sparse_l1";
  sparse.origin = "study.ini line 5";
  sparse.swept_keys = {"reg.l1_activity", "model.encoder_activation"};
  if (size.runs > 0) sparse.runs.push_back(0);
  for (std::size_t i = 0; i < size.runs; ++i) (i < size.runs / 2 ? baseline : sparse).runs.push_back(std::int64_t(i));
  h.sections = {baseline, sparse};
  return h;
}

std::vector<RunSpec> make_runs(const StudySize& size) {
  std::vector<RunSpec> runs;
  for (std::size_t i = 0; i < size.runs; ++i) {
    RunSpec r;
    r.index = i;
    r.section = i < size.runs / 2 ? "baseline" : "sparse_l1";
    r.sections = {r.section};
    if (i == 0) r.sections.push_back("sparse_l1");  // listed by both sections, trained once
    const int hidden = size.hidden_base + static_cast<int>(i % 3);
    r.options.model.hidden = hidden;
    r.options.model.input_size = size.input;
    r.options.training.epochs = size.epochs;
    r.options.training.seed = i + 1;
    const double l1 = 5e-5 * static_cast<double>(i);
    r.settings = {
        {"model.hidden", std::to_string(hidden), hidden},
        {"model.encoder_activation", i % 2 ? "sigmoid" : "relu", std::nullopt},
        {"model.use_bias", "true", 1.0},
        {"reg.l1_activity", format_double(l1), l1},
        {"optimizer.kind", "adam", std::nullopt},
        {"training.epochs", std::to_string(size.epochs), size.epochs},
        {"training.seed", std::to_string(i + 1), static_cast<double>(i + 1)},
        {"notes", i == 1 ? "two\nlines \\ with = signs" : "", std::nullopt},
    };
    runs.push_back(std::move(r));
  }
  return runs;
}

RunStatus expected_state(std::size_t index) {
  if (index % 7 == 5) return RunStatus::failed;
  if (index % 5 == 3) return RunStatus::diverged;
  return RunStatus::complete;
}

RunResult make_result(const RunSpec& spec, const RunShape& s) {
  const std::size_t i = spec.index;
  RunResult r;
  const RunStatus state = expected_state(i);
  r.status = state == RunStatus::complete ? RunStatus::complete
             : state == RunStatus::diverged ? RunStatus::diverged
                                           : RunStatus::failed;
  if (state != RunStatus::failed) {
    r.w1 = filled(i, 1, s.hidden, s.input_size);
    r.b1 = filled(i, 2, s.hidden, 1);
    r.w2 = filled(i, 3, s.input_size, s.hidden);
    r.b2 = filled(i, 4, s.input_size, 1);
    r.test_latent = filled(i, 5, s.hidden, s.n_test);
  }
  if (state == RunStatus::diverged) r.error = "loss became NaN in epoch 2";
  if (state == RunStatus::failed) r.error = "std::bad_alloc while allocating a " + std::string(600, 'x');
  // Complete runs on odd indices stop early; diverged runs stop after two epochs.
  int epochs = s.epochs;
  if (state == RunStatus::failed) epochs = 0;
  else if (state == RunStatus::diverged) epochs = std::min(2, s.epochs);
  else if (i % 2 == 1) epochs = std::max(1, s.epochs - 1);
  for (int e = 0; e < epochs; ++e) {
    EpochRecord rec;
    rec.train_loss = 1.0 / (e + 1) + static_cast<double>(i);
    rec.train_objective = rec.train_loss + 0.5;
    rec.test_loss = state == RunStatus::diverged && e == epochs - 1 ? std::numeric_limits<double>::quiet_NaN()
                                                                   : rec.train_loss + 0.25;
    rec.validation_loss = std::numeric_limits<double>::quiet_NaN();
    rec.seconds = 0.1 * (e + 1);
    r.epochs.push_back(rec);
  }
  r.epochs_run = epochs;
  r.metrics.train_mse = 0.01 * static_cast<double>(i);
  r.metrics.test_mse = 0.02 * static_cast<double>(i);
  r.metrics.train_loss = 0.03 * static_cast<double>(i);
  r.metrics.test_loss = 0.04 * static_cast<double>(i);
  r.metrics.latent_density = 0.5;
  r.metrics.dead_units = static_cast<int>(i % 3);
  r.metrics.mean_activation = 0.25;
  r.metrics.w1_near_zero = 0.125;
  r.metrics.w2_near_zero = 0.0625;
  r.wall_seconds = 1.5 + static_cast<double>(i);
  r.samples_per_second = 1000.0 + static_cast<double>(i);
  return r;
}

RunRecordInfo make_info(const RunShape& s, std::size_t index, int rank) {
  RunRecordInfo info;
  info.rank = rank;
  info.host = "node-" + std::to_string(rank) + (index == 0 ? std::string(100, 'h') : std::string());
  if (expected_state(index) != RunStatus::failed) info.reconstructions = filled(index, 6, s.input_size, s.n_recon);
  return info;
}

void expect_header_matches(const SweepArchiveReader& reader, const ArchiveHeader& h) {
  const ArchiveHeader& got = reader.header();
  EXPECT_EQ(reader.format_version(), kArchiveFormatVersion);
  EXPECT_EQ(got.config_text, h.config_text);
  EXPECT_EQ(got.config_hash, h.config_hash);
  EXPECT_EQ(got.dataset_name, h.dataset_name);
  EXPECT_EQ(got.n_train, h.n_train);
  EXPECT_EQ(got.n_test, h.n_test);
  EXPECT_EQ(got.input_size, h.input_size);
  EXPECT_EQ(got.test_labels, h.test_labels);
  EXPECT_EQ(got.recon_indices, h.recon_indices);
  EXPECT_EQ(got.recon_originals, h.recon_originals);
  EXPECT_EQ(got.command, h.command);
  EXPECT_EQ(got.aesweep_version, h.aesweep_version);
  EXPECT_EQ(got.created, h.created);
  ASSERT_EQ(got.sections.size(), h.sections.size());
  for (std::size_t s = 0; s < h.sections.size(); ++s) {
    EXPECT_EQ(got.sections[s].name, h.sections[s].name);
    EXPECT_EQ(got.sections[s].origin, h.sections[s].origin);
    EXPECT_EQ(got.sections[s].swept_keys, h.sections[s].swept_keys);
    EXPECT_EQ(got.sections[s].runs, h.sections[s].runs);
  }
}

namespace {
bool same_or_both_nan(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }
}  // namespace

void expect_run_matches(const SweepArchiveReader& reader, const std::vector<RunSpec>& runs,
                        const ArchiveHeader& header, std::size_t index, int writer_rank) {
  SCOPED_TRACE("run " + std::to_string(index));
  const RunSpec& spec = runs.at(index);
  const RunShape shape = RunShape::for_run(spec, header);
  const ArchivedRun& listed = reader.run(index);
  EXPECT_EQ(listed.index, index);
  EXPECT_EQ(listed.section, spec.section);
  EXPECT_EQ(listed.sections, spec.sections);
  EXPECT_EQ(listed.shape, shape);
  EXPECT_EQ(listed.state, expected_state(index));
  ASSERT_EQ(listed.settings.size(), spec.settings.size());
  for (std::size_t k = 0; k < spec.settings.size(); ++k) {
    EXPECT_EQ(listed.settings[k].key, spec.settings[k].key);
    EXPECT_EQ(listed.settings[k].value, spec.settings[k].value);
    EXPECT_EQ(listed.settings[k].numeric, spec.settings[k].numeric);
  }

  const RunResult want = make_result(spec, shape);
  const RunRecordInfo want_info = make_info(shape, index, writer_rank);
  const RunResult got = reader.read_result(index);
  EXPECT_EQ(got.status, want.status);
  EXPECT_EQ(got.error, want.error.substr(0, 512));
  if (expected_state(index) == RunStatus::failed) {
    EXPECT_TRUE(got.w1.array().isNaN().all());
    EXPECT_TRUE(got.test_latent.array().isNaN().all());
    EXPECT_EQ(got.w1.rows(), shape.hidden);
  } else {
    EXPECT_EQ(got.w1, want.w1);
    EXPECT_EQ(got.b1, want.b1);
    EXPECT_EQ(got.w2, want.w2);
    EXPECT_EQ(got.b2, want.b2);
    EXPECT_EQ(got.test_latent, want.test_latent);
    EXPECT_EQ(reader.read_latent(index), want.test_latent);
    EXPECT_EQ(reader.read_reconstructions(index), want_info.reconstructions);
  }
  ASSERT_EQ(got.epochs.size(), want.epochs.size());
  for (std::size_t e = 0; e < want.epochs.size(); ++e) {
    EXPECT_TRUE(same_or_both_nan(got.epochs[e].train_loss, want.epochs[e].train_loss));
    EXPECT_TRUE(same_or_both_nan(got.epochs[e].train_objective, want.epochs[e].train_objective));
    EXPECT_TRUE(same_or_both_nan(got.epochs[e].test_loss, want.epochs[e].test_loss));
    EXPECT_TRUE(same_or_both_nan(got.epochs[e].validation_loss, want.epochs[e].validation_loss));
    EXPECT_EQ(got.epochs[e].seconds, want.epochs[e].seconds);
  }
  EXPECT_EQ(got.epochs_run, want.epochs_run);
  EXPECT_EQ(got.wall_seconds, want.wall_seconds);
  EXPECT_EQ(got.samples_per_second, want.samples_per_second);
  EXPECT_EQ(got.metrics.test_mse, want.metrics.test_mse);
  EXPECT_EQ(got.metrics.dead_units, want.metrics.dead_units);
  EXPECT_EQ(got.metrics.w2_near_zero, want.metrics.w2_near_zero);

  const RunOutcome outcome = reader.read_outcome(index);
  EXPECT_EQ(outcome.state, expected_state(index));
  EXPECT_EQ(outcome.rank, writer_rank);
  EXPECT_EQ(outcome.host, want_info.host.substr(0, 64));
}

std::string make_temp_dir(const std::string& tag) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/aesweep-" + tag + "-XXXXXX";
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
  return pattern;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

int run_command(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::string text;
  char buffer[4096];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) text.append(buffer, n);
  const int status = pclose(pipe);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace aesweep::testing
