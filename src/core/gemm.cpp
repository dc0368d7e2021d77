#include "aesweep/core/gemm.hpp"

#include <omp.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <tuple>

#if defined(__AVX512BF16__)
#include <immintrin.h>
#endif

#if defined(AESWEEP_HAVE_DNNL)
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl.hpp>
#endif
#if defined(AESWEEP_GEMM_OPENBLAS)
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
#endif
#if defined(AESWEEP_GEMM_BLIS)
#include <blis.h>
#endif

namespace aesweep::gemm {
namespace {

using ConstMap = Eigen::Map<const Eigen::MatrixXf, 0, Eigen::OuterStride<>>;
using Map = Eigen::Map<Eigen::MatrixXf, 0, Eigen::OuterStride<>>;

[[maybe_unused]] void eigen_sgemm(bool trans_a, bool trans_b, Index m, Index n, Index k, const float* a, Index lda,
                                  const float* b, Index ldb, bool accumulate, float* c, Index ldc) {
  const ConstMap A(a, trans_a ? k : m, trans_a ? m : k, Eigen::OuterStride<>(lda));
  const ConstMap B(b, trans_b ? n : k, trans_b ? k : n, Eigen::OuterStride<>(ldb));
  Map C(c, m, n, Eigen::OuterStride<>(ldc));
  eigen_product(C, A, trans_a, B, trans_b, accumulate);
}

std::string proc_cpuinfo_field(const std::string& name) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? std::string() : line.substr(start);
  }
  return {};
}

bool cpu_flag(const std::string& flag) {
  std::istringstream words(proc_cpuinfo_field("flags"));
  std::string w;
  while (words >> w)
    if (w == flag) return true;
  return false;
}

#if defined(AESWEEP_HAVE_DNNL)
// One oneDNN matmul primitive per product shape (the trainer uses a handful), created on first use.
// C^T (n x m, row-major = C column-major) = op(B)^T (n x k) op(A)^T (k x m).
struct MatmulKey {
  bool trans_a, trans_b, accumulate;
  Index m, n, k, lda, ldb, ldc;
  auto tie() const { return std::tie(trans_a, trans_b, accumulate, m, n, k, lda, ldb, ldc); }
  bool operator<(const MatmulKey& o) const { return tie() < o.tie(); }
};

struct Matmul {
  dnnl::matmul primitive;
  dnnl::memory::desc src, weights, dst;
};

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

const Matmul& bf16_matmul(const MatmulKey& key) {
  // Per thread: primitives are not shared between threads that may run products at once.
  thread_local std::map<MatmulKey, std::unique_ptr<Matmul>> cache;
  auto& slot = cache[key];
  if (slot) return *slot;
  using dt = dnnl::memory::data_type;
  using dims = dnnl::memory::dims;
  auto mm = std::make_unique<Matmul>();
  mm->src = dnnl::memory::desc({key.n, key.k}, dt::bf16, key.trans_b ? dims{1, key.ldb} : dims{key.ldb, 1});
  mm->weights = dnnl::memory::desc({key.k, key.m}, dt::bf16, key.trans_a ? dims{1, key.lda} : dims{key.lda, 1});
  mm->dst = dnnl::memory::desc({key.n, key.m}, dt::f32, dims{key.ldc, 1});
  dnnl::primitive_attr attr;
  if (key.accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  mm->primitive = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(mm->src, mm->weights, mm->dst), attr,
                                                            engine()));
  slot = std::move(mm);
  return *slot;
}

std::string isa_name(dnnl_cpu_isa_t isa) {
  if ((isa & dnnl_cpu_isa_avx512_core_amx) == dnnl_cpu_isa_avx512_core_amx) return "avx512_core_amx";
  if ((isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16) return "avx512_core_bf16";
  if ((isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core) return "avx512_core";
  if ((isa & dnnl_cpu_isa_avx2) == dnnl_cpu_isa_avx2) return "avx2";
  return "sse41 or older";
}
#endif

}  // namespace

void sgemm(bool trans_a, bool trans_b, Index m, Index n, Index k, const float* a, Index lda, const float* b,
           Index ldb, bool accumulate, float* c, Index ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate) Map(c, m, n, Eigen::OuterStride<>(ldc)).setZero();
    return;
  }
#if defined(AESWEEP_GEMM_ONEDNN)
  // dnnl_sgemm is row-major: the column-major C is the row-major C^T = op(B)^T op(A)^T.
  const dnnl_status_t status = dnnl_sgemm(trans_b ? 'T' : 'N', trans_a ? 'T' : 'N', n, m, k, 1.0f, b, ldb, a, lda,
                                          accumulate ? 1.0f : 0.0f, c, ldc);
  if (status != dnnl_success) throw std::runtime_error("oneDNN sgemm failed (status " + std::to_string(status) + ")");
#elif defined(AESWEEP_GEMM_OPENBLAS)
  cblas_sgemm(CblasColMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, int(m), int(n),
              int(k), 1.0f, a, int(lda), b, int(ldb), accumulate ? 1.0f : 0.0f, c, int(ldc));
#elif defined(AESWEEP_GEMM_BLIS)
  float one = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  bli_sgemm(trans_a ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, trans_b ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, m, n, k, &one,
            const_cast<float*>(a), 1, lda, const_cast<float*>(b), 1, ldb, &beta, c, 1, ldc);
#else
  eigen_sgemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, accumulate, c, ldc);
#endif
}

void bf16gemm(bool trans_a, bool trans_b, Index m, Index n, Index k, const bf16* a, Index lda, const bf16* b,
              Index ldb, bool accumulate, float* c, Index ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate) Map(c, m, n, Eigen::OuterStride<>(ldc)).setZero();
    return;
  }
#if defined(AESWEEP_HAVE_DNNL)
  const Matmul& mm = bf16_matmul({trans_a, trans_b, accumulate, m, n, k, lda, ldb, ldc});
  thread_local dnnl::stream stream(engine());
  const dnnl::memory src(mm.src, engine(), const_cast<bf16*>(b));
  const dnnl::memory weights(mm.weights, engine(), const_cast<bf16*>(a));
  const dnnl::memory dst(mm.dst, engine(), c);
  mm.primitive.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
  stream.wait();
#else
  (void)trans_a, (void)trans_b, (void)lda, (void)ldb, (void)a, (void)b, (void)c, (void)ldc, (void)accumulate;
  throw std::logic_error("bf16 products need oneDNN: " + bf16_unsupported_reason());
#endif
}

// The scalar loop is VCVTNEPS2BF16's definition (Intel SDM), which treats subnormal inputs as zero:
// a value converts to the same bits in the vector body, in the scalar tail, and in a build without
// AVX512_BF16, so bf16 results do not depend on the build or on where a value sits in the array.
void to_bf16(const float* in, bf16* out, Index n) {
  Index i = 0;
#if defined(__AVX512BF16__)
  for (; i + 16 <= n; i += 16) {
    const __m256bh packed = _mm512_cvtneps_pbh(_mm512_loadu_ps(in + i));
    std::memcpy(out + i, &packed, sizeof packed);
  }
#endif
  for (; i < n; ++i) {
    std::uint32_t u;
    std::memcpy(&u, in + i, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) out[i] = bf16((u >> 16) | 0x40u);  // NaN stays a (quiet) NaN
    else if ((u & 0x7f800000u) == 0) out[i] = bf16((u >> 16) & 0x8000u);     // subnormal: signed zero
    else out[i] = bf16((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  }
}

float from_bf16(bf16 value) {
  const std::uint32_t u = std::uint32_t(value) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

void set_threads(int threads) {
  threads = std::max(1, threads);
  Eigen::setNbThreads(threads);
  // oneDNN (Debian's build runs on OpenMP) and Eigen take their threads from OpenMP.
  omp_set_num_threads(threads);
#if defined(AESWEEP_GEMM_OPENBLAS)
  openblas_set_num_threads(threads);
#elif defined(AESWEEP_GEMM_BLIS)
  bli_thread_set_num_threads(threads);
#endif
}

std::string backend_name() {
#if defined(AESWEEP_GEMM_ONEDNN)
  return "onednn";
#elif defined(AESWEEP_GEMM_OPENBLAS)
  return "openblas";
#elif defined(AESWEEP_GEMM_BLIS)
  return "blis";
#else
  return "eigen";
#endif
}

std::string backend_version() {
#if defined(AESWEEP_GEMM_ONEDNN)
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
#elif defined(AESWEEP_GEMM_OPENBLAS)
  return OPENBLAS_VERSION;  // " OpenBLAS 0.3.21 " in Debian's header
#elif defined(AESWEEP_GEMM_BLIS)
  return bli_info_get_version_str();
#else
  return std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION);
#endif
}

std::string backend_description() {
  std::string text = backend_name() + " " + backend_version();
#if defined(AESWEEP_HAVE_DNNL)
  text += " (oneDNN isa " + isa_name(dnnl_get_effective_cpu_isa()) + ")";
#endif
  return text;
}

std::string cpu_description() {
  std::string model = proc_cpuinfo_field("model name");
  if (model.empty()) model = "unknown CPU";
  const std::string family = proc_cpuinfo_field("cpu family"), number = proc_cpuinfo_field("model");
  if (!family.empty()) model += ", family " + family + " model " + number;
  if (cpu_flag("avx512_bf16")) model += ", avx512_bf16";
  if (cpu_flag("amx_bf16")) model += ", amx_bf16";
  return model;
}

std::string bf16_unsupported_reason() {
#if defined(AESWEEP_HAVE_DNNL)
  if (!cpu_flag("avx512_bf16") && !cpu_flag("amx_bf16"))
    return "this CPU (" + cpu_description() + ") has neither avx512_bf16 nor amx_bf16";
  const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  if ((isa & dnnl_cpu_isa_avx512_core_bf16) != dnnl_cpu_isa_avx512_core_bf16)
    return "oneDNN runs at isa " + isa_name(isa) + " here (DNNL_MAX_CPU_ISA?), below avx512_core_bf16";
  return {};
#else
  return "this build has no oneDNN (install libdnnl-dev and rebuild)";
#endif
}

bool bf16_supported() { return bf16_unsupported_reason().empty(); }

}  // namespace aesweep::gemm
