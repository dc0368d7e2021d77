// Times aesweep's analysis algorithms on the latent codes of a trained model, for the
// comparison with scikit-learn (bench/sklearn_analysis.py runs the same on the same codes).
// Usage: analysis_speed ARCHIVE RUN [--all-data DIR] [--threads N] [--skip-tsne] [--skip-others]
//                       [--points N] [--tsne-method auto|barnes-hut|fft] [--fft-points P]
//                       [--fft-intervals-per-unit U] [--no-trust] [--check-trust] [--replicate R]
//   Without --all-data: the run's stored test-set codes (10,000 x hidden for Fashion-MNIST).
//   With --all-data: the run's encoder applied to every train + test image of DIR (70,000).
//   --check-trust: also the trustworthiness by the full scan (t-SNE's own uses P's neighbours).
//   --points N: only the first N codes. --replicate R: R copies, all but the first with 1% noise. --skip-others: t-SNE only. --no-trust: t-SNE without
//   its trustworthiness (tsne_seconds includes it otherwise, as aesweep-analyze runs it).
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "aesweep/analysis/kmeans.hpp"
#include "aesweep/analysis/silhouette.hpp"
#include "aesweep/analysis/trustworthiness.hpp"
#include "aesweep/analysis/tsne.hpp"
#include "aesweep/archive/sweep_archive_reader.hpp"
#include "aesweep/core/autoencoder.hpp"
#include "aesweep/data/idx.hpp"

using namespace aesweep;
using Clock = std::chrono::steady_clock;

static double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s ARCHIVE RUN [--all-data DIR] [--threads N] [--skip-tsne]\n", argv[0]);
    return 2;
  }
  std::string all_data;
  int threads = 2;
  bool skip_tsne = false, skip_others = false, no_trust = false, check_trust = false;
  long max_points = 0;
  int replicate = 1;
  analysis::TsneOptions to;
  for (int i = 3; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--all-data") && i + 1 < argc) all_data = argv[++i];
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--skip-tsne")) skip_tsne = true;
    else if (!std::strcmp(argv[i], "--skip-others")) skip_others = true;
    else if (!std::strcmp(argv[i], "--no-trust")) no_trust = true;
    else if (!std::strcmp(argv[i], "--check-trust")) check_trust = true;
    else if (!std::strcmp(argv[i], "--points") && i + 1 < argc) max_points = std::atol(argv[++i]);
    else if (!std::strcmp(argv[i], "--replicate") && i + 1 < argc) replicate = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--tsne-method") && i + 1 < argc) to.method = analysis::parse_tsne_method(argv[++i]);
    else if (!std::strcmp(argv[i], "--fft-points") && i + 1 < argc) to.fft_interpolation_points = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--fft-intervals-per-unit") && i + 1 < argc)
      to.fft_intervals_per_unit = std::atof(argv[++i]);
    else {
      std::fprintf(stderr, "analysis_speed: unknown or incomplete option %s\n", argv[i]);
      return 2;
    }
  }
  const std::size_t run = std::size_t(std::atol(argv[2]));
  auto reader = SweepArchiveReader::open(argv[1]);
  Eigen::MatrixXf latent;
  std::vector<int> labels;
  if (all_data.empty()) {
    latent = reader.read_latent(run);
    for (auto l : reader.header().test_labels) labels.push_back(int(l));
  } else {
    const RunResult r = reader.read_result(run);
    const Dataset data = load_idx_dataset(DataOptions{all_data, 0, 0});
    Eigen::MatrixXf images(data.input_size(), data.train_images.cols() + data.test_images.cols());
    images << data.train_images, data.test_images;
    for (auto l : data.train_labels) labels.push_back(int(l));
    for (auto l : data.test_labels) labels.push_back(int(l));
    ModelOptions model;
    model.input_size = data.input_size();
    model.hidden = int(r.w1.rows());
    Autoencoder<float> ae(model, RegularizerOptions{});
    ae.params().w1() = r.w1;
    ae.params().b1() = r.b1;
    latent.resize(model.hidden, images.cols());
    ae.encode(images, latent);
  }
  if (replicate > 1) {  // copies with 1% Gaussian noise: a larger set with the same structure
    const Eigen::Index n0 = latent.cols();
    Eigen::MatrixXf big(latent.rows(), n0 * replicate);
    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    const float scale = 0.01f * std::sqrt((latent.array() * latent.array()).mean());
    for (int r = 0; r < replicate; ++r)
      for (Eigen::Index j = 0; j < n0; ++j)
        for (Eigen::Index d = 0; d < latent.rows(); ++d)
          big(d, r * n0 + j) = latent(d, j) + (r == 0 ? 0.0f : scale * nd(rng));
    latent = std::move(big);
    const std::vector<int> one = labels;
    for (int r = 1; r < replicate; ++r) labels.insert(labels.end(), one.begin(), one.end());
  }
  if (max_points > 0 && max_points < latent.cols()) {
    latent = Eigen::MatrixXf(latent.leftCols(max_points));
    labels.resize(std::size_t(max_points));
  }
  std::printf("{\"points\": %ld, \"dims\": %ld, \"threads\": %d", long(latent.cols()), long(latent.rows()), threads);
  auto t = Clock::now();
  if (!skip_others) {
  analysis::SilhouetteOptions so;
  so.threads = threads;
  const auto s = analysis::silhouette(latent, labels, so);
  std::printf(", \"silhouette\": %.8f, \"silhouette_seconds\": %.3f", s.score, since(t));
  t = Clock::now();
  analysis::KmeansOptions ko;
  ko.threads = threads;
  ko.n_init = 1;
  const auto k = analysis::kmeans(latent, 10, ko);
  std::printf(", \"kmeans10_inertia\": %.6g, \"kmeans10_seconds\": %.3f", k.inertia, since(t));
  }
  if (!skip_tsne) {
    t = Clock::now();
    to.threads = threads;
    if (no_trust) to.trustworthiness_neighbors = 0;
    const auto e = analysis::tsne(latent, to);
    const double seconds = since(t);
    const Eigen::VectorXf span = e.embedding.rowwise().maxCoeff() - e.embedding.rowwise().minCoeff();
    std::printf(", \"tsne_span\": [%.1f, %.1f]", span[0], span[1]);
    std::printf(", \"tsne_method\": \"%s\", \"tsne_kl\": %.4f, \"tsne_trustworthiness\": %.4f, "
                "\"tsne_seconds\": %.2f",
                e.method_parameters.c_str(), e.kl_divergence, e.trustworthiness, seconds);
    if (check_trust) {  // the public trustworthiness() without t-SNE's neighbours: same value
      t = Clock::now();
      const double full = analysis::trustworthiness(latent, e.embedding, analysis::TrustworthinessOptions{10, threads}).value;
      std::printf(", \"trustworthiness_full_scan\": %.6f, \"trustworthiness_full_scan_seconds\": %.2f", full, since(t));
    }
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf(", \"peak_rss_mb\": %.0f}\n", double(usage.ru_maxrss) / 1024.0);
  return 0;
}
