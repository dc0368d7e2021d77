#include "aesweep/sweep/sweep.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "aesweep/config/grid.hpp"
#include "aesweep/core/error.hpp"
#include "aesweep/core/gemm.hpp"
#include "aesweep/core/trainer.hpp"

namespace aesweep::sweep {
namespace {

// What a [search.NAME] section draws, as the archive stores it; nothing for a sweep section.
void add_search_space(StudySection& section, const SearchSpace* search) {
  if (!search) return;
  section.method = std::string(to_string(search->method));
  section.seed = std::int64_t(search->seed);
  section.points = std::int64_t(search->points);
  for (const auto& [key, distribution] : search->distributions) section.distributions.push_back(key + " = " + distribution);
}

// "[sweep.NAME]" or "[search.NAME]" of the section named `name`.
std::string header_of(const StudyPlan& plan, const std::string& name) {
  for (std::size_t s = 0; s < plan.section_count(); ++s)
    if (plan.section_name(s) == name) return plan.section_header(s);
  return "[sweep." + name + "]";
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
    add_search_space(section, plan.section_search(s));
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

}  // namespace

Study load_study(StudyConfig config) {
  Study study;
  const StudyPlan plan(config);
  study.runs = all_runs(plan);
  study.sections = study_sections(plan);
  study.data = cli::load_dataset(config.data);
  for (auto& run : study.runs) {
    run.options.model.input_size = study.data.input_size();
    run.options.validate();
    try {  // a validation split must leave samples on both sides
      run.options.validate_for_data(std::size_t(study.data.train_images.cols()));
      // Checked on every rank: each runs on its own node's CPU.
      if (run.options.training.precision == Precision::bf16 && !gemm::bf16_supported())
        throw ConfigError("train.precision = bf16 cannot run on " + host_name() + ": " +
                              gemm::bf16_unsupported_reason() + "; use train.precision = fp32",
                          {"train.precision"});
    } catch (const ConfigError& e) {
      throw e.at("run " + std::to_string(run.index) + (run.section.empty() ? "" : " of " + header_of(plan, run.section)));
    }
  }
  study.config = std::move(config);
  return study;
}

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

ArchiveHeader make_header(const Study& study, const std::string& command, int recon_per_class) {
  const StudyConfig& config = study.config;
  const Dataset& data = study.data;
  ArchiveHeader header;
  header.config_text = config.text;
  // Command-line settings change the study as much as the file does: keep them with it.
  if (!config.overrides.empty()) {
    header.config_text += "\n# command-line settings applied on top of this file:\n";
    for (const auto& o : config.overrides) header.config_text += "# --set " + o + "\n";
  }
  header.config_hash = study_hash(config, study.runs);
  header.sections = study.sections;
  header.dataset_name = data.name;
  header.data_fingerprint = dataset_fingerprint(data);
  header.data_files = data.files;
  header.train_samples_option = std::int64_t(config.data.train_samples);
  header.test_samples_option = std::int64_t(config.data.test_samples);
  header.command = command;
  header.aesweep_version = AESWEEP_VERSION;
  header.n_train = data.train_images.cols();
  header.n_test = data.test_images.cols();
  header.test_labels.assign(data.test_labels.begin(), data.test_labels.end());
  header.input_size = data.input_size();
  const auto recon = pick_recon_digits(data, recon_per_class);
  header.recon_indices.assign(recon.begin(), recon.end());
  header.recon_originals.resize(data.input_size(), Eigen::Index(recon.size()));
  for (std::size_t i = 0; i < recon.size(); ++i)
    header.recon_originals.col(Eigen::Index(i)) = data.test_images.col(Eigen::Index(recon[i]));
  return header;
}

void check_free_space(const std::string& out, const ArchiveHeader& header, const std::vector<RunSpec>& runs,
                      OpenMode mode) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target = fs::absolute(fs::path(resolve_links(out)), ec);
  const fs::path dir = target.parent_path();
  if (!fs::is_directory(dir, ec)) return;  // opening the archive reports a missing directory
  const fs::space_info space = fs::space(dir, ec);
  if (ec) return;  // a file system that cannot say: nothing to compare with
  double needed = SweepArchive::estimate_bytes(header, runs);
  struct stat st {};
  const bool resuming =
      mode == OpenMode::create_or_resume && ::stat(target.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  if (resuming) needed = std::max(0.0, double(st.st_size) - double(st.st_blocks) * 512.0);
  if (needed <= double(space.available)) return;
  throw ConfigError("archive " + out + " would need about " + bytes_text(needed) + " more disk space for " +
                    std::to_string(runs.size()) + " runs" + (resuming ? " (the runs not yet written)" : "") +
                    ", but " + dir.string() + " has " + bytes_text(double(space.available)) +
                    " free: choose another --out, free space, or split the study");
}

double estimated_cost(const RunSpec& run, const Dataset& data) {
  const auto& o = run.options;
  double per_sample = double(o.model.hidden) * double(data.input_size());
  if (o.reg.contractive != 0.0) per_sample *= 1.3;
  return per_sample * double(o.training.epochs) * double(data.train_images.cols());
}

WorkPlan plan_work(const Study& study, const std::vector<RunStatus>& states, const cli::FuseSettings& fuse) {
  WorkPlan plan;
  plan.items = cli::fuse_groups(study.runs, fuse);
  plan.run_cost.assign(study.runs.size(), 0.0);
  for (std::size_t i = 0; i < study.runs.size(); ++i) {
    if (states[i] != RunStatus::pending) {
      ++plan.done_runs;
      continue;
    }
    ++plan.pending_runs;
    plan.run_cost[i] = estimated_cost(study.runs[i], study.data);
    plan.total_cost += plan.run_cost[i];
  }
  for (std::size_t item = 0; item < plan.items.size(); ++item) {
    double item_cost = 0.0;
    bool has_pending = false;
    for (std::size_t run : plan.items[item]) {
      has_pending = has_pending || states[run] == RunStatus::pending;
      item_cost += plan.run_cost[run];
    }
    if (!has_pending) continue;
    plan.pending.push_back(item);
    plan.cost.push_back(item_cost);
    if (plan.items[item].size() > 1) ++plan.fused_items;
  }
  return plan;
}

RunItem::RunItem(const Study& study, const WorkPlan& plan, const std::vector<RunStatus>& states,
                 SweepArchive& archive, const ArchiveHeader& header, int rank, std::string host)
    : study_(study), plan_(plan), states_(states), archive_(archive), header_(header), rank_(rank),
      host_(std::move(host)) {}

std::vector<RunReport> RunItem::operator()(std::size_t item, const PollFunction& poll) const {
  const auto& members = plan_.items[item];
  std::vector<RunResult> results;
  try {
    TrainCallbacks callbacks;
    callbacks.on_batch = poll;
    if (members.size() == 1) {
      results.push_back(train_autoencoder(study_.runs[members.front()].options, study_.data, callbacks));
    } else {
      std::vector<TrainOptions> group;
      for (std::size_t run : members) group.push_back(study_.runs[run].options);
      results = train_together(group, study_.data, callbacks);
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
    if (states_[index] != RunStatus::pending) continue;  // saved by an earlier job; retrained only for its group
    const RunResult& result = results[k];
    RunRecordInfo info;
    info.rank = rank_;
    info.host = host_;
    info.compute = compute_description();
    if (result.w1.size() > 0)
      info.reconstructions = reconstruct(study_.runs[index].options.model, result, header_.recon_originals);
    try {
      archive_.write_run(index, result, info);
    } catch (const std::exception& e) {  // the archive cannot take results any more: nothing further can be saved
      throw ArchiveError("rank " + std::to_string(rank_) + " could not write run " + std::to_string(index) + " to " +
                         archive_.path() + ": " + e.what());
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
}

Progress::Progress(const Study& study, const WorkPlan& plan, int ranks, std::string out)
    : study_(study), plan_(plan), ranks_(ranks), out_(std::move(out)) {}

std::string Progress::start_text() const {
  char line[512];
  std::snprintf(line, sizeof line, "%zu runs in ", study_.runs.size());
  std::string text = "aesweep sweep: " + std::string(line) + study_.config.path;
  std::snprintf(line, sizeof line, ", %zu already complete, %zu to train on %d ranks; archive ", plan_.done_runs,
                plan_.pending_runs, ranks_);
  text += line + out_ + "\n";
  text += "aesweep sweep: products by " + gemm::backend_description() + " on rank 0's CPU (" + gemm::cpu_description() +
          "); each run's summary row records its rank's (column compute)\n";
  if (plan_.fused_items > 0) {
    std::snprintf(line, sizeof line,
                  "aesweep sweep: %zu groups of runs of one shape train together (--fuse), %zu work items in all\n",
                  plan_.fused_items, plan_.pending.size());
    text += line;
  }
  return text;
}

std::string Progress::finish(const RunReport& r, const WorkQueue& queue, double elapsed) {
  ++done_;
  done_cost_ += plan_.run_cost[r.run];
  const double eta = done_cost_ > 0 ? elapsed * (plan_.total_cost - done_cost_) / done_cost_ : NAN;
  std::string flight;
  for (int rank = 0; rank < ranks_; ++rank) {
    const auto f = queue.in_flight(rank);
    // An item shows as its first run, "+N" for the N runs training with it.
    std::string what = "-";
    if (f) {
      what = std::to_string(plan_.items[*f].front());
      if (plan_.items[*f].size() > 1) what += "+" + std::to_string(plan_.items[*f].size() - 1);
    }
    flight += " " + std::to_string(rank) + ":" + what;
  }
  const std::string& section = study_.runs[r.run].section;
  // The section name and the in-flight list have no length limit: only the numbers go through
  // fixed buffers.
  char head[256], tail[128];
  std::snprintf(head, sizeof head, "[%zu/%zu] run %zu (", plan_.done_runs + done_, study_.runs.size(), r.run);
  std::snprintf(tail, sizeof tail, ") rank %d: %s test_mse %.5f density %.3f %s | in flight", r.rank,
                std::string(to_string(r.status)).c_str(), r.test_mse, r.latent_density,
                cli::format_duration(r.seconds).c_str());
  return head + (section.empty() ? std::string("-") : section) + tail + flight + " | elapsed " +
         cli::format_duration(elapsed) + " ETA " + cli::format_duration(eta) + "\n";
}

std::string Progress::end_text(std::size_t left, double elapsed) const {
  char line[512];
  std::snprintf(line, sizeof line, "aesweep sweep: %zu runs trained in %s; %zu of %zu runs left%s\n", done_,
                cli::format_duration(elapsed).c_str(), left, study_.runs.size(),
                left ? " (rerun the same command to resume)" : "");
  return line;
}

std::string compute_description() {
  static const std::string text = gemm::backend_description() + "; " + gemm::cpu_description();
  return text;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

}  // namespace aesweep::sweep
