#pragma once
// Expansion of a study config into its runs: each sweep section is the Cartesian product of its
// keys' values, the study is the union of its sections (duplicates dropped, first kept).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aesweep/config/run_spec.hpp"
#include "aesweep/config/search.hpp"
#include "aesweep/config/study_config.hpp"

namespace aesweep {

// "0, 1e-5" -> {"0", "1e-5"}; "linspace(a, b, n)" -> n evenly spaced numbers from a to b;
// "logspace(a, b, n)" -> 10^linspace(a, b, n). Throws ConfigError (no context; callers add it).
std::vector<std::string> expand_values(const std::string& text);

// True when the text is more than one value (a list or a range).
bool is_multi_valued(const std::string& text);

// The most runs a study may have, counted per sweep section before runs shared by several
// sections are merged: every rank of a sweep holds every run's settings.
constexpr std::size_t kMaxStudyRuns = 1000000;

// What a [search.NAME] section draws, as the plan, the archive and a report show it.
struct SearchSpace {
  SearchMethod method = SearchMethod::sobol;
  std::uint64_t seed = 0;
  std::size_t points = 0;  // `runs` of the section: points drawn
  // (key, canonical distribution "loguniform(1e-07, 0.001)"), file order.
  std::vector<std::pair<std::string, std::string>> distributions;
  // "method = sobol\nruns = 200\nseed = 1\nreg.l1_activity = loguniform(1e-07, 0.001)\n...", one
  // setting a line, the distributions in file order.
  std::string text() const;
};

// The runs of a study without holding them: each section's axis values and distributions and, per
// run, its section and position (8 bytes a run, none at all for a single grid section). A run's
// spec is computed from its index. Order and indices are section by section; in a sweep section
// its grid's Cartesian product, first axis slowest; in a search section point by point, each point
// with every combination of the section's lists (first list slowest). A run that an earlier
// run already is (same settings, another section's or, in a search, another point's) is dropped,
// the first kept.
class StudyPlan {
 public:
  // Checks every run (cross-option rules included) and throws ConfigError naming the file, line
  // and key; refuses a study of more than `max_runs` runs before allocating anything per run.
  explicit StudyPlan(const StudyConfig& config, std::size_t max_runs = kMaxStudyRuns);

  std::size_t size() const { return size_; }
  RunSpec run(std::size_t index) const;               // index < size()
  TrainOptions options(std::size_t index) const;      // run(index).options, without the settings' text
  const std::string& section_of(std::size_t index) const;
  // Every section the run belongs to, config order (the first is section_of; a run that several
  // sections list is trained once, under the first).
  std::vector<std::string> sections_of(std::size_t index) const;

  // The sweep and search sections, config order (none for a study of the defaults alone).
  std::size_t section_count() const { return sections_.front().name.empty() ? 0 : sections_.size(); }
  const std::string& section_name(std::size_t section) const { return sections_[section].name; }
  const std::string& section_origin(std::size_t section) const { return sections_[section].origin; }
  // "[sweep.NAME]" or "[search.NAME]".
  std::string section_header(std::size_t section) const;
  // "run 7 of [sweep.NAME]" ("run 7" for a run of no section), for messages about one run.
  std::string run_label(std::size_t index) const;
  // The keys the section sets (its axes' keys, and a search's distributions), file order.
  std::vector<std::string> swept_keys(std::size_t section) const;
  // What a search section draws; nullptr for a sweep section.
  const SearchSpace* section_search(std::size_t section) const {
    return sections_[section].search ? &*sections_[section].search : nullptr;
  }
  // Every run of the section in its order (grid order; for a search, point by point), runs an
  // earlier section already has included; a run a search draws at several points is listed once.
  std::vector<std::size_t> section_runs(std::size_t section) const;

 private:
  struct Axis {
    std::size_t key = 0;              // registry index
    std::vector<std::string> values;  // canonical text, distinct, first occurrence order
    std::size_t stride = 1;           // grid positions per step of this axis
  };
  struct Sampled {
    std::size_t key = 0;        // registry index
    std::size_t dimension = 0;  // search_dimension of its key
    Distribution distribution;
  };
  struct Section {
    std::string name;
    std::string origin;  // where its header is
    std::vector<Axis> axes;
    std::vector<std::size_t> keys;  // every key it sets, file order
    std::size_t grid = 1;   // grid positions (per point for a search)
    std::size_t count = 1;  // positions: points x grid
    // A search: its distributions and the points they are drawn at.
    std::optional<SearchSpace> search;
    std::vector<Sampled> sampled;
    std::optional<SearchSampler> sampler;
  };
  std::pair<std::size_t, std::uint64_t> locate(std::size_t index) const;  // (section, position)
  std::string canonical(std::size_t section, std::uint64_t position, std::size_t key) const;
  // A search's value of sampled[j] at point `point` (text the option parses; canonical).
  std::string drawn(const Section& section, std::uint64_t point, std::size_t j) const;
  TrainOptions build(std::size_t section, std::uint64_t position) const;
  void expand_sections(const StudyConfig& config, std::size_t max_runs);
  void index_runs(const StudyConfig& config);

  // A grid point dropped because an earlier section has the same run: the section lists it too.
  struct Shared {
    std::uint32_t section;
    std::uint64_t position;
    std::uint32_t run;
  };

  TrainOptions defaults_;
  std::vector<std::string> default_values_;  // canonical text of every registry option
  std::vector<Section> sections_;
  std::vector<std::uint64_t> table_;  // section << 40 | position; empty when run i is position i of section 0
  std::vector<Shared> shared_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> shared_by_run_;  // (run, section), sorted
  std::size_t total_points_ = 0;  // grid points of all sections, before merging
  std::size_t size_ = 0;
};

// Every run of the study, validated (a StudyPlan held whole). Throws ConfigError naming where the
// bad value came from.
std::vector<RunSpec> expand_study(const StudyConfig& config);
// Every run of a plan, held whole.
std::vector<RunSpec> all_runs(const StudyPlan& plan);

// What `aesweep sweep` and `aesweep plan` both refuse of a [schedule] without data: a schedule on
// validation_loss needs every run to hold out a validation split (`split_of(i)`: run i's
// train.validation_split). Throws ConfigError naming the config line and the first run without.
void check_schedule_metric(const StudyConfig& config, const StudyPlan& plan,
                           const std::function<double(std::size_t)>& split_of);

// Hash of what determines the results: the canonical settings of every run and the data
// selection. Whitespace or comment edits in the file do not change it. Both forms give the same
// hash for the same study.
std::string study_hash(const StudyConfig& config, const std::vector<RunSpec>& runs);
std::string study_hash(const StudyConfig& config, const StudyPlan& plan);

}  // namespace aesweep
