// aesweep-analyze: silhouette, k-means, t-SNE, cosine statistics and k-NN accuracy of every
// complete run's test-set latent codes, spread over MPI ranks, written back into the archive.
#include <mpi.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <cerrno>
#include <iostream>
#include <list>
#include <numeric>
#include <optional>

#include "aesweep/archive/sweep_archive_reader.hpp"
#include "aesweep/core/error.hpp"
#include "app/analysis_store.hpp"
#include "app/run_analysis.hpp"

namespace po = boost::program_options;
using namespace aesweep;
using namespace aesweep::analysis;

namespace {

constexpr int result_tag = 7;

struct Cli {
  std::string archive;
  std::string out;
  bool quiet = false;
  bool force = false;
  bool verbose = false;
  AnalysisOptions options;
};

// One numeric option: its flag, where its value goes, its range and its help. The range is
// written here once: the check and the --help text both come from it.
struct NumericOption {
  const char* flag;
  std::function<void(double)> store;
  double min, max;
  double default_value;
  bool integer;
  const char* help;
};

std::string number_text(double v) {
  char text[40];
  if (v == std::floor(v) && std::fabs(v) < 1e18) std::snprintf(text, sizeof text, "%.0f", v);
  else std::snprintf(text, sizeof text, "%.12g", v);
  return text;
}

std::string range_text(const NumericOption& o) {
  const std::string kind = o.integer ? "an integer" : "a number";
  if (o.max == std::numeric_limits<double>::infinity()) return kind + " >= " + number_text(o.min);
  return kind + " in [" + number_text(o.min) + ", " + number_text(o.max) + "]";
}

// Parses the whole text as a finite number in the option's range; ConfigError names the option.
double checked_value(const NumericOption& o, const std::string& raw) {
  std::string shown = raw.size() > 40 ? raw.substr(0, 40) + "..." : raw;
  const std::string what = std::string("--") + o.flag + " must be " + range_text(o) + ", got '" + shown + "'";
  const char* begin = raw.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  while (end && *end == ' ') ++end;
  if (raw.empty() || end == begin || *end != '\0' || errno == ERANGE || !std::isfinite(v)) throw ConfigError(what);
  if (o.integer && v != std::floor(v)) throw ConfigError(what);
  if (v < o.min || v > o.max) throw ConfigError(what);
  return v;
}

std::vector<NumericOption> numeric_options(Cli& cli) {
  auto& o = cli.options;
  constexpr double seed_max = 9007199254740992.0;  // 2^53: every integer up to it is exact
  return {
      {"threads", [&](double v) { o.threads = int(v); }, 1, 1024, 1, true, "threads per rank"},
      {"silhouette-sample", [&](double v) { o.silhouette.sample_size = std::int64_t(v); }, 0, 1e9, 0, true,
       "score a random subset of this many points (0 = exact over every point)"},
      {"k-min", [&](double v) { o.kmeans.k_min = int(v); }, 1, 1000, 2, true, "smallest k of the k-means sweep"},
      {"k-max", [&](double v) { o.kmeans.k_max = int(v); }, 1, 1000, 15, true,
       "largest k of the k-means sweep (at least --k-min)"},
      {"kmeans-init", [&](double v) { o.kmeans.kmeans.n_init = int(v); }, 1, 1000, 3, true,
       "k-means++ starts per k (the lowest inertia wins)"},
      {"kmeans-seed", [&](double v) { o.kmeans.kmeans.seed = std::uint64_t(v); }, 0, seed_max, 0, true, "k-means seed"},
      {"perplexity", [&](double v) { o.tsne.perplexity = v; }, 1e-3, 1e4, 30, false,
       "t-SNE perplexity (also below a third of the test samples)"},
      {"theta", [&](double v) { o.tsne.theta = v; }, 0, 1, 0.5, false, "Barnes-Hut opening angle (0 = exact)"},
      {"early-exaggeration", [&](double v) { o.tsne.early_exaggeration = v; }, 1, 1000, 12, false,
       "t-SNE early exaggeration"},
      {"tsne-iter", [&](double v) { o.tsne.n_iter = int(v); }, 1, 1e6, 1000, true,
       "t-SNE iterations, the exaggeration phase included"},
      {"learning-rate", [&](double v) { o.tsne.learning_rate = v; }, 0, 1e6, 0, false,
       "t-SNE learning rate (0 = auto: max(n / early_exaggeration / 4, 50))"},
      {"tsne-seed", [&](double v) { o.tsne.seed = std::uint64_t(v); }, 0, seed_max, 0, true,
       "t-SNE seed (random init)"},
      {"trust-k", [&](double v) { o.tsne.trustworthiness_neighbors = int(v); }, 0, 1000, 10, true,
       "neighbours of the trustworthiness score (0 = skip it)"},
      {"cosine-bins", [&](double v) { o.cosine.histogram_bins = int(v); }, 1, 1e6, 50, true,
       "cosine histogram bins over [-1, 1]"},
      {"knn-k", [&](double v) { o.knn.k = int(v); }, 1, 1000, 5, true, "neighbours of the k-NN accuracy"},
  };
}

// Returns false when only help was asked for.
bool parse(int argc, char** argv, Cli& cli, int rank) {
  std::string tsne_init = "pca";
  const std::vector<NumericOption> numeric = numeric_options(cli);
  po::options_description visible("Options", 110, 55);
  visible.add_options()
      ("help,h", "show this help")
      ("out,o", po::value(&cli.out),
       "write the results to this HDF5 file instead of into the archive: a new file, or one that holds only "
       "analyses of this same archive")
      ("quiet,q", "no progress output")
      ("verbose,v", "with an error, also print the HDF5 library's own error chain");
  for (const auto& o : numeric)
    visible.add_options()(o.flag, po::value<std::string>(),
                          (std::string(o.help) + "; " + range_text(o) + " [default: " + number_text(o.default_value) +
                           "]").c_str());
  visible.add_options()
      ("no-tsne", "skip t-SNE (the slowest part)")
      ("tsne-init", po::value(&tsne_init)->default_value("pca"), "t-SNE initialisation: pca or random")
      ("force", "recompute runs already analysed with these options");
  po::options_description all = visible;
  all.add_options()("archive", po::value(&cli.archive), "sweep archive");
  po::positional_options_description positional;
  positional.add("archive", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help") || !vm.count("archive")) {
    if (rank == 0)
      std::cout << "Usage: mpirun -np N aesweep-analyze ARCHIVE.h5 [options]\n\n"
                   "Analyses the test-set latent codes of every complete run of a sweep archive: silhouette score\n"
                   "with the digit labels (exact), k-means for k_min..k_max with inertia and silhouette, Barnes-Hut\n"
                   "t-SNE to 2-D with KL divergence and trustworthiness, same- vs different-digit cosine\n"
                   "similarity, and k-NN accuracy. Runs are spread over the ranks; results go into\n"
                   "/analysis/<options hash>/runs/<index> of the archive (or --out), and runs already analysed\n"
                   "with the same options are skipped. Exit status: 0 done, 2 bad input (nothing was changed),\n"
                   "1 a fatal error during the work.\n\n"
                << visible << "\n";
    if (!vm.count("help")) throw ConfigError("missing ARCHIVE.h5 (see aesweep-analyze --help)");
    return false;
  }
  cli.quiet = vm.count("quiet") > 0;
  cli.force = vm.count("force") > 0;
  cli.verbose = vm.count("verbose") > 0;
  for (const auto& o : numeric) o.store(vm.count(o.flag) ? checked_value(o, vm[o.flag].as<std::string>()) : o.default_value);
  if (cli.options.kmeans.k_max < cli.options.kmeans.k_min)
    throw ConfigError("--k-max (" + std::to_string(cli.options.kmeans.k_max) + ") must be at least --k-min (" +
                      std::to_string(cli.options.kmeans.k_min) + ")");
  cli.options.run_tsne = vm.count("no-tsne") == 0;
  if (tsne_init == "pca") cli.options.tsne.init = TsneInit::Pca;
  else if (tsne_init == "random") cli.options.tsne.init = TsneInit::Random;
  else throw ConfigError("--tsne-init must be pca or random, got '" + tsne_init.substr(0, 40) + "'");
  if (cli.out.empty() && vm.count("out")) throw ConfigError("--out is empty: give a file name");
  cli.options.silhouette.validate();
  cli.options.kmeans.validate();
  cli.options.tsne.validate();
  cli.options.cosine.validate();
  cli.options.knn.validate();
  return true;
}

std::string fmt(double v) {
  char t[32];
  std::snprintf(t, sizeof t, "%.4f", v);
  return std::isnan(v) ? "nan" : t;
}

// Rank 0 owns the file: it reads latent codes, hands them out (two in flight per worker so
// nobody waits while rank 0 computes its own share), and writes each result as it arrives, so
// an interrupted analysis keeps everything finished. Workers only compute.
constexpr int assign_tag = 8;
constexpr int stop_tag = 9;

std::vector<char> pack_latent(std::int64_t run, const Eigen::MatrixXf& latent) {
  std::vector<char> bytes(sizeof(std::int64_t) * 3 + sizeof(float) * std::size_t(latent.size()));
  const std::int64_t head[3] = {run, latent.rows(), latent.cols()};
  std::memcpy(bytes.data(), head, sizeof head);
  std::memcpy(bytes.data() + sizeof head, latent.data(), sizeof(float) * std::size_t(latent.size()));
  return bytes;
}

std::vector<char> receive_bytes(int source, int tag, MPI_Status& status) {
  MPI_Probe(source, tag, MPI_COMM_WORLD, &status);
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  std::vector<char> buffer(static_cast<std::size_t>(count));
  MPI_Recv(buffer.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return buffer;
}

// Sends without blocking: two ranks both blocked in a large (rendezvous) MPI_Send to each
// other would deadlock, and a worker should start its next run while its result travels.
class Outbox {
 public:
  void send(std::vector<char> bytes, int destination, int tag) {
    pending_.emplace_back(std::move(bytes), MPI_REQUEST_NULL);
    auto& [buffer, request] = pending_.back();
    MPI_Isend(buffer.data(), int(buffer.size()), MPI_BYTE, destination, tag, MPI_COMM_WORLD, &request);
    // Release buffers whose sends have completed.
    std::erase_if(pending_, [](auto& p) {
      int done = 0;
      MPI_Test(&p.second, &done, MPI_STATUS_IGNORE);
      return done != 0;
    });
  }
  ~Outbox() {
    for (auto& p : pending_) MPI_Wait(&p.second, MPI_STATUS_IGNORE);
  }

 private:
  std::list<std::pair<std::vector<char>, MPI_Request>> pending_;
};

void work(const Cli& cli, const std::vector<int>& labels) {
  Outbox outbox;
  while (true) {
    MPI_Status status;
    const auto bytes = receive_bytes(0, MPI_ANY_TAG, status);
    if (status.MPI_TAG == stop_tag) return;
    std::int64_t head[3];
    std::memcpy(head, bytes.data(), sizeof head);
    Eigen::MatrixXf latent(head[1], head[2]);
    std::memcpy(latent.data(), bytes.data() + sizeof head, sizeof(float) * std::size_t(latent.size()));
    outbox.send(serialize(analyze_latent(head[0], latent, labels, cli.options)), 0, result_tag);
  }
}

int coordinate(int size, const Cli& cli, const std::vector<int>& labels) {
  const auto start = std::chrono::steady_clock::now();
  auto reader = SweepArchiveReader::open(cli.archive, cli.out.empty() ? h5::Access::read_write : h5::Access::read_only);
  const std::string identity = archive_identity(reader.header());
  std::optional<h5::File> separate;
  if (!cli.out.empty())
    separate.emplace(std::filesystem::exists(cli.out)
                         ? h5::File::open(cli.out, h5::Access::read_write, h5::FileAccess::defaults())
                         : h5::File::create(cli.out, h5::FileAccess::defaults()));
  h5::File& target = separate ? *separate : reader.file();
  AnalysisStore store(target, cli.options, cli.archive, identity);

  const auto states = reader.read_states();
  std::size_t pending = 0, failed = 0, already = 0;
  std::deque<std::int64_t> queue;
  for (std::size_t i = 0; i < states.size(); ++i) {
    pending += states[i] == RunState::pending;
    failed += states[i] == RunState::failed;
    if (states[i] != RunState::complete && states[i] != RunState::diverged) continue;
    if (!cli.force && store.has_run(std::int64_t(i))) ++already;
    else queue.push_back(std::int64_t(i));
  }
  const std::size_t total = queue.size();
  if (!cli.quiet) {
    std::printf("aesweep-analyze: %zu runs to analyse, %zu already done with options %s, %zu pending and %zu "
                "failed runs skipped; %d ranks\n",
                total, already, store.options_hash().c_str(), pending, failed, size);
    std::fflush(stdout);
  }

  std::size_t done = 0;
  auto record = [&](const RunAnalysis& a) {
    store.write(a);
    target.flush();
    ++done;
    if (cli.quiet) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double eta = elapsed / double(done) * double(total - done);
    std::string note = a.tsne_reason.empty() ? "" : " (t-SNE: " + a.tsne_reason + ")";
    std::printf("[%zu/%zu] run %lld: silhouette %s  knn %s  cosine same %s diff %s  t-SNE KL %s trust %s%s  %.1fs | "
                "elapsed %.0fs ETA %.0fs\n",
                done, total, static_cast<long long>(a.run), fmt(a.silhouette).c_str(), fmt(a.knn.accuracy).c_str(),
                fmt(a.cosine.same.mean).c_str(), fmt(a.cosine.different.mean).c_str(), fmt(a.tsne_kl).c_str(),
                fmt(a.trustworthiness).c_str(), note.c_str(), a.seconds, elapsed, eta);
    std::fflush(stdout);
  };
  std::vector<int> in_flight(std::size_t(size), 0);
  Outbox outbox;
  auto hand_out = [&](int worker) {
    if (queue.empty()) return;
    const std::int64_t run = queue.front();
    queue.pop_front();
    outbox.send(pack_latent(run, reader.read_latent(std::size_t(run))), worker, assign_tag);
    ++in_flight[std::size_t(worker)];
  };
  auto collect = [&](bool block) {
    int flag = 0;
    MPI_Status status;
    if (block) MPI_Probe(MPI_ANY_SOURCE, result_tag, MPI_COMM_WORLD, &status);
    else MPI_Iprobe(MPI_ANY_SOURCE, result_tag, MPI_COMM_WORLD, &flag, &status);
    if (!block && !flag) return false;
    const auto bytes = receive_bytes(status.MPI_SOURCE, result_tag, status);
    --in_flight[std::size_t(status.MPI_SOURCE)];
    record(deserialize(bytes));
    hand_out(status.MPI_SOURCE);
    return true;
  };
  for (int round = 0; round < 2; ++round)
    for (int w = 1; w < size; ++w) hand_out(w);
  auto outstanding = [&] { return std::accumulate(in_flight.begin(), in_flight.end(), 0); };
  while (!queue.empty() || outstanding() > 0) {
    while (collect(false)) {
    }
    if (!queue.empty()) {
      const std::int64_t run = queue.front();
      queue.pop_front();
      record(analyze_latent(run, reader.read_latent(std::size_t(run)), labels, cli.options));
    } else if (outstanding() > 0) {
      collect(true);
    }
  }
  for (int w = 1; w < size; ++w) MPI_Send(nullptr, 0, MPI_BYTE, w, stop_tag, MPI_COMM_WORLD);
  if (separate) separate->close();
  reader.close();
  if (!cli.quiet)
    std::printf("aesweep-analyze: results in %s under /analysis/%s\n", (cli.out.empty() ? cli.archive : cli.out).c_str(),
                store.options_hash().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  Cli cli;
  // Argument and archive problems are the same on every rank: report once, exit cleanly.
  // Rank 0 also checks, before any work, that the results may go where they would be written.
  std::string error, detail;
  bool proceed = false;
  try {
    proceed = parse(argc, argv, cli, rank);
    if (proceed && rank == 0) {
      const auto reader = SweepArchiveReader::open(cli.archive);
      check_analysis_target(cli.archive, archive_identity(reader.header()), cli.out);
      if (!cli.out.empty() && same_file(cli.archive, cli.out)) cli.out.clear();  // in place
    }
  } catch (const std::exception& e) {
    error = e.what();
    detail = error_detail(e);
  }
  int failed = error.empty() ? 0 : 1, any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  int quit = proceed ? 0 : 1, any_quit = 0;
  MPI_Allreduce(&quit, &any_quit, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (any_failed || any_quit) {
    if (rank == 0 && any_failed) {
      std::fprintf(stderr, "aesweep-analyze: error: %s\n", error.empty() ? "bad input on another rank" : error.c_str());
      if (cli.verbose && !detail.empty()) std::fprintf(stderr, "aesweep-analyze: HDF5 error chain: %s\n", detail.c_str());
    }
    MPI_Finalize();
    return any_failed ? 2 : 0;
  }
  // Every rank uses rank 0's decision on where the results go.
  int in_place = cli.out.empty() ? 1 : 0;
  MPI_Bcast(&in_place, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (in_place) cli.out.clear();
  try {
    std::vector<int> labels;
    {
      auto reader = SweepArchiveReader::open(cli.archive);
      for (auto l : reader.header().test_labels) labels.push_back(int(l));
    }
    // Every rank has closed its read-only handle before rank 0 opens the file for writing.
    MPI_Barrier(MPI_COMM_WORLD);
    const int code = rank == 0 ? coordinate(size, cli, labels) : (work(cli, labels), 0);
    MPI_Finalize();
    return code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aesweep-analyze: fatal on rank %d: %s\n", rank, e.what());
    if (cli.verbose && !error_detail(e).empty())
      std::fprintf(stderr, "aesweep-analyze: HDF5 error chain: %s\n", error_detail(e).c_str());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return 1;
}
