#include "aesweep/analysis/tsne.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "aesweep/analysis/neighbors.hpp"
#include "aesweep/analysis/trustworthiness.hpp"
#include "detail.hpp"
#include "tsne_fft.hpp"

namespace aesweep::analysis {

const char* tsne_method_name(TsneMethod m) {
  switch (m) {
    case TsneMethod::Auto: return "auto";
    case TsneMethod::BarnesHut: return "barnes-hut";
    case TsneMethod::Fft: return "fft";
  }
  return "?";
}

TsneMethod parse_tsne_method(const std::string& name) {
  for (TsneMethod m : {TsneMethod::Auto, TsneMethod::BarnesHut, TsneMethod::Fft})
    if (name == tsne_method_name(m)) return m;
  throw AnalysisError("t-SNE method must be auto, barnes-hut or fft, got '" + name.substr(0, 40) + "'");
}

TsneMethod resolve_tsne_method(std::int64_t n, const TsneOptions& opts) {
  if (opts.method != TsneMethod::Auto) return opts.method;
  // theta = 0 asks for the exact sum, which only Barnes-Hut gives.
  return n >= kTsneAutoFftMinPoints && opts.theta > 0.0 ? TsneMethod::Fft : TsneMethod::BarnesHut;
}

int resolve_tsne_fft_points(std::int64_t n, const TsneOptions& opts) {
  if (opts.fft_interpolation_points != 0) return opts.fft_interpolation_points;
  return n < kTsneFftPointsSwitch ? kTsneFftPointsSmall : kTsneFftPointsLarge;
}

void TsneOptions::validate() const {
  detail::check_threads(threads, "TsneOptions");
  if (!(perplexity > 0.0)) throw AnalysisError("TsneOptions: perplexity must be > 0");
  if (!(theta >= 0.0)) throw AnalysisError("TsneOptions: theta must be >= 0");
  if (method != TsneMethod::Auto && method != TsneMethod::BarnesHut && method != TsneMethod::Fft)
    throw AnalysisError("TsneOptions: unknown method");
  if (fft_interpolation_points != 0 && (fft_interpolation_points < 2 || fft_interpolation_points > 10))
    throw AnalysisError("TsneOptions: fft_interpolation_points must be 0 (automatic) or in [2, 10]");
  if (fft_min_intervals < 1 || fft_min_intervals > 250)
    throw AnalysisError("TsneOptions: fft_min_intervals must be in [1, 250]");
  if (!(fft_intervals_per_unit > 0.0) || !(fft_intervals_per_unit <= 100.0))
    throw AnalysisError("TsneOptions: fft_intervals_per_unit must be in (0, 100]");
  if (!(early_exaggeration >= 1.0)) throw AnalysisError("TsneOptions: early_exaggeration must be >= 1");
  if (exaggeration_iters < 0) throw AnalysisError("TsneOptions: exaggeration_iters must be >= 0");
  if (n_iter < 1) throw AnalysisError("TsneOptions: n_iter must be >= 1");
  if (!std::isfinite(learning_rate)) throw AnalysisError("TsneOptions: learning_rate must be finite");
  if (!(min_gain >= 0.0)) throw AnalysisError("TsneOptions: min_gain must be >= 0");
  if (n_iter_without_progress < 1) throw AnalysisError("TsneOptions: n_iter_without_progress must be >= 1");
  if (trustworthiness_neighbors < 0) throw AnalysisError("TsneOptions: trustworthiness_neighbors must be >= 0");
}

namespace {

constexpr double kFloat32Tiny = 1.17549435e-38;  // sklearn's FLOAT32_TINY in the KL sum

// ---------------------------------------------------------------------------------------
// Affinities: conditional P by binary search on the precision (sklearn's
// _binary_search_perplexity: 100 steps, entropy tolerance 1e-5), then P = (P + P^T) / sum.
struct SparseP {
  std::vector<std::int64_t> row_ptr;  // n + 1
  std::vector<int> col;
  std::vector<double> val;
  std::int64_t unmatched = 0;  // points whose search ended without reaching the perplexity
};

// One point's conditional P over its k neighbours (squared distances d): the precision beta
// whose distribution has entropy log(perplexity), to 1e-5, in at most 100 bisection steps.
// False when no step got there: P is then the last step's (as sklearn's, which does not say so).
// Neighbour distances can make it unreachable: k neighbours at one distance (a code repeated
// more than k times) give entropy log(k) at every precision.
bool conditional_row(const float* d, Eigen::Index k, double desired_entropy, double* p) {
  double beta = 1.0, beta_min = -std::numeric_limits<double>::infinity();
  double beta_max = std::numeric_limits<double>::infinity();
  for (int step = 0; step < 100; ++step) {
    double sum_p = 0.0;
    for (Eigen::Index m = 0; m < k; ++m) sum_p += (p[m] = std::exp(-static_cast<double>(d[m]) * beta));
    if (sum_p == 0.0) sum_p = 1e-8;  // sklearn's EPSILON_DBL: all exp underflowed
    double sum_dp = 0.0;
    for (Eigen::Index m = 0; m < k; ++m) sum_dp += d[m] * (p[m] /= sum_p);
    const double diff = std::log(sum_p) + beta * sum_dp - desired_entropy;
    if (std::fabs(diff) <= 1e-5) return true;
    if (diff > 0.0) {
      beta_min = beta;
      beta = std::isinf(beta_max) ? beta * 2.0 : (beta + beta_max) / 2.0;
    } else {
      beta_max = beta;
      beta = std::isinf(beta_min) ? beta / 2.0 : (beta + beta_min) / 2.0;
    }
  }
  return false;
}

// k x n: column i is point i's conditional P over its neighbours knn.indices.col(i). Counts the
// points whose search did not reach the perplexity into `unmatched`.
Eigen::MatrixXd conditional_probabilities(const KnnResult& knn, double perplexity, int threads,
                                          std::int64_t& unmatched) {
  const Eigen::Index n = knn.indices.cols(), k = knn.indices.rows();
  Eigen::MatrixXd cond(k, n);
  const double desired_entropy = std::log(perplexity);
  const std::int64_t blocks = (n + 1023) / 1024;
  std::vector<std::int64_t> missed(static_cast<std::size_t>(blocks), 0);
  detail::parallel_tasks(threads, blocks, [&](std::int64_t b, int) {
    const Eigen::Index i0 = b * 1024, i1 = std::min<Eigen::Index>(n, i0 + 1024);
    for (Eigen::Index i = i0; i < i1; ++i)
      if (!conditional_row(knn.squared_distances.col(i).data(), k, desired_entropy, cond.col(i).data()))
        ++missed[static_cast<std::size_t>(b)];
  });
  unmatched = std::accumulate(missed.begin(), missed.end(), std::int64_t(0));
  return cond;
}

using Entry = std::pair<int, double>;  // (column, p)

// Every (i, j, p) in row i and in row j, rows laid out by row_ptr (n + 1), unsorted.
std::vector<Entry> symmetric_entries(const KnnResult& knn, const Eigen::MatrixXd& cond,
                                     std::vector<std::int64_t>& row_ptr) {
  const Eigen::Index n = knn.indices.cols(), k = knn.indices.rows();
  row_ptr.assign(static_cast<std::size_t>(n) + 1, 0);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index m = 0; m < k; ++m) {
      ++row_ptr[i + 1];
      ++row_ptr[knn.indices(m, i) + 1];
    }
  for (Eigen::Index i = 0; i < n; ++i) row_ptr[i + 1] += row_ptr[i];
  std::vector<Entry> entries(static_cast<std::size_t>(row_ptr[n]));
  std::vector<std::int64_t> fill(row_ptr.begin(), row_ptr.end() - 1);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index m = 0; m < k; ++m) {
      const int j = knn.indices(m, i);
      entries[fill[i]++] = {j, cond(m, i)};
      entries[fill[j]++] = {static_cast<int>(i), cond(m, i)};
    }
  return entries;
}

// Sorts each row by column and adds up duplicate columns in place, at the front of the row;
// returns each row's merged length.
std::vector<std::int64_t> merge_rows(std::vector<Entry>& entries, const std::vector<std::int64_t>& row_ptr,
                                     int threads) {
  const Eigen::Index n = static_cast<Eigen::Index>(row_ptr.size()) - 1;
  std::vector<std::int64_t> merged_len(static_cast<std::size_t>(n));
  detail::parallel_tasks(threads, (n + 1023) / 1024, [&](std::int64_t b, int) {
    const Eigen::Index i0 = b * 1024, i1 = std::min<Eigen::Index>(n, i0 + 1024);
    for (Eigen::Index i = i0; i < i1; ++i) {
      auto first = entries.begin() + row_ptr[i], last = entries.begin() + row_ptr[i + 1];
      std::sort(first, last, [](const auto& a, const auto& b) { return a.first < b.first; });
      auto w = first;
      for (auto r = first; r != last; ++r) {
        if (w != first && (w - 1)->first == r->first) (w - 1)->second += r->second;
        else *w++ = *r;
      }
      merged_len[i] = w - first;
    }
  });
  return merged_len;
}

SparseP joint_probabilities(const KnnResult& knn, double perplexity, int threads) {
  const Eigen::Index n = knn.indices.cols();
  SparseP out;
  const Eigen::MatrixXd cond = conditional_probabilities(knn, perplexity, threads, out.unmatched);
  // Symmetrise into CSR: every (i, j, p) lands in row i and row j; merge duplicates.
  std::vector<Entry> entries = symmetric_entries(knn, cond, out.row_ptr);
  const std::vector<std::int64_t> merged_len = merge_rows(entries, out.row_ptr, threads);
  std::vector<std::int64_t> ptr(static_cast<std::size_t>(n) + 1, 0);
  for (Eigen::Index i = 0; i < n; ++i) ptr[i + 1] = ptr[i] + merged_len[i];
  out.col.resize(static_cast<std::size_t>(ptr[n]));
  out.val.resize(static_cast<std::size_t>(ptr[n]));
  double total = 0.0;
  for (Eigen::Index i = 0; i < n; ++i)
    for (std::int64_t t = 0; t < merged_len[i]; ++t) {
      const auto& e = entries[out.row_ptr[i] + t];
      out.col[ptr[i] + t] = e.first;
      out.val[ptr[i] + t] = e.second;
      total += e.second;
    }
  total = std::max(total, std::numeric_limits<double>::epsilon());
  for (double& v : out.val) v /= total;
  out.row_ptr = std::move(ptr);
  return out;
}

// ---------------------------------------------------------------------------------------
// Barnes-Hut quadtree, rebuilt every iteration. Points are sorted by Morton key (32 bits
// per axis), the tree is emitted in preorder with a skip pointer per node, and chains of
// single-child cells are collapsed. Leaves hold one point or a run of points with the same
// key (exact duplicates, or closer than root width / 2^32).
struct Node {
  float cx, cy;   // centre of mass
  float crit;     // accept as a summary if squared distance > crit (width^2 / theta^2); leaves: -1
  float count;    // number of points
  int next;       // first node after this subtree
  int begin;      // first sorted point
};

inline std::uint64_t spread_bits(std::uint32_t v) {
  std::uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFull;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFull;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0Full;
  x = (x | (x << 2)) & 0x3333333333333333ull;
  x = (x | (x << 1)) & 0x5555555555555555ull;
  return x;
}

// Points per shared interaction list of the Barnes-Hut tree (t-SNE and tsne_repulsion alike).
// Larger groups pay the tree walk once for more points and open cells against the group's box
// (slightly more accurate); measured on Fashion-MNIST codes at 2 threads: 16 -> 64 took 10k
// points from 3.75 s to 2.61 s and 70k from 40.8 s to 27.1 s.
constexpr int kGroupSize = 64;

class QuadTree {
 public:
  std::vector<Node> nodes;
  std::vector<int> perm;            // sorted position -> point index
  std::vector<float> xs, ys;        // positions in sorted order
  std::vector<std::pair<int, int>> groups;  // (first sorted point, end) of query groups

  void build(const std::vector<double>& y, double theta, int group_size) {
    const std::size_t n = y.size() / 2;
    double minx = y[0], maxx = y[0], miny = y[1], maxy = y[1];
    for (std::size_t i = 1; i < n; ++i) {
      minx = std::min(minx, y[2 * i]), maxx = std::max(maxx, y[2 * i]);
      miny = std::min(miny, y[2 * i + 1]), maxy = std::max(maxy, y[2 * i + 1]);
    }
    side_ = std::max(maxx - minx, maxy - miny);
    const double scale = side_ > 0.0 ? 4294967296.0 / side_ : 0.0;
    keys_.resize(n);
    tmp_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto qx = static_cast<std::uint32_t>(std::min(4294967295.0, (y[2 * i] - minx) * scale));
      const auto qy = static_cast<std::uint32_t>(std::min(4294967295.0, (y[2 * i + 1] - miny) * scale));
      keys_[i] = {(spread_bits(qx) << 1) | spread_bits(qy), static_cast<int>(i)};
    }
    radix_sort();
    perm.resize(n);
    xs.resize(n);
    ys.resize(n);
    for (std::size_t s = 0; s < n; ++s) {
      perm[s] = keys_[s].second;
      xs[s] = static_cast<float>(y[2 * perm[s]]);
      ys[s] = static_cast<float>(y[2 * perm[s] + 1]);
    }
    inv_theta2_ = theta > 0.0 ? 1.0 / (theta * theta) : std::numeric_limits<double>::infinity();
    nodes.clear();
    build_node(0, static_cast<int>(n));
    groups.clear();
    for (std::size_t idx = 0; idx < nodes.size();) {
      if (nodes[idx].count <= static_cast<float>(group_size) || nodes[idx].crit < 0.0f) {
        groups.emplace_back(nodes[idx].begin, nodes[idx].begin + static_cast<int>(nodes[idx].count));
        idx = static_cast<std::size_t>(nodes[idx].next);
      } else {
        ++idx;
      }
    }
  }

 private:
  std::vector<std::pair<std::uint64_t, int>> keys_, tmp_;
  double side_ = 0.0, inv_theta2_ = 0.0;

  void radix_sort() {
    constexpr int kBits = 11, kBuckets = 1 << kBits;
    std::vector<std::size_t> count(kBuckets);
    for (int shift = 0; shift < 64; shift += kBits) {
      std::fill(count.begin(), count.end(), 0);
      for (const auto& kv : keys_) ++count[(kv.first >> shift) & (kBuckets - 1)];
      if (count[(keys_[0].first >> shift) & (kBuckets - 1)] == keys_.size()) continue;  // digit constant
      std::size_t sum = 0;
      for (auto& c : count) {
        const std::size_t t = c;
        c = sum;
        sum += t;
      }
      for (const auto& kv : keys_) tmp_[count[(kv.first >> shift) & (kBuckets - 1)]++] = kv;
      keys_.swap(tmp_);
    }
  }

  int build_node(int b, int e) {
    const int idx = static_cast<int>(nodes.size());
    nodes.emplace_back();
    const std::uint64_t diff = keys_[b].first ^ keys_[e - 1].first;
    if (e - b == 1 || diff == 0) {
      // Leaf. Exact duplicates keep the exact position, so self-distances are exactly 0.
      bool identical = true;
      double sx = 0.0, sy = 0.0;
      for (int s = b; s < e; ++s) {
        identical = identical && xs[s] == xs[b] && ys[s] == ys[b];
        sx += xs[s], sy += ys[s];
      }
      Node& nd = nodes[idx];
      nd.cx = identical ? xs[b] : static_cast<float>(sx / (e - b));
      nd.cy = identical ? ys[b] : static_cast<float>(sy / (e - b));
      nd.crit = -1.0f;
      nd.count = static_cast<float>(e - b);
      nd.next = idx + 1;
      nd.begin = b;
      return idx;
    }
    const int level = __builtin_clzll(diff) / 2;  // first level where the range splits
    const int shift = 62 - 2 * level;
    double sx = 0.0, sy = 0.0;
    int cb = b;
    for (std::uint64_t digit = 0; digit < 4 && cb < e; ++digit) {
      int ce = cb;
      // Keys in the range share all digits above `level`, so children are contiguous.
      int lo = cb, hi = e;
      while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (((keys_[mid].first >> shift) & 3u) <= digit) lo = mid + 1;
        else hi = mid;
      }
      ce = lo;
      if (ce > cb) {
        const int child = build_node(cb, ce);
        sx += static_cast<double>(nodes[child].cx) * (ce - cb);
        sy += static_cast<double>(nodes[child].cy) * (ce - cb);
      }
      cb = ce;
    }
    Node& nd = nodes[idx];
    const double width = std::ldexp(side_, -level);
    nd.cx = static_cast<float>(sx / (e - b));
    nd.cy = static_cast<float>(sy / (e - b));
    nd.crit = static_cast<float>(std::min(width * width * inv_theta2_, 3.0e38));
    nd.count = static_cast<float>(e - b);
    nd.next = static_cast<int>(nodes.size());
    nd.begin = b;
    return idx;
  }
};

// Repulsive part (one group of points): for each point, sum_j q_ij^2 (y_i - y_j) and Z = sum_{i != j} q_ij with
// q_ij = 1 / (1 + |y_i - y_j|^2), Barnes-Hut approximated. Points are processed in groups
// (tree nodes of <= group_size points) that share one interaction list: a cell enters the
// list when its distance to the group's bounding box passes the BH test, so every
// point-cell interaction satisfies the usual per-point criterion; the list is then
// evaluated for each point of the group with SIMD. Self and exact duplicates (distance 0)
// get no force, as in sklearn, but unlike sklearn's Z this one counts the duplicates (q = 1
// each), as the FFT's and exact t-SNE's do: without them points at one position (repeated codes)
// got too much repulsion and a KL below zero.
double repulsive_group(const QuadTree& tree, std::int64_t g, std::vector<double>& neg) {
  const auto& nodes = tree.nodes;
  thread_local std::vector<float> lx, ly, lc;
  const auto [b, e] = tree.groups[g];
  float gx0 = tree.xs[b], gx1 = gx0, gy0 = tree.ys[b], gy1 = gy0;
  for (int s = b + 1; s < e; ++s) {
    gx0 = std::min(gx0, tree.xs[s]), gx1 = std::max(gx1, tree.xs[s]);
    gy0 = std::min(gy0, tree.ys[s]), gy1 = std::max(gy1, tree.ys[s]);
  }
  lx.clear(), ly.clear(), lc.clear();
  const int n_nodes = static_cast<int>(nodes.size());
  for (int idx = 0; idx < n_nodes;) {
    const Node& nd = nodes[idx];
    const float dx = std::max(std::max(gx0 - nd.cx, nd.cx - gx1), 0.0f);
    const float dy = std::max(std::max(gy0 - nd.cy, nd.cy - gy1), 0.0f);
    if (dx * dx + dy * dy > nd.crit) {
      lx.push_back(nd.cx), ly.push_back(nd.cy), lc.push_back(nd.count);
      idx = nd.next;
    } else {
      ++idx;
    }
  }
  const float* px = lx.data();
  const float* py = ly.data();
  const float* pc = lc.data();
  const int len = static_cast<int>(lx.size());
  double z = 0.0;
  for (int s = b; s < e; ++s) {
    const float xi = tree.xs[s], yi = tree.ys[s];
    float sq = 0.0f, fx = 0.0f, fy = 0.0f, at_i = 0.0f;  // at_i: points at i's position, i included
#pragma omp simd reduction(+ : sq, fx, fy, at_i)
    for (int m = 0; m < len; ++m) {
      const float dx = xi - px[m], dy = yi - py[m];
      const float d2 = dx * dx + dy * dy;
      const float q = 1.0f / (1.0f + d2);
      float w = d2 > 0.0f ? pc[m] * q : 0.0f;
      at_i += d2 > 0.0f ? 0.0f : pc[m];
      sq += w;
      w *= q;
      fx += w * dx;
      fy += w * dy;
    }
    const int i = tree.perm[s];
    neg[2 * i] = fx;
    neg[2 * i + 1] = fy;
    z += sq;
    if (at_i > 1.0f) z += at_i - 1.0f;  // its duplicates, q = 1 each
  }
  return z;
}

std::vector<double> random_init(Eigen::Index n, std::uint64_t seed) {
  std::mt19937_64 rng(detail::mix_seed(seed, 7));
  std::vector<double> y(static_cast<std::size_t>(2 * n));
  for (std::size_t i = 0; i < y.size(); i += 2) {  // Box-Muller, N(0, 1e-4^2)
    const double u1 = 1.0 - detail::uniform01(rng), u2 = detail::uniform01(rng);
    const double r = std::sqrt(-2.0 * std::log(u1)) * 1e-4;
    y[i] = r * std::cos(2.0 * M_PI * u2);
    y[i + 1] = r * std::sin(2.0 * M_PI * u2);
  }
  return y;
}

// PCA to 2-D (exact, covariance eigenvectors), sign as sklearn's svd_flip (largest |score|
// positive), scaled so component 1 has standard deviation 1e-4.
std::vector<double> pca_init(const Eigen::MatrixXf& points, int threads, std::uint64_t seed) {
  const Eigen::Index n = points.cols(), dims = points.rows();
  const Eigen::MatrixXf x = detail::centered(points);
  constexpr Eigen::Index kBlock = 4096;
  const Eigen::Index nb = (n + kBlock - 1) / kBlock;
  const int t = detail::effective_threads(threads, nb);
  std::vector<Eigen::MatrixXd> part(static_cast<std::size_t>(t), Eigen::MatrixXd::Zero(dims, dims));
  detail::parallel_tasks_strided(t, nb, [&](std::int64_t b, int tid) {
    const Eigen::Index j0 = b * kBlock, bn = std::min(kBlock, n - j0);
    const Eigen::MatrixXd xb = x.middleCols(j0, bn).cast<double>();
    part[tid].noalias() += xb * xb.transpose();
  });
  Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(dims, dims);
  for (const auto& p : part) cov += p;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
  std::vector<double> y(static_cast<std::size_t>(2 * n), 0.0);
  for (int c = 0; c < 2; ++c) {
    const Eigen::Index col = dims - 1 - c;  // eigenvalues ascending
    if (col < 0) break;
    const Eigen::VectorXd v = eig.eigenvectors().col(col);
    Eigen::VectorXd score(n);
    for (Eigen::Index i = 0; i < n; ++i) score[i] = x.col(i).cast<double>().dot(v);
    Eigen::Index arg = 0;
    score.cwiseAbs().maxCoeff(&arg);
    if (score[arg] < 0.0) score = -score;
    for (Eigen::Index i = 0; i < n; ++i) y[2 * i + c] = score[i];
  }
  double mean0 = 0.0, var0 = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) mean0 += y[2 * i];
  mean0 /= static_cast<double>(n);
  for (Eigen::Index i = 0; i < n; ++i) var0 += (y[2 * i] - mean0) * (y[2 * i] - mean0);
  const double sd = std::sqrt(var0 / static_cast<double>(n));
  for (double& v : y) v = v / sd * 1e-4;
  // Codes of rank 1 (hidden = 1, or one active unit) give the second axis no spread, and no
  // force ever moves points off a line they all start on: that axis starts as random_init's.
  bool flat = true;
  for (Eigen::Index i = 1; i < n && flat; ++i) flat = y[2 * i + 1] == y[1];
  if (flat) {
    const std::vector<double> spread = random_init(n, seed);
    for (Eigen::Index i = 0; i < n; ++i) y[2 * i + 1] = spread[2 * i + 1];
  }
  return y;
}

detail::FftGridOptions fft_grid_options(std::int64_t n, const TsneOptions& opts) {
  detail::FftGridOptions g;
  g.interpolation_points = resolve_tsne_fft_points(n, opts);
  g.min_intervals = opts.fft_min_intervals;
  g.intervals_per_unit = opts.fft_intervals_per_unit;
  return g;
}

std::string method_parameters(TsneMethod m, std::int64_t n, const TsneOptions& opts) {
  std::ostringstream s;
  s.precision(17);
  if (m == TsneMethod::Fft)
    s << "fft interpolation_points=" << resolve_tsne_fft_points(n, opts) << " min_intervals=" << opts.fft_min_intervals
      << " intervals_per_unit=" << opts.fft_intervals_per_unit;
  else
    s << "barnes-hut theta=" << opts.theta;
  return s.str();
}

// Gradient descent with momentum and gains on y = (x0, y0, x1, y1, ...), two stages as
// sklearn: each stage starts with zero update, unit gains and a fresh "best error".
class Descent {
 public:
  Descent(const SparseP& p, std::vector<double> y0, const TsneOptions& opts, TsneMethod method)
      : y(std::move(y0)), p_(p), opts_(opts), n_(static_cast<Eigen::Index>(y.size() / 2)),
        // Below a few thousand points an iteration is too short to amortise a fork/join.
        t_(n_ < kMinPointsForThreads ? 1 : opts.threads),
        n_row_blocks_((n_ + kRowBlock - 1) / kRowBlock),
        lr_(opts.learning_rate > 0.0 ? opts.learning_rate
                                     : std::max(static_cast<double>(n_) / opts.early_exaggeration / 4.0, 50.0)),
        update_(y.size()), gains_(y.size()), neg_(y.size()), attr_(y.size()), grad_(y.size()),
        err_part_(static_cast<std::size_t>(n_row_blocks_)), p_part_(err_part_), z_part_(static_cast<std::size_t>(t_)) {
    if (method == TsneMethod::Fft) fft_.emplace(fft_grid_options(n_, opts));
    yf_.resize(y.size());
    pf_.assign(p_.val.begin(), p_.val.end());
  }

  void run() {
    const int stage_split = std::min(opts_.exaggeration_iters, opts_.n_iter);
    run_stage(0, stage_split, opts_.early_exaggeration, opts_.momentum_early, std::max(opts_.exaggeration_iters, 1));
    run_stage(stage_split, opts_.n_iter, 1.0, opts_.momentum_late, opts_.n_iter_without_progress);
  }

  std::vector<double> y;
  double error = std::numeric_limits<double>::quiet_NaN();  // KL at the last iteration that computed it
  int last_iter = 0;

 private:
  static constexpr int kCheckEvery = 50;  // sklearn's n_iter_check
  static constexpr Eigen::Index kMinPointsForThreads = 2048;
  static constexpr Eigen::Index kRowBlock = 2048;

  void run_stage(int it_begin, int it_end, double exaggeration, double momentum, int without_progress) {
    if (it_begin >= it_end) return;
    std::fill(update_.begin(), update_.end(), 0.0);
    std::fill(gains_.begin(), gains_.end(), 1.0);
    double best_error = std::numeric_limits<double>::max();
    int best_iter = it_begin;
    for (int it = it_begin; it < it_end; ++it) {
      last_iter = it;
      const bool check = (it + 1) % kCheckEvery == 0;
      const bool want_error = check || it == it_end - 1;
      const double z = forces(exaggeration, want_error);
      const double grad_norm2 = step(z, momentum);
      if (want_error) {
        double psum = 0.0;
        error = 0.0;
        for (double v : err_part_) error += v;
        for (double v : p_part_) psum += v;
        error += psum * std::log(z);
      }
      if (check) {
        if (error < best_error) {
          best_error = error;
          best_iter = it;
        } else if (it - best_iter > without_progress) {
          break;
        }
        if (std::sqrt(grad_norm2) <= opts_.min_grad_norm) break;
      }
    }
  }

  // Repulsion and attraction per row block are independent and Z is only needed afterwards: one
  // fork/join per iteration with the FFT, two with Barnes-Hut (the tree built beside the
  // attraction, then the repulsion per group). KL = sum p log p - sum p log q + log Z sum p
  // (sklearn clamps q / Z at FLOAT32_TINY; q / Z stays far above it in practice).
  // Fills neg_, attr_ and the per-thread parts; returns Z.
  double forces(double exaggeration, bool want_error) {
    if (!want_error)
      for (std::size_t c = 0; c < y.size(); ++c) yf_[c] = static_cast<float>(y[c]);
    std::fill(z_part_.begin(), z_part_.end(), 0.0);
    // The attraction's KL terms go to one slot per row block and are added in block order, so
    // they do not depend on which thread took which block.
    std::fill(err_part_.begin(), err_part_.end(), 0.0);
    std::fill(p_part_.begin(), p_part_.end(), 0.0);
    auto attract_block = [&](std::int64_t b) {
      const Eigen::Index i0 = b * kRowBlock, i1 = std::min(n_, i0 + kRowBlock);
      attract_rows(i0, i1, exaggeration, want_error, err_part_[b], p_part_[b]);
    };
    if (fft_) {
      fft_->prepare(y, t_);
      // Repulsion gathered per row block (per-thread Z sums in a fixed order), then attraction.
      detail::parallel_tasks_strided(t_, 2 * n_row_blocks_, [&](std::int64_t task, int tid) {
        if (task >= n_row_blocks_) return attract_block(task - n_row_blocks_);
        const Eigen::Index i0 = task * kRowBlock, i1 = std::min(n_, i0 + kRowBlock);
        z_part_[tid] += fft_->gather(y, i0, i1, neg_);
      });
    } else {
      // The tree is built on one thread while the others start on the attraction.
      detail::parallel_tasks(t_, 1 + n_row_blocks_, [&](std::int64_t task, int) {
        if (task == 0) tree_.build(y, opts_.theta, kGroupSize);
        else attract_block(task - 1);
      });
      const std::int64_t n_groups = static_cast<std::int64_t>(tree_.groups.size());
      detail::parallel_tasks_strided(t_, n_groups, [&](std::int64_t g, int tid) {
        z_part_[tid] += repulsive_group(tree_, g, neg_);
      });
    }
    double z = 0.0;
    for (double v : z_part_) z += v;
    return std::max(z, std::numeric_limits<double>::min());
  }

  // Attractive part of rows [i0, i1) into attr_; with want_error, their KL terms and sum of P.
  void attract_rows(Eigen::Index i0, Eigen::Index i1, double exaggeration, bool want_error, double& err_out,
                    double& psum_out) {
    if (!want_error) {
      // The usual iteration: single precision, vectorised over each row's neighbours (positions
      // as floats fit in cache; the rounding is far below the repulsion's approximation error).
      const float* yf = yf_.data();
      const int* cols = p_.col.data();
      const float* vals = pf_.data();
      for (Eigen::Index i = i0; i < i1; ++i) {
        const float xi = yf[2 * i], yi = yf[2 * i + 1];
        float ax = 0.0f, ay = 0.0f;
        const std::int64_t e0 = p_.row_ptr[i], e1 = p_.row_ptr[i + 1];
#pragma omp simd reduction(+ : ax, ay)
        for (std::int64_t e = e0; e < e1; ++e) {
          const int j = cols[e];
          const float dx = xi - yf[2 * j], dy = yi - yf[2 * j + 1];
          const float w = vals[e] / (1.0f + dx * dx + dy * dy);
          ax += w * dx;
          ay += w * dy;
        }
        attr_[2 * i] = exaggeration * ax;
        attr_[2 * i + 1] = exaggeration * ay;
      }
      return;
    }
    double err = 0.0, psum = 0.0;
    for (Eigen::Index i = i0; i < i1; ++i) {
      const double xi = y[2 * i], yi = y[2 * i + 1];
      double ax = 0.0, ay = 0.0;
      for (std::int64_t e = p_.row_ptr[i]; e < p_.row_ptr[i + 1]; ++e) {
        const int j = p_.col[e];
        const double dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
        const double q = 1.0 / (1.0 + dx * dx + dy * dy);
        const double pij = p_.val[e] * exaggeration;
        ax += pij * q * dx;
        ay += pij * q * dy;
        if (want_error) {
          err += pij * (std::log(std::max(pij, kFloat32Tiny)) - std::log(q));
          psum += pij;
        }
      }
      attr_[2 * i] = ax;
      attr_[2 * i + 1] = ay;
    }
    err_out += err;
    psum_out += psum;
  }

  // The step needs the complete gradient of the old positions, hence a second pass. Returns
  // the squared norm of the gradient scaled by the gains.
  double step(double z, double momentum) {
    for (std::size_t c = 0; c < y.size(); ++c) grad_[c] = 4.0 * (attr_[c] - neg_[c] / z);
    double grad_norm2 = 0.0;
    for (std::size_t c = 0; c < y.size(); ++c) {
      gains_[c] = update_[c] * grad_[c] < 0.0 ? gains_[c] + 0.2 : gains_[c] * 0.8;
      gains_[c] = std::max(gains_[c], opts_.min_gain);
      const double g = grad_[c] * gains_[c];
      grad_norm2 += g * g;
      update_[c] = momentum * update_[c] - lr_ * g;
      y[c] += update_[c];
    }
    return grad_norm2;
  }

  const SparseP& p_;
  const TsneOptions& opts_;
  const Eigen::Index n_;
  const int t_;
  const std::int64_t n_row_blocks_;
  const double lr_;
  std::vector<double> update_, gains_, neg_, attr_, grad_;
  std::vector<double> err_part_, p_part_, z_part_;
  QuadTree tree_;
  std::optional<detail::FftRepulsion> fft_;
  std::vector<float> yf_, pf_;  // positions and P in single precision (the attraction)
};

// Why t-SNE cannot run on these points; empty if it can.
std::string undefined_reason(const Eigen::MatrixXf& points, const TsneOptions& opts) {
  const Eigen::Index n = points.cols();
  if (!detail::all_finite(points)) return detail::kNonFiniteReason;
  if (n < 2) return "t-SNE needs at least 2 points";
  if (opts.perplexity >= static_cast<double>(n))
    return "perplexity must be less than the number of points (as sklearn requires)";
  if (detail::all_identical(points)) return "all points are identical: the embedding is undefined";
  return {};
}

// The min(n - 1, floor(3 perplexity + 1)) exact nearest neighbours that P is built on.
KnnResult affinity_neighbours(const Eigen::MatrixXf& points, const TsneOptions& opts) {
  const Eigen::Index n = points.cols();
  const int k = static_cast<int>(std::min<double>(static_cast<double>(n - 1), std::floor(3.0 * opts.perplexity + 1.0)));
  return exact_knn(points, k, KnnOptions{opts.threads});
}

}  // namespace

TsneResult tsne(const Eigen::MatrixXf& points, const TsneOptions& opts) {
  opts.validate();
  const Eigen::Index n = points.cols();
  TsneResult out;
  out.method = resolve_tsne_method(n, opts);
  out.method_parameters = method_parameters(out.method, n, opts);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  out.embedding = Eigen::MatrixXf::Zero(2, n);
  out.kl_divergence = nan;
  out.trustworthiness = nan;
  auto fail = [&](const std::string& why) {
    out.nan_reason = why;
    out.trustworthiness_nan_reason = why;
    return out;
  };
  if (const std::string why = undefined_reason(points, opts); !why.empty()) return fail(why);

  const KnnResult knn = affinity_neighbours(points, opts);
  const SparseP p = joint_probabilities(knn, opts.perplexity, opts.threads);
  out.perplexity_unmatched = p.unmatched;
  std::vector<double> start =
      opts.init == TsneInit::Pca ? pca_init(points, opts.threads, opts.seed) : random_init(n, opts.seed);
  Descent descent(p, std::move(start), opts, out.method);
  descent.run();
  out.iterations = descent.last_iter;
  out.kl_divergence = descent.error;
  for (Eigen::Index i = 0; i < n; ++i) {
    out.embedding(0, i) = static_cast<float>(descent.y[2 * i]);
    out.embedding(1, i) = static_cast<float>(descent.y[2 * i + 1]);
  }
  if (!out.embedding.allFinite()) {
    out.kl_divergence = nan;
    return fail("optimisation diverged (non-finite embedding)");
  }
  if (opts.trustworthiness_neighbors > 0) {
    const TrustworthinessResult tr =
        trustworthiness(points, out.embedding, TrustworthinessOptions{opts.trustworthiness_neighbors, opts.threads},
                        &knn);  // P's neighbours spare most points the full scan
    out.trustworthiness = tr.value;
    out.trustworthiness_nan_reason = tr.nan_reason;
  } else {
    out.trustworthiness_nan_reason = "not requested";
  }
  return out;
}

namespace {
void check_positions(const std::vector<double>& y) {
  if (y.size() < 4 || y.size() % 2 != 0) throw AnalysisError("tsne_repulsion: need at least 2 positions (x, y pairs)");
  for (double v : y)
    if (!std::isfinite(v)) throw AnalysisError("tsne_repulsion: non-finite position");
}
}  // namespace

TsneRepulsion tsne_repulsion(const std::vector<double>& y, const TsneOptions& opts) {
  opts.validate();
  check_positions(y);
  const std::int64_t n = static_cast<std::int64_t>(y.size() / 2);
  TsneRepulsion out;
  out.force.assign(y.size(), 0.0);
  if (resolve_tsne_method(n, opts) == TsneMethod::Fft) {
    detail::FftRepulsion fft(fft_grid_options(n, opts));
    fft.prepare(y, opts.threads);
    out.z = fft.gather(y, 0, n, out.force);
    return out;
  }
  QuadTree tree;
  tree.build(y, opts.theta, kGroupSize);
  for (std::int64_t g = 0; g < static_cast<std::int64_t>(tree.groups.size()); ++g)
    out.z += repulsive_group(tree, g, out.force);
  return out;
}

TsneRepulsion tsne_repulsion_exact(const std::vector<double>& y) {
  check_positions(y);
  const std::size_t n = y.size() / 2;
  TsneRepulsion out;
  out.force.assign(y.size(), 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      if (i == j) continue;
      const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      const double q = 1.0 / (1.0 + dx * dx + dy * dy);
      out.z += q;
      out.force[2 * i] += q * q * dx;
      out.force[2 * i + 1] += q * q * dy;
    }
  return out;
}

}  // namespace aesweep::analysis
