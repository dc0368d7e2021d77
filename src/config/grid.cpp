#include "aesweep/config/grid.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <sstream>
#include <unordered_set>

#include "aesweep/config/option_registry.hpp"
#include "aesweep/core/error.hpp"
#include "mix64.hpp"

namespace aesweep {
namespace {

// "linspace(a, b, n)" -> {a, b, n} when text has that function form.
bool parse_range(const std::string& text, const std::string& function, std::vector<std::string>& args) {
  if (text.rfind(function + "(", 0) != 0) return false;
  if (text.back() != ')') throw ConfigError(shown_value(text) + " lacks its closing )");
  args = split_commas(text.substr(function.size() + 1, text.size() - function.size() - 2));
  if (args.size() != 3) throw ConfigError(function + " takes (start, stop, count), got " + shown_value(text));
  return true;
}

std::uint64_t fnv1a(std::uint64_t hash, const std::string& text) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace

bool is_multi_valued(const std::string& raw) {
  const std::string text = trim_whitespace(raw);
  return text.find(',') != std::string::npos || text.rfind("linspace(", 0) == 0 || text.rfind("logspace(", 0) == 0;
}

std::vector<std::string> expand_values(const std::string& raw) {
  const std::string text = trim_whitespace(raw);
  std::vector<std::string> args;
  const bool lin = parse_range(text, "linspace", args);
  const bool log = !lin && parse_range(text, "logspace", args);
  if (lin || log) {
    const double start = parse_number(args[0]), stop = parse_number(args[1]), count_value = parse_number(args[2]);
    if (count_value < 1 || count_value != std::floor(count_value) || count_value > 100000)
      throw ConfigError("the count of " + shown_value(text) + " must be an integer in [1, 100000]" +
                        (count_value == 0 ? std::string("; a count of 0 makes the grid empty") : std::string()));
    const auto count = long(count_value);
    std::vector<std::string> values;
    // numpy's formula: start + i * step, with the end point exact.
    const double step = count > 1 ? (stop - start) / double(count - 1) : 0.0;
    for (long i = 0; i < count; ++i) {
      const double x = (i == count - 1 && count > 1) ? stop : start + double(i) * step;
      values.push_back(format_number(log ? std::pow(10.0, x) : x));
    }
    return values;
  }
  if (text.empty()) throw ConfigError("empty value");
  auto values = split_commas(text);
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i].empty()) throw ConfigError("item " + std::to_string(i + 1) + " of the list " + shown_value(text) + " is empty");
  return values;
}

namespace {

using detail::mix64;

std::uint64_t text_hash(std::size_t key, const std::string& text) {
  return mix64(fnv1a(0xcbf29ce484222325ULL ^ mix64(key + 1), text));
}

std::string with_commas(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// Where a run that breaks a rule relating several options was set: the line of a swept key the
// error is about, else of a default it is about, else the section; the other keys' lines follow.
// `prefix` goes before the error's own text.
std::string locate_rule_error(const std::string& prefix, const ConfigError& error, const StudyConfig& config,
                              const SweepSection* sweep, const std::string& fallback) {
  const std::string message = prefix + error.what();
  const std::vector<std::string>& named = error.keys();  // in the order the message names them
  auto origin_of = [&](const std::string& key) -> std::string {
    if (sweep)
      for (const auto& axis : sweep->axes)
        if (axis.key == key) return axis.origin;
    const auto it = config.origins.find(key);
    return it == config.origins.end() ? std::string() : it->second;
  };
  std::string primary;
  if (sweep)
    for (const auto& key : named)
      for (const auto& axis : sweep->axes)
        if (primary.empty() && axis.key == key) primary = key;
  for (const auto& key : named)
    if (primary.empty() && !origin_of(key).empty()) primary = key;
  std::string located = (primary.empty() ? fallback : origin_of(primary)) + ": ";
  if (sweep) located += "in " + sweep->header() + ", ";
  located += message;
  std::string others;
  for (const auto& key : named) {
    const std::string origin = origin_of(key);
    if (key == primary || origin.empty()) continue;
    others += (others.empty() ? " (" : "; ") + key + " is set at " + origin;
  }
  return located + (others.empty() ? "" : others + ")");
}

}  // namespace

StudyPlan::StudyPlan(const StudyConfig& config, std::size_t max_runs) : defaults_(config.defaults) {
  for (const auto& spec : option_registry()) default_values_.push_back(spec.get(defaults_));
  expand_sections(config, max_runs);
  if (config.sweeps.empty()) {  // one run of the defaults
    try {
      defaults_.validate();
    } catch (const ConfigError& e) {
      throw ConfigError(locate_rule_error("", e, config, nullptr,
                                          config.path.empty() ? "defaults" : "config " + config.path));
    }
    sections_.push_back(Section{});
    size_ = 1;
    return;
  }
  index_runs(config);
}

// Each section's axis values, each checked by parsing it into the options, in canonical form
// without repeats (two spellings of one value are one run, the first kept); refuses a study of
// more than max_runs grid points before anything per run is allocated.
void StudyPlan::expand_sections(const StudyConfig& config, std::size_t max_runs) {
  const auto& registry = option_registry();
  auto key_index = [&](const std::string& key) {
    for (std::size_t k = 0; k < registry.size(); ++k)
      if (registry[k].key == key) return k;
    throw ConfigError("unknown option " + shown_value(key));
  };
  std::uint64_t total = 0;
  std::string biggest;
  std::uint64_t biggest_count = 0;
  for (const auto& sweep : config.sweeps) {
    Section section;
    section.name = sweep.name;
    section.origin = sweep.origin;
    std::uint64_t count = 1;
    std::string product;
    if (sweep.search) {
      section.search.emplace();
      section.search->method = sweep.search->method;
      section.search->seed = sweep.search->seed;
      section.search->points = sweep.search->runs;
      section.sampler.emplace(sweep.search->method, sweep.search->seed);
      count = sweep.search->runs;
      product = with_commas(count) + " points";
    }
    for (const auto& axis : sweep.axes) {
      if (sweep.search && is_distribution(axis.text)) {
        Sampled sampled;
        try {
          sampled.key = key_index(axis.key);
          sampled.dimension = search_dimension(axis.key);
          sampled.distribution = parse_distribution(axis.key, axis.text);
        } catch (const ConfigError& e) {
          throw e.at(axis.origin, axis.key);
        }
        section.search->distributions.emplace_back(axis.key, sampled.distribution.text);
        section.keys.push_back(sampled.key);
        section.sampled.push_back(std::move(sampled));
        continue;
      }
      Axis a;
      try {
        a.key = key_index(axis.key);
        const OptionSpec& spec = registry[a.key];
        if (is_distribution(axis.text))
          throw ConfigError(shown_value(axis.text) + " is a distribution: distributions belong in a [search.NAME] section");
        if (!spec.numeric && (axis.text.find("linspace") != std::string::npos ||
                              axis.text.find("logspace") != std::string::npos))
          throw ConfigError("linspace/logspace need a numeric option");
        std::unordered_set<std::string> seen;
        for (const auto& v : expand_values(axis.text)) {
          TrainOptions probe = config.defaults;
          set_option(probe, axis.key, v);
          std::string canonical = spec.get(probe);
          if (seen.insert(canonical).second) a.values.push_back(std::move(canonical));
        }
      } catch (const ConfigError& e) {
        throw e.at(axis.origin, axis.key);
      }
      count = a.values.size() > (std::uint64_t(1) << 62) / count ? (std::uint64_t(1) << 62) : count * a.values.size();
      product += (product.empty() ? "" : " x ") + axis.key + " (" + std::to_string(a.values.size()) + ")";
      section.keys.push_back(a.key);
      section.axes.push_back(std::move(a));
    }
    for (std::size_t i = section.axes.size(); i-- > 0;)
      section.axes[i].stride = i + 1 < section.axes.size() ? section.axes[i + 1].stride * section.axes[i + 1].values.size() : 1;
    section.grid = section.axes.empty() ? 1 : section.axes.front().stride * section.axes.front().values.size();
    section.count = std::size_t(std::min<std::uint64_t>(count, std::uint64_t(1) << 62));
    total = std::min<std::uint64_t>(total + count, std::uint64_t(1) << 62);
    if (count > biggest_count) {
      biggest_count = count;
      biggest = sweep.origin + " " + sweep.header() + ": " + with_commas(count) + " runs = " + product;
    }
    sections_.push_back(std::move(section));
  }
  if (total > max_runs)
    throw ConfigError("config " + config.path + ": the study has " +
                      (total >= (std::uint64_t(1) << 62) ? "more than " + with_commas(std::uint64_t(1) << 62)
                                                         : with_commas(total)) +
                      " runs; aesweep handles at most " + with_commas(max_runs) +
                      " runs per study (every rank holds each run's settings). The largest section is " + biggest +
                      ". Sweep fewer values, or split the study into several configs");
  total_points_ = std::size_t(total);
}

// Checks every run; runs an earlier section has are dropped and remembered as that section's
// members (hash of the canonical settings, confirmed setting by setting, so a hash collision
// never drops a run).
void StudyPlan::index_runs(const StudyConfig& config) {
  const auto& registry = option_registry();
  // A search can draw one point twice (choice and int keys) or a grid's run: merge those too.
  const bool merge = sections_.size() > 1 || sections_.front().search.has_value();
  std::vector<std::uint64_t> slots_hash;
  std::vector<std::uint32_t> slots_run;
  std::size_t mask = 0;
  if (merge) {
    std::size_t capacity = 16;
    while (capacity < 2 * total_points_) capacity *= 2;
    slots_hash.assign(capacity, 0);
    slots_run.assign(capacity, 0);
    mask = capacity - 1;
    table_.reserve(total_points_);
  }
  std::vector<std::uint64_t> default_hash(registry.size());
  for (std::size_t k = 0; k < registry.size(); ++k) default_hash[k] = text_hash(k, default_values_[k]);
  for (std::size_t s = 0; s < sections_.size(); ++s) {
    const Section& section = sections_[s];
    const SweepSection& sweep = config.sweeps[s];
    // Per registry key: the axis that sets it, or none.
    std::vector<int> axis_of(registry.size(), -1);
    for (std::size_t a = 0; a < section.axes.size(); ++a) axis_of[section.axes[a].key] = int(a);
    std::vector<std::vector<std::uint64_t>> value_hash;
    for (const auto& axis : section.axes) {
      value_hash.emplace_back();
      for (const auto& v : axis.values) value_hash.back().push_back(text_hash(axis.key, v));
    }
    // Per registry key: the distribution that draws it, or none; the values of the current point.
    std::vector<int> sampled_of(registry.size(), -1);
    for (std::size_t j = 0; j < section.sampled.size(); ++j) sampled_of[section.sampled[j].key] = int(j);
    std::vector<std::string> sampled_text(section.sampled.size());
    std::vector<std::uint64_t> sampled_hash(section.sampled.size());
    std::vector<std::size_t> digit(section.axes.size(), 0);
    for (std::uint64_t position = 0; position < section.count; ++position) {
      if (!section.sampled.empty() && position % section.grid == 0)
        for (std::size_t j = 0; j < section.sampled.size(); ++j) {
          sampled_text[j] = drawn(section, position / section.grid, j);
          sampled_hash[j] = text_hash(section.sampled[j].key, sampled_text[j]);
        }
      try {
        build(s, position).validate();
      } catch (const ConfigError& e) {
        std::string values;
        for (std::size_t a = 0; a < section.axes.size(); ++a)
          values += (a ? ", " : "") + registry[section.axes[a].key].key + "=" + section.axes[a].values[digit[a]];
        for (std::size_t j = 0; j < section.sampled.size(); ++j)
          values += (values.empty() ? "" : ", ") + registry[section.sampled[j].key].key + "=" + sampled_text[j];
        const std::string which =
            section.search ? "point " + std::to_string(position / section.grid) + ", the run with " : "the run with ";
        throw ConfigError(locate_rule_error(which + values + ": ", e, config, &sweep, sweep.origin));
      }
      if (!merge) {
        ++size_;
      } else {
        std::uint64_t h = 0x9e3779b97f4a7c15ULL;
        for (std::size_t k = 0; k < registry.size(); ++k)
          h = mix64(h ^ (axis_of[k] >= 0    ? value_hash[std::size_t(axis_of[k])][digit[std::size_t(axis_of[k])]]
                         : sampled_of[k] >= 0 ? sampled_hash[std::size_t(sampled_of[k])]
                                              : default_hash[k]));
        if (h == 0) h = 1;
        std::size_t slot = std::size_t(h) & mask;
        std::optional<std::uint32_t> earlier;
        for (; slots_hash[slot] != 0 && !earlier; slot = (slot + 1) & mask) {
          if (slots_hash[slot] != h) continue;
          const auto [other_section, other_position] = locate(slots_run[slot]);
          bool same = true;
          for (std::size_t k = 0; k < registry.size() && same; ++k)
            same = canonical(s, position, k) == canonical(other_section, other_position, k);
          if (same) earlier = slots_run[slot];
        }
        if (earlier) {
          shared_.push_back({std::uint32_t(s), position, *earlier});
        } else {
          slots_hash[slot] = h;
          slots_run[slot] = std::uint32_t(table_.size());
          table_.push_back((std::uint64_t(s) << 40) | position);
        }
      }
      // Odometer: the last axis varies fastest.
      for (std::size_t a = section.axes.size(); a-- > 0;) {
        if (++digit[a] < section.axes[a].values.size()) break;
        digit[a] = 0;
      }
    }
  }
  if (merge) size_ = table_.size();
  for (const auto& shared : shared_) shared_by_run_.emplace_back(shared.run, shared.section);
  std::sort(shared_by_run_.begin(), shared_by_run_.end());
}

std::vector<std::string> StudyPlan::swept_keys(std::size_t section) const {
  std::vector<std::string> keys;
  for (const auto key : sections_[section].keys) keys.push_back(option_registry()[key].key);
  return keys;
}

std::string StudyPlan::section_header(std::size_t section) const {
  return (sections_[section].search ? "[search." : "[sweep.") + sections_[section].name + "]";
}

std::string StudyPlan::run_label(std::size_t index) const {
  const std::string& name = section_of(index);
  if (name.empty()) return "run " + std::to_string(index);
  for (std::size_t s = 0; s < section_count(); ++s)
    if (section_name(s) == name) return "run " + std::to_string(index) + " of " + section_header(s);
  return "run " + std::to_string(index) + " of [sweep." + name + "]";
}

void check_schedule_metric(const StudyConfig& config, const StudyPlan& plan,
                           const std::function<double(std::size_t)>& split_of) {
  const ScheduleSettings& s = config.schedule;
  if (!s.active() || s.metric != ScheduleMetric::validation_loss) return;
  for (std::size_t i = 0; i < plan.size(); ++i)
    if (!(split_of(i) > 0)) {
      const auto it = s.origins.find("metric");
      throw ConfigError((it != s.origins.end() ? it->second : s.origin) +
                        ": schedule.metric: metric = validation_loss needs a validation split, and " +
                        plan.run_label(i) +
                        " has train.validation_split = 0; use metric = test_loss, or train.validation_split > 0 in "
                        "every run");
    }
}

std::string SearchSpace::text() const {
  std::string text = "method = " + std::string(to_string(method)) + "\nruns = " + std::to_string(points) +
                     "\nseed = " + std::to_string(seed) + "\n";
  for (const auto& [key, distribution] : distributions) text += key + " = " + distribution + "\n";
  return text;
}

std::vector<std::size_t> StudyPlan::section_runs(std::size_t section) const {
  std::vector<std::size_t> runs;
  if (table_.empty()) {  // one section, nothing dropped
    if (section == 0 && !sections_[0].name.empty())
      for (std::size_t i = 0; i < size_; ++i) runs.push_back(i);
    return runs;
  }
  std::vector<std::pair<std::uint64_t, std::size_t>> members;  // (grid position, run)
  for (std::size_t i = 0; i < table_.size(); ++i)
    if (locate(i).first == section) members.emplace_back(locate(i).second, i);
  for (const auto& shared : shared_)
    if (shared.section == section) members.emplace_back(shared.position, shared.run);
  std::sort(members.begin(), members.end());
  // A search can draw one run at several points: listed once, where first drawn.
  std::unordered_set<std::size_t> listed;
  for (const auto& member : members)
    if (listed.insert(member.second).second) runs.push_back(member.second);
  return runs;
}

std::vector<std::string> StudyPlan::sections_of(std::size_t index) const {
  std::vector<std::string> names;
  if (!sections_[locate(index).first].name.empty()) names.push_back(sections_[locate(index).first].name);
  // The sections that list it again, in section order (sorted by run, then section).
  auto it = std::lower_bound(shared_by_run_.begin(), shared_by_run_.end(), std::make_pair(std::uint32_t(index), 0u));
  for (; it != shared_by_run_.end() && it->first == index; ++it)
    if (names.empty() || names.back() != sections_[it->second].name) names.push_back(sections_[it->second].name);
  return names;
}

std::pair<std::size_t, std::uint64_t> StudyPlan::locate(std::size_t index) const {
  if (table_.empty()) return {0, index};
  const std::uint64_t packed = table_[index];
  return {std::size_t(packed >> 40), packed & ((std::uint64_t(1) << 40) - 1)};
}

// An axis's value at `position` is (position / stride) % values: in a search, grid is a multiple
// of every stride times its axis's size, so the point (position / grid) drops out.
std::string StudyPlan::canonical(std::size_t section, std::uint64_t position, std::size_t key) const {
  const Section& s = sections_[section];
  for (const auto& axis : s.axes)
    if (axis.key == key) return axis.values[(position / axis.stride) % axis.values.size()];
  for (std::size_t j = 0; j < s.sampled.size(); ++j)
    if (s.sampled[j].key == key) return drawn(s, position / s.grid, j);
  return default_values_[key];
}

std::string StudyPlan::drawn(const Section& section, std::uint64_t point, std::size_t j) const {
  const Sampled& sampled = section.sampled[j];
  const OptionSpec& spec = option_registry()[sampled.key];
  TrainOptions probe = defaults_;
  spec.set(probe, sampled.distribution.value_at(section.sampler->coordinate(point, sampled.dimension)));
  return spec.get(probe);
}

TrainOptions StudyPlan::build(std::size_t section, std::uint64_t position) const {
  TrainOptions options = defaults_;
  const auto& registry = option_registry();
  const Section& s = sections_[section];
  for (const auto& axis : s.axes)
    registry[axis.key].set(options, axis.values[(position / axis.stride) % axis.values.size()]);
  for (const auto& sampled : s.sampled)
    registry[sampled.key].set(options,
                              sampled.distribution.value_at(s.sampler->coordinate(position / s.grid, sampled.dimension)));
  return options;
}

TrainOptions StudyPlan::options(std::size_t index) const {
  const auto [section, position] = locate(index);
  return build(section, position);
}

const std::string& StudyPlan::section_of(std::size_t index) const { return sections_[locate(index).first].name; }

RunSpec StudyPlan::run(std::size_t index) const {
  const auto [section, position] = locate(index);
  RunSpec spec;
  spec.index = index;
  spec.section = sections_[section].name;
  spec.sections = sections_of(index);
  spec.options = build(section, position);
  spec.settings = describe(spec.options);
  return spec;
}

std::vector<RunSpec> all_runs(const StudyPlan& plan) {
  std::vector<RunSpec> runs;
  runs.reserve(plan.size());
  for (std::size_t i = 0; i < plan.size(); ++i) runs.push_back(plan.run(i));
  return runs;
}

std::vector<RunSpec> expand_study(const StudyConfig& config) { return all_runs(StudyPlan(config)); }

namespace {

std::uint64_t hash_header(const StudyConfig& config) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  hash = fnv1a(hash, "train_samples=" + std::to_string(config.data.train_samples) + "\n");
  hash = fnv1a(hash, "test_samples=" + std::to_string(config.data.test_samples) + "\n");
  // A schedule decides which runs train to the end: part of the study. Without one (or with
  // kind = none) the hash is what it was before schedules existed.
  if (config.schedule.active()) hash = fnv1a(hash, "schedule\n" + config.schedule.text());
  return hash;
}

// Options added after archive format 2, with the value every earlier run had: at that value
// they stay out of the hash, so studies that do not use them keep the hash their archives carry.
bool hashed(const Setting& s) { return !(s.key == "train.precision" && s.value == "fp32"); }

std::uint64_t hash_run(std::uint64_t hash, const RunSpec& run) {
  hash = fnv1a(hash, "run " + run.section + "\n");
  for (const auto& s : run.settings)
    if (hashed(s)) hash = fnv1a(hash, s.key + "=" + s.value + "\n");
  return hash;
}

std::string hash_text(std::uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

}  // namespace

std::string study_hash(const StudyConfig& config, const std::vector<RunSpec>& runs) {
  std::uint64_t hash = hash_header(config);
  for (const auto& run : runs) hash = hash_run(hash, run);
  return hash_text(hash);
}

std::string study_hash(const StudyConfig& config, const StudyPlan& plan) {
  std::uint64_t hash = hash_header(config);
  for (std::size_t i = 0; i < plan.size(); ++i) hash = hash_run(hash, plan.run(i));
  return hash_text(hash);
}

}  // namespace aesweep
