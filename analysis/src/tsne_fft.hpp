#pragma once
// t-SNE's repulsive forces by FFT-accelerated interpolation (Linderman, Rachh, Hoskins,
// Steinerberger, Kluger, "Fast interpolation-based t-SNE for improved visualization of
// single-cell RNA-seq data", Nature Methods 16, 2019). Private to the analysis sources.
//
// The embedding's bounding box is cut into square boxes of equal width; each box holds p
// equispaced interpolation nodes per axis, so all nodes form one equispaced grid. Each point's
// charges are spread onto the p x p nodes of its box with Lagrange weights, the kernels are
// applied on the grid as a 2-D convolution (a Toeplitz product, done by zero-padded FFTs), and
// the potentials are interpolated back with the same weights. Two kernels:
//   K1 = 1 / (1 + d^2)   with charge 1          -> sum_j q_ij             (for Z)
//   K2 = K1^2            with charges 1, x, y   -> sum_j q_ij^2 (y_i - y_j) (the force)
// FFTs from FFTW in single precision (the interpolation error, ~1e-3 relative, dwarfs float
// rounding), planned with FFTW_ESTIMATE (a plan does not depend on timing, so results are the
// same bits from run to run). Three savings over a plain padded 2-D FFT: the kernels are even,
// so their transforms are real DCT-Is of a quarter of the size; the forward transforms skip the
// zero rows of the padding; the inverse transforms only return the rows that are read.
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace aesweep::analysis::detail {

struct FftGridOptions {
  int interpolation_points = 4;     // nodes per box and axis (FIt-SNE's nterms, 3 there)
  int min_intervals = 50;           // boxes along the longer axis at least this many...
  double intervals_per_unit = 1.0;  // ...and at least this many per unit of embedding length
  int max_intervals = 250;          // boxes per axis at most (wider boxes beyond it; bounds memory)
};

class FftRepulsion {
 public:
  explicit FftRepulsion(const FftGridOptions& opts);
  ~FftRepulsion();
  FftRepulsion(const FftRepulsion&) = delete;
  FftRepulsion& operator=(const FftRepulsion&) = delete;

  // Grids, kernels and the convolutions for positions y = (x0, y0, x1, y1, ...), on `threads`
  // threads. Afterwards gather() gives each point's terms.
  void prepare(const std::vector<double>& y, int threads);
  // Points [i0, i1): neg[2i..2i+1] = sum_j q_ij^2 (y_i - y_j); returns sum over those i of
  // sum_{j != i} q_ij. Independent per point, so callers may split the range over threads.
  double gather(const std::vector<double>& y, std::int64_t i0, std::int64_t i1, std::vector<double>& neg) const;

  int boxes_x() const { return nbx_; }
  int boxes_y() const { return nby_; }
  double box_width() const { return w_; }

 private:
  struct Plans {  // fftwf_plan each (kept opaque so fftw3.h stays in the .cpp)
    void* rows_forward = nullptr;   // r2c of the my non-zero rows (length 2 mx)
    void* cols_forward = nullptr;   // complex DFTs of the mx + 1 columns (length 2 my), in place
    void* cols_inverse = nullptr;   // their inverses, in place
    void* rows_inverse = nullptr;   // c2r of the first my rows
    void* kernel = nullptr;         // 2-D DCT-I of (my + 1) x (mx + 1), in place
  };
  struct Buffer {
    float* p = nullptr;
    std::size_t n = 0;
  };

  void set_grid(const std::vector<double>& y);
  void ensure_buffers();
  const Plans& plans();
  void point_weights(const std::vector<double>& y, std::int64_t i0, std::int64_t i1);
  void fill_kernels_and_transform(int which);
  void spread_and_transform(const std::vector<double>& y, int charge);
  void convolve(int which);
  static void reserve(Buffer& b, std::size_t n);
  static void release(Buffer& b);

  FftGridOptions opts_;
  int p_;
  std::vector<double> node_t_, node_den_;  // node positions in a box (0..1) and Lagrange denominators
  // Grid of the current call.
  int nbx_ = 0, nby_ = 0, mx_ = 0, my_ = 0;  // boxes and nodes per axis
  double w_ = 1.0, h_ = 1.0, x0_ = 0.0, y0_ = 0.0, cx_ = 0.0, cy_ = 0.0;
  // Per point: box index (row-major node offset of its first node) and p + p weights.
  std::vector<std::int64_t> first_node_;
  std::vector<double> wx_, wy_;
  // kernel_: K1, K2 at offsets (0..my) x (0..mx) h, transformed in place (real).
  // grid_:    charges 1, x, y (my x 2 mx, right half zero), then potentials K1*1, K2*1, K2*x, K2*y.
  // hat_:     transforms (2 my x (mx + 1) complex) of the charges 1, x, y, then K1*1, K2*1; K2*x and
  //           K2*y are formed in place of x^ and y^.
  Buffer kernel_[2], grid_[7], hat_[5];
  std::map<std::pair<int, int>, Plans> plans_;
};

}  // namespace aesweep::analysis::detail
