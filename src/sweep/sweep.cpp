#include "aesweep/sweep/sweep.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

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
      throw e.at(plan.run_label(run.index));
    }
  }
  check_schedule_metric(config, plan, [&](std::size_t i) { return study.runs[i].options.training.validation_split; });
  if (config.schedule.active()) study.schedule.emplace(config.schedule, study.runs);
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
  if (study.schedule) header.schedule = study.schedule->description();
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

namespace {

// Bytes of an existing archive that are allocated in HDF5 but not yet on disk: the holes a sparse
// file system fills as runs are written. Nothing when the file is not a regular file.
std::optional<double> unwritten_bytes(const std::filesystem::path& target) {
  struct stat st {};
  if (::stat(target.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return std::max(0.0, double(st.st_size) - double(st.st_blocks) * 512.0);
}

}  // namespace

std::string disk_space_hint(const std::string& path) {
  try {  // called while reporting another error: never throws one of its own
    const auto space = free_space_for(path);
    const auto unwritten = space ? unwritten_bytes(space->file) : std::nullopt;
    if (!unwritten || space->available >= *unwritten) return "";
    return "; " + space->dir.string() + " has " + bytes_text(space->available) +
           " free and the archive still needs about " + bytes_text(*unwritten) +
           " (disk full or quota reached?): free space and rerun the same command to resume";
  } catch (const std::exception&) {
    return "";
  }
}

void check_free_space(const std::string& out, const ArchiveHeader& header, const std::vector<RunSpec>& runs,
                      OpenMode mode) {
  // No directory (opening the archive reports it), or a file system that cannot say: nothing to
  // compare with.
  const auto space = free_space_for(out);
  std::error_code ec;
  if (!space || !std::filesystem::is_directory(space->dir, ec)) return;
  double needed = SweepArchive::estimate_bytes(header, runs);
  const auto unwritten = mode == OpenMode::create_or_resume ? unwritten_bytes(space->file) : std::nullopt;
  const bool resuming = unwritten.has_value();
  if (resuming) needed = *unwritten;
  if (needed <= space->available) return;
  throw ConfigError("archive " + out + " would need about " + bytes_text(needed) + " more disk space for " +
                    std::to_string(runs.size()) + " runs" + (resuming ? " (the runs not yet written)" : "") +
                    ", but " + space->dir.string() + " has " + bytes_text(space->available) +
                    " free: choose another --out, free space, or split the study");
}

double estimated_cost(const RunSpec& run, const Dataset& data) {
  const auto& o = run.options;
  double per_sample = double(o.model.hidden) * double(data.input_size());
  if (o.reg.contractive != 0.0) per_sample *= 1.3;
  return per_sample * double(o.training.epochs) * double(data.train_images.cols());
}

double scheduled_epochs(const RungSchedule& schedule, const std::vector<bool>& only) {
  const auto& rungs = schedule.rungs();
  const std::size_t eta = std::size_t(schedule.settings().eta);
  double epochs = 0;
  for (std::size_t p = 0; p < schedule.pool_count(); ++p) {
    const auto& runs = schedule.pool_runs(p);
    std::size_t n = std::size_t(std::count_if(runs.begin(), runs.end(), [&](std::size_t r) { return only[r]; }));
    const int first = schedule.first_rung(runs.front());
    for (int k = first; k < int(rungs.size()) && n > 0; ++k) {
      epochs += double(n) * double(rungs[std::size_t(k)] - (k == first ? 0 : rungs[std::size_t(k - 1)]));
      n = std::max<std::size_t>(1, n / eta);
    }
  }
  return epochs;
}

std::string WorkPlan::item_text(std::size_t item) const {
  if (schedule) return std::to_string(schedule->segment_run(item)) + "@" + std::to_string(schedule->segment_rung(item));
  std::string text = std::to_string(items[item].front());
  if (items[item].size() > 1) text += "+" + std::to_string(items[item].size() - 1);
  return text;
}

double segment_cost(const WorkPlan& plan, std::size_t segment) {
  return plan.epoch_cost[plan.schedule->segment_run(segment)] *
         double(plan.schedule->segment_stop_epoch(segment) - plan.schedule->segment_start_epoch(segment));
}

std::vector<double> segment_costs(const WorkPlan& plan, const std::vector<std::size_t>& segments) {
  std::vector<double> cost;
  for (std::size_t s : segments) cost.push_back(segment_cost(plan, s));
  return cost;
}

Promotions read_promotions(const RungSchedule& schedule, const SweepArchive& archive) {
  const std::vector<int> rungs = archive.run_rungs();
  const std::string metric(to_string(schedule.settings().metric));
  std::vector<ScheduledRunState> runs(schedule.run_count());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    runs[i].status = archive.state(i);
    runs[i].rung = rungs[i];
    runs[i].metric.assign(schedule.rungs().size(), std::nan(""));
    if (rungs[i] < 0) continue;
    // The metric at every rung it was a candidate at, from its curve as write_rung stored it.
    const std::vector<double> curve = archive.read_curve(i, metric);
    for (int k = schedule.first_rung(i); k <= rungs[i] && k < int(schedule.rungs().size()); ++k) {
      const auto epoch = std::size_t(schedule.rungs()[std::size_t(k)]);
      if (epoch <= curve.size()) runs[i].metric[std::size_t(k)] = curve[epoch - 1];
    }
  }
  return Promotions(schedule, std::move(runs));
}

WorkPlan plan_work(const Study& study, const std::vector<RunStatus>& states, const cli::FuseSettings& fuse) {
  WorkPlan plan;
  plan.schedule = study.schedule ? &*study.schedule : nullptr;
  if (!plan.schedule) plan.items = cli::fuse_groups(study.runs, fuse);
  plan.run_cost.assign(study.runs.size(), 0.0);
  plan.epoch_cost.assign(study.runs.size(), 0.0);
  std::vector<bool> pending(study.runs.size(), false);
  for (std::size_t i = 0; i < study.runs.size(); ++i) {
    const double cost = estimated_cost(study.runs[i], study.data);
    plan.epoch_cost[i] = cost / double(std::max(1, study.runs[i].options.training.epochs));
    if (states[i] != RunStatus::pending) {
      ++plan.done_runs;
      continue;
    }
    pending[i] = true;
    ++plan.pending_runs;
    plan.run_cost[i] = cost;
    plan.total_cost += plan.run_cost[i];
  }
  if (plan.schedule) {
    // What the schedule should train of the pending runs (rough: runs of one pool cost alike).
    const double all = scheduled_epochs(*plan.schedule, pending);
    double full = 0;
    for (std::size_t i = 0; i < pending.size(); ++i)
      if (pending[i]) full += double(study.runs[i].options.training.epochs);
    if (full > 0) plan.total_cost *= all / full;
    return plan;
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

// A schedule's segment: trains the run from its checkpoint (or the start) to its rung. Paused
// there, it is written with its checkpoint and reported pending with its metric; ended (the last
// rung, divergence, patience, failure), it is written done.
RunRecordInfo RunItem::record_info(std::size_t run, const RunResult& result) const {
  RunRecordInfo info;
  info.rank = rank_;
  info.host = host_;
  info.compute = compute_description();
  if (result.w1.size() > 0)
    info.reconstructions = reconstruct(study_.runs[run].options.model, result, header_.recon_originals);
  return info;
}

template <class Write>
void RunItem::save(std::size_t run, Write&& write) const {
  try {
    write();
  } catch (const std::exception& e) {  // the archive cannot take results any more: nothing further can be saved
    throw ArchiveError("rank " + std::to_string(rank_) + " could not write run " + std::to_string(run) + " to " +
                       archive_.path() + ": " + e.what() + disk_space_hint(archive_.path()));
  }
}

RunReport RunItem::report_of(std::size_t run, const RunResult& result) {
  RunReport report;
  report.run = run;
  report.status = result.status;
  report.test_mse = result.metrics.test_mse;
  report.latent_density = result.metrics.latent_density;
  report.seconds = result.wall_seconds;
  return report;
}

std::vector<RunReport> RunItem::segment(std::size_t item, const PollFunction& poll) const {
  const RungSchedule& schedule = *plan_.schedule;
  const std::size_t index = schedule.segment_run(item);
  const int rung = schedule.segment_rung(item);
  const int start = schedule.segment_start_epoch(item), stop = schedule.segment_stop_epoch(item);
  const TrainOptions& options = study_.runs[index].options;
  RunResult result;
  TrainCheckpoint at_rung;
  try {
    TrainCallbacks callbacks;
    callbacks.on_batch = poll;
    TrainCheckpoint from;
    bool continued = start > 0;
    if (continued) {
      from = decode_checkpoint(archive_.read_checkpoint(index), options);
      if (from.epoch > start) {
        // A job killed between a rung's checkpoint and its rung byte leaves the checkpoint a rung
        // ahead. Training is deterministic, so the run is trained again from its start instead:
        // the same bits as from the rung, and the same decisions.
        std::fprintf(stderr,
                     "aesweep: run %zu: its checkpoint is after epoch %d, its rung's is %d (left by a job killed "
                     "between the two writes); training it again from the start\n",
                     index, from.epoch, start);
        continued = false;
      } else if (from.epoch != start) {
        throw ArchiveError("run " + std::to_string(index) + "'s checkpoint is after epoch " +
                           std::to_string(from.epoch) + ", its rung's is " + std::to_string(start));
      }
    }
    result = train_segment(options, study_.data, {continued ? &from : nullptr, stop, &at_rung}, callbacks);
  } catch (const std::exception& e) {
    result = RunResult{};
    result.status = RunStatus::failed;
    result.error = e.what();
    at_rung = TrainCheckpoint{};
  }
  const bool paused = at_rung.epoch > 0;
  RunRecordInfo info = record_info(index, result);
  // The rung it reached: this one if paused or at the end, else the one it continued from.
  const bool at_end = result.status == RunStatus::complete && result.epochs_run == stop && rung == schedule.last_rung();
  info.rung = paused || at_end ? rung : rung > schedule.first_rung(index) ? rung - 1 : -1;
  if (paused) {
    result.status = RunStatus::stopped;  // what the summary row says if the rung stops it
    save(index, [&] { archive_.write_rung(index, result, info, encode_checkpoint(at_rung)); });
  } else {
    save(index, [&] { archive_.write_run(index, result, info); });
  }
  RunReport report = report_of(index, result);
  report.rung = rung;
  if (paused) {
    report.status = RunStatus::pending;
    const EpochRecord& record = result.epochs.at(std::size_t(stop - 1));
    report.metric = schedule.settings().metric == ScheduleMetric::validation_loss ? record.validation_loss
                                                                                   : record.test_loss;
  }
  return {report};
}

std::vector<RunReport> RunItem::operator()(std::size_t item, const PollFunction& poll) const {
  if (plan_.schedule) return segment(item, poll);
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
    const RunRecordInfo info = record_info(index, result);
    save(index, [&] { archive_.write_run(index, result, info); });
    reports.push_back(report_of(index, result));
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
  if (study_.config.schedule.active()) text += "aesweep sweep: schedule " + study_.config.schedule.summary() + "\n";
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
  const bool paused = r.status == RunStatus::pending;
  if (!paused) ++done_;
  if (plan_.schedule) {  // a segment's epochs
    done_cost_ += segment_cost(plan_, plan_.schedule->segment(r.run, r.rung));
  } else {
    done_cost_ += plan_.run_cost[r.run];
  }
  const double eta = done_cost_ > 0 ? elapsed * std::max(0.0, plan_.total_cost - done_cost_) / done_cost_ : NAN;
  std::string flight;
  for (int rank = 0; rank < ranks_; ++rank) {
    const auto f = queue.in_flight(rank);
    // An item shows as its first run, "+N" for the N runs training with it, "@k" for a segment.
    flight += " " + std::to_string(rank) + ":" + (f ? plan_.item_text(*f) : std::string("-"));
  }
  // The section name and the in-flight list have no length limit: only the numbers go through
  // fixed buffers.
  char tail[160];
  char what[64];
  if (paused) std::snprintf(what, sizeof what, "at rung %d, %s %.6g", int(r.rung),
                            std::string(to_string(plan_.schedule->settings().metric)).c_str(), r.metric);
  else std::snprintf(what, sizeof what, "%s", std::string(to_string(r.status)).c_str());
  std::snprintf(tail, sizeof tail, " rank %d: %s test_mse %.5f density %.3f %s | in flight", r.rank, what,
                r.test_mse, r.latent_density, cli::format_duration(r.seconds).c_str());
  return line_head(r.run) + tail + flight + " | elapsed " + cli::format_duration(elapsed) + " ETA " +
         cli::format_duration(eta) + "\n";
}

std::string Progress::stopped(std::size_t run, int rung, double elapsed) {
  ++done_;
  return line_head(run) + " stopped at rung " + std::to_string(rung) + " (epoch " +
         std::to_string(plan_.schedule->rungs()[std::size_t(rung)]) + ") | elapsed " + cli::format_duration(elapsed) +
         "\n";
}

std::string Progress::line_head(std::size_t run) const {
  const std::string& section = study_.runs[run].section;
  return "[" + std::to_string(plan_.done_runs + done_) + "/" + std::to_string(study_.runs.size()) + "] run " +
         std::to_string(run) + " (" + (section.empty() ? std::string("-") : section) + ")";
}

std::string Progress::idle_text(const CoordinationStats& stats) {
  char line[256];
  std::snprintf(line, sizeof line,
                "aesweep sweep: ranks held no work %.1f%% of the time (%.1f of %.1f rank-seconds; waiting for rungs, "
                "and the last runs)\n",
                100.0 * stats.idle_fraction(),
                std::min(stats.idle_total(), stats.rank_seconds()), stats.rank_seconds());  // clamped as the fraction
  return line;
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
