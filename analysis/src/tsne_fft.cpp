#include "tsne_fft.hpp"

#include <fftw3.h>  // the single-precision API (fftwf_*, libfftw3f)

#include <algorithm>
#include <cmath>
#include <mutex>
#include <new>

#include "detail.hpp"

namespace aesweep::analysis::detail {

namespace {

// FFTW's planner is not thread-safe (execution is); every plan is made and destroyed under this.
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

// Smallest m >= n with no prime factor above 7: FFTW's fast sizes (2 p m is one too for p <= 10).
int smooth_at_least(int n) {
  for (int m = std::max(n, 1);; ++m) {
    int r = m;
    for (int f : {2, 3, 5, 7})
      while (r % f == 0) r /= f;
    if (r == 1) return m;
  }
}

constexpr int kPointBlock = 4096;
// grid_ indices: charges 1, x, y; potentials K1*1, K2*1, K2*x, K2*y.
constexpr int kCharge0 = 0, kPot0 = 3;

}  // namespace

FftRepulsion::FftRepulsion(const FftGridOptions& opts) : opts_(opts), p_(opts.interpolation_points) {
  if (p_ < 1 || p_ > 10) throw AnalysisError("t-SNE FFT: interpolation points must be in [1, 10]");
  if (opts.min_intervals < 1 || opts.max_intervals < opts.min_intervals || !(opts.intervals_per_unit > 0.0) ||
      !std::isfinite(opts.intervals_per_unit))
    throw AnalysisError("t-SNE FFT: bad grid options");
  node_t_.resize(static_cast<std::size_t>(p_));
  node_den_.resize(static_cast<std::size_t>(p_));
  for (int k = 0; k < p_; ++k) node_t_[k] = (k + 0.5) / p_;
  for (int k = 0; k < p_; ++k) {
    double den = 1.0;
    for (int m = 0; m < p_; ++m)
      if (m != k) den *= node_t_[k] - node_t_[m];
    node_den_[k] = den;
  }
}

FftRepulsion::~FftRepulsion() {
  {
    std::lock_guard<std::mutex> lock(planner_mutex());
    for (auto& [size, pl] : plans_)
      for (void* plan : {pl.rows_forward, pl.cols_forward, pl.cols_inverse, pl.rows_inverse, pl.kernel})
        if (plan) fftwf_destroy_plan(static_cast<fftwf_plan>(plan));
  }
  for (auto& b : kernel_) release(b);
  for (auto& b : grid_) release(b);
  for (auto& b : hat_) release(b);
}

void FftRepulsion::reserve(Buffer& b, std::size_t n) {
  if (b.n >= n) return;
  release(b);
  b.p = static_cast<float*>(fftwf_malloc(n * sizeof(float)));
  if (!b.p) throw std::bad_alloc();
  b.n = n;
}

void FftRepulsion::release(Buffer& b) {
  if (b.p) fftwf_free(b.p);
  b.p = nullptr;
  b.n = 0;
}

void FftRepulsion::set_grid(const std::vector<double>& y) {
  const std::size_t n = y.size() / 2;
  double minx = y[0], maxx = y[0], miny = y[1], maxy = y[1];
  for (std::size_t i = 1; i < n; ++i) {
    minx = std::min(minx, y[2 * i]), maxx = std::max(maxx, y[2 * i]);
    miny = std::min(miny, y[2 * i + 1]), maxy = std::max(maxy, y[2 * i + 1]);
  }
  const double spanx = maxx - minx, spany = maxy - miny;
  const double span = std::max({spanx, spany, 1e-12});
  double w = std::min(1.0 / opts_.intervals_per_unit, span / opts_.min_intervals);
  if (span / w > opts_.max_intervals) w = span / opts_.max_intervals;
  auto boxes = [&](double s) {
    return smooth_at_least(std::max(1, static_cast<int>(std::ceil(s / w * (1.0 + 1e-12)))));
  };
  nbx_ = boxes(spanx);
  nby_ = boxes(spany);
  w_ = w;
  h_ = w / p_;
  mx_ = nbx_ * p_;
  my_ = nby_ * p_;
  cx_ = 0.5 * (minx + maxx);
  cy_ = 0.5 * (miny + maxy);
  x0_ = cx_ - 0.5 * nbx_ * w;
  y0_ = cy_ - 0.5 * nby_ * w;
}

void FftRepulsion::ensure_buffers() {
  const std::size_t kernel_n = static_cast<std::size_t>(my_ + 1) * static_cast<std::size_t>(mx_ + 1);
  const std::size_t grid_n = static_cast<std::size_t>(my_) * static_cast<std::size_t>(2 * mx_);
  const std::size_t hat_n = static_cast<std::size_t>(2 * my_) * static_cast<std::size_t>(mx_ + 1) * 2;
  for (auto& b : kernel_) reserve(b, kernel_n);
  for (auto& b : grid_) reserve(b, grid_n);
  for (auto& b : hat_) reserve(b, hat_n);
}

const FftRepulsion::Plans& FftRepulsion::plans() {
  const std::pair<int, int> key{my_, mx_};
  auto it = plans_.find(key);
  if (it != plans_.end()) return it->second;
  std::lock_guard<std::mutex> lock(planner_mutex());
  // FFTW_ESTIMATE: the plan comes from heuristics, not timings, so it is the same every run. The
  // plans are made on these buffers and run on others of the same kind (fftwf_malloc alignment).
  const int rows = 2 * my_, cols = 2 * mx_, half = mx_ + 1;
  auto* hat = reinterpret_cast<fftwf_complex*>(hat_[0].p);
  Plans pl;
  pl.rows_forward = fftwf_plan_many_dft_r2c(1, &cols, my_, grid_[0].p, nullptr, 1, cols, hat, nullptr, 1, half,
                                            FFTW_ESTIMATE);
  pl.cols_forward = fftwf_plan_many_dft(1, &rows, half, hat, nullptr, half, 1, hat, nullptr, half, 1, FFTW_FORWARD,
                                        FFTW_ESTIMATE);
  pl.cols_inverse = fftwf_plan_many_dft(1, &rows, half, hat, nullptr, half, 1, hat, nullptr, half, 1, FFTW_BACKWARD,
                                        FFTW_ESTIMATE);
  pl.rows_inverse = fftwf_plan_many_dft_c2r(1, &cols, my_, hat, nullptr, 1, half, grid_[0].p, nullptr, 1, cols,
                                            FFTW_ESTIMATE);
  pl.kernel = fftwf_plan_r2r_2d(my_ + 1, mx_ + 1, kernel_[0].p, kernel_[0].p, FFTW_REDFT00, FFTW_REDFT00,
                                FFTW_ESTIMATE);
  if (!pl.rows_forward || !pl.cols_forward || !pl.cols_inverse || !pl.rows_inverse || !pl.kernel)
    throw AnalysisError("t-SNE FFT: FFTW could not plan the transforms");
  return plans_.emplace(key, pl).first->second;
}

void FftRepulsion::point_weights(const std::vector<double>& y, std::int64_t i0, std::int64_t i1) {
  const std::int64_t row = 2 * static_cast<std::int64_t>(mx_);
  for (std::int64_t i = i0; i < i1; ++i) {
    const double u = (y[2 * i] - x0_) / w_, v = (y[2 * i + 1] - y0_) / w_;
    const int bx = std::clamp(static_cast<int>(std::floor(u)), 0, nbx_ - 1);
    const int by = std::clamp(static_cast<int>(std::floor(v)), 0, nby_ - 1);
    const double tx = u - bx, ty = v - by;
    first_node_[i] = static_cast<std::int64_t>(by) * p_ * row + static_cast<std::int64_t>(bx) * p_;
    double* wx = &wx_[static_cast<std::size_t>(i * p_)];
    double* wy = &wy_[static_cast<std::size_t>(i * p_)];
    for (int k = 0; k < p_; ++k) {
      double lx = 1.0, ly = 1.0;
      for (int m = 0; m < p_; ++m)
        if (m != k) lx *= tx - node_t_[m], ly *= ty - node_t_[m];
      wx[k] = lx / node_den_[k];
      wy[k] = ly / node_den_[k];
    }
  }
}

// Kernel `which` (0: K1 = 1 / (1 + d^2), 1: K2 = K1^2) at offsets (r h, c h), r <= my, c <= mx,
// transformed in place. The kernel is even, so the DFT of its circulant embedding (2 my x 2 mx,
// entry (r, c) the kernel at offset (r or r - 2 my, c or c - 2 mx)) is real and equals this
// DCT-I: hat(ky, kx) = D(min(ky, 2 my - ky), kx). Offset my (or mx) itself is never used.
void FftRepulsion::fill_kernels_and_transform(int which) {
  float* k = kernel_[which].p;
  for (int r = 0; r <= my_; ++r) {
    const double dy = r * h_;
    float* out = k + static_cast<std::size_t>(r) * (mx_ + 1);
    for (int c = 0; c <= mx_; ++c) {
      const double dx = c * h_;
      const double q = 1.0 / (1.0 + dx * dx + dy * dy);
      out[c] = static_cast<float>(which == 0 ? q : q * q);
    }
  }
  fftwf_execute_r2r(static_cast<fftwf_plan>(plans_.at({my_, mx_}).kernel), k, k);
}

// Charge 0 (1), 1 (x - cx) or 2 (y - cy) of every point spread onto the grid, then transformed:
// rows (only the my non-zero ones), then columns.
void FftRepulsion::spread_and_transform(const std::vector<double>& y, int charge) {
  const int cols = 2 * mx_, half = mx_ + 1;
  float* g = grid_[kCharge0 + charge].p;
  std::fill(g, g + static_cast<std::size_t>(my_) * cols, 0.0f);
  const std::int64_t n = static_cast<std::int64_t>(y.size() / 2);
  const double centre = charge == 1 ? cx_ : cy_;
  for (std::int64_t i = 0; i < n; ++i) {
    const double q = charge == 0 ? 1.0 : y[2 * i + (charge - 1)] - centre;
    const double* wx = &wx_[static_cast<std::size_t>(i * p_)];
    const double* wy = &wy_[static_cast<std::size_t>(i * p_)];
    float* base = g + first_node_[i];
    for (int ky = 0; ky < p_; ++ky) {
      const double a = q * wy[ky];
      float* row = base + static_cast<std::int64_t>(ky) * cols;
      for (int kx = 0; kx < p_; ++kx) row[kx] += static_cast<float>(a * wx[kx]);
    }
  }
  const Plans& pl = plans_.at({my_, mx_});
  auto* hat = reinterpret_cast<fftwf_complex*>(hat_[charge].p);
  fftwf_execute_dft_r2c(static_cast<fftwf_plan>(pl.rows_forward), g, hat);
  // The padding rows' transforms are zero.
  std::fill(hat_[charge].p + static_cast<std::size_t>(my_) * half * 2,
            hat_[charge].p + static_cast<std::size_t>(2 * my_) * half * 2, 0.0f);
  fftwf_execute_dft(static_cast<fftwf_plan>(pl.cols_forward), hat, hat);
}

// Convolution t (K1*1, K2*1, K2*x, K2*y): the product of transforms, back to grid_[kPot0 + t]
// (columns, then only the my rows that are read).
void FftRepulsion::convolve(int t) {
  const int rows = 2 * my_, half = mx_ + 1;
  static constexpr int kKernel[4] = {0, 1, 1, 1}, kCharge[4] = {0, 0, 1, 2}, kOut[4] = {3, 4, 1, 2};
  const float* k = kernel_[kKernel[t]].p;
  const float* b = hat_[kCharge[t]].p;
  float* c = hat_[kOut[t]].p;  // in place of the charge's transform for K2*x, K2*y (used once)
  for (int ky = 0; ky < rows; ++ky) {
    const float* kr = k + static_cast<std::size_t>(ky <= my_ ? ky : rows - ky) * half;
    const float* br = b + static_cast<std::size_t>(ky) * half * 2;
    float* cr = c + static_cast<std::size_t>(ky) * half * 2;
    for (int kx = 0; kx < half; ++kx) {
      cr[2 * kx] = kr[kx] * br[2 * kx];
      cr[2 * kx + 1] = kr[kx] * br[2 * kx + 1];
    }
  }
  const Plans& pl = plans_.at({my_, mx_});
  auto* hat = reinterpret_cast<fftwf_complex*>(c);
  fftwf_execute_dft(static_cast<fftwf_plan>(pl.cols_inverse), hat, hat);
  fftwf_execute_dft_c2r(static_cast<fftwf_plan>(pl.rows_inverse), hat, grid_[kPot0 + t].p);
}

void FftRepulsion::prepare(const std::vector<double>& y, int threads) {
  const std::int64_t n = static_cast<std::int64_t>(y.size() / 2);
  set_grid(y);
  ensure_buffers();
  plans();
  first_node_.resize(static_cast<std::size_t>(n));
  wx_.resize(static_cast<std::size_t>(n * p_));
  wy_.resize(static_cast<std::size_t>(n * p_));
  // Every task below writes its own outputs, so any hand-out order gives the same bits.
  parallel_tasks(threads, (n + kPointBlock - 1) / kPointBlock, [&](std::int64_t b, int) {
    point_weights(y, b * kPointBlock, std::min(n, (b + 1) * kPointBlock));
  });
  // Four tasks of about equal cost (the kernels' DCTs are a quarter of a charge's transform).
  parallel_tasks(threads, 4, [&](std::int64_t task, int) {
    if (task == 0) {
      fill_kernels_and_transform(0);
      fill_kernels_and_transform(1);
    } else {
      spread_and_transform(y, static_cast<int>(task - 1));
    }
  });
  parallel_tasks(threads, 4, [&](std::int64_t task, int) { convolve(static_cast<int>(task)); });
}

double FftRepulsion::gather(const std::vector<double>& y, std::int64_t i0, std::int64_t i1,
                            std::vector<double>& neg) const {
  const std::int64_t cols = 2 * static_cast<std::int64_t>(mx_);
  const double norm = 1.0 / (4.0 * static_cast<double>(mx_) * static_cast<double>(my_));  // FFTW is unnormalised
  double z = 0.0;
  for (std::int64_t i = i0; i < i1; ++i) {
    const double* wx = &wx_[static_cast<std::size_t>(i * p_)];
    const double* wy = &wy_[static_cast<std::size_t>(i * p_)];
    double pot[4] = {0.0, 0.0, 0.0, 0.0};
    for (int t = 0; t < 4; ++t) {
      const float* base = grid_[kPot0 + t].p + first_node_[i];
      double s = 0.0;
      for (int ky = 0; ky < p_; ++ky) {
        const float* row = base + ky * cols;
        double r = 0.0;
        for (int kx = 0; kx < p_; ++kx) r += wx[kx] * row[kx];
        s += wy[ky] * r;
      }
      pot[t] = s * norm;
    }
    // Self terms: q_ii = 1 in the K1 sum (removed here); zero weight in the force.
    z += pot[0] - 1.0;
    neg[2 * i] = (y[2 * i] - cx_) * pot[1] - pot[2];
    neg[2 * i + 1] = (y[2 * i + 1] - cy_) * pot[1] - pot[3];
  }
  return z;
}

}  // namespace aesweep::analysis::detail
