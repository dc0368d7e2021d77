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
  AnalysisOptions options;
};

// Returns false when only help was asked for.
bool parse(int argc, char** argv, Cli& cli, int rank) {
  double learning_rate = 0;
  std::string tsne_init = "pca";
  po::options_description visible("Options");
  visible.add_options()
      ("help,h", "show this help")
      ("out,o", po::value(&cli.out), "write results to this HDF5 file instead of into the archive")
      ("threads", po::value(&cli.options.threads)->default_value(1), "threads per rank")
      ("quiet,q", "no progress output")
      ("silhouette-sample", po::value(&cli.options.silhouette.sample_size)->default_value(0),
       "score a random subset of this many points (0 = exact over every point)")
      ("k-min", po::value(&cli.options.kmeans.k_min)->default_value(2), "smallest k of the k-means sweep")
      ("k-max", po::value(&cli.options.kmeans.k_max)->default_value(15), "largest k of the k-means sweep")
      ("kmeans-init", po::value(&cli.options.kmeans.kmeans.n_init)->default_value(3),
       "k-means++ starts per k (the lowest inertia wins)")
      ("kmeans-seed", po::value(&cli.options.kmeans.kmeans.seed)->default_value(0), "k-means seed")
      ("no-tsne", "skip t-SNE (the slowest part)")
      ("perplexity", po::value(&cli.options.tsne.perplexity)->default_value(30.0), "t-SNE perplexity")
      ("theta", po::value(&cli.options.tsne.theta)->default_value(0.5), "Barnes-Hut opening angle")
      ("early-exaggeration", po::value(&cli.options.tsne.early_exaggeration)->default_value(12.0),
       "t-SNE early exaggeration")
      ("tsne-iter", po::value(&cli.options.tsne.n_iter)->default_value(1000), "t-SNE iterations")
      ("learning-rate", po::value(&learning_rate)->default_value(0.0),
       "t-SNE learning rate (0 = auto: max(n / early_exaggeration / 4, 50))")
      ("tsne-init", po::value(&tsne_init)->default_value("pca"), "t-SNE initialisation: pca or random")
      ("tsne-seed", po::value(&cli.options.tsne.seed)->default_value(0), "t-SNE seed (random init)")
      ("trust-k", po::value(&cli.options.tsne.trustworthiness_neighbors)->default_value(10),
       "neighbours of the trustworthiness score")
      ("cosine-bins", po::value(&cli.options.cosine.histogram_bins)->default_value(50),
       "cosine histogram bins over [-1, 1]")
      ("knn-k", po::value(&cli.options.knn.k)->default_value(5), "neighbours of the k-NN accuracy")
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
                   "with the same options are skipped.\n\n"
                << visible << "\n";
    if (!vm.count("help")) throw ConfigError("missing ARCHIVE.h5");
    return false;
  }
  cli.quiet = vm.count("quiet") > 0;
  cli.force = vm.count("force") > 0;
  cli.options.run_tsne = vm.count("no-tsne") == 0;
  cli.options.tsne.learning_rate = learning_rate;
  if (tsne_init == "pca") cli.options.tsne.init = TsneInit::Pca;
  else if (tsne_init == "random") cli.options.tsne.init = TsneInit::Random;
  else throw ConfigError("--tsne-init must be pca or random, got '" + tsne_init + "'");
  if (cli.options.threads < 1) throw ConfigError("--threads must be >= 1");
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
  std::optional<h5::File> separate;
  if (!cli.out.empty())
    separate.emplace(std::filesystem::exists(cli.out)
                         ? h5::File::open(cli.out, h5::Access::read_write, h5::FileAccess::defaults())
                         : h5::File::create(cli.out, h5::FileAccess::defaults()));
  h5::File& target = separate ? *separate : reader.file();
  AnalysisStore store(target, cli.options, cli.archive);

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
  std::string error;
  bool proceed = false;
  try {
    proceed = parse(argc, argv, cli, rank);
    if (proceed) (void)SweepArchiveReader::open(cli.archive);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!error.empty() || !proceed) {
    if (rank == 0 && !error.empty()) std::fprintf(stderr, "aesweep-analyze: error: %s\n", error.c_str());
    MPI_Finalize();
    return error.empty() ? 0 : 2;
  }
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
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return 1;
}
