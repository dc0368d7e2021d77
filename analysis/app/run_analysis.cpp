#include "run_analysis.hpp"

#include <chrono>
#include <cmath>
#include <numeric>
#include <sstream>

#include "aesweep/dist/scheduler.hpp"

namespace aesweep::analysis {
namespace {

void put_group(ByteWriter& w, const CosineGroupStats& g) {
  w.put(g.pairs);
  w.put(g.mean);
  w.put(g.std);
  w.put(g.quantiles);
  w.put_vector(g.histogram);
}

CosineGroupStats get_group(ByteReader& r) {
  CosineGroupStats g;
  g.pairs = r.get<std::uint64_t>();
  g.mean = r.get<double>();
  g.std = r.get<double>();
  g.quantiles = r.get<std::array<double, 5>>();
  g.histogram = r.get_vector<std::uint64_t>();
  return g;
}

}  // namespace

std::string AnalysisOptions::describe() const {
  std::ostringstream s;
  s.precision(17);
  s << "silhouette.sample_size=" << silhouette.sample_size << "\nsilhouette.seed=" << silhouette.seed
    << "\nkmeans.k_min=" << kmeans.k_min << "\nkmeans.k_max=" << kmeans.k_max << "\nkmeans.n_init="
    << kmeans.kmeans.n_init << "\nkmeans.max_iter=" << kmeans.kmeans.max_iter << "\nkmeans.tol=" << kmeans.kmeans.tol
    << "\nkmeans.seed=" << kmeans.kmeans.seed << "\ntsne=" << (run_tsne ? "on" : "off")
    << "\ntsne.perplexity=" << tsne.perplexity << "\ntsne.method=" << tsne_method_name(tsne.method)
    << "\ntsne.theta=" << tsne.theta << "\ntsne.fft_interpolation_points=" << tsne.fft_interpolation_points
    << "\ntsne.fft_min_intervals=" << tsne.fft_min_intervals
    << "\ntsne.fft_intervals_per_unit=" << tsne.fft_intervals_per_unit
    << "\ntsne.early_exaggeration=" << tsne.early_exaggeration << "\ntsne.n_iter=" << tsne.n_iter
    << "\ntsne.learning_rate=" << (tsne.learning_rate > 0 ? std::to_string(tsne.learning_rate) : "auto")
    << "\ntsne.init=" << (tsne.init == TsneInit::Pca ? "pca" : "random") << "\ntsne.seed=" << tsne.seed
    << "\ntsne.trustworthiness_neighbors=" << tsne.trustworthiness_neighbors
    << "\ncosine.histogram_bins=" << cosine.histogram_bins << "\ncosine.max_pairs=" << cosine.max_pairs
    << "\ncosine.seed=" << cosine.seed << "\nknn.k=" << knn.k << "\n";
  return s.str();
}

namespace {
// The power of two that brings the codes' largest |value| into [1, 2) where it lies outside
// [2^-32, 2^32]; 0 otherwise, and for codes that are all zero or not all finite (the scores say
// why those cannot be computed).
int rescaling_exponent(const Eigen::MatrixXf& latent) {
  if (latent.size() == 0 || !latent.allFinite()) return 0;
  const float largest = latent.cwiseAbs().maxCoeff();
  if (largest == 0.0f || (largest >= 0x1p-32f && largest <= 0x1p32f)) return 0;
  return std::ilogb(largest);
}
}  // namespace

RunAnalysis analyze_latent(std::int64_t run, const Eigen::MatrixXf& codes, const std::vector<int>& labels,
                           const AnalysisOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const int exponent = rescaling_exponent(codes);
  Eigen::MatrixXf rescaled;
  // Exact for every entry that stays a normal float (in the distances, the others were below
  // the largest code's rounding already).
  if (exponent != 0) rescaled = (codes.cast<double>() * std::ldexp(1.0, -exponent)).cast<float>();
  const Eigen::MatrixXf& latent = exponent != 0 ? rescaled : codes;
  RunAnalysis a;
  a.run = run;
  SilhouetteOptions sil = options.silhouette;
  sil.threads = options.threads;
  const auto s = silhouette(latent, labels, sil);
  a.silhouette = s.score;
  a.silhouette_reason = s.nan_reason;

  KmeansSweepOptions km = options.kmeans;
  km.kmeans.threads = options.threads;
  a.kmeans = kmeans_sweep(latent, km);
  for (auto& k : a.kmeans) k.inertia = std::ldexp(k.inertia, 2 * exponent);  // back in the codes' units

  if (options.run_tsne) {
    TsneOptions ts = options.tsne;
    ts.threads = options.threads;
    auto t = tsne(latent, ts);
    a.tsne_embedding = std::move(t.embedding);
    a.tsne_kl = t.kl_divergence;
    a.trustworthiness = t.trustworthiness;
    a.tsne_iterations = t.iterations;
    a.tsne_perplexity_unmatched = t.perplexity_unmatched;
    a.tsne_reason = t.nan_reason.empty() ? t.trustworthiness_nan_reason : t.nan_reason;
    a.tsne_method = tsne_method_name(t.method);
    a.tsne_method_parameters = t.method_parameters;
  }
  CosineOptions co = options.cosine;
  co.threads = options.threads;
  // Scale-free and computed in double per code: the codes as they are (rescaled, a code of
  // entries 1e45 times below the largest would become subnormal or zero and count as a zero code).
  a.cosine = cosine_statistics(codes, labels, co);
  KnnAccuracyOptions kn = options.knn;
  kn.threads = options.threads;
  a.knn = knn_accuracy(latent, labels, kn);
  a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return a;
}

Bytes serialize(const RunAnalysis& a) {
  ByteWriter w;
  w.put(a.run);
  w.put(a.silhouette);
  w.put(a.silhouette_reason);
  w.put(std::uint64_t(a.kmeans.size()));
  for (const auto& k : a.kmeans) {
    w.put(k.k);
    w.put(k.inertia);
    w.put(k.silhouette);
    w.put(k.iterations);
    w.put(k.nan_reason);
  }
  w.put_matrix(a.tsne_embedding);
  w.put(a.tsne_kl);
  w.put(a.trustworthiness);
  w.put(a.tsne_iterations);
  w.put(a.tsne_perplexity_unmatched);
  w.put(a.tsne_reason);
  w.put(a.tsne_method);
  w.put(a.tsne_method_parameters);
  put_group(w, a.cosine.same);
  put_group(w, a.cosine.different);
  w.put_vector(a.cosine.classes);
  w.put_matrix(a.cosine.class_mean);
  w.put(a.cosine.zero_rows);
  w.put(a.cosine.points_used);
  w.put(a.cosine.nan_reason);
  w.put(a.knn.accuracy);
  w.put_vector(a.knn.classes);
  w.put_vector(a.knn.per_class_accuracy);
  w.put(a.knn.nan_reason);
  w.put(a.seconds);
  return w.take();
}

RunAnalysis deserialize(std::span<const std::byte> bytes) {
  ByteReader r(bytes, "analysis result");
  RunAnalysis a;
  a.run = r.get<std::int64_t>();
  a.silhouette = r.get<double>();
  a.silhouette_reason = r.get_string();
  a.kmeans.resize(std::size_t(r.get<std::uint64_t>()));
  for (auto& k : a.kmeans) {
    k.k = r.get<int>();
    k.inertia = r.get<double>();
    k.silhouette = r.get<double>();
    k.iterations = r.get<int>();
    k.nan_reason = r.get_string();
  }
  a.tsne_embedding = r.get_matrix<Eigen::MatrixXf>();
  a.tsne_kl = r.get<double>();
  a.trustworthiness = r.get<double>();
  a.tsne_iterations = r.get<int>();
  a.tsne_perplexity_unmatched = r.get<std::int64_t>();
  a.tsne_reason = r.get_string();
  a.tsne_method = r.get_string();
  a.tsne_method_parameters = r.get_string();
  a.cosine.same = get_group(r);
  a.cosine.different = get_group(r);
  a.cosine.classes = r.get_vector<int>();
  a.cosine.class_mean = r.get_matrix<Eigen::MatrixXd>();
  a.cosine.zero_rows = r.get<std::int64_t>();
  a.cosine.points_used = r.get<std::int64_t>();
  a.cosine.nan_reason = r.get_string();
  a.knn.accuracy = r.get<double>();
  a.knn.classes = r.get_vector<int>();
  a.knn.per_class_accuracy = r.get_vector<double>();
  a.knn.nan_reason = r.get_string();
  a.seconds = r.get<double>();
  return a;
}

// ---------------------------------------------------------------------------------- over the ranks

Bytes pack_latent(std::int64_t run, const Eigen::MatrixXf& latent) {
  return ByteWriter().put(run).put_matrix(latent).take();
}

std::pair<std::int64_t, Eigen::MatrixXf> unpack_latent(std::span<const std::byte> payload) {
  ByteReader in(payload, "latent codes from rank 0");
  const auto run = in.get<std::int64_t>();
  return {run, in.get_matrix<Eigen::MatrixXf>()};
}

namespace {
ComputeFunction analysis_of(const std::vector<int>& labels, const AnalysisOptions& options) {
  return [&labels, &options](std::size_t, std::span<const std::byte> payload, const PollFunction&) {
    const auto [run, latent] = unpack_latent(payload);
    return serialize(analyze_latent(run, latent, labels, options));
  };
}
}  // namespace

void coordinate_analysis(Communicator& comm, const AnalysisSource& source, const std::vector<int>& labels,
                         const AnalysisOptions& options) {
  std::vector<std::size_t> items(source.runs.size());
  std::iota(items.begin(), items.end(), std::size_t(0));
  WorkQueue queue(items, {}, comm.size());  // no costs: handed out in the order given
  ItemProtocol protocol;
  protocol.items_per_worker = 2;
  protocol.payload = [&](std::size_t item) { return pack_latent(source.runs[item], source.read_latent(source.runs[item])); };
  protocol.on_result = [&](int, std::size_t, std::span<const std::byte> result, const WorkQueue&) {
    source.record(deserialize(result));
  };
  coordinate_items(comm, queue, analysis_of(labels, options), protocol);
}

void serve_analysis(Communicator& comm, const std::vector<int>& labels, const AnalysisOptions& options) {
  serve_items(comm, analysis_of(labels, options));
}

}  // namespace aesweep::analysis
