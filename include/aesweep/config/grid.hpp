#pragma once
// Expansion of a study config into its runs: each sweep section is the Cartesian product of its
// keys' values, the study is the union of its sections (duplicates dropped, first kept).
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "aesweep/config/run_spec.hpp"
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

// The runs of a study without holding them: each section's axis values and, per run, its section
// and grid position (8 bytes a run, none at all for a single section). A run's spec is computed
// from its index. Order and indices are those of the Cartesian products, section by section,
// first axis slowest, a run that an earlier section already has dropped (first kept).
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

  // The sweep sections, config order (none for a study of the defaults alone).
  std::size_t section_count() const { return sections_.front().name.empty() ? 0 : sections_.size(); }
  const std::string& section_name(std::size_t section) const { return sections_[section].name; }
  const std::string& section_origin(std::size_t section) const { return sections_[section].origin; }
  std::vector<std::string> swept_keys(std::size_t section) const;  // its axes' keys, file order
  // Every run of the section's grid, in grid order, runs an earlier section already has included.
  std::vector<std::size_t> section_runs(std::size_t section) const;

 private:
  struct Axis {
    std::size_t key = 0;              // registry index
    std::vector<std::string> values;  // canonical text, distinct, first occurrence order
    std::size_t stride = 1;           // grid positions per step of this axis
  };
  struct Section {
    std::string name;
    std::string origin;  // where its header is
    std::vector<Axis> axes;
    std::size_t count = 1;  // grid positions
  };
  std::pair<std::size_t, std::uint64_t> locate(std::size_t index) const;  // (section, position)
  const std::string& canonical(std::size_t section, std::uint64_t position, std::size_t key) const;
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

// Hash of what determines the results: the canonical settings of every run and the data
// selection. Whitespace or comment edits in the file do not change it. Both forms give the same
// hash for the same study.
std::string study_hash(const StudyConfig& config, const std::vector<RunSpec>& runs);
std::string study_hash(const StudyConfig& config, const StudyPlan& plan);

}  // namespace aesweep
