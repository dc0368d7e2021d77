// Measured float32 GEMM peak of one core with Eigen, the yardstick for the training GFLOP/s.
#include <Eigen/Core>
#include <chrono>
#include <cstdio>

int main() {
  Eigen::setNbThreads(1);
  double best = 0;
  for (int n : {512, 1024, 2048}) {
    Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
    c.noalias() = a * b;  // warm-up
    int reps = 0;
    const auto start = std::chrono::steady_clock::now();
    double seconds = 0;
    do {
      c.noalias() = a * b;
      ++reps;
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (seconds < 1.0);
    const double gflops = 2.0 * n * double(n) * n * reps / seconds / 1e9;
    std::printf("{\"n\": %d, \"gflops\": %.1f}\n", n, gflops);
    if (gflops > best) best = gflops;
  }
  std::printf("{\"peak_gflops\": %.1f}\n", best);
  return 0;
}
