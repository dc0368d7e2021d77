// aesweep-analyze: silhouette, k-means, t-SNE, cosine statistics and k-NN accuracy of every
// complete run's test-set latent codes, spread over MPI ranks, written back into the archive.
#include <signal.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <cerrno>
#include <iostream>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include "aesweep/analysis/error.hpp"
#include "aesweep/archive/sweep_archive_reader.hpp"
#include "aesweep/core/error.hpp"
#include "aesweep/core/text.hpp"
#include "aesweep/dist/mpi_environment.hpp"
#include "aesweep/dist/stop_signals.hpp"
#include "app/analysis_store.hpp"
#include "app/run_analysis.hpp"

namespace po = boost::program_options;
using namespace aesweep;
using namespace aesweep::analysis;

namespace {

struct Cli {
  std::string archive;
  std::string out;
  bool quiet = false;
  bool force = false;
  bool verbose = false;
  AnalysisOptions options;
  // Rank 0: the disk space held for the results until the files are closed (SpaceReservation).
  std::shared_ptr<SpaceReservation> reservation;
  // Rank 0, storing results in place: the archive's writer lock, held until the files are closed.
  std::shared_ptr<WriterLock> writer_lock;
  // Rank 0: archive_identity of the archive as first read (every later read checks it), its run
  // states then and its test labels.
  std::string identity;
  std::vector<RunStatus> states;
  std::vector<int> labels;
  // Rank 0: whether a visit found the file system refusing its lock and said so (once).
  bool warned_unguarded = false;
};

// SIGTERM (Slurm's time limit; mpirun's, a second after a Ctrl-C, then SIGKILL a second later) and
// SIGINT end the program, but never while rank 0 writes: a kill while HDF5 writes its metadata can
// leave /analysis unreadable. Rank 0 holds `writing` while it opens, creates, stores a run's results
// and flushes, or closes; the signal's thread (stop_signals.hpp) waits for it, then ends the
// process, leaving the file as its last flush left it. Exit status 4, as a stopped sweep (the
// process's own; mpirun, after a Ctrl-C, reports 1 whatever its ranks return).
struct StopGuard {
  std::mutex writing;
  std::atomic<int> rank{-1};                 // once MPI is up
  std::atomic<bool> finished{false};         // this rank's work is done (rank 0: the files closed)
  std::string destination;                   // rank 0: the file the results go into, once open
  std::size_t stored = 0;                    // rank 0: runs whose results this command stored
  bool force = false;                        // rank 0: --force (runs analysed before are redone)
  SpaceReservation* reservation = nullptr;   // rank 0: the disk space held, to give back
};
StopGuard stop_guard;

constexpr int kStoppedStatus = 4;

// Whether this process is a rank other than 0, also before MPI has said so (from the launcher's
// environment), so that a stop during start-up is told once, not by every rank.
bool a_worker_rank() {
  if (const int rank = stop_guard.rank.load(); rank >= 0) return rank > 0;
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"})
    if (const char* value = std::getenv(name); value != nullptr && *value != 0)
      return std::string_view(value) != "0";
  return false;
}

[[noreturn]] void stop_on_signal(int signal) {
  std::fflush(nullptr);  // the lines printed so far
  if (a_worker_rank()) {  // holds no file
    if (stop_guard.finished) ::_exit(0);
    // mpirun ends the whole job as soon as one rank exits with an error, rank 0 too: the delay
    // gives rank 0, signalled at the same moment, the time to finish a write and say so.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::_exit(kStoppedStatus);
  }
  const std::lock_guard lock(stop_guard.writing);  // not released: the process ends here
  std::fflush(nullptr);
  if (stop_guard.finished) ::_exit(0);             // all done already
  if (stop_guard.reservation) stop_guard.reservation->release();
  const char* name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "a signal";
  const std::string runs = std::to_string(stop_guard.stored) + (stop_guard.stored == 1 ? " run in " : " runs in ") +
                           stop_guard.destination;
  if (stop_guard.destination.empty())
    std::fprintf(stderr, "aesweep-analyze: stopped by %s before any results were stored\n", name);
  else if (stop_guard.force)  // the same command would redo every run again
    std::fprintf(stderr,
                 "aesweep-analyze: stopped by %s; this command stored new results of %s; the other runs keep their "
                 "earlier results, if any (the same command redoes them all; without --force it analyses only runs "
                 "not analysed yet)\n",
                 name, runs.c_str());
  else
    std::fprintf(stderr,
                 "aesweep-analyze: stopped by %s; this command stored the results of %s; run the same command again "
                 "to analyse the rest\n",
                 name, runs.c_str());
  std::fflush(stderr);
  ::_exit(kStoppedStatus);
}

// Gives back the disk space held for the results (rank 0), where a stop signal cannot be using it.
void release_reservation(Cli& cli) {
  const std::lock_guard lock(stop_guard.writing);
  stop_guard.reservation = nullptr;
  cli.reservation.reset();
}

// How long a read of the archive waits for a program holding it for writing (an analysis storing
// its results in it, an HDF5 tool) to let go, before it gives up naming that program.
constexpr std::chrono::seconds kReadPatience{10};

// The archive as read with --out: a short visit (SweepArchiveReader::open_to_visit) per read,
// never held open between reads, since on NFS a reader's lock holds up every write of a sweep
// still writing it. Each visit checks that the path still names the archive first read. The first
// visit the file system gives no lock (no flock, or NFS's lock service not answering) says so.
SweepArchiveReader visit(Cli& cli, bool every_run = false) {
  auto reader = SweepArchiveReader::open_to_visit(cli.archive, kReadPatience, every_run);
  if (!reader.unguarded().empty() && !std::exchange(cli.warned_unguarded, true))
    std::fprintf(stderr,
                 "aesweep-analyze: warning: %s: reading %s under no lock, so nothing keeps a program that opens it "
                 "for writing (an aesweep-analyze storing its results in it, an HDF5 tool) from changing it while "
                 "it is read\n",
                 reader.unguarded().c_str(), cli.archive.c_str());
  if (!cli.identity.empty() && archive_identity(reader.header()) != cli.identity)
    throw ArchiveError("archive " + cli.archive + " was replaced by another one (archive id " +
                       archive_identity(reader.header()) + ", not " + cli.identity +
                       ") since this analysis began (a sweep started over with --overwrite?): analyse the new one "
                       "into another --out file");
  return reader;
}

// One numeric option: its flag, where its value goes, its range and its help. The range is
// written here once: the check and the --help text both come from it.
struct NumericOption {
  const char* flag;
  void (*set)(AnalysisOptions&, double);
  double (*get)(const AnalysisOptions&);
  double min, max;
  bool integer;
  const char* help;
  [[nodiscard]] double default_value() const { return get(AnalysisOptions{}); }
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
  const std::string what = std::string("--") + o.flag + " must be " + range_text(o) + ", got " + shown_value(raw);
  const char* begin = raw.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  while (end && *end == ' ') ++end;
  if (raw.empty() || end == begin || *end != '\0' || errno == ERANGE || !std::isfinite(v)) throw ConfigError(what);
  if (o.integer && v != std::floor(v)) throw ConfigError(what);
  // 2^53 + 1 reads as 2^53: an integer a float64 cannot hold exactly is refused, not rounded.
  if (o.integer && !reads_exactly_as(raw, v))
    throw ConfigError(what + ", which a float64 cannot hold exactly");
  if (v < o.min || v > o.max) throw ConfigError(what);
  return v;
}

// Every numeric option; its default is the value of a default AnalysisOptions (the library's
// defaults are the command's, written once).
std::vector<NumericOption> numeric_options() {
  using O = AnalysisOptions;
  constexpr double seed_max = 9007199254740992.0;  // 2^53: every integer up to it is exact
  return {
      {"threads", [](O& o, double v) { o.threads = int(v); }, [](const O& o) { return double(o.threads); }, 1, 1024,
       true, "threads per rank"},
      {"silhouette-sample", [](O& o, double v) { o.silhouette.sample_size = std::int64_t(v); },
       [](const O& o) { return double(o.silhouette.sample_size); }, 0, 1e9, true,
       "score a random subset of this many points (0 = exact over every point)"},
      {"k-min", [](O& o, double v) { o.kmeans.k_min = int(v); }, [](const O& o) { return double(o.kmeans.k_min); }, 1,
       1000, true, "smallest k of the k-means sweep"},
      {"k-max", [](O& o, double v) { o.kmeans.k_max = int(v); }, [](const O& o) { return double(o.kmeans.k_max); }, 1,
       1000, true, "largest k of the k-means sweep (at least --k-min)"},
      {"kmeans-init", [](O& o, double v) { o.kmeans.kmeans.n_init = int(v); },
       [](const O& o) { return double(o.kmeans.kmeans.n_init); }, 1, 1000, true,
       "k-means++ starts per k (the lowest inertia wins)"},
      {"kmeans-seed", [](O& o, double v) { o.kmeans.kmeans.seed = std::uint64_t(v); },
       [](const O& o) { return double(o.kmeans.kmeans.seed); }, 0, seed_max, true, "k-means seed"},
      {"perplexity", [](O& o, double v) { o.tsne.perplexity = v; }, [](const O& o) { return o.tsne.perplexity; }, 1e-3,
       1e4, false, "t-SNE perplexity (also below a third of the test samples)"},
      {"theta", [](O& o, double v) { o.tsne.theta = v; }, [](const O& o) { return o.tsne.theta; }, 0, 1, false,
       "Barnes-Hut opening angle (0 = exact)"},
      {"tsne-fft-points", [](O& o, double v) { o.tsne.fft_interpolation_points = int(v); },
       [](const O& o) { return double(o.tsne.fft_interpolation_points); }, 0, 10, true,
       "FFT t-SNE: interpolation nodes per box and axis, 2 to 10 (more: closer to the exact forces, slower); "
       "0 = automatic: 5 below 100000 test samples, 4 from there"},
      {"tsne-fft-intervals-per-unit", [](O& o, double v) { o.tsne.fft_intervals_per_unit = v; },
       [](const O& o) { return o.tsne.fft_intervals_per_unit; }, 0.01, 100, false,
       "FFT t-SNE: boxes per unit of embedding length (box width at most its inverse)"},
      {"early-exaggeration", [](O& o, double v) { o.tsne.early_exaggeration = v; },
       [](const O& o) { return o.tsne.early_exaggeration; }, 1, 1000, false, "t-SNE early exaggeration"},
      {"tsne-iter", [](O& o, double v) { o.tsne.n_iter = int(v); }, [](const O& o) { return double(o.tsne.n_iter); }, 1,
       1e6, true, "t-SNE iterations, the exaggeration phase included"},
      {"learning-rate", [](O& o, double v) { o.tsne.learning_rate = v; },
       [](const O& o) { return o.tsne.learning_rate; }, 0, 1e6, false,
       "t-SNE learning rate (0 = auto: max(n / early_exaggeration / 4, 50))"},
      {"tsne-seed", [](O& o, double v) { o.tsne.seed = std::uint64_t(v); },
       [](const O& o) { return double(o.tsne.seed); }, 0, seed_max, true, "t-SNE seed (random init)"},
      {"trust-k", [](O& o, double v) { o.tsne.trustworthiness_neighbors = int(v); },
       [](const O& o) { return double(o.tsne.trustworthiness_neighbors); }, 0, 1000, true,
       "neighbours of the trustworthiness score (0 = skip it)"},
      {"cosine-bins", [](O& o, double v) { o.cosine.histogram_bins = int(v); },
       [](const O& o) { return double(o.cosine.histogram_bins); }, 1, 1e6, true, "cosine histogram bins over [-1, 1]"},
      {"knn-k", [](O& o, double v) { o.knn.k = int(v); }, [](const O& o) { return double(o.knn.k); }, 1, 1000, true,
       "neighbours of the k-NN accuracy"},
  };
}

// Returns false when only help was asked for.
bool parse(int argc, char** argv, Cli& cli, int rank) {
  std::string tsne_init = "pca";
  std::string tsne_method = "auto";
  const std::vector<NumericOption> numeric = numeric_options();
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
                          (std::string(o.help) + "; " + range_text(o) + " [default: " + number_text(o.default_value()) +
                           "]").c_str());
  visible.add_options()
      ("no-tsne", "skip t-SNE (the slowest part)")
      ("tsne-init", po::value(&tsne_init)->default_value("pca"), "t-SNE initialisation: pca or random")
      ("tsne-method", po::value(&tsne_method)->default_value("auto"),
       ("t-SNE repulsive forces: auto, barnes-hut or fft (FFT-accelerated interpolation, FIt-SNE's method); auto "
        "uses fft from " + std::to_string(kTsneAutoFftMinPoints) + " test samples on (with --theta > 0), barnes-hut "
        "below. The archive records which ran").c_str())
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
                   "with the digit labels (exact), k-means for k_min..k_max with inertia and silhouette, t-SNE\n"
                   "to 2-D (Barnes-Hut or FFT interpolation) with KL divergence and trustworthiness, same- vs\n"
                   "different-digit cosine similarity, and k-NN accuracy. Runs are spread over the ranks; results go into\n"
                   "/analysis/<options hash>/runs/<index> of the archive (or --out), and runs already analysed\n"
                   "with the same options are skipped. Storing them in the archive takes its writer lock\n"
                   "(ARCHIVE.lock): refused while a sweep writes it; --out works meanwhile, reading the archive\n"
                   "a moment per run. Exit status: 0 done; 2 bad input, or an archive another program writes\n"
                   "or holds open (nothing was changed); 1 a fatal error during the work (the runs finished\n"
                   "are kept: the same command later does the rest); 4 stopped by SIGTERM or SIGINT (Ctrl-C),\n"
                   "after any results being written were stored (the same command does the rest).\n\n"
                << visible << "\n";
    if (!vm.count("help")) throw ConfigError("missing ARCHIVE.h5 (see aesweep-analyze --help)");
    return false;
  }
  cli.quiet = vm.count("quiet") > 0;
  cli.force = vm.count("force") > 0;
  cli.verbose = vm.count("verbose") > 0;
  for (const auto& o : numeric)
    if (vm.count(o.flag)) o.set(cli.options, checked_value(o, vm[o.flag].as<std::string>()));
  if (cli.options.tsne.fft_interpolation_points == 1)
    throw ConfigError("--tsne-fft-points must be 0 (automatic) or an integer in [2, 10], got '1'");
  if (cli.options.kmeans.k_max < cli.options.kmeans.k_min)
    throw ConfigError("--k-max (" + std::to_string(cli.options.kmeans.k_max) + ") must be at least --k-min (" +
                      std::to_string(cli.options.kmeans.k_min) + ")");
  cli.options.run_tsne = vm.count("no-tsne") == 0;
  if (tsne_init == "pca") cli.options.tsne.init = TsneInit::Pca;
  else if (tsne_init == "random") cli.options.tsne.init = TsneInit::Random;
  else throw ConfigError("--tsne-init must be pca or random, got '" + tsne_init.substr(0, 40) + "'");
  try {
    cli.options.tsne.method = parse_tsne_method(tsne_method);
  } catch (const AnalysisError&) {
    throw ConfigError("--tsne-method must be auto, barnes-hut or fft, got '" + tsne_method.substr(0, 40) + "'");
  }
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

// A new --out FILE is made whole under FILE.creating and renamed into place, so a kill in its
// first milliseconds leaves no truncated FILE that every later run refuses (check_analysis_target
// refused a FILE.creating that is not one left by such a kill).
void create_results_file(const std::string& path) {
  const std::string building = path + ".creating";
  h5::FileAccess checksummed = h5::FileAccess::defaults();  // as the sweep's archives (h5.hpp)
  checksummed.checksum_metadata();
  h5::File::create(building, checksummed).close();
  std::filesystem::rename(building, path);
}

// Rank 0 owns the files: it reads latent codes, hands them out (coordinate_analysis: two in flight
// per worker so nobody waits while rank 0 computes its own share), and writes each result as it
// arrives, so an interrupted analysis keeps everything finished. Workers only compute. Storing in
// place, the archive stays open for writing throughout (its writer lock keeps sweeps away); with
// --out it is only visited, once per run's codes (settle_inputs read the run states).
int coordinate(Communicator& comm, Cli& cli, const std::vector<int>& labels) {
  const auto start = std::chrono::steady_clock::now();
  // HDF5 closes a file for real, writing out its cache, when its last object goes: the store's
  // groups. All three are let go under `writing`, however this ends.
  std::optional<SweepArchiveReader> in_place;
  std::optional<h5::File> separate;
  std::optional<AnalysisStore> store;
  std::unique_lock writing(stop_guard.writing);
  try {
    const std::vector<RunStatus>& states = cli.states;
    if (cli.out.empty()) {
      in_place.emplace(SweepArchiveReader::open(cli.archive, h5::Access::read_write));
    } else {
      if (!std::filesystem::exists(cli.out)) create_results_file(cli.out);
      separate.emplace(h5::File::open(cli.out, h5::Access::read_write, h5::FileAccess::defaults()));
    }
    h5::File& target = separate ? *separate : in_place->file();
    store.emplace(target, cli.options, cli.archive, cli.identity);
    target.flush();
    stop_guard.destination = cli.out.empty() ? cli.archive : cli.out;
    stop_guard.force = cli.force;
    writing.unlock();

    std::size_t pending = 0, failed = 0, already = 0;
    AnalysisSource source;
    for (std::size_t i = 0; i < states.size(); ++i) {
      pending += states[i] == RunStatus::pending;
      failed += states[i] == RunStatus::failed;
      if (states[i] != RunStatus::complete && states[i] != RunStatus::diverged) continue;
      if (!cli.force && store->has_run(std::int64_t(i))) ++already;
      else source.runs.push_back(std::int64_t(i));
    }
    const std::size_t total = source.runs.size();
    if (!cli.quiet) {
      std::printf("aesweep-analyze: %zu runs to analyse, %zu already done with options %s, %zu pending and %zu "
                  "failed runs skipped; %d ranks\n",
                  total, already, store->options_hash().c_str(), pending, failed, comm.size());
      std::fflush(stdout);
    }

    std::size_t done = 0;
    source.read_latent = [&](std::int64_t run) {
      if (in_place) return in_place->read_latent(std::size_t(run));
      try {
        const auto reader = visit(cli);
        const auto state = reader.read_states().at(std::size_t(run));
        if (state != RunStatus::complete && state != RunStatus::diverged)
          throw ArchiveError("archive " + cli.archive + ": run " + std::to_string(run) + " was done when this analysis "
                             "began and is " + std::string(to_string(state)) + " now");
        return reader.read_latent(std::size_t(run));
      } catch (const ArchiveError& e) {
        const std::string kept = "; the " + std::to_string(done) + " runs analysed before are in " + cli.out;
        if (const auto* busy = dynamic_cast<const ArchiveBusy*>(&e))
          throw ArchiveBusy(e.what() + kept + ": run the same command again once it has let go, to analyse the rest",
                            busy->holder());
        throw ArchiveError(e.what() + kept, e.detail());
      }
    };
    source.record = [&](const RunAnalysis& a) {
      {
        const std::lock_guard lock(stop_guard.writing);
        store->write(a);
        target.flush();
        if (cli.reservation) cli.reservation->renew();
        ++stop_guard.stored;
      }
      ++done;
      if (cli.quiet) return;
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double eta = elapsed / double(done) * double(total - done);
      std::string note = a.tsne_reason.empty() ? "" : " (t-SNE: " + a.tsne_reason + ")";
      if (a.tsne_perplexity_unmatched > 0)
        note += " (t-SNE: " + std::to_string(a.tsne_perplexity_unmatched) +
                " points could not reach the perplexity, e.g. repeated codes)";
      std::printf("[%zu/%zu] run %lld: silhouette %s  knn %s  cosine same %s diff %s  t-SNE KL %s trust %s%s  %.1fs | "
                  "elapsed %.0fs ETA %.0fs\n",
                  done, total, static_cast<long long>(a.run), fmt(a.silhouette).c_str(), fmt(a.knn.accuracy).c_str(),
                  fmt(a.cosine.same.mean).c_str(), fmt(a.cosine.different.mean).c_str(), fmt(a.tsne_kl).c_str(),
                  fmt(a.trustworthiness).c_str(), note.c_str(), a.seconds, elapsed, eta);
      std::fflush(stdout);
    };
    coordinate_analysis(comm, source, labels, cli.options);
    writing.lock();
    const std::string hash = store->options_hash();
    store.reset();
    if (separate) separate->close();
    if (in_place) in_place->close();
    stop_guard.reservation = nullptr;
    cli.reservation.reset();  // the files are closed: give back the blocks not used
    stop_guard.finished = true;
    writing.unlock();
    if (!cli.quiet) {
      std::printf("aesweep-analyze: results in %s under /analysis/%s\n",
                  (cli.out.empty() ? cli.archive : cli.out).c_str(), hash.c_str());
      std::fflush(stdout);
    }
    return 0;
  } catch (...) {
    if (!writing.owns_lock()) writing.lock();
    store.reset();
    separate.reset();
    in_place.reset();
    writing.unlock();  // main's catch takes it again
    throw;
  }
}


void print_error(const char* what, const std::string& message, const std::string& detail, bool verbose) {
  std::fprintf(stderr, "aesweep-analyze: %s: %s\n", what, message.c_str());
  if (verbose && !detail.empty()) std::fprintf(stderr, "aesweep-analyze: HDF5 error chain: %s\n", detail.c_str());
}

// Every rank parses the arguments; rank 0 also checks the archive and, before any work, that the
// results may go where they would be written. Bad input is the same on every rank: one message
// (the lowest failing rank's), exit status 2 everywhere. Returns the exit status, or nothing
// when the analysis should go ahead.
std::optional<int> settle_inputs(Communicator& comm, int argc, char** argv, Cli& cli) {
  std::optional<std::string> error;
  std::string detail;
  bool proceed = false;
  try {
    proceed = parse(argc, argv, cli, comm.rank());
    if (proceed && comm.rank() == 0) {
      if (!cli.out.empty()) cli.out = resolve_links(cli.out);  // results go where a link points
      if (!cli.out.empty() && same_file(cli.archive, cli.out)) cli.out.clear();  // in place
      // Held from before the archive is read until the results are stored and the files closed.
      if (cli.out.empty()) cli.writer_lock = std::make_shared<WriterLock>(lock_for_results(cli.archive));
      // Everything the analysis needs from the archive but the codes, read at once: with --out
      // the visit ends before anything else is done (on NFS it holds up a sweep's writes).
      std::vector<std::int64_t> analysable;  // complete or diverged runs
      std::size_t already = 0;
      std::int64_t n_test = 0;
      {
        const auto reader = cli.out.empty() ? SweepArchiveReader::open(cli.archive) : visit(cli, /*every_run=*/true);
        cli.identity = archive_identity(reader.header());
        cli.states = reader.read_states();
        for (auto l : reader.header().test_labels) cli.labels.push_back(int(l));
        n_test = reader.header().n_test;
        for (std::size_t i = 0; i < cli.states.size(); ++i)
          if (cli.states[i] == RunStatus::complete || cli.states[i] == RunStatus::diverged)
            analysable.push_back(std::int64_t(i));
        if (!cli.force && cli.out.empty()) already = analysed_runs(reader.file(), cli.options, analysable);
      }
      if (cli.writer_lock && !cli.writer_lock->unguarded().empty())  // after the archive proved readable
        std::fprintf(stderr,
                     "aesweep-analyze: warning: %s: nothing keeps a sweep from writing %s while the results are "
                     "stored in it\n",
                     cli.writer_lock->unguarded().c_str(), cli.archive.c_str());
      check_analysis_target(cli.archive, cli.identity, cli.out);
      // Room for the results of every complete or diverged run not yet analysed with these
      // options, held before anything is written.
      if (!cli.force && !cli.out.empty() && std::filesystem::exists(cli.out))
        already = analysed_runs(h5::File::open(cli.out, h5::Access::read_only, h5::FileAccess::defaults()), cli.options,
                                analysable);
      if (analysable.size() > already) {
        const std::lock_guard lock(stop_guard.writing);
        cli.reservation = std::make_shared<SpaceReservation>(
            cli.out.empty() ? cli.archive : cli.out,
            analysis_bytes(analysable.size() - already, n_test, cli.options));
        stop_guard.reservation = cli.reservation.get();
      }
    }
  } catch (const std::exception& e) {
    error = e.what();
    detail = error_detail(e);
  }
  const auto agreed = comm.agree_on_error(error);
  const bool quit = comm.any(!proceed);  // --help, or an error
  if (agreed) {
    if (comm.rank() == 0) print_error("error", *agreed, error == agreed ? detail : "", cli.verbose);
    return 2;
  }
  if (quit) return 0;
  // Every rank uses rank 0's decision on where the results go.
  if (comm.broadcast_int(cli.out.empty() ? 1 : 0) == 1) cli.out.clear();
  return std::nullopt;
}

int analyze(Communicator& comm, int argc, char** argv, Cli& cli) {
  if (const auto code = settle_inputs(comm, argc, argv, cli)) {
    release_reservation(cli);  // rank 0's, where another rank's error stopped the analysis
    return *code;
  }
  // The test labels rank 0 read with the archive's header, to every rank: only rank 0 opens it.
  const Bytes bytes = comm.broadcast(comm.rank() == 0 ? ByteWriter().put_vector(cli.labels).take() : Bytes{}, 0);
  const std::vector<int> labels = ByteReader(bytes, "test labels from rank 0").get_vector<int>();
  if (comm.rank() == 0) {
    const int code = coordinate(comm, cli, labels);
    cli.writer_lock.reset();
    return code;
  }
  serve_analysis(comm, labels, cli.options);
  stop_guard.finished = true;
  return 0;
}

}  // namespace

// Catches everything (as LightGBM's main does): bad input ends every rank with status 2 (settled
// collectively in analyze); anything unexpected on one rank is printed and aborts every rank, so
// none is left waiting for it.
int main(int argc, char** argv) {
  Cli cli;
  int rank = 0;
  try {
    // Before MPI starts, so that its threads inherit the blocked signals.
    take_signals_in_a_thread({SIGTERM, SIGINT}, stop_on_signal);
    MpiEnvironment mpi(argc, argv);
    rank = mpi.rank();
    stop_guard.rank.store(rank);
    const int code = analyze(mpi.world(), argc, argv, cli);
    mpi.finalize();
    return code;
  } catch (const std::exception& e) {
    print_error(("fatal on rank " + std::to_string(rank)).c_str(), e.what(), error_detail(e), cli.verbose);
  } catch (...) {
    std::fprintf(stderr, "aesweep-analyze: fatal on rank %d: an exception of unknown type\n", rank);
  }
  release_reservation(cli);  // abort_all runs no destructors: give back the held disk space first
  // The archive may still be open: its writer lock is kept until the process has exited.
  if (cli.writer_lock) cli.writer_lock->keep_until_exit();
  MpiEnvironment::abort_all(1);
}
