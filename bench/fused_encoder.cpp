// Would training K models of one sweep together pay? Runs that share the data, the shape and the
// seed (a lambda grid) see the same minibatches, so their encoder products can be one wide GEMM:
//   [W1_1; ...; W1_K] X   and   [dZ1_1; ...; dZ1_K] X^T.
// The decoder products (W2_k H_k, dZ2_k H_k^T, W2_k^T dZ2_k) stay per model. This measures one
// training step's five products for K models, separate vs fused, per hidden size.
#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

using Matrix = Eigen::MatrixXf;

template <class F>
double seconds_per_call(F&& f) {
  f();
  int reps = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    f();
    ++reps;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < 0.4);
  return elapsed / reps;
}

int main(int argc, char** argv) {
  Eigen::setNbThreads(1);
  const int input = 784, batch = 256, models = argc > 1 ? std::atoi(argv[1]) : 8;
  std::printf("{\"models\": %d, \"batch\": %d, \"rows\": [\n", models, batch);
  const int sizes[] = {8, 16, 32, 64, 128, 196};
  for (int hidden : sizes) {
    const Matrix x = Matrix::Random(input, batch);
    std::vector<Matrix> w1(models, Matrix::Random(hidden, input)), w2(models, Matrix::Random(input, hidden)),
        h(models, Matrix::Random(hidden, batch)), dz2(models, Matrix::Random(input, batch)),
        dz1(models, Matrix::Random(hidden, batch)), z1(models, Matrix(hidden, batch)),
        z2(models, Matrix(input, batch)), g1(models, Matrix(hidden, input)), g2(models, Matrix(input, hidden)),
        dh(models, Matrix(hidden, batch));
    const Matrix w1_all = Matrix::Random(models * hidden, input), dz1_all = Matrix::Random(models * hidden, batch);
    Matrix z1_all(models * hidden, batch), g1_all(models * hidden, input);

    auto decoder_side = [&] {
      for (int k = 0; k < models; ++k) {
        z2[k].noalias() = w2[k] * h[k];
        g2[k].noalias() = dz2[k] * h[k].transpose();
        dh[k].noalias() = w2[k].transpose() * dz2[k];
      }
    };
    const double separate = seconds_per_call([&] {
      for (int k = 0; k < models; ++k) {
        z1[k].noalias() = w1[k] * x;
        g1[k].noalias() = dz1[k] * x.transpose();
      }
      decoder_side();
    });
    const double fused = seconds_per_call([&] {
      z1_all.noalias() = w1_all * x;
      g1_all.noalias() = dz1_all * x.transpose();
      decoder_side();
    });
    const double flop = 5.0 * 2.0 * hidden * double(input) * batch * models;
    std::printf("  {\"hidden\": %d, \"separate_gflops\": %.1f, \"fused_gflops\": %.1f, \"speedup\": %.2f}%s\n", hidden,
                flop / separate / 1e9, flop / fused / 1e9, separate / fused, hidden == 196 ? "" : ",");
  }
  std::printf("]}\n");
  return 0;
}
