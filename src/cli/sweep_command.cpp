// aesweep sweep: every run of a study across the MPI ranks into one HDF5 archive.
// Rank 0 coordinates and trains; every rank writes its own runs into the shared archive.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <cstdio>
#include <iostream>

#include "aesweep/archive/sweep_archive.hpp"
#include "aesweep/cli/commands.hpp"
#include "aesweep/cli/common.hpp"
#include "aesweep/config/grid.hpp"
#include "aesweep/core/error.hpp"
#include "aesweep/core/trainer.hpp"
#include "aesweep/dist/mpi_environment.hpp"
#include "aesweep/dist/scheduler.hpp"

namespace po = boost::program_options;

namespace aesweep::cli {
namespace {

volatile std::sig_atomic_t stop_signal = 0;
extern "C" void on_stop_signal(int signal) { stop_signal = signal; }

// Test digits whose reconstructions every run stores, for the report's figures: the first
// two of each class in test order.
std::vector<std::size_t> pick_recon_digits(const Dataset& data, int per_class) {
  std::vector<std::size_t> picked;
  std::vector<int> seen(256, 0);
  for (std::size_t i = 0; i < data.test_labels.size(); ++i)
    if (seen[data.test_labels[i]]++ < per_class) picked.push_back(i);
  std::sort(picked.begin(), picked.end(), [&](std::size_t a, std::size_t b) {
    return data.test_labels[a] != data.test_labels[b] ? data.test_labels[a] < data.test_labels[b] : a < b;
  });
  return picked;
}

double estimated_cost(const RunSpec& run, const Dataset& data) {
  const auto& o = run.options;
  double per_sample = double(o.model.hidden) * double(data.input_size());
  if (o.reg.contractive != 0.0) per_sample *= 1.3;
  return per_sample * double(o.training.epochs) * double(data.train_images.cols());
}

// The sweep's structure as the archive stores it (/sections).
std::vector<StudySection> study_sections(const StudyPlan& plan) {
  std::vector<StudySection> sections;
  for (std::size_t s = 0; s < plan.section_count(); ++s) {
    StudySection section;
    section.name = plan.section_name(s);
    section.origin = plan.section_origin(s);
    section.swept_keys = plan.swept_keys(s);
    for (const auto run : plan.section_runs(s)) section.runs.push_back(std::int64_t(run));
    sections.push_back(std::move(section));
  }
  return sections;
}

std::string bytes_text(double bytes) {
  const char* units[] = {"bytes", "KB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (bytes >= 1000 && u < 5) {
    bytes /= 1000;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return text;
}

// Refuses a study whose archive would not fit on the disk it goes to. A new archive needs its
// estimated size; a resumed one the part of its storage not yet written (the file is sparse).
void check_free_space(const std::string& out, const ArchiveHeader& header, const std::vector<RunSpec>& runs,
                      OpenMode mode) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target = fs::absolute(fs::path(out), ec);
  const fs::path dir = target.parent_path();
  if (!fs::is_directory(dir, ec)) return;  // opening the archive reports a missing directory
  const fs::space_info space = fs::space(dir, ec);
  if (ec) return;  // a file system that cannot say: nothing to compare with
  double needed = SweepArchive::estimate_bytes(header, runs);
  struct stat st {};
  const bool resuming = mode == OpenMode::create_or_resume && ::stat(out.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  if (resuming) needed = std::max(0.0, double(st.st_size) - double(st.st_blocks) * 512.0);
  if (needed <= double(space.available)) return;
  throw ConfigError("archive " + out + " would need about " + bytes_text(needed) + " more disk space for " +
                    std::to_string(runs.size()) + " runs" + (resuming ? " (the runs not yet written)" : "") +
                    ", but " + dir.string() + " has " + bytes_text(double(space.available)) +
                    " free: choose another --out, free space, or split the study");
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

struct Progress {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::size_t total_in_study = 0;
  std::size_t done_before = 0;  // complete in the archive when this job started
  std::size_t done = 0;
  double total_cost = 0, done_cost = 0;
};

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
  if (!parse_command_line(args, visible,
                          "Usage: mpirun -np N aesweep sweep CONFIG.ini --out study.h5 [options]\n\n"
                          "Trains every run of the study. Rank 0 hands out runs one at a time, most expensive first, and\n"
                          "trains too; each rank writes its finished runs into the shared archive. A killed job leaves\n"
                          "every run marked complete whole: the same command resumes it, skipping complete runs (a\n"
                          "different config is refused unless --overwrite). SIGUSR1 or SIGTERM stops the hand-out; runs in\n"
                          "flight finish and are saved. Exit status: 0 all runs done, 4 stopped early (rerun to resume),\n"
                          "2 bad input, 1 a fatal error (every rank is aborted).\n",
                          vm))
    return 0;
  if (!vm.count("config")) throw ConfigError("missing CONFIG.ini (see 'aesweep sweep --help')");
  if (!vm.count("out")) throw ConfigError("missing --out FILE, the archive to write");
  const std::string out = vm["out"].as<std::string>();
  const bool quiet = vm.count("quiet") > 0;

  // Before anything slow: a stop signal during set-up must not kill the rank (SIGUSR1's default
  // action) but end the hand-out before it starts.
  std::signal(SIGUSR1, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  int argc = 0;
  char** argv = nullptr;
  MpiEnvironment mpi(argc, argv);
  Communicator& comm = mpi.world();
  const int rank = mpi.rank();

  // Set-up on every rank; a failure anywhere ends every rank cleanly with one message.
  StudyConfig config;
  std::vector<RunSpec> runs;
  std::vector<StudySection> sections;
  Dataset data;
  FuseSettings fuse;
  std::string setup_error;
  try {
    config = study_from_command_line(vm, vm["config"].as<std::string>());
    const StudyPlan plan(config);
    runs = all_runs(plan);
    sections = study_sections(plan);
    set_threads(vm["threads"].as<int>());
    data = load_dataset(config.data);
    for (auto& run : runs) {
      run.options.model.input_size = data.input_size();
      run.options.validate();
      try {  // a validation split must leave samples on both sides
        run.options.validate_for_data(std::size_t(data.train_images.cols()));
      } catch (const ConfigError& e) {
        throw e.at("run " + std::to_string(run.index) + (run.section.empty() ? "" : " of [sweep." + run.section + "]"));
      }
    }
    const int per_class = vm["recon-per-class"].as<int>();
    if (per_class < 0 || per_class > 100)
      throw ConfigError("--recon-per-class must be in [0, 100], got " + std::to_string(per_class));
    fuse = fuse_settings(vm);
  } catch (const std::exception& e) {  // any failure: the other ranks must not wait in a collective
    setup_error = e.what();
  }
  if (const auto agreed = comm.agree_on_error(setup_error.empty() ? std::nullopt : std::optional(setup_error))) {
    if (rank == 0) std::fprintf(stderr, "aesweep sweep: error: %s\n", agreed->c_str());
    mpi.finalize();
    return 2;
  }

  const auto recon_indices = pick_recon_digits(data, vm["recon-per-class"].as<int>());
  ArchiveHeader header;
  header.config_text = config.text;
  // Command-line settings change the study as much as the file does: keep them with it.
  if (!config.overrides.empty()) {
    header.config_text += "\n# command-line settings applied on top of this file:\n";
    for (const auto& o : config.overrides) header.config_text += "# --set " + o + "\n";
  }
  header.config_hash = study_hash(config, runs);
  header.sections = std::move(sections);
  header.dataset_name = data.name;
  header.data_fingerprint = dataset_fingerprint(data);
  header.data_files = data.files;
  header.train_samples_option = std::int64_t(config.data.train_samples);
  header.test_samples_option = std::int64_t(config.data.test_samples);
  header.command = "aesweep sweep";
  for (const auto& a : args) header.command += " " + a;
  header.aesweep_version = AESWEEP_VERSION;
  header.n_train = data.train_images.cols();
  header.n_test = data.test_images.cols();
  header.test_labels.assign(data.test_labels.begin(), data.test_labels.end());
  header.input_size = data.input_size();
  header.recon_indices.assign(recon_indices.begin(), recon_indices.end());
  header.recon_originals.resize(data.input_size(), Eigen::Index(recon_indices.size()));
  for (std::size_t i = 0; i < recon_indices.size(); ++i)
    header.recon_originals.col(Eigen::Index(i)) = data.test_images.col(Eigen::Index(recon_indices[i]));

  // Rank 0 alone looks at the disk; every rank follows.
  const OpenMode mode = vm.count("overwrite") ? OpenMode::overwrite : OpenMode::create_or_resume;
  std::string space_error;
  if (rank == 0) {
    try {
      check_free_space(out, header, runs, mode);
    } catch (const std::exception& e) {
      space_error = e.what();
    }
  }
  if (comm.any(!space_error.empty())) {
    if (rank == 0) std::fprintf(stderr, "aesweep sweep: error: %s\n", space_error.c_str());
    mpi.finalize();
    return 2;
  }

  std::optional<SweepArchive> archive;
  std::string open_error, open_detail;
  try {
    archive.emplace(SweepArchive::open_for_sweep(out, comm, header, runs, mode));
  } catch (const std::exception& e) {
    open_error = e.what();
    open_detail = error_detail(e);
  }
  if (comm.any(!open_error.empty())) {
    if (rank == 0) std::fprintf(stderr, "aesweep sweep: error: %s\n", open_error.empty() ? "opening the archive failed on another rank" : open_error.c_str());
    if (rank == 0 && vm.count("verbose") && !open_detail.empty())
      std::fprintf(stderr, "aesweep sweep: HDF5 error chain: %s\n", open_detail.c_str());
    archive.reset();
    mpi.finalize();
    return 2;
  }

  const auto states = archive->run_states();
  // Work items: single runs, or groups of runs trained together. Formed from the whole study,
  // so every rank and every resumed job sees the same groups (a run's numbers depend on its
  // group only through float rounding, but resumed results stay bit-identical).
  const auto items = fuse_groups(runs, fuse);
  std::vector<std::size_t> pending;  // items with a run still to do
  std::vector<double> cost;
  std::vector<double> cost_of(runs.size(), 0.0);
  std::size_t pending_runs = 0, fused_items = 0;
  Progress progress;
  progress.total_in_study = runs.size();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (states[i] == RunState::pending) {
      ++pending_runs;
      cost_of[i] = estimated_cost(runs[i], data);
      progress.total_cost += cost_of[i];
    } else {
      ++progress.done_before;
    }
  }
  for (std::size_t item = 0; item < items.size(); ++item) {
    double item_cost = 0.0;
    bool has_pending = false;
    for (std::size_t run : items[item]) {
      has_pending = has_pending || states[run] == RunState::pending;
      item_cost += cost_of[run];
    }
    if (!has_pending) continue;
    pending.push_back(item);
    cost.push_back(item_cost);
    if (items[item].size() > 1) ++fused_items;
  }
  if (rank == 0 && !quiet) {
    std::printf("aesweep sweep: %zu runs in %s, %zu already complete, %zu to train on %d ranks; archive %s\n",
                runs.size(), config.path.c_str(), progress.done_before, pending_runs, comm.size(), out.c_str());
    if (fused_items > 0)
      std::printf("aesweep sweep: %zu groups of runs of one shape train together (--fuse), %zu work items in all\n",
                  fused_items, pending.size());
    std::fflush(stdout);
  }

  const std::string host = host_name();

  const RunFunction train = [&](std::size_t item, const std::function<void()>& poll) {
    const auto& members = items[item];
    std::vector<RunResult> results;
    try {
      TrainCallbacks callbacks;
      callbacks.on_batch = poll;
      if (members.size() == 1) {
        results.push_back(train_autoencoder(runs[members.front()].options, data, callbacks));
      } else {
        std::vector<TrainOptions> group;
        for (std::size_t run : members) group.push_back(runs[run].options);
        results = train_together(group, data, callbacks);
      }
    } catch (const std::exception& e) {
      results.assign(members.size(), RunResult{});
      for (auto& result : results) {
        result.status = RunStatus::failed;
        result.error = e.what();
      }
    }
    std::vector<RunReport> reports;
    for (std::size_t k = 0; k < members.size(); ++k) {
      const std::size_t index = members[k];
      if (states[index] != RunState::pending) continue;  // saved by an earlier job; retrained only for its group
      const RunResult& result = results[k];
      RunRecordInfo info;
      info.rank = rank;
      info.host = host;
      if (result.w1.size() > 0)
        info.reconstructions = reconstruct(runs[index].options.model, result, header.recon_originals);
      try {
        archive->write_run(index, result, info);
      } catch (const std::exception& e) {
        // The archive cannot take results any more: nothing further can be saved.
        std::fprintf(stderr, "aesweep sweep: fatal: rank %d could not write run %zu to %s: %s\n", rank, index,
                     out.c_str(), e.what());
        MpiEnvironment::abort_all(1);
      }
      RunReport report;
      report.run = index;
      report.status = result.status;
      report.test_mse = result.metrics.test_mse;
      report.latent_density = result.metrics.latent_density;
      report.seconds = result.wall_seconds;
      reports.push_back(report);
    }
    return reports;
  };

  try {
    if (rank == 0) {
      WorkQueue queue(pending, cost, comm.size());
      SweepEvents events;
      events.stop_requested = [] { return stop_signal != 0; };
      events.on_finish = [&](const RunReport& r, const WorkQueue& q) {
        ++progress.done;
        progress.done_cost += cost_of[r.run];
        if (quiet) return;
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - progress.start).count();
        const double eta = progress.done_cost > 0
                               ? elapsed * (progress.total_cost - progress.done_cost) / progress.done_cost : NAN;
        std::string flight;
        for (int r2 = 0; r2 < comm.size(); ++r2) {
          const auto f = q.in_flight(r2);
          // An item shows as its first run, "+N" for the N runs training with it.
          std::string what = "-";
          if (f) {
            what = std::to_string(items[*f].front());
            if (items[*f].size() > 1) what += "+" + std::to_string(items[*f].size() - 1);
          }
          flight += " " + std::to_string(r2) + ":" + what;
        }
        std::printf("[%zu/%zu] run %zu (%s) rank %d: %s test_mse %.5f density %.3f %s | in flight%s | elapsed %s ETA %s\n",
                    progress.done_before + progress.done, progress.total_in_study, r.run,
                    runs[r.run].section.empty() ? "-" : runs[r.run].section.c_str(), r.rank,
                    std::string(to_string(r.status)).c_str(), r.test_mse, r.latent_density,
                    format_duration(r.seconds).c_str(), flight.c_str(), format_duration(elapsed).c_str(),
                    format_duration(eta).c_str());
        std::fflush(stdout);
      };
      coordinate(comm, queue, train, events);
    } else {
      work(comm, train);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aesweep sweep: fatal on rank %d: %s\n", rank, e.what());
    MpiEnvironment::abort_all(1);
  }

  archive->close();  // collective
  archive.reset();
  // Only rank 0 knows how many runs are left; every rank exits with the same status.
  const long left = long(comm.broadcast_int(rank == 0 ? long(pending_runs - progress.done) : 0L));
  if (rank == 0 && !quiet) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - progress.start).count();
    std::printf("aesweep sweep: %zu runs trained in %s; %ld of %zu runs left%s\n", progress.done,
                format_duration(elapsed).c_str(), left, runs.size(), left ? " (rerun the same command to resume)" : "");
  }
  mpi.finalize();
  return left == 0 ? 0 : 4;
}

}  // namespace aesweep::cli
