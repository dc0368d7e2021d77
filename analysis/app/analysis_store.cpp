#include "analysis_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <cstdio>
#include <ctime>
#include <utility>

#include "aesweep/archive/sweep_archive.hpp"
#include "aesweep/core/error.hpp"

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

namespace {

constexpr const char* kSourceIdAttr = "source_archive_id";

// Why /analysis in `file` may not take results of the archive with `identity`, or "".
std::string foreign_analysis(const h5::Location& file, const std::string& identity, const std::string& source_path) {
  if (!file.has_child("analysis")) return "";
  const h5::Group root = file.open_group("analysis");
  if (root.has_attribute(kSourceIdAttr)) {
    const std::string stored = root.read_string_attribute(kSourceIdAttr);
    return stored == identity ? "" : "its /analysis holds results of another archive (archive id " + stored +
                                         "; " + source_path + " has id " + identity + ")";
  }
  // Written before the identity was recorded: each options group names its source's path.
  for (const auto& name : root.child_names()) {
    const h5::Group g = root.open_group(name);
    if (!g.has_attribute("source_archive")) continue;
    const std::string stored = g.read_string_attribute("source_archive");
    std::error_code ec;
    // Paths were stored as given, relative to where the analysis ran: the same file name counts.
    if (stored != source_path && !std::filesystem::equivalent(stored, source_path, ec) &&
        std::filesystem::path(stored).filename() != std::filesystem::path(source_path).filename())
      return "its /analysis/" + name + " holds results of " + stored;
  }
  return "";
}

}  // namespace

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec) && !ec;
}

void check_analysis_target(const std::string& source_path, const std::string& source_identity,
                           const std::string& target_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool in_place = target_path.empty() || same_file(source_path, target_path);
  if (in_place) {
    if (::access(source_path.c_str(), W_OK) != 0)
      throw ConfigError("archive " + source_path + " is not writable (" + std::strerror(errno) +
                        "): give --out FILE to write the results to another file");
    return;
  }
  const std::string where = "--out " + target_path + ": ";
  const auto status = fs::status(target_path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    throw ConfigError(where + "cannot be inspected (" + ec.message() + ")");
  if (ec || !fs::exists(status)) {
    const fs::path parent = fs::absolute(fs::path(target_path)).parent_path();
    std::error_code ec2;
    if (!fs::is_directory(parent, ec2))
      throw ConfigError(where + "directory " + parent.string() + " does not exist");
    if (::access(parent.c_str(), W_OK) != 0) throw ConfigError(where + "directory " + parent.string() + " is not writable");
    // A new results file is made under FILE.creating and renamed into place. One left by a run
    // killed meanwhile (HDF5, or empty) is made again; anything else of that name is someone's.
    const std::string building = target_path + ".creating";
    if (const auto kind = fs::symlink_status(building, ec2); fs::exists(kind)) {
      bool ours = false;  // a regular file only: a link would be followed by the truncating create
      if (fs::is_regular_file(kind)) {
        ours = fs::file_size(building, ec2) == 0;
        try {
          ours = ours || h5::is_hdf5_file(building);
        } catch (const std::exception&) {
        }
      }
      if (!ours)
        throw ConfigError(where + building + " (where the results file is made before it is renamed into place) exists "
                          "and is not one being made; it was left untouched: remove or rename it");
    }
    return;
  }
  if (fs::is_directory(status)) throw ConfigError(where + "is a directory; give a file name for the results");
  if (!fs::is_regular_file(status)) throw ConfigError(where + "exists and is not a regular file");
  bool hdf5 = false;
  try {
    hdf5 = h5::is_hdf5_file(target_path);
  } catch (const std::exception& e) {
    throw ConfigError(where + "cannot be inspected (" + e.what() + ")");
  }
  if (!hdf5)
    throw ConfigError(where + "exists and is not an HDF5 file; it was left untouched (choose another --out or remove it)");
  if (::access(target_path.c_str(), W_OK) != 0) throw ConfigError(where + "is not writable");
  std::string why;
  try {
    const h5::File file = h5::File::open(target_path, h5::Access::read_only, h5::FileAccess::defaults());
    if (file.has_attribute("format_version") && file.has_child("runs")) {
      const std::string other = file.has_attribute("archive_id")
                                    ? file.read_string_attribute("archive_id")
                                    : "config " + file.read_string_attribute("config_hash") + ", created " +
                                          file.read_string_attribute("created");
      if (other != source_identity)
        why = "is another sweep archive (archive id " + other + "; " + source_path + " has id " + source_identity +
              "); results of " + source_path + " go into that archive itself or a separate results file";
    }
    if (why.empty()) why = foreign_analysis(file, source_identity, source_path);
  } catch (const ArchiveError& e) {
    throw ConfigError(where + "cannot be read as HDF5 (" + e.what() + ")");
  }
  if (!why.empty()) throw ConfigError(where + why + "; it was left untouched");
}

AnalysisStore::AnalysisStore(const h5::File& file, const AnalysisOptions& options, const std::string& source_archive,
                             const std::string& source_identity) {
  const std::string text = options.describe();
  hash_ = text_hash(text);
  if (const std::string why = foreign_analysis(file, source_identity, source_archive); !why.empty())
    throw ArchiveError("cannot store the analysis of " + source_archive + ": " + why);
  const h5::Group root = open_or_create(file, "analysis");
  if (!root.has_attribute(kSourceIdAttr)) root.write_attribute(kSourceIdAttr, std::string_view(source_identity));
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

namespace {

// Whether `runs` (an /analysis/<hash>/runs group) holds complete results of `run`: its group, or
// one written after an interrupted earlier attempt (name.partialN).
bool has_complete_run(const h5::Group& runs, std::int64_t run) {
  const std::string name = run_name(run);
  for (const auto& child : runs.child_names())
    if (child.rfind(name, 0) == 0 && runs.open_group(child).has_attribute("complete")) return true;
  return false;
}

}  // namespace

bool AnalysisStore::has_run(std::int64_t run) const { return has_complete_run(runs_, run); }

std::size_t analysed_runs(const h5::File& file, const AnalysisOptions& options, const std::vector<std::int64_t>& runs) {
  const std::string hash = text_hash(options.describe());
  if (!file.has_child("analysis")) return 0;
  const h5::Group root = file.open_group("analysis");
  if (!root.has_child(hash)) return 0;
  const h5::Group group = root.open_group(hash);
  if (!group.has_child("runs")) return 0;
  const h5::Group done = group.open_group("runs");
  std::size_t count = 0;
  for (const auto run : runs) count += has_complete_run(done, run);
  return count;
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
  std::string kmeans_reasons;  // "k=K: why" per line, for each k with a NaN inertia or silhouette
  for (const auto& e : a.kmeans) {
    ks.push_back(e.k);
    inertia.push_back(e.inertia);
    sil.push_back(e.silhouette);
    iterations.push_back(e.iterations);
    if (!e.nan_reason.empty())
      kmeans_reasons += (kmeans_reasons.empty() ? "k=" : "\nk=") + std::to_string(e.k) + ": " + e.nan_reason;
  }
  g.write_attribute("kmeans_nan_reason", std::string_view(kmeans_reasons));
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
    g.write_attribute("tsne_perplexity_unmatched", a.tsne_perplexity_unmatched);
    // Which repulsion ran (auto resolves by the number of points) and with which parameters.
    g.write_attribute("tsne_method", std::string_view(a.tsne_method));
    g.write_attribute("tsne_method_parameters", std::string_view(a.tsne_method_parameters));
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

namespace {

[[noreturn]] void refuse_for_space(const std::string& path, double bytes, const std::string& why) {
  throw ConfigError("the analysis needs about " + bytes_text(bytes) + " of disk space next to " + path + ", but " + why +
                    ": free space, or write the results to another disk with --out FILE (nothing was written)");
}

// The free space of the directory holding `path` (of the file system of `fd` when given),
// checked against `bytes`.
void check_free(const std::string& path, double bytes, int fd = -1) {
  double available = 0;
  std::string where;
  struct statvfs vfs {};
  if (fd >= 0) {
    if (::fstatvfs(fd, &vfs) != 0) return;  // a file system that cannot say: nothing to compare with
    available = double(vfs.f_bavail) * double(vfs.f_frsize);
    where = "its disk";
  } else {
    const auto space = free_space_for(path);
    if (!space) return;
    available = space->available;
    where = space->dir.string();
  }
  if (available < bytes) refuse_for_space(path, bytes, where + " has " + bytes_text(available) + " free");
}

}  // namespace

SpaceReservation::SpaceReservation(const std::string& path, double bytes) {
  struct Descriptor {  // closed on every way out, unless the reservation keeps it
    int fd;
    ~Descriptor() {
      if (fd >= 0) ::close(fd);
    }
  } file{::open(path.c_str(), O_WRONLY | O_CLOEXEC)};
  struct stat st {};
  if (file.fd < 0 || ::fstat(file.fd, &st) != 0) {
    check_free(path, bytes);  // a file still to be created (--out): its directory's free space
    return;
  }
  if (::fallocate(file.fd, FALLOC_FL_KEEP_SIZE, st.st_size, off_t(bytes)) == 0) {
    fd_ = std::exchange(file.fd, -1);
    end_ = off_t(st.st_size) + off_t(bytes);
    return;
  }
  const int err = errno;
  // ext4 and XFS keep what a failed fallocate did allocate: give it back before refusing.
  (void)!::ftruncate(file.fd, st.st_size);
  if (err == ENOSPC || err == EDQUOT) {
    struct statvfs vfs {};
    const std::string free_text = ::fstatvfs(file.fd, &vfs) == 0
                                      ? bytes_text(double(vfs.f_bavail) * double(vfs.f_frsize)) + " free"
                                      : "not that much room left";
    refuse_for_space(path, bytes, err == EDQUOT ? "the quota allows less (the disk has " + free_text + ")"
                                                : "its disk has " + free_text);
  }
  if (err == EFBIG) refuse_for_space(path, bytes, "the file would pass the largest size its file system allows");
  check_free(path, bytes, file.fd);  // EOPNOTSUPP and the like: a file system without fallocate
}

void SpaceReservation::renew() const {
  if (fd_ < 0) return;
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || st.st_size >= end_) return;
  (void)::fallocate(fd_, FALLOC_FL_KEEP_SIZE, st.st_size, end_ - st.st_size);  // best effort
}

void SpaceReservation::release() {
  if (fd_ < 0) return;
  // Truncating to the current size gives back the blocks held past the end (ext4, XFS, tmpfs).
  struct stat st {};
  if (::fstat(fd_, &st) == 0) (void)!::ftruncate(fd_, st.st_size);
  ::close(fd_);
  fd_ = -1;
}

SpaceReservation::~SpaceReservation() { release(); }

WriterLock lock_for_results(const std::string& path) {
  std::string archive;
  try {
    archive = resolve_links(path);
    WriterLock lock = WriterLock::acquire(archive, "aesweep-analyze");
    // HDF5 would refuse to open it for writing while a reader has it open (a visit of an analysis
    // with --out lasts a moment; h5py may keep it open).
    if (!wait_for_no_flock(archive, std::chrono::seconds(2)))
      throw ConfigError(std::string(opened_elsewhere(archive).what()) +
                        ", which keeps results from being stored in it: close that program" +
                        (flock_held_exclusively(archive) ? std::string(" (it writes the archive)")
                                                         : std::string(", or analyse it now with --out FILE")) +
                        "; nothing was written");
    return lock;
  } catch (const ArchiveBusy& e) {
    throw ConfigError(std::string(e.what()) +
                      ", and storing results in it now could leave it unreadable: wait until that one ends, or analyse "
                      "it now with --out FILE (the archive is then only read); nothing was written. If it no longer "
                      "runs (its node was lost and the file system still keeps its lock), remove " +
                      WriterLock::lock_path(archive) + " and rerun");
  } catch (const ArchiveError& e) {
    throw ConfigError(e.what());
  }
}

double analysis_bytes(std::size_t runs, std::int64_t n_test, const AnalysisOptions& options) {
  const double n = double(std::max<std::int64_t>(n_test, 0));
  const double k_entries = double(std::max(0, options.kmeans.k_max - options.kmeans.k_min + 1));
  const double per_run = (options.run_tsne ? 8.0 * n : 0.0) + 16.0 * double(options.cosine.histogram_bins) +
                         (32.0 + 128.0) * k_entries + 16.0 * 1024;  // per k: 4 numbers, a kmeans_nan_reason line
  return 2.0 * double(runs) * per_run + 1024.0 * 1024;
}

}  // namespace aesweep::analysis
