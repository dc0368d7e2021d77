#include "analysis_store.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace aesweep::analysis {
namespace {

std::string run_name(std::int64_t run) {
  char name[32];
  std::snprintf(name, sizeof name, "%06lld", static_cast<long long>(run));
  return name;
}

h5::Group open_or_create(const h5::Location& parent, const std::string& child) {
  return parent.has_child(child) ? parent.open_group(child) : parent.create_group(child);
}

template <class T>
void put(const h5::Group& g, const std::string& name, const std::vector<T>& values, std::vector<hsize_t> dims = {}) {
  if (dims.empty()) dims = {hsize_t(values.size())};
  auto ds = g.create_dataset(name, h5::Datatype::native<T>(), h5::Dataspace::simple(dims),
                             h5::DatasetCreate::contiguous_early(h5::FillTime::never));
  ds.template write<T>(std::span<const T>(values));
}

std::vector<std::int64_t> as_int64(const std::vector<std::uint64_t>& v) { return {v.begin(), v.end()}; }

void put_cosine_group(const h5::Group& g, const std::string& prefix, const CosineGroupStats& s) {
  g.write_attribute(prefix + "_pairs", std::int64_t(s.pairs));
  g.write_attribute(prefix + "_mean", s.mean);
  g.write_attribute(prefix + "_std", s.std);
  put(g, prefix + "_quantiles", std::vector<double>(s.quantiles.begin(), s.quantiles.end()));
  put(g, prefix + "_histogram", as_int64(s.histogram));
}

}  // namespace

std::string text_hash(const std::string& text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(hash));
  return out;
}

AnalysisStore::AnalysisStore(const h5::File& file, const AnalysisOptions& options, const std::string& source_archive) {
  const std::string text = options.describe();
  hash_ = text_hash(text);
  const h5::Group root = open_or_create(file, "analysis");
  const bool fresh = !root.has_child(hash_);
  const h5::Group group = open_or_create(root, hash_);
  if (fresh) {
    group.write_attribute("options", std::string_view(text));
    group.write_attribute("source_archive", std::string_view(source_archive));
    const std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    group.write_attribute("created", std::string_view(stamp));
  }
  root.write_attribute("latest", std::string_view(hash_));
  runs_ = open_or_create(group, "runs");
}

bool AnalysisStore::has_run(std::int64_t run) const {
  // The run's group, or one written after an interrupted earlier attempt (name.partialN).
  const std::string name = run_name(run);
  for (const auto& child : runs_.child_names())
    if (child.rfind(name, 0) == 0 && runs_.open_group(child).has_attribute("complete")) return true;
  return false;
}

void AnalysisStore::write(const RunAnalysis& a) const {
  const std::string name = run_name(a.run);
  // A group left by an interrupted earlier write is incomplete: write under a fresh name.
  std::string target = name;
  for (int attempt = 1; runs_.has_child(target); ++attempt) target = name + ".partial" + std::to_string(attempt);
  const h5::Group g = runs_.create_group(target);
  g.write_attribute("run", std::int64_t(a.run));
  g.write_attribute("silhouette", a.silhouette);
  g.write_attribute("silhouette_nan_reason", std::string_view(a.silhouette_reason));

  std::vector<std::int64_t> ks, iterations;
  std::vector<double> inertia, sil;
  for (const auto& e : a.kmeans) {
    ks.push_back(e.k);
    inertia.push_back(e.inertia);
    sil.push_back(e.silhouette);
    iterations.push_back(e.iterations);
  }
  if (!ks.empty()) {
    put(g, "kmeans_k", ks);
    put(g, "kmeans_inertia", inertia);
    put(g, "kmeans_silhouette", sil);
    put(g, "kmeans_iterations", iterations);
  }
  if (a.tsne_embedding.size() > 0) {
    // 2 x n column-major in memory is n x 2 row-major on disk: one (x, y) row per test digit.
    std::vector<float> emb(a.tsne_embedding.data(), a.tsne_embedding.data() + a.tsne_embedding.size());
    put(g, "tsne_embedding", emb, {hsize_t(a.tsne_embedding.cols()), 2});
    g.write_attribute("tsne_kl_divergence", a.tsne_kl);
    g.write_attribute("tsne_trustworthiness", a.trustworthiness);
    g.write_attribute("tsne_iterations", std::int64_t(a.tsne_iterations));
  }
  g.write_attribute("tsne_nan_reason", std::string_view(a.tsne_reason));

  put_cosine_group(g, "cosine_same", a.cosine.same);
  put_cosine_group(g, "cosine_different", a.cosine.different);
  if (!a.cosine.classes.empty()) {
    put(g, "cosine_classes", std::vector<std::int64_t>(a.cosine.classes.begin(), a.cosine.classes.end()));
    // Eigen is column-major; the matrix is symmetric, so the raw order is the row-major one too.
    std::vector<double> m(a.cosine.class_mean.data(), a.cosine.class_mean.data() + a.cosine.class_mean.size());
    put(g, "cosine_class_mean", m, {hsize_t(a.cosine.class_mean.rows()), hsize_t(a.cosine.class_mean.cols())});
  }
  g.write_attribute("cosine_zero_rows", std::int64_t(a.cosine.zero_rows));
  g.write_attribute("cosine_points_used", std::int64_t(a.cosine.points_used));
  g.write_attribute("cosine_nan_reason", std::string_view(a.cosine.nan_reason));

  g.write_attribute("knn_accuracy", a.knn.accuracy);
  g.write_attribute("knn_nan_reason", std::string_view(a.knn.nan_reason));
  if (!a.knn.classes.empty()) {
    put(g, "knn_classes", std::vector<std::int64_t>(a.knn.classes.begin(), a.knn.classes.end()));
    put(g, "knn_per_class_accuracy", a.knn.per_class_accuracy);
  }
  g.write_attribute("seconds", a.seconds);
  g.write_attribute("complete", std::int64_t(1));
}

}  // namespace aesweep::analysis
