#pragma once
// The matrix-product backend: every float product of training (and the analysis's blocked
// distances) goes through here, so the library doing them is chosen in one place, at build time
// (CMake option AESWEEP_GEMM, docs/benchmarks.md section 7 for the measurements behind the default).
// Matrices are column-major with a leading dimension (Eigen's default storage).
//
// Determinism: with a fixed backend, CPU and thread count, the same product gives the same bits.
// The trainer runs one thread per rank unless --threads says otherwise, so -np 1 and -np N agree.
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <type_traits>

namespace aesweep::gemm {

using Index = Eigen::Index;

// bf16 storage: the upper 16 bits of an IEEE float.
using bf16 = std::uint16_t;

// C (m x n) = op(A) op(B) + (accumulate ? C : 0); op(X) = X or X^T; A is m x k after op, B k x n.
void sgemm(bool trans_a, bool trans_b, Index m, Index n, Index k, const float* a, Index lda, const float* b,
           Index ldb, bool accumulate, float* c, Index ldc);

// The same with bf16 operands, fp32 accumulation and fp32 C. Needs bf16_supported().
void bf16gemm(bool trans_a, bool trans_b, Index m, Index n, Index k, const bf16* a, Index lda, const bf16* b,
              Index ldb, bool accumulate, float* c, Index ldc);

// fp32 -> bf16, round to nearest even, n values; NaN stays NaN (quieted), subnormals become signed
// zero (as the AVX512_BF16 instruction does, on every build).
void to_bf16(const float* in, bf16* out, Index n);
float from_bf16(bf16 value);

// Threads of the backend's (and Eigen's) products in this process; 1 by default.
void set_threads(int threads);

// "onednn", "openblas", "blis" or "eigen", and the library's version ("2.6.3").
std::string backend_name();
std::string backend_version();
// "onednn 2.6.3 (isa avx512_core_bf16)": what a run records of the products it used.
std::string backend_description();

// The CPU: /proc/cpuinfo's model name with family/model ("AMD EPYC, family 26 model 2").
std::string cpu_description();

// Whether bf16 products can run here: oneDNN in the build and a CPU with avx512_bf16 or amx_bf16.
bool bf16_supported();
// Why not, in a sentence naming the missing piece ("" when supported).
std::string bf16_unsupported_reason();

// C (+)= op(A) op(B) by Eigen's own kernels.
template <typename Out, typename A, typename B>
void eigen_product(Out&& c, const A& a, bool trans_a, const B& b, bool trans_b, bool accumulate) {
  auto run = [&](const auto& x, const auto& y) {
    if (accumulate) c.noalias() += x * y;
    else c.noalias() = x * y;
  };
  if (trans_a && trans_b) run(a.transpose(), b.transpose());
  else if (trans_a) run(a.transpose(), b);
  else if (trans_b) run(a, b.transpose());
  else run(a, b);
}

// C (+)= op(A) op(B) on Eigen column-major objects with contiguous columns (matrices, maps, blocks of
// whole columns). Floats go through the backend; doubles stay with Eigen (the fp64 reference path).
template <typename Out, typename A, typename B>
void product(Out&& c, const A& a, bool trans_a, const B& b, bool trans_b, bool accumulate) {
  using T = typename std::decay_t<Out>::Scalar;
  if constexpr (std::is_same_v<T, float>) {
    const Index k = trans_a ? a.rows() : a.cols();
    sgemm(trans_a, trans_b, c.rows(), c.cols(), k, a.data(), a.outerStride(), b.data(), b.outerStride(), accumulate,
          c.data(), c.outerStride());
  } else {
    eigen_product(c, a, trans_a, b, trans_b, accumulate);
  }
}

}  // namespace aesweep::gemm
