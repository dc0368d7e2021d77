// Single-core GFLOP/s of the available GEMM backends at the autoencoder's own product shapes (issue 11).
// The products are those of Autoencoder<float>::forward_backward (src/core/autoencoder.cpp), column-major,
// D = 784 inputs, H hidden units, B = batch:
//   enc fwd   z1  = W1 X        (H x D)(D x B), beta 1 (bias already in z1)
//   dec fwd   z2  = W2 h        (D x H)(H x B), beta 1
//   grad W2   gW2 = dz2 h^T     (D x B)(B x H)
//   grad h    dh  = W2^T dz2    (H x D)(D x B)   (the gradient flowing back into the code)
//   grad W1   gW1 = dz1 X^T     (H x B)(B x D)
// plus a 1024^3 square product as each backend's yardstick. Backends are compiled in where CMake found
// them; each runs on one thread. Rounds alternate the backends (each once per shape per round, in a rotated
// order) and the table shows the median over rounds. Every result is checked against Eigen's:
// max |C - C_eigen| / max |C_eigen|, fp32 within 1e-4, bf16 within 2e-2.
// Usage: gemm_backends [--rounds N] [--seconds S] [--batch B] [--hidden H[,H...]]
#include <Eigen/Core>
#include <dlfcn.h>
#include <omp.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef AESWEEP_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef AESWEEP_HAVE_BLIS
#include <blis.h>
#endif
#ifdef AESWEEP_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl.hpp>
#endif
#ifdef AESWEEP_HAVE_LIBXSMM
#include <libxsmm.h>
#endif

namespace {
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;
using Map = Eigen::Map<Mat>;
using CMap = Eigen::Map<const Mat>;

// C (m x n, column-major, ldc = m) = op(A) op(B) + beta C; A stored k x m when trans_a, else m x k; B likewise.
struct Shape {
  std::string name;
  int m, n, k;
  bool trans_a, trans_b;
  float beta;
  int lda() const { return trans_a ? k : m; }
  int ldb() const { return trans_b ? n : k; }
  double flops() const { return 2.0 * m * double(n) * k; }
};

struct Problem {
  Shape s;
  std::vector<float> a, b, c0;  // c0: C before the product (the bias for beta 1)
};

// A backend prepares a runnable for one problem, writing into c (reset to c0 by the caller); an empty
// function means the shape is unsupported (with the reason in `why`).
struct Backend {
  std::string name;
  double tolerance;
  std::function<std::function<void()>(const Problem&, float* c, std::string& why)> prepare;
};

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

std::string cpu_model() {
  std::string model = "unknown";
  if (FILE* p = popen("lscpu 2>/dev/null", "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, p)) {
      if (std::strncmp(line, "Model name:", 11) == 0) {
        std::string s(line + 11);
        s.erase(0, s.find_first_not_of(" \t"));
        s.erase(s.find_last_not_of(" \t\n") + 1);
        model = s;
      }
    }
    pclose(p);
  }
  return model;
}

bool cpu_flag(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line);
    std::string w;
    while (words >> w)
      if (w == flag) return true;
    return false;
  }
  return false;
}

void eigen_gemm(const Problem& p, float* c) {
  const Shape& s = p.s;
  CMap a(p.a.data(), s.trans_a ? s.k : s.m, s.trans_a ? s.m : s.k);
  CMap b(p.b.data(), s.trans_b ? s.n : s.k, s.trans_b ? s.k : s.n);
  Map out(c, s.m, s.n);
  // The trainer writes `out.noalias() += w * in` (bias first) and `out.noalias() = x * y.transpose()`.
  auto run = [&](const auto& x, const auto& y) {
    if (s.beta != 0.0f) out.noalias() += x * y;
    else out.noalias() = x * y;
  };
  if (s.trans_a && s.trans_b) run(a.transpose(), b.transpose());
  else if (s.trans_a) run(a.transpose(), b);
  else if (s.trans_b) run(a, b.transpose());
  else run(a, b);
}

#if defined(AESWEEP_HAVE_DNNL) || defined(AESWEEP_HAVE_LIBXSMM)
// fp32 -> bf16, round to nearest even (inputs here are finite).
void to_bf16(const float* in, std::uint16_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t u;
    std::memcpy(&u, &in[i], 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    out[i] = std::uint16_t(u >> 16);
  }
}
#endif

#ifdef AESWEEP_HAVE_DNNL
// C = op(A) op(B) as a oneDNN matmul, written row-major: C^T (n x m) = op(B)^T (n x k) op(A)^T (k x m).
// Logical (i, j) strides of each operand follow from the column-major storage.
struct DnnlMatmul {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::matmul prim;
  dnnl::memory src, wei, dst;
  std::vector<std::uint16_t> a16, b16;

  DnnlMatmul(const Problem& p, float* c, bool bf16) {
    using dt = dnnl::memory::data_type;
    const Shape& s = p.s;
    const dt in_type = bf16 ? dt::bf16 : dt::f32;
    // src = op(B)^T, n x k: element (j, l) = op(B)(l, j) = B[l + j ldb] or (trans) B[j + l ldb].
    dnnl::memory::desc src_md({s.n, s.k}, in_type,
                              s.trans_b ? dnnl::memory::dims{1, s.ldb()} : dnnl::memory::dims{s.ldb(), 1});
    // wei = op(A)^T, k x m: element (l, i) = op(A)(i, l) = A[i + l lda] or (trans) A[l + i lda].
    dnnl::memory::desc wei_md({s.k, s.m}, in_type,
                              s.trans_a ? dnnl::memory::dims{1, s.lda()} : dnnl::memory::dims{s.lda(), 1});
    dnnl::memory::desc dst_md({s.n, s.m}, dt::f32, dnnl::memory::dims{s.m, 1});
    dnnl::primitive_attr attr;
    if (s.beta != 0.0f) {
      dnnl::post_ops ops;
      ops.append_sum(s.beta);
      attr.set_post_ops(ops);
    }
    prim = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(src_md, wei_md, dst_md), attr, engine));
    void* a_ptr = const_cast<float*>(p.a.data());
    void* b_ptr = const_cast<float*>(p.b.data());
    if (bf16) {
      a16.resize(p.a.size());
      b16.resize(p.b.size());
      to_bf16(p.a.data(), a16.data(), a16.size());
      to_bf16(p.b.data(), b16.data(), b16.size());
      a_ptr = a16.data();
      b_ptr = b16.data();
    }
    src = dnnl::memory(src_md, engine, b_ptr);
    wei = dnnl::memory(wei_md, engine, a_ptr);
    dst = dnnl::memory(dst_md, engine, c);
  }
  void run() {
    prim.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
    stream.wait();
  }
};
#endif

std::vector<Backend> backends(bool have_bf16) {
  std::vector<Backend> list;
  list.push_back({"eigen", 0.0, [](const Problem& p, float* c, std::string&) {
                    return std::function<void()>([&p, c] { eigen_gemm(p, c); });
                  }});
#ifdef AESWEEP_HAVE_OPENBLAS
  list.push_back({"openblas", 1e-4, [](const Problem& p, float* c, std::string&) {
                    return std::function<void()>([&p, c] {
                      const Shape& s = p.s;
                      cblas_sgemm(CblasColMajor, s.trans_a ? CblasTrans : CblasNoTrans,
                                  s.trans_b ? CblasTrans : CblasNoTrans, s.m, s.n, s.k, 1.0f, p.a.data(), s.lda(),
                                  p.b.data(), s.ldb(), s.beta, c, s.m);
                    });
                  }});
#endif
#ifdef AESWEEP_HAVE_BLIS
  list.push_back({"blis", 1e-4, [](const Problem& p, float* c, std::string&) {
                    return std::function<void()>([&p, c] {
                      const Shape& s = p.s;
                      float one = 1.0f, beta = s.beta;
                      bli_sgemm(s.trans_a ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                                s.trans_b ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, s.m, s.n, s.k, &one,
                                const_cast<float*>(p.a.data()), 1, s.lda(), const_cast<float*>(p.b.data()), 1,
                                s.ldb(), &beta, c, 1, s.m);
                    });
                  }});
#endif
#ifdef AESWEEP_HAVE_DNNL
  list.push_back({"onednn-sgemm", 1e-4, [](const Problem& p, float* c, std::string&) {
                    // dnnl_sgemm is row-major: C^T = op(B)^T op(A)^T.
                    return std::function<void()>([&p, c] {
                      const Shape& s = p.s;
                      dnnl_sgemm(s.trans_b ? 'T' : 'N', s.trans_a ? 'T' : 'N', s.n, s.m, s.k, 1.0f, p.b.data(),
                                 s.ldb(), p.a.data(), s.lda(), s.beta, c, s.m);
                    });
                  }});
  list.push_back({"onednn-matmul", 1e-4, [](const Problem& p, float* c, std::string&) {
                    auto mm = std::make_shared<DnnlMatmul>(p, c, false);
                    return std::function<void()>([mm] { mm->run(); });
                  }});
  if (have_bf16) {
    // bf16 inputs, fp32 accumulation and output; the operands converted beforehand, outside the timing.
    list.push_back({"onednn-bf16", 2e-2, [](const Problem& p, float* c, std::string&) {
                      auto mm = std::make_shared<DnnlMatmul>(p, c, true);
                      return std::function<void()>([mm] { mm->run(); });
                    }});
    // The same, with both operands converted from fp32 inside the timing (what a trainer keeping fp32
    // activations would pay per product; the conversion is the plain loop above, not a vectorised one).
    list.push_back({"onednn-bf16+cvt", 2e-2, [](const Problem& p, float* c, std::string&) {
                      auto mm = std::make_shared<DnnlMatmul>(p, c, true);
                      return std::function<void()>([mm, &p] {
                        to_bf16(p.a.data(), mm->a16.data(), mm->a16.size());
                        to_bf16(p.b.data(), mm->b16.data(), mm->b16.size());
                        mm->run();
                      });
                    }});
  }
#endif
#ifdef AESWEEP_HAVE_LIBXSMM
  list.push_back({"libxsmm", 1e-4, [](const Problem& p, float* c, std::string& why) {
                    const Shape& s = p.s;
                    if (s.m == 1024 && s.n == 1024) {
                      why = "small-matrix library, square yardstick skipped";
                      return std::function<void()>();
                    }
                    const libxsmm_blasint lda = s.lda(), ldb = s.ldb(), ldc = s.m;
                    const float alpha = 1.0f, beta = s.beta;
                    const int flags = (s.trans_a ? LIBXSMM_GEMM_FLAG_TRANS_A : 0) |
                                      (s.trans_b ? LIBXSMM_GEMM_FLAG_TRANS_B : 0) |
                                      (s.beta == 0.0f ? LIBXSMM_GEMM_FLAG_BETA_0 : 0);
                    // One JIT kernel for the whole product (no blocking around it).
                    libxsmm_smmfunction kernel =
                        libxsmm_smmdispatch(s.m, s.n, s.k, &lda, &ldb, &ldc, &alpha, &beta, &flags, nullptr);
                    if (!kernel) {
                      why = "no JIT kernel (libxsmm 1.17 has no transposed-A fp32 kernels)";
                      return std::function<void()>();
                    }
                    return std::function<void()>([kernel, &p, c] { kernel(p.a.data(), p.b.data(), c); });
                  }});
#endif
  return list;
}

struct Sample {
  double gflops, cpu_per_wall;
};

Sample time_it(const std::function<void()>& run, const Problem& p, float* c, double seconds) {
  std::copy(p.c0.begin(), p.c0.end(), c);
  run();  // warm-up (caches, packing buffers, lazy initialisation)
  int reps = 0;
  const double start = now(), cpu_start = cpu_now();
  double elapsed = 0;
  do {
    run();
    ++reps;
    elapsed = now() - start;
  } while (elapsed < seconds || reps < 3);
  return {p.s.flops() * reps / elapsed / 1e9, (cpu_now() - cpu_start) / elapsed};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<int> parse_list(const char* text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    std::size_t used = 0;
    int value = 0;
    try {
      value = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size()) return {};  // rejected by the caller
    out.push_back(value);
  }
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  int rounds = 5, batch = 256;
  double seconds = 0.05;
  std::vector<int> hidden = {16, 64, 196, 1568};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--rounds" && has_value) rounds = std::atoi(argv[++i]);
    else if (arg == "--seconds" && has_value) seconds = std::atof(argv[++i]);
    else if (arg == "--batch" && has_value) batch = std::atoi(argv[++i]);
    else if (arg == "--hidden" && has_value) hidden = parse_list(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--rounds N] [--seconds S] [--batch B] [--hidden H[,H...]]\n", argv[0]);
      return 2;
    }
  }
  if (rounds < 1 || batch < 1 || seconds <= 0 || hidden.empty() ||
      std::any_of(hidden.begin(), hidden.end(), [](int h) { return h < 1; })) {
    std::fprintf(stderr, "gemm_backends: rounds, batch, seconds and hidden sizes must be positive\n");
    return 2;
  }

  // One thread everywhere.
  Eigen::setNbThreads(1);
  omp_set_num_threads(1);
#ifdef AESWEEP_HAVE_OPENBLAS
  openblas_set_num_threads(1);
#endif
#ifdef AESWEEP_HAVE_BLIS
  bli_thread_set_num_threads(1);
#endif
#ifdef AESWEEP_HAVE_LIBXSMM
  libxsmm_init();
#endif

  const bool have_bf16 = cpu_flag("avx512_bf16");
  std::printf("CPU: %s\n", cpu_model().c_str());
  std::printf("avx512_bf16 in /proc/cpuinfo: %s%s\n", have_bf16 ? "yes" : "no",
              have_bf16 ? "" : " (bf16 backends skipped)");
  std::printf("Eigen %d.%d.%d (own kernels, %s)\n", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION,
              Eigen::SimdInstructionSetsInUse());
#ifdef AESWEEP_HAVE_OPENBLAS
  {
    // OpenBLAS and BLIS both export cblas_sgemm: make sure the one called here is OpenBLAS's.
    Dl_info info{};
    const bool ok = dladdr(reinterpret_cast<void*>(&cblas_sgemm), &info) && info.dli_fname &&
                    std::strstr(info.dli_fname, "openblas");
    std::printf("OpenBLAS: %s, core %s, cblas_sgemm from %s\n", openblas_get_config(), openblas_get_corename(),
                info.dli_fname ? info.dli_fname : "?");
    if (!ok) {
      std::fprintf(stderr, "gemm_backends: cblas_sgemm does not resolve to OpenBLAS; fix the link order\n");
      return 1;
    }
  }
#else
  std::printf("OpenBLAS: not built in (not found at configure time)\n");
#endif
#ifdef AESWEEP_HAVE_BLIS
  std::printf("BLIS %s, sub-configuration %s\n", bli_info_get_version_str(), bli_arch_string(bli_arch_query_id()));
#else
  std::printf("BLIS: not built in (not found at configure time)\n");
#endif
#ifdef AESWEEP_HAVE_DNNL
  {
    const dnnl_version_t* v = dnnl_version();
    std::printf("oneDNN %d.%d.%d, effective ISA 0x%x\n", v->major, v->minor, v->patch,
                unsigned(dnnl_get_effective_cpu_isa()));
  }
#else
  std::printf("oneDNN: not built in (not found at configure time)\n");
#endif
#ifdef AESWEEP_HAVE_LIBXSMM
  std::printf("libxsmm %d.%d.%d, target %s\n", LIBXSMM_VERSION_MAJOR, LIBXSMM_VERSION_MINOR, LIBXSMM_VERSION_UPDATE,
              libxsmm_get_target_arch());
#else
  std::printf("libxsmm: not built in (not found at configure time)\n");
#endif
  std::printf("batch %d, %d rounds, >= %.2f s per measurement, one thread\n\n", batch, rounds, seconds);

  const int d = 784;
  std::vector<Shape> shapes;
  for (int h : hidden) {
    const std::string tag = " H=" + std::to_string(h);
    shapes.push_back({"enc fwd  W1 X" + tag, h, batch, d, false, false, 1.0f});
    shapes.push_back({"dec fwd  W2 h" + tag, d, batch, h, false, false, 1.0f});
    shapes.push_back({"grad W2  dz2 h^T" + tag, d, h, batch, false, true, 0.0f});
    shapes.push_back({"grad h   W2^T dz2" + tag, h, batch, d, true, false, 0.0f});
    shapes.push_back({"grad W1  dz1 X^T" + tag, h, d, batch, false, true, 0.0f});
  }
  shapes.push_back({"square 1024^3", 1024, 1024, 1024, false, false, 0.0f});

  std::mt19937 gen(11);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<Problem> problems;
  for (const Shape& s : shapes) {
    Problem p{s, {}, {}, {}};
    p.a.resize(std::size_t(s.m) * s.k);
    p.b.resize(std::size_t(s.k) * s.n);
    p.c0.resize(std::size_t(s.m) * s.n);
    for (auto* v : {&p.a, &p.b, &p.c0})
      for (float& x : *v) x = dist(gen);
    if (s.beta == 0.0f) std::fill(p.c0.begin(), p.c0.end(), std::nanf(""));  // beta 0 must not read C
    problems.push_back(std::move(p));
  }

  const std::vector<Backend> list = backends(have_bf16);
  const std::size_t nb = list.size(), ns = problems.size();
  // Per shape and backend: output buffer, runnable (empty: unsupported), error, samples.
  std::vector<std::vector<std::vector<float>>> out(ns, std::vector<std::vector<float>>(nb));
  std::vector<std::vector<std::function<void()>>> run(ns, std::vector<std::function<void()>>(nb));
  std::vector<std::vector<std::string>> why(ns, std::vector<std::string>(nb));
  std::vector<std::vector<double>> error(ns, std::vector<double>(nb, 0.0));
  std::vector<std::vector<std::vector<double>>> gflops(ns, std::vector<std::vector<double>>(nb));
  std::vector<double> worst_cpu(nb, 0.0);
  bool all_ok = true;

  for (std::size_t si = 0; si < ns; ++si) {
    const Problem& p = problems[si];
    std::vector<float> ref(p.c0);
    eigen_gemm(p, ref.data());
    double ref_max = 0;
    for (float x : ref) ref_max = std::max(ref_max, double(std::fabs(x)));
    for (std::size_t bi = 0; bi < nb; ++bi) {
      out[si][bi].resize(p.c0.size());
      run[si][bi] = list[bi].prepare(p, out[si][bi].data(), why[si][bi]);
      if (!run[si][bi]) continue;
      std::copy(p.c0.begin(), p.c0.end(), out[si][bi].begin());
      run[si][bi]();
      double diff = 0;
      for (std::size_t i = 0; i < ref.size(); ++i) {
        const double e = std::fabs(double(out[si][bi][i]) - double(ref[i]));
        diff = std::isnan(e) ? INFINITY : std::max(diff, e);
      }
      error[si][bi] = diff / ref_max;
      if (!(error[si][bi] <= list[bi].tolerance)) {
        std::printf("MISMATCH: %s on %s: max rel error %.3g > %.3g\n", list[bi].name.c_str(), p.s.name.c_str(),
                    error[si][bi], list[bi].tolerance);
        all_ok = false;
      }
    }
  }

  for (int r = 0; r < rounds; ++r) {
    for (std::size_t si = 0; si < ns; ++si) {
      for (std::size_t j = 0; j < nb; ++j) {
        const std::size_t bi = (j + std::size_t(r) + si) % nb;  // rotate who goes first
        if (!run[si][bi]) continue;
        const Sample sample = time_it(run[si][bi], problems[si], out[si][bi].data(), seconds);
        gflops[si][bi].push_back(sample.gflops);
        worst_cpu[bi] = std::max(worst_cpu[bi], sample.cpu_per_wall);
      }
    }
    std::fprintf(stderr, "round %d/%d done\n", r + 1, rounds);
  }

  // Markdown table: median GFLOP/s per shape and backend; the best one per row in bold.
  std::printf("Median GFLOP/s, one thread (m x n x k; T = transposed operand):\n\n| product |");
  for (const Backend& b : list) std::printf(" %s |", b.name.c_str());
  std::printf("\n|---|");
  for (std::size_t bi = 0; bi < nb; ++bi) std::printf("---:|");
  std::printf("\n");
  for (std::size_t si = 0; si < ns; ++si) {
    const Shape& s = problems[si].s;
    std::vector<double> med(nb, -1);
    double best = 0;
    for (std::size_t bi = 0; bi < nb; ++bi)
      if (!gflops[si][bi].empty()) best = std::max(best, med[bi] = median(gflops[si][bi]));
    std::printf("| %s (%dx%dx%d%s) |", s.name.c_str(), s.m, s.n, s.k,
                s.trans_a ? ", A^T" : (s.trans_b ? ", B^T" : ""));
    for (std::size_t bi = 0; bi < nb; ++bi) {
      if (med[bi] < 0) std::printf(" n/a |");
      else if (med[bi] == best) std::printf(" **%.1f** |", med[bi]);
      else std::printf(" %.1f |", med[bi]);
    }
    std::printf("\n");
  }
  std::printf("\nSpread over rounds, (max - min) / median, worst shape per backend:");
  for (std::size_t bi = 0; bi < nb; ++bi) {
    double worst = 0;
    for (std::size_t si = 0; si < ns; ++si)
      if (!gflops[si][bi].empty()) {
        const auto [lo, hi] = std::minmax_element(gflops[si][bi].begin(), gflops[si][bi].end());
        worst = std::max(worst, (*hi - *lo) / median(gflops[si][bi]));
      }
    std::printf(" %s %.0f%%;", list[bi].name.c_str(), 100 * worst);
  }
  std::printf("\nMax relative error against Eigen (max |C - C_eigen| / max |C_eigen|) over all shapes:");
  for (std::size_t bi = 1; bi < nb; ++bi) {
    double worst = 0;
    for (std::size_t si = 0; si < ns; ++si)
      if (run[si][bi]) worst = std::max(worst, error[si][bi]);
    std::printf(" %s %.1e;", list[bi].name.c_str(), worst);
  }
  std::printf("\nProcess CPU time / wall time, worst measurement (1.00 = one busy thread):");
  for (std::size_t bi = 0; bi < nb; ++bi) std::printf(" %s %.2f;", list[bi].name.c_str(), worst_cpu[bi]);
  std::printf("\n");
  for (std::size_t bi = 0; bi < nb; ++bi)
    for (std::size_t si = 0; si < ns; ++si)
      if (!run[si][bi] && !why[si][bi].empty())
        std::printf("n/a: %s, %s: %s\n", list[bi].name.c_str(), problems[si].s.name.c_str(), why[si][bi].c_str());
  if (!all_ok) std::printf("Some backends disagree with Eigen beyond tolerance (see MISMATCH above).\n");
  return all_ok ? 0 : 1;
}
