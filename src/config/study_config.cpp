#include "aesweep/config/study_config.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "aesweep/config/grid.hpp"
#include "aesweep/config/option_registry.hpp"
#include "aesweep/core/error.hpp"

namespace aesweep {
namespace {

// One "key = value" line of the file, with the section header it sits under.
struct Entry {
  int line = 0;
  std::string section;  // "" before any header, "model", "data", "sweep.NAME"
  std::string key;      // as written, trimmed
  std::string value;    // trimmed, comment removed
};

struct Header {
  std::string name;  // trimmed text between the brackets
  int line = 0;
};

struct ParsedFile {
  std::vector<Entry> entries;   // file order
  std::vector<Header> headers;  // file order
};

const char* const kSections =
    "model, encoder, decoder, reg, noise, optimizer, train, data, schedule, sweep.NAME and search.NAME";

// ---------------------------------------------------------------------------------- [schedule]
const char* const kScheduleKeys = "kind, metric, min_epochs, max_epochs and eta";
// min_epochs and max_epochs become train.epochs, so they take its range; eta its own.
int schedule_epochs(const std::string& text) { return int(parse_in_range(text, *find_range("train.epochs"))); }
constexpr OptionRange kEtaRange{"schedule.eta", 2, 1000, false, false, true};

// One key of [schedule] (or --set schedule.KEY=VALUE); throws ConfigError naming origin and key.
void set_schedule(ScheduleSettings& schedule, const std::string& key, const std::string& text, const std::string& origin) {
  try {
    if (key == "kind") {
      if (text == "none") schedule.kind = ScheduleKind::none;
      else if (text == "successive_halving") schedule.kind = ScheduleKind::successive_halving;
      else if (text == "hyperband") schedule.kind = ScheduleKind::hyperband;
      else throw ConfigError("expected none, successive_halving or hyperband, got " + shown_value(text));
    } else if (key == "metric") {
      if (text == "validation_loss") schedule.metric = ScheduleMetric::validation_loss;
      else if (text == "test_loss") schedule.metric = ScheduleMetric::test_loss;
      else throw ConfigError("expected validation_loss or test_loss, got " + shown_value(text));
    } else if (key == "min_epochs") {
      schedule.min_epochs = schedule_epochs(text);
    } else if (key == "max_epochs") {
      schedule.max_epochs = schedule_epochs(text);
    } else if (key == "eta") {
      schedule.eta = int(parse_in_range(text, kEtaRange));
    } else {
      throw ConfigError("unknown key " + shown_value(key) + " in [schedule]; it takes " + kScheduleKeys);
    }
  } catch (const ConfigError& e) {
    throw ConfigError(origin + ": schedule." + key + ": " + e.reason());
  }
  schedule.origins[key] = origin;
}

// The whole [schedule] once the file and the --set arguments are read: required keys, the rules
// between them and the training options. Sets train.epochs to max_epochs where the study leaves it.
void check_schedule(StudyConfig& config) {
  ScheduleSettings& s = config.schedule;
  if (s.origin.empty() && s.origins.empty()) return;
  const std::string where = s.origin.empty() ? s.origins.begin()->second : s.origin;
  auto origin_of = [&](const std::string& key) {
    const auto it = s.origins.find(key);
    return it != s.origins.end() ? it->second : where;
  };
  if (!s.origins.count("kind"))
    throw ConfigError(where + ": schedule.kind: [schedule] lacks its kind: add 'kind = successive_halving', "
                      "'kind = hyperband' or 'kind = none'");
  if (!s.active()) return;  // kind = none: today's behaviour, whatever else the section says
  if (!s.origins.count("min_epochs"))
    throw ConfigError(where + ": schedule.min_epochs: [schedule] lacks min_epochs, the epochs of its first rung");
  // max_epochs is train.epochs: given in one place, or in both with the same value.
  const auto epochs_origin = config.origins.find("train.epochs");
  for (const auto& section : config.sweeps)
    for (const auto& axis : section.axes)
      if (axis.key == "train.epochs")
        throw ConfigError(axis.origin + ": train.epochs: a schedule trains every run to [schedule] max_epochs; "
                          "train.epochs cannot vary in " + section.header());
  if (!s.origins.count("max_epochs")) {
    if (epochs_origin == config.origins.end())
      throw ConfigError(where + ": schedule.max_epochs: [schedule] lacks max_epochs, the epochs of its last rung");
    s.max_epochs = config.defaults.training.epochs;
  } else if (epochs_origin != config.origins.end() && config.defaults.training.epochs != s.max_epochs) {
    throw ConfigError(origin_of("max_epochs") + ": schedule.max_epochs: max_epochs = " + std::to_string(s.max_epochs) +
                      " but train.epochs = " + std::to_string(config.defaults.training.epochs) + " (" +
                      epochs_origin->second + "); the last rung is every run's end: give one of them, or both equal");
  } else {
    config.defaults.training.epochs = s.max_epochs;
  }
  if (s.min_epochs > s.max_epochs)
    throw ConfigError(origin_of("min_epochs") + ": schedule.min_epochs: min_epochs = " + std::to_string(s.min_epochs) +
                      " is more than max_epochs = " + std::to_string(s.max_epochs));
  if (s.metric == ScheduleMetric::validation_loss) {
    bool swept = false;
    for (const auto& section : config.sweeps)
      for (const auto& axis : section.axes) swept = swept || axis.key == "train.validation_split";
    // A swept split is checked per run when the study is loaded.
    if (!swept && !(config.defaults.training.validation_split > 0))
      throw ConfigError(origin_of("metric") + ": schedule.metric: metric = validation_loss needs a validation split: "
                        "set train.validation_split > 0 (e.g. 0.1), or use metric = test_loss");
  }
}

bool is_grid_section(const std::string& section) { return section.rfind("sweep.", 0) == 0; }
bool is_search_section(const std::string& section) { return section.rfind("search.", 0) == 0; }
// A section whose keys vary: [sweep.NAME] or [search.NAME].
bool is_sweep_section(const std::string& section) { return is_grid_section(section) || is_search_section(section); }
// NAME of [sweep.NAME] or [search.NAME].
std::string section_name(const std::string& section) { return section.substr(section.find('.') + 1); }

// The keys of a [search.NAME] section that are not option keys.
bool is_search_setting(const std::string& key) { return key == "method" || key == "runs" || key == "seed"; }

bool is_option_section(const std::string& section) {
  for (const auto& spec : option_registry())
    if (spec.key.compare(0, section.size() + 1, section + ".") == 0) return true;
  return section == "data";
}

// The file's lines, checked for syntax. Only a [header] line opens a section: a dotted key stays a
// key of the section it is written in.
ParsedFile parse_lines(const std::string& text, const std::string& path) {
  ParsedFile file;
  std::istringstream in(text);
  std::string raw, section;
  std::map<std::string, int> section_line;
  std::map<std::pair<std::string, std::string>, int> key_line;  // (section, key) -> line
  std::map<std::string, int> default_line;                      // "model.hidden" -> line (any section)
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    // A UTF-8 byte-order mark (Windows editors write one) is not part of the first line.
    if (line == 1 && raw.rfind("\xEF\xBB\xBF", 0) == 0) raw.erase(0, 3);
    std::string s = trim_whitespace(raw);
    if (const auto hash = s.find('#'); hash != std::string::npos) s = trim_whitespace(s.substr(0, hash));
    if (s.empty() || s[0] == ';') continue;
    const std::string where = "config " + path + " line " + std::to_string(line);
    if (s.front() == '[') {
      if (s.back() != ']') throw ConfigError(where + ": section header " + shown_value(s) + " lacks its closing ]");
      section = trim_whitespace(s.substr(1, s.size() - 2));
      if (section.empty()) throw ConfigError(where + ": empty section name []");
      if (section == "sweep" || (is_sweep_section(section) && trim_whitespace(section.substr(6)).empty()))
        throw ConfigError(where + ": [" + section + "] needs a name: sweep sections are named [sweep.NAME], "
                          "e.g. [sweep.dropout]");
      if (section == "search" || (is_search_section(section) && trim_whitespace(section.substr(7)).empty()))
        throw ConfigError(where + ": [" + section + "] needs a name: search sections are named [search.NAME], "
                          "e.g. [search.penalties]");
      if (is_grid_section(section)) section = "sweep." + trim_whitespace(section.substr(6));
      if (is_search_section(section)) section = "search." + trim_whitespace(section.substr(7));
      if (const auto it = section_line.find(section); it != section_line.end())
        throw ConfigError(where + ": section [" + section + "] appears twice (first on line " +
                          std::to_string(it->second) + ")");
      if (is_sweep_section(section)) {
        // Runs name their section by NAME alone: [sweep.a] and [search.a] would be one name.
        const std::string other = (is_grid_section(section) ? "search." : "sweep.") + section_name(section);
        if (const auto it = section_line.find(other); it != section_line.end())
          throw ConfigError(where + ": section [" + section + "] has the name of [" + other + "] on line " +
                            std::to_string(it->second) + "; sweep and search sections need distinct names");
      }
      section_line[section] = line;
      file.headers.push_back({section, line});
      continue;
    }
    const auto eq = s.find('=');
    if (eq == std::string::npos)
      throw ConfigError(where + ": expected 'key = value' or '[section]', got " + shown_value(s));
    const std::string key = trim_whitespace(s.substr(0, eq));
    const std::string value = trim_whitespace(s.substr(eq + 1));
    if (key.empty()) throw ConfigError(where + ": missing key before '='");
    if (value.empty()) throw ConfigError(where + ": key " + shown_value(key) + " has no value");
    if (const auto it = key_line.find({section, key}); it != key_line.end())
      throw ConfigError(where + ": key " + shown_value(key) + " given twice in this section (first on line " +
                        std::to_string(it->second) + ")");
    key_line[{section, key}] = line;
    if (!is_sweep_section(section)) {
      // [model] hidden and a top-level model.hidden set the same default.
      const std::string full = section.empty() ? key : section + "." + key;
      if (const auto it = default_line.find(full); it != default_line.end())
        throw ConfigError(where + ": " + shown_value(full) + " is set twice (first on line " +
                          std::to_string(it->second) + ")");
      default_line[full] = line;
    }
    file.entries.push_back({line, section, key, value});
  }
  return file;
}

// Long text cut for a message: "abc... (1048576 bytes)".
std::string cut_text(const std::string& text) {
  if (text.size() <= 80) return text;
  return text.substr(0, 80) + "... (" + std::to_string(text.size()) + " bytes)";
}

std::string unknown_key_message(const std::string& key) {
  return "unknown option " + shown_value(key) + " (aesweep train --help lists every option)";
}

void set_data(DataSettings& data, const std::string& key, const std::string& text) {
  if (key == "data.dir") {
    data.dir = trim_whitespace(text);
    if (data.dir.empty())
      throw ConfigError("empty directory name; give the directory holding the four MNIST IDX files");
  } else if (key == "data.train_samples") {
    data.train_samples = parse_sample_count(text);
  } else if (key == "data.test_samples") {
    data.test_samples = parse_sample_count(text);
  } else {
    throw ConfigError("unknown option " + shown_value(key) + " ([data] takes dir, train_samples, test_samples)");
  }
}

// Applies one single-valued setting to the defaults or the data settings.
void apply_default(StudyConfig& config, const std::string& key, const std::string& text, const std::string& origin) {
  try {
    if (is_distribution(text) && !is_data_key(key))
      throw ConfigError("a distribution belongs in a [search.NAME] section; defaults take one value, got " +
                        shown_value(text));
    if (is_multi_valued(text) && !(key == "data.dir"))
      throw ConfigError("a list or range belongs in a [sweep.NAME] section (or a --set on a sweep); defaults take "
                        "one value, got " + shown_value(text));
    if (is_data_key(key)) set_data(config.data, key, text);
    else set_option(config.defaults, key, text);
  } catch (const ConfigError& e) {
    throw e.at(origin, key);
  }
  config.origins[key] = origin;
  if (key == "data.dir") config.data.dir_origin = origin;
}

}  // namespace

bool is_data_key(const std::string& key) { return key.rfind("data.", 0) == 0; }

std::string_view to_string(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::none: return "none";
    case ScheduleKind::successive_halving: return "successive_halving";
    case ScheduleKind::hyperband: return "hyperband";
  }
  return "?";
}

std::string_view to_string(ScheduleMetric metric) {
  return metric == ScheduleMetric::validation_loss ? "validation_loss" : "test_loss";
}

std::vector<int> ScheduleSettings::rungs() const {
  std::vector<int> r;
  if (min_epochs < 1 || max_epochs < min_epochs || eta < 2) return r;
  for (long long e = min_epochs; e < max_epochs; e *= eta) r.push_back(int(e));
  r.push_back(max_epochs);
  return r;
}

std::string ScheduleSettings::summary() const {
  if (!active()) return "none: every run trains to its end";
  std::string epochs;
  for (int r : rungs()) epochs += (epochs.empty() ? "" : ", ") + std::to_string(r);
  return std::string(to_string(kind)) + " on " + std::string(to_string(metric)) + ", eta " + std::to_string(eta) +
         ", rungs at epochs " + epochs;
}

std::string ScheduleSettings::text() const {
  if (!active()) return "kind = none\n";
  return "kind = " + std::string(to_string(kind)) + "\nmetric = " + std::string(to_string(metric)) +
         "\nmin_epochs = " + std::to_string(min_epochs) + "\nmax_epochs = " + std::to_string(max_epochs) +
         "\neta = " + std::to_string(eta) + "\n";
}

std::size_t parse_sample_count(std::string_view text) {
  double value = 0;
  try {
    value = parse_number(text);
  } catch (const ConfigError&) {
    throw ConfigError(std::string("expected ") + kSampleCountRange + ", got " + shown_value(trim_whitespace(text)));
  }
  if (value < 0 || value > double(kMaxSampleCount) || value != std::floor(value))
    throw ConfigError(std::string("expected ") + kSampleCountRange + ", got " + shown_value(trim_whitespace(text)));
  return std::size_t(value);
}

namespace {

// A search section's own settings: method, runs, seed.
void read_search_setting(const Entry& e, const std::string& origin, SearchSettings& search) {
  try {
    if (e.key == "method") {
      search.method = parse_search_method(e.value);
      search.method_origin = origin;
    } else if (e.key == "runs") {
      search.runs = parse_search_runs(e.value, kMaxStudyRuns);
      search.runs_origin = origin;
    } else {
      search.seed = parse_search_seed(e.value);
      search.seed_origin = origin;
    }
  } catch (const ConfigError& error) {
    throw ConfigError(origin + ": " + e.key + " in [" + e.section + "]: " + error.reason());
  }
}

// An option key of a [sweep.NAME] or [search.NAME] section: one axis of it.
void read_section_entry(const Entry& e, const std::string& origin, SweepSection& section) {
  // A sweep section's keys are option keys as they are: "encoder.reg.l1_activity" is a typo,
  // never a section of its own.
  const bool search = is_search_section(e.section);
  if (is_data_key(e.key))
    throw ConfigError(origin + ": data options cannot be " + (search ? "searched" : "swept") + ": " +
                      shown_value(e.key) + " in [" + e.section + "]; set it once in [data]");
  if (!find_option(e.key))
    throw ConfigError(origin + ": unknown key " + shown_value(e.key) + " in [" + e.section + "]: " +
                      (search ? "a search section takes method, runs, seed and option keys such as "
                                "reg.l1_activity (aesweep train --help lists them); another search section needs "
                                "its own [search.NAME] header"
                              : "a sweep section takes option keys such as reg.l1_activity (aesweep train --help "
                                "lists them); another sweep section needs its own [sweep.NAME] header"));
  if (!search && is_distribution(e.value))
    throw ConfigError(origin + ": " + e.key + ": " + shown_value(e.value) + " in [" + e.section +
                      "]: distributions belong in a [search.NAME] section; a sweep section takes values, "
                      "lists, linspace or logspace");
  section.axes.push_back({e.key, e.value, origin});
}

// A key outside the sweep and search sections: a default of every run (or a misplaced key).
void read_default_entry(const Entry& e, const std::string& origin, StudyConfig& config) {
  if (e.section.empty() && e.key.rfind("sweep.", 0) == 0)
    throw ConfigError(origin + ": " + shown_value(e.key) +
                      ": sweep keys belong under a [sweep.NAME] header, e.g. [sweep.a] then reg.l1_activity = 0, 1e-4");
  if (e.section.empty() && e.key.rfind("search.", 0) == 0)
    throw ConfigError(origin + ": " + shown_value(e.key) +
                      ": search keys belong under a [search.NAME] header, e.g. [search.a] then method = sobol, "
                      "runs = 64, reg.l1_activity = loguniform(1e-7, 1e-3)");
  const std::string full = e.section.empty() ? e.key : e.section + "." + e.key;
  if (!is_data_key(full) && !find_option(full)) {
    std::string message = origin + ": unknown option " + shown_value(full);
    if (!e.section.empty() && !is_option_section(e.section))
      message += " (unknown key " + shown_value(e.key) + ": [" + e.section +
                 "] is not a section aesweep reads; sections are " + kSections + ")";
    else if (!e.section.empty())
      message += " (unknown key " + shown_value(e.key) + " in [" + e.section +
                 "]; aesweep train --help lists every option)";
    else
      message += " (unknown key; aesweep train --help lists every option)";
    throw ConfigError(message);
}
apply_default(config, full, e.value, origin);
}

void check_sections(const StudyConfig& config) {
  // A [sweep.NAME] header with no keys is an empty grid; a [search.NAME] section needs its method,
  // its number of runs and something to draw.
  for (const auto& sweep : config.sweeps) {
    if (!sweep.search) {
      if (sweep.axes.empty())
        throw ConfigError(sweep.origin + ": section [sweep." + sweep.name + "] has no keys, so its grid is empty");
      continue;
    }
    if (sweep.search->method_origin.empty())
      throw ConfigError(sweep.origin + ": method: section " + sweep.header() +
                        " lacks its method: add 'method = sobol' or 'method = random'");
    if (sweep.search->runs_origin.empty())
      throw ConfigError(sweep.origin + ": runs: section " + sweep.header() +
                        " lacks its number of runs: add e.g. 'runs = 64'");
    if (std::none_of(sweep.axes.begin(), sweep.axes.end(), [](const ConfigEntry& e) { return is_distribution(e.text); }))
      throw ConfigError(sweep.origin + ": section " + sweep.header() +
                        " draws no key: give at least one key a distribution (uniform(a, b), loguniform(a, b), "
                        "int(a, b) or choice(v1, v2, ...)), or make it a [sweep." + sweep.name + "] section");
}
}

// One --set KEY=VALUE, applied after the file.
void apply_override(StudyConfig& config, const std::string& assignment, const std::string& origin) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw ConfigError(origin + ": expected KEY=VALUE");
  const std::string key = trim_whitespace(assignment.substr(0, eq));
  const std::string value = trim_whitespace(assignment.substr(eq + 1));
  if (key.rfind("schedule.", 0) == 0) {
    set_schedule(config.schedule, key.substr(9), value, origin);
    config.overrides.push_back(assignment);
    return;
  }
  if (!is_data_key(key) && !find_option(key)) throw ConfigError(origin + ": " + unknown_key_message(key));
  if (is_distribution(value) && !is_data_key(key)) {
    // A distribution takes the key's place in every search section (its place keeps the order
    // of the section's lists); sweep sections and the defaults keep theirs.
    bool any = false;
    for (auto& sweep : config.sweeps) {
      if (!sweep.search) continue;
      any = true;
      const auto it = std::find_if(sweep.axes.begin(), sweep.axes.end(), [&](const ConfigEntry& e) { return e.key == key; });
      if (it != sweep.axes.end()) *it = {key, value, origin};
      else sweep.axes.push_back({key, value, origin});
    }
    if (!any)
      throw ConfigError(origin + ": " + key + ": a distribution needs a [search.NAME] section, and the study has "
                        "none; give a value, a list, linspace or logspace");
    config.overrides.push_back(assignment);
    return;
  }
  for (auto& sweep : config.sweeps)
    std::erase_if(sweep.axes, [&](const ConfigEntry& e) { return e.key == key; });
  if (is_multi_valued(value) && !is_data_key(key)) {
    if (config.sweeps.empty()) config.sweeps.push_back({"cli", origin, {}, {}});
    for (auto& sweep : config.sweeps) sweep.axes.push_back({key, value, origin});
  } else {
    apply_default(config, key, value, origin);
  }
  config.overrides.push_back(assignment);
}

}  // namespace

StudyConfig parse_study_config(const std::string& text, const std::string& path,
                               const std::vector<std::string>& overrides,
                               const std::vector<std::string>& override_origins) {
  StudyConfig config;
  config.path = path;
  config.text = text;
  const ParsedFile file = parse_lines(text, path);

  std::map<std::string, std::size_t> sweep_position;
  for (const Header& h : file.headers) {
    if (!is_sweep_section(h.name)) continue;
    sweep_position[h.name] = config.sweeps.size();
    SweepSection section{section_name(h.name), "config " + path + " line " + std::to_string(h.line), {}, {}};
    if (is_search_section(h.name)) section.search.emplace();
    config.sweeps.push_back(std::move(section));
  }
  for (const Header& h : file.headers)
    if (h.name == "schedule") config.schedule.origin = "config " + path + " line " + std::to_string(h.line);
  for (const Entry& e : file.entries) {
    const std::string origin = "config " + path + " line " + std::to_string(e.line);
    if (e.section == "schedule") set_schedule(config.schedule, e.key, e.value, origin);
    else if (e.section.empty() && e.key.rfind("schedule.", 0) == 0)
      throw ConfigError(origin + ": " + shown_value(e.key) + ": schedule keys belong under a [schedule] header");
    else if (is_search_section(e.section) && is_search_setting(e.key))
      read_search_setting(e, origin, *config.sweeps[sweep_position.at(e.section)].search);
    else if (is_sweep_section(e.section)) read_section_entry(e, origin, config.sweeps[sweep_position.at(e.section)]);
    else read_default_entry(e, origin, config);
  }
  check_sections(config);
  for (std::size_t i = 0; i < overrides.size(); ++i)
    apply_override(config, overrides[i], i < override_origins.size() ? override_origins[i] : "--set " + cut_text(overrides[i]));
  // An override may have removed a section's last axis: it is then a single run of the defaults.
  check_schedule(config);
  return config;
}

StudyConfig load_study_config(const std::string& path, const std::vector<std::string>& overrides,
                              const std::vector<std::string>& override_origins) {
  if (path.empty()) return parse_study_config("", "", overrides, override_origins);
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec && status.type() != std::filesystem::file_type::not_found)
    throw ConfigError("config " + path + ": cannot be opened for reading: " + ec.message());
  if (std::filesystem::is_directory(status)) throw ConfigError("config " + path + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("config " + path + ": cannot be opened for reading" + (ec ? ": " + ec.message() : ""));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_study_config(text.str(), path, overrides, override_origins);
}

}  // namespace aesweep
