#pragma once
// A study config: one INI file with defaults for every training option, a [data] section, and
// any number of [sweep.NAME] sections whose keys take value lists and [search.NAME] sections whose
// keys take distributions. Read line by line: only a [sweep.NAME] or [search.NAME] header opens
// such a section, and every value keeps its line so errors can name file, line and key.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aesweep/config/search.hpp"
#include "aesweep/core/train_options.hpp"

namespace aesweep {

struct ConfigEntry {
  std::string key;   // registry key, e.g. "reg.l1_activity"
  std::string text;  // raw value text: "0.1", "relu, tanh", "linspace(0, 1e-4, 10)"
  std::string origin;  // "jobs/x.ini line 12" or "--set"
};

// What a [search.NAME] section adds to a sweep section: `runs` points drawn by `method`.
struct SearchSettings {
  SearchMethod method = SearchMethod::sobol;
  std::size_t runs = 0;    // points drawn
  std::uint64_t seed = 0;  // 0 unless given
  std::string method_origin, runs_origin, seed_origin;  // where each was set ("" for a default seed)
};

// A [sweep.NAME] section, or a [search.NAME] section (`search` set). A sweep section's keys take a
// value or a list (its grid is their Cartesian product). A search section's keys take a value or a
// list as in a sweep section, or a distribution (uniform(a, b), ...): each of its `runs` points
// draws every distribution, and runs with each combination of its lists' values.
struct SweepSection {
  std::string name;    // NAME of [sweep.NAME] or [search.NAME]
  std::string origin;  // where the section header is
  std::vector<ConfigEntry> axes;  // option keys, file order; the first list varies slowest
  std::optional<SearchSettings> search;

  bool is_search() const { return search.has_value(); }
  std::string header() const { return (search ? "[search." : "[sweep.") + name + "]"; }
};

// --train-samples, --test-samples, data.train_samples and data.test_samples: 0 = all.
constexpr std::size_t kMaxSampleCount = 1000000000;
constexpr const char* kSampleCountRange = "an integer in [0, 1000000000] (0 = all)";
// Parses a sample count; throws ConfigError "expected an integer in [0, 1000000000] (0 = all), got '-5'".
std::size_t parse_sample_count(std::string_view text);

struct DataSettings {
  std::string dir;                // directory with the four MNIST IDX files
  std::string dir_origin;         // where dir was set ("config x.ini line 4", "--data DIR"); empty if not
  std::size_t train_samples = 0;  // 0 = all
  std::size_t test_samples = 0;   // 0 = all
};

// The [schedule] section: early stopping of weak runs at rungs (successive halving, hyperband).
enum class ScheduleKind { none, successive_halving, hyperband };
enum class ScheduleMetric { validation_loss, test_loss };
std::string_view to_string(ScheduleKind kind);
std::string_view to_string(ScheduleMetric metric);

struct ScheduleSettings {
  ScheduleKind kind = ScheduleKind::none;  // none: every run trains to its end (no [schedule] at all)
  ScheduleMetric metric = ScheduleMetric::validation_loss;
  int min_epochs = 0;  // the first rung
  int max_epochs = 0;  // the last rung: every run's train.epochs
  int eta = 3;         // rungs grow by eta; 1/eta of a rung's runs go on
  std::string origin;  // where the [schedule] header is ("" without one)
  std::map<std::string, std::string> origins;  // key -> "config x.ini line 4"

  bool active() const { return kind != ScheduleKind::none; }
  // The epochs of the rungs: min_epochs * eta^k below max_epochs, then max_epochs.
  std::vector<int> rungs() const;
  // One line for plan and sweep: "successive_halving on validation_loss, eta 3, rungs at epochs 1, 3, 9, 27".
  std::string summary() const;
  // "kind = successive_halving\nmetric = validation_loss\nmin_epochs = 1\nmax_epochs = 27\neta = 3\n"
  // (canonical, one setting a line); what the study hash and the archive record.
  std::string text() const;
};

struct StudyConfig {
  std::string path;  // "" when there is no file
  std::string text;  // the file's full text, archived with the results
  TrainOptions defaults;
  DataSettings data;
  std::vector<SweepSection> sweeps;  // the [sweep.NAME] and [search.NAME] sections, config order
  std::vector<std::string> overrides;  // the --set arguments, as given
  ScheduleSettings schedule;           // the [schedule] section (kind none without one)
  // Where each default (registry or data key) was set: "config x.ini line 4", "--set model.hidden=8".
  std::map<std::string, std::string> origins;
};

// Reads and checks a config file (path may be empty: defaults only), then applies `overrides`
// ("key=value"). An override replaces the key everywhere: a single value becomes the default and
// removes the key from every sweep and search section; a list or linspace/logspace becomes an
// axis of every sweep and search section (in a search section every point then runs with each of
// its values); a distribution replaces the key in every search section (sweep sections and the
// defaults keep theirs; a study without a search section refuses it). Throws ConfigError naming
// the file, the line and the key. `override_origins`,
// when given, names each override in messages (e.g. "--reg.dropout 2"); else "--set KEY=VALUE".
// A UTF-8 byte-order mark at the start of the file is skipped.
StudyConfig load_study_config(const std::string& path, const std::vector<std::string>& overrides,
                              const std::vector<std::string>& override_origins = {});

// The same from text already in memory; `path` only names it in messages.
StudyConfig parse_study_config(const std::string& text, const std::string& path,
                               const std::vector<std::string>& overrides,
                               const std::vector<std::string>& override_origins = {});

// Keys outside the training options that a config may set.
bool is_data_key(const std::string& key);

}  // namespace aesweep
