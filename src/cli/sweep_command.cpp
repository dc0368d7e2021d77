// aesweep sweep: every run of a study across the MPI ranks into one HDF5 archive.
// Rank 0 coordinates and trains; every rank writes its own runs into the shared archive.
#include <signal.h>

#include <boost/program_options.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <optional>

#include "aesweep/archive/sweep_archive.hpp"
#include "aesweep/cli/commands.hpp"
#include "aesweep/cli/common.hpp"
#include "aesweep/config/grid.hpp"
#include "aesweep/core/error.hpp"
#include "aesweep/core/trainer.hpp"
#include "aesweep/dist/mpi_environment.hpp"
#include "aesweep/dist/scheduler.hpp"
#include "aesweep/dist/stop_signals.hpp"
#include "aesweep/sweep/sweep.hpp"

namespace po = boost::program_options;

namespace aesweep::cli {
namespace {

// SIGUSR1, SIGTERM and SIGINT raise the flag rank 0 reads after every batch (stop_signals.hpp
// says why no handler).
std::atomic<int> stop_signal{0};

void take_stop_signals_in_a_thread() {
  take_signals_in_a_thread({SIGUSR1, SIGTERM, SIGINT}, [](int signal) { stop_signal.store(signal); });
}

bool stop_requested() { return stop_signal.load() != 0; }

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Ends a set-up step on every rank: nothing when no rank failed; otherwise rank 0 prints the
// (lowest failing rank's) message, with the library's chain under --verbose, and all return 2.
bool failed_everywhere(Communicator& comm, const std::string& error, const std::string& detail, bool verbose) {
  const auto agreed = comm.agree_on_error(error.empty() ? std::nullopt : std::optional(error));
  if (!agreed) return false;
  if (comm.rank() == 0) {
    std::fprintf(stderr, "aesweep sweep: error: %s\n", agreed->c_str());
    if (verbose && !detail.empty()) std::fprintf(stderr, "aesweep sweep: HDF5 error chain: %s\n", detail.c_str());
  }
  return true;
}

// Runs `step` on every rank; its exception becomes the error every rank agrees on.
template <class Step>
bool step_failed(Communicator& comm, bool verbose, Step&& step) {
  std::string error, detail;
  try {
    step();
  } catch (const std::exception& e) {  // any failure: the other ranks must not wait in a collective
    error = e.what();
    detail = error_detail(e);
  }
  return failed_everywhere(comm, error, detail, verbose);
}

const char* const kUsage =
    "Usage: mpirun -np N aesweep sweep CONFIG.ini --out study.h5 [options]\n\n"
    "Trains every run of the study. Rank 0 hands out runs one at a time, most expensive first, and\n"
    "trains too; each rank writes its finished runs into the shared archive. A killed job leaves\n"
    "every run marked complete whole: the same command resumes it, skipping complete runs (a\n"
    "different config is refused unless --overwrite). SIGUSR1 (to mpirun, which forwards it, or to the\n"
    "ranks) or SIGTERM to the ranks stops the hand-out; runs in flight finish and are saved. One\n"
    "program writes an archive at a time: while a sweep (or an in-place aesweep-analyze) holds its\n"
    "lock, ARCHIVE.lock beside it, another is refused and told which pid on which host holds it.\n"
    "Exit status: 0 all runs done, 4 stopped early (rerun to resume), 2 bad input or an archive\n"
    "another program writes, 1 a fatal error (every rank is aborted; also mpirun's own status after\n"
    "a SIGTERM sent to mpirun itself).\n";

// Trains the pending work on every rank (rank 0 coordinates and prints progress); returns the
// runs left. A failure here is fatal: every rank is aborted.
std::size_t train_everything(Communicator& comm, const sweep::Study& study, const sweep::WorkPlan& plan,
                             const sweep::RunItem& run_item, SweepArchive& archive, const std::string& out, bool quiet) {
  const auto start = std::chrono::steady_clock::now();
  sweep::Progress progress(study, plan, comm.size(), out);
  const RunFunction train = [&](std::size_t item, const PollFunction& poll) { return run_item(item, poll); };
  try {
    if (comm.rank() == 0) {
      auto print = [&](const std::string& line) {
        if (!quiet) std::fputs(line.c_str(), stdout), std::fflush(stdout);
      };
      print(progress.start_text());
      // With a schedule, rank 0 decides the rungs: the first segments (and, on a resume, the
      // decisions a killed job had made) come from the archive, the next ones from each result.
      std::optional<sweep::Promotions> promotions;
      std::vector<std::size_t> first = plan.pending;
      std::vector<double> first_cost = plan.cost;
      auto stop_runs = [&](const std::vector<std::size_t>& runs) {
        for (std::size_t run : runs) {
          archive.mark_stopped(run);
          print(progress.stopped(run, promotions->rung(run), seconds_since(start)));
        }
      };
      if (plan.schedule) {
        promotions.emplace(sweep::read_promotions(*plan.schedule, archive));
        const auto decided = promotions->start();
        stop_runs(decided.stopped);
        first = decided.segments;
        first_cost = sweep::segment_costs(plan, first);
      }
      WorkQueue queue(first, first_cost, comm.size());
      SweepEvents events;
      events.stop_requested = stop_requested;
      events.on_finish = [&](const RunReport& r, WorkQueue& q) {
        print(progress.finish(r, q, seconds_since(start)));
        if (!promotions) return;
        const auto decided = r.status == RunStatus::pending ? promotions->candidate(r.run, r.rung, r.metric)
                                                            : promotions->ended(r.run, r.status);
        stop_runs(decided.stopped);
        q.add(decided.segments, sweep::segment_costs(plan, decided.segments));
      };
      const CoordinationStats stats = coordinate(comm, queue, train, events);
      print(sweep::Progress::idle_text(stats));
    } else {
      work(comm, train);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aesweep sweep: fatal on rank %d: %s\n", comm.rank(), e.what());
    MpiEnvironment::abort_all(1);
  }
  // Only rank 0 knows how many runs are left; every rank gets its count.
  const auto left = std::size_t(comm.broadcast_int(comm.rank() == 0 ? long(progress.left()) : 0L));
  if (comm.rank() == 0 && !quiet)
    std::fputs(progress.end_text(left, seconds_since(start)).c_str(), stdout);
  return left;
}

}  // namespace

int sweep_command(const std::vector<std::string>& args) {
  po::options_description visible = study_options();
  visible.add_options()("out,o", po::value<std::string>(),
                        "the HDF5 archive to write (required); an existing one is resumed if it holds the same "
                        "study and data")
      ("overwrite", "replace an existing archive instead of resuming it")
      ("verbose,v", "with an error, also print the HDF5 library's own error chain")
      ("recon-per-class", po::value<int>()->default_value(2),
       "test digits per class whose reconstructions every run stores for figures; an integer in [0, 100]");
  add_fuse_options(visible);
  po::variables_map vm;
  if (!parse_command_line(args, visible, kUsage, vm)) return 0;
  if (!vm.count("config")) throw ConfigError("missing CONFIG.ini (see 'aesweep sweep --help')");
  if (!vm.count("out")) throw ConfigError("missing --out FILE, the archive to write");
  const std::string out = vm["out"].as<std::string>();
  const bool quiet = vm.count("quiet") > 0, verbose = vm.count("verbose") > 0;
  const OpenMode mode = vm.count("overwrite") ? OpenMode::overwrite : OpenMode::create_or_resume;
  std::string command = "aesweep sweep";
  for (const auto& a : args) command += " " + a;

  // Before anything slow: a stop signal during set-up must not kill the rank (SIGUSR1's default
  // action) but end the hand-out before it starts.
  take_stop_signals_in_a_thread();
  int argc = 0;
  char** argv = nullptr;
  MpiEnvironment mpi(argc, argv);
  Communicator& comm = mpi.world();

  // Set-up on every rank; a failure anywhere ends every rank cleanly with one message.
  sweep::Study study;
  FuseSettings fuse;
  int recon_per_class = 0;
  if (step_failed(comm, verbose, [&] {
        study = sweep::load_study(study_from_command_line(vm, vm["config"].as<std::string>()));
        set_threads(vm["threads"].as<int>());
        recon_per_class = vm["recon-per-class"].as<int>();
        if (recon_per_class < 0 || recon_per_class > 100)
          throw ConfigError("--recon-per-class must be in [0, 100], got " + std::to_string(recon_per_class));
        fuse = fuse_settings(vm);
      })) {
    mpi.finalize();
    return 2;
  }
  const ArchiveHeader header = sweep::make_header(study, command, recon_per_class);
  // Rank 0 alone looks at the disk; every rank follows.
  std::optional<SweepArchive> archive;
  if (step_failed(comm, verbose, [&] { if (comm.rank() == 0) sweep::check_free_space(out, header, study.runs, mode); }) ||
      step_failed(comm, verbose, [&] { archive.emplace(SweepArchive::open_for_sweep(out, comm, header, study.runs, mode)); })) {
    archive.reset();
    mpi.finalize();
    return 2;
  }

  if (comm.rank() == 0 && !archive->unguarded().empty())
    std::fprintf(stderr,
                 "aesweep sweep: warning: %s: nothing keeps a second sweep, or an aesweep-analyze storing its results "
                 "in place, from writing %s at the same time\n",
                 archive->unguarded().c_str(), archive->path().c_str());
  const std::vector<RunStatus> states = archive->run_states();
  const sweep::WorkPlan plan = sweep::plan_work(study, states, fuse);
  const sweep::RunItem run_item(study, plan, states, *archive, header, comm.rank(), sweep::host_name());
  const std::size_t left = train_everything(comm, study, plan, run_item, *archive, out, quiet);
  archive->close();  // collective
  archive.reset();
  mpi.finalize();
  return left == 0 ? 0 : 4;
}

}  // namespace aesweep::cli
