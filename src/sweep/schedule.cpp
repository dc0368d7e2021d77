#include "aesweep/sweep/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>

namespace aesweep::sweep {

namespace {

// Runs of each bracket in one round: bracket b = s_max - s starts at rung b and gets
// n_s = ceil((s_max + 1) / (s + 1) * eta^s).
std::vector<std::size_t> hyperband_shares(int rung_count, int eta) {
  const int s_max = rung_count - 1;
  std::vector<std::size_t> share(static_cast<std::size_t>(rung_count));
  for (int b = 0; b < rung_count; ++b) {
    const int s = s_max - b;
    share[std::size_t(b)] = std::size_t(std::ceil(double(s_max + 1) / double(s + 1) * std::pow(double(eta), s) - 1e-9));
  }
  return share;
}

}  // namespace

std::size_t hyperband_round(int rung_count, int eta) {
  if (rung_count <= 1) return 1;
  const auto share = hyperband_shares(rung_count, eta);
  return std::accumulate(share.begin(), share.end(), std::size_t(0));
}

int hyperband_bracket(std::size_t index, int rung_count, int eta) {
  if (rung_count <= 1) return 0;
  const std::vector<std::size_t> share = hyperband_shares(rung_count, eta);
  std::size_t at = index % hyperband_round(rung_count, eta);
  for (int b = 0; b < rung_count; ++b) {
    if (at < share[std::size_t(b)]) return b;
    at -= share[std::size_t(b)];
  }
  return rung_count - 1;
}

RungSchedule::RungSchedule(const ScheduleSettings& settings, const std::vector<RunSpec>& runs)
    : settings_(settings), rungs_(settings.rungs()) {
  if (!settings.active() || rungs_.empty()) throw std::invalid_argument("RungSchedule: no active schedule");
  brackets_ = settings.kind == ScheduleKind::hyperband ? int(rungs_.size()) : 1;
  bracket_.resize(runs.size());
  pool_of_.resize(runs.size());
  std::map<std::pair<std::string, int>, std::size_t> pool_number;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].options.training.epochs != settings.max_epochs)
      throw std::invalid_argument("RungSchedule: run " + std::to_string(i) + " trains " +
                                  std::to_string(runs[i].options.training.epochs) + " epochs, the schedule " +
                                  std::to_string(settings.max_epochs));
    bracket_[i] = brackets_ > 1 ? hyperband_bracket(i, int(rungs_.size()), settings.eta) : 0;
    const auto key = std::make_pair(runs[i].section, bracket_[i]);
    auto it = pool_number.find(key);
    if (it == pool_number.end()) {
      it = pool_number.emplace(key, pools_.size()).first;
      pools_.emplace_back();
    }
    pool_of_[i] = it->second;
    pools_[it->second].push_back(i);
  }
}

int RungSchedule::segment_start_epoch(std::size_t segment) const {
  const int rung = segment_rung(segment);
  return rung == first_rung(segment_run(segment)) ? 0 : rungs_[std::size_t(rung - 1)];
}

std::string RungSchedule::description() const {
  std::string text = settings_.text() + "rungs =";
  for (int r : rungs_) text += " " + std::to_string(r);
  text += "\nbrackets = " + std::to_string(brackets_) + "\npools = " + std::to_string(pools_.size()) + "\n";
  return text;
}

// ---------------------------------------------------------------------------------- Promotions

Promotions::Promotions(const RungSchedule& schedule, std::vector<ScheduledRunState> runs)
    : schedule_(schedule), runs_(std::move(runs)) {
  if (runs_.size() != schedule.run_count()) throw std::invalid_argument("Promotions: one state per run");
  const std::size_t rungs = schedule.rungs().size();
  alive_.assign(schedule.pool_count(), std::vector<std::vector<std::size_t>>(rungs));
  next_decision_.assign(schedule.pool_count(), 0);
  in_flight_.assign(runs_.size(), 0);
  for (auto& r : runs_) r.metric.resize(rungs, std::nan(""));
  for (std::size_t p = 0; p < schedule.pool_count(); ++p) {
    const auto& members = schedule.pool_runs(p);
    const int first = schedule.first_rung(members.front());
    next_decision_[p] = first;
    alive_[p][std::size_t(first)] = members;
  }
}

std::size_t Promotions::open_runs() const {
  return std::size_t(std::count_if(runs_.begin(), runs_.end(), [](const auto& r) { return r.status == RunStatus::pending; }));
}

Promotions::Decisions Promotions::start() {
  Decisions out;
  for (std::size_t p = 0; p < schedule_.pool_count(); ++p) {
    // Runs with nothing saved yet start their first segment.
    for (std::size_t run : alive_[p][std::size_t(next_decision_[p])])
      if (runs_[run].status == RunStatus::pending && runs_[run].rung < 0) {
        in_flight_[run] = 1;
        out.segments.push_back(schedule_.segment(run, schedule_.first_rung(run)));
      }
    decide(p, out);
  }
  std::sort(out.segments.begin(), out.segments.end());
  std::sort(out.stopped.begin(), out.stopped.end());
  return out;
}

Promotions::Decisions Promotions::candidate(std::size_t run, int rung, double metric) {
  auto& r = runs_.at(run);
  if (r.status != RunStatus::pending || rung <= r.rung || rung >= schedule_.last_rung() || !in_flight_[run])
    throw std::logic_error("Promotions: run " + std::to_string(run) + " cannot be a candidate at rung " +
                           std::to_string(rung));
  in_flight_[run] = 0;
  r.rung = rung;
  r.metric[std::size_t(rung)] = metric;
  Decisions out;
  decide(schedule_.pool(run), out);
  return out;
}

Promotions::Decisions Promotions::ended(std::size_t run, RunStatus status) {
  auto& r = runs_.at(run);
  if (r.status != RunStatus::pending || status == RunStatus::pending || !in_flight_[run])
    throw std::logic_error("Promotions: run " + std::to_string(run) + " cannot end as " + std::string(to_string(status)));
  in_flight_[run] = 0;
  r.status = status;
  Decisions out;
  decide(schedule_.pool(run), out);
  return out;
}

void Promotions::decide(std::size_t pool, Decisions& out) {
  const int last = schedule_.last_rung();
  const int eta = schedule_.settings().eta;
  while (next_decision_[pool] < last) {
    const int k = next_decision_[pool];
    const auto& into = alive_[pool][std::size_t(k)];
    // Candidates at k: the runs that reached it (on a resume, also those that went past it). The
    // others that went into k must have ended; otherwise the rung is not complete yet.
    std::vector<std::size_t> candidates;
    for (std::size_t run : into) {
      const auto& r = runs_[run];
      if (r.rung >= k) candidates.push_back(run);
      else if (r.status == RunStatus::pending) return;  // still training towards k
    }
    std::stable_sort(candidates.begin(), candidates.end(), [&](std::size_t a, std::size_t b) {
      const double x = runs_[a].metric[std::size_t(k)], y = runs_[b].metric[std::size_t(k)];
      if (std::isnan(x) != std::isnan(y)) return std::isnan(y);  // NaN last
      if (!std::isnan(x) && x != y) return x < y;
      return a < b;
    });
    const std::size_t keep = candidates.empty() ? 0 : std::max<std::size_t>(1, candidates.size() / std::size_t(eta));
    auto& next = alive_[pool][std::size_t(k + 1)];
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      const std::size_t run = candidates[i];
      auto& r = runs_[run];
      if (i < keep) {
        next.push_back(run);
        // Promoted: train on unless it is already past k (a resume) or done.
        if (r.status == RunStatus::pending && r.rung == k) {
          in_flight_[run] = 1;
          out.segments.push_back(schedule_.segment(run, k + 1));
        }
      } else if (r.status == RunStatus::pending) {
        if (r.rung != k)
          throw std::logic_error("Promotions: run " + std::to_string(run) + " went past rung " + std::to_string(k) +
                                 " but the rung's decision stops it (an archive of another schedule?)");
        r.status = RunStatus::stopped;
        out.stopped.push_back(run);
      }
    }
    std::sort(next.begin(), next.end());
    ++next_decision_[pool];
  }
}

}  // namespace aesweep::sweep
